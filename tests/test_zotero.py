"""Importing a Zotero library: a `zotero.sqlite` built with Zotero's table and column names (bench/zotero_fixture.py,
ids shuffled so that only joins by name work) and a storage folder of reportlab PDFs."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import reading
from bench.zotero_fixture import HIGHLIGHT, ZoteroLibrary, sample_library
from paperzoo.reading_cli import cli


@pytest.fixture(scope="module")
def zot(tmp_path_factory):
    root = tmp_path_factory.mktemp("zotero")
    ids = sample_library(root / "Zotero", root)
    return root / "Zotero", ids


@pytest.fixture(scope="module")
def imported(zot, tmp_path_factory):
    folder, ids = zot
    log = reading.open_log(tmp_path_factory.mktemp("log") / "log.db")
    report = reading.import_zotero(log, folder)
    yield log, report, ids
    log.close()


def _by_title(log, start):
    return next(p for p in log.papers() if p["title"].startswith(start))


def test_items_map_to_papers(imported):
    log, report, _ = imported
    p = _by_title(log, "ShuffleNet: An Extremely")
    assert p["authors"] == ["Xiangyu Zhang", "Xinyu Zhou", "Megvii Research"]  # order kept, editors left out
    assert (p["year"], p["venue"], p["doi"], p["arxiv_id"]) == (2018, "IEEE TPAMI", "10.1109/cvpr.2018.00716",
                                                                "1707.01083")
    assert p["abstract"].startswith("We introduce") and p["url"] == "https://example.org/shufflenet"
    assert p["added_at"].startswith("2019-05-01") and p["source"] == "zotero"
    r = _by_title(log, "Deep Residual")
    assert (r["year"], r["venue"], r["arxiv_id"]) == (2016, "Proceedings of CVPR", "1512.03385")
    assert _by_title(log, "A preprint")["arxiv_id"] == "2302.00001"
    assert _by_title(log, "A preprint")["venue"] == "arXiv"
    assert _by_title(log, "Only a conference name")["venue"] == "ICLR 2020"
    assert _by_title(log, "A book")["authors"] == []  # an editor is not an author
    assert _by_title(log, "A patent")["authors"] == ["In Ventor"]  # the type's primary creator
    titles = {p["title"] for p in log.papers()}
    assert "In the trash" not in titles and not any("note" in t for t in titles)
    # 8 regular items not in the trash (one broken) + one standalone PDF; the DOI duplicate merged
    assert report["added"] == 8 and report["merged"] == 1 and log.count() == 8


def test_tags_collections_and_duplicates(imported):
    log, _, _ = imported
    p = _by_title(log, "ShuffleNet: An Extremely")
    assert set(p["tags"]) == {"efficient", "Computer Science - Computer Vision", "Efficient nets/ShuffleNet",
                              "duplicate-tag"}  # a trashed collection is not a tag; the duplicate's tag joined
    assert "Efficient nets" in _by_title(log, "Deep Residual")["tags"]


def test_notes_and_annotations(imported):
    log, report, _ = imported
    notes = [n["text"] for n in _by_title(log, "ShuffleNet: An Extremely")["notes"]]
    assert notes[0] == ("# Key idea\n\nChannel **shuffle** lets group convolutions talk.\n\n- pointwise group conv"
                        "\n\n中文笔记：通道混洗")
    assert "**Highlight, p. 3**\n\n> channel shuffle operation helps the information flowing\n\nthe trick of the " \
           "paper" in notes
    assert "**Underline, p. 4**\n\n> pointwise group convolutions" in notes
    assert "**Note, p. 5**\n\ncompare with MobileNet v2" in notes
    assert not any("trashed" in n for n in notes) and len(notes) == 4
    assert report["annotations"] == 4 and report["notes"] == 1
    assert report["skipped"]["empty annotations"] == 1 and report["skipped"]["standalone notes"] == 1
    # a highlight finds its paper
    hits = log.keyword_search("information flowing", k=3)
    assert hits and hits[0][0] == _by_title(log, "ShuffleNet: An Extremely")["id"]


def test_pdfs(imported):
    log, report, _ = imported
    shuffle = log.pdfs(_by_title(log, "ShuffleNet: An Extremely")["id"])
    assert [p["file_name"] for p in shuffle] == ["Zhang et al. - 2018 - ShuffleNet.pdf"]
    assert Path(shuffle[0]["path"]).parent.parent == log.library_dir()  # the content-addressed store
    assert "channel shuffle" in log.pdf_pages(shuffle[0]["sha256"])[0]
    assert [p["file_name"] for p in log.pdfs(_by_title(log, "Deep Residual")["id"])] == ["linked resnet.pdf"]
    standalone = _by_title(log, "A Standalone Paper On Pruning")  # logged as `reading add file.pdf` would
    assert log.pdfs(standalone["id"]) and "> magnitude pruning" in standalone["notes"][0]["text"]
    assert report["pdfs"] == 3
    assert len(report["missing"]) == 1 and "gone.pdf" in report["missing"][0]
    assert log.pdfs(_by_title(log, "A paper whose PDF is gone")["id"]) == []
    assert report["skipped"]["HTML snapshots"] == 1 and report["skipped"]["EPUBs"] == 1
    assert report["skipped"]["links"] == 1 and report["skipped"]["in the trash"] == 1
    assert len(report["errors"]) == 1 and "no title" in report["errors"][0]
    line = reading.zotero_summary(report)
    assert line.startswith("added 8 papers, enriched 1, attached 3 PDFs, 1 notes, 4 annotations")
    assert "1 missing files" in line and "1 HTML snapshots" in line


def test_run_again_brings_only_what_is_new(zot, tmp_path):
    folder, _ = zot
    lib = tmp_path / "Zotero"
    import shutil

    shutil.copytree(folder, lib)
    log = reading.open_log(tmp_path / "log.db")
    reading.import_zotero(log, lib)
    before = {p["id"]: (len(p["notes"]), sorted(p["tags"])) for p in log.papers()}
    again = reading.import_zotero(log, lib)
    assert (again["added"], again["merged"], again["pdfs"], again["notes"], again["annotations"]) == (0, 0, 0, 0, 0)
    assert {p["id"]: (len(p["notes"]), sorted(p["tags"])) for p in log.papers()} == before
    # the user edits a title and deletes a note in the log; Zotero gets a new item, note, annotation and tag
    shuffle = _by_title(log, "ShuffleNet: An Extremely")
    log.update(shuffle["id"], title="ShuffleNet (my title)")
    log.delete_note(shuffle["notes"][0]["id"])
    z = ZoteroLibrary.reopen(lib)  # Zotero adds to the library meanwhile
    item_id = z.item_id(zot[1]["shufflenet_key"])
    att = z.conn.execute("SELECT itemID FROM itemAttachments WHERE parentItemID = ? AND contentType = "
                         "'application/pdf'", (item_id,)).fetchone()[0]
    z.add_note(item_id, "<p>A new thought</p>")
    z.add_annotation(att, HIGHLIGHT, text="a new highlight", page_label="7")
    z.add_tag(item_id, "new-tag")
    z.add_item("journalArticle", fields={"title": "A brand new paper"})
    z.close()
    third = reading.import_zotero(log, lib)
    assert (third["added"], third["merged"], third["notes"], third["annotations"]) == (1, 1, 1, 1)
    after = log.get(shuffle["id"])
    texts = [n["text"] for n in after["notes"]]
    assert "A new thought" in texts and any("a new highlight" in t for t in texts)
    assert not any(t.startswith("# Key idea") for t in texts)  # deleted in the log: not brought back
    assert "new-tag" in after["tags"] and log.count() == 9
    log.remove(_by_title(log, "A brand new paper")["id"])
    fourth = reading.import_zotero(log, lib)
    assert fourth["added"] == 0 and log.count() == 8  # removed in the log: stays removed
    log.close()


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


LOCKER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {sys.argv[2]}")
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("UPDATE itemDataValues SET value = 'Renamed while locked' WHERE value = 'A book'")
    conn.execute("COMMIT")       # in WAL mode: committed to the WAL, not yet in the main file
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("UPDATE itemDataValues SET value = 'Uncommitted' WHERE value = 'A patent'")
    print("locked", flush=True)
    time.sleep(60)
""")


