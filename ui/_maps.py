"""The 2-D map of the library: its embeddings projected on their first two principal components."""
from __future__ import annotations

from typing import Any

import numpy as np

import index


def embedding_map(log: Any, embedder: Any, batch: int = 64, progress: Any = None) -> dict[str, Any]:
    """``{"ids": [paper ids], "xy": (n, 2) array}``: PCA of the papers' embeddings (title, abstract, notes).

    Uses the index's stored vectors when the index package offers them (``index.vectors``), else embeds the
    texts again with ``embedder``. ``progress`` (optional) is called with the fraction done.
    """
    getter = getattr(index, "vectors", None)
    ids: list[int]
    if getter is not None:
        ids_arr, vecs = getter(log, embedder=embedder)
        ids = [int(i) for i in ids_arr]
    else:
        texts = log.index_texts()
        ids = [pid for pid, _ in texts]
        chunks = []
        for start in range(0, len(texts), batch):
            chunks.append(embedder.encode([t for _, t in texts[start:start + batch]]))
            if progress is not None:
                progress(min(1.0, (start + batch) / max(len(texts), 1)))
        vecs = np.concatenate(chunks) if chunks else np.zeros((0, 2), np.float32)
    vecs = np.asarray(vecs, dtype=np.float64)
    if len(ids) < 3:
        xy = np.zeros((len(ids), 2))
    else:
        centred = vecs - vecs.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        xy = centred @ vt[:2].T
    return {"ids": ids, "xy": xy}
