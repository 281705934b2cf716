"""Hostile inputs, round 3 (issue 27 A-E and leaks): outputs aimed at the log, folders shared between logs, stored
PDFs that change, other programs' SQLite files, read-only and full disks, files left by killed processes.

Each case runs through the command lines (CliRunner) where a command is involved; where the command fails, the log
is left byte for byte as it was.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import reading
from paperzoo._cli import OutputFile
from paperzoo.reading_cli import cli as reading_cli
from paperzoo.zoo_cli import cli as zoo_cli
from reading import _db, open_log


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


def _one_error(result, says: str) -> str:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = _error_lines(result.output)
    assert len(errors) == 1 and says in errors[0], result.output
    return errors[0]


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "papers.db"
    with open_log(path) as log:
        log.add(None, title="Deep Residual Learning", year=2015, fetch=False)
    return path


# --- A. one output guard for every output path ------------------------------------------------------------------

#: Option names that say "this writes a file"; an option or argument so named, or typed as a writable click.Path or
#: a click.File opened for writing, must take the guard's type.
_OUTPUT_NAMES = re.compile(r"^(o|out|output|outfile|output_file|state|state_file|save|save_to|dest|destination|"
                           r"target|to|backup|write|export_to|onnx|checkpoint)$")


def _commands(group: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, group
    if isinstance(group, click.Group):
        for name, sub in sorted(group.commands.items()):
            yield from _commands(sub, (*path, name))


def _writes(param: click.Parameter) -> bool:
    kind = param.type
    if isinstance(kind, OutputFile):
        return True
    if isinstance(kind, click.File) and any(c in kind.mode for c in "wax+"):
        return True
    if isinstance(kind, click.Path) and kind.writable:
        return True
    names = [param.name or ""] + [o.lstrip("-").replace("-", "_") for o in getattr(param, "opts", [])]
    return any(_OUTPUT_NAMES.match(n) for n in names)


def _output_params() -> list[tuple[str, tuple[str, ...], click.Parameter]]:
    found = []
    for prog, root in (("reading", reading_cli), ("zoo", zoo_cli)):
        for path, command in _commands(root):
            for param in command.params:
                if _writes(param):
                    found.append((prog, path, param))
    return found


OUTPUTS = _output_params()


def test_every_output_option_takes_the_guard():
    """A new command with an output path that skips the guard fails here (rename it, or type it OutputFile)."""
    assert len(OUTPUTS) >= 9  # reading export, zoo bench/eval/export, supernet train/search/latency/extract
    loose = [f"{prog} {' '.join(path)} {param.name}" for prog, path, param in OUTPUTS
             if not isinstance(param.type, OutputFile)]
    assert not loose, f"output options that bypass paperzoo._cli.OutputFile: {loose}"
    assert any(path == ("export",) and prog == "zoo" for prog, path, _ in OUTPUTS)


def _targets(db: Path) -> list[str]:
    lib, idx = reading.library_dir(db), __import__("index").index_dir(db)
    return [str(db), f"{db}-wal", f"{db}-shm", f"{db}-journal", str(lib / "ab" / "x.pdf"), str(idx / "manifest.json"),
            str(db.with_name("link.db"))]


@pytest.mark.parametrize("prog,path,param", OUTPUTS,
                         ids=[f"{p}-{'-'.join(c)}-{q.name}" for p, c, q in OUTPUTS])
def test_every_output_option_refuses_the_log_and_its_files(db, monkeypatch, prog, path, param):
    db.with_name("link.db").symlink_to(db)
    with open_log(db) as log:
        log.library_dir().mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("READING_DB", str(db))
    before = _sha(db)
    for target in _targets(db):
        if isinstance(param, click.Option):
            args = [*path, param.opts[0], target]
        else:  # an argument: dummies for the arguments before it
            command = _commands_by_path(prog)[path]
            args = [*path]
            for other in command.params:
                if other is param:
                    break
                if isinstance(other, click.Argument):
                    args.append("x")
            args.append(target)
        root = reading_cli if prog == "reading" else zoo_cli
        result = CliRunner().invoke(root, (["--db", str(db)] if prog == "reading" else []) + args)
        assert result.exit_code == 2, (target, result.output)
        _one_error(result, "refusing to write")
    assert _sha(db) == before


def _commands_by_path(prog: str) -> dict[tuple[str, ...], click.Command]:
    return dict(_commands(reading_cli if prog == "reading" else zoo_cli))


def test_zoo_export_onto_the_log_is_refused(db, monkeypatch):
    """The round-3 case: `zoo export ... -o "$READING_DB"` replaced the log with an ONNX file."""
    monkeypatch.setenv("READING_DB", str(db))
    before = _sha(db)
    for target in (str(db), f"{db}-wal", str(reading.library_dir(db) / "x.onnx")):
        result = CliRunner().invoke(zoo_cli, ["export", "shufflenet_v2_x0_5", "--input-size", "32", "-o", target])
        assert result.exit_code == 2
        _one_error(result, "refusing to write")
    assert _sha(db) == before


def test_a_db_typed_after_the_output_option_is_guarded_too(db, tmp_path, monkeypatch):
    """click converts options in the order typed: `-o LOG --db LOG` once checked -o against the default log."""
    monkeypatch.setenv("READING_DB", str(tmp_path / "other.db"))
    before = _sha(db)
    result = CliRunner().invoke(zoo_cli, ["bench", "shufflenet_v2_x0_5", "--iters", "1", "--warmup", "0", "--mode",
                                          "eager", "--input-size", "32", "-o", str(db), "--db", str(db)])
    assert result.exit_code == 2
    _one_error(result, "refusing to write")
    assert _sha(db) == before


def test_supernet_search_default_state_file_is_guarded(tmp_path, monkeypatch):
    """`--out X` puts the search state at X.state: a log named like that is refused as well."""
    log_path = tmp_path / "result.json.state"
    with open_log(log_path):
        pass
    monkeypatch.setenv("READING_DB", str(log_path))
    before = _sha(log_path)
    result = CliRunner().invoke(zoo_cli, ["supernet", "search", "--supernet", str(tmp_path / "none.pt"), "--data",
                                          "tiny", "--out", str(tmp_path / "result.json")])
    assert result.exit_code == 1
    _one_error(result, "refusing to write")
    assert _sha(log_path) == before


def test_check_output_is_the_one_guard(db, tmp_path):
    from paperzoo import check_output

    assert check_output(tmp_path / "fine.json", db) == tmp_path / "fine.json"
    for bad in _targets(db):
        if not bad.endswith("link.db"):
            with pytest.raises(reading.InvalidInput, match="refusing to write"):
                check_output(bad, db)


# --- D. a file is checked to be a log before anything in it changes ----------------------------------------------


def _places(path: Path) -> Path:
    """Another program's SQLite file, in WAL mode, as Firefox keeps places.sqlite."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, fk INTEGER)")
    conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")
    conn.execute("PRAGMA user_version = 77")
    conn.commit()
    conn.close()
    return path


