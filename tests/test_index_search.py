"""Search modes, filters, related papers, result shape, fusion and input errors (tiny deterministic embedder)."""
from __future__ import annotations

import pytest

import index
from index import HashEmbedder, SearchError, _fusion
from reading import PaperNotFound, open_log

PAPERS = [  # title, abstract, tags, year, status
    ("ShuffleNet", "Pointwise group convolution and channel shuffle cut computation on mobile devices.",
     ["efficient"], 2017, "read"),
    ("ShuffleNet V2", "Practical guidelines for efficient architecture design: channel split and shuffle.",
     ["efficient"], 2018, "read"),
    ("ResNet", "Residual connections ease the training of very deep convolutional networks.", ["cnn"], 2015,
     "to-read"),
    ("Transformer", "Attention is all you need: no recurrence, no convolution.", [], 2017, "reading"),
    ("Word2vec", "Efficient estimation of word representations in vector space.", [], 2013, "read"),
]

EMB = HashEmbedder(128)


@pytest.fixture
def log(tmp_path):
    log = open_log(tmp_path / "log.db")
    for title, abstract, tags, year, status in PAPERS:
        log.add(None, title=title, abstract=abstract, tags=tags, year=year, status=status, fetch=False)
    yield log
    log.close()


def ids(hits):
    return [h["id"] for h in hits]


@pytest.mark.parametrize("mode", index.MODES)
def test_every_mode_finds_the_obvious_paper(log, mode):
    hits = index.search(log, "channel shuffle group convolution mobile", k=3, mode=mode, embedder=EMB)
    assert hits[0]["id"] == 1 and len(hits) <= 3
    assert set(hits[0]) >= {"id", "arxiv_id", "title", "score", "snippet"}
    assert hits[0]["title"] == "ShuffleNet" and "shuffle" in hits[0]["snippet"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_syncs_papers_added_since_the_last_search(log):
    index.search(log, "anything", mode="dense", embedder=EMB)
    new = log.add(None, title="Squeeze-and-Excitation", abstract="Channel attention recalibrates features.",
                  fetch=False).paper
    assert index.search(log, "Squeeze-and-Excitation channel attention recalibrates features", k=1,
                        mode="dense", embedder=EMB)[0]["id"] == new["id"]


def test_notes_are_searched(log):
    log.note(3, "the skip-connection paper everyone cites")
    assert index.search(log, "skip-connection everyone cites", k=1, mode="dense", embedder=EMB)[0]["id"] == 3
    assert index.search(log, "skip-connection everyone cites", k=1, mode="keyword")[0]["id"] == 3


@pytest.mark.parametrize("filters, expected", [
    ({"tag": "efficient"}, {1, 2}),
    ({"status": "to-read"}, {3}),
    ({"year_min": 2017, "year_max": 2017}, {1, 4}),
    ({"tag": "nobody"}, set()),
])
@pytest.mark.parametrize("mode", index.MODES)
def test_filters_restrict_every_mode(log, filters, expected, mode):
    hits = index.search(log, "efficient channel attention convolution networks word", k=10, mode=mode,
                        embedder=EMB, **filters)
    assert set(ids(hits)) <= expected and (mode == "keyword" or set(ids(hits)) == expected)


def test_read_date_filter(log):
    log.add_read(5, read_on="2020-01-02")
    hits = index.search(log, "word vector", mode="dense", embedder=EMB, read_since="2020-01-01",
                        read_until="2020-01-31")
    assert ids(hits) == [5]


def test_related_excludes_the_paper_itself(log):
    for mode in index.MODES:
        hits = index.related(log, 1, k=2, mode=mode, embedder=EMB)
        assert 1 not in ids(hits) and hits[0]["id"] == 2, mode


def test_related_accepts_arxiv_ids_and_rejects_unknown(log):
    log.add("1707.01083", title="ShuffleNet arXiv", abstract="channel shuffle", fetch=False)
    assert index.related(log, "arXiv:1707.01083", k=1, embedder=EMB)[0]["id"] in {1, 2}
    with pytest.raises(PaperNotFound):
        index.related(log, 999, embedder=EMB)


@pytest.mark.parametrize("kwargs, message", [
    ({"query": "x", "mode": "fuzzy"}, "unknown search mode"),
    ({"query": "   "}, "empty query"),
    ({"query": "x", "k": 0}, "k must be"),
])
def test_bad_input_is_a_one_line_error(log, kwargs, message):
    with pytest.raises(SearchError, match=message) as err:
        index.search(log, embedder=EMB, **kwargs)
    assert "\n" not in str(err.value)


def test_queries_in_any_language_and_fts_syntax_are_accepted(log):
    log.note(4, "注意力机制 很重要")
    assert index.search(log, "注意力机制", k=1, embedder=EMB)[0]["id"] == 4
    for query in ['"unbalanced', "NEAR(a b)", "title:resnet", "a AND OR NOT", "*"]:
        assert isinstance(index.search(log, query, embedder=EMB), list)


def test_empty_log(tmp_path):
    log = open_log(tmp_path / "empty.db")
    assert index.search(log, "anything", embedder=EMB) == []
    assert index.sync(log, embedder=EMB).total == 0


def test_rrf_rewards_agreement():
    fused = dict(_fusion.rrf([(1, 0.9), (2, 0.8)], [(2, 10.0), (3, 5.0)], k=60))
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61) and fused[1] == pytest.approx(1 / 61)
    assert max(fused, key=fused.get) == 2


def test_blend_scales_each_ranking_and_weights_it():
    dense, keyword = [(1, 0.9), (2, 0.5), (3, 0.1)], [(3, 12.0), (2, 2.0)]
    assert [pid for pid, _ in _fusion.blend(dense, keyword, 1.0)] == [1, 2, 3]
    assert [pid for pid, _ in _fusion.blend(dense, keyword, 0.0)][0] == 3
    mixed = dict(_fusion.blend(dense, keyword, 0.5))
    assert mixed[1] == pytest.approx(0.5) and mixed[2] == pytest.approx((0.5 / 0.9 + 2 / 12) / 2)
    assert mixed[3] == pytest.approx((0.1 / 0.9 + 1) / 2)
    # cutting the rankings deeper or shallower does not change the fused scores of the papers kept
    assert dict(_fusion.blend(dense[:2], keyword[:1], 0.5))[1] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        _fusion.fuse(dense, keyword, ("max", 1))
