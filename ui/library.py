"""Library: the log as a sortable, filterable table, and one paper's page."""
from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

import paperzoo
import reading

from . import _fulltext, citations, resources
from ._display import table
from ._pages import PAGE_FILES
from ._markdown import safe_markdown
from .common import (
    flash,
    guarded,
    library_page,
    link,
    log_or_stop,
    one_line,
    paper_rows,
)


def _matches(paper: dict[str, Any], words: list[str]) -> bool:
    hay = " ".join([paper["title"], " ".join(paper.get("authors", [])), " ".join(paper.get("tags", [])),
                    paper.get("abstract") or "", paper.get("arxiv_id") or "",
                    *(n["text"] for n in paper.get("notes", []))]).lower()
    return all(w in hay for w in words)


def filter_papers(papers: list[dict[str, Any]], *, text: str = "", tags: list[str] = (), statuses: list[str] = (),
                  years: tuple[int, int] | None = None, read: tuple[dt.date, dt.date] | None = None,
                  min_rating: int = 0) -> list[dict[str, Any]]:
    """The papers passing every filter (a paper passes ``tags`` when it carries any of them)."""
    words = text.lower().split()
    out = []
    for p in papers:
        if tags and not set(tags) & set(p.get("tags", [])):
            continue
        if statuses and p.get("status") not in statuses:
            continue
        if years and (p.get("year") is None or not years[0] <= p["year"] <= years[1]):
            continue
        if read and not any(read[0].isoformat() <= r["read_on"] <= read[1].isoformat() for r in p.get("reads", [])):
            continue
        if min_rating and (p.get("rating") or 0) < min_rating:
            continue
        if words and not _matches(p, words):
            continue
        out.append(p)
    return out


#: The table's columns and widths (px): at a 1,400 px window every column fits (navigation sits on top).
COLUMNS = ("id", "title", "year", "authors", "tags", "status", "rating", "last read", "added", "arXiv")
COLUMN_CONFIG = {
    "id": st.column_config.NumberColumn("id", width=40),
    "title": st.column_config.TextColumn("title", width=310),
    "year": st.column_config.TextColumn("year", width=50),
    "authors": st.column_config.TextColumn("authors", width=150),
    "tags": st.column_config.TextColumn("tags", width=260),
    "status": st.column_config.TextColumn("status", width=70),
    "rating": st.column_config.TextColumn("rating", width=60),
    "last read": st.column_config.TextColumn("last read", width=85),
    "added": st.column_config.TextColumn("added", width=85),
    "arXiv": st.column_config.TextColumn("arXiv", width=85),
}
ROW_PX, MAX_TABLE_PX = 35, 35 * 31 + 3  # every row up to 30, then the table scrolls


def _offline(log: reading.Log, papers: list[dict[str, Any]]) -> None:
    """Papers logged while arXiv could not be reached: a line and one button to complete them."""
    waiting = [p for p in papers if p.get("needs_refresh")]
    if not waiting:
        return
    from .log_paper import refresh_button

    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    c1.warning(safe_markdown(f"{len(waiting)} paper{'s' if len(waiting) != 1 else ''} logged offline "
                             f"{'await' if len(waiting) != 1 else 'awaits'} arXiv's metadata: "
                             + ", ".join(p["title"] for p in waiting[:3]) + (" …" if len(waiting) > 3 else "")))
    with c2:
        refresh_button(log, None, key="lib_refresh", label="Refresh from arXiv")


def render() -> None:
    """The Library page."""
    log = library_page("Library", starter_key="starter_library")
    if log is None:
        return
    papers = resources.papers_snapshot(log)
    all_tags = sorted({t for p in papers for t in p.get("tags", [])})
    years = [p["year"] for p in papers if p.get("year")]

    c1, c2, c3, c4 = st.columns([3, 2, 2, 1])
    text = c1.text_input("Filter", placeholder="words in title, authors, abstract, notes, tags", key="lib_text")
    tags = c2.multiselect("Tags", all_tags, key="lib_tags")
    statuses = c3.multiselect("Status", list(reading.STATUSES), key="lib_status")
    min_rating = c4.number_input("Min rating", 0, 5, 0, key="lib_rating")
    c5, c6 = st.columns(2)
    year_range = None
    if years and min(years) < max(years):
        year_range = c5.slider("Year", min(years), max(years), (min(years), max(years)), key="lib_years")
        if year_range == (min(years), max(years)):
            year_range = None  # the full range: papers without a year stay listed
    use_read = c6.toggle("Only papers read between…", key="lib_read_on")
    read_range = None
    if use_read:
        today = dt.date.today()
        picked = c6.date_input("Read between", (today - dt.timedelta(days=30), today), key="lib_read")
        if isinstance(picked, tuple) and len(picked) == 2:
            read_range = picked

    shown = filter_papers(papers, text=text, tags=tags, statuses=statuses, years=year_range, read=read_range,
                          min_rating=int(min_rating))
    st.caption(safe_markdown(f"{len(shown)} of {len(papers)} papers · log: `{log.path}`"))
    _offline(log, papers)
    rows = [{**row, "year": str(row["year"]) if row.get("year") else None, "authors": row["authors"] or None,
             "rating": "★" * row["rating"] if row.get("rating") else None} for row in paper_rows(shown)]
    event = st.dataframe(
        table(rows, columns=COLUMNS), hide_index=True, on_select="rerun", selection_mode="single-row",
        key="lib_table", width="stretch", height=min(ROW_PX * (len(rows) + 1) + 3, MAX_TABLE_PX),
        column_config=COLUMN_CONFIG,
    )
    rows = getattr(getattr(event, "selection", None), "rows", None) or []
    if rows and rows[0] < len(shown):
        chosen = shown[rows[0]]
        link("paper", f"Open “{chosen['title']}”", id=chosen["id"])
    else:
        st.caption("Select a row to open the paper.")


