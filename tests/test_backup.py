"""`reading backup` / `reading restore`: one archive with a consistent snapshot of the database, the stored PDFs and
a manifest of sha256 hashes; a restore verifies every hash before writing anything."""
from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import stat
import tarfile
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import reading
from paperzoo.reading_cli import cli
from reading import InvalidInput, library_dir, open_log

PDF = Path(__file__).parent / "fixtures" / "pdf" / "onecolumn.pdf"


@pytest.fixture
def logged(tmp_path):
    with open_log(tmp_path / "log.db") as log:
        log.import_starter()
        first = log.papers()[-1]["id"]
        log.note(first, "备份里也要有这条笔记")
        log.add_read(first, "2024-03-01")
        log.rate(first, 4)
        log.add_pdf(PDF, fetch=False)
        yield log


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def test_backup_then_restore_gives_the_same_log_and_pdfs(logged, tmp_path):
    report = reading.backup(logged, tmp_path / "b.tar")
    assert (report.papers, report.pdfs, report.missing) == (logged.count(), 1, [])
    with tarfile.open(tmp_path / "b.tar") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    sha = _sha(PDF)
    assert names == ["reading.db", f"pdfs/{sha[:2]}/{sha}.pdf", "manifest.json"]
    assert manifest["members"][f"pdfs/{sha[:2]}/{sha}.pdf"] == {"sha256": sha, "size": PDF.stat().st_size}
    restored = reading.restore(tmp_path / "b.tar", tmp_path / "elsewhere" / "copy.db")
    assert (restored.papers, restored.pdfs) == (logged.count(), 1)
    with open_log(tmp_path / "elsewhere" / "copy.db") as copy:
        assert copy.export("json") == logged.export("json")  # PDFs listed too: they came back
        stored = copy.pdf_file(sha)
        assert stored.parent.parent == library_dir(tmp_path / "elsewhere" / "copy.db") == copy.library_dir()
        assert _sha(stored) == sha
        assert copy.pdf_pages(sha) == logged.pdf_pages(sha)


def test_restore_refuses_an_existing_log_without_force(logged, tmp_path):
    reading.backup(logged, tmp_path / "b.tar")
    other = tmp_path / "other.db"
    with open_log(other) as log:
        log.add(title="Only in the other log", fetch=False)
    with pytest.raises(InvalidInput, match="already exists.*--force"):
        reading.restore(tmp_path / "b.tar", other)
    with open_log(other) as log:
        assert log.count() == 1
    reading.restore(tmp_path / "b.tar", other, force=True)
    with open_log(other) as log:
        assert log.count() == logged.count()
        assert not any(p["title"] == "Only in the other log" for p in log.papers())
        sha = _sha(PDF)
        assert _sha(log.pdf_file(sha)) == sha  # the PDF folder is the restored log's now


def test_restore_over_a_log_with_pdfs_of_its_own(logged, tmp_path):
    reading.backup(logged, tmp_path / "b.tar")
    other = tmp_path / "other.db"
    with open_log(other) as log:
        log.add_pdf(Path(__file__).parent / "fixtures" / "pdf" / "twocolumn.pdf", fetch=False)
    reading.restore(tmp_path / "b.tar", other, force=True)
    with open_log(other) as log:  # the old folder's marker named the old log's library: it is the restored one's
        sha = _sha(PDF)
        assert log.pdf_pages(sha) and _sha(log.pdf_file(sha)) == sha
        added = log.add_pdf(Path(__file__).parent / "fixtures" / "pdf" / "twocolumn.pdf", fetch=False)
        assert log.pdf_file(added.pdf["sha256"]).is_file()


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy a tar archive member by member, ``change(name, data)`` returning the new bytes (None drops it)."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for info in tin:
            data = change(info.name, tin.extractfile(info).read())
            if data is None:
                continue
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("case, match", [
    ("pdf-byte-flipped", "damaged: pdfs/"),
    ("db-byte-flipped", "damaged: reading.db"),
    ("pdf-dropped", "incomplete: pdfs/"),
    ("manifest-dropped", "not a backup"),
])
def test_a_damaged_backup_is_refused_before_anything_is_written(logged, tmp_path, case, match):
    reading.backup(logged, tmp_path / "b.tar")

    def change(name: str, data: bytes):
        if case == "pdf-byte-flipped" and name.startswith("pdfs/"):
            return data[:100] + bytes([data[100] ^ 1]) + data[101:]
        if case == "db-byte-flipped" and name == "reading.db":
            return data[:5000] + bytes([data[5000] ^ 1]) + data[5001:]
        if (case == "pdf-dropped" and name.startswith("pdfs/")) or (case == "manifest-dropped" and
                                                                     name == "manifest.json"):
            return None
        return data

    _rewrite(tmp_path / "b.tar", tmp_path / "bad.tar", change)
    target = tmp_path / "new" / "r.db"
    with pytest.raises(InvalidInput, match=match):
        reading.restore(tmp_path / "bad.tar", target)
    assert not target.parent.exists() or not any(target.parent.rglob("*"))  # nothing written, not even a PDF


