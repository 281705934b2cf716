"""Bulk intake and export: Zotero BibTeX, our BibTeX/JSON/CSV round trips, arXiv JSONL snapshots, starter set."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from reading import InvalidInput, open_log
from reading import _export, _intake

FIXTURES = Path(__file__).parent / "fixtures"


def test_zotero_export_imports(log):
    report = _intake.import_file(log, FIXTURES / "bibtex" / "zotero_export.bib")
    assert report["added"] == 6 and report["errors"] == []
    resnet = log.get("1512.03385")  # arXiv id found in url / arXiv DOI
    assert resnet["title"] == "Deep Residual Learning for Image Recognition"
    assert resnet["authors"] == ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"]
    assert resnet["tags"] == ["resnet", "to-cite"]  # Zotero's automatic arXiv subject keyword is not a tag
    assert resnet["abstract"].startswith("Deeper neural networks") and resnet["status"] == "to-read"
    v2 = log.get("10.1007/978-3-030-01264-9_8")
    assert v2["title"] == "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design"
    assert v2["venue"] == "Computer Vision – ECCV 2018" and v2["notes"][0]["text"].startswith("Four guidelines")
    assert log.get("1904.00420")["tags"] == ["nas", "one-shot"]
    assert log.get("1903.10979")["venue"] is None  # "arXiv preprint" is not a venue
    cafe = next(p for p in log.papers() if p["title"].startswith("Caf"))
    assert cafe["title"] == "Café & Naïve Bayes: a Test entry" and cafe["authors"] == ["Jörg Müller", "Anna van der Berg"]
    assert log.get("10.1145/3065386")["venue"] == "Communications of the ACM"
    again = _intake.import_file(log, FIXTURES / "bibtex" / "zotero_export.bib")
    assert again["added"] == 0 and again["merged"] == 6 and log.count() == 6


def _rich_library(log):
    log.add("1512.03385", fetch=False, title="Deep Residual Learning", authors="Kaiming He; Xiangyu Zhang", year=2015,
            venue="CVPR 2016", abstract="Residual {learning} with 100% & $x^2$.", tags=["resnet", "cv"],
            note="残差学习：恒等映射。\n\n- *Markdown* list\n- `code` {braces} \\alpha", rating=5, read_on="2026-11-01")
    log.add("1512.03385", fetch=False, note="第二条笔记", read_on="2026-11-05")
    log.add(None, title="Communications paper", authors=["Alex Krizhevsky"], year=2017, venue="Communications of the ACM",
            doi="10.1145/3065386", status="to-read")
    log.add(None, title="No metadata at all")
    log.link_model("resnet50", "1512.03385")


def _comparable(log):
    keep = ("arxiv_id", "doi", "title", "authors", "abstract", "year", "venue", "categories", "url", "status",
            "rating", "tags", "models", "added_at")
    out = []
    for p in log.papers(sort="title"):
        row = {k: p[k] for k in keep}
        row["notes"] = [n["text"] for n in p["notes"]]
        row["reads"] = [r["read_on"] for r in p["reads"]]
        out.append(row)
    return out


@pytest.mark.parametrize("fmt", ["bibtex", "json", "csv"])
def test_export_reimports_to_the_same_library(log, tmp_path, fmt):
    _rich_library(log)
    out = tmp_path / f"lib.{ {'bibtex': 'bib'}.get(fmt, fmt) }"
    _export.write_atomic(out, log.export(fmt))
    with open_log(tmp_path / "copy.db") as copy:
        report = copy.import_file(out)
        assert report["errors"] == [] and report["added"] == 3
        expected = _comparable(log)
        got = _comparable(copy)
        assert got == expected  # zoo links too, CSV included


def test_export_filtered_by_tag_and_atomic_write_leaves_no_temp(log, tmp_path):
    _rich_library(log)
    text = _export.export_text(log, "json", tag="cv")
    assert [p["title"] for p in json.loads(text)] == ["Deep Residual Learning"]
    target = tmp_path / "out" / "x.json"
    _export.write_atomic(target, text)
    _export.write_atomic(target, text)
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


@pytest.mark.parametrize("name, content", [("x.bib", "just some words"), ("x.json", "{not json"),
                                           ("x.csv", "a,b\n1,2\n"), ("x.txt", "whatever")])
def test_bad_import_files_are_one_line_errors_and_store_nothing(log, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        _intake.import_file(log, path)
    assert "\n" not in str(err.value) and log.count() == 0


def _snapshot_line(i: int) -> str:
    return json.dumps({
        "id": f"2101.{i:05d}", "submitter": "Someone", "authors": "A. Author, B. Writer and C. Third",
        "title": f"  Paper number {i}\n on topic {i % 7}", "comments": "10 pages", "journal-ref": None,
        "doi": None, "report-no": None, "categories": "cs.CV cs.LG", "license": None,
        "abstract": f"  We study problem {i}.\nIt matters.\n",
        "versions": [{"version": "v1", "created": "Mon, 4 Jan 2021 18:59:59 GMT"}],
        "update_date": "2021-01-05",
        "authors_parsed": [["Author", "A.", ""], ["Writer", "B.", ""], ["Third", "C.", "Jr"]],
    })


def test_jsonl_snapshot_streams_with_fields_mapped(log, tmp_path):
    path = tmp_path / "snap.jsonl"
    path.write_text("\n".join(_snapshot_line(i) for i in range(1, 8)) + "\n{broken\n", encoding="utf-8")
    report = _intake.import_file(log, path)
    assert report["added"] == 7 and len(report["errors"]) == 1 and "line 8" in report["errors"][0]
    paper = log.get("2101.00003")
    assert paper["title"] == "Paper number 3 on topic 3" and paper["abstract"] == "We study problem 3. It matters."
    assert paper["authors"] == ["A. Author", "B. Writer", "C. Third Jr"]
    assert paper["year"] == 2021 and paper["published"] == "2021-01-04" and paper["categories"] == ["cs.CV", "cs.LG"]
    assert not paper["needs_refresh"] and paper["status"] == "to-read"


def test_jsonl_import_resumes_after_an_interrupt_without_duplicates(tmp_path, monkeypatch):
    path = tmp_path / "snap.jsonl"
    path.write_text("\n".join(_snapshot_line(i) for i in range(1, 51)) + "\n", encoding="utf-8")
    db = tmp_path / "resume.db"
    real = _intake._commit_batch
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if Ctrl-C arrived during the third batch
        return real(*args, **kwargs)

    monkeypatch.setattr(_intake, "_commit_batch", interrupting)
    with open_log(db) as log, pytest.raises(KeyboardInterrupt):
        _intake.import_jsonl(log, path, batch=10)
    with open_log(db) as log:
        assert log.count() == 20  # two whole batches, nothing half-written
    monkeypatch.setattr(_intake, "_commit_batch", real)
    with open_log(db) as log:
        report = _intake.import_jsonl(log, path, batch=10)
        assert report["resumed_at"] > 0 and report["added"] == 30 and report["merged"] == 0
        assert log.count() == 50 and {p["arxiv_id"] for p in log.papers()} == {f"2101.{i:05d}" for i in range(1, 51)}
        assert log.get_setting(f"import.jsonl:{path.resolve()}") is None


def test_jsonl_import_alongside_a_cli_writer(tmp_path):
    """A bulk import and interactive logging at the same time: both land."""
    path = tmp_path / "snap.jsonl"
    path.write_text("\n".join(_snapshot_line(i) for i in range(1, 201)) + "\n", encoding="utf-8")
    db = tmp_path / "both.db"
    open_log(db).close()

    def importer():
        with open_log(db) as log:
            _intake.import_jsonl(log, path, batch=20)

    t = threading.Thread(target=importer)
    t.start()
    with open_log(db) as log:
        for i in range(20):
            log.add(None, title=f"typed while importing {i}")
    t.join()
    with open_log(db) as log:
        assert log.count() == 220


def test_starter_set_uses_canonical_zoo_names(log):
    data = _intake.starter_papers()
    assert len(data["papers"]) == 23 and "arXiv" in data["about"]
    names = {m for p in data["papers"] for m in p["zoo_models"]}
    for family in ("shufflenet_v1", "shufflenet_v2", "spos", "resnet"):
        assert family not in names  # family names are resolved
    assert {"resnet50", "resnet50_v1", "spos_a", "spos_ac", "spos_supernet", "shufflenet_v1_g3_x1_0",
            "shufflenet_v1_g8_x2_0_megvii", "shufflenet_v2_x1_0_megvii"} <= names
    assert len([n for n in names if n.startswith("shufflenet_v1_")]) == 20 + 8
    report = log.import_starter()
    assert report["added"] == 23 and report["links"] == len(names)
    assert log.get("1904.00420")["models"] == ["spos_a", "spos_ac", "spos_supernet"]
    assert {p["title"] for p in log.papers_for_model("resnet50_v1")} == {"Deep Residual Learning for Image Recognition"}
    alexnet = [p for p in log.papers() if p["arxiv_id"] is None]
    assert len(alexnet) == 1 and alexnet[0]["year"] == 2012
    assert sum(p["needs_refresh"] for p in log.papers()) == 0  # shipped complete (summaries as notes)


def test_bulk_records_with_odd_years_are_kept(log, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("title,year,authors\nKept paper,None,A B; C D\nAlso kept,801,\n", encoding="utf-8")
    report = log.import_file(path)
    assert report["added"] == 2 and report["errors"] == []
    assert {p["year"] for p in log.papers()} == {None}


KILLABLE_IMPORT = r"""
import sys
from reading import open_log
from reading._intake import import_jsonl
with open_log(sys.argv[1]) as log:
    import_jsonl(log, sys.argv[2], batch=25)
