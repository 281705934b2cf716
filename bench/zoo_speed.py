"""Inference speed of zoo models: eager vs ``zoo.optimize`` (on CPU fp32: ONNX Runtime or OpenVINO, the faster per
batch; elsewhere BN folded and channels_last), same run. ``bench/engines_speed.py`` puts it beside each engine.

    python bench/zoo_speed.py [--models resnet50,...] [--reps 10] [--batches 1,32]

One line per (device, dtype, model, batch): median latency of each, the ratio (optimised speed-up over eager,
target >= 1.25x at batch 1 and >= 1.5x at batch 32) and the outputs' max abs difference (target <= 1e-4, fp32).
Where torchvision is importable, also our eager vs torchvision's eager on the same weights (target >= 0.95x).
Where CUDA is available, the same table on CUDA in fp32, fp16 and bf16.
Weights are random with BatchNorm statistics drawn like a trained net's, so folding does real work.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import zoo

DEFAULT_MODELS = ("resnet50", "shufflenet_v2_x1_0", "shufflenet_v1_g3_x1_0")


def trained_like(model: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.25)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


def _medians(fa, fb, x: torch.Tensor, reps: int, sync) -> tuple[float, float]:
    """Median latency of ``fa`` and ``fb``, timed alternately so that load from other processes hits both alike."""
    with torch.inference_mode():
        for _ in range(2):  # warm-up: oneDNN / cuDNN pick their kernels
            fa(x)
            fb(x)
        sync()
        ta, tb = [], []
        for _ in range(reps):
            for fn, times in ((fa, ta), (fb, tb)):
                t = time.perf_counter()
                fn(x)
                sync()
                times.append(time.perf_counter() - t)
    return statistics.median(ta), statistics.median(tb)


def _line(device: str, dtype: torch.dtype, name: str, batch: int, a: str, ta: float, b: str, tb: float,
          diff: float | None) -> str:
    dt = str(dtype).removeprefix("torch.")
    d = f"  max|diff| {diff:.1e}" if diff is not None else ""
    return (f"zoo {name:<24} {device} {dt:<8} b{batch:<3} {a} {ta * 1e3:8.1f} ms  {b} {tb * 1e3:8.1f} ms  "
            f"ratio {ta / tb:.2f}x{d}")


def bench(models, batches, reps: int, device: str, dtypes) -> None:
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for name in models:
        base = trained_like(zoo.load(name))
        for dtype in dtypes:
            eager = base.to(device=device, dtype=dtype)
            fast = zoo.optimize(eager)
            for batch in batches:
                n = reps if batch == 1 else max(5, reps // 2)
                x = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(1)).to(device, dtype)
                with torch.inference_mode():
                    diff = (eager(x).float() - fast(x).float()).abs().max().item()
                te, to = _medians(eager, fast, x, n, sync)
                print(_line(device, dtype, name, batch, "eager", te, "optimised", to, diff), flush=True)
            _vs_torchvision(name, eager, batches, reps, device, dtype, sync)


def _vs_torchvision(name: str, ours: nn.Module, batches, reps: int, device: str, dtype, sync) -> None:
    try:
        import torchvision.models as tvm
    except ImportError:
        return
    if not hasattr(tvm, name):
        return
    theirs = getattr(tvm, name)().to(device=device, dtype=dtype).eval()
    theirs.load_state_dict(ours.state_dict())
    for batch in batches:
        x = torch.randn(batch, 3, 224, 224).to(device, dtype)
        with torch.inference_mode():
            diff = (theirs(x).float() - ours(x).float()).abs().max().item()
        tt, to = _medians(theirs, ours, x, reps if batch == 1 else max(5, reps // 2), sync)
        print(_line(device, dtype, name, batch, "torchvision", tt, "ours", to, diff), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(DEFAULT_MODELS))
    p.add_argument("--batches", default="1,32")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    models = args.models.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} CPU threads; ratio = eager / optimised "
          "(or torchvision / ours)")
    bench(models, batches, args.reps, "cpu", [torch.float32])
    if torch.cuda.is_available():
        print(f"# CUDA: {torch.cuda.get_device_name()}")
        bench(models, batches, args.reps, "cuda", [torch.float32, torch.float16, torch.bfloat16])


if __name__ == "__main__":
    main()
