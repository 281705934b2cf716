"""All index file I/O: the folder beside the database, manifest, FAISS file, ingest chunks, the writer lock.

Layout of `<db stem>.index/` next to the SQLite file::

    manifest.json        the commit point: model, dim, count, checksum, per-paper content hashes, index file name
    faiss-<gen>.index    the FAISS index of generation <gen> (a new name per write; the manifest names the live one)
    chunks/*.npz         embeddings of an ingest in progress (resume after Ctrl-C or kill -9)
    inbox-vectors.npz    embeddings of the inbox candidates (rewritten after every embedded chunk)
    lock                 flock'ed by the process that writes
    indexing.json        progress of an ingest in progress (pages done, rate; the passage index), a hint only

Every file is written to a temporary name, fsync'ed and renamed into place, and the manifest is replaced last, so a
crash at any moment leaves either the old or the new generation, never a mix.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1
MANIFEST = "manifest.json"
LOCK = "lock"
CHUNKS = "chunks"
CANDIDATES = "inbox-vectors.npz"

#: The inbox candidates' saved vectors: candidate id -> (hash of the text it was embedded from, unit float32 row).
CandidateVectors = dict[int, tuple[str, np.ndarray]]

logger = logging.getLogger("index")


class CorruptIndex(Exception):
    """The index files exist but cannot be trusted (the caller rebuilds them)."""


#: The marker file of an index folder: ``{"log": resolved path of the log file it indexes}``.
OWNER_FILE = "owner.json"


def _names(real: Path) -> tuple[Path, Path, Path, Path]:
    """The folders a log file may use (the rule of ``reading``'s PDF library): natural (``papers.db`` ->
    ``papers.index``, the name it always had; ``papers.bak`` -> ``papers.bak.index``, so a copy of a log beside it
    never answers searches from the original's index), ``<full name>.index``, a spare name with a hash of the path,
    and the legacy ``<stem>.index``."""
    natural = real.with_name((real.stem if real.suffix == ".db" else real.name) + ".index")
    spare = real.with_name(f"{real.name}.{hashlib.sha256(str(real).encode()).hexdigest()[:8]}.index")
    return natural, real.with_name(real.name + ".index"), spare, real.with_name(real.stem + ".index")


def _owner(folder: Path) -> str | None:
    try:
        owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return owner.get("log") if isinstance(owner, dict) and isinstance(owner.get("log"), str) else None


def _used_by_another(owner: str | None, real: Path, folder: Path) -> bool:
    if owner is None or owner == str(real):
        return False
    other = Path(owner)
    return other.is_file() and other != real and folder in _names(other)


def index_dir(db_path: str | os.PathLike[str]) -> Path:
    """The index folder of a database file: `/x/reading.db` -> `/x/reading.index/`, `/x/papers.bak` ->
    `/x/papers.bak.index/`; a symlink to the log reaches the same folder (the path is resolved).

    The folder carries a marker naming the log it indexes (written when it is first used): a folder whose marker
    names another log that still uses it is never shared (this log gets `<full name>.index/`); a folder made before
    markers existed is claimed by the log it is named after. The PDF library follows the same rule
    (`reading.library_dir`). An in-memory log (`:memory:`) gets a temporary folder of this process (removed when it
    exits), never a `:memory:.index/` in the working directory.
    """
    if str(db_path) == ":memory:":
        return _memory_index_dir()
    real = Path(db_path).expanduser().resolve()
    natural, full, spare, legacy = _names(real)
    owners = {c: _owner(c) for c in dict.fromkeys((natural, full, spare, legacy)) if c.is_dir()}
    for folder, owner in owners.items():
        if owner == str(real):
            return folder
    if natural not in owners and legacy in owners and owners[legacy] is None \
            and not real.with_name(real.stem + ".db").is_file():
        chosen = legacy  # made before markers, by this log under its old name rule
    else:
        chosen = next((f for f in dict.fromkeys((natural, full)) if not _used_by_another(owners.get(f), real, f)),
                      spare)
    if chosen.is_dir():
        with contextlib.suppress(OSError):  # claim it (a read-only folder stays unmarked)
            atomic_write(chosen / OWNER_FILE, json.dumps({"log": str(real)}).encode())
    return chosen


_MEMORY_DIR: list[Path] = []


def _memory_index_dir() -> Path:
    if not _MEMORY_DIR:
        import atexit
        import shutil

        folder = Path(tempfile.mkdtemp(prefix="paper-zoo-memory-", suffix=".index"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _MEMORY_DIR.append(folder)
    return _MEMORY_DIR[0]


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux: ``/proc/self/status``);
    elsewhere set and restored at once under a lock (``os.umask`` has no read-only form)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def _new_file_mode(path: Path) -> int:
    """What the file written at ``path`` gets: the mode of the regular file it replaces, else 0o666 less the umask
    (as ``open`` would make it; ``mkstemp`` makes 0o600 whatever the umask)."""
    try:
        st = os.stat(path)
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()


def atomic_write(path: Path, data: bytes) -> None:
    """The index's one file writer: temp file in the folder, fsync, rename, folder fsync."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@contextlib.contextmanager
def writer_lock(folder: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the folder's exclusive writer lock; yields False (without the lock) if `blocking` is off and it is taken.

    The lock is an `flock` on `folder/lock`: the kernel releases it when the holder dies, even by kill -9.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


_MANIFESTS: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest (treat as read-only), or None if there is none; CorruptIndex if unreadable or of another format.

    Parsed manifests are cached per process by the file's (inode, size, mtime), so repeated searches only stat it.
    """
    path = folder / MANIFEST
    try:
        st = path.stat()
        sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        cached = _MANIFESTS.get(path)
        if cached and cached[0] == sig:
            return cached[1]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise CorruptIndex(f"unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CorruptIndex("manifest of an unknown format")
    _MANIFESTS[path] = (sig, manifest)
    return manifest


def read_index(folder: Path, manifest: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Load and verify the FAISS index the manifest names (sha256, dimension, count).

    Returns (index, manifest): the manifest may be a newer one if a concurrent writer committed meanwhile.
    """
    import faiss

    for attempt in range(3):
        name = manifest.get("index_file")
        if not isinstance(name, str) or "/" in name:
            raise CorruptIndex("manifest names no index file")
        try:
            data = (folder / name).read_bytes()
            break
        except FileNotFoundError:
            # a concurrent writer may have just committed a newer generation and removed ours
            newer = read_manifest(folder)
            if attempt == 2 or newer is None or newer.get("index_file") == name:
                raise CorruptIndex(f"index file {name} is missing") from None
            manifest = newer
    if hashlib.sha256(data).hexdigest() != manifest.get("index_sha256"):
        raise CorruptIndex(f"index file {name} does not match its checksum")
    try:
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8).copy())
    except RuntimeError as exc:
        raise CorruptIndex(f"FAISS cannot read {name}: {str(exc).splitlines()[0]}") from None
    if index.d != manifest.get("dim") or index.ntotal != manifest.get("count"):
        raise CorruptIndex("index dimension or size differs from the manifest")
    return index, manifest


