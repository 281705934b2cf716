"""Inbox candidates ride on the index's normal sync (embedded once, chunked and resumable, never rebuilding the paper
index), and the per-tag classifiers are fitted once per library and triage state."""
from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest

import index
from index import HashEmbedder, inbox

LIBRARY = [  # title, abstract, tag
    ("Image nets", "convolution image pixels camera", "vision"),
    ("Seeing more", "image pixels segmentation camera", "vision"),
    ("Language model", "language tokens words grammar", "nlp"),
    ("Translation", "language words sentences translation", "nlp"),
]
CANDIDATES = [
    {"arxiv_id": "2501.00001", "title": "Cams", "abstract": "camera image pixels convolution",
     "published": "2025-01-05"},
    {"arxiv_id": "2501.00002", "title": "Talk", "abstract": "words language grammar sentences",
     "published": "2025-01-04"},
    {"arxiv_id": "2501.00003", "title": "Fold", "abstract": "protein folding chemistry", "published": "2025-01-03"},
]


class Counting(HashEmbedder):
    """HashEmbedder that remembers what it embedded; `fail_on` makes that call raise KeyboardInterrupt (Ctrl-C)."""

    def __init__(self, fail_on: int | None = None) -> None:
        super().__init__(64)
        self.seen: list[str] = []
        self.calls = 0
        self.fail_on = fail_on

    def encode(self, texts, *, batch_size=32):
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        self.seen.extend(texts)
        return super().encode(texts, batch_size=batch_size)


@pytest.fixture
def log(log):
    for title, abstract, tag in LIBRARY:
        log.add(None, title=title, abstract=abstract, tags=[tag], fetch=False)
    log.add_candidates(CANDIDATES)
    return log


def manifest(log) -> dict:
    return json.loads((index.index_dir(log.path) / "manifest.json").read_text())


def order(hits) -> list[str]:
    return [h["arxiv_id"][-1] for h in hits]


def test_sync_embeds_the_candidates_so_ranking_embeds_nothing(log):
    emb = Counting()
    report = index.sync(log, embedder=emb)
    assert (report.added, report.embedded, report.candidates, report.candidates_embedded) == (4, 4, 3, 3)
    assert len(emb.seen) == 7
    emb.seen.clear()
    hits = inbox.rank(log, tag="vision", embedder=emb)
    assert emb.seen == [] and order(hits)[0] == "1"
    assert order(inbox.rank(log, tag="nlp", embedder=emb))[0] == "2" and emb.seen == []


def test_candidate_changes_never_rebuild_the_paper_index(log):
    emb = Counting()
    index.sync(log, embedder=emb)
    before = manifest(log)
    log.add_candidates([{"arxiv_id": "2501.00004", "title": "Birds", "abstract": "bird song audio"},
                        {**CANDIDATES[2], "abstract": "protein folding physics"}])  # one new, one refreshed
    emb.seen.clear()
    report = index.sync(log, embedder=emb)
    assert not report.changed and report.embedded == 0 and manifest(log) == before
    assert (report.candidates, report.candidates_embedded) == (4, 2)
    assert sorted(emb.seen) == ["Birds\n\nbird song audio", "Fold\n\nprotein folding physics"]
    again = index.sync(log, embedder=emb)
    assert (again.candidates, again.candidates_embedded, again.total) == (4, 0, 4) and len(emb.seen) == 2

    log.skip_candidate("2501.00003")  # skipped ones keep their vector: the classifiers' negatives
    assert (index.sync(log, embedder=emb).candidates, len(emb.seen)) == (4, 2)
    assert log.clear_candidates("30d", today="2030-01-01") == 3  # the waiting ones go, and their vectors
    assert index.sync(log, embedder=emb).candidates == 1 and manifest(log) == before


def test_kept_candidate_joins_the_paper_index(log):
    emb = Counting()
    index.sync(log, embedder=emb)
    log.keep_candidate("2501.00001", tags=["vision"])
    report = index.sync(log, embedder=emb)
    assert (report.added, report.total, report.candidates) == (1, 5, 2)


def test_every_search_embeds_pending_candidates_first(log):
    emb = Counting()
    index.search(log, "image", mode="dense", embedder=emb)
    log.add_candidates([{"arxiv_id": "2501.00004", "title": "Birds", "abstract": "bird song audio"}])
    emb.seen.clear()
    index.search(log, "pixels", mode="dense", embedder=emb)
    assert emb.seen == ["Birds\n\nbird song audio", "pixels"]
    emb.seen.clear()
    assert order(inbox.rank(log, embedder=emb))[-1] in {"3", "4"} and emb.seen == []


