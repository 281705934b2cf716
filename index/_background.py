"""The background indexer: one detached process that embeds the PDFs' waiting pages into the passage index.

    index.start_background_indexing("/x/reading.db")   # True: started; False: one already runs
    index.indexing_status(log)                          # pages indexed / waiting, rate, ETA

Started as ``python -m index._indexer DB`` in its own session (it outlives the command or app that started
it, and a Ctrl-C there does not reach it). It takes the passage index's writer lock (a second indexer, or a
foreground `reindex`, finds it taken and leaves the work to the holder), syncs the paper index (papers a search
did not wait for), embeds the waiting pages in page order,
saves every chunk as it is embedded (kill -9 loses at most the chunk in flight; the next run reuses the saved ones)
and commits the index every `COMMIT_EVERY` seconds, so searches see it fill; then it exits.

``index`` does not import the log's package: the process opens the log through ``--opener module:function`` (a
function taking the database path, e.g. ``reading:open_log``), which the application layer names.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from . import _store
from ._passages import passages_dir

#: Seconds between commits of what is embedded so far (each rewrites the FAISS file: ~0.3 s at 50,000 passages).
COMMIT_EVERY = 20.0
#: How the log is opened when the caller names no opener.
DEFAULT_OPENER = "reading:open_log"
LOG_FILE = "indexer.log"
#: Tries (0.2 s apart) to take the writer lock before leaving the work to whoever holds it (a status probe holds
#: it for an instant).
LOCK_TRIES = 10

#: After a failed run, seconds before a new indexer is started (its one-line reason is in `LOG_FILE`).
RETRY_AFTER_S = 300.0
FAILED = "the background indexer failed:"

_CHILDREN: list[subprocess.Popen[bytes]] = []


def _import_roots(*modules: str) -> list[str]:
    """The sys.path entries the child needs to import `modules` as this process does."""
    roots = []
    for name in modules:
        spec = importlib.util.find_spec(name.split(".")[0])
        if spec is not None and spec.origin:
            roots.append(str(Path(spec.origin).resolve().parent.parent))
    return roots


def start_background_indexing(log_path: Any, *, model: str | None = None, opener: str = DEFAULT_OPENER) -> bool:
    """Start the detached indexer for the log at `log_path` unless one is running; True if one was started.

    Args:
        log_path: the log's database file.
        model: the embedding model (a name `get_embedder` takes); None: the log's configured one.
        opener: ``module:function`` opening the log from its path (the application layer's choice).
    """
    if str(log_path) == ":memory:":
        return False  # another process cannot open an in-memory log
    folder = passages_dir(log_path)
    if _store.lock_held(folder) or _failed_recently(folder):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "index._indexer", str(Path(log_path).resolve()), "--opener", opener]
    if model:
        cmd += ["--model", model]
    env = dict(os.environ)
    roots = _import_roots(__name__, opener.split(":")[0])
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([*roots, *filter(None, [env.get("PYTHONPATH")])]))
    with open(folder / LOG_FILE, "wb") as err:  # the last run's messages
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                 start_new_session=True, close_fds=True, env=env, cwd=str(folder))
    _CHILDREN.append(child)
    threading.Thread(target=child.wait, name="index-background-reaper", daemon=True).start()  # no zombie
    return True


def _failed_recently(folder: Path) -> bool:
    """Whether the last indexer failed less than `RETRY_AFTER_S` ago (then searches do not start one each)."""
    try:
        st = (folder / LOG_FILE).stat()
        if time.time() - st.st_mtime >= RETRY_AFTER_S:
            return False
        with open(folder / LOG_FILE, "rb") as fh:
            return FAILED.encode() in fh.read(1 << 16)
    except OSError:
        return False


def wait_for_children(timeout: float | None = None) -> None:
    """Wait for the indexers this process started (tests, benches); kill those still running after `timeout`."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for child in list(_CHILDREN):
        try:
            child.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        _CHILDREN.remove(child)


def run(log: Any, *, model: str | None = None, commit_every: float = COMMIT_EVERY, chunk_size: int | None = None
        ) -> bool:
    """The indexer's work in this process: sync the passage index under the writer lock, committing as it goes.
    False when another process holds the lock (it does the work)."""
    from ._embed import get_embedder
    from ._passages import CHUNK_SIZE, is_fresh, sync_passages

    from ._sync import sync

    embedder = get_embedder(model, log=log)
    sync(log, embedder=embedder, progress=False)  # the papers first (a search waits for a few, not for many)
    tries = 0
    while not is_fresh(log, embedder):  # PDFs added while it ran found it running: it does them too
        report = sync_passages(log, embedder=embedder, wait=False, progress=False, commit_every=commit_every,
                               chunk_size=chunk_size or CHUNK_SIZE)
        if report.busy:
            tries += 1
            if tries >= LOCK_TRIES:
                return False
            time.sleep(0.2)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index._indexer", description=__doc__.splitlines()[0])
    parser.add_argument("db", help="the log's database file")
    parser.add_argument("--opener", default=DEFAULT_OPENER, help="module:function opening the log from its path")
    parser.add_argument("--model", default=None, help="the embedding model (default: the log's)")
    parser.add_argument("--commit-every", type=float, default=COMMIT_EVERY, help="seconds between commits")
    parser.add_argument("--chunk-size", type=int, default=None, help="passages per saved chunk")
    args = parser.parse_args(argv)
    try:
        module, _, function = args.opener.partition(":")
        opened = getattr(importlib.import_module(module), function or "open_log")(args.db)
        try:
            run(opened, model=args.model, commit_every=args.commit_every, chunk_size=args.chunk_size)
        finally:
            close = getattr(opened, "close", None)
            if close is not None:
                close()
    except Exception as exc:  # noqa: BLE001 - one line for the log file, and searches wait before retrying
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{FAILED} {first}", file=sys.stderr)
        return 1
    return 0
