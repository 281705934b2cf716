"""App speed on a 1,800-paper library: warm page loads, the first search after start (model load included) and
later searches. Targets: warm page < 1 s, later searches < 0.3 s (issue 7); first search <= 1.5 s (issue 14: the
query encoder runs through ONNX Runtime, made by the index build below as a first sync would).

    python bench/app_speed.py [--papers 1800]

Builds a temporary log from CSFCube (../shared/data/csfcube, CC BY-NC 4.0) and its index with the real
all-MiniLM-L6-v2 (vectors cached under /tmp by the index benches), then, in a fresh process as a user would meet
the app, drives it headless with Streamlit's AppTest. Every line carries a baseline measured in the same run:
a one-line Streamlit page for page loads, loading the bare query encoder and embedding one query for the first
search (sentence-transformers' load + one query is printed beside it, for scale), and
`index.search` called directly for later searches.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["library", "search", "log_paper", "stats", "zoo", "supernet", "paper"]
QUERIES = ["neural architecture search with weight sharing", "graph neural networks for molecules",
           "semantic parsing of questions", "adversarial examples robustness", "word embeddings evaluation",
           "reinforcement learning exploration"]


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def _median_rerun(at, repeats: int) -> float:
    """Median seconds of ``repeats`` warm reruns of an AppTest page."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
    return _median(times)


def build(db: Path, n: int) -> None:
    import _index_data  # the index benches' helpers, beside this script

    import index
    import reading

    corpus = _index_data.load_corpus()[:n]
    with reading.open_log(db) as log:
        t = time.perf_counter()
        _index_data.fill_log(log, corpus)
        for i, p in enumerate(log.papers()[: n // 3]):
            log.tag(p["id"], ["nlp", "vision", "learning"][i % 3])
        filled = time.perf_counter() - t
        t = time.perf_counter()
        embedder = _index_data.CachedEmbedder(index.get_embedder(index.DEFAULT_MODEL))
        index.sync(log, embedder=embedder, progress=True)
        print(f"# built a {log.count()}-paper log in {filled:.1f} s and its index in {time.perf_counter() - t:.1f} s",
              flush=True)


def child(db: Path, repeats: int) -> None:
    """Runs in a fresh process: what a user meets after `streamlit run app.py`."""
    from streamlit.testing.v1 import AppTest

    os.environ["READING_DB"] = str(db)
    trivial = Path(tempfile.mkdtemp()) / "trivial.py"
    trivial.write_text("import streamlit as st\nst.write('hello')\n", encoding="utf-8")
    base = AppTest.from_file(str(trivial), default_timeout=120)
    base.run()
    base_s = _median_rerun(base, repeats)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    start = time.perf_counter()
    at.run()  # the user lands on the Library (the embedding model starts loading in the background)
    print(f"# app first load (library)  {time.perf_counter() - start:.2f} s", flush=True)
    at.switch_page("ui/pages/search.py").run()
    t = time.perf_counter()
    at.text_input(key="s_query").input(QUERIES[0]).run()  # typed at once: the worst case for the warm-up
    first = time.perf_counter() - t
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    print(f"# start to first results  {time.perf_counter() - start:.2f} s", flush=True)
    print(f"FIRST {first:.3f}", flush=True)
    later = []
    for q in QUERIES[1:] * max(1, repeats // len(QUERIES[1:])):
        t = time.perf_counter()
        at.text_input(key="s_query").input(q).run()
        later.append(time.perf_counter() - t)
    print(f"LATER {_median(later):.4f}", flush=True)

    for page in PAGES:
        at.query_params.clear()
        if page == "paper":
            at.query_params["id"] = "1"
        at.switch_page(f"ui/pages/{page}.py").run()  # first visit (imports torch for the zoo pages)
        assert not at.exception, [e.value for e in at.exception]
        med = _median_rerun(at, repeats)
        print(f"warm page load {page:<10} median {med:.3f} s  baseline one-line page: {base_s:.3f} s  "
              f"ratio {med / base_s:.1f}x  target < 1 s", flush=True)

    import index
    import reading

    log = reading.open_log(db)
    embedder = index.get_embedder(log=log)
    direct = []
    for q in QUERIES[1:]:
        t = time.perf_counter()
        index.search(log, q, 10, embedder=embedder)
        direct.append(time.perf_counter() - t)
    print(f"DIRECT {_median(direct):.4f}", flush=True)


def bare_model() -> None:
    """Runs in a fresh process: load the bundled model and embed one query, nothing else."""
    t = time.perf_counter()
    import index

    index.get_embedder(index.DEFAULT_MODEL).encode(["one query"])
    print(f"BARE {time.perf_counter() - t:.3f}", flush=True)
    t = time.perf_counter()
    index.SentenceTransformerEmbedder(index.DEFAULT_MODEL).encode(["one query"])
    print(f"TORCH {time.perf_counter() - t:.3f}", flush=True)


def _run(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "INDEX_MODEL": ""})
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    found = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key in ("FIRST", "LATER", "DIRECT", "BARE", "TORCH"):
            found[key] = float(value)
        else:
            print(line, flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1800)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bare-model", action="store_true", help=argparse.SUPPRESS)
    import _index_data  # the index benches' helpers, beside this script

    _index_data.add_data_option(parser)
    args = parser.parse_args()
    _index_data.use_data(args.data)
    if args.bare_model:
        return bare_model()
    if args.child:
        return child(args.child, args.repeats)
    with tempfile.TemporaryDirectory(prefix="app-speed-") as tmp:
        db = Path(tmp) / "log.db"
        build(db, args.papers)
        bare = _run("--bare-model")
        found = _run("--child", str(db), "--repeats", str(args.repeats))
    print(f"first search after start   {found['FIRST']:.2f} s  baseline bare query encoder load + 1 query: "
          f"{bare['BARE']:.2f} s  ratio {found['FIRST'] / bare['BARE']:.2f}x  target <= 1.5 s  "
          f"(sentence-transformers load + 1 query: {bare['TORCH']:.2f} s; load {os.getloadavg()[0]:.1f})")
    print(f"later search (median)      {found['LATER']:.3f} s  baseline index.search direct: {found['DIRECT']:.3f} s  "
          f"ratio {found['LATER'] / found['DIRECT']:.1f}x  target < 0.3 s")


if __name__ == "__main__":
    main()