# --- one paper --------------------------------------------------------------------------------------------------


def _pick_paper(log: reading.Log) -> dict[str, Any] | None:
    ref = st.query_params.get("id")
    if ref:
        try:
            return log.get(ref)
        except reading.ReadingError as err:
            st.error(one_line(err))
    papers = resources.papers_snapshot(log)
    if not papers:
        st.info("The log is empty.")
        link("log", "Log a paper")
        return None
    choice = st.selectbox("Paper", papers, format_func=lambda p: f"{p['title']} ({p.get('year') or '—'})",
                          index=None, placeholder="Choose a paper", key="paper_pick")
    if choice is not None:
        st.query_params["id"] = str(choice["id"])
    return choice


def _header(log: reading.Log, paper: dict[str, Any]) -> None:
    st.title(safe_markdown(paper["title"]))
    bits = [", ".join(paper.get("authors", [])) or "unknown authors"]
    if paper.get("year"):
        bits.append(str(paper["year"]))
    if paper.get("venue"):
        bits.append(paper["venue"])
    st.markdown(safe_markdown(" · ".join(bits)))
    refs = []
    if paper.get("arxiv_id"):
        refs.append(f"[arXiv:{paper['arxiv_id']}](https://arxiv.org/abs/{paper['arxiv_id']})")
    if paper.get("doi"):
        refs.append(f"[doi:{paper['doi']}](https://doi.org/{paper['doi']})")
    if refs:
        st.markdown(safe_markdown(" · ".join(refs)))  # a DOI read from a PDF may hold "![t](...)"
    if paper.get("arxiv_id") and (paper.get("needs_refresh") or not paper.get("abstract")):
        from .log_paper import refresh_button

        c1, c2 = st.columns([4, 1], vertical_alignment="center")
        c1.caption("Metadata incomplete (logged offline): refresh it from arXiv when online."
                   if paper.get("needs_refresh") else "No arXiv abstract yet: refresh to add it when online.")
        with c2:
            refresh_button(log, [paper["id"]], key=f"refresh_{paper['id']}")


def _edit(log: reading.Log, paper: dict[str, Any]) -> None:
    pid = paper["id"]
    with st.form(f"edit_{pid}"):
        c1, c2, c3, c4 = st.columns([1, 1, 3, 1], vertical_alignment="bottom")
        status = c1.selectbox("Status", reading.STATUSES, index=reading.STATUSES.index(paper["status"]))
        rating = c2.selectbox("Rating", [None, 1, 2, 3, 4, 5], index=[None, 1, 2, 3, 4, 5].index(paper.get("rating")),
                              format_func=lambda r: "—" if r is None else "★" * r)
        tags = c3.text_input("Tags (comma-separated)", ", ".join(paper.get("tags", [])))
        if c4.form_submit_button("Save"):
            with guarded():
                wanted = [t.strip() for t in tags.split(",") if t.strip()]
                with log.transaction():
                    if status != paper["status"]:
                        log.set_status(pid, status)
                    if rating != paper.get("rating"):
                        log.rate(pid, rating)
                    drop = [t for t in paper.get("tags", []) if t not in wanted]
                    add = [t for t in wanted if t not in paper.get("tags", [])]
                    if drop:
                        log.untag(pid, *drop)
                    if add:
                        log.tag(pid, *add)
                st.session_state["flash"] = "Saved."
                st.rerun()


def _reads(log: reading.Log, paper: dict[str, Any]) -> None:
    reads = sorted((r["read_on"] for r in paper.get("reads", [])), reverse=True)
    st.markdown("**Reads:** " + (", ".join(reads) if reads else "none yet"))
    c1, c2, _ = st.columns([1, 1, 3], vertical_alignment="center")
    day = c1.date_input("Read on", dt.date.today(), key=f"read_day_{paper['id']}", label_visibility="collapsed")
    if c2.button("Log a read", key=f"read_btn_{paper['id']}"):
        with guarded():
            added = log.add_read(paper["id"], day)
            st.session_state["flash"] = f"Read on {day} logged." if added else f"A read on {day} was already logged."
            st.rerun()


