"""Registered SPOS entry points: ``spos_supernet``, ``spos_a`` (alias ``spos``) and ``spos_ac``.

Subnets take their weights from a supernet checkpoint trained here (``zoo.load("spos", arch=...,
supernet="supernet.pt")``) or from megvii's trained-from-scratch releases of the two searched networks, which sit
behind OneDrive pages: download once, then ``zoo.load("spos_ac", weights="path/to/file.pth.tar")`` (or drop the file
into the cache under the entry's name). Their checkpoints hold megvii's ``ShuffleNetV2_OneShot`` keys
(``first_conv.0``, ``features.N.branch_main.J``, ``conv_last.0``, ``classifier.0``); ``filter_release`` maps them
onto this package's modules. megvii's trained supernet (``checkpoint-150000.pth.tar``, ``features.N.C.branch_main.J``)
loads the same way into ``spos_supernet``, and ``zoo.spos.load_supernet`` / ``zoo supernet search`` read it directly.
"""
from __future__ import annotations

import os
from typing import Any, Iterable

from .._registry import Claim, ZooError, register_model
from .._weights import MEGVII_PREPROCESSING, MEGVII_SERIES_PAGE, Weights
from .arch import SPOS_A, SPOS_AC, Arch
from .checkpoint import load_supernet
from .release import filter_release
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


# --------------------------------------------------------------------------------------------------------------------
# megvii's releases of the searched networks, trained from scratch

_SPOS_REPO = "megvii-model/SinglePathOneShot README"  # spos_a: src/Evaluation, block search
# spos_ac: block + channel search; its Results table reads 25.1 / 8.0 since commit 5015a3b (2019-08-20; 25.4, then
# 25.3 before), unchanged at the latest commit checked (aa91feb), as is the top-level README's OneShot row
_SERIES_REPO = "megvii-model/ShuffleNet-Series OneShot/README.md Results"
_SOURCE = "megvii_spos"


def _release(file_name: str, params: int, top1_err: float, top5_err: float, page: str, recipe: str,
             licence: str) -> tuple[Weights, ...]:
    return (Weights(
        tag="MEGVII", file_name=file_name, url=None, sha256=None, num_params=params,
        metrics={"top1": round(100 - top1_err, 2), "top5": round(100 - top5_err, 2)},
        preprocessing=MEGVII_PREPROCESSING,
        source=_SOURCE, paper=_PAPER, licence=licence, page=page, recipe=recipe, checkpoint_filter=filter_release,
    ),)


def _claims(source: str, macs: float, params: float, top1_err: float, top5_err: float) -> tuple[Claim, ...]:
    """The release's results table (its "FLOPs" are multiply-adds)."""
    return (
        Claim("macs", macs, "M", source),
        Claim("params", params, "M", source),
        Claim("top1_err", top1_err, "%", source),
        Claim("top5_err", top5_err, "%", source),
        Claim("top1", round(100 - top1_err, 1), "%", source),
    )


_SPOS_PAGE = ("https://github.com/megvii-model/SinglePathOneShot (models: "
              "https://1drv.ms/u/s!Am_mmG2-KsrnajesvSdfsq_cN48?e=aHVppN, folder {}/)")
_SPOS_LICENCE = "not stated in megvii-model/SinglePathOneShot"

# megvii's trained supernet (block search, 150,000 steps at batch 1024): no accuracy of its own, each path has one
_SUPERNET_RELEASE = Weights(
    tag="MEGVII", file_name="checkpoint-150000.pth.tar", url=None, sha256=None, num_params=8_388_176, metrics={},
    preprocessing=MEGVII_PREPROCESSING, source=_SOURCE, paper=_PAPER, licence=_SPOS_LICENCE,
    page=_SPOS_PAGE.format("Supernet"), checkpoint_filter=filter_release,
    recipe="https://github.com/megvii-model/SinglePathOneShot/tree/master/src/Supernet",
)


@register_model(
    family="spos", papers=(_PAPER,), params=8_388_176, macs=322_918_720, classifier="classifier",
    weights=(_SUPERNET_RELEASE,),
    description="SPOS supernet: 20 choice blocks (Shuffle 3/5/7, Xception), BN affine=False; forward(x, arch)",
)
def spos_supernet(*, default_arch: Arch | str = SPOS_A, **options: Any) -> SuperNet:
    """SPOS supernet (one path per forward; without ``arch`` it runs the paper's searched path)."""
    return SuperNet(default_arch=default_arch, **options)


@register_model(
    family="spos", aliases=("spos",), papers=(_PAPER,), claims=_claims(_SPOS_REPO, 323, 3.5, 25.6, 8.0),
    params=3_558_464, macs=322_918_720, classifier="classifier",
    weights=_release("SPOS.BlockSearch.pth.tar", 3_558_464, 25.6, 8.0,
                     _SPOS_PAGE.format("Evaluation"),
                     "https://github.com/megvii-model/SinglePathOneShot/tree/master/src/Evaluation", _SPOS_LICENCE),
    description="SPOS block search result 2,1,0,1,2,0,2,0,2,0,2,3,0,0,0,0,3,2,3,3 (standalone)",
)
def spos_a(
    *, arch: Arch | str | Any = SPOS_A, supernet: Any = None, calib: Iterable[Any] | None = None, **options: Any
) -> SPOSNet:
    """SPOS searched network; ``arch=`` any path, ``supernet=`` a checkpoint (or ``SuperNet``) to inherit from."""
    return _subnet(arch, supernet, calib, **options)


@register_model(
    family="spos", papers=(_PAPER,),
    # the release's table, and the paper's (ECCV 2020 version) figure for its block + channel search result
    claims=(*_claims(_SERIES_REPO, 328, 3.4, 25.1, 8.0), Claim("top1", 74.7, "%", "block + channel search", _PAPER)),
    params=3_432_579, macs=327_857_920, classifier="classifier",
    weights=_release("SPOS.BlockChannelSearch.pth.tar", 3_432_579, 25.1, 8.0,
                     MEGVII_SERIES_PAGE,
                     "https://github.com/megvii-model/ShuffleNet-Series/tree/master/OneShot",
                     "MIT (megvii-model/ShuffleNet-Series)"),
    description="SPOS block + channel search result (widths 0.2-1.6x as released, standalone)",
)
def spos_ac(
    *, arch: Arch | str | Any = SPOS_AC, supernet: Any = None, calib: Iterable[Any] | None = None, **options: Any
) -> SPOSNet:
    """SPOS block + channel searched network; same options as ``spos_a``."""
    return _subnet(arch, supernet, calib, **options)
