"""Issue 24: how batches are encoded — ONNX Runtime fp32, or OpenVINO bf16 where the CPU has it (opt-in until a model
passes the quality gate) — with threads from the free cores, and the path recorded."""
from __future__ import annotations

import numpy as np
import pytest

import index
from index import _onnx


@pytest.mark.parametrize(("load", "cores", "want"), [(0.1, 2, 2), (1.4, 2, 1), (9.0, 2, 1), (3.0, 16, 13)])
def test_threads_come_from_the_free_cores(monkeypatch, load, cores, want):
    monkeypatch.setattr(_onnx.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(_onnx.os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert _onnx.free_cores() == want


def test_precision_choice(monkeypatch):
    monkeypatch.setattr(_onnx, "cpu_has_bf16", lambda: True)
    monkeypatch.delenv(_onnx.PRECISION_ENV, raising=False)
    assert _onnx.batch_precision(index.DEFAULT_MODEL) == ("bf16" if index.DEFAULT_MODEL in _onnx.BF16_GATED
                                                         else "fp32")
    monkeypatch.setenv(_onnx.PRECISION_ENV, "fp32")
    assert _onnx.batch_precision("any") == "fp32"
    monkeypatch.setenv(_onnx.PRECISION_ENV, "bf16")
    pytest.importorskip("openvino")
    assert _onnx.batch_precision("any") == "bf16"
    monkeypatch.setattr(_onnx, "cpu_has_bf16", lambda: False)
    assert _onnx.batch_precision("any") == "fp32"  # never emulated


@pytest.mark.skipif(not _onnx.cpu_has_bf16(), reason="the CPU has no native bf16")
def test_bf16_batches_match_fp32_and_the_path_is_recorded(monkeypatch):
    pytest.importorskip("openvino")
    texts = [f"paper {i}: channel shuffle for group convolutions on mobile devices, ablation {i}" for i in range(12)]
    vecs = {}
    for precision in ("fp32", "bf16"):
        monkeypatch.setenv(_onnx.PRECISION_ENV, precision)
        emb = index.OnnxEmbedder(index.DEFAULT_MODEL)
        vecs[precision] = emb.encode(texts, batch_size=4)
        assert emb.ingest_path.startswith("openvino-bf16" if precision == "bf16" else "onnxruntime-fp32")
    cos = (vecs["fp32"] * vecs["bf16"]).sum(axis=1)
    assert cos.min() > 0.9995 and np.allclose(np.linalg.norm(vecs["bf16"], axis=1), 1, atol=1e-5)


def test_large_batches_go_to_cuda_when_a_gpu_is_present(monkeypatch):
    """No GPU here: the CUDA branch with a stand-in for sentence-transformers (larger batches, the path named)."""
    from index import _embed

    calls = []

    class FakeST:
        def __init__(self, name, device=None):
            self.model = type("M", (), {"device": "cuda:0"})()

        def encode(self, texts, *, batch_size=32):
            calls.append((len(texts), batch_size))
            return np.ones((len(texts), 4), np.float32) / 2

    monkeypatch.setattr(_embed, "_gpu_present", lambda: True)
    monkeypatch.setattr(_embed, "SentenceTransformerEmbedder", FakeST)
    emb = _embed.OnnxEmbedder("some-model")
    out = emb.encode([f"text {i}" for i in range(200)], batch_size=32)
    assert out.shape == (200, 4) and calls == [(200, _embed.GPU_BATCH)]
    assert emb.ingest_path == f"sentence-transformers cuda:0 batch {_embed.GPU_BATCH}"
