"""Inference helpers: fold BatchNorm into the preceding convolution, channels_last memory format, oneDNN fusion on
CPU, eval mode."""
from __future__ import annotations

import copy
import warnings

import torch
from torch import fx, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ._onednn import fuse_onednn, onednn_available

__all__ = ["fold_bn", "optimize"]


def _fold_fx(model: nn.Module) -> nn.Module:
    """Fold conv->BN pairs found in the traced graph (only where the conv feeds nothing but the BN)."""
    with warnings.catch_warnings():  # the module imports deprecated torch.jit helpers; not our concern
        warnings.simplefilter("ignore", DeprecationWarning)
        from torch.fx.experimental.optimization import fuse

        return fuse(model, inplace=False)


def _fold_sequential(model: nn.Module) -> nn.Module:
    """Fallback for untraceable models: fold conv->BN pairs that sit next to each other in an ``nn.Sequential``,
    where order is data flow by definition."""
    model = copy.deepcopy(model)
    for seq in model.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        keys = list(seq._modules)
        for a, b in zip(keys, keys[1:]):
            conv, bn = seq._modules[a], seq._modules[b]
            if (isinstance(conv, nn.Conv2d) and type(bn) is nn.BatchNorm2d and bn.track_running_stats
                    and bn.num_features == conv.out_channels):
                seq._modules[a] = fuse_conv_bn_eval(conv, bn)
                seq._modules[b] = nn.Identity()
    return model


def fold_bn(model: nn.Module) -> nn.Module:
    """A copy of ``model`` (in eval mode) with every foldable BatchNorm merged into its convolution."""
    model = copy.deepcopy(model).eval()
    try:
        folded = _fold_fx(model)
    except Exception as e:  # symbolic tracing fails on data-dependent control flow (e.g. a supernet's sampling)
        warnings.warn(f"{type(model).__name__} is not traceable ({type(e).__name__}); folding BN inside "
                      "nn.Sequential only", UserWarning, stacklevel=3)
        folded = _fold_sequential(model)
    return folded.eval()


def _probe_onednn(model: nn.Module, input_size: tuple[int, ...], required: bool) -> nn.Module:
    """``model`` with its convolutions fused for oneDNN, if that works and gives the same outputs; else ``model``."""
    def skip(why: str) -> nn.Module:
        if required:
            warnings.warn(f"zoo.optimize: oneDNN fusion skipped: {why}", UserWarning, stacklevel=4)
        return model

    if not onednn_available():
        return skip("this torch build has no oneDNN")
    if not isinstance(model, fx.GraphModule):
        return skip(f"{type(model).__name__} is not traceable")
    if any(p.device.type != "cpu" or p.dtype != torch.float32 for p in model.parameters()):
        return skip("only CPU float32 models are fused")
    fused = copy.deepcopy(model)
    example = torch.randn(input_size, generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            if fuse_onednn(fused, example) == 0:
                return skip("no fusable convolution")
            ref, got = model(example), fused(example)
    except Exception as e:  # a model that needs another input shape, or an op oneDNN rejects
        return skip(f"probe at {tuple(input_size)} failed ({type(e).__name__}: {e})".splitlines()[0])
    if not (isinstance(ref, torch.Tensor) and isinstance(got, torch.Tensor) and got.shape == ref.shape):
        return skip("the probe's output is not a single tensor")
    err, scale = (got - ref).abs().max().item(), max(1.0, ref.abs().max().item())
    if err > 1e-4 * scale:
        return skip(f"fused outputs differ by {err:.1e}")
    return fused


def optimize(model: nn.Module, *, channels_last: bool | None = None, onednn: bool | None = None,
             input_size: tuple[int, ...] = (1, 3, 224, 224)) -> nn.Module:
    """An inference copy of ``model``: BN folded into conv, channels_last memory format, eval mode, and on CPU
    convolutions fused with their ReLU / residual add over weights prepacked for oneDNN.

    The original model is not changed. Attributes the zoo sets (``weights``) are carried over. The copy gives the
    same outputs (to ~1e-6 relative) for any input size, batch size, device or dtype it is later moved to; it is
    fastest for the ``input_size`` it was optimised for and on the device it was on. Optimise after moving a model
    to its device and dtype.

    Args:
        model: any module; zoo models trace with ``torch.fx``.
        channels_last: force the memory format; ``None`` uses it when the model has 2-d convolutions (faster with
            oneDNN on CPU and with cuDNN on GPU, where NHWC kernels avoid layout reorders).
        onednn: fuse convolutions for oneDNN; ``None`` does it for traceable CPU float32 models after checking on
            one random input of ``input_size`` that the fused model runs and agrees with the folded one (it falls
            back silently otherwise); ``True`` also warns when it cannot; ``False`` never fuses.
        input_size: the input shape (batch first) the prepacked weights are laid out for and the check runs at.
    """
    weights = getattr(model, "weights", None)
    out = fold_bn(model)
    if channels_last is None:
        channels_last = any(isinstance(m, nn.Conv2d) for m in out.modules())
    if channels_last:
        out = out.to(memory_format=torch.channels_last)
    if onednn is not False:
        out = _probe_onednn(out, tuple(input_size), required=onednn is True)
    out.weights = weights  # type: ignore[assignment]
    for p in out.parameters():
        p.requires_grad_(False)
    return out
