"""Is the benchmark harness free? Median batch-1 latency through ``zoo.benchmark`` vs a bare timed loop over the same
model, measured in alternating rounds in the same run; the ratio should be within 1.05.

    python bench/zoo_bench_overhead.py                       # shufflenet_v2_x1_0 and resnet18, CPU, fp32
    python bench/zoo_bench_overhead.py --models resnet50 --rounds 7 --iters 30
    python bench/zoo_bench_overhead.py --table /tmp/zoo_cpu_table.md   # also: every registered model, batch 1 and 32

One line per model: ``zoo.benchmark <model> b1 fp32   median 12.31 ms  bare loop: 12.25 ms  ratio 1.00x``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

import zoo


def bare_loop(model: torch.nn.Module, x: torch.Tensor, *, warmup: int, iters: int) -> tuple[float, float]:
    """(median, fastest) seconds per forward pass of the simplest loop one would write by hand."""
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        for _ in range(iters):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def through_zoo(model: torch.nn.Module, *, size: int, warmup: int, iters: int) -> tuple[float, float]:
    (r,) = zoo.benchmark(model, batch_sizes=(1,), optimized=(False,), warmup=warmup, iters=iters, input_size=size,
                         memory=False, progress=False)
    return r.latency_ms / 1e3, r.latency_min_ms / 1e3


def overhead(name: str, *, rounds: int, warmup: int, iters: int, size: int) -> str:
    model = zoo.load(name).eval()
    x = torch.randn(1, 3, size, size)
    bare, harness = [], []
    for i in range(rounds):  # alternate which side goes first, so that drift in machine load hits both alike
        sides = [(bare, lambda: bare_loop(model, x, warmup=warmup, iters=iters)),
                 (harness, lambda: through_zoo(model, size=size, warmup=warmup, iters=iters))]
        for out, run in (sides if i % 2 == 0 else sides[::-1]):
            out.append(run())
    # each round's two runs were seconds apart: per-round ratios are robust to slow load changes; the fastest call
    # of all rounds is the least disturbed by other work on a shared machine
    ratio = statistics.median(h[0] / b[0] for h, b in zip(harness, bare))
    bmin, hmin = min(b[1] for b in bare), min(h[1] for h in harness)
    b, h = statistics.median(b[0] for b in bare), statistics.median(h[0] for h in harness)
    return (f"zoo.benchmark {name:<20} b1 fp32   median {h * 1e3:7.2f} ms  bare loop: {b * 1e3:7.2f} ms  "
            f"ratio {ratio:.3f}x (median of {rounds} per-round ratios)  |  fastest {hmin * 1e3:7.2f} ms vs "
            f"{bmin * 1e3:7.2f} ms  ratio {hmin / bmin:.3f}x  (target <= 1.05; {iters} iters/round, "
            f"{torch.get_num_threads()} threads)")


def full_table(path: Path, *, iters: int, max_time: float) -> str:
    """Every registered model, fp32 on CPU, as a markdown file: batch 1 eager and optimized (with peak memory), then
    batch 32 eager (no memory pass, to keep the run to minutes on a small machine)."""
    t0 = time.perf_counter()
    common = dict(iters=iters, warmup=1, max_time=max_time)
    results = zoo.benchmark("*", batch_sizes=(1,), **common)
    results += zoo.benchmark("*", batch_sizes=(32,), optimized=(False,), memory=False, **common)
    results.sort(key=lambda r: (r.model, r.batch, r.optimized))
    text = (f"# zoo CPU benchmark, all registered models\n\n{zoo.format_results(results, 'table')}\n\n"
            f"{len(results)} configurations in {time.perf_counter() - t0:.0f} s; iters <= {iters}, "
            f"at most {max_time:g} s of timing per configuration (at least 2 timed calls after 1 warm-up).\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return f"full table: {len(results)} configurations written to {path}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=["shufflenet_v2_x1_0", "resnet18"])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice).")
    ap.add_argument("--table", type=Path, default=None, help="Also write the full CPU table (slow) to this file.")
    ap.add_argument("--table-iters", type=int, default=5)
    ap.add_argument("--table-max-time", type=float, default=5.0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for name in args.models:
        print(overhead(name, rounds=args.rounds, warmup=args.warmup, iters=args.iters, size=args.size), flush=True)
    if args.table is not None:
        print(full_table(args.table, iters=args.table_iters, max_time=args.table_max_time), flush=True)


if __name__ == "__main__":
    main()
