"""Standalone subnets: one architecture, no choice machinery, weights inherited from a supernet."""
from __future__ import annotations

from typing import Any, Iterable, cast

import torch
from torch import nn

from .arch import Arch
from .blocks import ChoiceBlock, ConvBN, ShuffleBlock, XceptionBlock, make_block
from .supernet import Layout, SuperNet, init_weights

__all__ = ["SPOSNet", "extract_subnet", "recalibrate_bn"]


class SPOSNet(nn.Module):
    """A plain network for one SPOS architecture (affine BN, trains and exports like any zoo model).

    Args:
        arch: the architecture (``Arch``, its string form or a list of 20 choices).
        layout: channel layout; or pass its fields as keyword options. ``channel_search`` is implied by ``arch``.
    """

    def __init__(self, arch: Arch | str | Any, layout: Layout | None = None, **options: Any) -> None:
        super().__init__()
        self.arch = Arch.coerce(arch)
        self.layout = layout if layout is not None else Layout(**options)
        lay = self.layout
        self.stem = ConvBN(3, lay.stem_channels, 3, 2)
        self.blocks = nn.Sequential(*(
            make_block(choice, cin, cout, mid, stride)
            for choice, mid, (cin, cout, stride, _) in zip(self.arch.blocks, lay.mids(self.arch), lay.blocks())
        ))
        self.head = ConvBN(lay.stage_channels[-1], lay.last_channels, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(lay.dropout)
        self.classifier = nn.Linear(lay.last_channels, lay.num_classes, bias=False)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.head(self.blocks(self.stem(x)))).flatten(1)
        return self.classifier(self.dropout(x))

    def extra_repr(self) -> str:
        return f"arch={self.arch}"


@torch.no_grad()
def _copy_convbn(dst: ConvBN, src: ConvBN, mid: int | None) -> None:
    cin, cout = src.widths(mid)
    w = src.conv.weight[:cout] if src.depthwise else src.conv.weight[:cout, :cin]
    dst.conv.weight.copy_(w)
    for name in ("running_mean", "running_var", "num_batches_tracked"):  # BN buffers (track_running_stats on both)
        theirs = getattr(src.bn, name)
        getattr(dst.bn, name).copy_(theirs if name == "num_batches_tracked" else theirs[:cout])
    if dst.bn.affine:
        if src.bn.affine:
            dst.bn.weight.copy_(src.bn.weight[:cout])
            dst.bn.bias.copy_(src.bn.bias[:cout])
        else:  # the supernet's BN has no affine part: identity scale and shift
            dst.bn.weight.fill_(1.0)
            dst.bn.bias.zero_()


def extract_subnet(supernet: SuperNet, arch: Arch | str | Any) -> SPOSNet:
    """A standalone ``SPOSNet`` for ``arch`` with the supernet's weights and BN statistics (copied, not shared).

    In eval mode its output equals ``supernet(x, arch)``; recalibrate the supernet's BN for ``arch`` first
    (``recalibrate_bn``), or the subnet's afterwards on the same batches, since the supernet's running statistics
    are shared by every path.
    """
    arch = supernet.check(arch)
    device = next(supernet.parameters()).device
    sub = SPOSNet(arch, supernet.layout).to(device)
    _copy_convbn(sub.stem, supernet.stem, None)
    blocks = cast("Iterable[ChoiceBlock]", supernet.blocks)  # an nn.Sequential of ChoiceBlocks
    units = cast("Iterable[ShuffleBlock | XceptionBlock]", sub.blocks)  # what make_block built
    for dst, choice_block, choice, mid in zip(units, blocks, arch.blocks, supernet.layout.mids(arch)):
        src = cast("ShuffleBlock | XceptionBlock", choice_block.choices[choice])
        mid_or_none = None if mid == choice_block.max_mid else mid
        for d, s in zip(dst.ops(), src.ops()):
            _copy_convbn(d, s, mid_or_none)
    _copy_convbn(sub.head, supernet.head, None)
    with torch.no_grad():
        sub.classifier.weight.copy_(supernet.classifier.weight)
    sub.train(supernet.training)
    return sub


@torch.no_grad()
def recalibrate_bn(
    model: nn.Module, batches: Iterable[Any], *, arch: Arch | str | None = None, max_batches: int | None = None
) -> nn.Module:
    """Reset the BN statistics on the path and re-estimate them as exact averages over ``batches``.

    As in the paper's search: forward the batches in train mode (BN only; dropout stays off) without gradients.

    Args:
        model: a ``SuperNet`` (then ``arch`` picks the path; only its BN layers are reset) or any model.
        batches: an iterable of input tensors or ``(inputs, targets)`` pairs.
        arch: the path, for a supernet.
        max_batches: stop after this many batches.

    Returns:
        ``model``, in eval mode.
    """
    if isinstance(model, SuperNet):
        arch = model.check(arch if arch is not None else model.default_arch)
        mods: Iterable[nn.Module] = nn.ModuleList([m for _, m in model.path(arch)]).modules()
        forward = lambda x: model(x, arch)  # noqa: E731
    else:
        mods, forward = model.modules(), model
    bns = [m for m in mods if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    device = next(model.parameters()).device
    saved = [m.momentum for m in bns]
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: every batch weighs the same
        m.train()
    try:
        for i, batch in enumerate(batches):
            if max_batches is not None and i >= max_batches:
                break
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            forward(x.to(device, non_blocking=True))
    finally:
        for m, mom in zip(bns, saved):
            m.momentum = mom
        model.eval()
    return model
