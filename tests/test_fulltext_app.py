"""Full text in the app (AppTest, hashed embedder): the Search page's "Full text" scope, a paper's PDF opened at a
page (rendered), and PDFs logged from uploads."""
from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from _apptest import open_page as _at

import reading

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "log.db"
    monkeypatch.setenv("READING_DB", str(path))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    with reading.open_log(path) as log:
        log.add_pdf(FIXTURES / "twocolumn.pdf", fetch=False)
        log.add_pdf(FIXTURES / "onecolumn.pdf")
    return path


def test_full_text_scope_lists_passages_with_pages_and_links_to_the_page(db):
    at = _at("search")
    at.text_input(key="s_query").set_value("Charlie cosine schedule epochs")
    at.session_state["s_scope"] = "Full text"  # the scope's segmented control
    at.run()
    assert not at.exception
    texts = " ".join(m.value for m in at.markdown)
    assert "page 2" in texts and "**Charlie**" in texts and "Efficient Shuffling Networks" in texts
    links = [(e.proto.label, parse_qs(e.proto.query_string)) for e in at.get("page_link")]
    sha = hashlib.sha256((FIXTURES / "twocolumn.pdf").read_bytes()).hexdigest()
    assert ("Open at page 2", {"id": ["1"], "page": ["2"], "pdf": [sha[:16]]}) in links  # that file, that page


def test_papers_scope_still_searches_papers(db):
    at = _at("search")
    at.text_input(key="s_query").set_value("reading order")
    at.run()
    assert not at.exception and not any("Open at page" in e.proto.label for e in at.get("page_link"))


def test_the_paper_page_opens_its_pdf_at_the_requested_page(db):
    at = _at("paper", id="1", page="2")
    key = "pdfpage_" + hashlib.sha256((FIXTURES / "twocolumn.pdf").read_bytes()).hexdigest()[:12]
    assert at.number_input(key=key).value == 2
    [image] = at.get("image")
    assert "page 2 of 2" in str(image.proto)
    assert any("twocolumn.pdf" in m.value and "2 pages" in m.value for m in at.markdown)
    assert any(b.proto.label == "Download the PDF" for b in at.get("download_button"))
    assert any("Charlie one." in t.value for t in at.text)
    at.number_input(key=key).set_value(1).run()
    assert not at.exception and any("Alpha one." in t.value for t in at.text)


def test_a_paper_without_pdf_offers_to_attach_one(db):
    with reading.open_log(db) as log:
        pid = log.add(title="No PDF Here", fetch=False).paper["id"]
    at = _at("paper", id=str(pid))
    assert any("No PDF yet" in c.value for c in at.caption)


class _Upload:
    def __init__(self, path: Path, name: str | None = None) -> None:
        self.name = name or path.name
        self._data = path.read_bytes()

    def getvalue(self) -> bytes:
        return self._data


def test_uploads_are_logged_and_bad_ones_named(db, tmp_path):
    from ui import _fulltext

    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 then nothing")
    with reading.open_log(db) as log:
        from bench.fulltext_pdfgen import make_paper_pdf

        new = make_paper_pdf(tmp_path / "x.pdf", title="An Uploaded Paper Title", body="uploaded words " * 80)
        out = _fulltext.add_uploads(log, [_Upload(new, "upload.pdf"), _Upload(bad),
                                          _Upload(FIXTURES / "onecolumn.pdf")], fetch=False, password=None,
                                    tags=["up"], status="to-read")
        assert [level for level, _, _ in out] == ["success", "error", "success"]
        assert "broken.pdf" in out[1][1] and "truncated" in out[1][1]
        assert "already in the log" in out[2][1]
        paper = log.get(out[0][2])
        assert paper["title"] == "An Uploaded Paper Title" and paper["tags"] == ["up"]
        assert log.pdfs(paper["id"])[0]["file_name"] == "upload.pdf"
