"""The application layer: both command lines (``reading``, ``zoo``) and every workflow that spans the libraries.

``reading``, ``index`` and ``zoo`` import none of each other; what joins them lives here once, and the CLIs
(:mod:`paperzoo.reading_cli`, :mod:`paperzoo.zoo_cli`) and the Streamlit pages (``ui/``) call it:

- search, related papers, reindex, the inbox (fetch, embed, rank), background indexing of PDF pages:
  :mod:`paperzoo._search`;
- benchmark and evaluation results into the log, one rule: :mod:`paperzoo._bench_results`;
- claimed vs measured, one rule for the latest result: :mod:`paperzoo._claims`;
- model <-> paper links, the starter set: :mod:`paperzoo._links`;
- the integrity check of a log, its PDFs and its index (``reading check``): :mod:`paperzoo._check`;
- the one guard of every output path (never the log, its files or its folders): :mod:`paperzoo._outputs`;
- bringing a library in (Zotero, BibTeX / CSL-JSON / RIS with PDFs), then background indexing: :mod:`paperzoo._imports`.

Importing this package is light (click is not needed, torch, faiss and sentence-transformers are not imported): its
modules import ``index`` and ``zoo`` inside the functions that need them.
"""
from ._bench_results import bench_rows, eval_rows, store_bench, store_eval
from ._check import check
from ._claims import ACCURACY, COUNTS, LATENCY, Comparison, compare, headline_claims, latest
from ._imports import import_file, import_zotero, is_zotero_folder
from ._outputs import check_output, protected_files
from ._links import LinkReport, load_starter, log_model_paper, registry_links, sync_model_links
from ._search import (
    background_indexing,
    embed_candidates,
    fetch_inbox,
    index_in_background,
    indexing_line,
    indexing_status,
    rank_inbox,
    related,
    reindex,
    reindex_passages,
    search,
    waiting_line,
)

__all__ = [
    "ACCURACY",
    "COUNTS",
    "LATENCY",
    "Comparison",
    "background_indexing",
    "LinkReport",
    "bench_rows",
    "check",
    "check_output",
    "compare",
    "embed_candidates",
    "eval_rows",
    "fetch_inbox",
    "headline_claims",
    "import_file",
    "import_zotero",
    "is_zotero_folder",
    "index_in_background",
    "indexing_line",
    "indexing_status",
    "latest",
    "load_starter",
    "protected_files",
    "log_model_paper",
    "rank_inbox",
    "registry_links",
    "related",
    "reindex",
    "reindex_passages",
    "search",
    "store_bench",
    "store_eval",
    "sync_model_links",
    "waiting_line",
]