def _siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


@pytest.mark.parametrize("args", [["list"], ["add", "--title", "X", "--no-fetch"], ["stats"], ["check"]],
                         ids=["list", "add", "stats", "check"])
def test_another_programs_sqlite_file_is_refused_and_left_byte_identical(tmp_path, args):
    places = _places(tmp_path / "places.sqlite")
    before, files = _sha(places), _siblings(places)
    result = CliRunner().invoke(reading_cli, ["--db", str(places), *args])
    assert result.exit_code == 1
    _one_error(result, "is not a reading log: it is Firefox's history and bookmarks")
    assert _sha(places) == before and _siblings(places) == files  # not even a -wal or -shm beside it


@pytest.mark.parametrize("args", [["sync-links"], ["bench", "shufflenet_v2_x0_5", "--iters", "1", "--warmup", "0",
                                                   "--mode", "eager", "--input-size", "32", "--store"],
                                  ["eval", "shufflenet_v2_x0_5", "--data", "nowhere", "--store"]],
                         ids=["sync-links", "bench-store", "eval-store"])
def test_zoo_commands_refuse_another_programs_file_before_any_work(tmp_path, args):
    import time

    places = _places(tmp_path / "places.sqlite")
    before = _sha(places)
    start = time.perf_counter()
    result = CliRunner().invoke(zoo_cli, [*args, "--db", str(places)])
    assert result.exit_code == 2 and time.perf_counter() - start < 10
    _one_error(result, "is not a reading log: it is Firefox's")
    assert _sha(places) == before


def test_an_unknown_sqlite_file_names_its_tables(tmp_path):
    other = tmp_path / "mine.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE papers (id INTEGER)")  # a table name we use, but not our file
    conn.commit()
    conn.close()
    before = _sha(other)
    result = CliRunner().invoke(reading_cli, ["--db", str(other), "list"])
    _one_error(result, "SQLite database of another program (tables: papers)")
    assert _sha(other) == before


