"""Inbox ranking on a small deterministic embedding set where the expected order is known."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from index import inbox, index_dir
from paperzoo.reading_cli import cli

AXES = ("vision", "language", "graph", "audio", "robot", "proof")


class AxisEmbedder:
    """Each known word is one axis: a text's vector counts its words (unit length). Counts its calls."""

    name = "axes-test"
    dim = len(AXES)

    def __init__(self):
        self.encoded = 0

    def encode(self, texts, *, batch_size=32):
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                if word in AXES:
                    out[row, AXES.index(word)] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def unit(*weights):
    v = np.asarray(weights, np.float32)
    return v / np.linalg.norm(v)


# --- the pure rankers ---------------------------------------------------------------------------------------------


def test_similarity_ranks_by_closeness_to_the_library():
    library = np.stack([unit(1, 0, 0), unit(1, 1, 0), unit(0, 1, 0)])
    cands = np.stack([unit(0, 0, 1), unit(1, 0, 0), unit(0, 1, 0), unit(1, 1, 0)])
    scores, nearest = inbox.similarity_scores(library, cands, top=1)
    assert list(np.argsort(-scores, kind="stable")) == [1, 2, 3, 0]
    assert list(nearest[1:]) == [0, 2, 1] and scores[0] == pytest.approx(0)
    mean_all, _ = inbox.similarity_scores(library, cands, top=3)
    assert mean_all[3] == pytest.approx((2 * np.sqrt(0.5) + 1) / 3)  # the mean of its 3 closest
    empty, none = inbox.similarity_scores(np.zeros((0, 3), np.float32), cands)
    assert not empty.any() and (none == -1).all()


def test_classifier_separates_tag_from_the_rest():
    rng = np.random.default_rng(0)
    pos = np.stack([unit(1, 0.1 * rng.random(), 0) for _ in range(6)])
    neg = np.stack([unit(0.1 * rng.random(), 1, 0) for _ in range(6)])
    cands = np.stack([unit(0, 1, 0), unit(1, 0, 0), unit(1, 1, 0)])
    p = inbox.classifier_scores(pos, neg, cands)
    assert list(np.argsort(-p)) == [1, 2, 0] and p[1] > 0.5 > p[0]
    assert inbox.classifier_scores(pos, neg[:0], cands) is None
    assert inbox.classifier_scores(pos[:0], neg, cands) is None


def test_fusion_breaks_what_one_ranker_cannot_decide():
    sim = np.array([0.5, 0.5, 0.1], np.float32)
    clf = np.array([0.2, 0.9, 0.5], np.float32)
    assert list(np.argsort(-inbox.fuse(sim, clf), kind="stable")) == [1, 0, 2]
    assert list(np.argsort(-inbox.fuse(sim, None), kind="stable")) == [0, 1, 2]


# --- rank() over a log ----------------------------------------------------------------------------------------------


@pytest.fixture
def library(log):
    for i, text in enumerate(["vision vision", "vision robot", "vision"]):
        log.add(None, title=f"Seeing {i}", abstract=text, tags=["vision"], fetch=False)
    for i, text in enumerate(["language", "language proof"]):
        log.add(None, title=f"Words {i}", abstract=text, tags=["nlp"], fetch=False)
    log.add_candidates([
        {"arxiv_id": "2501.00001", "title": "A", "abstract": "graph audio", "published": "2025-01-05"},
        {"arxiv_id": "2501.00002", "title": "B", "abstract": "vision vision robot", "published": "2025-01-04"},
        {"arxiv_id": "2501.00003", "title": "C", "abstract": "language", "published": "2025-01-03"},
        {"arxiv_id": "2501.00004", "title": "D", "abstract": "vision language", "published": "2025-01-02"},
    ])
    return log


def order(hits):
    return [h["arxiv_id"][-1] for h in hits]


@pytest.mark.parametrize("ranker", inbox.RANKERS)
def test_rank_for_a_tag(library, ranker):
    hits = inbox.rank(library, tag="vision", ranker=ranker, embedder=AxisEmbedder())
    assert order(hits)[:2] == ["2", "4"] and order(hits)[-1] in ("1", "3")
    top = hits[0]
    assert top["because"]["title"].startswith("Seeing") and top["because"]["similarity"] > 0.9
    if ranker != "similarity":
        assert top["tags"] == ["vision"] and top["scores"]["classifier"] > 0.5


