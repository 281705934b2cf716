"""Full text in the app: the "Full text" scope of the Search page, a paper's PDFs read page by page (rendered), and
PDF uploads on "Log a paper" and on the paper page. The pages call these; no SQL or PDF code here beyond the log's
methods (`reading.Log.add_pdf`, `attach_pdf`, `pdfs`, `pdf_pages`, `render_pdf_page`).
"""
from __future__ import annotations

import io
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

import paperzoo
import reading

from ._markdown import safe_markdown
from .common import guarded, link, one_line

SCOPES = ("Papers", "Full text")
#: Hex digits of a PDF's sha256 that name it in a link (``&pdf=``).
PDF_KEY = 16
#: A rendered page is shown this wide: a letter page reads at about screen size.
PAGE_WIDTH_PX = 820
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~$])")


def scope_control() -> str:
    """The Search page's scope: whole papers, or passages of their PDFs."""
    return st.segmented_control("Scope", list(SCOPES), default="Papers", key="s_scope",
                                help="Full text searches the pages of the PDFs you added") or "Papers"


def _marked(passage: str, query: str) -> str:
    """The passage as Markdown (its own special characters escaped) with the matched words in bold."""
    import index

    escaped = _MD_SPECIAL.sub(r"\\\1", passage)
    return index.mark_matches(escaped, query)


def show_passages(log: reading.Log, query: str, k: int, mode: str, embedder: Any, filters: dict[str, Any]) -> None:
    """Search the PDFs' passages and show them: title, file, page, section, the passage with the matched words in
    bold, and a link that opens that file at that page on the paper's page."""
    try:
        with st.spinner("Searching the full text…"):
            hits = paperzoo.search(log, query, k, mode=mode, embedder=embedder, fulltext=True, **filters)
    except Exception as err:  # bad input or a broken index: one line, never a traceback
        st.error(one_line(err))
        return
    waiting = paperzoo.waiting_line(getattr(hits, "metadata", None) or {})
    if waiting:
        st.caption(waiting.replace("`reading reindex --passages`", "Search again later or `reading reindex "
                                   "--passages`") + ". Keyword matches on those pages are shown already.")
    if not hits:
        st.info("No passage matches. Only papers with a PDF are searched in full text (add PDFs on “Log a paper”).")
        return
    results = st.container(key="fulltext_results")
    for rank, hit in enumerate(hits, 1):
        with results, st.container(border=True):
            title = _MD_SPECIAL.sub(r"\\\1", hit["title"])
            where = f"`{hit['file']}` · " if hit.get("file") else ""
            where += f"page {hit['page']}"
            where += " · " + _MD_SPECIAL.sub(r"\\\1", hit["section"]) if hit.get("section") else ""
            st.markdown(safe_markdown(f"**{rank}. {title}** · {where}"))  # a file name may hold a backtick
            st.markdown(_marked(hit["passage"], query))
            c1, c2 = st.columns([2, 5])
            with c1:
                link("paper", f"Open at page {hit['page']}", id=hit["id"], page=hit["page"],
                     pdf=hit["sha256"][:PDF_KEY])
            c2.caption(f"score {hit['score']:.4f}")


#: Rendered pages are kept as PNG bytes, at most this many bytes in all (least recently shown dropped first): a
#: count of entries bounds nothing when one page may be 16 million pixels.
RENDER_CACHE_BYTES = 64 << 20
_RENDERS: OrderedDict[tuple[str, str, int, float], bytes] = OrderedDict()
_RENDERS_LOCK = threading.Lock()


def _rendered(db: str, sha256: str, page: int, scale: float) -> bytes:
    """Page ``page`` of a stored PDF as PNG bytes (its pixels bounded by `reading.render_page`), cached by bytes."""
    key = (db, sha256, page, scale)
    with _RENDERS_LOCK:
        if key in _RENDERS:
            _RENDERS.move_to_end(key)
            return _RENDERS[key]
    log = reading.open_log(db)
    try:
        image = log.render_pdf_page(sha256, page, scale=scale)
    finally:
        log.close()
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    data = buf.getvalue()
    with _RENDERS_LOCK:
        _RENDERS[key] = data
        total = sum(len(v) for v in _RENDERS.values())
        while _RENDERS and total > RENDER_CACHE_BYTES:
            total -= len(_RENDERS.popitem(last=False)[1])
    return data