def _newer(path: Path, *, wal: bool) -> Path:
    with open_log(path) as log:
        log.add(None, title="From the future", fetch=False)
        if not wal:
            log.conn.execute("PRAGMA journal_mode = DELETE")
        log.conn.execute(f"PRAGMA user_version = {_db.SCHEMA_VERSION + 1}")
    return path


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
@pytest.mark.parametrize("args", [["list"], ["add", "--title", "X", "--no-fetch"]], ids=["list", "add"])
def test_a_newer_log_is_refused_as_newer_not_damaged_and_not_switched_to_wal(tmp_path, wal, args):
    path = _newer(tmp_path / "future.db", wal=wal)
    before = _sha(path)
    result = CliRunner().invoke(reading_cli, ["--db", str(path), *args])
    assert result.exit_code == 1
    line = _one_error(result, "written by a newer version of paper-zoo")
    assert "damaged" not in line and "backup" not in line
    assert _sha(path) == before  # the journal mode is in the header: still rollback-journal when it was


def test_a_log_is_marked_as_ours_and_an_old_log_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in _db.MIGRATIONS[:4]:  # a log as the previous release left it: no application id, no library id
        for statement in _db._statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO papers (title, added_at, updated_at) VALUES ('Old paper', 'x', 'x')")
    conn.close()
    result = CliRunner().invoke(reading_cli, ["--db", str(path), "list"])
    assert result.exit_code == 0 and "Old paper" in result.output
    with open_log(path) as log:
        assert log.conn.execute("PRAGMA application_id").fetchone()[0] == _db.APPLICATION_ID
        assert log.conn.execute("SELECT value FROM meta WHERE key = 'library_id'").fetchone()[0] > 0


def test_an_empty_file_becomes_a_log_and_a_folder_is_refused(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    assert CliRunner().invoke(reading_cli, ["--db", str(empty), "add", "--title", "A", "--no-fetch"]).exit_code == 0
    with pytest.raises(reading.NotALog, match="is a folder, not a log file"):
        open_log(tmp_path)
    result = CliRunner().invoke(reading_cli, ["--db", str(tmp_path), "list"])
    assert result.exit_code == 2 and "is a directory" in result.output and "Traceback" not in result.output


# --- E. SQLite errors say what happened --------------------------------------------------------------------------


@pytest.fixture
def ro_file(db) -> Iterator[Path]:
    os.chmod(db, 0o444)
    yield db
    os.chmod(db, 0o644)


@pytest.fixture
def ro_folder(db) -> Iterator[Path]:
    with open_log(db):
        pass  # checkpointed and closed: no -wal, no -shm
    os.chmod(db.parent, 0o555)
    yield db
    os.chmod(db.parent, 0o755)


@pytest.mark.parametrize("where", ["ro_file", "ro_folder"])
def test_a_read_only_log_can_be_read_and_says_so_when_written(request, where):
    db = request.getfixturevalue(where)
    before = _sha(db)
    for args, says in ((["list"], "Deep Residual Learning"), (["show", "1"], "Deep Residual Learning"),
                       (["search", "residual", "--mode", "keyword"], "Deep Residual Learning"),
                       (["export", "--format", "json"], "Deep Residual Learning")):
        result = CliRunner().invoke(reading_cli, ["--db", str(db), *args])
        assert result.exit_code == 0 and says in result.output, (args, result.output)
    for args in (["add", "--title", "New", "--no-fetch"], ["note", "1", "more"], ["rate", "1", "5"]):
        result = CliRunner().invoke(reading_cli, ["--db", str(db), *args])
        assert result.exit_code == 1, (args, result.output)
        line = _one_error(result, "is read-only")
        assert "damaged" not in line and "backup" not in line
    assert _sha(db) == before


def _cap_pages(monkeypatch, extra: int = 0) -> None:
    """A full disk, as SQLite sees one: the database may not grow past its current size (SQLITE_FULL)."""
    real = _db._open

    def capped(target, *, uri):
        conn = real(target, uri=uri)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(pages, 1) + extra}")
        return conn

    monkeypatch.setattr(_db, "_open", capped)


def test_a_full_disk_says_so_and_writes_nothing(db, monkeypatch):
    with open_log(db):
        pass
    before = _sha(db)
    _cap_pages(monkeypatch)
    result = CliRunner().invoke(reading_cli, ["--db", str(db), "add", "--title", "Big", "--abstract", "x" * 50_000,
                                              "--no-fetch"])
    assert result.exit_code == 1
    line = _one_error(result, "is full: nothing was written")
    assert "damaged" not in line and "backup" not in line
    monkeypatch.undo()
    assert _sha(db) == before
    with open_log(db) as log:
        assert log.count() == 1