def test_rank_over_the_whole_library(library):
    hits = inbox.rank(library, embedder=AxisEmbedder())
    assert order(hits)[-1] == "1"  # nothing like it in the log
    assert set(order(hits)[:3]) == {"2", "3", "4"}
    by_id = {h["arxiv_id"][-1]: h for h in hits}
    assert by_id["2"]["tags"] == ["vision"] and by_id["3"]["tags"] == ["nlp"]
    assert by_id["3"]["because"]["title"].startswith("Words")
    assert len(inbox.rank(library, k=2, embedder=AxisEmbedder())) == 2


def test_triage_feeds_back(library):
    emb = AxisEmbedder()
    library.skip_candidate("2501.00001")
    library.keep_candidate("2501.00002", tags=["vision"])
    library.add_candidates([{"arxiv_id": "2501.00005", "title": "E", "abstract": "vision vision robot"}])
    hits = inbox.rank(library, tag="vision", embedder=emb)
    assert order(hits) == ["5", "4", "3"]  # skipped and kept ones leave the inbox
    assert library.get("2501.00002")["status"] == "to-read"
    assert hits[0]["because"]["title"] == "B"  # the kept paper is part of the library now
    assert library.add_candidates(
        [{"arxiv_id": "2501.00001", "title": "A"}, {"arxiv_id": "2501.00002", "title": "B"}]
    ) == {"added": 0, "updated": 0, "in_log": 1, "skipped": 1}


def test_candidate_vectors_are_cached_and_refreshed(library):
    emb = AxisEmbedder()
    ids, vecs = inbox.sync_candidates(library, embedder=emb)
    assert emb.encoded == 4 and vecs.shape == (4, len(AXES))
    inbox.sync_candidates(library, embedder=emb)
    assert emb.encoded == 4  # nothing new
    library.add_candidates([{"arxiv_id": "2501.00003", "title": "C", "abstract": "robot"}])  # text changed
    inbox.sync_candidates(library, embedder=emb)
    assert emb.encoded == 5
    cache = index_dir(library.path) / "inbox-vectors.npz"
    cache.write_bytes(b"not an npz")
    again, _ = inbox.sync_candidates(library, embedder=emb)
    assert emb.encoded == 9 and list(again) == list(ids)


@pytest.mark.parametrize(("kwargs", "message"), [({"tag": "nope"}, "no papers tagged"),
                                                ({"ranker": "magic"}, "unknown ranker"), ({"k": 0}, "k must")])
def test_bad_input(library, kwargs, message):
    with pytest.raises(inbox.InboxError, match=message):
        inbox.rank(library, embedder=AxisEmbedder(), **kwargs)


def test_empty_library_ranks_by_nothing_but_still_lists(log):
    log.add_candidates([{"arxiv_id": "2501.00001", "title": "A", "abstract": "graph"}])
    hits = inbox.rank(log, embedder=AxisEmbedder())
    assert order(hits) == ["1"] and hits[0]["because"] is None and hits[0]["tags"] == []


def test_cli_listing(tmp_path, monkeypatch):
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    from reading import open_log

    db = tmp_path / "cli.db"
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(db), "inbox"])
    assert out.exit_code == 0 and "the inbox is empty" in out.output
    with open_log(db) as log:
        log.add(None, title="Channel shuffle", abstract="channel shuffle group convolution", tags=["efficient"],
                fetch=False)
        log.add(None, title="Parsing", abstract="syntax trees of sentences", tags=["nlp"], fetch=False)
        log.add_candidates([
            {"arxiv_id": "2501.00001", "title": "Trees", "abstract": "syntax trees of long sentences"},
            {"arxiv_id": "2501.00002", "title": "Shuffles", "abstract": "group convolution with channel shuffle"},
        ])
    out = runner.invoke(cli, ["--db", str(db), "inbox", "--tag", "efficient", "--json"])
    assert out.exit_code == 0, out.output
    hits = json.loads(out.output)
    assert [h["arxiv_id"] for h in hits] == ["2501.00002", "2501.00001"]
    assert hits[0]["because"]["title"] == "Channel shuffle"
    out = runner.invoke(cli, ["--db", str(db), "inbox", "-k", "1"])
    assert out.exit_code == 0 and out.output.count("arXiv:") == 1 and "because you read" in out.output
    out = runner.invoke(cli, ["--db", str(db), "inbox", "--tag", "missing"])
    assert out.exit_code == 1 and out.output == "Error: no papers tagged 'missing' in the log\n"
