"""Ingest speed: papers/s through the full path (log -> embed -> FAISS -> saved) vs sentence-transformers' `encode`.

The full path embeds with the default embedder (the model through ONNX Runtime); the baseline is the same model's
sentence-transformers `encode` alone (torch). Both run in this process on the same CSFCube abstracts, both warm,
interleaved in alternating order (encode, sync, sync, encode, ...) so that load from other processes hits both
alike; total throughputs are compared. Targets (issue 14): ratio >= 1.0x, goal 1.5x.

    python bench/ingest.py [N_PAPERS] [ROUNDS] [--data DIR]     # defaults: 150 papers, 4 rounds
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import _index_data as data

import index
from reading import open_log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=150, help="papers per round")
    parser.add_argument("rounds", nargs="?", type=int, default=4)
    data.add_data_option(parser)
    args = parser.parse_args()
    data.use_data(args.data)
    n, rounds = args.n, args.rounds
    corpus = data.load_corpus()[:n]
    emb = index.get_embedder(index.DEFAULT_MODEL)
    emb.encode(["warm up the model"] * 8)
    emb.encode(["warm up the batch session"] * 64)
    st = index.SentenceTransformerEmbedder(index.DEFAULT_MODEL)
    st.encode(["warm up the model"] * 64)
    import faiss  # noqa: F401  (loaded once per process, as in a running app: not part of each ingest)
    work = Path(tempfile.mkdtemp(prefix="ingest-"))
    base_s = full_s = 0.0
    for r in range(rounds):
        log = open_log(work / f"round{r}.db")
        data.fill_log(log, corpus)
        texts = [text for _, text in log.index_texts()]  # exactly what sync embeds

        def encode_alone(texts=texts) -> float:
            t = time.perf_counter()
            st.model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
            return time.perf_counter() - t

        def full_path(log=log, texts=texts) -> float:
            t = time.perf_counter()
            report = index.sync(log, embedder=emb, progress=False)
            elapsed = time.perf_counter() - t
            assert report.total == len(texts) == report.embedded
            return elapsed

        if r % 2:
            full_s += full_path()
            base_s += encode_alone()
        else:
            base_s += encode_alone()
            full_s += full_path()
        log.close()
    b, f = n * rounds / base_s, n * rounds / full_s
    encoder = getattr(emb, "encoder", type(emb).__name__)
    print(f"ingest {n} papers x {rounds} rounds  full path (log->embed->index->saved, {encoder}) {f:.1f} papers/s"
          f"  sentence-transformers encode alone {b:.1f} papers/s  ratio {f / b:.2f}x  ({emb.name}, cpu, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
