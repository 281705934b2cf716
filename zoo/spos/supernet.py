"""The SPOS supernet: 20 choice blocks, one path per forward pass (``supernet(x, arch)``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Iterable, Iterator, cast

import torch
from torch import nn

from .._registry import InvalidOption
from .arch import NUM_BLOCKS, SCALES, SPOS_A, STAGE_REPEATS, Arch, ArchError, scaled_width
from .blocks import ChoiceBlock, ConvBN

__all__ = ["Layout", "SuperNet", "init_weights"]


@dataclass(frozen=True)
class Layout:
    """Channel layout shared by the supernet and its subnets (defaults: the paper's, as released).

    Scaled-down layouts (e.g. ``stem_channels=4, stage_channels=(8, 16, 24, 32)``) keep the 20-block structure for fast tests.

    ``stage_strides`` is the stride of each stage's first block (paper: 2, 2, 2, 2). For small inputs, 1 keeps a
    stage at its input resolution, as CIFAR versions of this space do: a stride-1 first block splits its input like
    any stride-1 unit and passes half of it on unchanged, where a stride-2 block recomputes every channel through
    its chosen unit. On 32x32 inputs the paper's strides end at 1x1 maps, and uniform single-path training then
    stays at chance for thousands of steps (see ``bench/spos_digits.py``).
    """

    num_classes: int = 1000
    channel_search: bool = False
    stem_channels: int = 16
    stage_channels: tuple[int, int, int, int] = (64, 160, 320, 640)
    last_channels: int = 1024
    dropout: float = 0.1
    stage_strides: tuple[int, int, int, int] = (2, 2, 2, 2)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stage_channels", tuple(int(c) for c in self.stage_channels))
        object.__setattr__(self, "stage_strides", tuple(int(s) for s in self.stage_strides))
        if len(self.stage_channels) != len(STAGE_REPEATS) or any(c % 4 or c <= 0 for c in self.stage_channels):
            raise InvalidOption(f"stage_channels must be 4 positive multiples of 4, got {self.stage_channels}")
        if len(self.stage_strides) != len(STAGE_REPEATS) or any(s not in (1, 2) for s in self.stage_strides):
            raise InvalidOption(f"stage_strides must be 4 values, each 1 or 2, got {self.stage_strides}")
        if self.stage_strides[0] == 1 and self.stem_channels % 2:
            raise InvalidOption(f"a stride-1 first stage splits the stem's channels in halves; "
                             f"stem_channels must be even, got {self.stem_channels}")
        widths = (self.stem_channels, *self.stage_channels)
        if any(a >= b for a, b in zip(widths, widths[1:])):
            raise InvalidOption(f"channels must grow stage by stage (the stride-2 units concatenate), got {widths}")
        if self.num_classes < 1:
            raise InvalidOption(f"num_classes must be positive, got {self.num_classes}")

    def blocks(self) -> list[tuple[int, int, int, int]]:
        """``(in_channels, out_channels, stride, base_mid)`` of the 20 blocks."""
        return list(_blocks(self))

    def max_mids(self) -> list[int]:
        """The widest middle width of each block: 1.6x with channel search, else the default width."""
        top = len(SCALES) - 1 if self.channel_search else 4
        return [scaled_width(base, top) for *_, base in _blocks(self)]

    def mids(self, arch: Arch) -> tuple[int, ...]:
        """The middle width of each block for ``arch`` (cached: a training step asks twice per path)."""
        return _mids(self, arch.scale_ids)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stage_channels"] = list(self.stage_channels)
        d["stage_strides"] = list(self.stage_strides)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Layout":
        """The layout ``to_dict`` wrote (fields added since default to the paper's values)."""
        return cls(**d)


@lru_cache(maxsize=16)
def _blocks(layout: Layout) -> tuple[tuple[int, int, int, int], ...]:
    out, cin = [], layout.stem_channels
    for repeats, cout, stride in zip(STAGE_REPEATS, layout.stage_channels, layout.stage_strides):
        for i in range(repeats):
            out.append((cin, cout, stride if i == 0 else 1, cout // 2))
            cin = cout
    return tuple(out)


@lru_cache(maxsize=4096)
def _mids(layout: Layout, scale_ids: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(scaled_width(b[3], s) for b, s in zip(_blocks(layout), scale_ids))


def init_weights(model: nn.Module) -> None:
    """The release's initialisation: N(0, 1/fan_in-per-group) convs (N(0, 0.01) for the stem), N(0, 0.01) linear."""
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            std = 0.01 if name.startswith("stem") else 1.0 / m.weight.shape[1]
            nn.init.normal_(m.weight, 0, std)
        elif isinstance(m, nn.BatchNorm2d):
            if m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class SuperNet(nn.Module):
    """The SPOS supernet (BN ``affine=False``); ``forward(x, arch)`` runs the single path ``arch``.

    Args:
        layout: channel layout; or pass its fields as keyword options (``num_classes``, ``channel_search``, ...).
        default_arch: the path run when ``forward`` gets no ``arch`` (the paper's searched architecture), so the
            supernet can be counted and smoke-tested like any model.
    """

    def __init__(self, layout: Layout | None = None, *, default_arch: Arch | str = SPOS_A, **options: Any) -> None:
        super().__init__()
        self.layout = layout if layout is not None else Layout(**options)
        lay = self.layout
        self.stem = ConvBN(3, lay.stem_channels, 3, 2, affine=False)
        self.blocks = nn.ModuleList(
            ChoiceBlock(cin, cout, mid, stride) for (cin, cout, stride, _), mid in zip(lay.blocks(), lay.max_mids())
        )
        self.head = ConvBN(lay.stage_channels[-1], lay.last_channels, 1, affine=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(lay.dropout)
        self.classifier = nn.Linear(lay.last_channels, lay.num_classes, bias=False)
        self.default_arch = self.check(default_arch)
        init_weights(self)

    def check(self, arch: Any) -> Arch:
        """``arch`` as an ``Arch`` that this supernet can run.

        Raises:
            ArchError: malformed, or carries widths while the supernet was built without channel search.
        """
        arch = Arch.coerce(arch)
        if arch.scales is not None and not self.layout.channel_search:
            raise ArchError(f"{arch} has width choices but this supernet was built without channel search")
        return arch

    def forward(self, x: torch.Tensor, arch: Arch | str | None = None) -> torch.Tensor:
        arch = self.default_arch if arch is None else self.check(arch)
        x = self.stem(x)
        for block, choice, mid in zip(self.blocks, arch.blocks, self.layout.mids(arch)):
            x = block(x, choice, mid)
        x = self.pool(self.head(x)).flatten(1)
        return self.classifier(self.dropout(x))

    def path(self, arch: Arch | str) -> Iterator[tuple[str, nn.Module]]:
        """``(name, module)`` of the modules ``arch`` runs: stem, the chosen block of each position, head."""
        arch = self.check(arch)
        yield "stem", self.stem
        blocks = cast("Iterable[ChoiceBlock]", self.blocks)  # an nn.Sequential of ChoiceBlocks
        for i, (block, choice) in enumerate(zip(blocks, arch.blocks)):
            yield f"blocks.{i}.choices.{choice}", block.choices[choice]
        yield "head", self.head
        yield "classifier", self.classifier

    def extra_repr(self) -> str:
        return f"channel_search={self.layout.channel_search}, blocks={NUM_BLOCKS}"
