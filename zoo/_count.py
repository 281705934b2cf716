"""Parameters and multiply-accumulates, counted with ``torch.utils.flop_counter`` the way the papers count.

The papers' "FLOPs" are multiply-adds of convolutions and fully-connected layers; BN, ReLU, pooling and additions
are not counted. ``FlopCounterMode`` reports 2 FLOPs per multiply-add, so MACs = FLOPs / 2 over conv and matmul
ops only. Models named by string are built on the ``meta`` device: no memory, no arithmetic, same counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["Counts", "count"]

_aten = torch.ops.aten
# conv and linear layers only (the papers' convention); everything else FlopCounterMode knows is left out
_COUNTED = {
    _aten.convolution,
    _aten._convolution,
    _aten.mm,
    _aten.addmm,
    _aten.bmm,
    _aten.baddbmm,
}


@dataclass(frozen=True)
class Counts:
    """``params``: learnable parameters; ``macs``: conv + linear multiply-accumulates for one forward pass."""

    params: int
    macs: int

    def __str__(self) -> str:
        return f"{self.params / 1e6:.3f} M params, {self.macs / 1e6:.1f} M MACs"


def _macs(model: nn.Module, x: torch.Tensor) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    flops = 0
    for op, n in counter.get_flop_counts()["Global"].items():
        packet = getattr(op, "overloadpacket", op)
        if packet in _COUNTED:
            flops += int(n)
    return flops // 2


def count(model_or_name: nn.Module | str, input_size: tuple[int, ...] = (1, 3, 224, 224), **options: Any) -> Counts:
    """Count params and MACs of a model (a module, or a registered name built on the meta device).

    Args:
        model_or_name: an ``nn.Module`` or a model name/alias.
        input_size: the input shape of the counted forward pass.
        **options: builder options when a name is given (e.g. ``num_classes=10``).
    """
    if isinstance(model_or_name, str):
        from ._factory import build

        with torch.device("meta"):
            model = build(model_or_name, **options)
    else:
        model = model_or_name
    params = sum(p.numel() for p in model.parameters())
    try:
        p = next(model.parameters())
        device, dtype = p.device, p.dtype
    except StopIteration:
        device, dtype = torch.device("cpu"), torch.float32
    was_training = model.training
    model.eval()
    try:
        macs = _macs(model, torch.zeros(input_size, device=device, dtype=dtype))
    finally:
        model.train(was_training)
    return Counts(params=int(params), macs=int(macs))
