"""The numeric option types of both command lines: every number a user types is checked against a range when the
command line is parsed, so ``--year-min 99999999999999999999`` or ``--lr nan`` is refused in one line (exit 2)
before any work starts, never passed on to SQLite (which overflows) or torch (which trains to NaN).

A convention test walks both command lines and fails on a numeric option whose type is not bounded here.
"""
from __future__ import annotations

import math
from typing import Any

import click

__all__ = ["Int", "Float", "input_size", "YEAR", "COUNT", "ROW_ID", "SEED", "BATCH", "WORKERS", "SIDE", "REPEATS",
           "CHANNELS", "STEPS"]


class Int(click.IntRange):
    """An integer in ``[lo, hi]`` (both required: an unbounded integer is what this module exists to prevent)."""

    def __init__(self, lo: int, hi: int) -> None:
        super().__init__(lo, hi)


class Float(click.FloatRange):
    """A finite number in ``[lo, hi]`` (``lo`` excluded with ``lo_open``); NaN and infinities are refused (click's
    own FloatRange lets NaN through: it fails no comparison)."""

    def __init__(self, lo: float, hi: float, *, lo_open: bool = False) -> None:
        super().__init__(lo, hi, min_open=lo_open)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


#: A year (the log accepts 1000-9999).
YEAR = Int(1000, 9999)
#: How many results, papers, images ... to take.
COUNT = Int(1, 1_000_000_000)
#: A row id of the log (note ids): SQLite integers are 64-bit.
ROW_ID = Int(1, 2**63 - 1)
SEED = Int(0, 2**32 - 1)
BATCH = Int(1, 4096)
WORKERS = Int(0, 256)
#: An image side in pixels.
SIDE = Int(8, 4096)
REPEATS = Int(1, 100_000)
CHANNELS = Int(1, 8192)
STEPS = Int(1, 1_000_000_000)


def input_size(text: str | None, option: str = "--input-size", *, channels: bool = True
               ) -> tuple[int, ...] | None:
    """``"224"``, ``"224x192"`` (or ``"3x224x224"`` when ``channels``) as ``(C, H, W)`` (``(H, W)`` without
    ``channels``); each side within ``SIDE``. click.BadParameter otherwise."""
    if text is None:
        return None
    try:
        parts = tuple(int(p) for p in text.lower().replace(",", "x").split("x"))
    except ValueError:
        parts = ()
    forms = "224, 224x224 or 3x224x224" if channels else "224 or 224x192"
    if len(parts) == 1:
        parts = (parts[0], parts[0])
    if len(parts) == 3 and channels:
        c, h, w = parts
    elif len(parts) == 2:
        c, (h, w) = 3, parts
    else:
        raise click.BadParameter(f"{text!r}: use {forms}", param_hint=option)
    lo, hi = SIDE.min, SIDE.max
    if not (1 <= c <= 64 and all(lo <= s <= hi for s in (h, w))):  # type: ignore[operator]
        raise click.BadParameter(f"{text!r}: each side must be between {lo} and {hi} pixels", param_hint=option)
    return (c, h, w) if channels else (h, w)
