"""A catalogue of hostile inputs walked through the command lines (issue 13): each gets a one-line error (never a
traceback) and the right exit status, and the log is left exactly as it was (integrity check, same counts, the same
bytes on disk) unless the case is meant to store something.

Library-level cases (round trips, JSONL resume, export targets, concurrency, speed) are in test_reading_intake.py;
weights verification is in test_zoo_weights.py.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from paperzoo.reading_cli import cli
from reading import open_log

ROOT = Path(__file__).resolve().parents[1]


def _seed(db: Path) -> None:
    with open_log(db) as log:
        log.add(None, title="Deep Residual Learning", authors="Kaiming He", year=2015, tags=["resnet"],
                note="identity shortcuts", read_on="2026-11-20", fetch=False, doi="10.1109/cvpr.2016.90")
        log.add("1807.11164", title="ShuffleNet V2", fetch=False, status="to-read")
        log.add(None, title="Evil \x1b]0;owned\x07 title \x1b[2J\x9b31m\u202egnp.exe", fetch=False,
                read_on="2026-11-21")


def _counts(db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        out: dict[str, Any] = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 (fixed names)
                               for t in ("papers", "notes", "tags", "reads")}
        out["integrity"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclasses.dataclass
class World:
    """A seeded log and the files the cases point at."""

    tmp: Path
    db: Path

    def fmt(self, arg: str) -> str:
        return arg.format(db=self.db, tmp=self.tmp, index=self.db.with_name(self.db.stem + ".index"))


def _files(w: World) -> None:
    t = w.tmp
    (t / "link.db").symlink_to(w.db)
    os.link(w.db, t / "hard.db")
    (t / "log.index").mkdir()
    (t / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (t / "bad_note.json").write_text(json.dumps([{"title": "Fine"}, {"title": "Broken", "notes": [{"x": 1}]}]))
    (t / "typed.jsonl").write_text(json.dumps({"id": "2101.00001", "title": "One", "authors": "A"}) + "\n"
                                   + json.dumps({"id": "2101.00002", "title": "Two", "authors": ["A", "B"]}) + "\n")
    (t / "latin1.bib").write_bytes("@article{k, title={Caf\xe9}}".encode("latin-1"))
    (t / "notbib.bib").write_text("this is not bibtex at all")
    (t / "notes.txt").write_text("plain notes")
    (t / "tags.json").write_text(json.dumps([{"title": "Tagged", "tags": "a,b"}]))
    (t / "future.csv").write_text("title,read_on\nFuture read,2999-01-01\n")
    (t / "folder").mkdir()


@dataclasses.dataclass
class Case:
    id: str
    args: list[str]
    exit: int
    says: str  # in the error line (exit != 0) or in the output
    added: int = 0  # papers the case may store
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    check: Callable[[str], bool] | None = None


CATALOGUE = [
    # export targets: the log itself, however it is reached, and the files it maintains
    # (checked when the command line is parsed: a usage error, exit status 2, before any work)
    Case("export-onto-the-log", ["export", "--format", "json", "-o", "{db}"], 2, "refusing to write"),
    Case("export-onto-a-symlink-to-the-log", ["export", "--format", "json", "-o", "{tmp}/link.db"], 2,
         "refusing to write"),
    Case("export-onto-a-hard-link-to-the-log", ["export", "--format", "csv", "-o", "{tmp}/hard.db"], 2,
         "refusing to write"),
    Case("export-onto-the-wal", ["export", "--format", "bibtex", "-o", "{db}-wal"], 2, "refusing to write"),
    Case("export-into-the-index-folder", ["export", "--format", "json", "-o", "{index}/manifest.json"], 2,
         "refusing to write"),
    Case("export-into-the-pdf-folder-not-made-yet", ["export", "--format", "json", "-o", "{tmp}/log.pdfs/a/x.json"],
         2, "refusing to write"),
    Case("export-into-proc", ["export", "--format", "csv", "-o", "/proc/x.csv"], 2, "cannot write /proc/x.csv"),
    Case("export-onto-a-folder", ["export", "--format", "csv", "-o", "{tmp}/folder"], 2, "it is a folder"),
    # identifiers
    Case("fullwidth-digits", ["add", "１５１２.０３３８５", "--no-fetch"], 1, "not an arXiv id"),
    Case("arabic-indic-digits", ["add", "\u0661\u0665\u0661\u0662.03385", "--no-fetch"], 1, "not an arXiv id"),
    Case("month-13", ["add", "1513.03385", "--no-fetch"], 1, "not an arXiv id"),
    Case("version-0", ["add", "1512.03385v0", "--no-fetch"], 1, "not an arXiv id"),
    Case("bad-doi", ["add", "--title", "X", "--doi", "11.1/x", "--no-fetch"], 1, "bad DOI"),
    # values
    Case("read-in-2999", ["add", "--title", "Later", "--read-on", "2999-01-01", "--no-fetch"], 1, "in the future"),
    Case("read-date-garbage", ["add", "--title", "X", "--read-on", "soon", "--no-fetch"], 1, "bad read date"),
    Case("rating-6", ["rate", "1", "6"], 2, "not in the range"),
    Case("empty-note", ["note", "1", "  "], 1, "empty note"),
    Case("unknown-paper", ["show", "99999"], 1, "no paper with id 99999"),
    Case("stats-window-huge", ["stats", "--window", "100000000"], 0, "papers in the log: 3"),
    # arguments that are not text
    Case("non-utf8-argument", ["list", "--tag", "caf\udce9"], 2, "(caf\\xe9) is not valid UTF-8 text"),
    # files
    Case("json-nested-100000-deep", ["import", "{tmp}/deep.json"], 1, "nested too deeply"),
    Case("json-note-without-text", ["import", "{tmp}/bad_note.json"], 0, "skipped 1 bad record(s) (first: paper 1",
         added=1),
    Case("json-tags-as-a-string", ["import", "{tmp}/tags.json"], 0, "tags must be a list", added=0),
    Case("csv-read-in-2999", ["import", "{tmp}/future.csv"], 0, "in the future", added=0),
    Case("jsonl-wrongly-typed-line", ["import", "{tmp}/typed.jsonl"], 0, "line 2: 'authors' must be a string",
         added=1),
    Case("not-utf8-bibtex", ["import", "{tmp}/latin1.bib"], 1, "is not UTF-8 text"),
    Case("not-bibtex", ["import", "{tmp}/notbib.bib"], 1, "no BibTeX entries found"),
    Case("unknown-format", ["import", "{tmp}/notes.txt"], 1, "cannot tell the format"),
    Case("missing-file", ["import", "{tmp}/nowhere.bib"], 1, "no such file"),
    # what the log already holds is printed, never interpreted by the terminal
    Case("escape-sequences-in-list", ["list"], 0, "Evil \\x1b]0;owned\\x07 title \\x1b[2J\\u009b31m\\u202e",
         check=lambda out: "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out),
    Case("escape-sequences-in-show", ["show", "3"], 0, "\\x1b[2J",
         check=lambda out: "\x1b]" not in out and "\x9b" not in out),
    Case("escape-sequences-in-json", ["list", "--json"], 0, "\\u001b",
         check=lambda out: "\x1b" not in out and "\x9b" not in out and len(json.loads(out)) == 3),
    # queries are data, never SQL or FTS syntax
    Case("sql-in-a-tag", ["list", "--tag", "x' OR 1=1 --"], 0, ""),
    Case("fts-syntax-in-search", ["search", "NEAR(\"a\" AND) OR *", "--mode", "keyword"], 0, ""),
    # the embedding model named by the environment is not a model
    Case("index-model-not-a-model", ["search", "residual"], 1, "cannot load the embedding model",
         env={"INDEX_MODEL": "{tmp}/folder"}),
]


@pytest.fixture
def world(tmp_path) -> World:
    db = tmp_path / "log.db"
    _seed(db)
    w = World(tmp_path, db)
    _files(w)
    return w


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.id for c in CATALOGUE])
def test_hostile_input(world, monkeypatch, case):
    for key, value in case.env.items():
        monkeypatch.setenv(key, world.fmt(value))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before, sha = _counts(world.db), _sha(world.db)
    result = CliRunner().invoke(cli, ["--db", str(world.db), *(world.fmt(a) for a in case.args)])
    out = result.output
    assert "Traceback" not in out and (result.exception is None or isinstance(result.exception, SystemExit)), out
    assert result.exit_code == case.exit, out
    if case.exit:
        errors = _error_lines(out)
        assert len(errors) == 1 and case.says in errors[0], out
    else:
        assert case.says in out, out
    if case.check is not None:
        assert case.check(out), out
    after = _counts(world.db)
    assert after["integrity"] == "ok"
    if case.added == 0 and case.exit:
        assert after == before and _sha(world.db) == sha  # not a byte changed
    else:
        assert after["papers"] == before["papers"] + case.added


def _damage(db: Path) -> None:
    """Overwrite one page in the middle of the file, as a bad sector or a half-copied file would."""
    with open_log(db) as log:
        for i in range(200):
            log.add(None, title=f"Filler {i} " + "x" * 200, abstract="y" * 2000, fetch=False)
        log.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # a page of the papers table near the middle of the file (which page sits there moves with the schema)
        middle = db.stat().st_size // 4096 // 2
        page = log.conn.execute("SELECT pageno FROM dbstat WHERE name = 'papers' ORDER BY abs(pageno - ?) LIMIT 1",
                                (middle,)).fetchone()[0]
    data = bytearray(db.read_bytes())
    mid = (page - 1) * 4096
    data[mid:mid + 4096] = b"\xa5" * 4096
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("args", [["list"], ["add", "--title", "New", "--no-fetch"], ["note", "1", "more"],
                                  ["export", "--format", "json"], ["import", "{tmp}/bad_note.json"]],
                         ids=["list", "add", "note", "export", "import"])
def test_a_damaged_log_is_one_line_and_never_written(world, args):
    _damage(world.db)
    sha = _sha(world.db)
    result = CliRunner().invoke(cli, ["--db", str(world.db), *(world.fmt(a) for a in args)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert _error_lines(result.output) == [result.output.strip()]
    assert result.output.startswith("Error: the log file is damaged")
    assert _sha(world.db) == sha


def test_a_file_that_is_not_a_log_is_one_line(tmp_path):
    db = tmp_path / "notes.db"
    db.write_text("my shopping list\n" * 100)
    result = CliRunner().invoke(cli, ["--db", str(db), "list"])
    assert result.exit_code == 1 and "is not a reading log: it is not an SQLite database" in result.output
    assert db.read_text() == "my shopping list\n" * 100


def _reading(*args: str | bytes, db: Path, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "READING_DB": str(db), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "reading", *args], capture_output=True, env=env, timeout=120,
                          cwd=ROOT, **kw)


def test_real_processes_non_utf8_bytes_and_escapes(world):
    """Through a real argv (bytes) and a real stdout: the same one-line error, the same escaping."""
    proc = _reading(b"list", b"--tag", b"caf\xe9", db=world.db)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "Traceback" not in err and "caf\\xe9) is not valid UTF-8" in err
    shown = _reading("show", "3", db=world.db)
    assert shown.returncode == 0 and b"\x1b" not in shown.stdout and b"\\x1b[2J" in shown.stdout
    # an export piped to a file is the data itself, exactly (it must re-import unchanged)
    exported = _reading("export", "--format", "json", db=world.db)
    assert "\x1b]0;owned\x07" in json.loads(exported.stdout)[-1]["title"]


def test_note_given_twice_keeps_both(world):
    result = CliRunner().invoke(cli, ["--db", str(world.db), "add", "--title", "Two notes", "--no-fetch",
                                      "-n", "first", "-n", "second"])
    assert result.exit_code == 0, result.output
    with open_log(world.db) as log:
        assert [n["text"] for n in log.get(4)["notes"]] == ["first", "second"]


def test_a_doi_held_by_another_paper_is_reported_not_dropped_silently(world):
    with open_log(world.db) as log:
        log.update("1807.11164", doi="10.1109/cvpr.2018.00716")  # paper 2, which has an arXiv id
    result = CliRunner().invoke(cli, ["--db", str(world.db), "add", "1512.03385", "--doi", "10.1109/cvpr.2018.00716",
                                      "--no-fetch"])
    assert result.exit_code == 0 and "added:" in result.output
    assert "DOI 10.1109/cvpr.2018.00716 not stored: paper 2 already holds it" in result.output


def test_a_cli_add_lands_within_2_s_while_a_bibtex_import_runs(tmp_path):
    """Two processes on one log: `reading import big.bib` and `reading add` (the add's own time, net of starting
    Python, stays under 2 s)."""
    sys.path.insert(0, str(ROOT))
    from bench.import_speed import make_bib

    db = tmp_path / "log.db"
    bib = tmp_path / "big.bib"
    bib.write_text(make_bib(3000), encoding="utf-8")
    start = time.perf_counter()
    assert _reading("add", "--title", "Before", "--no-fetch", db=db).returncode == 0
    baseline = time.perf_counter() - start
    env = {**os.environ, "READING_DB": str(db)}
    importer = subprocess.Popen([sys.executable, "-m", "reading", "import", str(bib)], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        waits = []
        while importer.poll() is None and len(waits) < 4:
            time.sleep(0.3)
            start = time.perf_counter()
            proc = _reading("add", "--title", f"During {len(waits)}", "--no-fetch", db=db)
            waits.append(time.perf_counter() - start)
            assert proc.returncode == 0, proc.stderr.decode()
        out, err = importer.communicate(timeout=300)
    finally:
        if importer.poll() is None:
            importer.kill()
    assert importer.returncode == 0, err.decode()
    assert waits and max(waits) < baseline + 2.0, (waits, baseline)
    with open_log(db) as log:
        assert log.count() == 3000 + 1 + len(waits)


# --- the app renders no remote image ----------------------------------------------------------------------------


@pytest.mark.parametrize("text,shown", [
    ("![](http://host/x.png)", "[image: remote](http://host/x.png)"),
    ("see ![plot](https://evil.example/t.gif \"t\")", "see [image: plot](https://evil.example/t.gif \"t\")"),
    ("![ref][r]\n\n[r]: http://host/y.png", "[ref][r]\n\n[r]: http://host/y.png"),
    ("`![code](http://h)` stays", "`![code](http://h)` stays"),
    ("```\n![fenced](http://h)\n```", "```\n![fenced](http://h)\n```"),
    ("\\![escaped](x)", "\\![escaped](x)"),
    ("<img src=http://h/z.png>", "&lt;img src=http://h/z.png>"),
    ("plain **bold** [link](http://a)", "plain **bold** [link](http://a)"),
])
def test_safe_markdown_turns_images_into_links(text, shown):
    from ui._markdown import safe_markdown

    assert safe_markdown(text) == shown


def test_the_paper_page_fetches_no_remote_image(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "log.db"
    monkeypatch.setenv("READING_DB", str(db))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    with open_log(db) as log:
        log.add(None, title="Pictures ![t](http://evil.example/t.png)", abstract="Abstract ![a](http://evil.example/a.png)",
                note="Note ![n](http://evil.example/n.png) and ![r][1]\n\n[1]: http://evil.example/r.png", fetch=False,
                authors="![au](http://evil.example/au.png)")
        log.add(None, title="Neighbour ![x](http://evil.example/x.png)", abstract="Abstract pictures", fetch=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.query_params.update({"id": "1"})
    at.switch_page("ui/pages/paper.py").run()
    assert not at.exception, [e.value for e in at.exception]
    bodies = [m.value for m in at.markdown] + [t.value for t in at.title] + [e.proto.label for e in at.get("page_link")]
    bodies += [e.value for e in at.get("alert")] if at.get("alert") else []
    assert any("evil.example/a.png" in b for b in bodies) and any("evil.example/n.png" in b for b in bodies)
    assert any("evil.example/t.png" in b for b in bodies) and any("evil.example/au.png" in b for b in bodies)
    assert not any("![" in b and "evil.example" in b for b in bodies), bodies
    # and the library, where titles are links
    at.query_params.clear()
    at.switch_page("ui/pages/library.py").run()
    assert not at.exception
    labels = [e.proto.label for e in at.get("page_link")] + [m.value for m in at.markdown]
    assert not any("![" in b and "evil.example" in b for b in labels), labels


# --- the zoo command line: the same policy ----------------------------------------------------------------------

ZOO_CATALOGUE = [
    ("unknown-model", ["info", "nosuch"], 1, "unknown model 'nosuch'"),
    ("text-file-as-weights", ["bench", "shufflenet_v2_x0_5", "--weights", "{tmp}/notes.pth", "--iters", "1",
                              "--warmup", "0", "--mode", "eager", "--input-size", "32"], 1, "it is a text file"),
    ("bench-output-into-proc", ["bench", "shufflenet_v2_x0_5", "--iters", "1", "--warmup", "0", "--mode", "eager",
                                "--input-size", "32", "--format", "csv", "-o", "/proc/x.csv"], 2,
     "cannot write /proc/x.csv"),
    ("bench-output-onto-the-log", ["bench", "shufflenet_v2_x0_5", "--iters", "1", "--warmup", "0", "--mode", "eager",
                                   "--input-size", "32", "--format", "csv", "-o", "{db}"], 2, "refusing to write"),
    ("bench-output-into-the-index", ["bench", "shufflenet_v2_x0_5", "--iters", "1", "--warmup", "0", "--mode",
                                     "eager", "--input-size", "32", "-o", "{index}/x.csv"], 2, "refusing to write"),
    ("eval-state-onto-the-log", ["eval", "shufflenet_v2_x0_5", "--data", "{tmp}/folder", "--state", "{db}"], 2,
     "refusing to write"),
    ("supernet-checkpoint-onto-the-log", ["supernet", "train", "--data", "tiny", "--out", "{tmp}/link.db",
                                          "--steps", "1"], 2, "refusing to write"),
    ("latency-table-onto-the-wal", ["supernet", "latency-table", "--out", "{db}-wal"], 2, "refusing to write"),
    ("non-utf8-model-name", ["info", "x\udcff"], 2, "(x\\xff) is not valid UTF-8 text"),
]


@pytest.mark.parametrize("args,code,says", [c[1:] for c in ZOO_CATALOGUE], ids=[c[0] for c in ZOO_CATALOGUE])
def test_hostile_zoo_input(world, monkeypatch, args, code, says):
    from paperzoo.zoo_cli import cli as zoo_cli

    (world.tmp / "notes.pth").write_text("hello, these are notes\n")
    monkeypatch.setenv("READING_DB", str(world.db))
    before, sha = _counts(world.db), _sha(world.db)
    start = time.perf_counter()
    result = CliRunner().invoke(zoo_cli, [world.fmt(a) for a in args])
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == code and len(_error_lines(result.output)) == 1, result.output
    assert says in _error_lines(result.output)[0] and "weights_only" not in result.output
    assert time.perf_counter() - start < 30  # refused before any benchmarking
    assert _counts(world.db) == before and _sha(world.db) == sha


def test_an_add_lands_within_2_s_while_a_reindex_runs(tmp_path):
    """A full reindex reads the log and writes only its own files: a concurrent add (another connection, as the
    CLI or the app would be) never waits on it."""
    import threading

    import index
    from index import HashEmbedder

    db = tmp_path / "log.db"
    with open_log(db) as log:
        log.import_records([{"title": f"Paper {i}", "abstract": "words " * 200} for i in range(3000)], source="t")
    done, waits = threading.Event(), []

    def reindexer():
        with open_log(db) as log:
            index.reindex(log, full=True, embedder=HashEmbedder(256))
        done.set()

    t = threading.Thread(target=reindexer)
    t.start()
    with open_log(db) as other:
        while not done.is_set():
            start = time.perf_counter()
            other.add(None, title=f"typed during the reindex {len(waits)}", fetch=False)
            waits.append(time.perf_counter() - start)
            time.sleep(0.05)
    t.join()
    assert waits and max(waits) < 2.0, max(waits)
