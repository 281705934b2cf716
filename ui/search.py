"""Search: one box, hybrid by default, filters, results linking to the paper page, "more like this"."""
from __future__ import annotations

from typing import Any

import streamlit as st

import index
import paperzoo
import reading

from . import _fulltext, resources
from ._markdown import safe_markdown
from .common import ProgressEmbedder, guarded, library_page, link, one_line


def _embedder(log: reading.Log, mode: str) -> Any:
    """The loaded embedder, except for keyword search (which never needs the model)."""
    return None if mode == "keyword" else resources.get_embedder(log)


def _filters(papers: list[dict[str, Any]]) -> dict[str, Any]:
    tags = sorted({t for p in papers for t in p.get("tags", [])})
    years = [p["year"] for p in papers if p.get("year")]
    with st.expander("Filters"):
        c1, c2, c3 = st.columns(3)
        tag = c1.selectbox("Tag", tags, index=None, placeholder="any tag", key="s_tag")
        status = c2.selectbox("Status", reading.STATUSES, index=None, placeholder="any status", key="s_status")
        k = c3.slider("Results", 5, 50, 10, key="s_k")
        year_min = year_max = None
        if years and min(years) < max(years):
            year_min, year_max = st.slider("Year", min(years), max(years), (min(years), max(years)), key="s_years")
            if (year_min, year_max) == (min(years), max(years)):
                year_min = year_max = None
    return {"tag": tag, "status": status, "year_min": year_min, "year_max": year_max, "k": k}


#: Result titles read as links: larger, in the theme's link colour, underlined on hover.
RESULT_CSS = """<style>
.st-key-search_results [data-testid="stPageLink-NavLink"] p {
  font-size: 1.1rem; font-weight: 600; color: var(--st-link-color, #0068c9); }
.st-key-search_results [data-testid="stPageLink-NavLink"]:hover p { text-decoration: underline; }
</style>"""


def _show(hits: list[dict[str, Any]], papers: dict[int, dict[str, Any]], key: str) -> None:
    if not hits:
        st.info("No paper matches.")
        return
    st.html(RESULT_CSS)
    results = st.container(key="search_results")
    for rank, hit in enumerate(hits, 1):
        paper = papers.get(hit["id"], {})
        with results, st.container(border=True):
            c1, c2 = st.columns([6, 1])
            with c1:
                link("paper", f"{rank}. {hit['title']} ({hit.get('year') or '—'})", id=hit["id"])
                if hit.get("snippet"):
                    st.caption(safe_markdown(hit["snippet"]))
                tags = paper.get("tags", [])
                st.markdown(safe_markdown(f"score `{hit['score']:.4f}`"
                                          + ("  ·  " + " ".join(f"`{t}`" for t in tags) if tags else "")))
            if c2.button("More like this", key=f"{key}_{hit['id']}"):
                st.session_state["s_like"] = hit["id"]
                st.rerun()


def _reindex(log: reading.Log) -> None:
    with st.expander("Index maintenance"):
        st.caption("Search keeps the index in step with the log by itself; rebuild it if you changed the model.")
        full = st.checkbox("Re-embed every paper", key="s_full")
        if st.button("Update the index now", key="s_reindex"):
            bar = st.progress(0.0, text="Starting…")
            embedder = ProgressEmbedder(resources.get_embedder(log), log.count(),
                                        lambda f, text: bar.progress(f, text=text))
            with guarded("Indexing failed: "):
                report = paperzoo.reindex(log, full=full, embedder=embedder)
                bar.progress(1.0, text="Done")
                st.success(f"Index up to date: {report.total} papers ({report.added} added, {report.updated} updated, "
                           f"{report.removed} removed)." + (" " + " ".join(report.messages) if report.messages else ""))


def render() -> None:
    """The Search page."""
    log = library_page("Search", starter_key="starter_search")
    if log is None:
        return
    snapshot = resources.papers_snapshot(log)
    by_id = {p["id"]: p for p in snapshot}
    c1, c2 = st.columns([4, 2])
    query = c1.text_input("Search your library", placeholder="e.g. cheap channel shuffles for mobile networks",
                          key="s_query")
    mode = c2.segmented_control("Mode", list(index.MODES), default="hybrid", key="s_mode") or "hybrid"
    opts = _filters(snapshot)
    k = opts.pop("k")
    scope = _fulltext.scope_control()

    like = st.session_state.get("s_like")
    if like is not None and like in by_id:
        st.subheader(safe_markdown(f"More like “{by_id[like]['title']}”"))
        if st.button("Back to the search", key="s_unlike"):
            st.session_state.pop("s_like", None)
            st.rerun()
        with guarded(), st.spinner("Finding similar papers…"):
            hits = paperzoo.related(log, like, k, mode=mode, embedder=_embedder(log, mode), **opts)
            _show(hits, by_id, key="like")
    elif query.strip() and scope == "Full text":
        _fulltext.show_passages(log, query, k, mode, _embedder(log, mode), opts)
    elif query.strip():
        try:
            with st.spinner("Searching…"):
                hits = paperzoo.search(log, query, k, mode=mode, embedder=_embedder(log, mode), **opts)
        except Exception as err:  # bad input or a broken index: one line, never a traceback
            st.error(one_line(err))
        else:
            waiting = paperzoo.waiting_line(getattr(hits, "metadata", None) or {})
            if waiting:
                st.caption(waiting.replace("; run `reading reindex` to index them", "") + ".")
            _show(hits, by_id, key="more")
    else:
        st.caption(f"{len(snapshot)} papers in the log.")
    _reindex(log)
