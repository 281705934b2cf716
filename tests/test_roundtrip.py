"""What goes out comes back exactly: every export format into a new log and back out gives the same export, with
the same flags (``*``: metadata awaits a refresh), tags, notes (Chinese too), reads, ratings, status and dates."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from reading import open_log

PDF = Path(__file__).parent / "fixtures" / "pdf" / "onecolumn.pdf"
SUFFIX = {"bibtex": "bib", "json": "json", "csv": "csv"}


@pytest.fixture
def library(tmp_path):
    """The starter set, plus a Chinese note, reads, ratings, a paper logged offline (flagged) and a PDF."""
    with open_log(tmp_path / "original.db") as log:
        log.import_starter()
        first = log.papers(sort="added")[-1]
        log.note(first["id"], "残差学习：恒等映射让很深的网络也容易优化。\n\n- 第二点：瓶颈")
        log.add_read(first["id"], "2024-03-01")
        log.add_read(first["id"], "2024-05-20")
        log.rate(first["id"], 5)
        log.set_status(log.papers(sort="title")[0]["id"], "reading")
        log.add("1905.11946", fetch=False, tags=["efficientnet"], rating=4, status="to-read")  # flagged `*`
        log.add(title="A paper typed by hand", authors="Ann Smith; Bo Li", year=2020, note="手写的笔记",
                read_on="2023-01-02", rating=3)
        log.add_pdf(PDF, fetch=False, tags=["pdf"])
        yield log


def _flags(log):
    return {p["title"]: (p["needs_refresh"], p["status"], p["rating"], p["tags"], [n["text"] for n in p["notes"]],
                         [(r["read_on"], r["created_at"]) for r in p["reads"]], p["added_at"], p["models"],
                         p["manual_fields"], p["url"], p["categories"]) for p in log.papers()}


@pytest.mark.parametrize("fmt", ["json", "csv", "bibtex"])
def test_export_import_export_is_the_same_export(library, tmp_path, monkeypatch, fmt):
    first = library.export(fmt)
    path = tmp_path / f"library.{SUFFIX[fmt]}"
    path.write_text(first, encoding="utf-8")
    # the copy is made later: nothing it holds may take the time of the import for the time of the original
    from reading import _bulk, _log

    monkeypatch.setattr(_bulk, "now_iso", lambda: "2030-01-01T00:00:00+00:00")
    monkeypatch.setattr(_log, "now_iso", lambda: "2030-01-01T00:00:00+00:00")
    with open_log(tmp_path / "copy.db") as copy:
        report = copy.import_file(path)
        assert report["errors"] == [] and report["added"] == library.count()
        again = copy.export(fmt)
        if fmt == "json":
            # an export lists each paper's PDFs (name, pages, sha256) but does not carry them (a backup does)
            papers, copied = json.loads(first), json.loads(again)
            listed = [p.pop("pdfs") for p in papers]
            assert [p for p in listed if p] == [[{"file_name": PDF.name, "pages": 2,
                                                 "sha256": library.pdfs(library.papers()[0]["id"])[0]["sha256"]}]]
            assert [p.pop("pdfs") for p in copied] == [[] for _ in copied]
            assert copied == papers
        else:
            assert again == first
        expected, got = _flags(library), _flags(copy)
        if fmt != "json":  # only the JSON carries when each read was logged
            expected = {k: (*v[:5], [r for r, _ in v[5]], *v[6:]) for k, v in expected.items()}
            got = {k: (*v[:5], [r for r, _ in v[5]], *v[6:]) for k, v in got.items()}
        assert got == expected
        assert [p["title"] for p in copy.papers() if p["needs_refresh"]] == ["arXiv:1905.11946"]
