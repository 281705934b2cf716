"""One switch for what the index keeps in memory per process (the module-level caches of its modules)."""
from __future__ import annotations

import contextlib
import threading
from typing import Any


def clear_caches(*, models: bool = False) -> None:
    """Forget the index's per-process caches: loaded FAISS indexes (papers and passages), read manifests, candidate
    vectors and their freshness checks, fitted inbox classifiers; with ``models`` also the loaded embedding models.

    Everything is read again from disk (or fitted again) on next use; the files themselves are untouched. Useful
    after replacing index files behind the process's back, between tests, or to free memory.
    """
    from . import _candidates, _embed, _passages, _search, _store, inbox

    caches: list[tuple[Any, threading.Lock | contextlib.nullcontext[None]]] = [
        (_search._LOADED, _search._LOADED_LOCK),
        (_passages._LOADED, _passages._LOCK),
        (_candidates._CHECKED, _candidates._LOCK),
        (_candidates._READ, _candidates._LOCK),
        (inbox._FITTED, inbox._FITTED_LOCK),
        (_store._MANIFESTS, contextlib.nullcontext()),
    ]
    if models:
        caches.append((_embed._CACHE, _embed._CACHE_LOCK))
    for cache, lock in caches:
        with lock:
            cache.clear()
