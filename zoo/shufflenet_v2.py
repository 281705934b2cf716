"""ShuffleNet V2 (Ma et al., arXiv 1807.11164): torchvision's layout and keys, and megvii's official wiring.

The two are the same architecture wired differently, so their checkpoints do not convert by renaming keys:

- torchvision (``shufflenet_v2_x1_0`` ...): a stride-1 block splits channels into halves (``chunk``), transforms the
  second half, concatenates and then shuffles with 2 groups; the classifier has a bias.
- megvii (``shufflenet_v2_x1_0_megvii`` ...): a stride-1 block takes the even channels as the shortcut and the odd
  ones as the branch (their shuffle *is* the split), concatenates without shuffling; the classifier has no bias.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ._layers import channel_shuffle, he_init, make_act
from ._registry import Claim, register_model
from ._weights import MEGVII_PREPROCESSING, MEGVII_SERIES_PAGE, Preprocessing, Weights, filter_megvii

__all__ = ["InvertedResidual", "MegviiShuffleV2Block", "ShuffleNetV2", "ShuffleNetV2Megvii"]

_PAPER = "1807.11164"
_REPEATS = (4, 8, 4)
_CHANNELS = {  # conv1, stage2, stage3, stage4, conv5 (paper Table 5)
    "0_5": (24, 48, 96, 192, 1024),
    "1_0": (24, 116, 232, 464, 1024),
    "1_5": (24, 176, 352, 704, 1024),
    "2_0": (24, 244, 488, 976, 2048),
}


def _dw(ch: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(ch, ch, 3, stride, 1, groups=ch, bias=False)


def _pw(inp: int, out: int) -> nn.Conv2d:
    return nn.Conv2d(inp, out, 1, 1, 0, bias=False)


class InvertedResidual(nn.Module):
    """torchvision's ShuffleNet V2 unit (keys ``branch1``, ``branch2``)."""

    def __init__(self, inp: int, oup: int, stride: int, *, act: str = "relu") -> None:
        super().__init__()
        self.stride = stride
        half = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(_dw(inp, stride), nn.BatchNorm2d(inp), _pw(inp, half), nn.BatchNorm2d(half),
                                         make_act(act, half))
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            _pw(inp if stride > 1 else half, half), nn.BatchNorm2d(half), make_act(act, half),
            _dw(half, stride), nn.BatchNorm2d(half),
            _pw(half, half), nn.BatchNorm2d(half), make_act(act, half),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNet V2 with torchvision's state_dict keys (``conv1``, ``stage2``-``stage4``, ``conv5``, ``fc``)."""

    stage2: nn.Sequential  # set in a loop below: declared for readers and the type checker
    stage3: nn.Sequential
    stage4: nn.Sequential

    def __init__(self, channels: Sequence[int], *, num_classes: int = 1000, act: str = "relu") -> None:
        super().__init__()
        c1, s2, s3, s4, c5 = channels
        self.conv1 = nn.Sequential(nn.Conv2d(3, c1, 3, 2, 1, bias=False), nn.BatchNorm2d(c1), make_act(act, c1))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inp = c1
        for i, (reps, out) in enumerate(zip(_REPEATS, (s2, s3, s4)), start=2):
            blocks = [InvertedResidual(inp, out, 2, act=act)]
            blocks += [InvertedResidual(out, out, 1, act=act) for _ in range(reps - 1)]
            setattr(self, f"stage{i}", nn.Sequential(*blocks))
            inp = out
        self.conv5 = nn.Sequential(nn.Conv2d(inp, c5, 1, 1, 0, bias=False), nn.BatchNorm2d(c5), make_act(act, c5))
        self.num_features = c5
        self.fc = nn.Linear(c5, num_classes)
        he_init(self, act)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        return self.conv5(self.stage4(self.stage3(self.stage2(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.forward_features(x).mean((2, 3)))


class MegviiShuffleV2Block(nn.Module):
    """megvii's ShuffleV2Block (keys ``branch_main``, ``branch_proj``).

    Stride 1: even channels are the shortcut, odd channels go through ``branch_main``; the two are concatenated
    (shortcut first) with no shuffle after. Stride 2: ``branch_proj`` and ``branch_main`` both see the whole input.
    """

    def __init__(self, inp: int, oup: int, mid: int, stride: int, *, act: str = "relu") -> None:
        super().__init__()
        self.stride = stride
        out = oup - inp
        self.branch_main = nn.Sequential(
            _pw(inp, mid), nn.BatchNorm2d(mid), make_act(act, mid),
            _dw(mid, stride), nn.BatchNorm2d(mid),
            _pw(mid, out), nn.BatchNorm2d(out), make_act(act, out),
        )
        self.branch_proj = (
            nn.Sequential(_dw(inp, stride), nn.BatchNorm2d(inp), _pw(inp, inp), nn.BatchNorm2d(inp), make_act(act, inp))
            if stride == 2 else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.branch_proj is None:
            return torch.cat((x[:, 0::2], self.branch_main(x[:, 1::2])), dim=1)
        return torch.cat((self.branch_proj(x), self.branch_main(x)), dim=1)


class ShuffleNetV2Megvii(nn.Module):
    """megvii's ShuffleNetV2 (keys ``first_conv``, ``features``, ``conv_last``, ``classifier.0`` without bias).

    Their fixed 7x7 average pool is an adaptive one here: identical at 224x224, and any input size works.
    """

    def __init__(self, channels: Sequence[int], *, num_classes: int = 1000, act: str = "relu",
                 dropout: float = 0.0) -> None:
        super().__init__()
        c1, s2, s3, s4, c5 = channels
        self.first_conv = nn.Sequential(nn.Conv2d(3, c1, 3, 2, 1, bias=False), nn.BatchNorm2d(c1), make_act(act, c1))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        blocks, inp = [], c1
        for reps, out in zip(_REPEATS, (s2, s3, s4)):
            blocks.append(MegviiShuffleV2Block(inp, out, out // 2, 2, act=act))
            blocks += [MegviiShuffleV2Block(out // 2, out, out // 2, 1, act=act) for _ in range(reps - 1)]
            inp = out
        self.features = nn.Sequential(*blocks)
        self.conv_last = nn.Sequential(_pw(inp, c5), nn.BatchNorm2d(c5), make_act(act, c5))
        self.globalpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.num_features = c5
        self.classifier = nn.Sequential(nn.Linear(c5, num_classes, bias=False))
        he_init(self, act)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_last(self.features(self.maxpool(self.first_conv(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.globalpool(self.forward_features(x)))
        return self.classifier(torch.flatten(x, 1))


def _shufflenet_v2(width: str, *, megvii: bool = False, **kwargs) -> nn.Module:
    if megvii:
        # megvii trained 2.0x with dropout 0.2 before the classifier
        kwargs.setdefault("dropout", 0.2 if width == "2_0" else 0.0)
        return ShuffleNetV2Megvii(_CHANNELS[width], **kwargs)
    return ShuffleNetV2(_CHANNELS[width], **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# weights

_TV = "https://download.pytorch.org/models/"


def _tv(file: str, params: int, top1: float, top5: float, resize: int, recipe: str) -> Weights:
    return Weights(
        tag="IMAGENET1K_V1", file_name=file, url=_TV + file, sha256=file.rsplit("-", 1)[1].split(".")[0],
        num_params=params, metrics={"top1": top1, "top5": top5}, preprocessing=Preprocessing(resize=resize, crop=224),
        source="torchvision", paper=_PAPER, licence="BSD-3-Clause (torchvision)", page=recipe, recipe=recipe,
    )


def _megvii(width: str, params: int, top1_err: float, top5_err: float) -> Weights:
    return Weights(
        tag="MEGVII", file_name=f"ShuffleNetV2.{width.replace('_', '.')}x.pth.tar", url=None, sha256=None,
        num_params=params, metrics={"top1": round(100 - top1_err, 2), "top5": round(100 - top5_err, 2)},
        preprocessing=MEGVII_PREPROCESSING, source="megvii", paper=_PAPER,
        licence="MIT (megvii-model/ShuffleNet-Series)", page=MEGVII_SERIES_PAGE,
        recipe="https://github.com/megvii-model/ShuffleNet-Series/tree/master/ShuffleNetV2",
        checkpoint_filter=filter_megvii,
    )


_ERIC = "https://github.com/ericsun99/Shufflenet-v2-Pytorch"
_PR = "https://github.com/pytorch/vision/pull/5906"
_WEIGHTS = {
    "0_5": (_tv("shufflenetv2_x0.5-f707e7126e.pth", 1_366_792, 60.552, 81.746, 256, _ERIC),),
    "1_0": (_tv("shufflenetv2_x1-5666bf0f80.pth", 2_278_604, 69.362, 88.316, 256, _ERIC),),
    "1_5": (_tv("shufflenetv2_x1_5-3c479a10.pth", 3_503_624, 72.996, 91.086, 232, _PR),),
    "2_0": (_tv("shufflenetv2_x2_0-8be3c8ee.pth", 7_393_996, 76.230, 93.006, 232, _PR),),
}
# params of the megvii wiring: no classifier bias, and stage 2's first unit splits its outputs unevenly
# (shortcut keeps the 24 input channels), so the counts differ from torchvision's
_P_MEGVII = {"0_5": 1_365_792, "1_0": 2_278_760, "1_5": 3_506_720, "2_0": 7_402_600}
_MEGVII_ERR = {"0_5": (38.9, 17.4), "1_0": (30.6, 11.1), "1_5": (27.4, 9.4), "2_0": (25.0, 7.6)}
# paper Table 8 (single centre crop): MFLOPs (= multiply-adds) and top-1 error
_PAPER_CLAIMS = {"0_5": (41, 39.7), "1_0": (146, 30.6), "1_5": (299, 27.4), "2_0": (591, 25.1)}
# megvii README: params (M); its FLOPs column repeats Table 8
_MEGVII_PARAMS = {"0_5": 1.4, "1_0": 2.3, "1_5": 3.5, "2_0": 7.4}


def _claims(width: str, megvii: bool) -> tuple[Claim, ...]:
    mflops, err = _PAPER_CLAIMS[width]
    out = [Claim("macs", mflops, "M", "Table 8", _PAPER), Claim("top1_err", err, "%", "Table 8", _PAPER)]
    if megvii:
        p, (e1, e5) = _MEGVII_PARAMS[width], _MEGVII_ERR[width]
        out += [Claim("params", p, "M", "megvii README"), Claim("top1_err", e1, "%", "megvii README"),
                Claim("top5_err", e5, "%", "megvii README")]
    return tuple(out)


def _reg(width: str, params: int, macs: int, *, megvii: bool = False, **kw):
    name = f"shufflenet_v2_x{width}" + ("_megvii" if megvii else "")
    weights = (_megvii(width, _P_MEGVII[width], *_MEGVII_ERR[width]),) if megvii else _WEIGHTS[width]
    return register_model(
        name=name, family="shufflenet_v2", papers=(_PAPER,), claims=_claims(width, megvii), weights=weights,
        params=params, macs=macs, classifier="classifier.0" if megvii else "fc",
        description=f"ShuffleNet V2 {width.replace('_', '.')}x, {'megvii wiring' if megvii else 'torchvision layout'}",
        **kw,
    )


# --------------------------------------------------------------------------------------------------------------------
# registered entry points (declared params / MACs at 224x224 are checked by tests/test_zoo_conventions.py)

@_reg("0_5", 1_366_792, 40_476_448)
def shufflenet_v2_x0_5(**kwargs) -> nn.Module:
    return _shufflenet_v2("0_5", **kwargs)


@_reg("1_0", 2_278_604, 144_907_992, aliases=("shufflenet_v2",))
def shufflenet_v2_x1_0(**kwargs) -> nn.Module:
    return _shufflenet_v2("1_0", **kwargs)


@_reg("1_5", 3_503_624, 295_759_392)
def shufflenet_v2_x1_5(**kwargs) -> nn.Module:
    return _shufflenet_v2("1_5", **kwargs)


@_reg("2_0", 7_393_996, 583_253_464)
def shufflenet_v2_x2_0(**kwargs) -> nn.Module:
    return _shufflenet_v2("2_0", **kwargs)


@_reg("0_5", _P_MEGVII["0_5"], 40_476_448, megvii=True)
def shufflenet_v2_x0_5_megvii(**kwargs) -> nn.Module:
    return _shufflenet_v2("0_5", megvii=True, **kwargs)


@_reg("1_0", _P_MEGVII["1_0"], 145_814_296, megvii=True)
def shufflenet_v2_x1_0_megvii(**kwargs) -> nn.Module:
    return _shufflenet_v2("1_0", megvii=True, **kwargs)


@_reg("1_5", _P_MEGVII["1_5"], 298_970_656, megvii=True)
def shufflenet_v2_x1_5_megvii(**kwargs) -> nn.Module:
    return _shufflenet_v2("1_5", megvii=True, **kwargs)


@_reg("2_0", _P_MEGVII["2_0"], 590_783_000, megvii=True)
def shufflenet_v2_x2_0_megvii(**kwargs) -> nn.Module:
    return _shufflenet_v2("2_0", megvii=True, **kwargs)
