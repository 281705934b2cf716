"""“Log a paper” › “Import a library”: a Zotero data folder, or an uploaded BibTeX / CSL-JSON / RIS file, with
a progress bar and the import's one-line summary. The work is :func:`paperzoo.import_zotero` /
:func:`paperzoo.import_file` (which also start background indexing of the PDFs that arrived)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

import paperzoo
import reading

from ._markdown import safe_markdown
from .common import one_line

SOURCES = ("Zotero library", "BibTeX, CSL-JSON or RIS file")


def import_tab(log: reading.Log) -> None:
    """The tab: choose a source, import, then show what happened (kept across the rerun that follows)."""
    _outcome()
    st.caption("Titles, authors, dates, tags, collections, notes, highlights and PDFs come along; running it again "
               "brings only what is new. Zotero may stay open: its database is read from a copy, never written.")
    source = st.radio("From", SOURCES, horizontal=True, key="li_source")
    with st.form("log_library"):
        if source == SOURCES[0]:
            folder = st.text_input("Zotero data folder (it holds zotero.sqlite)", key="li_folder",
                                   value=str(Path("~/Zotero").expanduser()),
                                   help="Zotero shows it under Settings › Advanced › Files and Folders.")
            base = st.text_input("Base folder for linked files (optional)", key="li_base",
                                 help="Only if you link files relative to a base folder (same settings pane).")
            upload = None
        else:
            upload = st.file_uploader("Reference file", type=["bib", "bibtex", "json", "ris", "csljson"],
                                      key="li_file", help="PDFs its entries name by absolute path are attached.")
            folder = base = ""
        submitted = st.form_submit_button("Import", type="primary")
    if not submitted:
        return
    bar = st.progress(0.0, text="Reading the library…")

    def progress(phase: str, done: int, total: int) -> None:
        what = "items" if phase == "items" else "PDFs"
        bar.progress(min(done / max(total, 1), 1.0), text=f"{what}: {done} of {total}")

    try:
        if source == SOURCES[0]:
            if not folder.strip():
                raise reading.InvalidInput("give the Zotero data folder")
            report = paperzoo.import_zotero(log, folder.strip(), attachments_base=base.strip() or None,
                                            on_progress=progress)
            line = reading.zotero_summary(report)
        else:
            if upload is None:
                raise reading.InvalidInput("choose a .bib, .json or .ris file")
            with tempfile.TemporaryDirectory(prefix="paper-zoo-upload-") as tmp:
                path = Path(tmp) / Path(upload.name).name
                path.write_bytes(upload.getvalue())
                report = paperzoo.import_file(log, path)
            line = reading.import_summary(report)
    except Exception as err:  # one line, never a traceback: a wrong folder, a file that is not a library
        bar.empty()
        st.error(one_line(err))
        return
    st.session_state["li_outcome"] = {"line": line, "missing": report.get("missing", []),
                                      "errors": report.get("errors", []), "indexing": report.get("indexing")}
    st.rerun()


def _outcome() -> None:
    done: dict[str, Any] | None = st.session_state.pop("li_outcome", None)
    if not done:
        return
    st.success(safe_markdown(f"Imported: {done['line']}."))
    if done["indexing"]:
        st.info("The new PDFs' passages are being indexed in the background; full-text search covers them as "
                "they are done.")
    for key, title in (("missing", "Missing files"), ("errors", "Skipped")):
        if done[key]:
            with st.expander(f"{title} ({len(done[key])})"):
                st.markdown("\n".join(f"- {safe_markdown(x)}" for x in done[key][:200]))
