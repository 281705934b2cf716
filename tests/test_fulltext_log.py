"""Papers from their PDFs in the log: identification, duplicates, storage, page text, removal, folder import."""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from bench.fulltext_pdfgen import make_paper_pdf
from reading import EncryptedPdf, InvalidInput, PaperNotFound, PdfError, library_dir, open_log
from reading import _db

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
TWO = FIXTURES / "twocolumn.pdf"
ONE = FIXTURES / "onecolumn.pdf"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(log) -> tuple:
    rows = log.conn.execute("SELECT (SELECT count(*) FROM papers), (SELECT count(*) FROM pdfs), "
                            "(SELECT count(*) FROM pages), (SELECT count(*) FROM tags)").fetchone()
    folder = library_dir(log.path)
    files = sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    return tuple(rows), files


def test_add_pdf_logs_the_paper_stores_a_copy_and_its_pages(log, tmp_path):
    src = tmp_path / "mine" / "paper.pdf"
    src.parent.mkdir()
    shutil.copy(TWO, src)
    before = (src.read_bytes(), src.stat().st_mtime_ns)
    result = log.add_pdf(src, fetch=False, tags=["shuffle"])
    paper = result.paper
    assert result.created and not result.duplicate
    assert paper["arxiv_id"] == "1807.11164" and paper["needs_refresh"]  # offline: from the PDF, flagged
    assert paper["title"] == "Efficient Shuffling Networks for Affine Flow Estimation"
    assert paper["authors"] == ["Ada Lovelace", "Grace Hopper"]
    assert paper["status"] == "to-read" and paper["reads"] == [] and paper["tags"] == ["shuffle"]
    assert "title" not in paper["manual_fields"]  # the PDF's title gives way to arXiv's on refresh
    stored = Path(result.pdf["path"])
    assert stored == library_dir(log.path) / _sha(src)[:2] / f"{_sha(src)}.pdf"
    assert stored.read_bytes() == src.read_bytes()
    assert (src.read_bytes(), src.stat().st_mtime_ns) == before  # the user's file is never moved or changed
    [pdf] = log.pdfs(paper["id"])
    assert pdf["page_count"] == 2 and pdf["has_text"] and pdf["file_name"] == "paper.pdf"
    pages = log.pdf_pages(pdf["sha256"])
    assert len(pages) == 2 and "Bravo one." in pages[0] and "Charlie one." in pages[1]
    assert log.pdf_pages(pdf["sha256"], 2, 2) == pages[1:]


def test_doi_and_metadata_identify_a_non_arxiv_paper(log):
    paper = log.add_pdf(ONE).paper
    assert paper["doi"] == "10.1145/3290605.3300001" and paper["arxiv_id"] is None
    assert paper["title"] == "Reading Order of Scientific Documents"
    assert paper["authors"] == ["Alan Turing", "Claude Shannon"] and not paper["needs_refresh"]


def test_arxiv_id_goes_the_normal_arxiv_path(log, tmp_path, arxiv_replay):
    pdf = make_paper_pdf(tmp_path / "x.pdf", title="Heat-Bath Random Walks With Markov Bases",
                         body="markov chains " * 80, header="arXiv:1605.08386v1 [math.ST] 26 May 2016")
    paper = log.add_pdf(pdf).paper
    assert paper["arxiv_id"] == "1605.08386" and paper["title"] == "Heat-bath random walks with Markov bases"
    assert not paper["needs_refresh"] and paper["abstract"]


def test_offline_arxiv_logs_from_the_pdf_and_says_so(log, tmp_path, arxiv_replay):
    arxiv_replay.mode = "offline"
    pdf = make_paper_pdf(tmp_path / "1605.08386v2.pdf", title="A Title Printed In The PDF", body="words " * 80)
    result = log.add_pdf(pdf)
    assert result.paper["title"] == "A Title Printed In The PDF" and result.paper["needs_refresh"]
    assert "reading refresh" in result.message


def test_same_pdf_twice_is_one_paper(log, tmp_path):
    first = log.add_pdf(TWO, fetch=False)
    renamed = tmp_path / "copy of it.pdf"
    shutil.copy(TWO, renamed)
    again = log.add_pdf(renamed, fetch=False, tags=["again"], note="seen twice")
    assert again.duplicate and not again.created and again.paper["id"] == first.paper["id"]
    assert log.count() == 1 and again.paper["tags"] == ["again"]
    assert [n["text"] for n in again.paper["notes"]] == ["seen twice"]
    assert log.conn.execute("SELECT count(*) FROM pdfs").fetchone()[0] == 1


