"""Inbox: new arXiv submissions ranked by what is already in the log, and their triage (keep, skip, clear).

Fetching (with embedding) is ``paperzoo.fetch_inbox`` as for ``reading inbox fetch``; triage is the log's inbox
methods; ranking is ``paperzoo.rank_inbox`` (cached in ``resources``).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

import paperzoo
import reading

from . import resources
from ._markdown import safe_markdown
from .common import ProgressEmbedder, flash, guarded, link, log_or_stop, one_line

RANKERS = ("fusion", "similarity", "classifier")  # index.inbox.RANKERS


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]


def _embed_new(log: reading.Log, added: int) -> None:
    """Embed the new candidates now, with a progress bar (ranking would do it too, without one)."""
    bar = st.progress(0.0, text="Embedding the new candidates…")
    embedder = ProgressEmbedder(resources.get_embedder(log), added, lambda f, text: bar.progress(f, text=text))
    with guarded("Not embedded yet (ranking will retry): "):
        error = paperzoo.embed_candidates(log, embedder=embedder, progress=False)
        if error:
            st.warning(safe_markdown(f"Not embedded yet (ranking will retry): {error}"))
    bar.empty()


def _fetch(log: reading.Log) -> None:
    settings = log.inbox_settings()
    with st.form("inbox_fetch"):
        c1, c2, c3 = st.columns([3, 1, 1])
        cats = c1.text_input("arXiv categories (comma-separated)", ", ".join(settings["categories"]), key="ib_cats",
                             help="Remembered in the log for the next fetch (also by `reading inbox fetch`).")
        days = c2.number_input("Days back", 1, 365, settings["window_days"], key="ib_days")
        cap = c3.number_input("At most", 1, 5000, settings["max"], step=50, key="ib_max")
        submitted = st.form_submit_button("Fetch new papers", type="primary")
    if not submitted:
        return
    try:
        since = dt.date.today() - dt.timedelta(days=int(days))
        with st.spinner("Asking arXiv (it asks for a pause of a few seconds between pages)…"):
            report = paperzoo.fetch_inbox(log, _split(cats) or None, since=since, max_results=int(cap),
                                          embed=False)  # embedded below, with a progress bar
    except Exception as err:  # bad categories and the like: one line, nothing changed
        st.error(one_line(err))
        return
    if report["error"]:
        got = f" ({report['fetched']} fetched before that)" if report["fetched"] else ""
        st.warning(safe_markdown(f"{report['error']}{got}; {report['pending']} candidates waiting."))
    else:
        st.success(f"Fetched {report['fetched']} papers in {', '.join(report['categories'])} since "
                   f"{report['since']}: {report['added']} new, {report['in_log']} already in the log, "
                   f"{report['skipped']} skipped before; {report['pending']} waiting.")
    if report["added"]:
        _embed_new(log, report["added"])


def _unranked(cands: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Candidates newest first, shaped like ranked hits (for when ranking is unavailable)."""
    return [{"id": c["id"], "arxiv_id": c["arxiv_id"], "title": c["title"], "published": c.get("published"),
             "url": c.get("url"), "score": None, "tags": [], "because": None} for c in cands[:k]]


