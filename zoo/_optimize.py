"""``zoo.optimize``: the one fast path for inference. On CPU in float32 the model is exported to ONNX and run by
ONNX Runtime and OpenVINO (whichever is faster per input shape); elsewhere BatchNorm is folded into the preceding
convolution and the model runs channels_last in eager PyTorch."""
from __future__ import annotations

import copy
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ._engines import ONNX_ENGINES, EngineModule, engine_missing
from ._registry import ZooError

__all__ = ["OPTIMIZE_ENGINES", "fold_bn", "optimize"]

#: What ``zoo.optimize(model, engine=...)`` accepts.
OPTIMIZE_ENGINES = ("auto", "torch", *ONNX_ENGINES)


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


def _torch_path(model: nn.Module, channels_last: bool | None) -> nn.Module:
    out = fold_bn(model)
    if channels_last is None:
        channels_last = any(isinstance(m, nn.Conv2d) for m in out.modules())
    if channels_last:
        out = out.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # missing from torch's stubs
    for p in out.parameters():
        p.requires_grad_(False)
    return out


def _cpu_float32(model: nn.Module) -> bool:
    tensors = [t for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()]
    return all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)


def _engine_path(model: nn.Module, engines: tuple[str, ...], input_size: tuple[int, ...],
                 threads: int | None) -> EngineModule:
    from ._export import export

    with tempfile.TemporaryDirectory(prefix="zoo-optimize-") as tmp:  # the engines read the file while loading
        path = export(model, Path(tmp) / "model.onnx", input_size=input_size, dynamic_batch=True)
        return EngineModule(path, engines, threads=threads)


def optimize(model: nn.Module, *, engine: str = "auto", threads: int | None = None,
             input_size: Sequence[int] = (1, 3, 224, 224), channels_last: bool | None = None) -> nn.Module:
    """The fastest inference version of ``model`` this machine has: a module taking and returning torch tensors.

    ``engine="auto"`` (the default) on a CPU float32 model exports it to ONNX (checked against eager to 1e-4
    relative) and returns an :class:`~zoo._engines.EngineModule` over ONNX Runtime and OpenVINO (those installed):
    the first call at each input shape times both and keeps the faster. On other devices or dtypes, or when no ONNX
    engine is installed or the export fails (with a warning), it returns the ``"torch"`` path: a copy with
    BatchNorm folded into the convolutions, channels_last, in eval mode, without gradients.

    The original model is not changed; its ``weights`` attribute is carried over. Optimise after moving a model to
    its device and dtype. An ONNX-engine module runs only CPU float32 inputs of the traced height and width (any
    batch size) and cannot be trained or moved; the torch path can go anywhere.

    Args:
        model: any module; zoo models export and trace.
        engine: ``"auto"``, ``"torch"``, ``"onnxruntime"`` or ``"openvino"`` (the last two: that engine only;
            raises if it is not installed or the export fails).
        threads: intra-op threads of the ONNX engines (default: ``torch.get_num_threads()``).
        input_size: the input shape (batch first) the model is exported at; height and width are fixed by it.
        channels_last: the torch path's memory format; ``None`` uses it when the model has 2-d convolutions.

    Raises:
        ZooError: an unknown engine; for an explicit ONNX engine, a missing package, a model on another device or
            dtype, or a failed export.
    """
    if engine not in OPTIMIZE_ENGINES:
        raise ZooError(f"unknown engine {engine!r}; choose from {', '.join(OPTIMIZE_ENGINES)}")
    weights = getattr(model, "weights", None)
    out: nn.Module | None = None
    if engine in ONNX_ENGINES:
        missing = engine_missing(engine)
        if missing:
            raise ZooError(missing)
        if not _cpu_float32(model):
            raise ZooError(f"{engine} runs CPU float32 models; move the model with .to('cpu', torch.float32) first")
        out = _engine_path(model, (engine,), tuple(input_size), threads)
    elif engine == "auto" and _cpu_float32(model):
        engines = tuple(e for e in ONNX_ENGINES if engine_missing(e) is None)
        if engines:
            try:
                out = _engine_path(model, engines, tuple(input_size), threads)
            except ZooError as e:
                warnings.warn(f"zoo.optimize: ONNX engines skipped, running in torch: {e}", UserWarning,
                              stacklevel=2)
    if out is None:
        out = _torch_path(model, channels_last)
    out.weights = weights  # type: ignore[assignment]
    return out
