"""FAISS indexes keyed by paper row id: exact inner product for small libraries, HNSW above a size threshold.

No file I/O here (that is `_store`). Vectors are unit length, so inner product is cosine similarity.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

#: Libraries with at least this many papers get an HNSW index; below it exact search is already sub-millisecond.
APPROX_THRESHOLD = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
#: Search breadth of HNSW; measured recall@10 against exact search is in bench/search_speed.py.
HNSW_EF_SEARCH = 96
#: Up to this many queries per call are searched on one thread: OpenMP's start-up and, on a busy machine, its
#: waiting for cores cost far more than the search itself (measured 24 ms vs 0.06 ms at 1,800 papers, 2 busy cores).
SINGLE_THREAD_QUERIES = 16


def kind_for(count: int, approx_threshold: int = APPROX_THRESHOLD) -> str:
    """"hnsw" or "flat" for a library of `count` papers."""
    return "hnsw" if count >= approx_threshold else "flat"


def kind_of(index: Any) -> str:
    """"hnsw" or "flat" for a built index."""
    import faiss

    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


def build(ids: np.ndarray, vecs: np.ndarray, dim: int, kind: str) -> Any:
    """A new `IndexIDMap2` over `vecs` with external ids `ids`."""
    import faiss

    inner: Any
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        inner = faiss.IndexFlatIP(dim)
    index = faiss.IndexIDMap2(inner)
    if len(ids):
        add(index, ids, vecs)
    return index


def add(index: Any, ids: np.ndarray, vecs: np.ndarray) -> None:
    """Add vectors under their ids (in place)."""
    index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))


def ids_of(index: Any) -> np.ndarray:
    """The ids stored in an index, in insertion order (no vectors are read)."""
    import faiss

    return faiss.vector_to_array(index.id_map).astype(np.int64)


def extract(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) stored in an index, in insertion order."""
    import faiss

    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    if index.ntotal == 0:
        return ids, np.zeros((0, index.d), dtype=np.float32)
    return ids, index.index.reconstruct_n(0, index.ntotal)


def vector_of(index: Any, paper_id: int) -> np.ndarray | None:
    """The stored vector of one paper, or None if it is not indexed."""
    try:
        return index.reconstruct(int(paper_id)).astype(np.float32)
    except RuntimeError:
        return None


def search(index: Any, queries: np.ndarray, k: int, allowed: Iterable[int] | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) per query row; ids -1 pad missing hits. `allowed` restricts the ids searched."""
    import faiss

    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(1, min(int(k), index.ntotal)) if index.ntotal else 1
    if index.ntotal == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    hnsw = kind_of(index) == "hnsw"
    params: Any = None
    if allowed is not None or hnsw:
        # SearchParametersHNSW is missing from faiss' generated type information
        params = getattr(faiss, "SearchParametersHNSW")() if hnsw else faiss.SearchParameters()
        if hnsw:
            params.efSearch = max(HNSW_EF_SEARCH, k)
        if allowed is not None:
            sel_ids = np.fromiter(allowed, dtype=np.int64)
            selector = faiss.IDSelectorBatch(sel_ids)
            params.sel = selector
            params._keep = (selector, sel_ids)  # keep the numpy buffer alive during the search
    threads = faiss.omp_get_max_threads()
    if len(queries) <= SINGLE_THREAD_QUERIES:
        faiss.omp_set_num_threads(1)
    try:
        return index.search(queries, k, params=params) if params is not None else index.search(queries, k)
    finally:
        faiss.omp_set_num_threads(threads)
