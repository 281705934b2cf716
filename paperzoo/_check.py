"""``reading check``: the log and its PDFs (:meth:`reading.Log.check`) plus its index folders (``index``)."""
from __future__ import annotations

from typing import Any

import reading

__all__ = ["check"]


def check(log: reading.Log) -> dict[str, Any]:
    """Integrity of a log, its PDF library and its index: ``{"problems": [{"where", "problem", "fix"}], "notes":
    [...], "pdfs": n}`` (see :meth:`reading.Log.check`). Index problems are derived data: a search or ``reading
    reindex --full`` rebuilds the index; they are problems all the same, so that ``reading check`` exits non-zero."""
    import index

    report = log.check()
    if str(log.path) == ":memory:":
        return report
    for folder in (index.index_dir(log.path), index.passages_dir(log.path)):
        for line in index.check_folder(folder):
            report["problems"].append({"where": "index", "problem": line,
                                       "fix": "reading reindex --full rebuilds it (a search does too)"})
    manifest_ids = index.indexed_ids(index.index_dir(log.path))
    if manifest_ids is not None:
        in_log = log.filter_ids()
        gone, missing = manifest_ids - in_log, in_log - manifest_ids
        if gone or missing:
            report["notes"].append(f"the index is behind the log ({len(missing)} papers to embed, {len(gone)} "
                                   "removed papers still in it): the next search or reading reindex updates it")
    return report
