"""Every heavy object the pages use, from ``st.cache_resource`` getters (one place, so each is built once per process).

The log, the embedder, the zoo's model cards and the SPOS lookup tables are shared by all sessions; snapshots of the
log (its papers, its embedding map) are keyed on the log's ``data_version``, so a write from the app or from the
``reading`` CLI in another process shows on the next rerun.
"""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

import streamlit as st

import index
import paperzoo
import reading

#: Log setting holding the daily reading goal shown on the stats page.
GOAL_SETTING = "ui.daily_goal"
#: Log setting holding the SPOS latency table path and the SPOS search result path the supernet page shows.
LATENCY_SETTING = "ui.spos_latency_table"
SEARCH_SETTING = "ui.spos_search_result"


def db_path() -> Path:
    """The log file: ``$READING_DB`` or the user's default (read on every run, so tests can point it elsewhere)."""
    return reading.default_db_path()


@st.cache_resource(show_spinner=False)
def _open_log(path: str) -> reading.Log:
    log = reading.open_log(path)
    with contextlib.suppress(OSError):  # app start: PDF pages left waiting are embedded in the background
        paperzoo.index_in_background(log)
    return log


def get_log() -> reading.Log:
    """The open log for :func:`db_path` (one connection per process, thread-safe)."""
    return _open_log(str(db_path()))


@st.cache_resource(show_spinner="Loading the embedding model (first search only)…")
def _embedder(name: str) -> index.Embedder:
    embedder = index.get_embedder(name)
    _ = embedder.dim  # loads the model now, inside the spinner, rather than in the middle of a search
    return embedder


def get_embedder(log: reading.Log | None = None) -> index.Embedder:
    """The configured embedder (``$INDEX_MODEL``, the log's setting, or the bundled MiniLM), loaded once."""
    return _embedder(index.resolve_model(log=log))


@st.cache_resource(show_spinner=False)
def _warm(name: str) -> threading.Thread:
    # index.get_embedder hands out one instance per model and its load is locked, so a search that comes before
    # the warm-up ends simply waits for it
    thread = threading.Thread(target=lambda: index.get_embedder(name).dim, name="embedder-warm-up", daemon=True)
    thread.start()
    return thread


def warm_up_embedder(log: reading.Log) -> None:
    """Start loading the embedding model in the background (once per process), so the first search is quick."""
    _warm(index.resolve_model(log=log))


@st.cache_resource(max_entries=4, show_spinner=False)
def _papers(path: str, version: int) -> list[dict[str, Any]]:
    return _open_log(path).papers(sort="added")


def papers_snapshot(log: reading.Log) -> list[dict[str, Any]]:
    """Every paper of the log (newest first), rebuilt only when the log's data changed. Treat as read-only."""
    return _papers(str(log.path), log.data_version())


@st.cache_resource(max_entries=2, show_spinner=False)
def _stats(path: str, version: int, today: str, window: int) -> dict[str, Any]:
    return _open_log(path).stats(window_days=window, today=today)


def stats_snapshot(log: reading.Log, today: str, window: int = 30) -> dict[str, Any]:
    """``log.stats`` for ``today``, cached until the log changes."""
    return _stats(str(log.path), log.data_version(), today, window)


@st.cache_resource(max_entries=2, show_spinner=False)
def _map(path: str, version: int, model: str) -> dict[str, Any]:
    from . import _maps

    log = _open_log(path)
    return _maps.embedding_map(log, _embedder(model))


def embedding_map(log: reading.Log) -> dict[str, Any]:
    """2-D projection of the library's embeddings: ``{"ids": [...], "xy": [[x, y], ...]}`` (slow the first time)."""
    return _map(str(log.path), log.data_version(), index.resolve_model(log=log))


@st.cache_resource(max_entries=8, show_spinner=False)
def _inbox_ranking(path: str, model: str, tag: str | None, ranker: str, ranked: tuple[int, ...], generation: int
                   ) -> list[dict[str, Any]]:
    return paperzoo.rank_inbox(_open_log(path), tag=tag, k=max(len(ranked), 1), ranker=ranker,
                               embedder=_embedder(model))


def inbox_ranking(log: reading.Log, *, ranked: tuple[int, ...], tag: str | None = None, ranker: str = "fusion",
                  generation: int = 0) -> list[dict[str, Any]]:
    """Every waiting candidate ranked by ``paperzoo.rank_inbox``, best first; cached per request.

    Training the per-tag classifiers takes seconds on a large library, so triage does not rank again: the key is the
    set of candidate ids that was waiting when the page last ranked (``ranked``) and a ``generation`` the page
    advances on "Re-rank"; the page drops the candidates triaged since, and starts a new ``ranked`` set when new
    candidates arrive. Treat the result as read-only; it may name candidates that are no longer waiting.
    """
    return _inbox_ranking(str(log.path), index.resolve_model(log=log), tag, ranker, tuple(ranked), int(generation))


@st.cache_resource(show_spinner=False)
def model_cards() -> list[Any]:
    """The zoo's model cards, one per registered model, sorted by name (imports torch on first use)."""
    import zoo

    return [zoo.info(name) for name in zoo.list_models()]


@st.cache_resource(show_spinner=False)
def flops_table(channel_search: bool) -> Any:
    """The exact MACs table of the paper's SPOS supernet at 224x224 (built on the meta device: instant)."""
    from zoo import spos

    return spos.flops_table(spos.Layout(channel_search=channel_search))


@st.cache_resource(max_entries=4, show_spinner=False)
def _latency_table(path: str, mtime: float) -> Any:
    from zoo import spos

    return spos.LatencyTable.load(path)


def latency_table(path: str | os.PathLike) -> Any:
    """The SPOS latency table stored at ``path`` (reloaded when the file changes). Raises ValueError/OSError."""
    path = Path(path).expanduser()
    return _latency_table(str(path), path.stat().st_mtime)