def check_folder(folder: Path) -> list[str]:
    """What is wrong with the index files in ``folder`` (one line each; empty when they are sound or absent): the
    manifest cannot be read, or the index file it names is missing or does not match its checksum."""
    if not folder.is_dir():
        return []
    try:
        manifest = read_manifest(folder)
    except CorruptIndex as exc:
        return [f"{folder}: {exc}"]
    if manifest is None:
        return []
    name = manifest.get("index_file")
    if not isinstance(name, str) or "/" in name:
        return [f"{folder}: the manifest names no index file"]
    try:
        data = (folder / name).read_bytes()
    except OSError:
        return [f"{folder}: the index file {name} is missing"]
    if hashlib.sha256(data).hexdigest() != manifest.get("index_sha256"):
        return [f"{folder}: the index file {name} does not match its checksum"]
    return []


def indexed_ids(folder: Path) -> set[int] | None:
    """Ids of the papers the committed index holds (None when there is no readable manifest)."""
    try:
        manifest = read_manifest(folder)
    except CorruptIndex:
        return None
    if not manifest or not isinstance(manifest.get("hashes"), dict):
        return None
    return {int(k) for k in manifest["hashes"] if str(k).isdigit()}


def update_manifest(folder: Path, manifest: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Rewrite the manifest with `changes` (same index file); returns the new manifest."""
    manifest = {**manifest, **changes}
    atomic_write(folder / MANIFEST, json.dumps(manifest, sort_keys=True).encode())
    return manifest


#: Seconds a temporary file must have been still before a writer holding the lock removes it.
STALE_TEMP_S = 60


def sweep_temps(folder: Path) -> None:
    """Remove the temporary files (``.*.tmp``) that killed writers left in an index folder and its chunks. Called by
    the writer that holds the folder's lock, so no live writer's file is there (the age is a second guard)."""
    now = time.time()
    for where in (folder, folder / CHUNKS):
        for path in where.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if path.is_file() and not path.is_symlink() and now - path.stat().st_mtime > STALE_TEMP_S:
                    path.unlink()


def write_generation(folder: Path, index: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    """Commit a new generation: write its FAISS file, then replace the manifest, then drop old files.

    Returns the manifest as written (with format, index_file, index_sha256 filled in).
    """
    import faiss

    sweep_temps(folder)
    data = faiss.serialize_index(index).tobytes()
    name = f"faiss-{time.time_ns():x}-{uuid.uuid4().hex[:6]}.index"
    atomic_write(folder / name, data)
    manifest = {**manifest, "format": FORMAT, "index_file": name, "index_sha256": hashlib.sha256(data).hexdigest()}
    atomic_write(folder / MANIFEST, json.dumps(manifest, sort_keys=True).encode())
    for old in folder.glob("faiss-*.index"):
        if old.name != name:
            with contextlib.suppress(OSError):
                old.unlink()
    return manifest


STATUS = "indexing.json"


def write_status(folder: Path, status: dict[str, Any] | None) -> None:
    """Record an ingest's progress (pages done, rate) beside the index for readers; None removes it (done)."""
    if status is None:
        with contextlib.suppress(OSError):
            (folder / STATUS).unlink()
        return
    atomic_write(folder / STATUS, json.dumps(status, sort_keys=True).encode())


def read_status(folder: Path) -> dict[str, Any] | None:
    """The progress an ingest in progress recorded, or None (none, or unreadable: it is only a hint)."""
    try:
        status = json.loads((folder / STATUS).read_bytes())
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def lock_held(folder: Path) -> bool:
    """Whether a process holds the folder's writer lock now (probed by taking it without waiting)."""
    if not (folder / LOCK).exists():
        return False
    with writer_lock(folder, blocking=False) as locked:
        return not locked


# --- ingest chunks ------------------------------------------------------------------------------------------------

def _model_tag(model: str) -> str:
    return hashlib.sha256(model.encode()).hexdigest()[:12]


def save_chunk(folder: Path, model: str, ids: np.ndarray, hashes: list[str], vecs: np.ndarray) -> Path:
    """Persist one embedded chunk so an interrupted ingest resumes after it."""
    import io

    buf = io.BytesIO()
    np.savez(buf, ids=np.asarray(ids, dtype=np.int64), hashes=np.asarray(hashes, dtype="U64"),
             vecs=np.asarray(vecs, dtype=np.float32), model=np.asarray(model))
    path = folder / CHUNKS / f"{_model_tag(model)}-{time.time_ns():x}-{uuid.uuid4().hex[:6]}.npz"
    atomic_write(path, buf.getvalue())
    return path


def load_chunks(folder: Path, model: str, dim: int | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """All saved chunks for `model` concatenated as (ids, hashes, vecs); unreadable or foreign chunks are deleted."""
    ids: list[np.ndarray] = []
    hashes: list[str] = []
    vecs: list[np.ndarray] = []
    tag = _model_tag(model)
    for path in sorted((folder / CHUNKS).glob("*.npz")):
        try:
            if not path.name.startswith(tag + "-"):
                raise ValueError("another model")
            with np.load(path, allow_pickle=False) as z:
                c_ids, c_hashes, c_vecs, c_model = z["ids"], z["hashes"], z["vecs"], str(z["model"])
            if c_model != model or len(c_ids) != len(c_vecs) or len(c_ids) != len(c_hashes) or c_vecs.ndim != 2:
                raise ValueError("inconsistent chunk")
            if dim is not None and c_vecs.shape[1] != dim:
                raise ValueError("other dimension")
        except Exception:  # noqa: BLE001 - any unreadable chunk is just re-embedded
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        ids.append(c_ids)
        hashes.extend(str(h) for h in c_hashes)
        vecs.append(c_vecs)
    if not ids:
        return np.zeros(0, dtype=np.int64), [], np.zeros((0, dim or 0), dtype=np.float32)
    return np.concatenate(ids), hashes, np.concatenate(vecs).astype(np.float32, copy=False)


def clear_chunks(folder: Path) -> None:
    """Delete ingest chunks (after they were committed into a generation)."""
    for path in (folder / CHUNKS).glob("*"):
        with contextlib.suppress(OSError):
            path.unlink()


def candidates_signature(folder: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime) of the candidate vector file, or None if there is none: a cheap "did it change" check."""
    try:
        st = (folder / CANDIDATES).stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def read_candidate_vectors(folder: Path, model: str) -> CandidateVectors:
    """The saved candidate vectors for `model`; empty if there are none, they belong to another model, or the file is
    unreadable (derived data: the candidates are simply embedded again)."""
    try:
        with np.load(folder / CANDIDATES, allow_pickle=False) as z:
            if str(z["model"]) != model:
                return {}
            ids, hashes, vecs = z["ids"], z["hashes"], z["vecs"]
            if len(ids) != len(hashes) or len(ids) != len(vecs):
                raise ValueError("inconsistent candidate vectors")
            return {int(i): (str(h), v) for i, h, v in zip(ids, hashes, vecs.astype(np.float32, copy=False))}
    except FileNotFoundError:
        return {}
    except Exception as exc:  # noqa: BLE001 - a damaged cache is derived data: embed again
        logger.warning("the inbox vector cache is unreadable (%s); embedding the candidates again",
                       str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return {}


def write_candidate_vectors(folder: Path, model: str, vectors: CandidateVectors) -> None:
    """Replace the candidate vector file atomically with `vectors` (ids in ascending order)."""
    import io

    ids = np.asarray(sorted(vectors), dtype=np.int64)
    dim = len(next(iter(vectors.values()))[1]) if vectors else 0
    vecs = np.stack([vectors[int(i)][1] for i in ids]).astype(np.float32) if vectors else np.zeros((0, dim), np.float32)
    buf = io.BytesIO()
    np.savez(buf, ids=ids, hashes=np.asarray([vectors[int(i)][0] for i in ids], dtype="U64"), vecs=vecs,
             model=np.asarray(model))
    atomic_write(folder / CANDIDATES, buf.getvalue())
