"""Inference helpers: fold BatchNorm into the preceding convolution, channels_last memory format, eval mode."""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

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


def optimize(model: nn.Module, *, channels_last: bool | None = None) -> nn.Module:
    """An inference copy of ``model``: BN folded into conv, channels_last memory format, eval mode.

    The original model is not changed. Attributes the zoo sets (``weights``) are carried over.

    Args:
        model: any module; zoo models trace with ``torch.fx``.
        channels_last: force the memory format; ``None`` uses it when the model has 2-d convolutions (faster with
            oneDNN on CPU and with cuDNN on GPU, where NHWC kernels avoid layout reorders).
    """
    weights = getattr(model, "weights", None)
    out = fold_bn(model)
    if channels_last is None:
        channels_last = any(isinstance(m, nn.Conv2d) for m in out.modules())
    if channels_last:
        out = out.to(memory_format=torch.channels_last)
    out.weights = weights  # type: ignore[assignment]
    for p in out.parameters():
        p.requires_grad_(False)
    return out
