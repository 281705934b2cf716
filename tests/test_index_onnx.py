"""The ONNX query encoder: same vectors as sentence-transformers, no torch on the query path, a derived cache file
that is made again when missing, stale or damaged, and a fallback for models that cannot be exported."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import index
from index import _embed, _onnx
from reading import open_log

PAPERS = [
    ("ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
     "We introduce an extremely computation-efficient CNN architecture that utilizes pointwise group convolution "
     "and channel shuffle to greatly reduce computation cost while maintaining accuracy."),
    ("Deep Residual Learning for Image Recognition",
     "We present a residual learning framework to ease the training of networks that are substantially deeper."),
    ("Attention Is All You Need",
     "We propose the Transformer, based solely on attention mechanisms, dispensing with recurrence entirely."),
]
TEXTS = ["channel shuffle", "  Residual networks  ", "逐点群卷积", "word " * 400, ""]
HEAVY = ("torch", "transformers", "sentence_transformers")


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory):
    """The default model's ONNX encoder, exported once into this module's own cache."""
    return _embed.OnnxEmbedder(index.DEFAULT_MODEL, cache=tmp_path_factory.mktemp("encoders"))


def test_onnx_vectors_equal_sentence_transformers(onnx_embedder):
    ref = _embed.SentenceTransformerEmbedder(index.DEFAULT_MODEL).encode(TEXTS)
    got = onnx_embedder.encode(TEXTS)
    assert onnx_embedder.encoder == "onnx" and got.shape == ref.shape == (len(TEXTS), 384)
    assert (got * ref).sum(axis=1).min() > 0.9999
    # a query alone (one-thread session) and inside a padded batch give the same vector
    assert np.allclose(onnx_embedder.encode(["channel shuffle"])[0], got[0], atol=1e-5)


def test_an_index_built_with_sentence_transformers_is_reused(tmp_path, onnx_embedder):
    with open_log(tmp_path / "log.db") as log:
        for title, abstract in PAPERS:
            log.add(None, title=title, abstract=abstract, fetch=False)
        first = index.sync(log, embedder=_embed.SentenceTransformerEmbedder(index.DEFAULT_MODEL))
        assert first.embedded == 3
        log.add(None, title="MobileNets", abstract="Depthwise separable convolutions for mobile vision.",
                fetch=False)
        again = index.sync(log, embedder=onnx_embedder)
        assert again.rebuilt is None and again.embedded == 1 and again.total == 4  # only the new paper
        hits = index.search(log, "cheap shuffles of group-conv channels", k=1, mode="dense", embedder=onnx_embedder)
        assert hits[0]["title"].startswith("ShuffleNet")


def _write_fake_entry(folder: Path, source: Path) -> None:
    folder.mkdir(parents=True)
    (folder / _onnx.MODEL_FILE).write_bytes(b"onnx bytes")
    (folder / _onnx.TOKENIZER_FILE).write_text("{}")
    st = (folder / _onnx.MODEL_FILE).stat()
    _onnx.write_meta(folder, {"dim": 4, "max_seq_length": 8, "onnx_size": st.st_size,
                              "onnx_stat": [st.st_size, st.st_mtime_ns],
                              "onnx_sha256": _onnx.file_sha256(folder / _onnx.MODEL_FILE),
                              "source_hash": _onnx.source_hash(source),
                              "source_signature": _onnx.source_signature(source)})


def test_cache_entry_is_checked_against_the_model_files(tmp_path):
    source, folder = tmp_path / "model", tmp_path / "cache" / "entry"
    source.mkdir()
    (source / "weights.bin").write_bytes(b"w1")
    _write_fake_entry(folder, source)
    assert _onnx.check(folder, source)["dim"] == 4
    (source / "weights.bin").write_bytes(b"w1")  # touched, same content: still valid
    assert _onnx.check(folder, source)["dim"] == 4
    (folder / _onnx.MODEL_FILE).write_bytes(b"onnx bytez")  # same size, other bytes
    with pytest.raises(_onnx.StaleEncoder, match="damaged"):
        _onnx.check(folder, source)
    (folder / _onnx.MODEL_FILE).write_bytes(b"onnx bytes")
    assert _onnx.check(folder, source)["dim"] == 4
    (source / "weights.bin").write_bytes(b"w2")
    with pytest.raises(_onnx.StaleEncoder, match="files changed"):
        _onnx.check(folder, source)
    (folder / _onnx.META_FILE).write_text("{not json")
    with pytest.raises(_onnx.StaleEncoder, match="unreadable"):
        _onnx.check(folder, source)
    with pytest.raises(_onnx.StaleEncoder, match="missing"):
        _onnx.check(tmp_path / "cache" / "other", source)


def test_a_damaged_onnx_file_is_made_again_with_a_message(tmp_path, onnx_embedder, caplog):
    onnx_embedder.encode(["warm"])
    folder = _onnx.entry_dir(index.DEFAULT_MODEL, onnx_embedder._cache)
    data = (folder / _onnx.MODEL_FILE).read_bytes()
    (folder / _onnx.MODEL_FILE).write_bytes(data[: len(data) // 2])  # a crash mid-copy, a full disk
    fresh = _embed.OnnxEmbedder(index.DEFAULT_MODEL, cache=onnx_embedder._cache)
    with caplog.at_level(logging.WARNING, logger="index"):
        vec = fresh.encode(["channel shuffle"])
    assert any("encoder for all-MiniLM-L6-v2 again (its ONNX file is damaged" in r.getMessage() for r in caplog.records)
    assert fresh.encoder == "onnx"
    assert np.allclose(vec, onnx_embedder.encode(["channel shuffle"]), atol=1e-5)


def test_a_model_that_cannot_be_exported_falls_back_once_with_a_note(tmp_path, monkeypatch, caplog):
    from index import _onnx_export

    calls = []

    def refuse(name, source, folder, *, model_path):
        calls.append(name)
        raise _onnx_export.ExportError("its ONNX export does not reproduce its vectors (cosine 0.9000)")

    monkeypatch.setattr(_onnx_export, "export", refuse)
    with caplog.at_level(logging.WARNING, logger="index"):
        emb = _embed.OnnxEmbedder(index.DEFAULT_MODEL, cache=tmp_path)
        vec = emb.encode(["channel shuffle"])
    notes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("note:")]
    assert emb.encoder == "sentence-transformers" and vec.shape == (1, 384)
    assert len(notes) == 1 and "cosine 0.9000" in notes[0] and "\n" not in notes[0]
    again = _embed.OnnxEmbedder(index.DEFAULT_MODEL, cache=tmp_path)
    assert again.encoder == "sentence-transformers" and calls == [index.DEFAULT_MODEL]  # not retried


def test_explicit_device_and_test_embedders_stay_as_they_were():
    assert isinstance(index.get_embedder("hash-bow-32"), index.HashEmbedder)
    assert isinstance(index.get_embedder(device="cpu"), index.SentenceTransformerEmbedder)
    assert isinstance(index.get_embedder(), _embed.OnnxEmbedder)


_QUERY_PATH = """
import json, sys
from click.testing import CliRunner
from paperzoo.reading_cli import cli
light = {}
import index
light["import index"] = sorted(m for m in %(heavy)r if m in sys.modules)
for args in (["search", "cheap shuffles of group-conv channels", "--json"], ["related", "1", "--json"]):
    result = CliRunner().invoke(cli, ["--db", sys.argv[1], *args])
    assert result.exit_code == 0, result.output
    light[args[0]] = [sorted(m for m in %(heavy)r if m in sys.modules), json.loads(result.stdout)[0]["title"]]