"""


def test_jsonl_import_killed_mid_way_resumes_consistently(tmp_path):
    """kill -9 during a bulk import: the log stays consistent and a rerun completes it without duplicates."""
    import os
    import signal
    import subprocess
    import sys
    import time

    n = 1500
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(_snapshot_line(i) for i in range(1, n + 1)) + "\n", encoding="utf-8")
    db = tmp_path / "killed.db"
    open_log(db).close()
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE_IMPORT, str(db), str(path)])
    try:
        deadline = time.monotonic() + 60
        with open_log(db) as watcher:
            while watcher.count() == 0 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    with open_log(db) as log:
        assert log.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        partial = log.count()
        assert partial % 25 == 0 or partial == n  # whole batches only
        report = log.import_file(path)
        assert report["added"] + partial == n and (report["resumed_at"] > 0 or partial == 0)
        assert log.count() == n


# --- hostile input (issue 13): per-record errors, round trips, export targets, concurrency, speed ---------------


@pytest.mark.parametrize("field,value,reason", [
    ("authors", ["A", "B"], "'authors' must be a string"),
    ("categories", ["cs.CV"], "'categories' must be a string"),
    ("versions", [{"created": 5}], "'versions' must be a list of objects"),
    ("authors_parsed", [1, 2], "'authors_parsed' must be a list"),
    ("id", 1512.03385, "'id' must be a string"),
])
def test_a_wrongly_typed_jsonl_line_is_skipped_named_and_passed(tmp_path, field, value, reason):
    lines = [json.loads(_snapshot_line(i)) for i in range(1, 6)]
    lines[2][field] = value  # line 3
    path = tmp_path / "snap.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    db = tmp_path / "log.db"
    with open_log(db) as log:
        report = _intake.import_jsonl(log, path, batch=2)
        assert report["added"] == 4 and len(report["errors"]) == 1
        assert report["errors"][0].startswith("line 3: ") and reason in report["errors"][0]
        assert log.get_setting(f"import.jsonl:{path.resolve()}") is None  # finished: the offset moved past it
        # a rerun is not stuck on that line either
        again = _intake.import_jsonl(log, path, batch=2)
        assert again["merged"] == 4 and len(again["errors"]) == 1 and log.count() == 4


def test_a_bad_line_inside_a_resumed_jsonl_import_is_named_by_byte_offset(tmp_path, monkeypatch):
    lines = [_snapshot_line(i) for i in range(1, 7)]
    lines[4] = lines[4].replace('"cs.CV cs.LG"', '["cs.CV"]')
    path = tmp_path / "snap.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "log.db"
    real = _intake._commit_batch
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_intake, "_commit_batch", interrupting)
    with open_log(db) as log, pytest.raises(KeyboardInterrupt):
        _intake.import_jsonl(log, path, batch=2)
    monkeypatch.setattr(_intake, "_commit_batch", real)
    with open_log(db) as log:
        report = _intake.import_jsonl(log, path, batch=2)
        assert report["resumed_at"] > 0 and len(report["errors"]) == 1 and "at byte" in report["errors"][0]
        assert log.count() == 5


def test_a_json_record_without_text_or_read_on_is_skipped_the_rest_imported(log, tmp_path):
    papers = [
        {"title": "Good one", "notes": [{"text": "kept"}], "reads": [{"read_on": "2026-01-02"}]},
        {"title": "Note without text", "notes": [{"created_at": "2026-01-01"}]},
        {"title": "Read without a date", "reads": [{"created_at": "2026-01-01"}]},
        {"title": "Tags as one string", "tags": "a,b"},
        {"title": "Garbage added_at", "added_at": "garbage"},
        {"title": "Read in 2999", "reads": ["2999-01-01"]},
        {"title": "Nested", "notes": [[["deep"]]]},
        {"title": "Good two", "tags": ["x"]},
    ]
    path = tmp_path / "papers.json"
    path.write_text(json.dumps(papers), encoding="utf-8")
    report = _intake.import_file(log, path)
    assert report["added"] == 2 and len(report["errors"]) == 6
    assert [e.split(":")[0] for e in report["errors"]] == [f"paper {i}" for i in range(1, 7)]
    joined = " | ".join(report["errors"])
    assert "without 'text'" in joined and "without 'read_on'" in joined and "tags must be a list" in joined
    assert "bad added_at" in joined and "in the future" in joined
    assert {p["title"] for p in log.papers()} == {"Good one", "Good two"}
    assert log.get(log.papers(sort="title")[0]["id"])["notes"][0]["text"] == "kept"


def test_a_json_file_nested_100000_deep_is_one_line(log, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InvalidInput, match="nested too deeply"):
        _intake.import_file(log, path)
    deep = tmp_path / "deep.jsonl"
    deep.write_text(_snapshot_line(1) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n" + _snapshot_line(2) + "\n")
    report = _intake.import_file(log, deep)
    assert report["added"] == 2 and report["errors"] == ["line 2: nested too deeply"]


HOSTILE_TEXT = {
    "title": "=HYPERLINK(\"http://evil\",\"click\")",
    "authors": ["+Plus Author", "Semi; Colon", "Back\\slash"],
    "tags": ["a;b", "c,d", "-minus", "@at", "'=quoted", "\\;x", "''"],
    "notes": ["first\n\n-----\n\nstill the first", "-----", "\\-----", "\tTabbed", "\rCR start"],
}


@pytest.mark.parametrize("fmt", ["csv", "bibtex", "json"])
def test_separators_formulas_and_rules_inside_fields_round_trip_exactly(tmp_path, fmt):
    with open_log(tmp_path / "a.db") as log:
        log.add(None, title=HOSTILE_TEXT["title"], authors=HOSTILE_TEXT["authors"], tags=HOSTILE_TEXT["tags"],
                note=HOSTILE_TEXT["notes"], fetch=False, read_on="2026-11-30")
        text = _export.export_text(log, fmt)
        before = log.papers()[0]
    if fmt == "csv":
        import csv
        import io

        rows = list(csv.reader(io.StringIO(text)))
        for cell in rows[1]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell  # no formula reaches a spreadsheet
    path = tmp_path / f"out.{ {'csv': 'csv', 'bibtex': 'bib', 'json': 'json'}[fmt] }"
    path.write_text(text, encoding="utf-8")
    with open_log(tmp_path / "b.db") as log:
        report = _intake.import_file(log, path)
        assert report["errors"] == [] and report["added"] == 1
        after = log.papers()[0]
    assert after["title"] == before["title"] and after["authors"] == before["authors"]
    assert sorted(after["tags"]) == sorted(before["tags"])
    assert [n["text"] for n in after["notes"]] == [n["text"] for n in before["notes"]] == HOSTILE_TEXT["notes"]


def test_cell_neutralisation_is_exactly_undone():
    for value in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=x", "''", "'", "'plain", "plain", "", "=", "'\t"]:
        cell = _intake.neutralise_cell(value)
        assert not cell.startswith(_intake._FORMULA_START) and _intake.restore_cell(cell) == value


@pytest.mark.parametrize("text", ["１５１２.０３３８５", "\u0661\u0665\u0661\u0662.03385", "1513.03385",
                                  "1500.03385", "1512.03385v0", "cs/0113017", "arXiv:1512.03385v00", "1512.0338５"])
def test_arxiv_ids_take_ascii_digits_real_months_and_versions_from_1(text):
    from reading import InvalidArxivId, parse_arxiv_id

    with pytest.raises(InvalidArxivId):
        parse_arxiv_id(text)


@pytest.mark.parametrize("text,expected", [("1512.03385v1", "1512.03385"), ("0704.0001", "0704.0001"),
                                           ("cs/0112017v3", "cs/0112017"), ("2412.12345", "2412.12345")])
def test_valid_arxiv_ids_still_parse(text, expected):
    from reading import parse_arxiv_id

    assert parse_arxiv_id(text) == expected


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_refuses_the_log_itself_by_path_symlink_or_hard_link(tmp_path):
    import os

    db = tmp_path / "log.db"
    with open_log(db) as log:
        log.add(None, title="Precious", fetch=False)
        text = log.export("json")
        (tmp_path / "link.db").symlink_to(db)
        os.link(db, tmp_path / "hard.db")
        pdfs = _export.log_files(log)[-1]
        pdfs.mkdir()
        for target in [db, tmp_path / "link.db", tmp_path / "hard.db", tmp_path / "sub" / ".." / "log.db",
                       Path(str(db) + "-wal"), pdfs / "x.json"]:
            with pytest.raises(InvalidInput, match="refusing to write"):
                _export.write_atomic(target, text, protect=_export.log_files(log))
        assert log.count() == 1 and log.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_follows_a_symlink_writes_through_a_fifo_and_keeps_the_umask(tmp_path):
    import os
    import stat

    real = tmp_path / "real.bib"
    real.write_text("old")
    link = tmp_path / "link.bib"
    link.symlink_to(real)
    _export.write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    _export.write_atomic(fifo, "through the pipe")
    reader.join(5)
    assert got == ["through the pipe"] and stat.S_ISFIFO(os.stat(fifo).st_mode)

    old = os.umask(0o027)
    try:
        _export.write_atomic(tmp_path / "fresh.csv", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "fresh.csv").st_mode) == 0o640
    kept = tmp_path / "kept.csv"
    kept.write_text("x")
    kept.chmod(0o604)
    _export.write_atomic(kept, "y")
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o604 and kept.read_text() == "y"

    with pytest.raises(InvalidInput, match="cannot write /proc/x.csv"):
        _export.write_atomic(Path("/proc/x.csv"), "x")
    with pytest.raises(InvalidInput, match="it is a folder"):
        _export.write_atomic(tmp_path, "x")


def test_a_bibtex_import_never_holds_the_write_lock_while_parsing(tmp_path):
    """A concurrent add waits well under 2 s, whatever the size of the import (parse first, short batches)."""
    import sys
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.import_speed import make_bib

    bib = tmp_path / "big.bib"
    bib.write_text(make_bib(1500), encoding="utf-8")
    db = tmp_path / "log.db"
    open_log(db).close()
    done, waits = threading.Event(), []

    def importer():
        with open_log(db) as log:
            log.import_file(bib)
        done.set()

    t = threading.Thread(target=importer)
    t.start()
    with open_log(db) as log:
        k = 0
        while not done.is_set():
            start = time.perf_counter()
            log.add(None, title=f"typed during the import {k}", fetch=False)
            waits.append(time.perf_counter() - start)
            k += 1
            time.sleep(0.05)
    t.join()
    assert waits and max(waits) < 2.0, max(waits)
    with open_log(db) as log:
        assert log.count() == 1500 + len(waits)


def test_latex_is_decoded_only_where_needed_with_the_full_decoders_result():
    import random

    from bibtexparser import middlewares as mw

    full = mw.LatexDecodingMiddleware()._decoder.latex_to_text
    ours = _intake._latex_decoder()._transform_python_value_string
    atoms = ["word", "{CNN}", "\\%", "--", "``q''", "\\&", "{\\\"u}", "\\c c", "\\o", "\\ss{}", "x~y", "\\emph{a b}",
             "{a {b} c}", "\\LaTeX{}", "a\\\\b", "\\ ", "\\url{http://x/a_b}", "?`", "\\{", "}", "{", "%", "$x$", "\\"]
    rng = random.Random(13)
    for _ in range(300):
        text = "".join(rng.choice(atoms) + rng.choice([" ", "  ", "\n", "\t"]) for _ in range(rng.randint(5, 60)))
        assert ours(text)[0] == full(text), text


def test_offline_read_again_says_what_happened_and_a_held_doi_is_reported(log):
    from reading._arxiv import FetchError

    class Offline:
        def results(self, search):
            raise FetchError("arXiv is unreachable (offline?)")

    first = log.add("1807.11164", fetch=False, read_on="2026-11-01")
    assert first.created and first.paper["needs_refresh"]
    again = log.add("1807.11164", client=Offline(), read_on="2026-11-02")
    assert not again.created and "logged arXiv" not in (again.message or "") and "pending" in again.message
    log.update(first.paper["id"], doi="10.1000/xyz")  # held by a paper with another arXiv id
    other = log.add("1512.03385", doi="10.1000/xyz", fetch=False)
    assert other.created and other.paper["doi"] is None and "10.1000/xyz" in other.message


def test_two_notes_are_both_kept_and_future_reads_are_refused(log):
    from reading import InvalidInput as Bad

    paper = log.add(None, title="Two notes", note=["one", "two"], fetch=False).paper
    assert [n["text"] for n in paper["notes"]] == ["one", "two"]
    with pytest.raises(Bad, match="in the future"):
        log.add(None, title="Later", read_on="2999-01-01", fetch=False)
    with pytest.raises(Bad, match="in the future"):
        log.add_read(paper["id"], "2999-01-01")
    assert log.count() == 1


def test_a_huge_stats_window_is_every_day(log):
    log.add(None, title="Read once", fetch=False, read_on="2026-01-01")
    data = log.stats(window_days=100_000_000, today="2026-11-30")
    assert data["reads_in_window"] == 1 and data["avg_per_day"] == 1 / 100_000_000


def test_no_bibtex_entry_is_dropped_silently(log, tmp_path):
    """A second entry under an existing key is still a paper; a broken entry is named with its line."""
    bib = tmp_path / "dup.bib"
    bib.write_text("@article{a, title={One}}\n@article{a, title={Two}, author={M{\\\"u}ller, J.}}\n"
                   "@article{b, title={Three\n@article{c, title={Four}}\n", encoding="utf-8")
    report = _intake.import_file(log, bib)
    assert report["added"] == 3 and len(report["errors"]) == 1
    assert report["errors"][0].startswith("line 3: ") and "closing" in report["errors"][0]
    assert sorted(p["title"] for p in log.papers()) == ["Four", "One", "Two"]
    assert log.papers(sort="title")[2]["authors"] == ["J. Müller"]


def test_a_long_abstract_survives_the_csv_round_trip(tmp_path):
    with open_log(tmp_path / "a.db") as log:
        log.add(None, title="Long", abstract="word " * 60_000, fetch=False)  # 300 KB, over csv's 128 KiB cell limit
        text = log.export("csv")
    path = tmp_path / "long.csv"
    path.write_text(text, encoding="utf-8")
    with open_log(tmp_path / "b.db") as log:
        report = _intake.import_file(log, path)
        assert report["added"] == 1 and report["errors"] == []
        assert log.papers()[0]["abstract"] == ("word " * 60_000).strip()