@pytest.mark.parametrize("journal", ["WAL", "DELETE"])
def test_reads_a_locked_library_without_touching_it(zot, tmp_path, journal):
    """Zotero running: an exclusive lock held, a transaction open (its journal on disk), and in WAL mode committed
    changes not yet in the main file."""
    import shutil

    lib = tmp_path / "Zotero"
    shutil.copytree(zot[0], lib)
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(lib / "zotero.sqlite"), journal],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        listing = sorted(p.name for p in lib.iterdir())
        import sqlite3

        with pytest.raises(sqlite3.OperationalError):  # the lock is real: opening the file in place fails
            sqlite3.connect(f"file:{lib / 'zotero.sqlite'}?mode=ro", uri=True).execute(
                "SELECT count(*) FROM items").fetchone()
        before = _digest(lib)
        log = reading.open_log(tmp_path / "log.db")
        report = reading.import_zotero(log, lib)
        assert _digest(lib) == before  # byte-identical, and no file added (journal, -shm, copy)
        titles = {p["title"] for p in log.papers()}
        assert "Renamed while locked" in titles and "A patent" in titles and "Uncommitted" not in titles
        assert report["added"] == 8 and sorted(p.name for p in lib.iterdir()) == listing
        log.close()
    finally:
        locker.kill()
        locker.wait()