def _hit(log: reading.Log, rank: int, hit: dict[str, Any], cand: dict[str, Any], tag: str | None) -> None:
    cid = hit["id"]
    with st.container(border=True):
        left, right = st.columns([5, 2])
        with left:
            st.markdown(safe_markdown(f"**{rank}. {hit['title']}**"))
            bits = [f"[arXiv:{hit['arxiv_id']}]({hit.get('url') or 'https://arxiv.org/abs/' + hit['arxiv_id']})"]
            if hit.get("published"):
                bits.append(f"submitted {hit['published']}")
            if hit.get("score") is not None:
                bits.append(f"score `{hit['score']:+.3f}`")
            if hit["tags"]:
                bits.append("pulled in by " + " ".join(f"`{t}`" for t in hit["tags"]))
            st.markdown(safe_markdown(" · ".join(bits)))
            because = hit.get("because")
            if because:
                link("paper", f"Because you read “{because['title']}” ({because['similarity']:.2f})",
                     id=because["id"])
            authors = cand.get("authors") or []
            if authors or cand.get("abstract"):
                with st.expander("Abstract"):
                    if authors:
                        st.caption(", ".join(authors[:8]) + (" et al." if len(authors) > 8 else ""))
                    st.markdown(safe_markdown(cand.get("abstract")) or "_No abstract._")
        with right:
            default = hit["tags"] or ([tag] if tag else [])
            tags = st.text_input("Tags when kept", ", ".join(default), key=f"ib_tags_{cid}")
            b1, b2 = st.columns(2)
            if b1.button("Keep", key=f"ib_keep_{cid}", type="primary", help="Into the library, as to-read"):
                with guarded():
                    paper = log.keep_candidate(cid, tags=_split(tags))
                    st.session_state["flash"] = f"Kept “{paper['title']}” as to-read (paper {paper['id']})."
                    st.rerun()
            if b2.button("Skip", key=f"ib_skip_{cid}", help="Never show it again"):
                with guarded():
                    skipped = log.skip_candidate(cid)
                    st.session_state["flash"] = f"Skipped “{skipped['title']}”: it will not come back."
                    st.rerun()


def _clear(log: reading.Log) -> None:
    with st.expander("Clear old candidates"):
        c1, c2 = st.columns([2, 1])
        days = c1.number_input("Submitted more than this many days ago", 0, 3650, 30, key="ib_clear_days")
        if c2.button("Clear", key="ib_clear"):
            with guarded():
                dropped = log.clear_candidates(int(days))
                st.session_state["flash"] = (f"Dropped {dropped} candidates older than {int(days)} days "
                                             "(skipped ones stay remembered).")
                st.rerun()


def render() -> None:
    """The Inbox page."""
    st.title("Inbox")
    flash()
    log = log_or_stop()
    st.caption("New arXiv submissions, ranked by what is already in your log. Keep one to add it as to-read; "
               "skip it and it never comes back. Both teach the ranking.")
    _fetch(log)

    cands = log.candidates()
    if not cands:
        st.info("No candidates waiting: fetch new papers above (or run `reading inbox fetch`).")
        _clear(log)
        return
    all_tags = sorted({t for p in resources.papers_snapshot(log) for t in p.get("tags", [])})
    c1, c2, c3, c4 = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
    tag = c1.selectbox("For tag", all_tags, index=None, placeholder="all my papers", key="ib_tag")
    ranker = c2.selectbox("Ranker", RANKERS, key="ib_ranker",
                          help="similarity to your papers, per-tag classifiers, or both fused (the best on CSFCube)")
    k = int(c3.number_input("Show", 1, 500, 20, key="ib_k"))
    by_id = {c["id"]: c for c in cands}
    waiting = tuple(sorted(by_id))
    ranked = st.session_state.get("ib_ranked")
    if ranked is None or not set(waiting) <= set(ranked):  # new candidates arrived: rank them all
        ranked = st.session_state["ib_ranked"] = waiting
    if c4.button("Re-rank", key="ib_rerank", help="Learn from the papers kept and skipped since the last ranking"):
        ranked = st.session_state["ib_ranked"] = waiting
        st.session_state["ib_generation"] = st.session_state.get("ib_generation", 0) + 1
    try:
        with st.spinner("Ranking the inbox…"):
            ranking = resources.inbox_ranking(log, ranked=ranked, tag=tag, ranker=ranker,
                                              generation=st.session_state.get("ib_generation", 0))
        hits = [h for h in ranking if h["id"] in by_id][:k]
    except Exception as err:  # e.g. the embedding model is unavailable: triage still works, newest first
        st.warning(f"Ranking unavailable ({one_line(err)}); newest first.")
        hits = _unranked(cands, k)
    if not log.count():
        st.caption("Your library is empty, so the candidates are not ranked yet: keep a few to teach it.")
    st.caption(f"{len(cands)} candidates waiting; showing {len(hits)}. Papers kept or skipped here teach the "
               "ranking at the next Re-rank.")
    for rank, hit in enumerate(hits, 1):
        _hit(log, rank, hit, by_id[hit["id"]], tag)
    _clear(log)
