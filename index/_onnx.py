"""The ONNX encoder: a sentence-transformers model run by ONNX Runtime, with no torch on the query path.

The ONNX file is derived data, like the FAISS index: `_onnx_export` makes it once from the configured model (torch
loads then) into a cache folder, and every later process only imports onnxruntime and tokenizers (~0.2 s) and loads
the file. One folder per model under `cache_dir()`::

    <slug>/model.onnx       token ids + attention mask (+ token types) -> the model's pooled, normalised embedding
    <slug>/tokenizer.json   the model's fast tokenizer (truncation and padding are set from meta.json)
    <slug>/meta.json        the commit point: source files' hash, the ONNX file's sha256/size/mtime, tokeniser settings

The folder is keyed by the hash of the source model's files: when they change the file is stale and made again. A
missing, unreadable or damaged file is made again too, with a message; a model that cannot be exported is recorded
(`failed` in meta.json) so that it falls back to sentence-transformers without retrying until its files change;
a failure of the machine (out of memory, a full disk) is not recorded: that process falls back, the next one retries.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._store import atomic_write

logger = logging.getLogger("index")

#: Environment variable naming the cache folder (default: `$XDG_CACHE_HOME/paper-zoo/encoders`).
CACHE_ENV = "INDEX_CACHE"
#: Version of the folder layout and export recipe; a change makes every cached file stale.
FORMAT = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"
#: Inputs of at most this many texts (queries) run on a one-thread session: intra-op threads buy nothing for one
#: short text and cost a lot when the other cores are busy.
QUERY_TEXTS = 8
#: Environment variable choosing the batch (ingest) engine: "auto" (default), "fp32" (ONNX Runtime) or "bf16"
#: (OpenVINO with bfloat16 inference, where the CPU runs it natively).
PRECISION_ENV = "INDEX_PRECISION"
#: Models whose bf16 vectors passed the quality gate, so "auto" uses bf16 for them: CSFCube nDCG@10, dense and
#: hybrid, within 0.002 of fp32 (bench/search_quality.py --precision bf16). None yet: all-MiniLM-L6-v2 in bf16
#: (OpenVINO, AMX) kept dense (full depth 0.4420 vs 0.4425) but lost 0.0032 of hybrid (0.4646 vs 0.4678; k = 10
#: related 0.4646 vs 0.4677), so it is offered ($INDEX_PRECISION=bf16, 3x the batch throughput), not the default.
BF16_GATED: frozenset[str] = frozenset()
_SKIP = {".git", ".cache", "onnx", "openvino"}


def cache_dir() -> Path:
    """Where exported encoders live: `$INDEX_CACHE`, else `$XDG_CACHE_HOME/paper-zoo/encoders` (~/.cache)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "paper-zoo" / "encoders"