def test_database_left_byte_identical(zot, tmp_path):
    folder, _ = zot
    before = _digest(folder)
    listing = sorted(p.name for p in folder.iterdir())
    log = reading.open_log(tmp_path / "log.db")
    reading.import_zotero(log, folder / "zotero.sqlite")  # the file itself works too
    assert _digest(folder) == before and sorted(p.name for p in folder.iterdir()) == listing
    log.close()


def test_not_a_zotero_folder(tmp_path):
    log = reading.open_log(tmp_path / "log.db")
    with pytest.raises(reading.InvalidInput, match="no zotero.sqlite"):
        reading.import_zotero(log, tmp_path)
    (tmp_path / "z").mkdir()
    import sqlite3

    sqlite3.connect(tmp_path / "z" / "zotero.sqlite").execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(reading.InvalidInput, match="not a Zotero database"):
        reading.import_zotero(log, tmp_path / "z")
    (tmp_path / "z" / "zotero.sqlite").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(reading.InvalidInput, match="not a readable SQLite database"):
        reading.import_zotero(log, tmp_path / "z")
    log.close()


def test_cli(zot, tmp_path, monkeypatch):
    folder, _ = zot
    db = tmp_path / "log.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "import", "--zotero", str(folder)])
    assert result.exit_code == 0, result.output
    assert "added 8 papers, enriched 1, attached 3 PDFs" in result.stdout
    assert "missing: A paper whose PDF is gone" in result.stderr and "skipped: item" in result.stderr
    again = runner.invoke(cli, ["--db", str(db), "import", str(folder)])  # a folder holding zotero.sqlite
    assert again.exit_code == 0 and again.stdout.startswith("added 0 papers, enriched 0, attached 0 PDFs")
    monkeypatch.setenv("HOME", str(tmp_path))  # the default: ~/Zotero
    nothing = runner.invoke(cli, ["--db", str(db), "import", "--zotero"])
    assert nothing.exit_code == 1 and "no Zotero data folder" in nothing.stderr and "Traceback" not in nothing.output
    with reading.open_log(db) as log:
        assert log.count() == 8


def test_a_big_library_reads_fast(tmp_path):
    """Metadata, notes and annotations of 300 items: well under the 60 s the bench allows 1,800 (no PDFs)."""
    z = ZoteroLibrary(tmp_path / "Zotero")
    for i in range(300):
        item, _ = z.add_item(fields={"title": f"Paper number {i}", "date": "2020"},
                             creators=[("author", "A", f"Author{i}")], tags=[f"t{i % 7}"])
        z.add_note(item, f"<p>note {i}</p>")
        att, _ = z.add_attachment(item, None, name=f"{i}.pdf")
        z.add_annotation(att, HIGHLIGHT, text=f"highlight {i}", page_label="2")
    z.close()
    log = reading.open_log(tmp_path / "log.db")
    t0 = time.perf_counter()
    report = reading.import_zotero(log, tmp_path / "Zotero")
    assert report["added"] == 300 and report["annotations"] == 300 and len(report["missing"]) == 300
    assert time.perf_counter() - t0 < 20
    log.close()