def test_a_full_disk_during_a_migration_leaves_the_log_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "legacy.db"
    with open_log(path) as log:
        log.add(None, title="Kept", fetch=False)
        log.conn.execute("PRAGMA journal_mode = DELETE")
    before = _sha(path)
    bigger = "CREATE TABLE grown (x TEXT);\n" + "".join(f"CREATE INDEX grown_{i} ON grown (x);\n" for i in range(20))
    monkeypatch.setattr(_db, "MIGRATIONS", (*_db.MIGRATIONS, bigger))
    monkeypatch.setattr(_db, "SCHEMA_VERSION", _db.SCHEMA_VERSION + 1)
    _cap_pages(monkeypatch)
    result = CliRunner().invoke(reading_cli, ["--db", str(path), "list"])
    assert result.exit_code == 1
    _one_error(result, "is full")
    assert _sha(path) == before  # not migrated, not switched to WAL


@pytest.mark.parametrize("make,cls,says", [
    (lambda c: c.execute("PRAGMA query_only = 1") and c.execute("INSERT INTO settings VALUES ('a', '1')"),
     reading.LogReadOnly, "read-only"),
    (lambda c: c.execute("PRAGMA max_page_count = 1") and c.execute("CREATE TABLE t (x)")
     and c.execute("INSERT INTO t VALUES (zeroblob(100000))"), reading.DiskFull, "is full"),
    (lambda c: sqlite3.connect("/nonexistent/folder/x.db").execute("SELECT 1"), reading.LogUnavailable,
     "cannot open the log"),
], ids=["read-only", "full", "cannot-open"])
def test_sqlite_errors_are_named(tmp_path, make, cls, says):
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.execute("CREATE TABLE settings (k, v)")
    with pytest.raises(sqlite3.DatabaseError) as err:
        make(conn)
    mapped = reading.database_error(err.value, tmp_path / "x.db")
    assert isinstance(mapped, cls) and says in str(mapped) and "damaged" not in str(mapped)


# --- B. the PDF and index folders belong to one log ---------------------------------------------------------------

PDF = Path(__file__).parent / "fixtures" / "pdf" / "twocolumn.pdf"
PDF2 = Path(__file__).parent / "fixtures" / "pdf" / "onecolumn.pdf"


def _with_pdf(path: Path, pdf: Path = PDF) -> tuple[str, Path]:
    with open_log(path) as log:
        result = log.add_pdf(pdf, fetch=False)
        return result.pdf["sha256"], Path(result.pdf["path"])


def test_a_backup_copy_beside_the_log_never_shares_its_folders(tmp_path):
    """`cp papers.db papers.bak; reading --db papers.bak remove 1 --yes` deleted a PDF papers.db still holds."""
    import shutil

    import index

    main = tmp_path / "papers.db"
    sha, stored = _with_pdf(main)
    with open_log(main) as log:
        log.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    bak = tmp_path / "papers.bak"
    shutil.copy(main, bak)
    assert reading.library_dir(bak) != reading.library_dir(main) and index.index_dir(bak) != index.index_dir(main)
    result = CliRunner().invoke(reading_cli, ["--db", str(bak), "remove", "1", "--yes"])
    assert result.exit_code == 0, result.output
    assert stored.is_file() and _sha(stored) == sha
    with open_log(main) as log:
        assert Path(log.pdfs(1)[0]["path"]) == stored


def test_a_symlink_with_another_name_reaches_the_same_folders(tmp_path):
    import index

    main = tmp_path / "papers.db"
    _, stored = _with_pdf(main)
    link = tmp_path / "elsewhere" / "mine.sqlite"
    link.parent.mkdir()
    link.symlink_to(main)
    with open_log(link) as log:
        assert log.library_dir() == reading.library_dir(main) and Path(log.pdfs(1)[0]["path"]) == stored
    assert index.index_dir(link) == index.index_dir(main)


