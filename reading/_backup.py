"""Backups of a log: one tar archive holding a consistent snapshot of the database, the stored PDFs and a manifest
with the sha256 of every member; and restoring one, every hash verified before anything is written.

Archive layout (plain tar; ``.tar.gz`` / ``.tgz`` names are gzip-compressed)::

    reading.db                 the snapshot (SQLite's online backup API: consistent while others write)
    pdfs/ab/ab12…ef.pdf        each stored PDF the snapshot refers to, by its sha256
    manifest.json              {"format", "version", "created_at", "schema", "papers", "members": {name: {sha256,
                               size}}, "missing_pdfs": [...]}, written last
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import _db
from ._atomic import atomic_open, rename_into_place
from ._errors import InvalidInput
from ._export import check_target, log_files
from ._fields import now_iso
from ._fulltext import OWNER_FILE, library_dir

if TYPE_CHECKING:  # pragma: no cover
    from ._log import Log

FORMAT = "paper-zoo reading backup"
VERSION = 1
DB_MEMBER = "reading.db"
MANIFEST = "manifest.json"
_PDF_MEMBER = re.compile(r"pdfs/([0-9a-f]{2})/([0-9a-f]{64})\.pdf")
_CHUNK = 1 << 20


@dataclass
class BackupReport:
    """What :func:`backup` wrote."""

    path: Path
    papers: int
    pdfs: int
    size: int
    missing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = f"backed up {self.papers} paper(s) and {self.pdfs} PDF(s) to {self.path} ({_mib(self.size)})"
        if self.missing:
            line += (f"; {len(self.missing)} stored PDF(s) were missing from the library and are not in it "
                     f"(first: {self.missing[0][:12]})")
        return line


@dataclass
class RestoreReport:
    """What :func:`restore` wrote."""

    db: Path
    papers: int
    pdfs: int

    def summary(self) -> str:
        return f"restored {self.papers} paper(s) and {self.pdfs} PDF(s) into {self.db}"


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def _open_for_writing(path: Path, out: IO[bytes]) -> tarfile.TarFile:
    """A streaming tar writer into ``out``: gzip-compressed for ``.tar.gz`` / ``.tgz`` names, plain otherwise."""
    if path.name.lower().endswith((".tar.gz", ".tgz")):
        return tarfile.open(fileobj=out, mode="w|gz", format=tarfile.PAX_FORMAT)
    return tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)


class _Hashing:
    """A file read through: each block read is hashed and counted (the tar writer reads it once)."""

    def __init__(self, fh: IO[bytes], on_read: Any = None) -> None:
        self.fh, self.sha, self.size, self.on_read = fh, hashlib.sha256(), 0, on_read

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.sha.update(data)
        self.size += len(data)
        if self.on_read is not None:
            self.on_read(len(data))
        return data


def _bar(total: int, desc: str, progress: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not progress)


def backup(log: Log, target: str | os.PathLike[str], *, progress: bool = False) -> BackupReport:
    """Write one archive at ``target`` with a snapshot of ``log``'s database, its stored PDFs and a manifest of
    sha256 hashes. Safe while another program writes to the log. The archive is written to a temporary file and
    renamed at the end: an interrupted backup leaves no partial archive at ``target``.

    Raises:
        InvalidInput: an in-memory log, or a target that is one of the log's own files or folders.
    """
    if str(log.path) == ":memory:":
        raise InvalidInput("an in-memory log cannot be backed up; open a log file")
    path = Path(target).expanduser()
    if path.suffix.lower() == ".zip":
        raise InvalidInput(f"a backup is a tar archive: name it .tar, .tar.gz or .tgz, not {path.name}")
    check_target(path, log_files(log.path))
    if path.is_dir():
        raise InvalidInput(f"cannot write {target}: it is a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        scratch = tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.")
    except OSError as err:
        raise InvalidInput(f"cannot write {target}: {err.strerror or err}") from None
    with scratch as tmp:
        snap = Path(tmp) / DB_MEMBER
        _db.snapshot(log.path, snap)
        contents = _db.snapshot_contents(snap)
        files: list[tuple[str, Path]] = [(DB_MEMBER, snap)]
        missing = []
        for sha in contents["pdfs"]:
            stored = log.pdf_file(sha)
            if stored.is_file():
                files.append((f"pdfs/{sha[:2]}/{sha}.pdf", stored))
            else:
                missing.append(sha)
        total = sum(p.stat().st_size for _, p in files)
        members: dict[str, dict[str, Any]] = {}
        try:
            with atomic_open(path, "wb") as out, _bar(total, path.name, progress) as bar, \
                    _open_for_writing(path, out) as tar:
                for name, src in files:
                    with open(src, "rb") as fh:
                        info = _info(name, os.fstat(fh.fileno()).st_size)
                        reader = _Hashing(fh, bar.update)
                        tar.addfile(info, reader)  # read() is all tarfile calls
                    members[name] = {"sha256": reader.sha.hexdigest(), "size": reader.size}
                manifest = {"format": FORMAT, "version": VERSION, "created_at": now_iso(),
                            "schema": contents["schema"], "papers": contents["papers"], "members": members,
                            "missing_pdfs": missing}
                data = (json.dumps(manifest, indent=2) + "\n").encode()
                tar.addfile(_info(MANIFEST, len(data)), io.BytesIO(data))
        except OSError as err:
            raise InvalidInput(f"cannot write {target}: {err.strerror or err}") from None
    return BackupReport(path, contents["papers"], len(files) - 1, path.stat().st_size, missing)


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, int(time.time())
    return info


# --- restore ------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        with tarfile.open(path, mode="r:*") as tar:
            yield tar
    except (tarfile.TarError, EOFError, OSError, ValueError) as err:
        why = (str(err).strip().splitlines() or [type(err).__name__])[0].rstrip(":")
        raise InvalidInput(f"{path.name} is not a readable backup ({why}); nothing was written") from None


def _members(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    """The archive's members in order, each a regular file with an expected name (anything else is refused)."""
    seen = set()
    for info in tar:
        if not info.isfile() or info.name in seen or not (
                info.name in (DB_MEMBER, MANIFEST) or _PDF_MEMBER.fullmatch(info.name)):
            raise InvalidInput(f"the backup holds {info.name!r}, which no backup of ours holds; nothing was written")
        seen.add(info.name)
        fh = tar.extractfile(info)
        assert fh is not None  # a regular file
        yield info, fh


