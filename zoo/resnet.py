"""ResNet (He et al., arXiv 1512.03385), with He init (1502.01852) and an optional PReLU.

Two layouts: torchvision's "v1.5" (``resnet18`` ... ``resnet152``: a downsampling bottleneck strides on its 3x3 conv)
with torchvision's exact state_dict keys and shapes, and the paper's original v1 (``resnet18_v1`` ...: the stride
sits on the first 1x1 conv). Basic blocks have no 1x1 conv, so ``resnet18_v1``/``resnet34_v1`` equal their v1.5
counterparts.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from ._layers import he_init, make_act
from ._registry import Claim, register_model
from ._weights import Preprocessing, Weights

__all__ = ["BasicBlock", "Bottleneck", "ResNet"]

_PAPER = "1512.03385"


def _conv3x3(inp: int, out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(inp, out, 3, stride=stride, padding=1, bias=False)


def _conv1x1(inp: int, out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(inp, out, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs (ResNet-18/34)."""

    expansion = 1

    def __init__(self, inp: int, width: int, stride: int = 1, downsample: nn.Module | None = None, *,
                 act: str = "relu", stride_on_1x1: bool = False) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inp, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = make_act(act, width)
        self.conv2 = _conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.act2 = make_act(act, width)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (ResNet-50/101/152); the stride sits on the 3x3 (v1.5) or the first 1x1 (v1)."""

    expansion = 4

    def __init__(self, inp: int, width: int, stride: int = 1, downsample: nn.Module | None = None, *,
                 act: str = "relu", stride_on_1x1: bool = False) -> None:
        super().__init__()
        out = width * self.expansion
        self.conv1 = _conv1x1(inp, width, stride if stride_on_1x1 else 1)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = make_act(act, width)
        self.conv2 = _conv3x3(width, width, 1 if stride_on_1x1 else stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.act2 = make_act(act, width)
        self.conv3 = _conv1x1(width, out)
        self.bn3 = nn.BatchNorm2d(out)
        self.act3 = make_act(act, out)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.act2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.act3(out + identity)


class ResNet(nn.Module):
    """ResNet for 224x224 ImageNet inputs: 7x7/2 stem, max-pool, four stages, global average pool, ``fc``.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: blocks per stage, e.g. ``(3, 4, 6, 3)`` for ResNet-50.
        num_classes: classifier outputs.
        act: ``"relu"`` or ``"prelu"`` (1502.01852; adds one learned slope per channel).
        stride_on_1x1: the paper's v1 layout instead of torchvision's v1.5.
        zero_init_residual: start each residual branch at zero (last BN scale = 0).
    """

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: Sequence[int], *, num_classes: int = 1000,
                 act: str = "relu", stride_on_1x1: bool = False, zero_init_residual: bool = False) -> None:
        super().__init__()
        self._block_kw: dict[str, Any] = {"act": act, "stride_on_1x1": stride_on_1x1}
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.act1 = make_act(act, 64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.num_features = 512 * block.expansion
        self.fc = nn.Linear(self.num_features, num_classes)
        he_init(self, act)
        if zero_init_residual:
            for m in self.modules():
                last = getattr(m, "bn3", None) if isinstance(m, Bottleneck) else getattr(m, "bn2", None)
                if isinstance(m, (BasicBlock, Bottleneck)) and last is not None:
                    nn.init.zeros_(last.weight)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], width: int, blocks: int, stride: int = 1) -> nn.Sequential:
        out = width * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Sequential(_conv1x1(self.inplanes, out, stride), nn.BatchNorm2d(out))
        layers = [block(self.inplanes, width, stride, downsample, **self._block_kw)]
        self.inplanes = out
        layers += [block(out, width, **self._block_kw) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.forward_features(x)), 1))


def _resnet(block: type[BasicBlock | Bottleneck], layers: Sequence[int], **kwargs) -> ResNet:
    return ResNet(block, layers, **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# weights: torchvision's releases (https://download.pytorch.org/models/; the name's suffix starts the SHA-256)

_TV = "https://download.pytorch.org/models/"
_TV_LICENCE = "BSD-3-Clause (torchvision)"
_V1_RECIPE = "https://github.com/pytorch/vision/tree/main/references/classification#resnet"
_V2_RECIPE = "https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621"


def _tv(tag: str, file: str, params: int, top1: float, top5: float, resize: int = 256) -> Weights:
    recipe = _V1_RECIPE if tag.endswith("V1") else _V2_RECIPE
    return Weights(
        tag=tag, file_name=file, url=_TV + file, sha256=file.rsplit("-", 1)[1].split(".")[0], num_params=params,
        metrics={"top1": top1, "top5": top5}, preprocessing=Preprocessing(resize=resize, crop=224),
        source="torchvision", paper=_PAPER, licence=_TV_LICENCE, page=recipe, recipe=recipe,
    )


_P18, _P34, _P50, _P101, _P152 = 11_689_512, 21_797_672, 25_557_032, 44_549_160, 60_192_808
_W = {
    "resnet18": (_tv("IMAGENET1K_V1", "resnet18-f37072fd.pth", _P18, 69.758, 89.078),),
    "resnet34": (_tv("IMAGENET1K_V1", "resnet34-b627a593.pth", _P34, 73.314, 91.420),),
    "resnet50": (
        _tv("IMAGENET1K_V1", "resnet50-0676ba61.pth", _P50, 76.130, 92.862),
        _tv("IMAGENET1K_V2", "resnet50-11ad3fa6.pth", _P50, 80.858, 95.434, resize=232),
    ),
    "resnet101": (
        _tv("IMAGENET1K_V1", "resnet101-63fe2227.pth", _P101, 77.374, 93.546),
        _tv("IMAGENET1K_V2", "resnet101-cd907fc2.pth", _P101, 81.886, 95.780, resize=232),
    ),
    "resnet152": (
        _tv("IMAGENET1K_V1", "resnet152-394f9c45.pth", _P152, 78.312, 94.046),
        _tv("IMAGENET1K_V2", "resnet152-f82ba261.pth", _P152, 82.284, 96.002, resize=232),
    ),
}


def _claims(gflops: float, top1_err: float, top5_err: float | None, table: str) -> tuple[Claim, ...]:
    out = [Claim("macs", gflops, "G", "Table 1", _PAPER), Claim("top1_err", top1_err, "%", table, _PAPER)]
    if top5_err is not None:
        out.append(Claim("top5_err", top5_err, "%", table, _PAPER))
    return tuple(out)


# paper: Table 1 (FLOPs = multiply-adds), Table 2 (18 / 34, 10-crop) and Table 3 (34-B / 50 / 101 / 152, 10-crop)
_CLAIMS = {
    "resnet18": _claims(1.8, 27.88, None, "Table 2"),
    "resnet34": _claims(3.6, 24.52, 7.46, "Table 3"),
    "resnet50": _claims(3.8, 22.85, 6.71, "Table 3"),
    "resnet101": _claims(7.6, 21.75, 6.05, "Table 3"),
    "resnet152": _claims(11.3, 21.43, 5.71, "Table 3"),
}
_PAPERS = (_PAPER, "1502.01852")


def _reg(name: str, params: int, macs: int, **kw):
    depth = name.removeprefix("resnet").removesuffix("_v1")
    base = name.removesuffix("_v1")
    return register_model(
        name=name, family="resnet", papers=_PAPERS, claims=_CLAIMS[base], params=params, macs=macs,
        weights=() if name.endswith("_v1") else _W[base],
        description=f"ResNet-{depth}, {'paper v1 layout (stride on the 1x1)' if name.endswith('_v1') else 'torchvision v1.5 layout'}",
        **kw,
    )


# --------------------------------------------------------------------------------------------------------------------
# registered entry points (declared params / MACs at 224x224 are checked by tests/test_zoo_conventions.py)

@_reg("resnet18", 11_689_512, 1_814_073_344)
def resnet18(**kwargs) -> ResNet:
    return _resnet(BasicBlock, (2, 2, 2, 2), **kwargs)


@_reg("resnet34", 21_797_672, 3_663_761_408)
def resnet34(**kwargs) -> ResNet:
    return _resnet(BasicBlock, (3, 4, 6, 3), **kwargs)


@_reg("resnet50", 25_557_032, 4_089_184_256)
def resnet50(**kwargs) -> ResNet:
    return _resnet(Bottleneck, (3, 4, 6, 3), **kwargs)


@_reg("resnet101", 44_549_160, 7_801_405_440)
def resnet101(**kwargs) -> ResNet:
    return _resnet(Bottleneck, (3, 4, 23, 3), **kwargs)


@_reg("resnet152", 60_192_808, 11_513_626_624)
def resnet152(**kwargs) -> ResNet:
    return _resnet(Bottleneck, (3, 8, 36, 3), **kwargs)


@_reg("resnet18_v1", 11_689_512, 1_814_073_344)
def resnet18_v1(**kwargs) -> ResNet:
    return _resnet(BasicBlock, (2, 2, 2, 2), stride_on_1x1=True, **kwargs)


@_reg("resnet34_v1", 21_797_672, 3_663_761_408)
def resnet34_v1(**kwargs) -> ResNet:
    return _resnet(BasicBlock, (3, 4, 6, 3), stride_on_1x1=True, **kwargs)


@_reg("resnet50_v1", 25_557_032, 3_857_973_248)
def resnet50_v1(**kwargs) -> ResNet:
    return _resnet(Bottleneck, (3, 4, 6, 3), stride_on_1x1=True, **kwargs)


@_reg("resnet101_v1", 44_549_160, 7_570_194_432)
def resnet101_v1(**kwargs) -> ResNet:
    return _resnet(Bottleneck, (3, 4, 23, 3), stride_on_1x1=True, **kwargs)


@_reg("resnet152_v1", 60_192_808, 11_282_415_616)
def resnet152_v1(**kwargs) -> ResNet:
    return _resnet(Bottleneck, (3, 8, 36, 3), stride_on_1x1=True, **kwargs)