def test_an_existing_library_keeps_working_and_is_marked(tmp_path):
    """A log and its folders as the previous release left them (no markers): nothing lost, folders claimed."""
    import index

    main = tmp_path / "reading.db"
    sha, stored = _with_pdf(main)
    folder = tmp_path / "reading.pdfs"
    (folder / reading._fulltext.OWNER_FILE).unlink()
    (tmp_path / "reading.index").mkdir()
    with open_log(main) as log:
        assert log.library_dir() == folder and Path(log.pdfs(1)[0]["path"]).is_file()
    assert reading._fulltext.read_owner(folder)["log"] == str(main.resolve())
    assert index.index_dir(main) == tmp_path / "reading.index"


def test_a_log_renamed_before_markers_keeps_its_stem_folder(tmp_path):
    """papers.sqlite with papers.pdfs/ (the old stem rule), no papers.db beside it: its folder stays its own."""
    main = tmp_path / "papers.sqlite"
    _, stored = _with_pdf(main)  # made under the new rule: papers.sqlite.pdfs
    new = reading.library_dir(main)
    (new / reading._fulltext.OWNER_FILE).unlink()
    new.rename(tmp_path / "papers.pdfs")
    with open_log(main) as log:
        assert log.library_dir() == tmp_path / "papers.pdfs" and Path(log.pdfs(1)[0]["path"]).is_file()


def test_a_copy_made_before_markers_does_not_take_the_shared_folder(tmp_path):
    import shutil

    main = tmp_path / "papers.db"
    sha, stored = _with_pdf(main)
    (reading.library_dir(main) / reading._fulltext.OWNER_FILE).unlink()
    with open_log(main) as log:
        log.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(main, tmp_path / "papers.bak")
    result = CliRunner().invoke(reading_cli, ["--db", str(tmp_path / "papers.bak"), "remove", "1", "--yes"])
    assert result.exit_code == 0 and stored.is_file()


def test_a_folder_of_another_log_is_refused(tmp_path):
    """papers.db replaced by another log: the PDF folder left by the first one is not this log's to write or prune."""
    main = tmp_path / "papers.db"
    sha, stored = _with_pdf(main)
    for name in ("papers.db", "papers.db-wal", "papers.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with open_log(main) as log:
        log.add(None, title="Another log", fetch=False)
    before = _sha(main)
    result = CliRunner().invoke(reading_cli, ["--db", str(main), "add", str(PDF2), "--no-fetch"])
    assert result.exit_code == 1
    _one_error(result, "belongs to another log")
    assert stored.is_file() and _sha(stored) == sha
    with open_log(main) as log:
        assert log.count() == 1
    assert _sha(main) == before


# --- C. the content-addressed store verifies what it stores ------------------------------------------------------


def test_a_pdf_replaced_while_it_is_added_is_not_stored_under_the_first_hash(tmp_path, monkeypatch):
    import shutil

    import reading._pdf as pdf_mod

    db = tmp_path / "papers.db"
    with open_log(db):
        pass
    src = tmp_path / "paper.pdf"
    shutil.copy(PDF, src)
    first = _sha(src)
    real_extract = pdf_mod.extract

    def extract_then_swap(*args, **kwargs):
        text = real_extract(*args, **kwargs)
        shutil.copy(PDF2, src)  # another program rewrites the file while we read it
        return text

    monkeypatch.setattr(pdf_mod, "extract", extract_then_swap)
    before = _sha(db)
    result = CliRunner().invoke(reading_cli, ["--db", str(db), "add", str(src), "--no-fetch"])
    assert result.exit_code == 1
    _one_error(result, "changed while it was being added")
    assert _sha(db) == before
    folder = reading.library_dir(db)
    stored = [p for p in folder.rglob("*") if p.is_file() and p.name != "owner.json"] if folder.exists() else []
    assert stored == [], stored  # neither under the first hash nor as a temporary file
    with open_log(db) as log:
        assert log.count() == 0 and not log.conn.execute("SELECT count(*) FROM pdfs WHERE sha256 = ?",
                                                         (first,)).fetchone()[0]


def _check(db: Path, *extra: str):
    return CliRunner().invoke(reading_cli, ["--db", str(db), "check", *extra])


@pytest.mark.parametrize("damage", ["deleted", "altered", "truncated"])
def test_a_missing_or_altered_copy_is_found_and_restored_by_adding_the_original(tmp_path, damage):
    db = tmp_path / "papers.db"
    sha, stored = _with_pdf(db)
    assert _check(db).exit_code == 0
    if damage == "deleted":
        stored.unlink()
    elif damage == "altered":
        data = bytearray(stored.read_bytes())
        data[len(data) // 2] ^= 0xFF
        stored.write_bytes(bytes(data))
    else:
        stored.write_bytes(stored.read_bytes()[:100])
    result = _check(db)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("pdf:")]
    assert len(lines) == 1 and sha[:12] in lines[0]
    assert ("missing" if damage == "deleted" else "altered") in lines[0]
    with open_log(db) as log, pytest.raises(reading.ReadingError, match="stored copy of PDF"):
        log.render_pdf_page(sha, 1)
    result = CliRunner().invoke(reading_cli, ["--db", str(db), "add", str(PDF), "--no-fetch"])
    assert result.exit_code == 0 and "has been restored from this file" in result.output, result.output
    assert _sha(stored) == sha and _check(db).exit_code == 0


def test_attach_restores_a_missing_copy_too(tmp_path):
    db = tmp_path / "papers.db"
    sha, stored = _with_pdf(db)
    stored.unlink()
    result = CliRunner().invoke(reading_cli, ["--db", str(db), "attach", "1", str(PDF)])
    assert result.exit_code == 0 and "restored" in result.output, result.output
    assert _sha(stored) == sha


def test_check_reports_a_damaged_log_and_a_damaged_index_one_line_each(tmp_path):
    import index
    from index import HashEmbedder

    db = tmp_path / "papers.db"
    with open_log(db) as log:
        for i in range(5):
            log.add(None, title=f"Paper {i}", abstract="words " * 50, fetch=False)
        index.reindex(log, full=True, embedder=HashEmbedder(64))
    result = _check(db, "--json")
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.output)["problems"] == []
    folder = index.index_dir(db)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / manifest["index_file"]).write_bytes(b"garbage")
    result = _check(db)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("index:")]
    assert len(lines) == 1 and "does not match its checksum" in lines[0]


