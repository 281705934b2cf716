"""Bulk intake for the app (the starter set, pasted or uploaded BibTeX) through the log's public methods."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import paperzoo
import reading


def load_starter(log: reading.Log) -> str:
    """Load the bundled starter set (papers and their zoo model links); returns a one-line summary."""
    return reading.import_summary(paperzoo.load_starter(log))


def import_bibtex(log: reading.Log, text: str, *, tags: list[str] | None = None) -> str:
    """Merge the BibTeX entries in ``text`` into the log (duplicates merge as in ``add``), tag them; one line."""
    if not text or not text.strip():
        raise reading.InvalidInput("paste or upload some BibTeX first")
    fd, name = tempfile.mkstemp(suffix=".bib", prefix="paper-zoo-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        report = log.import_file(Path(name), fmt="bibtex")
    finally:
        Path(name).unlink(missing_ok=True)
    if not report.get("added") and not report.get("merged") and not report.get("errors"):
        raise reading.InvalidInput("no BibTeX entry found in the text")
    if tags:
        with log.transaction():
            for pid in report.get("ids", []):
                log.tag(pid, *tags)
    return reading.import_summary(report)
