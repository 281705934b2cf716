"""Registered SPOS entry points: ``spos_supernet``, ``spos_a`` (alias ``spos``) and ``spos_ac``.

No released weights are registered (the megvii release is a manual download of its own format); subnets take their
weights from a supernet checkpoint trained here: ``zoo.load("spos", arch=..., supernet="supernet.pt")``.
"""
from __future__ import annotations

import os
from typing import Any, Iterable

from .._registry import Claim, ZooError, register_model
from .arch import SPOS_A, SPOS_AC, Arch
from .checkpoint import load_supernet
from .subnet import SPOSNet, extract_subnet, recalibrate_bn
from .supernet import SuperNet

_PAPER = "1904.00420"


def _subnet(
    arch: Arch | str | Any,
    supernet: str | os.PathLike | SuperNet | None,
    calib: Iterable[Any] | None,
    **options: Any,
) -> SPOSNet:
    """A standalone subnet: random init, or inherited from ``supernet`` (BN recalibrated on ``calib`` if given)."""
    if supernet is None:
        if calib is not None:
            raise TypeError("calib= recalibrates inherited weights; pass supernet= too")
        return SPOSNet(arch, **options)
    net = load_supernet(supernet)
    arch = net.check(arch)
    want = options.pop("num_classes", None)
    if options:
        raise TypeError(f"options {sorted(options)} come from the supernet; do not pass them with supernet=")
    if want is not None and want != net.layout.num_classes:
        raise ZooError(f"the supernet has {net.layout.num_classes} classes, not {want}; fine-tune a new head instead")
    if calib is not None:
        recalibrate_bn(net, calib, arch=arch)
    return extract_subnet(net, arch)


# the released figures (the repository's results table; the paper's "FLOPs" are multiply-adds)
_RELEASE = "megvii-model/SinglePathOneShot README"


def _claims(macs: float, params: float, top1_err: float) -> tuple[Claim, ...]:
    return (
        Claim("macs", macs, "M", _RELEASE),
        Claim("params", params, "M", _RELEASE),
        Claim("top1_err", top1_err, "%", _RELEASE),
        Claim("top1", round(100 - top1_err, 1), "%", _RELEASE),
    )


@register_model(
    family="spos", papers=(_PAPER,), params=8_388_176, macs=322_918_720, classifier="classifier",
    description="SPOS supernet: 20 choice blocks (Shuffle 3/5/7, Xception), BN affine=False; forward(x, arch)",
)
def spos_supernet(*, default_arch: Arch | str = SPOS_A, **options: Any) -> SuperNet:
    """SPOS supernet (one path per forward; without ``arch`` it runs the paper's searched path)."""
    return SuperNet(default_arch=default_arch, **options)


@register_model(
    family="spos", aliases=("spos",), papers=(_PAPER,), claims=_claims(323, 3.5, 25.6),
    params=3_558_464, macs=322_918_720, classifier="classifier",
    description="SPOS block search result 2,1,0,1,2,0,2,0,2,0,2,3,0,0,0,0,3,2,3,3 (standalone)",
)
def spos_a(
    *, arch: Arch | str | Any = SPOS_A, supernet: Any = None, calib: Iterable[Any] | None = None, **options: Any
) -> SPOSNet:
    """SPOS searched network; ``arch=`` any path, ``supernet=`` a checkpoint (or ``SuperNet``) to inherit from."""
    return _subnet(arch, supernet, calib, **options)


@register_model(
    family="spos", papers=(_PAPER,), claims=_claims(328, 3.4, 25.1),
    params=3_432_579, macs=327_857_920, classifier="classifier",
    description="SPOS block + channel search result (widths 0.2-1.6x as released, standalone)",
)
def spos_ac(
    *, arch: Arch | str | Any = SPOS_AC, supernet: Any = None, calib: Iterable[Any] | None = None, **options: Any
) -> SPOSNet:
    """SPOS block + channel searched network; same options as ``spos_a``."""
    return _subnet(arch, supernet, calib, **options)
