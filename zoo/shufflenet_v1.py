"""ShuffleNet V1 (Zhang et al., arXiv 1707.01083): the paper's Table 1 family and megvii's official wiring.

Paper layout (``shufflenet_v1_g{1,2,3,4,8}_x{0_5,1_0,1_5,2_0}``), Table 1 and Fig. 2(c): conv1 has 24 channels; the
stage outputs at 1x are 144/288/576 (g=1), 200/400/800 (g=2), 240/480/960 (g=3), 272/544/1088 (g=4) and
384/768/1536 (g=8); the bottleneck is 1/4 of a unit's output; stage 2's first pointwise conv is not grouped. A unit
is 1x1 GConv -> BN -> ReLU -> channel shuffle -> 3x3 DWConv -> BN -> 1x1 GConv -> BN, then add (stride 1) or concat
with a 3x3 average-pooled shortcut (stride 2), then ReLU. Width s scales every channel count; counts are rounded to
multiples of 4g (stages) and g (conv1) so that every group conv divides evenly — the 1x figures are already such
multiples, and the rounding reproduces megvii's g=3/g=8 channel tables.

megvii's wiring (``shufflenet_v1_g{3,8}_x..._megvii``) differs in ways that make their checkpoints inconvertible by
renaming: the shuffle comes after the depthwise conv and reshapes channels as (C/g, g) — the inverse permutation of
the paper's (g, C/g) — the classifier has no bias, and conv1 has 24 channels at 1.5x.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from ._layers import channel_shuffle, he_init, make_act
from ._registry import Claim, register_model
from ._weights import MEGVII_PREPROCESSING, MEGVII_SERIES_PAGE, Weights, filter_megvii

__all__ = ["MegviiShuffleV1Block", "ShuffleNetV1", "ShuffleNetV1Megvii", "ShuffleV1Unit", "stage_channels"]

_PAPER = "1707.01083"
_REPEATS = (4, 8, 4)
_STAGE2_1X = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}  # Table 1
_WIDTHS = {"0_5": 0.5, "1_0": 1.0, "1_5": 1.5, "2_0": 2.0}
_MEGVII_CONV1 = {"0_5": 12, "1_0": 24, "1_5": 24, "2_0": 48}  # g=8 at 0.5x: 16 (see stage_channels)


def _round_to(x: float, m: int) -> int:
    return max(m, int(x / m + 0.5) * m)


def stage_channels(groups: int, width: float, *, megvii: bool = False) -> tuple[int, int, int, int]:
    """(conv1, stage2, stage3, stage4) output channels for ``groups`` and width multiplier ``width``."""
    s2 = _round_to(_STAGE2_1X[groups] * width, 4 * groups)
    c1 = _round_to(24 * width, groups)
    if megvii:
        key = next(k for k, v in _WIDTHS.items() if v == width)
        c1 = 16 if (groups, key) == (8, "0_5") else _MEGVII_CONV1[key]
    return c1, s2, 2 * s2, 4 * s2


def _gconv(inp: int, out: int, groups: int) -> nn.Conv2d:
    return nn.Conv2d(inp, out, 1, 1, 0, groups=groups, bias=False)


def _dw(ch: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(ch, ch, 3, stride, 1, groups=ch, bias=False)


class ShuffleV1Unit(nn.Module):
    """The paper's ShuffleNet unit, Fig. 2(b) (stride 1) and 2(c) (stride 2)."""

    def __init__(self, inp: int, oup: int, stride: int, groups: int, *, group_first: bool = True,
                 act: str = "relu") -> None:
        super().__init__()
        self.stride = stride
        self.shuffle_groups = groups if group_first and groups > 1 else 1
        mid = oup // 4
        out = oup - inp if stride == 2 else oup
        self.gconv1 = _gconv(inp, mid, groups if group_first else 1)
        self.bn1 = nn.BatchNorm2d(mid)
        self.act1 = make_act(act, mid)
        self.dwconv = _dw(mid, stride)
        self.bn2 = nn.BatchNorm2d(mid)
        self.gconv2 = _gconv(mid, out, groups)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut = nn.AvgPool2d(3, 2, 1) if stride == 2 else nn.Identity()
        self.act = make_act(act, oup)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.bn1(self.gconv1(x)))
        if self.shuffle_groups > 1:
            y = channel_shuffle(y, self.shuffle_groups)
        y = self.bn3(self.gconv2(self.bn2(self.dwconv(y))))
        if self.stride == 2:
            return self.act(torch.cat((self.shortcut(x), y), dim=1))
        return self.act(x + y)


