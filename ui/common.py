"""Helpers shared by the pages: one-line errors, links between pages, paper tables, progress for long work."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from . import resources
from ._markdown import safe_markdown
from ._pages import PAGE_FILES

def link(key: str, label: str, **query: Any) -> None:
    """A link to page ``key`` (see ``PAGE_FILES``) with query parameters, e.g. ``link("paper", "ResNet", id=3)``."""
    st.page_link(PAGE_FILES[key], label=safe_markdown(label), query_params={k: str(v) for k, v in query.items()})


def one_line(err: BaseException) -> str:
    """The first line of an error's message (its type name when it has none), safe to render as Markdown."""
    text = str(err).strip()
    return safe_markdown(text.splitlines()[0]) if text else type(err).__name__


@contextlib.contextmanager
def guarded(prefix: str = "") -> Iterator[None]:
    """Show any error raised inside as one ``st.error`` line instead of a traceback (Streamlit's reruns pass)."""
    try:
        yield
    except ScriptControlException:
        raise
    except Exception as err:  # the app must never show a traceback; the message says what went wrong
        st.error(f"{prefix}{one_line(err)}")


def log_or_stop() -> Any:
    """The open log, or an error line and the end of this page's run."""
    try:
        return resources.get_log()
    except Exception as err:  # a log that cannot be opened: say which file and why
        st.error(one_line(err))
        st.stop()


def starter_offer(log: Any, key: str) -> bool:
    """On an empty log: the one-click starter set. Returns True when the log is empty."""
    if log.count():
        return False
    st.info("Your reading log is empty. Log a paper, or start from the papers behind the zoo.")
    if st.button("Load the starter set", key=key, type="primary"):
        with guarded("Could not load the starter set: "), st.spinner("Loading the starter set…"):
            from . import _intake

            report = _intake.load_starter(log)
            st.session_state["flash"] = f"Starter set loaded: {report}"
            st.rerun()
    return True


def library_page(title: str, *, starter_key: str, warm_up: bool = True) -> Any | None:
    """The start of a page over the papers: title, last run's message, the open log; None (after offering the
    starter set) when the log is empty. ``warm_up`` starts loading the embedder while the user reads or types."""
    st.title(title)
    flash()
    log = log_or_stop()
    if starter_offer(log, key=starter_key):
        return None
    if warm_up:
        resources.warm_up_embedder(log)
    return log


def flash() -> None:
    """Show (once) the message a previous run left before it reran."""
    message = st.session_state.pop("flash", None)
    if message:
        st.success(safe_markdown(message))


def paper_rows(papers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows for papers: the columns the Library shows."""
    rows = []
    for p in papers:
        reads = [r["read_on"] for r in p.get("reads", [])]
        rows.append({
            "id": p["id"],
            "title": p["title"],
            "year": p.get("year"),
            "authors": ", ".join(p.get("authors", [])[:3]) + (" et al." if len(p.get("authors", [])) > 3 else ""),
            "tags": ", ".join(p.get("tags", [])),
            "status": p.get("status"),
            "rating": p.get("rating"),
            "last read": max(reads) if reads else None,
            "added": (p.get("added_at") or "")[:10],
            "arXiv": p.get("arxiv_id"),
        })
    return rows


class ProgressEmbedder:
    """Wraps an embedder so that each ``encode`` advances a progress callback (for ``st.progress``).

    It keeps the wrapped embedder's ``name`` and ``dim``, so the index treats it as the same model.
    """

    def __init__(self, inner: Any, total: int, report: Callable[[float, str], None]) -> None:
        self.inner = inner
        self.name = inner.name
        self.total = max(int(total), 1)
        self.done = 0
        self.report = report

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
        out = self.inner.encode(texts, batch_size=batch_size)
        self.done += len(texts)
        self.report(min(self.done / self.total, 1.0), f"embedded {self.done} of ~{self.total} papers")
        return out
