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
        if fmt == "csv":  # CSV carries no zoo links
            for row in expected:
                row["models"] = []
        assert got == expected


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
    assert sum(p["needs_refresh"] for p in log.papers()) == 22  # abstracts come from `reading refresh`


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