def _verify(path: Path, progress: bool) -> dict[str, Any]:
    """Read the whole archive once, hashing every member; compare with the manifest. Returns the manifest."""
    hashes: dict[str, tuple[str, int]] = {}
    manifest: Any = None
    with _open_archive(path) as tar, _bar(path.stat().st_size, f"verify {path.name}", progress) as bar:
        for info, fh in _members(tar):
            if info.name == MANIFEST:
                try:
                    manifest = json.loads(fh.read(1 << 24))
                except ValueError:
                    raise InvalidInput("the backup's manifest is not JSON; nothing was written") from None
                continue
            sha = hashlib.sha256()
            for block in iter(lambda: fh.read(_CHUNK), b""):
                sha.update(block)
                bar.update(len(block))
            hashes[info.name] = (sha.hexdigest(), info.size)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("members"),
                                                                                              dict):
        raise InvalidInput(f"{path.name} is not a backup of a reading log (no manifest); nothing was written")
    if manifest.get("version", 0) > VERSION:
        raise InvalidInput(f"{path.name} was written by a newer version (backup format {manifest['version']}); "
                           "upgrade paper-zoo")
    listed = manifest["members"]
    for name in sorted(set(listed) | set(hashes)):
        if name not in hashes:
            raise InvalidInput(f"the backup is incomplete: {name} is missing; nothing was written")
        if name not in listed:
            raise InvalidInput(f"the backup holds {name}, which its manifest does not list; nothing was written")
        want = listed[name]
        pdf = _PDF_MEMBER.fullmatch(name)
        if (not isinstance(want, dict) or (want.get("sha256"), want.get("size")) != hashes[name]
                or (pdf and pdf.group(2) != hashes[name][0])):
            raise InvalidInput(f"the backup is damaged: {name} does not match its sha256; nothing was written")
    if DB_MEMBER not in hashes:
        raise InvalidInput(f"the backup holds no database ({DB_MEMBER}); nothing was written")
    return manifest


def restore(archive: str | os.PathLike[str], db: str | os.PathLike[str], *, force: bool = False,
            progress: bool = False) -> RestoreReport:
    """Restore a backup made by :func:`backup` as the log ``db``, its PDFs into that log's library folder.

    Every member's sha256 is checked against the manifest before anything is written. An existing log at ``db``
    is replaced only with ``force`` (close the programs that have it open first); its stored PDFs are kept.

    Raises:
        InvalidInput: no such archive, not one of ours, damaged or incomplete, or ``db`` exists without ``force``.
    """
    path = Path(archive).expanduser()
    target = Path(db).expanduser()
    if not path.is_file():
        raise InvalidInput(f"no backup file {str(archive)!r}")
    if target.exists() and not force:
        raise InvalidInput(f"{target} already exists: restore into another file with --db NEW, or replace it "
                           "with --force")
    if target.is_dir():
        raise InvalidInput(f"cannot restore to {target}: it is a folder")
    manifest = _verify(path, progress)
    library = library_dir(target)
    pdfs = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _open_archive(path) as tar, _bar(path.stat().st_size, f"restore {path.name}", progress) as bar:
            for info, fh in _members(tar):
                pdf = _PDF_MEMBER.fullmatch(info.name)
                if info.name == MANIFEST:
                    continue
                if pdf:
                    dest = library / pdf.group(1) / f"{pdf.group(2)}.pdf"
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    pdfs += 1
                else:  # the database: last in the archive's order is not assumed; written beside, moved at the end
                    dest = target.with_name(f".{target.name}.restoring")
                _copy_checked(fh, dest, manifest["members"][info.name]["sha256"], bar)
        # an old log's WAL must not be replayed into the restored file: gone before the rename
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target.with_name(target.name + suffix))
        rename_into_place(target.with_name(f".{target.name}.restoring"), target)
        with contextlib.suppress(FileNotFoundError):  # the folder is the restored log's now: it claims it on open
            os.unlink(library / OWNER_FILE)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(target.with_name(f".{target.name}.restoring"))
        raise InvalidInput(f"cannot restore to {target}: {err.strerror or err}") from None
    try:
        papers = _db.snapshot_contents(target)["papers"]
    except sqlite3.DatabaseError:
        papers = manifest.get("papers", 0)
    return RestoreReport(target, papers, pdfs)


def _copy_checked(fh: IO[bytes], dest: Path, sha256: str, bar: Any) -> None:
    """Copy a member to ``dest`` (temp file + rename), hashing as it goes; a mismatch (the archive changed since
    it was verified) writes nothing."""
    sha = hashlib.sha256()
    with atomic_open(dest, "wb", prefix=f".{dest.name}.") as out:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            sha.update(block)
            out.write(block)
            bar.update(len(block))
        if sha.hexdigest() != sha256:
            raise InvalidInput(f"{dest.name} changed while it was restored; nothing of it was written")