def test_a_member_outside_the_layout_is_refused(logged, tmp_path):
    reading.backup(logged, tmp_path / "b.tar")
    with tarfile.open(tmp_path / "b.tar", "a") as tar:
        data = b"owned"
        info = tarfile.TarInfo("../../escape.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(InvalidInput, match="no backup of ours holds"):
        reading.restore(tmp_path / "b.tar", tmp_path / "new.db")
    assert not (tmp_path.parent / "escape.txt").exists() and not (tmp_path / "new.db").exists()


def test_backup_while_another_connection_writes_is_consistent(logged, tmp_path):
    stop = threading.Event()

    def writer():
        with open_log(logged.path) as other:
            n = 0
            while not stop.is_set():
                other.add(title=f"written during the backup {n}", fetch=False, note="x" * 2000)
                n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for i in range(3):
            reading.backup(logged, tmp_path / f"b{i}.tar")
    finally:
        stop.set()
        thread.join()
    for i in range(3):
        reading.restore(tmp_path / f"b{i}.tar", tmp_path / f"r{i}.db")
        conn = sqlite3.connect(tmp_path / f"r{i}.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


def test_an_interrupted_backup_leaves_no_archive(logged, tmp_path, monkeypatch):
    from reading import _backup

    def boom(self, n=-1):
        raise KeyboardInterrupt

    monkeypatch.setattr(_backup._Hashing, "read", boom)
    with pytest.raises(KeyboardInterrupt):
        reading.backup(logged, tmp_path / "out" / "b.tar")
    assert list((tmp_path / "out").iterdir()) == []  # no archive, no temporary file, no snapshot


def test_backup_file_honours_the_umask(logged, tmp_path):
    old = os.umask(0o022)
    try:
        reading.backup(logged, tmp_path / "b.tar")
        reading.restore(tmp_path / "b.tar", tmp_path / "r.db")
    finally:
        os.umask(old)
    sha = _sha(PDF)
    for path in (tmp_path / "b.tar", tmp_path / "r.db", library_dir(tmp_path / "r.db") / sha[:2] / f"{sha}.pdf"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_cli_backup_restore_and_show_json_lists_pdfs(logged, tmp_path):
    db = logged.path
    out = _run(db, "backup", str(tmp_path / "b.tar"))
    assert out.exit_code == 0 and f"backed up {logged.count()} paper(s) and 1 PDF(s)" in out.output
    refused = _run(db, "backup", str(db))
    assert refused.exit_code == 2 and "refusing to write" in refused.output
    again = _run(db, "restore", str(tmp_path / "b.tar"))
    assert again.exit_code == 1 and "already exists" in again.output
    done = _run(db, "restore", str(tmp_path / "b.tar"), "--db", str(tmp_path / "r.db"))
    assert done.exit_code == 0 and "restored" in done.output, done.output
    shown = json.loads(_run(tmp_path / "r.db", "show", "--json", str(logged.papers()[0]["id"])).output)
    assert shown["pdfs"] == [{"file_name": PDF.name, "pages": 2, "sha256": _sha(PDF)}]


def test_a_backup_killed_midway_leaves_no_archive_at_file(logged, tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    script = f"""
import time
from reading import _backup, backup, open_log
real = _backup._Hashing.read
def slow(self, n=-1):
    data = real(self, n)
    print("copying", flush=True)
    time.sleep(60)
    return data
_backup._Hashing.read = slow
backup(open_log({str(logged.path)!r}), {str(tmp_path / "out" / "b.tar")!r})
"""
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout.readline().strip() == "copying"  # the archive is being written
    finally:
        proc.kill()
        proc.wait()
    assert not (tmp_path / "out" / "b.tar").exists()  # only hidden temporary files, never a partial FILE
    assert all(p.name.startswith(".") for p in (tmp_path / "out").iterdir())


def test_a_zip_name_is_refused_rather_than_written_as_tar(logged, tmp_path):
    with pytest.raises(InvalidInput, match="tar archive"):
        reading.backup(logged, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()
