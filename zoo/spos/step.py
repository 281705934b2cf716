"""One supernet training step, and the options that make it faster without changing what it computes.

``TrainStep`` runs forward, loss, backward, the optimiser and (with channel search) the restore of untouched width
slices for one sampled path. The options, measured by ``bench/spos_speed.py``:

- ``channels_last`` (on by default in training): weights and activations in NHWC, where oneDNN's convolutions are
  faster on CPU (its NCHW depthwise backward is 3-5x slower for 5x5 / 7x7 kernels). PyTorch's NHWC BatchNorm
  accumulates its batch statistics in one pass in float (NCHW: double), which after a ReLU costs ~1e-4 relative in
  the outputs; in training on CPU the blocks therefore take a two-pass BatchNorm (``blocks._PreciseNHWCBatchNorm``)
  and land as close to float64 arithmetic as the NCHW step does.
- ``fused_sgd``: one fused kernel for the whole SGD update. Momentum buffers are created (zeros) for every parameter
  up front, which changes nothing: with dampening 0 the first update ``0.9 * 0 + g`` equals the buffer PyTorch would
  start from (``g``), and parameters off the path (gradient ``None``) are skipped either way.
- ``amp``: opt-in autocast, ``"bf16"`` (CPUs with AVX512-BF16 / AMX, and GPUs) or ``"fp16"`` (GPUs, with a gradient
  scaler; it also runs on CPU, slowly, which keeps it testable). Not numerically equivalent: its accuracy effect is
  reported by ``bench/spos_digits.py --amp bf16``.

Path selection costs no per-step Python beyond the sampler: the widths of a path come from a cache, and with channel
search only the unused slices of the touched weights (not whole tensors) are saved and put back.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, cast

import torch
from torch import nn

from .._registry import InvalidOption
from .arch import Arch
from .blocks import ChoiceBlock, ShuffleBlock, XceptionBlock
from .supernet import SuperNet

__all__ = ["AMP_DTYPES", "KeepUntouched", "TrainStep", "make_sgd"]

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on conv / linear weights; none on BN parameters and biases (as released)."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, p in model.named_parameters():
        (decay if p.ndim > 1 and name.endswith("weight") else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_sgd(model: nn.Module, *, lr: float, momentum: float, weight_decay: float,
             fused: bool = False) -> torch.optim.SGD:
    """The release's SGD (weight decay on conv / linear weights only); ``fused`` as described in the module doc."""
    opt = torch.optim.SGD(param_groups(model, weight_decay), lr=lr, momentum=momentum, fused=fused or None)
    if fused and momentum:
        for group in opt.param_groups:
            for p in group["params"]:
                opt.state[p]["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
    return opt


class KeepUntouched:
    """With channel search a used weight is only partly on the path; put back its unused slice (and momentum)
    after the optimiser step, so weight decay and momentum never move weights the path did not use.

    Only the unused regions are saved: ``w[cout:]`` and ``w[:cout, cin:]`` (depthwise: ``w[cout:]``).
    """

    def __init__(self, net: SuperNet, arch: Arch, opt: torch.optim.Optimizer) -> None:
        self.items: list[tuple[torch.Tensor, list[tuple[slice, ...]], list[torch.Tensor], list[torch.Tensor] | None]]
        self.items = []
        blocks = cast("Iterable[ChoiceBlock]", net.blocks)  # an nn.Sequential of ChoiceBlocks
        for choice_block, choice, mid in zip(blocks, arch.blocks, net.layout.mids(arch)):
            if mid == choice_block.max_mid:
                continue
            for op in cast("ShuffleBlock | XceptionBlock", choice_block.choices[choice]).ops():
                cin, cout = op.widths(mid)
                if (cin, cout) == (op.cin, op.cout):
                    continue
                w = op.conv.weight
                regions: list[tuple[slice, ...]] = [(slice(cout, None),)]
                if not op.depthwise:
                    regions.append((slice(0, cout), slice(cin, None)))
                regions = [r for r in regions if w[r].numel()]
                buf = opt.state.get(w, {}).get("momentum_buffer")
                with torch.no_grad():
                    saved = [w[r].clone() for r in regions]
                    saved_buf = None if buf is None else [buf[r].clone() for r in regions]
                self.items.append((w, regions, saved, saved_buf))

    @torch.no_grad()
    def restore(self, opt: torch.optim.Optimizer) -> None:
        for w, regions, saved, saved_buf in self.items:
            buf = opt.state.get(w, {}).get("momentum_buffer")
            for k, r in enumerate(regions):
                w[r] = saved[k]
                if buf is not None:  # no buffer before this step: none outside the used slice either
                    buf[r] = saved_buf[k] if saved_buf is not None else 0.0


class TrainStep:
    """``step(x, y, arch) -> loss`` (detached): one optimisation step of ``net`` along ``arch``.

    Args:
        model: what runs the forward pass (``net`` itself, or its DDP wrapper).
        net: the supernet (its layout decides whether width slices must be restored).
        opt: the optimiser (``make_sgd``).
        criterion: the loss.
        channels_last: inputs are converted to NHWC (put the net in NHWC too: ``net.to(memory_format=...)``).
        amp: ``None``, ``"bf16"`` or ``"fp16"`` (autocast for the forward pass and the loss).
    """

    def __init__(self, model: nn.Module, net: SuperNet, opt: torch.optim.Optimizer, criterion: nn.Module, *,
                 channels_last: bool = False, amp: str | None = None) -> None:
        if amp is not None and amp not in AMP_DTYPES:
            raise InvalidOption(f"amp must be None, 'bf16' or 'fp16', got {amp!r}")
        self.model, self.net, self.opt, self.criterion = model, net, opt, criterion
        self.channels_last, self.amp = channels_last, amp
        device = next(net.parameters()).device
        self.device_type = device.type
        # fp16 needs its gradients scaled (bf16 has fp32's range and does not)
        self.scaler = torch.amp.GradScaler(self.device_type) if amp == "fp16" else None

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=AMP_DTYPES[self.amp])

    def __call__(self, x: torch.Tensor, y: torch.Tensor, arch: Arch) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with self.autocast():
            loss = self.criterion(self.model(x, arch), y)
        self.opt.zero_grad(set_to_none=True)  # paths not taken keep grad None: SGD leaves them untouched
        keep = KeepUntouched(self.net, arch, self.opt) if self.net.layout.channel_search else None
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            loss.backward()
            self.opt.step()
        if keep is not None:
            keep.restore(self.opt)
        return loss.detach()