def test_check_finds_a_damaged_log_file(tmp_path):
    from tests.test_hostile import _damage

    db = tmp_path / "log.db"
    _damage(db)
    before = _sha(db)
    result = _check(db)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert any(line.startswith("log:") or "damaged" in line for line in result.output.splitlines())
    assert _sha(db) == before


# --- leaks: what killed imports and exports left is removed on the next run ------------------------------------


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def _left(path: Path, seconds: float, data: bytes = b"half a file") -> Path:
    """A temporary file last written ``seconds`` ago."""
    import time

    path.write_bytes(data)
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_a_killed_imports_incoming_files_are_removed_but_a_live_writers_are_kept(tmp_path):
    db = tmp_path / "papers.db"
    _with_pdf(db)
    sub = next(p for p in reading.library_dir(db).iterdir() if p.is_dir())
    dead = _left(sub / f".incoming-{_dead_pid()}-abcd1234.pdf", 60)
    old = _left(sub / ".incoming-k2j3h4g5.pdf", 3600)  # an earlier release's name: no pid
    live = _left(sub / f".incoming-{os.getppid()}-live0001.pdf", 3)  # a concurrent import
    fresh = _left(sub / ".incoming-zz99yy88.pdf", 3)  # being written by a process we cannot see
    result = CliRunner().invoke(reading_cli, ["--db", str(db), "add", str(PDF2), "--no-fetch"])
    assert result.exit_code == 0, result.output
    assert not dead.exists() and not old.exists() and live.exists() and fresh.exists()


