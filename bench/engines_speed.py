"""CPU inference engines side by side in one process: eager, ``zoo.optimize`` (the recommended fast path), ONNX
Runtime and OpenVINO alone (optionally ``torch.compile``), interleaved call by call.

    python bench/engines_speed.py          # the issue's six models, batch 1 and 32, 1 and 2 threads
    python bench/engines_speed.py --models shufflenet_v2_x1_0 --batches 1 --threads 1 --repeats 10   # a quick look

One line per model x batch x threads: the median latency of each engine, the engine ``zoo.optimize`` picked, the
ratio ``min(onnxruntime, openvino) / optimized`` of the medians, and the median of the same ratio taken round by
round against the faster engine (target >= 0.95: the fast path is within 5% of the better engine measured in the same
run; calls of one round are seconds apart, so the paired figure is the less disturbed by other work on a shared
machine), and the largest relative difference of any engine's output from eager (target <= 1e-4).
Weights are random with BatchNorm statistics drawn like a trained net's, so folding does real work. Each line ends
with the 1-minute load average: on a shared machine, read ratios, not absolute times. The order of the engines
changes every round so that each one goes first, and follows each other one, equally often.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

import zoo
from zoo._engines import EngineModule, engine_missing
from zoo_speed import trained_like  # BN statistics drawn like a trained net's (beside this script)

MODELS = ("resnet18", "resnet50", "shufflenet_v1_g3_x1_0", "shufflenet_v2_x1_0", "shufflenet_v2_x2_0", "spos_a")
ENGINES = ("eager", "optimized", "onnxruntime", "openvino")


def candidates(model: nn.Module, engines: list[str], threads: int, onnx: Path) -> dict[str, Callable[..., Any]]:
    """The callables to time, by engine name (a missing engine package is left out with a note)."""
    out: dict[str, Callable[..., Any]] = {}
    for e in engines:
        if e in ("onnxruntime", "openvino") and engine_missing(e):
            print(f"# {e}: skipped ({engine_missing(e)})")
        elif e == "eager":
            out[e] = model
        elif e == "optimized":
            out[e] = zoo.optimize(model, threads=threads)
        elif e == "compiled":
            out[e] = torch.compile(zoo.optimize(model, engine="torch"))
        else:
            out[e] = EngineModule(onnx, (e,), threads=threads)
    return out


def balanced_orders(n: int) -> list[list[int]]:
    """Orders of ``n`` candidates, one per round, in which every candidate goes first equally often and follows every
    other one equally often (a Williams design). A plain rotation always runs the same candidate right after the same
    one (here ``optimized`` after eager, and ONNX Runtime alone right after ``optimized``, often the same engine with
    warm code and caches), which can favour or penalise one of them in every round."""
    seq = [0]
    for k in range(1, n):
        seq.append((k + 1) // 2 if k % 2 else n - k // 2)
    rows = [[(v + r) % n for v in seq] for r in range(n)]
    return rows if n % 2 == 0 else rows + [row[::-1] for row in rows]


def rel_diff(got: torch.Tensor, ref: torch.Tensor) -> float:
    return (got - ref).abs().max().item() / (ref.abs().max().item() or 1.0)


def run(name: str, batches: list[int], threads: int, repeats: int, engines: list[str]) -> None:
    torch.set_num_threads(threads)
    model = trained_like(zoo.load(name))
    with tempfile.TemporaryDirectory() as tmp:
        onnx = zoo.export(model, Path(tmp) / f"{name}.onnx")
        fns = candidates(model, engines, threads, onnx)
    for batch in batches:
        x = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(1))
        n = repeats if batch == 1 else max(len(fns), repeats // 5)  # at least one full set of orders
        with torch.inference_mode():
            ref = model(x)
            diff = max(rel_diff(f(x), ref) for e, f in fns.items() if e != "eager")  # also warm-up / autotune
            times: dict[str, list[float]] = {e: [] for e in fns}
            items = list(fns.items())
            orders = balanced_orders(len(items))
            for i in range(n):
                for j in orders[i % len(orders)]:
                    e, f = items[j]
                    t0 = time.perf_counter()
                    f(x)
                    times[e].append(time.perf_counter() - t0)
        med = {e: statistics.median(v) * 1e3 for e, v in times.items()}
        cells = "  ".join(f"{e} {v:7.1f}" for e, v in med.items())
        picked = getattr(fns.get("optimized"), "choices", {}).get(tuple(x.shape), "torch")
        ratio = ""
        onnx_engines = [e for e in ("onnxruntime", "openvino") if e in med]
        if "optimized" in med and onnx_engines:
            best = min(onnx_engines, key=med.__getitem__)
            # paired: the same round's calls, seconds apart, see the same load from other processes
            paired = statistics.median(b / o for b, o in zip(times[best], times["optimized"]))
            ratio = f"ratio {med[best] / med['optimized']:.2f}x (paired by round {paired:.2f}x)"
        print(f"{name:<21} b{batch:<2} t{threads} median ms: {cells}  optimized->{picked:<11} {ratio}  "
              f"max rel diff {diff:.0e}  n={n} load {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--batches", default="1,32")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeats", type=int, default=20,
                   help="timed rounds at batch 1 (batch > 1: a fifth, at least one per engine)")
    p.add_argument("--engines", default=",".join(ENGINES), help="among eager, optimized, compiled, onnxruntime, "
                                                                "openvino")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    batches = [int(b) for b in args.batches.split(",")]
    print(f"# torch {torch.__version__}; versions: " + ", ".join(
        f"{e} {zoo.engine_version(e)}" for e in ("onnxruntime", "openvino")) + f"; {os.cpu_count()} CPUs; "
        f"load {' '.join(f'{v:.1f}' for v in os.getloadavg())}; ratio = min(onnxruntime, openvino) / optimized")
    for threads in (int(t) for t in args.threads.split(",")):
        for name in args.models.split(","):
            run(name, batches, threads, args.repeats, args.engines.split(","))


if __name__ == "__main__":
    main()