def entry_dir(name: str, root: Path | None = None) -> Path:
    """The cache folder of model `name` (a readable slug plus a hash, since names may be paths)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).name or name).strip("-.")[:60] or "model"
    return (root or cache_dir()) / f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"


def _source_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP)
        out.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return out


def source_signature(source: Path) -> list[list[Any]]:
    """(relative path, size, mtime) of every file of the source model: a cheap "did it change" check."""
    out = []
    for path in _source_files(source):
        st = path.stat()
        out.append([str(path.relative_to(source)) if path != source else path.name, st.st_size, st.st_mtime_ns])
    return out


def source_hash(source: Path) -> str:
    """sha256 over the source model's files (names and contents): the key of its exported encoder."""
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for path in _source_files(source):
        h.update(f"{path.relative_to(source) if path != source else path.name}\n".encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def free_cores() -> int:
    """The cores this process may use less those the machine's other work keeps busy (1-minute load), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def cpu_has_bf16() -> bool:
    """Whether the CPU computes in bfloat16 natively (AVX512_BF16 or AMX), read from /proc/cpuinfo (Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            flags = fh.read(1 << 16)
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def batch_precision(model: str) -> str:
    """The precision batches of `model` are encoded in: $INDEX_PRECISION when set to "fp32" or "bf16" (bf16 only
    where the CPU has it and OpenVINO is installed), else bf16 for a gated model on such a CPU, else fp32."""
    wanted = os.environ.get(PRECISION_ENV, "auto").strip().lower()
    if wanted == "fp32" or (wanted != "bf16" and model not in BF16_GATED) or not cpu_has_bf16():
        return "fp32"
    try:
        import openvino  # noqa: F401
    except ImportError:
        return "fp32"
    return "bf16"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_meta(folder: Path) -> dict[str, Any] | None:
    """meta.json, or None when missing or unreadable."""
    try:
        meta = json.loads((folder / META_FILE).read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def stat_key(st: os.stat_result) -> list[int]:
    """What changes when a file's bytes may have: size, mtime, and ctime and inode, which no one can set back (a file
    swapped for another of the same size and mtime has a new ctime, or a new inode)."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


#: A recorded export failure that was the machine's (memory, disk), not the model's.
_TRANSIENT = re.compile(r"MemoryError|out of memory|can(?:no|')t allocate|not enough memory|no space left|errno 28",
                        re.IGNORECASE)
#: What a usable meta.json holds, with the types its readers need.
_META_TYPES = {"dim": int, "max_seq_length": int, "onnx_sha256": str, "onnx_size": int}


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    atomic_write(folder / META_FILE, json.dumps({**meta, "format": FORMAT}, sort_keys=True, indent=1).encode())


class StaleEncoder(Exception):
    """The cached encoder is missing, damaged or made from other model files (the caller makes it again)."""


def check(folder: Path, source: Path) -> dict[str, Any]:
    """The meta of a usable cached encoder for `source`, or StaleEncoder saying why not.

    Costs a few `stat` calls and hashing tokenizer.json (~1 MB) when nothing changed; the ONNX file is hashed again
    only when its size, mtime, ctime or inode moved (a same-size, same-mtime swap still moves the ctime or inode).
    A recorded failed export is returned as is (meta["failed"] set).
    """
    meta = read_meta(folder)
    if meta is None:
        raise StaleEncoder("missing" if not (folder / META_FILE).exists() else "unreadable")
    sig = source_signature(source)
    if sig != meta.get("source_signature"):
        if source_hash(source) != meta.get("source_hash"):
            raise StaleEncoder("the model's files changed")
        meta["source_signature"] = sig  # touched, same content: remember the new stat
        with contextlib.suppress(OSError):
            write_meta(folder, meta)
    if meta.get("failed"):
        if _TRANSIENT.search(str(meta["failed"])):  # recorded by an older version: the machine's failure, not a verdict
            raise StaleEncoder("an earlier export ran out of memory or disk; trying again")
        return meta
    if any(not isinstance(meta.get(k), t) or isinstance(meta.get(k), bool) for k, t in _META_TYPES.items()) \
            or not 0 < meta["dim"] <= 65_536 or not 0 < meta["max_seq_length"] <= 1 << 20:
        raise StaleEncoder("its meta.json is damaged")
    onnx = folder / MODEL_FILE
    try:
        st = onnx.stat()
        if not (folder / TOKENIZER_FILE).is_file():
            raise StaleEncoder("its tokenizer is missing")
    except FileNotFoundError:
        raise StaleEncoder("its ONNX file is missing") from None
    changed = False
    if stat_key(st) != meta.get("onnx_stat_full"):  # hashed again only when it may have changed
        if st.st_size != meta.get("onnx_size") or file_sha256(onnx) != meta.get("onnx_sha256"):
            raise StaleEncoder("its ONNX file is damaged or was replaced")
        meta["onnx_stat"], meta["onnx_stat_full"], changed = [st.st_size, st.st_mtime_ns], stat_key(st), True
    try:  # small (~1 MB): hashed every time
        tokenizer = file_sha256(folder / TOKENIZER_FILE)
    except OSError:
        raise StaleEncoder("its tokenizer is unreadable") from None
    if meta.get("tokenizer_sha256") is None:  # made before tokenizers had a checksum: recorded now, once
        meta["tokenizer_sha256"], changed = tokenizer, True
    elif tokenizer != meta["tokenizer_sha256"]:
        raise StaleEncoder("its tokenizer is damaged or was replaced")
    if changed:
        with contextlib.suppress(OSError):
            write_meta(folder, meta)
    return meta


class OnnxEncoder:
    """Runs one exported encoder folder with ONNX Runtime; `encode` returns unit-length float32 rows.

    Two sessions are made lazily: a one-thread one for queries and an all-cores one for batches (ingest).
    Texts are tokenised with the `tokenizers` package, sorted by token count and batched, so padding stays short.
    """

    def __init__(self, folder: Path, meta: dict[str, Any]) -> None:
        from tokenizers import Tokenizer

        self.folder = folder
        self.meta = meta
        self.dim = int(meta["dim"])
        self._lower = bool(meta.get("do_lower_case"))
        self._inputs = list(meta.get("inputs") or ["input_ids", "attention_mask"])
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self._tokenizer.no_padding()
        self._sessions: dict[bool, Any] = {}
        self._lock = threading.Lock()
        self._batch: Any = None
        #: How batches are encoded, e.g. "openvino-bf16 2 threads" (set by the first batch; None before).
        self.batch_path: str | None = None

    def session(self, small: bool, threads: int = 0) -> Any:
        """The ONNX Runtime session for small inputs (one thread) or batches (`threads`, 0: all cores)."""
        with self._lock:
            if small not in self._sessions:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                opts.log_severity_level = 3
                if small:
                    opts.intra_op_num_threads = 1
                    opts.inter_op_num_threads = 1
                else:  # idle threads sleep instead of spinning: on a busy machine spinning takes cores from the rest
                    opts.intra_op_num_threads = max(0, int(threads))
                    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._sessions[small] = ort.InferenceSession(str(self.folder / MODEL_FILE), opts,
                                                             providers=["CPUExecutionProvider"])
            return self._sessions[small]

    def batch_runner(self) -> Any:
        """A callable feed -> embeddings for batches: OpenVINO in bf16 where `batch_precision` says so (a model it
        cannot compile falls back, with a note), else the all-cores ONNX Runtime session; threads from the free
        cores, fixed when the runner is made."""
        with self._lock:
            if self._batch is not None:
                return self._batch
            threads = free_cores()
            if batch_precision(str(self.meta.get("model", ""))) == "bf16":
                try:
                    self._batch = _openvino_runner(self.folder / MODEL_FILE, threads)
                    self.batch_path = f"openvino-bf16 {threads} thread{'s' if threads > 1 else ''}"
                    return self._batch
                except Exception as exc:  # noqa: BLE001 - OpenVINO raises its own types: fall back to fp32
                    logger.warning("note: OpenVINO cannot run %s in bf16 (%s); using ONNX Runtime fp32",
                                   self.meta.get("model"), str(exc).splitlines()[0][:120] if str(exc) else exc)
        session = self.session(False, threads)
        with self._lock:
            self._batch = lambda feed: session.run(None, feed)[0]
            self.batch_path = f"onnxruntime-fp32 {threads} thread{'s' if threads > 1 else ''}"
            return self._batch

    def tokenize(self, texts: Sequence[str]) -> list[Any]:
        prepared = [str(t).strip() for t in texts]
        if self._lower:
            prepared = [t.lower() for t in prepared]
        return self._tokenizer.encode_batch(prepared, add_special_tokens=True)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        small = len(texts) <= QUERY_TEXTS
        session = self.session(True) if small else None
        run = (lambda feed: session.run(None, feed)[0]) if session is not None else self.batch_runner()
        encodings = self.tokenize(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))  # similar lengths share a batch
        pad = int(self.meta.get("pad_id", 0))
        for start in range(0, len(order), max(1, int(batch_size))):
            rows = order[start:start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.full((len(rows), width), pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            out[rows] = run({k: v for k, v in feed.items() if k in self._inputs})
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def _openvino_runner(onnx: Path, threads: int) -> Any:
    """The ONNX file compiled by OpenVINO for the CPU with bfloat16 inference; a callable feed -> embeddings."""
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(onnx)), "CPU", {
        "INFERENCE_PRECISION_HINT": "bf16", "INFERENCE_NUM_THREADS": int(threads), "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    output = compiled.output(0)
    lock = threading.Lock()

    def run(feed: dict[str, np.ndarray]) -> np.ndarray:
        with lock:  # one infer request: calls from two threads take turns
            return np.array(request.infer(feed)[output], dtype=np.float32)

    return run


def load(folder: Path, source: Path) -> OnnxEncoder | dict[str, Any]:
    """The cached encoder for `source`, or its meta when its export failed before; StaleEncoder when it must be
    made (again). A file ONNX Runtime cannot load counts as damaged."""
    meta = check(folder, source)
    if meta.get("failed"):
        return meta
    try:
        encoder = OnnxEncoder(folder, meta)
    except Exception as exc:  # noqa: BLE001 - tokenizers raises its own error types for a damaged file
        why = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise StaleEncoder(f"its tokenizer cannot be read ({why})") from None
    try:
        encoder.session(True)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own error types for a damaged file
        raise StaleEncoder(f"ONNX Runtime cannot load it ({str(exc).splitlines()[0][:120]})") from None
    return encoder
