"""The citation graph in the app (AppTest, hashed embedder): a paper's "Cites" / "Cited by" with links and its
neighbourhood graph, and the "Reading suggestions" page."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from _apptest import open_page as _at

import reading
from bench.fulltext_pdfgen import make_paper_pdf

ENTRIES = [
    (5, "[1] K. He, X. Zhang, S. Ren, and J. Sun. Deep residual learning for image recognition. In CVPR, 2016."),
    (5, "[2] D. P. Kingma and J. Ba. Adam: A method for stochastic optimization. arXiv preprint arXiv:1412.6980, "
        "2014."),
]


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "log.db"
    monkeypatch.setenv("READING_DB", str(path))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    with reading.open_log(path) as log:
        log.add("1512.03385", title="Deep Residual Learning for Image Recognition", authors="Kaiming He", year=2015,
                fetch=False)
        for name in ("alpha", "beta"):
            pdf = make_paper_pdf(tmp_path / f"{name}.pdf", title=f"A citing paper called {name}", body="w " * 50)
            result = log.add_pdf(pdf, fetch=False, tags=["nas"])
            log.store_references(result.pdf["sha256"], ENTRIES)
    return path


def _links(at: AppTest) -> list[tuple[str, dict]]:
    return [(e.proto.label, parse_qs(e.proto.query_string)) for e in at.get("page_link")]


def test_the_paper_page_lists_cites_and_cited_by_with_links(db):
    at = _at("paper", id="1")
    texts = " ".join(m.value for m in at.markdown)
    assert "Cited by (in your library)" in texts and "· 2" in texts
    links = _links(at)
    assert ("A citing paper called alpha (p. 5)", {"id": ["2"]}) in links
    assert at.get("segmented_control")  # the neighbourhood's hop control
    at = _at("paper", id="2")
    texts = " ".join(m.value for m in at.markdown)
    assert "Cites (in your library)" in texts and "Adam: A method for stochastic optimization" in texts
    assert ("Deep Residual Learning for Image Recognition (2015)", {"id": ["1"]}) in _links(at)


def test_the_suggestions_page_lists_and_logs_a_suggestion(db):
    at = _at("suggestions")
    texts = " ".join(m.value for m in at.markdown)
    assert "Adam: A method for stochastic optimization" in texts and "**2**" in texts
    assert any("arXiv:1412.6980" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Add as to-read").click().run()
    assert not at.exception
    with reading.open_log(db) as log:
        paper = log.get("1412.6980")
        assert paper["status"] == "to-read"
        assert log.suggest() == []


def test_the_suggestions_page_on_an_empty_log(tmp_path, monkeypatch):
    monkeypatch.setenv("READING_DB", str(tmp_path / "empty.db"))
    at = _at("suggestions")
    assert any("Nothing to suggest yet" in i.value for i in at.info)


def test_graph_elements_keep_edges_between_shown_nodes():
    from ui.citations import graph_elements

    graph = {"nodes": [{"id": 1, "title": "A" * 80, "year": 2020, "hop": 0}, {"id": 2, "title": "B", "year": None,
                                                                          "hop": 1}],
             "edges": [(1, 2), (3, 1)]}
    out = graph_elements(graph, 1)
    assert [n["data"]["label"] for n in out["nodes"]] == ["THIS", "HOP1"]
    assert out["nodes"][0]["data"]["name"].endswith("…") and len(out["nodes"][0]["data"]["name"]) == 40
    assert [e["data"]["id"] for e in out["edges"]] == ["1->2"]
