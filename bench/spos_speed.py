"""SPOS supernet training step: today's speed-ups against a frozen copy of the step as it was before them.

Batch 16 at 224x224, the paper's supernet (block search; ``--channel-search`` for widths too), random paths drawn
once and run by every variant in turn (interleaved, same process), one thread and all threads. Each variant starts
from the same weights; before timing, one step of each on the same batch, path and dropout mask is compared with
the baseline and with the same step in float64 (logits and every gradient, max |a - b| / max |b| of the worst
tensor). On this untrained supernet (the release's N(0, 1/fan_in) init, batch statistics) the late gradients are
ill-conditioned: the baseline itself is ~1e-1 from float64 arithmetic there, so any change of summation order
(another thread count, another kernel) moves them by more than 1e-5; a variant counts as equivalent when it is as
close to float64 as the baseline (within 1.5x) and moves the same weights. bf16 autocast is timed and compared
separately (its accuracy effect: ``bench/spos_digits.py --amp bf16``).

Target: fp32 step >= 1.10x the baseline, numerically equivalent.
Run: python bench/spos_speed.py [--rounds 5] [--threads 1,0] [--channel-search] [--compile]
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import os
import random
import statistics
import time
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from zoo.spos import Arch, SuperNet
from zoo.spos.blocks import ConvBN, channel_split
from zoo.spos.step import TrainStep, make_sgd, param_groups

BATCH, SIZE = 16, 224


# -- the frozen baseline: the supernet step as it was (NCHW, plain SGD, whole-tensor width restore) -------------------

def _frozen_sliced_bn(bn: nn.BatchNorm2d, x: torch.Tensor, c: int) -> torch.Tensor:
    training = bn.training or bn.running_mean is None
    factor = 0.0
    if bn.training and bn.track_running_stats:
        bn.num_batches_tracked.add_(1)
        factor = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum
    weight = bn.weight[:c] if bn.weight is not None else None
    bias = bn.bias[:c] if bn.bias is not None else None
    rm = bn.running_mean[:c] if bn.running_mean is not None else None
    rv = bn.running_var[:c] if bn.running_var is not None else None
    return F.batch_norm(x, rm, rv, weight, bias, training, factor, bn.eps)


def _frozen_convbn(op: ConvBN, x: torch.Tensor, mid: int | None) -> torch.Tensor:
    cin, cout = op.widths(mid)
    if cin == op.cin and cout == op.cout:
        x = op.bn(op.conv(x))
    else:
        weight = op.conv.weight[:cout] if op.depthwise else op.conv.weight[:cout, :cin]
        x = F.conv2d(x, weight, None, op.stride, op.kernel // 2, 1, cout if op.depthwise else 1)
        x = _frozen_sliced_bn(op.bn, x, cout)
    return F.relu(x, inplace=True) if op.relu else x


def _frozen_forward(net: SuperNet, x: torch.Tensor, arch: Arch) -> torch.Tensor:
    arch = net.check(arch)
    x = _frozen_convbn(net.stem, x, None)
    mids = [max(1, b[3] * (s + 1) // 5) for b, s in zip(net.layout.blocks(), arch.scale_ids)]
    for block, choice, mid in zip(net.blocks, arch.blocks, mids):
        unit = block.choices[choice]
        m = None if mid == block.max_mid else mid
        if unit.stride == 1:
            keep, y = channel_split(x)
        else:
            keep = y = x
            for op in unit.proj:
                keep = _frozen_convbn(op, keep, None)
        for op in unit.main:
            y = _frozen_convbn(op, y, m)
        x = torch.cat((keep, y), 1)
    x = net.pool(_frozen_convbn(net.head, x, None)).flatten(1)
    return net.classifier(net.dropout(x))


class _FrozenKeep:
    """The width-slice restore as it was: clone every touched sliced weight (and momentum) whole."""

    def __init__(self, net: SuperNet, arch: Arch, opt: torch.optim.Optimizer) -> None:
        self.items = []
        mids = [max(1, b[3] * (s + 1) // 5) for b, s in zip(net.layout.blocks(), arch.scale_ids)]
        for block, choice, mid in zip(net.blocks, arch.blocks, mids):
            if mid == block.max_mid:
                continue
            for op in block.choices[choice].ops():
                cin, cout = op.widths(mid)
                if (cin, cout) == (op.cin, op.cout):
                    continue
                w = op.conv.weight
                used = (slice(0, cout),) if op.depthwise else (slice(0, cout), slice(0, cin))
                buf = opt.state.get(w, {}).get("momentum_buffer")
                self.items.append((w, used, w.detach().clone(), None if buf is None else buf.clone()))

    @torch.no_grad()
    def restore(self, opt: torch.optim.Optimizer) -> None:
        for w, used, old, old_buf in self.items:
            old[used] = w[used]
            w.copy_(old)
            buf = opt.state.get(w, {}).get("momentum_buffer")
            if buf is not None:
                if old_buf is None:
                    old_buf = torch.zeros_like(buf)
                old_buf[used] = buf[used]
                buf.copy_(old_buf)


class FrozenStep:
    def __init__(self, net: SuperNet, lr: float) -> None:
        self.net = net
        self.opt = torch.optim.SGD(param_groups(net, 4e-5), lr=lr, momentum=0.9)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

    def __call__(self, x: torch.Tensor, y: torch.Tensor, arch: Arch) -> torch.Tensor:
        loss = self.criterion(_frozen_forward(self.net, x, arch), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        keep = _FrozenKeep(self.net, arch, self.opt) if self.net.layout.channel_search else None
        self.opt.step()
        if keep is not None:
            keep.restore(self.opt)
        return loss.detach()


# -- variants -----------------------------------------------------------------------------------------------------

def make_variant(base: SuperNet, lr: float, *, channels_last: bool = False, fused: bool = False,
                 amp: str | None = None) -> TrainStep:
    net = copy.deepcopy(base)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = make_sgd(net, lr=lr, momentum=0.9, weight_decay=4e-5, fused=fused)
    return TrainStep(net, net, opt, nn.CrossEntropyLoss(label_smoothing=0.1), channels_last=channels_last, amp=amp)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (per tensor)."""
    a, b = a.detach().float(), b.detach().float()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def _grads(net: SuperNet, x: torch.Tensor, y: torch.Tensor, arch: Arch, fwd: Callable[..., torch.Tensor],
           autocast: Any = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    torch.manual_seed(1)  # the same dropout mask for everyone
    with autocast if autocast is not None else contextlib.nullcontext():
        out = fwd(net, x, arch)
        loss = nn.CrossEntropyLoss(label_smoothing=0.1)(out, y)
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in net.named_parameters() if p.grad is not None}
    net.zero_grad(set_to_none=True)
    return out.detach(), grads


