"""Index sync: incremental updates, rebuilds (model change, corruption), crash/resume, concurrent writers."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import index
from index import HashEmbedder
from reading import open_log

PAPERS = [
    ("ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
     "We introduce pointwise group convolution and channel shuffle to cut computation on mobile devices."),
    ("Deep Residual Learning for Image Recognition",
     "Residual connections ease the training of very deep convolutional networks for image recognition."),
    ("Attention Is All You Need", "The Transformer relies entirely on attention, dispensing with recurrence."),
    ("BERT: Pre-training of Deep Bidirectional Transformers",
     "Bidirectional pretraining of transformers for language understanding tasks."),
]


class Counting(HashEmbedder):
    """HashEmbedder that remembers how many texts it embedded."""

    def __init__(self, dim: int = 64, name: str | None = None) -> None:
        super().__init__(dim, name)
        self.seen: list[str] = []

    def encode(self, texts, *, batch_size=32):
        self.seen.extend(texts)
        return super().encode(texts, batch_size=batch_size)


@pytest.fixture
def log(tmp_path):
    log = open_log(tmp_path / "log.db")
    for title, abstract in PAPERS:
        log.add(None, title=title, abstract=abstract, year=2017, fetch=False)
    yield log
    log.close()


def manifest(log) -> dict:
    return json.loads((index.index_dir(log.path) / "manifest.json").read_text())


def faiss_file(log) -> Path:
    return index.index_dir(log.path) / manifest(log)["index_file"]


def top(log, text, emb) -> int:
    return index.search(log, text, k=1, mode="dense", embedder=emb)[0]["id"]


def test_first_sync_writes_index_and_manifest_beside_the_db(log):
    emb = Counting()
    report = index.sync(log, embedder=emb)
    folder = log.path.with_name("log.index")
    assert index.index_dir(log.path) == folder and (folder / "manifest.json").exists()
    m = manifest(log)
    assert (m["model"], m["dim"], m["count"], m["kind"]) == ("hash-bow-64", 64, 4, "flat")
    assert len(m["checksum"]) == 64 and len(m["hashes"]) == 4 and faiss_file(log).exists()
    assert report.rebuilt == "missing" and report.added == 4 and report.embedded == 4 == len(emb.seen)
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")], "temp files left behind"
    assert not list((folder / "chunks").glob("*")), "chunks are dropped once committed"


def test_second_sync_does_nothing(log):
    emb = Counting()
    index.sync(log, embedder=emb)
    first = manifest(log)
    report = index.sync(log, embedder=emb)
    assert not report.changed and report.total == 4 and len(emb.seen) == 4
    assert manifest(log) == first


def test_only_new_changed_and_removed_papers_are_touched(log):
    emb = Counting()
    index.sync(log, embedder=emb)
    new = log.add(None, title="Squeeze-and-Excitation Networks", abstract="Channel attention.", fetch=False).paper
    log.note(1, "cheap shuffles of group-conv channels")
    log.remove(3)
    log.tag(2, "resnet")  # bumps the data version without changing any text
    emb.seen.clear()
    report = index.sync(log, embedder=emb)
    assert (report.added, report.updated, report.removed, report.total) == (1, 1, 1, 4)
    assert len(emb.seen) == 2 and any("cheap shuffles" in t for t in emb.seen)
    assert set(map(int, manifest(log)["hashes"])) == {1, 2, 4, new["id"]}
    assert top(log, "Squeeze-and-Excitation Networks Channel attention.", emb) == new["id"]
    assert 3 not in {r["id"] for r in index.search(log, "attention recurrence", k=10, mode="dense", embedder=emb)}


def test_model_change_rebuilds_with_a_message(log, caplog):
    index.sync(log, embedder=HashEmbedder(64))
    with caplog.at_level(logging.WARNING, logger="index"):
        report = index.sync(log, embedder=HashEmbedder(32))
    assert report.rebuilt == "model changed" and "model changed" in caplog.text
    assert (manifest(log)["model"], manifest(log)["dim"]) == ("hash-bow-32", 32)


def test_model_setting_and_env_choose_the_model(log, monkeypatch):
    monkeypatch.delenv(index.MODEL_ENV, raising=False)
    assert index.resolve_model(log=log) == index.DEFAULT_MODEL
    log.set_setting(index.MODEL_SETTING, "hash-bow-16")
    assert index.get_embedder(log=log).name == "hash-bow-16"
    monkeypatch.setenv(index.MODEL_ENV, "hash-bow-8")
    assert index.get_embedder(log=log).dim == 8
    assert index.sync(log).total == 4 and manifest(log)["model"] == "hash-bow-8"
    monkeypatch.setenv(index.MODEL_ENV, "hash-bow-16")
    assert index.sync(log).rebuilt == "model changed"


def _truncate(log):
    path = faiss_file(log)
    path.write_bytes(path.read_bytes()[:40])


def _flip_byte(log):
    path = faiss_file(log)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _garbage_manifest(log):
    (index.index_dir(log.path) / "manifest.json").write_text("{not json")


def _delete_index_file(log):
    faiss_file(log).unlink()


def _lying_manifest(log):
    path = index.index_dir(log.path) / "manifest.json"
    m = manifest(log)
    m["count"] = 99
    path.write_text(json.dumps(m))


@pytest.mark.parametrize("damage", [_truncate, _flip_byte, _garbage_manifest, _delete_index_file, _lying_manifest])
def test_corrupt_index_is_rebuilt_by_the_next_search(log, damage, caplog):
    emb = Counting()
    index.sync(log, embedder=emb)
    damage(log)
    with caplog.at_level(logging.WARNING, logger="index"):
        hits = index.search(log, PAPERS[2][0], k=2, mode="dense", embedder=emb)
    assert hits[0]["id"] == 3
    assert "corrupt" in caplog.text
    assert manifest(log)["count"] == 4 and index.sync(log, embedder=emb, verify=True).rebuilt is None


def test_approximate_index_above_threshold_keeps_recall(tmp_path):
    """HNSW is chosen from the threshold on, and its top 10 agree with exact search (recall@10 >= 0.95)."""
    from index import _vectors

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(40, 32))
    vecs = (centers[rng.integers(0, 40, 3000)] + 0.6 * rng.normal(size=(3000, 32))).astype("float32")
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(10, 3010)
    assert _vectors.kind_for(3000, approx_threshold=2000) == "hnsw" and _vectors.kind_for(1999, 2000) == "flat"
    approx = _vectors.build(ids, vecs, 32, "hnsw")
    exact = _vectors.build(ids, vecs, 32, "flat")
    queries = vecs[:200] + 0.05 * rng.normal(size=(200, 32)).astype("float32")
    _, a = _vectors.search(approx, queries, 10)
    _, e = _vectors.search(exact, queries, 10)
    recall = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, e)])
    assert recall >= 0.95


def test_sync_switches_to_hnsw_and_back(log):
    emb = Counting()
    index.sync(log, embedder=emb, approx_threshold=3)
    assert manifest(log)["kind"] == "hnsw"
    log.add(None, title="MobileNets", abstract="Depthwise separable convolutions.", fetch=False)
    index.sync(log, embedder=emb, approx_threshold=3)
    assert (manifest(log)["kind"], manifest(log)["count"]) == ("hnsw", 5)
    log.remove(1)
    log.remove(2)
    index.sync(log, embedder=emb, approx_threshold=4)
    assert (manifest(log)["kind"], manifest(log)["count"]) == ("flat", 3)
    assert top(log, "MobileNets Depthwise separable convolutions.", emb) == 5


_SLOW_SYNC = textwrap.dedent("""
    import sys, time
    import index, reading
    from index import HashEmbedder

    class Slow(HashEmbedder):
        def encode(self, texts, *, batch_size=32):
            time.sleep(float(sys.argv[2]))
            return super().encode(texts, batch_size=batch_size)

    log = reading.open_log(sys.argv[1])
    report = index.sync(log, embedder=Slow(), chunk_size=5)
    print("embedded", report.embedded, flush=True)
