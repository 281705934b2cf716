"""Export a sentence-transformers model to the ONNX encoder of `_onnx` (torch, onnx and sentence-transformers load
here, once per model; the query path never imports this module).

The whole sentence-transformers pipeline after tokenisation (transformer, pooling, normalisation) is traced into one
graph with `torch.onnx.export`; BERT-style graphs are then fused by ONNX Runtime's transformer optimiser (attention,
GELU, LayerNorm). The result is accepted only if it reproduces sentence-transformers' own vectors on probe texts
(short, long enough to be truncated, padded in a batch): a model whose export differs is refused, and the caller
falls back to sentence-transformers.
"""
from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from . import _onnx

#: Lowest cosine similarity to sentence-transformers' vectors accepted on the probe texts (fp32 export: ~0.9999996).
MIN_COSINE = 0.9999
OPSET = 17
#: Model types ONNX Runtime's "bert" optimiser fuses (attention, embedding LayerNorm, GELU, skip LayerNorm).
_FUSABLE = {"bert", "roberta", "xlm-roberta", "distilbert", "camembert", "electra"}
PROBES = [
    "channel shuffle",
    "  Deep Residual Learning for Image Recognition  ",
    "We introduce an extremely computation-efficient CNN architecture named ShuffleNet, designed for mobile devices "
    "with very limited computing power. " * 20,  # longer than any max_seq_length: tests truncation
    "逐点群卷积和通道混洗 — Kanalmischung, mélange de canaux.",
]


class ExportError(Exception):
    """The model cannot be exported faithfully (the message is one line). ``transient``: the failure says nothing
    about the model (out of memory, a full disk): it must not be recorded as the model's verdict."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is the machine's (memory, disk, interruption), not the model's."""
    text = str(exc).lower()
    return isinstance(exc, (MemoryError, OSError)) or any(
        w in text for w in ("out of memory", "cannot allocate", "can't allocate", "not enough memory",
                            "no space left"))


def _load(path: str, device: str = "cpu") -> Any:
    from sentence_transformers import SentenceTransformer

    from ._hf import _quiet_weight_loading

    with _quiet_weight_loading():
        try:  # eager attention traces into the pattern ONNX Runtime fuses; SDPA would stay unfused
            return SentenceTransformer(path, device=device, model_kwargs={"attn_implementation": "eager"})
        except (TypeError, ValueError):
            return SentenceTransformer(path, device=device)


def _settings(model: Any) -> dict[str, Any]:
    first = model[0]
    tokenizer = getattr(first, "tokenizer", None)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if tokenizer is None or backend is None:
        raise ExportError("its tokenizer has no fast (tokenizers) version")
    names = list(getattr(tokenizer, "model_input_names", ["input_ids", "attention_mask"]))
    inputs = ["input_ids", "attention_mask"] + (["token_type_ids"] if "token_type_ids" in names else [])
    config = getattr(getattr(first, "auto_model", None), "config", None)
    return {
        "inputs": inputs,
        "max_seq_length": int(model.get_max_seq_length() or tokenizer.model_max_length),
        "do_lower_case": bool(getattr(first, "do_lower_case", False)),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "model_type": getattr(config, "model_type", None),
        "num_heads": int(getattr(config, "num_attention_heads", 0) or 0),
        "hidden_size": int(getattr(config, "hidden_size", 0) or 0),
    }


def _trace(model: Any, settings: dict[str, Any], path: Path) -> None:
    import torch

    inputs = settings["inputs"]

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(inputs, tensors)))["sentence_embedding"]

    prepare = getattr(model, "preprocess", None) or model.tokenize
    sample = prepare(["a short probe", "a slightly longer probe sentence for tracing"])
    args = tuple(sample[name] if name in sample else torch.zeros_like(sample["input_ids"]) for name in inputs)
    axes = {name: {0: "batch", 1: "tokens"} for name in inputs}
    with torch.no_grad():
        torch.onnx.export(Pipeline().eval(), args, str(path), input_names=inputs, output_names=["embedding"],
                          dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=OPSET, dynamo=False)