def _worst(a: tuple[torch.Tensor, dict], b: tuple[torch.Tensor, dict]) -> tuple[float, float]:
    return _rel(a[0], b[0]), max(_rel(a[1][k], g) for k, g in b[1].items())


def equivalence(base: SuperNet, step: Any, x: torch.Tensor, y: torch.Tensor, arch: Arch,
                exact: tuple[torch.Tensor, dict]) -> dict[str, Any]:
    """Logits and gradients (max |a - b| / max |b|, worst tensor) of ``step``'s forward against the frozen one and
    against float64 arithmetic (``exact``), from the same weights; and one whole step (lr 0.1) from the same state:
    the same parameters move (off-path weights do not) and the momentum buffers (g + wd * w) agree."""
    frozen = _grads(copy.deepcopy(base).train(), x, y, arch, _frozen_forward)
    xx = x.contiguous(memory_format=torch.channels_last) if step.channels_last else x
    mine = _grads(step.net.train(), xx, y, arch, lambda n, t, a: n(t, a), step.autocast())
    out = {"vs_baseline": _worst(mine, frozen), "vs_exact": _worst(mine, exact), "baseline_vs_exact": _worst(frozen, exact)}
    ref_step, my_step = FrozenStep(copy.deepcopy(base).train(), 0.1), copy.deepcopy(step)
    for group in my_step.opt.param_groups:
        group["lr"] = 0.1
    for s in (ref_step, my_step):
        torch.manual_seed(1)
        s(x, y, arch)
    before, after = dict(base.named_parameters()), dict(ref_step.net.named_parameters())
    mine_p = dict(my_step.net.named_parameters())
    out["same_moved"] = ({k for k, p in mine_p.items() if not torch.equal(p, before[k])}
                         == {k for k, p in after.items() if not torch.equal(p, before[k])})
    out["buffers"] = max(_rel(my_step.opt.state[mine_p[k]]["momentum_buffer"], ref_step.opt.state[p]["momentum_buffer"])
                         for k, p in after.items() if p in ref_step.opt.state)
    return out


