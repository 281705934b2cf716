"""Shared pieces of the index benches: CSFCube loading, a log filled with it, an on-disk embedding cache.

Reads CSFCube (CC BY-NC 4.0) from `--data DIR`, else `$CSFCUBE_DIR`, else `../shared/data/csfcube/` beside the
checkout. A user gets it from https://github.com/iesl/CSFCube (the folder holding `corpus.jsonl`, `queries.jsonl`,
`qrels.tsv` and `evaluation_splits.json`). The embedding cache lives under /tmp, never in the repository.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

DATA = Path(os.environ.get("CSFCUBE_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "csfcube")


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """Give a bench's command line the `--data DIR` option naming the CSFCube folder."""
    parser.add_argument("--data", type=Path, default=None,
                        help=f"CSFCube folder (default: $CSFCUBE_DIR or {DATA})")


def use_data(folder: Path | None) -> None:
    """Read CSFCube from FOLDER (the parsed `--data`; None keeps the default); exit with one line if it is absent."""
    global DATA
    if folder is not None:
        DATA = Path(folder)
    if not (DATA / "corpus.jsonl").is_file():
        raise SystemExit(f"CSFCube not found at {DATA} (no corpus.jsonl): get it from https://github.com/iesl/CSFCube "
                         "and pass its folder with --data DIR or CSFCUBE_DIR")
CACHE_DIR = Path(os.environ.get("INDEX_BENCH_CACHE", Path(tempfile.gettempdir()) / "paper-zoo-bench"))


def load_corpus() -> list[dict]:
    with open(DATA / "corpus.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_queries() -> list[dict]:
    with open(DATA / "queries.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_qrels() -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(DATA / "qrels.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            qid, pid, rel = line.rstrip("\n").split("\t")
            qrels.setdefault(qid, {})[pid] = int(rel)
    return qrels


def load_splits() -> dict[str, dict[str, list[str]]]:
    return json.loads((DATA / "evaluation_splits.json").read_text(encoding="utf-8"))


def fill_log(log, corpus: list[dict]) -> dict[str, int]:
    """Add every corpus paper to the log by hand (no network); returns CSFCube pid -> log row id.

    CSFCube holds 17 pairs of distinct papers sharing a title, which the log would merge as duplicates: the second
    of each pair is added under a provisional title and then renamed, so all 4,205 stay separate.
    """
    ids = {}
    for paper in corpus:
        year = str(paper.get("year") or "")
        year = int(year) if year.isdigit() and 1000 <= int(year) <= 9999 else None
        result = log.add(None, title=paper["title"], abstract=paper["abstract"], year=year, fetch=False,
                         status="read")
        if not result.created:
            result = log.add(None, title=f"csfcube {paper['pid']}", abstract=paper["abstract"], year=year,
                             fetch=False, status="read")
            log.update(result.paper["id"], title=paper["title"])
        ids[paper["pid"]] = result.paper["id"]
    return ids


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class CachedEmbedder:
    """Wraps an embedder with a file cache of vectors by text hash, so reruns of a bench skip the model."""

    def __init__(self, inner, path: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        # keyed by model and encoder: ONNX Runtime and sentence-transformers vectors are compared, never mixed
        kind = getattr(inner, "encoder", type(inner).__name__)
        if kind == "onnx":  # ... and fp32 and bf16 batches too (bf16 keys apart; fp32 keeps the old cache files)
            from index import _onnx

            kind += "|bf16" if _onnx.batch_precision(inner.name) == "bf16" else ""
        self.path = path or CACHE_DIR / f"emb-{text_key(f'{inner.name}|{kind}')[:12]}.npz"
        self._cache: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as z:
                self._cache = dict(zip((str(k) for k in z["keys"]), z["vecs"]))

    @property
    def dim(self) -> int:
        if self._cache:
            return int(next(iter(self._cache.values())).shape[0])
        return self.inner.dim

    def encode(self, texts, *, batch_size: int = 32) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            vecs = self.inner.encode([texts[i] for i in missing], batch_size=batch_size)
            for i, v in zip(missing, vecs):
                self._cache[keys[i]] = v
            self.save()
        return np.stack([self._cache[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, self.dim), "f4")

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp.npz")  # benches running side by side share the cache
        np.savez(tmp, keys=np.asarray(list(self._cache)), vecs=np.stack(list(self._cache.values())))
        os.replace(tmp, self.path)