def test_full_reindex_embeds_the_candidates_again(log):
    emb = Counting()
    index.sync(log, embedder=emb)
    emb.seen.clear()
    report = index.reindex(log, full=True, embedder=emb)
    assert (report.rebuilt, report.embedded, report.candidates_embedded, len(emb.seen)) == ("full", 4, 3, 7)


def test_interrupted_candidate_embedding_keeps_saved_chunks(log):
    index.sync(log, embedder=Counting())
    log.add_candidates([{"arxiv_id": f"2502.0000{i}", "title": f"New {i}", "abstract": f"topic{i} words"}
                        for i in range(5)])
    broken = Counting(fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        index.sync(log, embedder=broken, chunk_size=2)
    assert len(broken.seen) == 2  # the first chunk was embedded and saved, the second one interrupted
    emb = Counting()
    report = index.sync(log, embedder=emb, wait=False)  # the writer lock was released
    assert not report.busy and (report.candidates, report.candidates_embedded, len(emb.seen)) == (8, 3, 3)
    assert not set(emb.seen) & set(broken.seen)


def test_a_damaged_or_foreign_vector_file_is_embedded_again(log, caplog):
    index.sync(log, embedder=Counting())
    (index.index_dir(log.path) / "inbox-vectors.npz").write_bytes(b"not an npz")
    emb = Counting()
    assert index.sync(log, embedder=emb).candidates_embedded == 3 and "unreadable" in caplog.text
    other = HashEmbedder(32)  # another model: its vectors do not mix with the old ones
    assert index.sync(log, embedder=other).candidates_embedded == 3
    assert inbox.sync_candidates(log, embedder=other)[1].shape == (3, 32)


def test_classifiers_are_fitted_once_per_library_and_triage_state(log, monkeypatch):
    fits: list[int] = []
    fit = inbox.fit_classifier
    monkeypatch.setattr(inbox, "_FITTED", OrderedDict())
    monkeypatch.setattr(inbox, "fit_classifier", lambda *a, **kw: fits.append(1) or fit(*a, **kw))
    emb = Counting()
    first = inbox.rank(log, embedder=emb)
    assert len(fits) == 2  # one per tag
    assert inbox.rank(log, embedder=emb) == first and len(fits) == 2
    inbox.rank(log, tag="vision", embedder=emb, ranker="classifier")
    assert len(fits) == 2
    log.add_candidates([{"arxiv_id": "2501.00004", "title": "Birds", "abstract": "bird song audio"}])
    assert len(inbox.rank(log, embedder=emb)) == 4 and len(fits) == 2  # new candidates are only scored
    log.skip_candidate("2501.00003")  # a new negative for every tag
    inbox.rank(log, embedder=emb)
    assert len(fits) == 4
    log.tag(1, "nlp")  # only the nlp classifier's positives change
    inbox.rank(log, embedder=emb)
    assert len(fits) == 5
    log.add(None, title="Cameras", abstract="camera lens pixels", tags=["vision"], fetch=False)
    inbox.rank(log, embedder=emb)
    assert len(fits) == 7


def test_cached_classifier_scores_equal_fresh_ones(log):
    emb = Counting()
    cached = inbox.rank(log, embedder=emb, ranker="classifier")
    inbox._FITTED.clear()
    assert inbox.rank(log, embedder=emb, ranker="classifier") == cached
    rows = np.array([h["scores"]["classifier"] for h in cached])
    assert rows.max() > 0.5 and np.all(np.diff(rows) <= 0)


def test_unchanged_candidates_are_not_reread_and_any_write_is_seen(log, monkeypatch):
    """The skip decision is the log's own candidate write counter, not file times: an edit that leaves the database
    files' size and mtime as they were (two writes in one clock tick) is still seen, and with no edit the texts are
    not read at all."""
    import os

    def files():
        return [p for p in (str(log.path), f"{log.path}-wal") if os.path.exists(p)]

    emb = Counting()
    log.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    index.sync(log, embedder=emb)
    log.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stats = {p: os.stat(p) for p in files()}
    v = log.candidates_version()
    real = type(log).candidate_texts
    monkeypatch.setattr(type(log), "candidate_texts", lambda *a, **k: pytest.fail("texts read with nothing new"))
    assert index.sync(log, embedder=emb).candidates == 3
    monkeypatch.setattr(type(log), "candidate_texts", real)

    log.add_candidates([{**CANDIDATES[0], "abstract": "camera image pixels convolutioN"}])  # same length
    log.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for p, st in stats.items():
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert {p: (os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in files()} == {
        p: (st.st_size, st.st_mtime_ns) for p, st in stats.items()}, "the files look untouched"
    assert log.candidates_version() > v
    emb.seen.clear()
    report = index.sync(log, embedder=emb)
    assert report.candidates_embedded == 1 and emb.seen == ["Cams\n\ncamera image pixels convolutioN"]
