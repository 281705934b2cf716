"""Issue 27 H: the passage index keys pages by what they are (PDF sha256, page), not by SQLite row ids, which are
given out again after a removal: a new PDF's pages never answer with the vectors of a removed one's."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import index
from index import _store, _vectors
from index._passages import SLOTS, passages_dir

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
A = FIXTURES / "twocolumn.pdf"
B = FIXTURES / "onecolumn.pdf"
EMB = index.HashEmbedder(64)


def _reuse_row_ids(log) -> None:
    """Add PDF A, search (it is indexed), add a paper, remove A, add PDF B: B's pages get A's page row ids."""
    log.add_pdf(A, fetch=False)
    assert index.search(log, "shuffle", k=3, embedder=EMB, fulltext=True)
    before = set(log.page_keys())
    log.add(title="A paper without a PDF", fetch=False)
    log.remove(1)
    log.add_pdf(B, fetch=False)
    assert set(log.page_keys()) & before, "the scenario needs SQLite to reuse the row ids"


def _stored(log) -> dict[int, np.ndarray]:
    folder = passages_dir(log.path)
    stored, _ = _store.read_index(folder, _store.read_manifest(folder))
    ids, vecs = _vectors.extract(stored)
    return dict(zip(ids.tolist(), vecs))


def test_a_reused_page_row_id_is_embedded_again(log):
    _reuse_row_ids(log)
    report = index.sync_passages(log, embedder=EMB)
    assert report.embedded == len(log.passage_texts()) and report.removed > 0
    stored = _stored(log)
    titles = log.paper_titles({row[1] for row in log.passage_texts()})
    for row in log.passage_texts():  # every vector is that of the passage the row id holds now
        want = EMB.encode([f"{titles[row[1]]}\n\n{row[4]}"])[0]
        assert np.allclose(stored[row[0]], want, atol=1e-6)
    keys = _store.read_manifest(passages_dir(log.path))["page_keys"]
    assert keys == {str(g): f"{sha[:16]}:{page}" for g, (sha, page) in log.page_keys().items()}


def test_search_ranks_the_new_pdf_by_its_own_vectors(log):
    _reuse_row_ids(log)
    row = log.passage_texts()[0]
    hits = index.search(log, row[4], k=1, mode="dense", embedder=EMB, fulltext=True)
    assert hits[0]["sha256"] == row[2] and hits[0]["passage"] == row[4] and hits[0]["score"] > 0.9


def test_without_a_sync_the_stale_vectors_are_never_returned(log):
    """Read-only search (background indexing): pages whose key changed count as waiting, and dense search skips
    the vectors left under their row ids."""
    _reuse_row_ids(log)
    stale = {g for g in log.page_keys()}
    hits = index.search(log, "shuffle channel network", k=10, mode="dense", embedder=EMB, fulltext=True,
                        foreground=False)
    assert not [h for h in hits if h["sha256"] == log.passage_texts()[0][2]]
    status = index.indexing_status(log)
    assert status["pages_waiting"] == len(stale) and status["pages_indexed"] == 0
    assert hits.metadata["pages_waiting"] == len(stale)
    ids = set(_vectors.ids_of(_store.read_index(passages_dir(log.path),
                                                _store.read_manifest(passages_dir(log.path)))[0]).tolist())
    assert {i // SLOTS for i in ids} & stale  # the stale vectors are still there, unused, until the next sync
