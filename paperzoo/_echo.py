"""The one way both command lines print: text from the log (titles, notes, BibTeX fields) may hold terminal control
sequences (``ESC ]0;…BEL`` retitles the window, ``ESC [2J`` clears it), so every control character is printed
escaped. The log stores text exactly as typed; only its display is escaped.
"""
from __future__ import annotations

import re
import sys
from typing import Any

import click

# C0 controls but newline and tab, DEL, C1 controls (0x9b is a one-byte CSI), lone surrogates (bytes that were not
# UTF-8), and the bidirectional overrides and isolates that can make text display in another order than it reads
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def printable(text: Any) -> str:
    """``text`` with every control character written as an escape: ``\\x1b`` for C0 controls (which JSON output
    never holds raw), ``\\u009b`` for the rest (valid inside a JSON string too)."""
    def esc(m: re.Match[str]) -> str:
        code = ord(m.group(0))
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (Python's surrogateescape): show the byte
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}"

    return _UNSAFE.sub(esc, str(text))


def echo(message: Any = "", *, err: bool = False, nl: bool = True, bold: bool = False, safe: bool = False) -> None:
    """``click.echo`` of :func:`printable` text: what every command prints goes through here.

    ``bold`` styles the escaped text; ``safe`` marks a message already escaped (with styling of its own added).
    """
    text = str(message) if safe else printable(message)
    click.echo(click.style(text, bold=True) if bold else text, err=err, nl=nl)


def echo_data(text: str, *, nl: bool = False) -> None:
    """An export written to stdout: exactly the data when it goes to a file or a pipe (so it re-imports
    unchanged), escaped like any other output when stdout is a terminal."""
    if sys.stdout.isatty():
        echo(text, nl=nl)
    else:
        click.echo(text, nl=nl)


def bad_argument(args: list[str]) -> str | None:
    """Why one of ``args`` cannot be used (bytes that are not UTF-8 arrive as lone surrogates), or None."""
    for i, arg in enumerate(args, start=1):
        if isinstance(arg, str) and re.search("[\ud800-\udfff]", arg):
            return f"argument {i} ({printable(arg)}) is not valid UTF-8 text"
    return None