def _fuse(settings: dict[str, Any], src: Path, dst: Path) -> bool:
    """ONNX Runtime's transformer fusions for BERT-style models; False when they do not apply."""
    if settings.get("model_type") not in _FUSABLE:
        return False
    from onnxruntime.transformers import optimizer

    optimized = optimizer.optimize_model(str(src), model_type="bert", num_heads=settings["num_heads"],
                                         hidden_size=settings["hidden_size"])
    optimized.save_model_to_file(str(dst))
    return True


def _agreement(folder: Path, meta: dict[str, Any], model: Any) -> float:
    """Lowest cosine similarity between the ONNX encoder's and sentence-transformers' vectors on the probes."""
    onnx = _onnx.OnnxEncoder(folder, meta).encode(PROBES, batch_size=len(PROBES))
    ref = np.asarray(model.encode(PROBES, batch_size=len(PROBES), normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)
    if onnx.shape != ref.shape:
        return -1.0
    ref /= np.maximum(np.linalg.norm(ref, axis=1, keepdims=True), 1e-12)
    return float((onnx * ref).sum(axis=1).min())


def export(name: str, source: Path, folder: Path, *, model_path: str) -> dict[str, Any]:
    """Export model `name` (files at `source`, loaded from `model_path`) into `folder`; returns the meta written.

    Raises ExportError (one line) when the model cannot be exported or its export does not reproduce its vectors.
    Files are written to a temporary folder and renamed into place, meta.json last (the commit point).
    """
    with warnings.catch_warnings():  # tracing warns about every Python branch on shapes: none matter here
        warnings.simplefilter("ignore")
        return _export(name, source, folder, model_path)


def _export(name: str, source: Path, folder: Path, model_path: str) -> dict[str, Any]:
    try:
        model = _load(model_path)
    except Exception as exc:  # noqa: BLE001 - reported as one line; the caller falls back
        raise ExportError(f"cannot load it ({str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r})",
                          transient=is_transient(exc)) from None
    settings = _settings(model)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        model[0].tokenizer.backend_tokenizer.save(str(work / _onnx.TOKENIZER_FILE))
        plain = work / "plain.onnx"
        try:
            _trace(model, settings, plain)
        except Exception as exc:  # noqa: BLE001 - torch.onnx raises many kinds
            raise ExportError(f"torch.onnx.export failed ({str(exc).strip().splitlines()[0][:160]})",
                              transient=is_transient(exc)) from None
        meta: dict[str, Any] = {"model": name, "source": str(source), **settings}
        candidates = []
        try:
            if _fuse(settings, plain, work / "fused.onnx"):
                candidates.append(("fused", work / "fused.onnx"))
        except Exception:  # noqa: BLE001 - the optimiser is best effort: the plain graph still works
            pass
        candidates.append(("plain", plain))
        best = None
        for kind, path in candidates:  # the fused graph if it is faithful, else the plain one
            shutil.copyfile(path, work / _onnx.MODEL_FILE)
            probe = {**meta, "dim": int(model.get_sentence_embedding_dimension())}
            cosine = _agreement(work, probe, model)
            if cosine >= MIN_COSINE:
                best = (kind, cosine)
                break
        if best is None:
            raise ExportError(f"its ONNX export does not reproduce its vectors (cosine {cosine:.4f})")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _onnx.META_FILE).unlink(missing_ok=True)  # no moment where an old meta describes new files
        (work / _onnx.MODEL_FILE).replace(folder / _onnx.MODEL_FILE)
        (work / _onnx.TOKENIZER_FILE).replace(folder / _onnx.TOKENIZER_FILE)
        st = (folder / _onnx.MODEL_FILE).stat()
        meta.update(dim=int(model.get_sentence_embedding_dimension()), graph=best[0], probe_cosine=best[1],
                    onnx_size=st.st_size, onnx_stat=[st.st_size, st.st_mtime_ns],
                    onnx_sha256=_onnx.file_sha256(folder / _onnx.MODEL_FILE), onnx_stat_full=_onnx.stat_key(st),
                    tokenizer_sha256=_onnx.file_sha256(folder / _onnx.TOKENIZER_FILE),
                    source_hash=_onnx.source_hash(source), source_signature=_onnx.source_signature(source))
        _onnx.write_meta(folder, meta)
        return meta
    finally:
        shutil.rmtree(work, ignore_errors=True)