def opened_at_page() -> tuple[str | None, int] | None:
    """The (file, page) a link asked the paper page to open: ``?page=N`` and ``&pdf=`` the start of the file's
    sha256 (None: the first file that has page N); None when no page was asked for."""
    try:
        page = int(st.query_params.get("page", ""))
    except (TypeError, ValueError):
        return None
    return st.query_params.get("pdf") or None, max(page, 1)


def _opened_first(pdfs: list[dict[str, Any]], wanted: tuple[str | None, int] | None
                  ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The PDFs with the one a link opens first, and the page each opens at (that one at the page asked for,
    the others at page 1)."""
    pages = {pdf["sha256"]: 1 for pdf in pdfs}
    if wanted is None:
        return pdfs, pages
    prefix, page = wanted
    chosen = next((p for p in pdfs if prefix and p["sha256"].startswith(prefix)), None)
    if chosen is None:  # an old link without the file: the first file that has the page
        chosen = next((p for p in pdfs if p["page_count"] >= page), pdfs[0] if pdfs else None)
    if chosen is None:
        return pdfs, pages
    pages[chosen["sha256"]] = min(page, max(chosen["page_count"], 1))
    return [chosen] + [p for p in pdfs if p is not chosen], pages


def pdf_section(log: reading.Log, paper: dict[str, Any]) -> None:
    """A paper's PDFs: file, page count, each page rendered, its text, the file to download, and an uploader to
    attach one. A link's ``?page=N&pdf=...`` puts that file first, opened at that page."""
    st.subheader("PDF")
    pdfs = log.pdfs(paper["id"])
    if not pdfs:
        st.caption("No PDF yet: attach one to read it here and to search its full text.")
    wanted = opened_at_page()
    pdfs, start = _opened_first(pdfs, wanted)
    for pdf in pdfs:
        count = pdf["page_count"]
        st.markdown(safe_markdown(f"`{pdf['file_name']}` · {count} page{'s' if count != 1 else ''} · "
                                  f"{pdf['size'] / 1e6:.1f} MB"))
        if not pdf["has_text"]:
            st.warning("No text layer: metadata from you, full text not searchable.")
        key = f"pdfpage_{pdf['sha256'][:12]}"
        # a new link (another page or file asked for) moves the page even if this widget was shown before
        if key not in st.session_state or st.session_state.get(f"{key}_asked") != wanted:
            st.session_state[key] = start[pdf["sha256"]]
            st.session_state[f"{key}_asked"] = wanted
        c1, c2 = st.columns([1, 3])
        page = int(c1.number_input("Page", min_value=1, max_value=max(count, 1), step=1, key=key))
        with c2:
            try:  # only a copy whose bytes still match its hash is offered
                path = log.verified_pdf_file(pdf["sha256"])
            except reading.ReadingError as err:
                st.error(one_line(err))
            else:
                st.download_button("Download the PDF", path.read_bytes(), file_name=pdf["file_name"],
                                   mime="application/pdf", key=f"dl_{pdf['sha256'][:12]}")
        with guarded("Cannot show this page: "):
            st.image(_rendered(str(log.path), pdf["sha256"], page, 1.5), caption=f"page {page} of {count}",
                     width=PAGE_WIDTH_PX)
        if pdf["has_text"]:
            with st.expander(f"Text of page {page}"):
                st.text(log.pdf_pages(pdf["sha256"], page, page)[0])
    _attach(log, paper)


def _saved_upload(upload: Any, folder: str) -> Path:
    """An uploaded file written to a temporary folder under its own name (the log reads it and keeps a copy)."""
    target = Path(folder) / Path(upload.name).name
    target.write_bytes(upload.getvalue())
    return target


def _attach(log: reading.Log, paper: dict[str, Any]) -> None:
    with st.form(f"attach_{paper['id']}", clear_on_submit=True):
        upload = st.file_uploader("Attach a PDF", type=["pdf"], key=f"attach_file_{paper['id']}")
        password = st.text_input("Password (encrypted PDFs only)", type="password", key=f"attach_pw_{paper['id']}")
        submitted = st.form_submit_button("Attach")
    if submitted and upload is not None:
        with guarded("Not attached: "), tempfile.TemporaryDirectory() as tmp, st.spinner("Reading the PDF…"):
            result = log.attach_pdf(paper["id"], _saved_upload(upload, tmp), password=password or None,
                                    name=upload.name)
            note = f" ({result.message})" if result.message else ""
            paperzoo.index_in_background(log)
            st.session_state["flash"] = f"Attached {upload.name}: {result.pdf['page_count']} pages{note}."
            st.rerun()


def upload_tab(log: reading.Log, common_fields: Callable[[str], dict[str, Any]]) -> None:
    """“Log a paper” from PDFs: one or many files; each is identified (arXiv id, DOI, title) and logged.

    ``common_fields(prefix)`` draws the fields every way of logging shares (status, rating, tags, note) and returns
    them as keyword arguments."""
    with st.form("log_pdf", clear_on_submit=False):
        uploads = st.file_uploader("PDF files", type=["pdf"], accept_multiple_files=True, key="lp_files")
        fetch = st.checkbox("Complete papers with an arXiv id from arXiv (needs the network)", value=True,
                            key="lp_fetch")
        password = st.text_input("Password (encrypted PDFs only)", type="password", key="lp_password")
        common = common_fields("lp")
        submitted = st.form_submit_button("Log from PDFs", type="primary")
    if not submitted:
        return
    if not uploads:
        st.error("Choose one or more PDF files.")
        return
    st.session_state["lp_outcome"] = add_uploads(log, uploads, fetch=fetch, password=password or None, **common)
    st.rerun()


def add_uploads(log: reading.Log, uploads: Sequence[Any], *, fetch: bool, password: str | None,
                **common: Any) -> list[tuple[str, str, int | None]]:
    """Log each uploaded PDF; returns (level, one line, paper id or None) per file (bad files are named)."""
    out: list[tuple[str, str, int | None]] = []
    bar = st.progress(0.0, text="Reading PDFs…") if len(uploads) > 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        for i, upload in enumerate(uploads):
            try:
                result = log.add_pdf(_saved_upload(upload, tmp), name=upload.name, fetch=fetch, password=password,
                                     tags=common.get("tags", ()), status=common.get("status"),
                                     rating=common.get("rating"), note=common.get("note"))
            except reading.ReadingError as err:
                out.append(("error", f"{upload.name}: {one_line(err)}", None))
            except Exception as err:  # noqa: BLE001 - one odd file must not stop the others (as in a folder import)
                import sqlite3

                if isinstance(err, sqlite3.Error):
                    raise
                out.append(("error", f"{upload.name}: cannot be read ({type(err).__name__}: {one_line(err)})", None))
            else:
                paper = result.paper
                what = "already in the log" if result.duplicate else "logged" if result.created else "added to"
                line = f"{upload.name}: {what} “{paper['title']}” ({result.pdf['page_count']} pages)"
                level = "warning" if result.message and not result.duplicate else "success"
                out.append((level, line + (f" — {result.message}" if level == "warning" else ""), paper["id"]))
            if bar is not None:
                bar.progress((i + 1) / len(uploads), text=f"{i + 1} of {len(uploads)} PDFs")
    if any(pid is not None for _, _, pid in out):
        with guarded("Not indexing in the background: "):
            paperzoo.index_in_background(log)
    return out


def upload_outcome() -> None:
    """What the last PDF upload did, one line per file (shown once)."""
    for level, line, pid in st.session_state.pop("lp_outcome", []):
        getattr(st, level)(safe_markdown(line))  # file names and titles are the PDF's: Markdown disarmed
        if pid is not None:
            link("paper", "Open its page", id=pid)
