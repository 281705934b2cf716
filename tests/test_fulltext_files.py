"""The file of every hit (issue 25): full-text rows name their PDF (plain output: the file name as added; JSON:
`file` and `sha256`), "Open at page N" opens that file at that page on top of the paper page, hits scoring 0 are
not listed, and function words are not marked as matches."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest
from click.testing import CliRunner
from _apptest import open_page as _at

import index
import paperzoo
import reading
from bench.fulltext_pdfgen import make_pages_pdf
from paperzoo.reading_cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
TWO = FIXTURES / "twocolumn.pdf"


@pytest.fixture
def two_files(tmp_path, monkeypatch) -> tuple[Path, str, str]:
    """A log whose paper 1 has two PDFs: twocolumn.pdf (2 pages) and its longer version (5 pages; the hit is on
    page 3); returns (db, sha256 of the first, sha256 of the second)."""
    db = tmp_path / "log.db"
    monkeypatch.setenv("READING_DB", str(db))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    pages = ["front matter of the long version " * 20, "background and notation " * 20,
             "we drop the shuffle and the accuracy of the network falls by two points " * 8,
             "more experiments " * 20, "conclusion " * 20]
    longer = make_pages_pdf(tmp_path / "shufflenet-long.pdf", pages)
    with reading.open_log(db) as log:
        first = log.add_pdf(TWO, fetch=False)
        second = log.attach_pdf(first.paper["id"], longer)
    return db, first.pdf["sha256"], second.pdf["sha256"]


def _cli(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def test_cli_rows_name_their_file(two_files):
    db, sha1, sha2 = two_files
    out = _cli(db, "search", "drop the shuffle accuracy falls", "--fulltext", "-k", "3")
    assert out.exit_code == 0, out.output
    first = out.output.splitlines()[0]
    assert "shufflenet-long.pdf, page 3" in first
    rows = json.loads(_cli(db, "search", "drop the shuffle accuracy falls", "--fulltext", "--json").output)
    assert (rows[0]["file"], rows[0]["sha256"], rows[0]["page"]) == ("shufflenet-long.pdf", sha2, 3)
    assert {r["file"] for r in rows if r["sha256"] == sha1} <= {"twocolumn.pdf"}


class _TopicEmbedder(index.HashEmbedder):
    """Texts about zebras point one way, all others another: passages without the word score 0."""

    def __init__(self) -> None:
        super().__init__(8, name="topic-8")

    def encode(self, texts, *, batch_size=32):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, 0 if "zebra" in text.lower() else 1] = 1.0
        return out


def test_hits_scoring_zero_are_not_listed(tmp_path):
    with reading.open_log(tmp_path / "log.db") as log:
        log.add_pdf(make_pages_pdf(tmp_path / "z.pdf", ["a zebra crosses the plain " * 30]), title="Zebras")
        log.add_pdf(TWO, fetch=False)
        for mode in ("hybrid", "dense"):
            hits = paperzoo.search(log, "zebra", 10, mode=mode, embedder=_TopicEmbedder(), fulltext=True)
            assert hits and all(h["score"] > 0 for h in hits), mode
            assert {h["title"] for h in hits} == {"Zebras"}


@pytest.mark.parametrize("query, marked", [
    ("what they drop on the shuffle", "We **drop** the **shuffle** on purpose; they agree."),
    ("the shuffle on", "We drop the **shuffle** on purpose; they agree."),
    ("the", "We drop **the** shuffle on purpose; they agree."),  # a query of nothing else: marked as searched
])
def test_function_words_are_not_marked(query, marked):
    assert index.mark_matches("We drop the shuffle on purpose; they agree.", query) == marked


def test_app_hit_names_its_file_and_links_to_that_file(two_files):
    db, _, sha2 = two_files
    at = _at("search")
    at.text_input(key="s_query").set_value("drop the shuffle accuracy falls")
    at.session_state["s_scope"] = "Full text"
    at.run()
    assert not at.exception
    heads = [m.value for m in at.markdown if m.value.startswith("**1.")]
    assert heads and "`shufflenet-long.pdf` · page 3" in heads[0]
    links = [(e.proto.label, parse_qs(e.proto.query_string)) for e in at.get("page_link")]
    assert ("Open at page 3", {"id": ["1"], "page": ["3"], "pdf": [sha2[:16]]}) in links


def test_open_at_page_opens_that_file_at_that_page_on_top(two_files):
    db, sha1, sha2 = two_files
    at = _at("paper", id="1", page="3", pdf=sha2[:16])
    assert at.number_input(key=f"pdfpage_{sha2[:12]}").value == 3  # not the first file clamped to its page 2
    assert at.number_input(key=f"pdfpage_{sha1[:12]}").value == 1
    images = at.get("image")
    assert "page 3 of 5" in str(images[0].proto)  # that file comes first
    order = [e.value for e in at.main if getattr(e, "type", "") in ("subheader", "markdown") and e.value]
    assert order.index("PDF") < order.index("Abstract")  # on top, not below the fold
    # without a page asked for, the PDFs stay below the abstract, each at its first page
    plain = _at("paper", id="1")
    assert plain.number_input(key=f"pdfpage_{sha2[:12]}").value == 1