def _notes(log: reading.Log, paper: dict[str, Any]) -> None:
    st.subheader("Notes")
    for note in paper.get("notes", []):
        nid = note["id"]
        with st.container(border=True):
            st.markdown(safe_markdown(note["text"]))
            st.caption(note["created_at"][:16].replace("T", " "))
            with st.expander("Edit or delete"), st.form(f"note_edit_{nid}"):
                text = st.text_area("Note", note["text"], height=120, key=f"note_text_{nid}",
                                    label_visibility="collapsed")
                c1, c2 = st.columns(2)
                save = c1.form_submit_button("Save note")
                delete = c2.form_submit_button("Delete note")
            if save or delete:
                with guarded():
                    if delete:
                        log.delete_note(nid, paper=paper["id"])
                        st.session_state["flash"] = "Note deleted."
                    else:
                        log.edit_note(nid, text, paper=paper["id"])
                        st.session_state["flash"] = "Note saved."
                    st.rerun()
    with st.form(f"note_{paper['id']}", clear_on_submit=True):
        text = st.text_area("New note (Markdown; any language)", height=120)
        if st.form_submit_button("Add note"):
            with guarded():
                log.note(paper["id"], text)
                st.session_state["flash"] = "Note added."
                st.rerun()


def _models(log: reading.Log, paper: dict[str, Any]) -> None:
    models = paper.get("models") or []
    if not models:
        return
    from . import _zoo

    st.subheader("Zoo models implementing it")
    rows: list[dict[str, Any]] = []
    with guarded("Zoo figures unavailable: "):
        for model in models:
            rows += [{"model": model, **row} for row in _zoo.claimed_vs_measured(model, log.results(model))]
    if rows:
        st.dataframe(table(rows), hide_index=True, width="stretch")
    cols = st.columns(4)
    for i, model in enumerate(models):
        with cols[i % 4]:
            link("zoo", f"{model} in the zoo", model=model)


def _related(log: reading.Log, paper: dict[str, Any]) -> None:
    st.subheader("Related papers")
    if log.count() < 2:
        st.caption("Log more papers to see related ones.")
        return
    with guarded("Related papers unavailable: "), st.spinner("Finding related papers…"):
        hits = paperzoo.related(log, paper["id"], 5, embedder=resources.get_embedder(log))
        for hit in hits:
            c1, c2 = st.columns([12, 1])
            with c1:
                link("paper", f"{hit['title']} ({hit.get('year') or '—'})", id=hit["id"])
            c2.markdown(f"`{hit['score']:.3f}`", help="cosine similarity of the papers' embeddings")


def render_paper() -> None:
    """A paper's page: metadata, abstract, editable notes, tags, reads, zoo models, related papers, citations."""
    flash()
    log = log_or_stop()
    paper = _pick_paper(log)
    if paper is None:
        return
    # one column, read top-down: what it is, what you think of it, what it says, your notes, models, neighbours;
    # a link to a page of its PDF (a full-text hit) shows the PDF first, under the title
    at_page = _fulltext.opened_at_page() is not None
    _header(log, paper)
    if at_page:
        _fulltext.pdf_section(log, paper)
    _edit(log, paper)
    _reads(log, paper)
    st.subheader("Abstract")
    summary = None if paper.get("abstract") else reading.starter_summary(paper)
    if summary:  # a starter paper ships our summary, not arXiv's abstract
        st.markdown(safe_markdown(summary))
        st.caption("Our summary (starter set); arXiv's abstract arrives with `reading refresh --all`.")
    else:
        st.markdown(safe_markdown(paper.get("abstract")) or "_No abstract yet._")
    if not at_page:
        _fulltext.pdf_section(log, paper)
    _notes(log, paper)
    _models(log, paper)
    _related(log, paper)
    citations.paper_section(log, paper)
    with st.expander("Edit metadata or remove"):
        with st.form(f"meta_{paper['id']}"):
            title = st.text_input("Title", paper["title"])
            authors = st.text_input("Authors (separated by ;)", "; ".join(paper.get("authors", [])))
            year = st.text_input("Year", str(paper.get("year") or ""))
            venue = st.text_input("Venue", paper.get("venue") or "")
            if st.form_submit_button("Save metadata"):
                with guarded():
                    log.update(paper["id"], title=title, authors=authors, year=year or None, venue=venue or None)
                    st.session_state["flash"] = "Metadata saved."
                    st.rerun()
        sure = st.checkbox("Yes, remove this paper with its notes and reads", key=f"rm_ok_{paper['id']}")
        if st.button("Remove", disabled=not sure, key=f"rm_{paper['id']}"):
            with guarded():
                log.remove(paper["id"])
                st.query_params.clear()
                st.session_state["flash"] = f"Removed “{paper['title']}”."
                st.switch_page(PAGE_FILES["library"])