""")


def _slow_sync(db: Path, delay: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _SLOW_SYNC, str(db), str(delay)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _many(log, n: int) -> None:
    for i in range(n):
        log.add(None, title=f"Paper number {i} about topic{i}", abstract=f"Words w{i} x{i % 7} y{i % 3}.",
                fetch=False)


def test_kill_9_mid_ingest_then_resume(tmp_path):
    log = open_log(tmp_path / "big.db")
    _many(log, 40)
    chunks = index.index_dir(log.path) / "chunks"
    proc = _slow_sync(log.path, 0.3)
    deadline = time.time() + 60
    while len(list(chunks.glob("*.npz"))) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = len(list(chunks.glob("*.npz")))
    assert saved >= 2 and not (index.index_dir(log.path) / "manifest.json").exists()
    emb = Counting()
    report = index.sync(log, embedder=emb)
    assert report.total == 40 and len(emb.seen) <= 40 - 5 * saved
    for pid, text in log.index_texts():
        assert top(log, text, emb) == pid
    log.close()


def test_two_syncers_at_once_do_the_work_once(tmp_path):
    log = open_log(tmp_path / "two.db")
    _many(log, 20)
    procs = [_slow_sync(log.path, 0.1) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sum(int(out.split()[-1]) for out, _ in outs) == 20
    emb = Counting()
    assert index.sync(log, embedder=emb, verify=True).total == 20 and not emb.seen
    log.close()


def test_search_does_not_wait_for_another_writer(log, caplog):
    from index import _store

    emb = Counting()
    index.sync(log, embedder=emb)
    log.add(None, title="Pending paper", abstract="Not yet indexed.", fetch=False)
    with _store.writer_lock(index.index_dir(log.path)), caplog.at_level(logging.WARNING, logger="index"):
        hits = index.search(log, PAPERS[0][0], k=5, mode="dense", embedder=emb)
    assert hits[0]["id"] == 1 and len(hits) == 4 and "another process" in caplog.text
    assert index.search(log, "Pending paper Not yet indexed.", k=1, mode="dense", embedder=emb)[0]["id"] == 5


def test_ctrl_c_mid_ingest_keeps_saved_chunks_and_releases_the_lock(tmp_path):
    class Interrupted(Counting):
        def encode(self, texts, *, batch_size=32):
            if len(self.seen) >= 10:
                raise KeyboardInterrupt
            return super().encode(texts, batch_size=batch_size)

    log = open_log(tmp_path / "ctrlc.db")
    _many(log, 30)
    with pytest.raises(KeyboardInterrupt):
        index.sync(log, embedder=Interrupted(), chunk_size=5)
    assert len(list((index.index_dir(log.path) / "chunks").glob("*.npz"))) == 2
    emb = Counting()
    report = index.sync(log, embedder=emb, chunk_size=5, wait=False)  # would come back busy if the lock were held
    assert not report.busy and report.total == 30 and len(emb.seen) == 20
    log.close()


def test_vectors_are_the_synced_paper_embeddings(log):
    emb = Counting()
    ids, vecs = index.vectors(log, embedder=emb)
    texts = dict(log.index_texts())
    assert sorted(ids.tolist()) == sorted(texts) and vecs.shape == (4, 64) and vecs.dtype == np.float32
    np.testing.assert_allclose(vecs, HashEmbedder(64).encode([texts[int(i)] for i in ids]), atol=1e-6)
    new = log.add(None, title="MobileNets", abstract="Depthwise separable convolutions.", fetch=False).paper
    emb.seen.clear()
    ids, vecs = index.vectors(log, embedder=emb)
    assert new["id"] in ids.tolist() and len(vecs) == 5 and len(emb.seen) == 1  # synced: only the new paper
    index.vectors(log, embedder=emb)
    assert len(emb.seen) == 1


def test_vectors_of_an_empty_log(tmp_path):
    with open_log(tmp_path / "empty.db") as log:
        ids, vecs = index.vectors(log, embedder=Counting())
    assert ids.shape == (0,) and vecs.shape == (0, 0)


def test_the_embedding_map_uses_the_stored_vectors(log):
    from ui import _maps

    emb = Counting()
    index.sync(log, embedder=emb)
    emb.seen.clear()
    out = _maps.embedding_map(log, emb)
    assert emb.seen == [] and sorted(out["ids"]) == [1, 2, 3, 4] and out["xy"].shape == (4, 2)
    assert manifest(log)["model"] == emb.name  # the map's embedder, not another model's rebuild