print(json.dumps(light))
"""


def test_search_and_related_on_an_embedded_log_import_no_torch(tmp_path):
    db = tmp_path / "log.db"
    with open_log(db) as log:
        for title, abstract in PAPERS:
            log.add(None, title=title, abstract=abstract, fetch=False)
        index.reindex(log)  # embedded (and the ONNX file made) by a first sync, as after `reading reindex`
    code = _QUERY_PATH % {"heavy": HEAVY}
    out = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr
    light = json.loads(out.stdout)
    assert light["import index"] == []
    assert light["search"] == [[], PAPERS[0][0]]
    assert light["related"][0] == [] and light["related"][1] != PAPERS[0][0]


def test_a_model_set_by_path_gets_its_own_onnx_encoder(tmp_path, monkeypatch, onnx_embedder):
    model_dir = tmp_path / "my-model"
    model_dir.symlink_to(_embed.bundled_model_path(), target_is_directory=True)
    monkeypatch.setenv(index.MODEL_ENV, str(model_dir))
    cache = tmp_path / "cache"
    emb = _embed.OnnxEmbedder(index.resolve_model(), cache=cache)
    vec = emb.encode(["channel shuffle"])
    assert emb.encoder == "onnx" and (_onnx.entry_dir(str(model_dir), cache) / _onnx.MODEL_FILE).is_file()
    assert np.allclose(vec, onnx_embedder.encode(["channel shuffle"]), atol=1e-5)