def test_another_file_of_a_paper_in_the_log_joins_it(log, tmp_path):
    typed = log.add("1807.11164", title="Efficient Shuffling Networks", fetch=False, status="to-read")
    result = log.add_pdf(TWO, fetch=False)
    assert not result.created and result.paper["id"] == typed.paper["id"] and log.count() == 1
    assert result.paper["title"] == "Efficient Shuffling Networks"  # typed by the user: kept
    assert len(log.pdfs(typed.paper["id"])) == 1


def test_attach_pdf(log, tmp_path):
    pid = log.add(title="Somebody's Paper", fetch=False).paper["id"]
    result = log.attach_pdf(pid, ONE)
    assert result.paper["id"] == pid and result.paper["title"] == "Somebody's Paper" and log.count() == 1
    assert log.pdfs(pid)[0]["page_count"] == 2
    other = log.add(title="Another Paper", fetch=False).paper["id"]
    with pytest.raises(InvalidInput, match=f"already attached to paper {pid}"):
        log.attach_pdf(other, ONE)
    with pytest.raises(PaperNotFound):
        log.attach_pdf(999, TWO)


@pytest.mark.parametrize("make, error, match", [
    (lambda d: (d / "a.pdf").write_text("hello") and d / "a.pdf", PdfError, "not a PDF"),
    (lambda d: (d / "t.pdf").write_bytes(TWO.read_bytes()[:20000]) and d / "t.pdf", PdfError, "truncated"),
    (lambda d: (d / "c.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 500 + b"\n%%EOF") and d / "c.pdf",
     PdfError, "corrupt"),
    (lambda d: make_paper_pdf(d / "e.pdf", title="Locked Title Here", body="x " * 40, password="pw"),
     EncryptedPdf, "encrypted"),
    (lambda d: d / "missing.pdf", InvalidInput, "no file"),
])
def test_bad_pdf_is_one_line_and_the_log_is_unchanged(log, tmp_path, make, error, match):
    log.add(title="Already Here", fetch=False)
    before = _snapshot(log)
    with pytest.raises(error, match=match) as info:
        log.add_pdf(make(tmp_path))
    assert "\n" not in str(info.value)
    assert _snapshot(log) == before


def test_encrypted_pdf_with_its_password(log, tmp_path):
    locked = make_paper_pdf(tmp_path / "e.pdf", title="Locked Paper Title", body="secret words " * 60, password="pw")
    result = log.add_pdf(locked, password="pw")
    assert result.paper["title"] == "Locked Paper Title" and "secret words" in log.pdf_pages(result.pdf["sha256"])[0]


def test_scanned_pdf_is_kept_and_attached_without_text(log, tmp_path):
    scan = make_paper_pdf(tmp_path / "old_scan.pdf", title="Scanned", body="words " * 300, text=False)
    result = log.add_pdf(scan, title="A Scanned Classic")
    assert result.paper["title"] == "A Scanned Classic" and not result.pdf["has_text"]
    assert "no text layer: metadata from you, full text not searchable" in result.message
    assert Path(result.pdf["path"]).exists() and log.fulltext_search("words") == []
    untitled = log.add_pdf(make_paper_pdf(tmp_path / "another_scan.pdf", title="x", body="y " * 99, text=False))
    assert untitled.paper["title"] == "another scan"  # the file name, until the user edits it


def test_fulltext_search_finds_the_page(log):
    log.add_pdf(TWO, fetch=False)
    log.add_pdf(ONE)
    hits = log.fulltext_search("electroencephalographic terminology", k=5)
    assert hits[0]["page"] == 1 and hits[0]["paper_id"] == 1
    assert {(h["paper_id"], h["page"]) for h in log.fulltext_search("Charlie")} == {(1, 2)}
    assert log.fulltext_search('"unbalanced (quote OR') == []  # any text is accepted, never parsed as FTS syntax


def test_remove_takes_the_pdf_with_it(log):
    keep = log.add_pdf(ONE)
    gone = log.add_pdf(TWO, fetch=False)
    version = log.pages_version()
    log.remove(gone.paper["id"])
    assert not Path(gone.pdf["path"]).exists() and Path(keep.pdf["path"]).exists()
    assert log.fulltext_search("Charlie") == [] and log.pages_version() > version
    assert log.conn.execute("SELECT count(*) FROM pages").fetchone()[0] == 2


def test_import_folder_names_broken_files_and_imports_the_rest(log, tmp_path):
    root = tmp_path / "zotero" / "storage"
    (root / "AB12").mkdir(parents=True)
    (root / "CD34").mkdir()
    shutil.copy(TWO, root / "AB12" / "twocolumn.pdf")
    shutil.copy(ONE, root / "CD34" / "onecolumn.pdf")
    (root / "CD34" / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    (root / "notes.txt").write_text("not a pdf, not looked at")
    report = log.import_pdfs(root)
    assert len(report.added) == 2 and report.already == [] and report.needs_refresh == 1
    assert [name for name, _ in report.failed] == ["CD34/broken.pdf"] and "truncated" in report.failed[0][1]
    assert "imported 2 PDFs, 0 already in the log, 1 failed" in report.summary()
    again = log.import_pdfs(root)  # resumable: what is in the log is skipped
    assert again.added == [] and sorted(again.already) == sorted(report.added) and log.count() == 2
    other = tmp_path / "elsewhere"
    other.mkdir()
    make_paper_pdf(other / "x.pdf", title="Reading Order of Scientific Documents", body="another copy " * 40)
    joined = log.import_pdfs(other)  # another file of a paper in the log (same title): attached to it
    assert joined.joined == [2] and joined.added == [] and log.count() == 2 and len(log.pdfs(2)) == 2
    assert "1 attached to papers already in the log" in joined.summary()


def test_in_memory_log_refuses_pdfs():
    with open_log(":memory:") as mem, pytest.raises(InvalidInput, match="in-memory"):
        mem.add_pdf(TWO, fetch=False)


def test_schema_migrates_an_older_log(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for version in range(3):
        for statement in _db._statements(_db.MIGRATIONS[version]):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute("INSERT INTO papers (title, title_norm, added_at, updated_at) VALUES ('Old', 'old', 'x', 'x')")
    conn.close()
    with open_log(path) as log:
        assert _db.schema_version(log.conn) == _db.SCHEMA_VERSION >= 4
        assert log.count() == 1 and log.pages_version() == 0
        log.attach_pdf(1, ONE)
        assert log.pdfs(1)[0]["page_count"] == 2


def test_import_names_an_encrypted_pdf_and_how_to_add_it(log, tmp_path):
    make_paper_pdf(tmp_path / "locked.pdf", title="Locked Paper Title", body="x " * 40, password="pw")
    shutil.copy(ONE, tmp_path / "open.pdf")
    report = log.import_pdfs(tmp_path)
    assert len(report.added) == 1 and [name for name, _ in report.failed] == ["locked.pdf"]
    assert "encrypted" in report.failed[0][1] and "--password" in report.failed[0][1]


def test_fulltext_search_leaves_out_function_words_unless_nothing_else(log):
    log.add_pdf(TWO, fetch=False)
    log.add_pdf(ONE)
    assert {h["paper_id"] for h in log.fulltext_search("the of with Charlie")} == {1}
    assert log.fulltext_search("the") != []  # a query of function words only still searches them


def test_words_on_most_pages_are_left_out_of_a_large_page_search(log, tmp_path, monkeypatch):
    from bench.fulltext_pdfgen import make_pages_pdf
    from reading import _fulltext

    texts = [f"common {w} and some more words on this page" for w in ("filler", "rare", "unique", "again")]
    log.add_pdf(make_pages_pdf(tmp_path / "p.pdf", texts), title="Four Pages")
    assert {h["page"] for h in log.fulltext_search("common rare unique")} == {1, 2, 3, 4}  # a small log: all words
    monkeypatch.setattr(_fulltext, "COMMON_MIN_PAGES", 1)
    assert {h["page"] for h in log.fulltext_search("common rare unique")} == {2, 3}
    assert {h["page"] for h in log.fulltext_search("common rare")} == {1, 2, 3, 4}  # the two rarest always stay
