"""``zoo.export``: a zoo model as an ONNX file, checked against the eager model before it is written.

    zoo.export("shufflenet_v2", "shufflenet_v2.onnx", weights="DEFAULT")

The graph is traced with ``torch.onnx.export``'s TorchScript exporter (``dynamo=False``). For these convolutional
networks it writes the same operators as the ``torch.export``-based exporter, ten times faster (about a second per
model here instead of ten), which is what keeps exporting every registered model in the test suite affordable.
The input is named ``input`` (batch dimension ``batch`` when dynamic), the output ``logits``.
"""
from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from ._atomic import atomic_path
from ._engines import engine_missing
from ._registry import ZooError

__all__ = ["ExportError", "check_onnx", "export"]

OPSET = 17


class ExportError(ZooError):
    """The model could not be exported, or the exported file does not compute what the model computes."""


def _outputs(y: Any) -> list[torch.Tensor]:
    if isinstance(y, torch.Tensor):
        return [y]
    if isinstance(y, (tuple, list)) and all(isinstance(t, torch.Tensor) for t in y):
        return list(y)
    raise ExportError(f"the model returns {type(y).__name__}; export needs a tensor or a tuple of tensors")


def _inference_copy(model: nn.Module) -> nn.Module:
    """``model`` itself when it is already a CPU float32 module in eval mode, else such a copy (never changed)."""
    on_cpu32 = all(t.device.type == "cpu" and t.dtype == torch.float32
                   for t in [*model.parameters(), *model.buffers()] if t.is_floating_point())
    if on_cpu32 and not model.training:
        return model
    return copy.deepcopy(model).to(device="cpu", dtype=torch.float32).eval()


def check_onnx(model: nn.Module, path: str | Path, x: torch.Tensor, *, rtol: float = 1e-4,
               label: str = "model") -> float:
    """Run the ONNX file at ``path`` with ONNX Runtime on ``x`` and compare every output with ``model(x)``.

    The relative difference of an output is ``max|onnx - eager| / max|eager|``.

    Returns:
        The largest relative difference over the outputs.

    Raises:
        ExportError: an output's shape differs or its relative difference exceeds ``rtol`` (the first such output is
            named); ZooError: onnxruntime is not installed.
    """
    missing = engine_missing("onnxruntime")
    if missing:
        raise ZooError(f"cannot check the export: {missing}")
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    with torch.inference_mode():
        ref = _outputs(model(x))
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    names = [o.name for o in session.get_outputs()]
    worst = 0.0
    for name, r, g in zip(names, ref, got):
        g = torch.from_numpy(g)
        if tuple(g.shape) != tuple(r.shape):
            raise ExportError(f"{label}: ONNX output {name!r} has shape {tuple(g.shape)}, eager {tuple(r.shape)} "
                              f"(input {tuple(x.shape)})")
        scale = r.abs().max().item() or 1.0
        rel = (g - r).abs().max().item() / scale
        if not rel <= rtol:  # also catches NaN
            raise ExportError(f"{label}: ONNX output {name!r} differs from eager by {rel:.1e} relative "
                              f"(limit {rtol:.0e}) at input {tuple(x.shape)}")
        worst = max(worst, rel)
    if len(got) != len(ref):
        raise ExportError(f"{label}: the ONNX file has {len(got)} outputs, the model {len(ref)}")
    return worst


def export(model_or_name: nn.Module | str, path: str | os.PathLike[str], *,
           input_size: Sequence[int] = (1, 3, 224, 224), dynamic_batch: bool = True, weights: Any = None,
           rtol: float = 1e-4, check: bool = True) -> Path:
    """Write a model as an ONNX file, validated against eager on a random input.

    Args:
        model_or_name: an ``nn.Module`` or a registered model name / alias.
        path: where to write the ``.onnx`` file (written atomically: nothing is left behind on failure).
        input_size: the traced input shape, batch first; height and width are fixed in the file.
        dynamic_batch: leave the batch dimension free (the check then runs at batch ``input_size[0] + 1``).
        weights: for a name, the weights (tag, ``"DEFAULT"`` or a checkpoint path; ``None``: random init).
        rtol: the largest relative difference (``max|onnx - eager| / max|eager|``) allowed per output.
        check: run the file with ONNX Runtime and compare with eager before keeping it.

    Returns:
        The path written.

    Raises:
        ExportError: tracing failed, or an output differs from eager (one line naming the first such output);
        UnknownModelError / WeightsError: for a name.
    """
    from ._factory import load

    if isinstance(model_or_name, str):
        label = model_or_name
        model = load(model_or_name, weights=weights, progress=False).eval()
    else:
        label = type(model_or_name).__name__
        model = _inference_copy(model_or_name)
    shape = tuple(int(v) for v in input_size)
    if len(shape) < 2 or any(v < 1 for v in shape):
        raise ExportError(f"input_size must be a positive shape with the batch first, not {tuple(input_size)!r}")
    target = Path(path)
    gen = torch.Generator().manual_seed(0)
    with atomic_path(target) as tmp:  # the file replaces target only once traced and checked
        _trace(model, torch.randn(shape, generator=gen), tmp, dynamic_batch, label)
        if check:
            batch = shape[0] + 1 if dynamic_batch else shape[0]
            check_onnx(model, tmp, torch.randn((batch, *shape[1:]), generator=gen), rtol=rtol, label=label)
    return target


def _trace(model: nn.Module, example: torch.Tensor, path: Path, dynamic_batch: bool, label: str) -> None:
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}} if dynamic_batch else None
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # the TorchScript exporter is deprecated in favour of dynamo=True (see the module docstring for why not)
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (example,), str(path), dynamo=False, input_names=["input"],
                              output_names=["logits"], dynamic_axes=axes, opset_version=OPSET,
                              do_constant_folding=True)
    except Exception as e:  # tracing errors come from anywhere in the model's code
        text = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise ExportError(f"{label}: ONNX export failed ({type(e).__name__}: {text})") from None
