"""The SPOS architecture value: 20 block choices and, with channel search, 20 width choices.

The supernet layout is fixed by the paper (arXiv 1904.00420, Sec. 4 and Table 1) and the official release
(megvii-model/SinglePathOneShot): a 3x3 stride-2 stem to 16 channels, 4 stages of 4/4/8/4 choice blocks with
64/160/320/640 output channels, a 1x1 conv to 1024 channels, global pooling, dropout 0.1, a bias-free classifier.

Block choices: 0 Shuffle 3x3, 1 Shuffle 5x5, 2 Shuffle 7x7, 3 Xception. Width choices index ``SCALES``
(0.2, 0.4, ... 1.6 times the block's default middle width, as in the paper's channel search; index 4 = 1.0).

String form (stable, used in files and on the command line): the 20 block digits, then ``:`` and the 20 scale
digits when the architecture carries widths, e.g. ``"21012020202300003233"`` or
``"00311100202110202132:65352634257546744543"``. ``Arch.parse`` also accepts comma-separated lists, with or
without brackets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from random import Random
from typing import Any, Sequence

from .._registry import ZooError

__all__ = [
    "Arch",
    "ArchError",
    "BLOCK_NAMES",
    "NUM_BLOCKS",
    "NUM_CHOICES",
    "SCALES",
    "SPOS_A",
    "SPOS_AC",
    "STAGE_REPEATS",
    "scaled_width",
]

STAGE_REPEATS = (4, 4, 8, 4)
NUM_BLOCKS = sum(STAGE_REPEATS)
BLOCK_NAMES = ("shuffle3x3", "shuffle5x5", "shuffle7x7", "xception")
NUM_CHOICES = len(BLOCK_NAMES)
# width multipliers in fifths: index k -> (k + 1) / 5, i.e. 0.2 ... 1.6 (integer maths, no float rounding)
SCALES = tuple((k + 1) / 5 for k in range(8))
_FULL_SCALE = 4  # SCALES[4] == 1.0


def scaled_width(base: int, scale_id: int) -> int:
    """``int(base * SCALES[scale_id])`` computed exactly (the release's rounding), at least 1."""
    return max(1, base * (scale_id + 1) // 5)


class ArchError(ZooError, ValueError):
    """An architecture that does not fit the SPOS search space (bad length, choice or string)."""


@dataclass(frozen=True)
class Arch:
    """One path through the supernet.

    Attributes:
        blocks: 20 block choices, each in ``0..3`` (see ``BLOCK_NAMES``).
        scales: ``None`` (every block at its default width) or 20 indices into ``SCALES``. All-default
            scales are normalised to ``None`` so that equal architectures compare and print equal.
    """

    blocks: tuple[int, ...]
    scales: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        blocks = _int_tuple(self.blocks, "blocks")
        if len(blocks) != NUM_BLOCKS:
            raise ArchError(f"an architecture has {NUM_BLOCKS} block choices, got {len(blocks)}")
        bad = [b for b in blocks if not 0 <= b < NUM_CHOICES]
        if bad:
            raise ArchError(f"block choices must be 0..{NUM_CHOICES - 1} ({', '.join(BLOCK_NAMES)}), got {bad[0]}")
        object.__setattr__(self, "blocks", blocks)
        if self.scales is not None:
            scales = _int_tuple(self.scales, "scales")
            if len(scales) != NUM_BLOCKS:
                raise ArchError(f"an architecture has {NUM_BLOCKS} width choices, got {len(scales)}")
            bad = [s for s in scales if not 0 <= s < len(SCALES)]
            if bad:
                raise ArchError(f"width choices must be 0..{len(SCALES) - 1} (scales 0.2..1.6), got {bad[0]}")
            object.__setattr__(self, "scales", None if all(s == _FULL_SCALE for s in scales) else scales)

    # -- conversions -----------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> "Arch":
        """Parse the string form (``"2101...:6535..."`` or ``"2,1,0,..."`` / ``"[2, 1, ...]"``).

        Raises:
            ArchError: the text is not an architecture; the message says why.
        """
        if not isinstance(text, str):
            raise ArchError(f"expected an architecture string, got {type(text).__name__}")
        parts = text.strip().split(":")
        if len(parts) > 2 or not parts[0].strip():
            raise ArchError(f"not an architecture: {text!r} (expected 20 digits 0-3, optionally ':' + 20 digits 0-7)")
        blocks = _parse_digits(parts[0], text)
        scales = _parse_digits(parts[1], text) if len(parts) == 2 else None
        return cls(blocks, scales)

    @classmethod
    def coerce(cls, value: Any) -> "Arch":
        """An ``Arch`` from an ``Arch``, its string form, a sequence of 20 ints, or a ``(blocks, scales)`` pair."""
        if isinstance(value, Arch):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, dict):
            return cls(value.get("blocks", ()), value.get("scales"))
        if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, Sequence) for v in value):
            return cls(value[0], value[1])
        if isinstance(value, Sequence):
            return cls(tuple(value))
        raise ArchError(f"cannot read an architecture from {type(value).__name__}")

    def __str__(self) -> str:
        s = "".join(map(str, self.blocks))
        return s if self.scales is None else s + ":" + "".join(map(str, self.scales))

    def to_dict(self) -> dict[str, Any]:
        return {"blocks": list(self.blocks), "scales": None if self.scales is None else list(self.scales)}

    @property
    def scale_ids(self) -> tuple[int, ...]:
        """The 20 width indices (``4`` = default width where ``scales`` is ``None``)."""
        return self.scales if self.scales is not None else (_FULL_SCALE,) * NUM_BLOCKS

    def describe(self) -> str:
        """A human-readable listing, e.g. ``"shuffle7x7@1.4, shuffle5x5@1.2, ..."``."""
        return ", ".join(f"{BLOCK_NAMES[b]}@{SCALES[s]:.1f}" for b, s in zip(self.blocks, self.scale_ids))

    # -- sampling and evolution --------------------------------------------------------------------------------
    @classmethod
    def random(cls, rng: Random, *, channel_search: bool = False) -> "Arch":
        """A uniformly random architecture (widths too when ``channel_search``)."""
        blocks = tuple(rng.randrange(NUM_CHOICES) for _ in range(NUM_BLOCKS))
        scales = tuple(rng.randrange(len(SCALES)) for _ in range(NUM_BLOCKS)) if channel_search else None
        return cls(blocks, scales)

    def mutate(self, rng: Random, prob: float = 0.1, *, channel_search: bool = False) -> "Arch":
        """Each block choice (and width, with ``channel_search``) is redrawn uniformly with probability ``prob``."""
        blocks = tuple(rng.randrange(NUM_CHOICES) if rng.random() < prob else b for b in self.blocks)
        scales = None
        if channel_search:
            scales = tuple(rng.randrange(len(SCALES)) if rng.random() < prob else s for s in self.scale_ids)
        return Arch(blocks, scales)

    def crossover(self, other: "Arch", rng: Random, *, channel_search: bool = False) -> "Arch":
        """Each gene taken from ``self`` or ``other`` with equal probability (block and width genes apart)."""
        blocks = tuple(rng.choice(pair) for pair in zip(self.blocks, other.blocks))
        scales = None
        if channel_search:
            scales = tuple(rng.choice(pair) for pair in zip(self.scale_ids, other.scale_ids))
        return Arch(blocks, scales)


