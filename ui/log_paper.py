"""Log a paper: by arXiv id or URL (fetched), by hand, or from BibTeX; with tags, note, rating, status, read date;
or import a whole library (Zotero, BibTeX / CSL-JSON / RIS files)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

import reading

from . import _fulltext, _library_import
from ._markdown import safe_markdown
from .common import flash, guarded, link, log_or_stop, one_line


def _common(prefix: str, *, pdf: bool = False) -> dict[str, Any]:
    """The fields every way of logging shares; returns them as ``Log.add`` keyword arguments.

    ``pdf``: for uploads, whose status is left unset by default (a new paper is to-read, a paper already in the
    log keeps its status and gets no read), as `reading add x.pdf` does."""
    c1, c2, c3 = st.columns(3)
    if pdf:
        status = c1.selectbox("Status", [None, *reading.STATUSES], index=0, key=f"{prefix}_status",
                              format_func=lambda s: "— (new papers: to-read)" if s is None else s,
                              help="Left unset, a new paper is to-read and a paper already logged keeps its own.")
    else:
        status = c1.selectbox("Status", reading.STATUSES, index=2, key=f"{prefix}_status")
    rating = c2.selectbox("Rating", [None, 1, 2, 3, 4, 5], key=f"{prefix}_rating",
                          format_func=lambda r: "—" if r is None else "★" * r)
    read_on = c3.date_input("Read on", dt.date.today(), key=f"{prefix}_read_on",
                            help="Recorded when the status is 'read'.")
    tags = st.text_input("Tags (comma-separated)", key=f"{prefix}_tags", placeholder="resnet, efficient")
    note = st.text_area("Note (Markdown; any language)", key=f"{prefix}_note", height=100)
    return {
        "status": status, "rating": rating, "read_on": read_on if status == "read" else None,
        "tags": [t.strip() for t in tags.split(",") if t.strip()], "note": note or None,
    }


def _manual(prefix: str, required: bool) -> dict[str, Any]:
    title = st.text_input("Title" + (" *" if required else ""), key=f"{prefix}_title")
    authors = st.text_input("Authors (separated by ;)", key=f"{prefix}_authors",
                            placeholder="Kaiming He; Xiangyu Zhang")
    c1, c2, c3 = st.columns(3)
    year = c1.text_input("Year", key=f"{prefix}_year")
    venue = c2.text_input("Venue", key=f"{prefix}_venue")
    doi = c3.text_input("DOI", key=f"{prefix}_doi")
    abstract = st.text_area("Abstract", key=f"{prefix}_abstract", height=100)
    return {"title": title or None, "authors": authors or None, "year": year or None, "venue": venue or None,
            "doi": doi or None, "abstract": abstract or None}


_PREFIXES = ("la_", "lm_", "lb_")


def _clear_forms() -> None:
    """Ask the next run to empty the forms (after a successful log), so the next paper starts blank."""
    st.session_state["log_clear"] = True


def _reset_forms() -> None:
    """Put every field of the forms back to its default. Runs before the widgets exist: values assigned then reach
    the browser too (deleting the keys would not: the browser would send its old values back)."""
    if not st.session_state.pop("log_clear", False):
        return
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(_PREFIXES)]:
        if key.endswith("_status"):
            st.session_state[key] = reading.STATUSES[2]
        elif key.endswith("_rating"):
            st.session_state[key] = None
        elif key.endswith("_read_on"):
            st.session_state[key] = dt.date.today()
        elif isinstance(st.session_state[key], str):
            st.session_state[key] = ""


def _saved(result: reading.AddResult) -> None:
    """Remember what was logged, clear the forms when it is complete, and rerun to show it."""
    paper = result.paper
    st.session_state["log_saved"] = {"id": paper["id"], "created": result.created, "message": result.message}
    if not paper.get("needs_refresh"):
        _clear_forms()
    st.rerun()


def _last_saved(log: reading.Log) -> None:
    """The outcome of the last log, shown once above the forms."""
    saved = st.session_state.pop("log_saved", None)
    if not saved:
        return
    try:
        paper = log.get(saved["id"])
    except reading.ReadingError:
        return
    what = "Logged" if saved["created"] else "Updated"
    if paper.get("needs_refresh"):
        st.warning(safe_markdown(f"{what} “{paper['title']}” (id {paper['id']}) without arXiv's metadata: "
                                 f"{saved['message'] or 'not fetched'}. Search finds it only by what you typed "
                                 "until it is refreshed (below, or `reading refresh`)."))
    else:
        st.success(safe_markdown(f"{what} “{paper['title']}” (id {paper['id']}). It is searchable now."))
    link("paper", "Open its page", id=paper["id"])


def refresh_button(log: reading.Log, refs: list[int] | None, key: str, label: str = "Refresh from arXiv") -> None:
    """A button that completes ``refs`` (None: every paper logged offline) from arXiv; one line for the outcome."""
    if not st.button(label, key=key):
        return
    with guarded("Refresh failed: "), st.spinner("Asking arXiv…"):
        report = log.refresh(refs)
        if report["error"]:
            st.error(safe_markdown(f"{report['error']}; nothing was lost, try again when online."))
            return
        done = len(report["updated"])
        missing = f"; arXiv does not know {', '.join(report['missing'])}" if report["missing"] else ""
        st.session_state["flash"] = f"Refreshed {done} paper{'s' if done != 1 else ''} from arXiv{missing}."
        st.rerun()


def _incomplete(log: reading.Log) -> None:
    """Papers logged while arXiv could not be reached, with one button to complete them all."""
    waiting = [p for p in log.papers(sort="added") if p.get("needs_refresh")]
    if not waiting:
        return
    with st.container(border=True):
        st.markdown(f"**{len(waiting)} paper{'s' if len(waiting) != 1 else ''} logged offline** — "
                    "metadata incomplete until refreshed from arXiv")
        for p in waiting[:10]:
            ref = f"arXiv:{p['arxiv_id']}" if p.get("arxiv_id") else ""
            link("paper", p["title"] if p["title"] == ref or not ref else f"{p['title']} · {ref}", id=p["id"])
        if len(waiting) > 10:
            st.caption(f"… and {len(waiting) - 10} more")
        refresh_button(log, None, key="log_refresh_all", label="Refresh all from arXiv")


def _arxiv(log: reading.Log) -> None:
    with st.form("log_arxiv"):
        ref = st.text_input("arXiv id or URL", placeholder="1512.03385 or https://arxiv.org/abs/1707.01083",
                            key="la_ref")
        with st.expander("Fields typed here win over arXiv's (and are kept when arXiv cannot be reached)"):
            typed = _manual("la", required=False)
        extra = _common("la")
        submitted = st.form_submit_button("Fetch and log", type="primary")
    if submitted:
        if not ref.strip():
            st.error("Give an arXiv id or URL.")
            return
        try:
            with st.spinner("Asking arXiv…"):
                result = log.add(ref.strip(), **typed, **extra, fetch=True)
        except reading.ReadingError as err:
            st.error(one_line(err))
        else:
            _saved(result)


def _by_hand(log: reading.Log) -> None:
    with st.form("log_manual"):
        typed = _manual("lm", required=True)
        arxiv_id = st.text_input("arXiv id (optional; not fetched)", key="lm_arxiv")
        extra = _common("lm")
        submitted = st.form_submit_button("Log", type="primary")
    if submitted:
        try:
            result = log.add(arxiv_id.strip() or None, **typed, **extra, fetch=False)
        except reading.ReadingError as err:
            st.error(one_line(err))
        else:
            _saved(result)


def _bibtex(log: reading.Log) -> None:
    with st.form("log_bibtex"):
        text = st.text_area("Paste BibTeX", height=200, key="lb_text", placeholder="@article{he2016deep, ...}")
        upload = st.file_uploader("…or upload a .bib file", type=["bib", "bibtex", "txt"], key="lb_file")
        tags = st.text_input("Tags for every entry (comma-separated)", key="lb_tags")
        submitted = st.form_submit_button("Import", type="primary")
    if submitted:
        from . import _intake

        with guarded("Import failed: "):
            body = upload.getvalue().decode("utf-8-sig") if upload is not None else text
            summary = _intake.import_bibtex(log, body, tags=[t.strip() for t in tags.split(",") if t.strip()])
            _clear_forms()
            st.session_state["flash"] = f"BibTeX imported: {summary}."
            st.rerun()


def render() -> None:
    """The Log a paper page."""
    st.title("Log a paper")
    flash()
    log = log_or_stop()
    _reset_forms()
    _last_saved(log)
    _fulltext.upload_outcome()
    _incomplete(log)
    by_arxiv, by_pdf, by_hand, by_bibtex, by_library = st.tabs(["arXiv", "PDF", "By hand", "BibTeX",
                                                                 "Import a library"])
    with by_arxiv:
        _arxiv(log)
    with by_pdf:
        _fulltext.upload_tab(log, lambda prefix: _common(prefix, pdf=True))
    with by_hand:
        _by_hand(log)
    with by_bibtex:
        _bibtex(log)
    with by_library:
        _library_import.import_tab(log)