def run(threads: int, rounds: int, channel_search: bool, compile_path: bool) -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    base = SuperNet(channel_search=channel_search).train()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(BATCH, 3, SIZE, SIZE, generator=g), torch.randint(0, 1000, (BATCH,), generator=g)
    rng = random.Random(0)
    archs = [Arch.random(rng, channel_search=channel_search) for _ in range(rounds + 1)]
    lr = 1e-3  # small: the nets drift apart only by rounding while they are timed on their own states
    steps: dict[str, Callable[..., torch.Tensor]] = {"baseline (frozen)": FrozenStep(copy.deepcopy(base), lr)}
    steps["fused SGD"] = make_variant(base, lr, fused=True)
    steps["channels_last (default)"] = make_variant(base, lr, channels_last=True)
    steps["channels_last + fused SGD"] = make_variant(base, lr, channels_last=True, fused=True)
    steps["bf16 autocast + channels_last"] = make_variant(base, lr, channels_last=True, amp="bf16")
    exact = _grads(copy.deepcopy(base).double().train(), x.double(), y, archs[0], _frozen_forward)
    exact = (exact[0].float(), {k: g.float() for k, g in exact[1].items()})
    first = True
    for name, step in steps.items():
        if name.startswith("baseline"):
            continue
        e = equivalence(base, step, x, y, archs[0], exact)
        if first:
            lo, gr = e["baseline_vs_exact"]
            print(f"  {'baseline (frozen)':32s} vs float64: logits {lo:.1e}, grads {gr:.1e}")
            first = False
        (lo, gr), (elo, egr) = e["vs_baseline"], e["vs_exact"]
        blo, bgr = e["baseline_vs_exact"]
        # equivalent: as close to float64 arithmetic as the baseline is (x1.5), and the same weights move
        ok = elo <= 1.5 * blo and egr <= 1.5 * bgr and e["same_moved"]
        print(f"  {name:32s} vs baseline: logits {lo:.1e}, grads {gr:.1e}, momentum {e['buffers']:.1e}; "
              f"vs float64: logits {elo:.1e}, grads {egr:.1e}" + ("" if "bf16" in name else
                                                                    f"  -> {'equivalent' if ok else 'NOT equivalent'}"))
    times: dict[str, list[float]] = {k: [] for k in steps}
    for name, step in steps.items():  # warm-up on the first path
        step(x, y, archs[0])
    order = list(steps)
    for r, arch in enumerate(archs[1:]):
        for name in order[r % len(order):] + order[: r % len(order)]:  # rotate who goes first
            t = time.perf_counter()
            steps[name](x, y, arch)
            times[name].append(time.perf_counter() - t)
    base_s = statistics.median(times["baseline (frozen)"])
    for name, ts in times.items():
        med = statistics.median(ts)
        ratios = [b / t for b, t in zip(times["baseline (frozen)"], ts)]
        print(f"  {name:32s} {med * 1e3:7.0f} ms/step  {BATCH / med:5.1f} img/s  "
              f"speed-up {base_s / med:.2f}x (per-path ratios {min(ratios):.2f}-{max(ratios):.2f})")
    if compile_path:
        _compile_probe(base, x, y, archs[1], base_s)


def _compile_probe(base: SuperNet, x: torch.Tensor, y: torch.Tensor, arch: Arch, base_s: float) -> None:
    """torch.compile of one path: compile time against the time it saves per step (each new path recompiles)."""
    net = copy.deepcopy(base).to(memory_format=torch.channels_last)
    opt = make_sgd(net, lr=1e-3, momentum=0.9, weight_decay=4e-5)
    fwd = torch.compile(lambda inp: net(inp, arch))
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    xc = x.contiguous(memory_format=torch.channels_last)

    def step() -> float:
        t = time.perf_counter()
        loss = crit(fwd(xc), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - t

    first = step()
    steady = statistics.median(step() for _ in range(3))
    eager = TrainStep(net, net, opt, crit, channels_last=True)
    eager_s = statistics.median(_timed(eager, x, y, arch) for _ in range(3))
    saved = eager_s - steady
    pays = f"pays off after {first / saved:.0f} steps of the same path" if saved > 0 else "never pays off"
    print(f"  torch.compile (one path)         first step {first:.0f} s, then {steady * 1e3:.0f} ms/step vs eager "
          f"channels_last {eager_s * 1e3:.0f} ms: {pays}; random paths (4^20) do not repeat")


def _timed(step: Any, x: torch.Tensor, y: torch.Tensor, arch: Arch) -> float:
    t = time.perf_counter()
    step(x, y, arch)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="timed paths per variant")
    ap.add_argument("--threads", default="1,0", help="comma-separated thread counts; 0 = all cores")
    ap.add_argument("--channel-search", action="store_true", help="supernet with width choices too")
    ap.add_argument("--compile", action="store_true", help="also probe torch.compile on one path (slow)")
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"spos_speed: batch {BATCH} at {SIZE}x{SIZE}, {'block + channel' if args.channel_search else 'block'} "
          f"search supernet, random paths, torch {torch.__version__}, load {load:.2f} on {os.cpu_count()} cores")
    for t in (int(v) for v in args.threads.split(",")):
        n = t or (os.cpu_count() or 1)
        print(f"threads {n}:")
        run(n, args.rounds, args.channel_search, args.compile and t == int(args.threads.split(",")[0]))


if __name__ == "__main__":
    main()