class ShuffleNetV1(nn.Module):
    """The paper's ShuffleNet (keys ``conv1``, ``stage2``-``stage4``, ``fc``)."""

    stage2: nn.Sequential  # set in a loop below: declared for readers and the type checker
    stage3: nn.Sequential
    stage4: nn.Sequential

    def __init__(self, groups: int, width: float = 1.0, *, num_classes: int = 1000, act: str = "relu") -> None:
        super().__init__()
        c1, *stages = stage_channels(groups, width)
        self.conv1 = nn.Sequential(nn.Conv2d(3, c1, 3, 2, 1, bias=False), nn.BatchNorm2d(c1), make_act(act, c1))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inp = c1
        for i, (reps, out) in enumerate(zip(_REPEATS, stages), start=2):
            units = [ShuffleV1Unit(inp, out, 2, groups, group_first=i > 2, act=act)]
            units += [ShuffleV1Unit(out, out, 1, groups, act=act) for _ in range(reps - 1)]
            setattr(self, f"stage{i}", nn.Sequential(*units))
            inp = out
        self.num_features = inp
        self.fc = nn.Linear(inp, num_classes)
        he_init(self, act)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.forward_features(x).mean((2, 3)))


class MegviiShuffleV1Block(nn.Module):
    """megvii's ShuffleV1Block (keys ``branch_main_1``, ``branch_main_2``; the avg-pool shortcut has no weights).

    Their shuffle sits between the depthwise conv's BN and the second grouped conv, and reshapes the channels as
    (C/g, g) before transposing, which is ``channel_shuffle(x, C // g)`` in the paper's terms.
    """

    def __init__(self, inp: int, oup: int, stride: int, groups: int, *, first_group: bool = False,
                 act: str = "relu") -> None:
        super().__init__()
        self.stride, self.groups = stride, groups
        mid = oup // 4
        out = oup - inp if stride == 2 else oup
        self.branch_main_1 = nn.Sequential(
            _gconv(inp, mid, 1 if first_group else groups), nn.BatchNorm2d(mid), make_act(act, mid),
            _dw(mid, stride), nn.BatchNorm2d(mid),
        )
        self.branch_main_2 = nn.Sequential(_gconv(mid, out, groups), nn.BatchNorm2d(out))
        self.branch_proj = nn.AvgPool2d(3, 2, 1) if stride == 2 else None
        self.act = make_act(act, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.branch_main_1(x)
        if self.groups > 1:
            y = channel_shuffle(y, y.shape[1] // self.groups)
        y = self.branch_main_2(y)
        if self.branch_proj is None:
            return self.act(y + x)
        return torch.cat((self.branch_proj(x), self.act(y)), dim=1)


class ShuffleNetV1Megvii(nn.Module):
    """megvii's ShuffleNetV1 (keys ``first_conv``, ``features``, ``classifier.0`` without bias)."""

    def __init__(self, groups: int, width: float = 1.0, *, num_classes: int = 1000, act: str = "relu") -> None:
        super().__init__()
        c1, *stages = stage_channels(groups, width, megvii=True)
        self.first_conv = nn.Sequential(nn.Conv2d(3, c1, 3, 2, 1, bias=False), nn.BatchNorm2d(c1), make_act(act, c1))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        blocks, inp = [], c1
        for si, (reps, out) in enumerate(zip(_REPEATS, stages)):
            for i in range(reps):
                blocks.append(MegviiShuffleV1Block(inp, out, 2 if i == 0 else 1, groups,
                                                   first_group=si == 0 and i == 0, act=act))
                inp = out
        self.features = nn.Sequential(*blocks)
        self.globalpool = nn.AdaptiveAvgPool2d(1)  # their AvgPool2d(7): the same at 224x224
        self.num_features = inp
        self.classifier = nn.Sequential(nn.Linear(inp, num_classes, bias=False))
        he_init(self, act)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(self.maxpool(self.first_conv(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.globalpool(self.forward_features(x)), 1))


def _shufflenet_v1(groups: int, width: str, *, megvii: bool = False, **kwargs: Any) -> nn.Module:
    cls = ShuffleNetV1Megvii if megvii else ShuffleNetV1
    return cls(groups, _WIDTHS[width], **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# weights (megvii's releases sit behind a cloud-drive page: the user downloads the file once)

# megvii README: (MFLOPs, M params, top-1 err %, top-5 err %)
_MEGVII_README = {
    (3, "0_5"): (38, 0.7, 42.7, 20.0), (3, "1_0"): (138, 1.9, 32.2, 12.3),
    (3, "1_5"): (292, 3.4, 28.4, 9.8), (3, "2_0"): (524, 5.4, 25.9, 8.6),
    (8, "0_5"): (40, 1.0, 41.2, 19.0), (8, "1_0"): (138, 2.4, 32.0, 13.6),
    (8, "1_5"): (290, 4.3, 29.0, 10.4), (8, "2_0"): (522, 6.5, 27.1, 9.2),
}
# paper Table 1 (complexity of the 1x nets, MFLOPs) and Table 2 (top-1 error of the 1x nets, %)
_TABLE1_1X = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}
_TABLE2_1X = {1: 33.6, 2: 32.7, 3: 32.6, 4: 32.8, 8: 32.4}


def _megvii_weights(groups: int, width: str, params: int) -> tuple[Weights, ...]:
    _, _, e1, e5 = _MEGVII_README[(groups, width)]
    return (Weights(
        tag="MEGVII", file_name=f"ShuffleNetV1.Group{groups}.{width.replace('_', '.')}x.pth.tar", url=None,
        sha256=None, num_params=params, metrics={"top1": round(100 - e1, 2), "top5": round(100 - e5, 2)},
        preprocessing=MEGVII_PREPROCESSING, source="megvii", paper=_PAPER,
        licence="MIT (megvii-model/ShuffleNet-Series)", page=MEGVII_SERIES_PAGE,
        recipe="https://github.com/megvii-model/ShuffleNet-Series/tree/master/ShuffleNetV1",
        checkpoint_filter=filter_megvii,
    ),)


def _claims(groups: int, width: str, megvii: bool) -> tuple[Claim, ...]:
    out = []
    if width == "1_0":
        out += [Claim("macs", _TABLE1_1X[groups], "M", "Table 1", _PAPER),
                Claim("top1_err", _TABLE2_1X[groups], "%", "Table 2", _PAPER)]
    if megvii:
        m, p, e1, e5 = _MEGVII_README[(groups, width)]
        out += [Claim("macs", m, "M", "megvii README"), Claim("params", p, "M", "megvii README"),
                Claim("top1_err", e1, "%", "megvii README"), Claim("top5_err", e5, "%", "megvii README")]
    return tuple(out)


def _reg(groups: int, width: str, params: int, macs: int, *, megvii: bool = False, **kw: Any
         ) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    name = f"shufflenet_v1_g{groups}_x{width}" + ("_megvii" if megvii else "")
    return register_model(
        name=name, family="shufflenet_v1", papers=(_PAPER,), claims=_claims(groups, width, megvii),
        weights=_megvii_weights(groups, width, params) if megvii else (), params=params, macs=macs,
        classifier="classifier.0" if megvii else "fc",
        description=f"ShuffleNet V1 g={groups} {width.replace('_', '.')}x, "
                    f"{'megvii wiring' if megvii else 'paper Table 1 layout'}",
        **kw,
    )


# --------------------------------------------------------------------------------------------------------------------
# registered entry points: 20 paper variants (groups 1, 2, 3, 4, 8) and 8 megvii variants (groups 3, 8), one builder
# each; declared params / MACs at 224x224 are checked by tests/test_zoo_conventions.py

@_reg(1, "0_5", 534_484, 38_517_408)
def shufflenet_v1_g1_x0_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(1, "0_5", **kwargs)


@_reg(1, "1_0", 1_531_936, 143_078_976)
def shufflenet_v1_g1_x1_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(1, "1_0", **kwargs)


@_reg(1, "1_5", 2_993_356, 313_684_704)
def shufflenet_v1_g1_x1_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(1, "1_5", **kwargs)


@_reg(1, "2_0", 4_918_744, 550_334_592)
def shufflenet_v1_g1_x2_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(1, "2_0", **kwargs)


@_reg(2, "0_5", 678_520, 40_906_464)
def shufflenet_v1_g2_x0_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(2, "0_5", **kwargs)


@_reg(2, "1_0", 1_733_848, 140_836_512)
def shufflenet_v1_g2_x1_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(2, "1_0", **kwargs)


@_reg(2, "1_5", 3_342_780, 315_559_232)
def shufflenet_v1_g2_x1_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(2, "1_5", **kwargs)


@_reg(2, "2_0", 5_257_896, 539_138_624)
def shufflenet_v1_g2_x2_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(2, "2_0", **kwargs)


@_reg(3, "0_5", 718_324, 37_589_856)
def shufflenet_v1_g3_x0_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(3, "0_5", **kwargs)


@_reg(3, "1_0", 1_865_728, 137_460_672, aliases=("shufflenet_v1",))
def shufflenet_v1_g3_x1_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(3, "1_0", **kwargs)


@_reg(3, "1_5", 3_443_212, 299_612_448)
def shufflenet_v1_g3_x1_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(3, "1_5", **kwargs)


@_reg(3, "2_0", 5_450_776, 524_045_184)
def shufflenet_v1_g3_x2_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(3, "2_0", **kwargs)


@_reg(4, "0_5", 835_984, 40_710_528)
def shufflenet_v1_g4_x0_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(4, "0_5", **kwargs)


@_reg(4, "1_0", 1_968_344, 134_339_776)
def shufflenet_v1_g4_x1_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(4, "1_0", **kwargs)


@_reg(4, "1_5", 3_680_972, 302_820_352)
def shufflenet_v1_g4_x1_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(4, "1_5", **kwargs)


@_reg(4, "2_0", 5_593_528, 510_289_536)
def shufflenet_v1_g4_x2_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(4, "2_0", **kwargs)


@_reg(8, "0_5", 1_011_448, 40_469_760)
def shufflenet_v1_g8_x0_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(8, "0_5", **kwargs)


@_reg(8, "1_0", 2_434_768, 138_365_952)
def shufflenet_v1_g8_x1_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(8, "1_0", **kwargs)


@_reg(8, "1_5", 4_272_400, 302_607_360)
def shufflenet_v1_g8_x1_5(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(8, "1_5", **kwargs)


@_reg(8, "2_0", 6_522_232, 521_942_016)
def shufflenet_v1_g8_x2_0(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(8, "2_0", **kwargs)


@_reg(3, "0_5", 717_324, 37_589_856, megvii=True)
def shufflenet_v1_g3_x0_5_megvii(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(3, "0_5", megvii=True, **kwargs)


@_reg(3, "1_0", 1_864_728, 137_460_672, megvii=True)
def shufflenet_v1_g3_x1_0_megvii(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(3, "1_0", megvii=True, **kwargs)


@_reg(3, "1_5", 3_441_168, 292_443_552, megvii=True)
def shufflenet_v1_g3_x1_5_megvii(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(3, "1_5", megvii=True, **kwargs)


@_reg(3, "2_0", 5_449_776, 524_045_184, megvii=True)
def shufflenet_v1_g3_x2_0_megvii(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(3, "2_0", megvii=True, **kwargs)


@_reg(8, "0_5", 1_010_448, 40_469_760, megvii=True)
def shufflenet_v1_g8_x0_5_megvii(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(8, "0_5", megvii=True, **kwargs)


@_reg(8, "1_0", 2_433_768, 138_365_952, megvii=True)
def shufflenet_v1_g8_x1_0_megvii(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(8, "1_0", megvii=True, **kwargs)


@_reg(8, "1_5", 4_268_952, 290_188_800, megvii=True)
def shufflenet_v1_g8_x1_5_megvii(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(8, "1_5", megvii=True, **kwargs)


@_reg(8, "2_0", 6_521_232, 521_942_016, megvii=True)
def shufflenet_v1_g8_x2_0_megvii(**kwargs: Any) -> nn.Module:
    return _shufflenet_v1(8, "2_0", megvii=True, **kwargs)
