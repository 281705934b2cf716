"""Semantic index over the reading log: embeddings in FAISS, hybrid keyword + dense search, related papers.

The index is derived from the log and lives beside its database (`<db stem>.index/`); it can always be rebuilt.

    import reading, index
    log = reading.open_log()
    index.search(log, "cheap shuffles of group-conv channels", k=10, mode="hybrid", tag="efficient")
    index.related(log, "1707.01083", k=10)
    index.sync(log)                  # embed pending papers and inbox candidates (search does this itself)
    index.search(log, "the ablation where they drop the shuffle", fulltext=True)   # passages of the PDFs
    index.start_background_indexing(log.path)   # embed the PDFs' pages in a detached process
    index.indexing_status(log)       # {pages_total, pages_indexed, pages_waiting, rate, eta_s, running}
    index.reindex(log, full=True)    # re-embed everything
    ids, vecs = index.vectors(log)   # the papers' stored embeddings (synced)

Importing this package is light: numpy only; faiss and ONNX Runtime load when first needed, torch and
sentence-transformers only to export the model to ONNX once (see `_onnx`).
"""
from ._background import start_background_indexing
from ._caches import clear_caches
from ._embed import (
    DEFAULT_MODEL,
    MODEL_ENV,
    MODEL_SETTING,
    Embedder,
    HashEmbedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    get_embedder,
    resolve_model,
)
from ._errors import SearchIndexError
from ._passages import PassageHits, indexing_status, mark_matches, passages_dir, sync_passages
from ._protocol import PaperLog
from ._search import FOREGROUND_PAPERS, MODES, SearchError, SearchHits, reindex, related, search, vectors
from ._store import check_folder, index_dir, indexed_ids
from ._sync import SyncReport, sync

__all__ = [
    "DEFAULT_MODEL",
    "FOREGROUND_PAPERS",
    "MODEL_ENV",
    "MODEL_SETTING",
    "MODES",
    "Embedder",
    "HashEmbedder",
    "OnnxEmbedder",
    "PaperLog",
    "PassageHits",
    "SearchError",
    "SearchHits",
    "SearchIndexError",
    "SentenceTransformerEmbedder",
    "SyncReport",
    "clear_caches",
    "get_embedder",
    "check_folder",
    "index_dir",
    "indexing_status",
    "indexed_ids",
    "mark_matches",
    "passages_dir",
    "reindex",
    "related",
    "resolve_model",
    "search",
    "sync",
    "start_background_indexing",
    "sync_passages",
    "vectors",
]