def _int_tuple(values: Any, what: str) -> tuple[int, ...]:
    try:
        out = tuple(values)
    except TypeError:
        raise ArchError(f"{what} must be a sequence of ints, got {type(values).__name__}") from None
    for v in out:
        if isinstance(v, bool) or not isinstance(v, int):
            try:
                if int(v) != v:
                    raise ValueError
            except (TypeError, ValueError):
                raise ArchError(f"{what} must be ints, got {v!r}") from None
    return tuple(int(v) for v in out)


def _parse_digits(part: str, text: str) -> tuple[int, ...]:
    part = part.strip().strip("[]()").strip()
    if re.fullmatch(r"\d+", part):
        return tuple(int(c) for c in part)
    if re.fullmatch(r"\d+(\s*,\s*\d+)*\s*,?", part):
        return tuple(int(c) for c in part.rstrip(",").split(","))
    raise ArchError(f"not an architecture: {text!r} (expected 20 digits 0-3, optionally ':' + 20 digits 0-7)")


# The paper's searched architectures as released (megvii-model/SinglePathOneShot):
# block search, 323M FLOPs / 3.5M params / 25.6% top-1 error (paper Table 3)
SPOS_A = Arch((2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3))
# block + channel search, 328M FLOPs / 3.4M params / 25.1% top-1 error as released (megvii-model/ShuffleNet-Series,
# OneShot/README.md); the paper's ECCV version reports 74.7% top-1 for it
SPOS_AC = Arch(
    (0, 0, 3, 1, 1, 1, 0, 0, 2, 0, 2, 1, 1, 0, 2, 0, 2, 1, 3, 2),
    (6, 5, 3, 5, 2, 6, 3, 4, 2, 5, 7, 5, 4, 6, 7, 4, 4, 5, 4, 3),
)
