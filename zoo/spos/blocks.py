"""SPOS building blocks: ShuffleNet V2 units with a k x k depthwise conv, and the Xception-like unit.

Every conv is a ``ConvBN`` (conv, BN, optional ReLU). In the supernet the middle width of a block is the widest
channel choice and a forward pass may use only its first ``mid`` channels (channel search, weights shared by
slicing, as in the paper); a standalone subnet builds each block at exactly its width and never slices. The same
classes serve both, so extracting a subnet is a matter of copying tensor slices.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import InvalidOption

__all__ = ["ConvBN", "ShuffleBlock", "XceptionBlock", "ChoiceBlock", "make_block", "channel_split"]


def channel_split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Even and odd channels: the release's channel shuffle folded into the split of the next unit."""
    return x[:, 0::2], x[:, 1::2]


class ConvBN(nn.Module):
    """Conv (dense 1x1 / kxk or depthwise kxk, no bias) + BatchNorm + optional ReLU, sliceable in width.

    Args:
        cin, cout: full input / output channels (depthwise: ``cin == cout``).
        kernel, stride: conv geometry; padding is ``kernel // 2``.
        depthwise: one filter per channel.
        relu: apply ReLU after BN.
        affine: BN affine parameters (``False`` in the supernet, as released).
        slice_in, slice_out: whether the input / output width follows the block's ``mid`` choice.
    """

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 1,
        stride: int = 1,
        *,
        depthwise: bool = False,
        relu: bool = True,
        affine: bool = True,
        slice_in: bool = False,
        slice_out: bool = False,
    ) -> None:
        super().__init__()
        self.cin, self.cout, self.kernel, self.stride = cin, cout, kernel, stride
        self.depthwise, self.relu = depthwise, relu
        self.slice_in, self.slice_out = slice_in or (depthwise and slice_out), slice_out or (depthwise and slice_in)
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=cin if depthwise else 1, bias=False)
        self.bn = nn.BatchNorm2d(cout, affine=affine)

    def widths(self, mid: int | None) -> tuple[int, int]:
        """(input, output) channels used when the block's middle width is ``mid`` (``None``: full)."""
        cin = mid if (mid is not None and self.slice_in) else self.cin
        cout = mid if (mid is not None and self.slice_out) else self.cout
        return cin, cout

    def macs(self, mid: int | None, hw_in: tuple[int, int]) -> tuple[int, tuple[int, int]]:
        """Multiply-accumulates for one image at input size ``hw_in``, and the output size."""
        cin, cout = self.widths(mid)
        h, w = ((s + 2 * (self.kernel // 2) - self.kernel) // self.stride + 1 for s in hw_in)
        per_out = (1 if self.depthwise else cin) * self.kernel * self.kernel
        return cout * per_out * h * w, (h, w)

    def forward(self, x: torch.Tensor, mid: int | None = None) -> torch.Tensor:
        cin, cout = self.widths(mid)
        if cin == self.cin and cout == self.cout:
            x = self.conv(x)
        else:
            weight = self.conv.weight[:cout] if self.depthwise else self.conv.weight[:cout, :cin]
            x = F.conv2d(x, weight, None, self.stride, self.kernel // 2, 1, cout if self.depthwise else 1)
        # NHWC training on CPU takes the two-pass statistics of _PreciseNHWCBatchNorm
        x = self.bn(x) if cout == self.cout and not _nhwc_training(self.bn, x) else _sliced_bn(self.bn, x, cout)
        return F.relu(x, inplace=True) if self.relu else x


def _nhwc_training(bn: nn.BatchNorm2d, x: torch.Tensor) -> bool:
    return bn.training and x.device.type == "cpu" and x.dim() == 4 and not x.is_contiguous() and \
        x.is_contiguous(memory_format=torch.channels_last)


def _sliced_bn(bn: nn.BatchNorm2d, x: torch.Tensor, c: int) -> torch.Tensor:
    """BatchNorm over the first ``c`` channels; running statistics of the other channels stay untouched."""
    training = bn.training or bn.running_mean is None
    factor = 0.0
    if bn.training and bn.track_running_stats:
        tracked = bn.num_batches_tracked
        assert tracked is not None  # track_running_stats keeps the counter
        tracked.add_(1)
        factor = 1.0 / float(tracked) if bn.momentum is None else bn.momentum
    weight = bn.weight[:c] if bn.weight is not None else None
    bias = bn.bias[:c] if bn.bias is not None else None
    # slices of the 1-D buffers are contiguous views: batch_norm updates them in place
    rm = bn.running_mean[:c] if bn.running_mean is not None else None
    rv = bn.running_var[:c] if bn.running_var is not None else None
    if training and _nhwc_training(bn, x):
        return _nhwc_batch_norm(x, rm, rv, weight, bias, factor, bn.eps)
    return F.batch_norm(x, rm, rv, weight, bias, training, factor, bn.eps)


class _PreciseNHWCBatchNorm(torch.autograd.Function):
    """Training-mode BatchNorm of an NHWC tensor on CPU with two-pass batch statistics.

    PyTorch's NHWC kernel accumulates the statistics in one pass in float (its NCHW kernel, in double); after a ReLU,
    where a channel's mean is large against its spread, that costs ~1e-4 relative in the output and more in the
    gradients. Here: the mean (a cascade sum), then the variance of the centred values, then the inference kernel with
    these statistics; backward is PyTorch's own, given the same statistics.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None,
                eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean = x.mean((0, 2, 3))
        var = torch.sub(x, mean.view(1, -1, 1, 1)).square_().mean((0, 2, 3))
        invstd = torch.rsqrt(var + eps)
        ctx.eps = eps
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.mark_non_differentiable(mean, var)
        return F.batch_norm(x, mean, var, weight, bias, False, 0.0, eps), mean, var

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor, *_: Any) -> tuple[Any, ...]:
        x, weight, mean, invstd = ctx.saved_tensors
        mask = [ctx.needs_input_grad[0], weight is not None and ctx.needs_input_grad[1],
                ctx.needs_input_grad[2]]
        gx, gw, gb = torch.ops.aten.native_batch_norm_backward(
            gy.contiguous(memory_format=torch.channels_last), x, weight, None, None, mean, invstd, True, ctx.eps, mask)
        return gx, gw, gb, None


def _nhwc_batch_norm(x: torch.Tensor, rm: torch.Tensor | None, rv: torch.Tensor | None, weight: torch.Tensor | None,
                     bias: torch.Tensor | None, factor: float, eps: float) -> torch.Tensor:
    y, mean, var = _PreciseNHWCBatchNorm.apply(x, weight, bias, eps)
    if rm is not None and rv is not None:
        n = x.numel() // x.shape[1]
        with torch.no_grad():  # as PyTorch updates them: the unbiased variance enters the running estimate
            rm.mul_(1 - factor).add_(mean, alpha=factor)
            rv.mul_(1 - factor).add_(var, alpha=factor * n / max(1, n - 1))
    return y


class _Unit(nn.Module):
    """A ShuffleNet V2-style unit: stride 1 splits the input in halves, stride 2 adds a projection branch."""

    main: nn.ModuleList
    proj: nn.ModuleList | None

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise InvalidOption(f"stride must be 1 or 2, got {stride}")
        self.cin, self.cout, self.stride = cin, cout, stride
        self.branch_in = cin // 2 if stride == 1 else cin
        self.branch_out = cout - self.branch_in

    def forward(self, x: torch.Tensor, mid: int | None = None) -> torch.Tensor:
        if self.stride == 1:
            keep, x = channel_split(x)
        else:
            keep = x
            for op in self.proj or ():
                keep = op(keep)
        for op in self.main:
            x = op(x, mid)
        return torch.cat((keep, x), 1)

    def ops(self) -> list[ConvBN]:
        return [*(self.proj or ()), *self.main]

    def macs(self, mid: int | None, hw: tuple[int, int]) -> tuple[int, tuple[int, int]]:
        """Multiply-accumulates for one image at input size ``hw`` (with middle width ``mid``), output size."""
        total, out_hw = 0, hw
        for branch in (self.proj or (), self.main):
            size = hw
            for op in cast("Iterable[ConvBN]", branch):
                m, size = op.macs(mid, size)
                total += m
            out_hw = size
        return total, out_hw


class ShuffleBlock(_Unit):
    """Choices 0-2: pw -> dw k x k -> pw on half the channels; the stride-2 projection uses a k x k dw too."""

    def __init__(self, cin: int, cout: int, mid: int, kernel: int, stride: int, *, affine: bool = True) -> None:
        super().__init__(cin, cout, stride)
        self.kernel, self.mid = kernel, mid
        b_in, b_out = self.branch_in, self.branch_out
        self.main = nn.ModuleList([
            ConvBN(b_in, mid, 1, affine=affine, slice_out=True),
            ConvBN(mid, mid, kernel, stride, depthwise=True, relu=False, affine=affine, slice_in=True),
            ConvBN(mid, b_out, 1, affine=affine, slice_in=True),
        ])
        self.proj = None
        if stride == 2:
            self.proj = nn.ModuleList([
                ConvBN(cin, cin, kernel, stride, depthwise=True, relu=False, affine=affine),
                ConvBN(cin, cin, 1, affine=affine),
            ])


class XceptionBlock(_Unit):
    """Choice 3: (dw3x3 -> pw) x 3 on half the channels; the stride-2 projection uses a 3x3 dw."""

    def __init__(self, cin: int, cout: int, mid: int, stride: int, *, affine: bool = True) -> None:
        super().__init__(cin, cout, stride)
        self.kernel, self.mid = 3, mid
        b_in, b_out = self.branch_in, self.branch_out
        self.main = nn.ModuleList([
            ConvBN(b_in, b_in, 3, stride, depthwise=True, relu=False, affine=affine),
            ConvBN(b_in, mid, 1, affine=affine, slice_out=True),
            ConvBN(mid, mid, 3, depthwise=True, relu=False, affine=affine, slice_in=True),
            ConvBN(mid, mid, 1, affine=affine, slice_in=True, slice_out=True),
            ConvBN(mid, mid, 3, depthwise=True, relu=False, affine=affine, slice_in=True),
            ConvBN(mid, b_out, 1, affine=affine, slice_in=True),
        ])
        self.proj = None
        if stride == 2:
            self.proj = nn.ModuleList([
                ConvBN(cin, cin, 3, stride, depthwise=True, relu=False, affine=affine),
                ConvBN(cin, cin, 1, affine=affine),
            ])


def make_block(choice: int, cin: int, cout: int, mid: int, stride: int, *, affine: bool = True) -> _Unit:
    """The block for a choice: 0/1/2 -> ``ShuffleBlock`` with 3/5/7 kernels, 3 -> ``XceptionBlock``."""
    if choice == 3:
        return XceptionBlock(cin, cout, mid, stride, affine=affine)
    return ShuffleBlock(cin, cout, mid, (3, 5, 7)[choice], stride, affine=affine)


class ChoiceBlock(nn.Module):
    """One supernet position: the four candidate blocks at the widest middle width; runs one per call."""

    def __init__(self, cin: int, cout: int, max_mid: int, stride: int) -> None:
        super().__init__()
        self.cin, self.cout, self.stride, self.max_mid = cin, cout, stride, max_mid
        self.choices = nn.ModuleList([make_block(c, cin, cout, max_mid, stride, affine=False) for c in range(4)])

    def forward(self, x: torch.Tensor, choice: int, mid: int | None = None) -> torch.Tensor:
        return self.choices[choice](x, None if mid == self.max_mid else mid)
