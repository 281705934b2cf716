"""Every command of both command lines has help text and is shown in README.md (sqlite-utils' test_docs habit).

Commands are collected by walking the click groups, so the check grows as engineers add commands.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import click
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _walk(group: click.Group, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        out.append((path, command))
        if isinstance(command, click.Group):
            out += _walk(command, path)
    return out


def _commands() -> list[tuple[str, tuple[str, ...], click.Command]]:
    found = []
    for program, target in (("reading", "paperzoo.reading_cli:cli"), ("zoo", "paperzoo.zoo_cli:cli")):
        module, attr = target.split(":")
        try:
            group = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue  # not written yet: becomes strict as soon as it exists
        found += [(program, path, command) for path, command in _walk(group, ())]
    return found


COMMANDS = _commands()


def test_the_reading_cli_is_covered():
    assert any(program == "reading" for program, _, _ in COMMANDS)


@pytest.mark.parametrize("program, path, command", COMMANDS, ids=[f"{p} {' '.join(c)}" for p, c, _ in COMMANDS])
def test_command_has_help(program, path, command):
    assert (command.help or "").strip(), f"`{program} {' '.join(path)}` has no help text"
    assert (command.get_short_help_str() or "").strip()


@pytest.mark.parametrize("program, path, command", COMMANDS, ids=[f"{p} {' '.join(c)}" for p, c, _ in COMMANDS])
def test_command_appears_in_readme(program, path, command):
    words = r"\s+".join(re.escape(w) for w in path)
    forms = [rf"(?<![\w-]){program}\s+{words}(?![\w-])"]
    if program == "zoo":
        forms.append(rf"python\s+-m\s+zoo\s+{words}(?![\w-])")
    assert any(re.search(f, README) for f in forms), f"README.md shows no `{program} {' '.join(path)}` example"