def _app(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("READING_DB", str(tmp_path / "log.db"))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/pages/log_paper.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _import_button(at):
    return next(b for b in at.button if b.label == "Import" and "log_library" in b.form_id)


def test_app_imports_a_zotero_library(zot, tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.text_input(key="li_folder").input(str(tmp_path / "nowhere"))
    _import_button(at).click().run()
    assert not at.exception and len(at.error) == 1 and "no Zotero data folder" in at.error[0].value
    at.text_input(key="li_folder").input(str(zot[0]))
    _import_button(at).click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Imported: added 8 papers, enriched 1, attached 3 PDFs")
    assert any(e.label.startswith("Missing files (1)") for e in at.expander)
    with reading.open_log(tmp_path / "log.db") as log:
        assert log.count() == 8


def test_app_imports_an_uploaded_file(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.radio(key="li_source").set_value("BibTeX, CSL-JSON or RIS file").run()
    ris = b"TY  - JOUR\nAU  - He, Kaiming\nTI  - Deep Residual Learning\nPY  - 2016\nER  - \n"
    next(u for u in at.get("file_uploader") if "li_file" in u.proto.id).set_value(
        ("refs.ris", ris, "application/x-research-info-systems"))
    _import_button(at).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith("Imported: added 1, merged 0")
    with reading.open_log(tmp_path / "log.db") as log:
        assert log.papers()[0]["authors"] == ["Kaiming He"]


def test_linked_files_relative_to_the_base_folder(tmp_path, monkeypatch):
    """A linked file stored as ``attachments:<relative path>``: found under --attachments-base, else under the
    base folder in Zotero's prefs.js, else named as missing."""
    from bench.fulltext_pdfgen import make_paper_pdf
    from bench.zotero_fixture import LINKED_FILE

    papers = tmp_path / "My papers"
    (papers / "vision").mkdir(parents=True)
    make_paper_pdf(papers / "vision" / "x.pdf", title="A Linked Paper", body=["linked words " * 40])
    z = ZoteroLibrary(tmp_path / "Zotero")
    item, _ = z.add_item(fields={"title": "A Linked Paper"})
    z.add_attachment(item, link_mode=LINKED_FILE, path="attachments:vision/x.pdf")
    z.close()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    log = reading.open_log(tmp_path / "a.db")
    report = reading.import_zotero(log, tmp_path / "Zotero")
    assert report["pdfs"] == 0 and "attachments:vision/x.pdf" in report["missing"][0]
    log.close()
    with reading.open_log(tmp_path / "b.db") as log:
        assert reading.import_zotero(log, tmp_path / "Zotero", attachments_base=papers)["pdfs"] == 1
    prefs = tmp_path / "home" / ".zotero" / "zotero" / "abcd.default" / "prefs.js"
    prefs.parent.mkdir(parents=True)
    prefs.write_text(f'user_pref("extensions.zotero.baseAttachmentPath", "{papers}");\n', encoding="utf-8")
    with reading.open_log(tmp_path / "c.db") as log:
        assert reading.import_zotero(log, tmp_path / "Zotero")["pdfs"] == 1


def test_a_paper_already_in_the_log_is_enriched(zot, tmp_path):
    log = reading.open_log(tmp_path / "log.db")
    log.add("1512.03385", title="ResNet (logged by hand)", fetch=False, tags=["mine"], note="my own note")
    report = reading.import_zotero(log, zot[0])
    assert report["added"] == 7 and report["merged"] == 2 and log.count() == 8
    resnet = log.get("1512.03385")
    assert resnet["title"] == "ResNet (logged by hand)" and {"mine", "Efficient nets"} <= set(resnet["tags"])
    assert [p["file_name"] for p in log.pdfs(resnet["id"])] == ["linked resnet.pdf"]
    assert resnet["notes"][0]["text"] == "my own note" and resnet["year"] == 2016  # blanks filled, nothing replaced
    log.close()


def test_an_unknown_schema_is_one_line(tmp_path):
    z = ZoteroLibrary(tmp_path / "Zotero")
    z.conn.execute("ALTER TABLE itemAttachments RENAME COLUMN contentType TO mimeType")  # Zotero 4's name
    z.close()
    with reading.open_log(tmp_path / "log.db") as log, pytest.raises(reading.InvalidInput, match="cannot read"):
        reading.import_zotero(log, tmp_path / "Zotero")


def test_progress_is_reported_per_phase(zot, tmp_path):
    seen: list[tuple[str, int, int]] = []
    with reading.open_log(tmp_path / "log.db") as log:
        reading.import_zotero(log, zot[0], on_progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert seen[0][0] == "items" and seen[-1] == ("pdfs", 4, 4)  # 3 attached + the missing one, named
    assert ("items", 9, 9) in seen