def test_a_killed_exports_temporary_files_are_removed_on_the_next_export(db, tmp_path):
    out = tmp_path / "papers.json"
    dead = _left(tmp_path / f".papers.json.{_dead_pid()}-abcd1234.tmp", 60)
    old = _left(tmp_path / ".papers.json.q1w2e3r4.tmp", 3600)
    live = _left(tmp_path / f".papers.json.{os.getppid()}-live0001.tmp", 3)
    other = _left(tmp_path / ".notes.txt.q1w2e3r4.tmp", 3600)  # another target's: its own export cleans it
    result = CliRunner().invoke(reading_cli, ["--db", str(db), "export", "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert not dead.exists() and not old.exists() and live.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".papers.json")) == [live.name]


def test_a_backup_of_another_log_restored_over_a_log_claims_its_folder(tmp_path):
    """`reading restore --force` replaces a log on purpose: the folder's marker then names the restored log."""
    first, second = tmp_path / "first.db", tmp_path / "papers.db"
    sha1, _ = _with_pdf(first, PDF)
    sha2, stored2 = _with_pdf(second, PDF2)
    with open_log(first) as log:
        reading.backup(log, tmp_path / "first.tar")
    reading.restore(tmp_path / "first.tar", second, force=True)
    result = _check(second)
    assert result.exit_code == 0, result.output
    with open_log(second) as log:
        assert Path(log.pdfs(1)[0]["path"]).is_file() and stored2.is_file()


def test_a_killed_zoo_exports_temporary_files_are_removed_on_the_next_export(tmp_path, monkeypatch):
    monkeypatch.setenv("READING_DB", str(tmp_path / "log.db"))
    out = tmp_path / "net.onnx"
    dead = _left(tmp_path / f".net.onnx.{_dead_pid()}-abcd1234.tmp", 60)
    old = _left(tmp_path / ".net.onnx.q1w2e3r4.tmp", 3600)
    live = _left(tmp_path / f".net.onnx.{os.getppid()}-live0001.tmp", 3)
    result = CliRunner().invoke(zoo_cli, ["export", "shufflenet_v2_x0_5", "--input-size", "32", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and not dead.exists() and not old.exists() and live.exists()


def test_a_killed_index_writers_temporary_files_are_removed_by_the_next_writer(tmp_path):
    import index
    from index import HashEmbedder

    db = tmp_path / "papers.db"
    with open_log(db) as log:
        log.add(None, title="Paper", abstract="words " * 50, fetch=False)
        index.reindex(log, full=True, embedder=HashEmbedder(64))
        folder = index.index_dir(db)
        left = _left(folder / ".faiss-123-abc.index.k2j3h4g5.tmp", 120)
        (folder / "chunks").mkdir(exist_ok=True)
        chunk = _left(folder / "chunks" / ".x.npz.k2j3h4g5.tmp", 120)
        index.reindex(log, full=True, embedder=HashEmbedder(64))
    assert not left.exists() and not chunk.exists()


@pytest.mark.parametrize("target", ["fifo", "/dev/null"])
def test_a_device_or_pipe_as_the_log_is_refused(tmp_path, target):
    path = Path(target) if target.startswith("/") else tmp_path / "pipe.db"
    if target == "fifo":
        os.mkfifo(path)
    result = CliRunner().invoke(reading_cli, ["--db", str(path), "list"])
    assert result.exit_code == 1
    _one_error(result, "is not a regular file")


def test_a_read_only_log_of_an_older_version_says_so(tmp_path):
    path = tmp_path / "old.db"
    with open_log(path) as log:
        log.conn.execute(f"PRAGMA user_version = {_db.SCHEMA_VERSION - 1}")
    os.chmod(path, 0o444)
    try:
        before = _sha(path)
        result = CliRunner().invoke(reading_cli, ["--db", str(path), "list"])
        assert result.exit_code == 1
        line = _one_error(result, "is read-only")
        assert "older version" in line and "damaged" not in line
        assert _sha(path) == before
    finally:
        os.chmod(path, 0o644)


def test_the_apps_latency_table_path_goes_through_the_guard(db, monkeypatch):
    """The Supernet page saves a measured latency table wherever its text box says: never onto the log."""
    from streamlit.testing.v1 import AppTest

    from zoo import spos

    monkeypatch.setenv("READING_DB", str(db))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    monkeypatch.setenv("INDEX_BACKGROUND", "0")
    measured = []
    monkeypatch.setattr(spos, "measure_latency_table", lambda *a, **k: measured.append(1))
    before = _sha(db)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("ui/pages/supernet.py").run()
    assert not at.exception, [e.value for e in at.exception]
    for target in (f"{db}-journal", str(reading.library_dir(db) / "latency.json")):  # absent: the button shows
        at.text_input(key="sn_lat_path_False").set_value(target).run()
        at.button(key="sn_measure").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("refusing to write" in e.value for e in at.error), [e.value for e in at.error]
    assert measured == [] and _sha(db) == before


def test_two_logs_whose_names_map_to_one_folder_get_two_folders(tmp_path):
    """`papers.db` and `papers` (no extension) would both be `papers.pdfs`: the second gets a folder of its own."""
    import index

    first, second = tmp_path / "papers.db", tmp_path / "papers"
    sha, stored = _with_pdf(first)
    _with_pdf(second)
    assert reading.library_dir(first) != reading.library_dir(second)
    assert reading.library_dir(first) == tmp_path / "papers.pdfs"
    with open_log(second) as log:
        log.remove(1)
    assert stored.is_file() and _sha(stored) == sha
    with open_log(first) as log, open_log(second) as other:
        index.reindex(log, full=True, embedder=index.HashEmbedder(64))
        index.reindex(other, full=True, embedder=index.HashEmbedder(64))
    assert index.index_dir(first) != index.index_dir(second)


def test_the_app_offers_no_altered_copy_for_download(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "papers.db"
    sha, stored = _with_pdf(db)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    monkeypatch.setenv("READING_DB", str(db))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    monkeypatch.setenv("INDEX_BACKGROUND", "0")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.query_params.update({"id": "1"})
    at.switch_page("ui/pages/paper.py").run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("was altered" in e and "restore it" in e for e in errors), errors
    assert not [b for b in at.get("download_button")]


def test_the_app_refuses_another_programs_file_in_one_line(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    places = _places(tmp_path / "places.sqlite")
    before, files = _sha(places), _siblings(places)
    monkeypatch.setenv("READING_DB", str(places))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    monkeypatch.setenv("INDEX_BACKGROUND", "0")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    for page in ("library", "log_paper", "search"):
        at.switch_page(f"ui/pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("is not a reading log" in e.value for e in at.error), [e.value for e in at.error]
    assert _sha(places) == before and _siblings(places) == files


def test_a_log_renamed_without_its_folder_finds_it_by_its_library_id(tmp_path):
    main = tmp_path / "papers.db"
    sha, stored = _with_pdf(main)
    renamed = tmp_path / "archive-2026.sqlite"
    main.rename(renamed)
    result = _check(renamed)
    assert result.exit_code == 0, result.output
    with open_log(renamed) as log:
        path = Path(log.pdfs(1)[0]["path"])
        assert path.is_file() and _sha(path) == sha and log.library_dir() == reading.library_dir(renamed)
    assert not stored.parent.parent.exists()  # moved along, not copied


def test_a_copy_renamed_elsewhere_does_not_take_the_originals_folder(tmp_path):
    import shutil

    main = tmp_path / "papers.db"
    sha, stored = _with_pdf(main)
    with open_log(main) as log:
        log.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(main, tmp_path / "copy.db")
    assert _check(tmp_path / "copy.db").exit_code == 1  # its PDFs are the original's: missing here, and said so
    assert stored.is_file() and reading.library_dir(main) == stored.parent.parent


@pytest.mark.parametrize("target", ["{db}-wal", "{db}-journal", "{lib}/restored.db", "{idx}/restored.db"])
def test_restore_may_replace_a_log_but_never_its_wal_or_folders(db, tmp_path, target):
    import index

    with open_log(db) as log:
        log.library_dir().mkdir(parents=True, exist_ok=True)
        reading.backup(log, tmp_path / "b.tar")
    where = target.format(db=db, lib=reading.library_dir(db), idx=index.index_dir(db))
    before = _sha(db)
    result = CliRunner().invoke(reading_cli, ["--db", str(db), "restore", str(tmp_path / "b.tar"), "--db", where,
                                              "--force"])
    assert result.exit_code == 2, result.output
    _one_error(result, "refusing to write")
    assert _sha(db) == before and not Path(where).exists()
    result = CliRunner().invoke(reading_cli, ["--db", str(db), "restore", str(tmp_path / "b.tar"), "--force"])
    assert result.exit_code == 0, result.output  # the log itself: on purpose


def test_a_log_that_cannot_be_created_in_a_read_only_folder_says_so(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        result = CliRunner().invoke(reading_cli, ["--db", str(folder / "new.db"), "list"])
        assert result.exit_code == 1
        line = _one_error(result, "cannot create the log")
        assert "read-only" in line and "damaged" not in line
        assert list(folder.iterdir()) == []
    finally:
        os.chmod(folder, 0o755)


def test_a_wal_log_whose_shared_memory_cannot_be_made_is_read_as_immutable(db, monkeypatch):
    """Without root, a WAL log in a read-only folder cannot get its -shm file: read-only is retried as immutable."""
    real = _db._open
    opened = []

    class NoShm:
        def execute(self, *_):
            raise sqlite3.OperationalError("unable to open database file")

        def close(self):
            pass

    def no_shm(target, *, uri):
        opened.append(target)
        if uri and "mode=ro" in target and "immutable" not in target:
            return NoShm()
        return real(target, uri=uri)

    with open_log(db):
        pass
    os.chmod(db, 0o444)
    try:
        monkeypatch.setattr(_db, "_open", no_shm)
        with open_log(db) as log:
            assert log.read_only and [p["title"] for p in log.papers()] == ["Deep Residual Learning"]
        assert any("immutable=1" in t for t in opened)
    finally:
        os.chmod(db, 0o644)
