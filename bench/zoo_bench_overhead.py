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


def bare_loop(model: torch.nn.Module, x: torch.Tensor, *, warmup: int, iters: int) -> float:
    """Median seconds per forward pass of the simplest loop one would write by hand."""
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        for _ in range(iters):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def through_zoo(model: torch.nn.Module, *, size: int, warmup: int, iters: int) -> float:
    (r,) = zoo.benchmark(model, batch_sizes=(1,), optimized=(False,), warmup=warmup, iters=iters, input_size=size,
                         memory=False, progress=False)
    return r.latency_ms / 1e3


def overhead(name: str, *, rounds: int, warmup: int, iters: int, size: int) -> str:
    model = zoo.load(name).eval()
    x = torch.randn(1, 3, size, size)
    bare, harness = [], []
    for i in range(rounds):  # alternate, so that drift in machine load hits both sides alike
        pair = [lambda: bare.append(bare_loop(model, x, warmup=warmup, iters=iters)),
                lambda: harness.append(through_zoo(model, size=size, warmup=warmup, iters=iters))]
        for run in (pair if i % 2 == 0 else pair[::-1]):
            run()
    b, h = statistics.median(bare), statistics.median(harness)
    return (f"zoo.benchmark {name:<20} b1 fp32   median {h * 1e3:7.2f} ms  bare loop: {b * 1e3:7.2f} ms  "
            f"ratio {h / b:.3f}x (target <= 1.05, {rounds} rounds x {iters} iters, {torch.get_num_threads()} threads)")


def full_table(path: Path, *, iters: int, max_time: float) -> str:
    """Every registered model at batch 1 and 32, eager and optimized, fp32 on CPU, as a markdown file."""
    t0 = time.perf_counter()
    results = zoo.benchmark("*", batch_sizes=(1, 32), iters=iters, warmup=1, max_time=max_time)
    text = (f"# zoo CPU benchmark, all registered models\n\n{zoo.format_results(results, 'table')}\n\n"
            f"{len(results)} configurations in {time.perf_counter() - t0:.0f} s; iters <= {iters}, "
            f"at most {max_time:g} s of timing per configuration (at least 2 timed calls).\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return f"full table: {len(results)} configurations written to {path}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=["shufflenet_v2_x1_0", "resnet18"])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--iters", type=int, default=20)
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
