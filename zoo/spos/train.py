"""Supernet training: uniform single-path sampling, SGD with linear decay, exact resume, DDP under ``torchrun``.

One step: sample a path (every process the same one), forward and backward it, update only what it touched. As in
the release: SGD with momentum, linear LR decay to zero, weight decay on conv / linear weights only, label smoothing
0.1. Checkpoints hold model, optimiser, scheduler, every process's RNG state, the path sampler's state and the step,
so a resumed run continues exactly where the interrupted one stopped. Ctrl-C (SIGINT) or SIGTERM finishes the
current step, saves, and returns.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sized
from typing import Any, Callable, Iterator, cast

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .._registry import InvalidOption
from .arch import Arch
from .checkpoint import FORMAT, CheckpointError, read_checkpoint, save_atomic
from .data import ImageFolder, StepBatches, TinyDataset, open_dataset
from .step import AMP_DTYPES, TrainStep, make_sgd, param_groups
from .supernet import Layout, SuperNet
from .tables import FlopsTable, flops_table

__all__ = ["FlopsUniformSampler", "TrainConfig", "TrainResult", "UniformSampler", "param_groups", "train_supernet"]


@dataclass
class TrainConfig:
    """Everything a supernet training run depends on (stored in its checkpoint).

    Attributes:
        out: the checkpoint file (written every ``checkpoint_every`` steps and at the end; resumed from if present).
        data: ``"tiny"`` / ``"tiny:CLASSES:LENGTH"``, an ImageFolder directory, or a ``Dataset`` of
            ``(image tensor, label)``.
        steps: total optimisation steps (the LR reaches zero at the last one).
        batch_size: global batch size (divided among processes under torchrun).
        lr, momentum, weight_decay, label_smoothing: the optimiser (release: 0.5, 0.9, 4e-5, 0.1 at batch 1024).
        input_size: training image side; the network's pooling adapts to it.
        layout: supernet options (``channel_search``, ``stage_channels``, ...); ``num_classes`` defaults to the data's.
        sampler: ``"uniform"`` (any path) or ``"flops"`` (a uniformly chosen FLOPs bin, then rejection sampling
            into it, as released).
        flops_bins: ``(low, high, step)`` in MACs for ``"flops"``; default: 7 equal bins between the 5th and 95th
            percentiles of random paths (the release used 290M-360M in 10M steps at 224).
        checkpoint_every: steps between checkpoints.
        seed: seeds initialisation, data order, augmentation, dropout and path sampling.
        num_workers: data-loading processes per training process.
        device: ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when available; the local rank's GPU under torchrun).
        channels_last: the supernet in NHWC (faster convolutions; as accurate as NCHW: see ``zoo.spos.step``).
        fused_sgd: one fused SGD kernel (same update; see ``zoo.spos.step``).
        amp: ``None`` (fp32), ``"bf16"`` or ``"fp16"``: opt-in autocast (not numerically equivalent).
    """

    out: str | os.PathLike
    data: Any = "tiny"
    steps: int = 120_000
    batch_size: int = 1024
    lr: float = 0.5
    momentum: float = 0.9
    weight_decay: float = 4e-5
    label_smoothing: float = 0.1
    input_size: int = 224
    layout: dict[str, Any] = field(default_factory=dict)
    sampler: str = "uniform"
    flops_bins: tuple[float, float, float] | None = None
    checkpoint_every: int = 1000
    seed: int = 0
    num_workers: int = 0
    device: str | None = None
    channels_last: bool = True
    fused_sgd: bool = False
    amp: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["out"] = str(self.out)
        d["data"] = self.data if isinstance(self.data, str) else type(self.data).__name__
        d["flops_bins"] = list(self.flops_bins) if self.flops_bins else None
        return d


@dataclass
class TrainResult:
    """``step`` reached, whether the run was ``interrupted``, images/s of this run (all processes), the file."""

    supernet: SuperNet
    step: int
    interrupted: bool
    images_per_second: float
    checkpoint: Path
    last_loss: float = math.nan


class UniformSampler:
    """Every path equally likely (the paper's uniform single-path sampling)."""

    def __init__(self, rng: random.Random, channel_search: bool) -> None:
        self.rng, self.channel_search = rng, channel_search

    def __call__(self) -> Arch:
        return Arch.random(self.rng, channel_search=self.channel_search)


class FlopsUniformSampler(UniformSampler):
    """As released: pick one FLOPs bin uniformly, then rejection-sample paths until one falls in it.

    After ``timeout`` rejections the last path is returned as is (the release's fallback).
    """

    def __init__(self, rng: random.Random, channel_search: bool, table: FlopsTable,
                 bins: tuple[float, float, float] | None = None, timeout: int = 500) -> None:
        super().__init__(rng, channel_search)
        self.table, self.timeout = table, timeout
        if bins is None:
            probe = random.Random(0)
            macs = sorted(table.macs(Arch.random(probe, channel_search=channel_search)) for _ in range(1000))
            lo, hi = float(macs[50]), float(macs[949])
            bins = (lo, hi, (hi - lo) / 7)
        lo, hi, step = bins
        if not (hi > lo and step > 0):
            raise InvalidOption(f"FLOPs bins need low < high and step > 0, got {bins}")
        n = max(1, math.ceil((hi - lo) / step - 1e-9))
        self.bins = [(lo + i * step, min(hi, lo + (i + 1) * step)) for i in range(n)]

    def __call__(self) -> Arch:
        lo, hi = self.bins[self.rng.randrange(len(self.bins))]
        arch = super().__call__()
        for _ in range(self.timeout):
            if lo <= self.table.macs(arch) <= hi:
                break
            arch = super().__call__()
        return arch


def _dist_setup(device: str | None) -> tuple[int, int, torch.device]:
    """(rank, world size, device); joins the process group that torchrun describes in the environment."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    return rank, world, dev


def _rng_state(device: torch.device) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class _Keyed(Dataset):
    """Passes ``(index, seed)`` keys to datasets that augment with them, plain indices to the others."""

    def __init__(self, ds: Dataset) -> None:
        self.ds, self.keyed = ds, isinstance(ds, (TinyDataset, ImageFolder))

    def __len__(self) -> int:
        return len(self.ds)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> Any:
        return self.ds[key] if self.keyed else self.ds[key[0]]


def _num_classes(ds: Dataset) -> int:
    n = getattr(ds, "num_classes", None)
    if n is None and hasattr(ds, "classes"):
        n = len(ds.classes)
    if n is None:
        raise InvalidOption("cannot tell the number of classes of the dataset; set layout={'num_classes': N}")
    return int(n)


@contextlib.contextmanager
def _stop_requests() -> Iterator[Callable[[], bool]]:
    """SIGINT / SIGTERM set a flag instead of raising, so a step is never cut in half (main thread only)."""
    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield lambda: flag["stop"]
        return

    def handler(signum: int, frame: Any) -> None:
        flag["stop"] = True

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: flag["stop"]
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _check_config(config: TrainConfig) -> None:
    """InvalidOption (one line) for a number no run can use: a NaN or negative learning rate trains to NaN (0 is allowed: it freezes the weights)."""
    from .._registry import MAX_BATCH, MAX_SIDE, check_range

    check_range("steps", config.steps, 1, 10**9)
    check_range("batch size", config.batch_size, 1, 64 * MAX_BATCH)
    check_range("lr", config.lr, 0.0, 100.0)
    check_range("momentum", config.momentum, 0.0, 1.0)
    check_range("weight decay", config.weight_decay, 0.0, 1.0)
    check_range("label smoothing", config.label_smoothing, 0.0, 0.999)
    check_range("input size", config.input_size, 8, MAX_SIDE)
    check_range("checkpoint_every", config.checkpoint_every, 1, 10**9)
    check_range("num_workers", config.num_workers, 0, 256)


def train_supernet(
    config: TrainConfig,
    *,
    progress: bool = True,
    on_step: Callable[[int, float, Arch], None] | None = None,
) -> TrainResult:
    """Train (or resume training) a supernet; see ``TrainConfig``. Run it under ``torchrun`` for DDP.

    Args:
        config: the run.
        progress: a tqdm bar with loss and throughput on the first process.
        on_step: called after every step with ``(step, loss, path)``.

    Returns:
        A ``TrainResult``; ``interrupted`` when a stop signal ended the run early (the checkpoint is saved).

    Raises:
        CheckpointError: ``config.out`` exists but is not a compatible checkpoint.
        ValueError: bad options (batch size, sampler, data).
    """
    from tqdm.auto import tqdm

    _check_config(config)
    rank, world, device = _dist_setup(config.device)
    if config.batch_size % world:
        raise InvalidOption(f"batch size {config.batch_size} is not divisible by {world} processes")
    if config.sampler not in ("uniform", "flops"):
        raise InvalidOption(f"sampler must be 'uniform' or 'flops', got {config.sampler!r}")
    if config.amp is not None and config.amp not in AMP_DTYPES:
        raise InvalidOption(f"amp must be None, 'bf16' or 'fp16', got {config.amp!r}")
    out = Path(config.out).expanduser()
    dataset = open_dataset(config.data, size=config.input_size, train=True, seed=config.seed)
    layout_opts = dict(config.layout)
    if "num_classes" not in layout_opts:
        layout_opts["num_classes"] = _num_classes(dataset)
    if "stage_channels" in layout_opts:
        layout_opts["stage_channels"] = tuple(layout_opts["stage_channels"])
    layout = Layout(**layout_opts)

    torch.manual_seed(config.seed)  # same initial weights on every process
    net = SuperNet(layout).to(device)
    if config.channels_last:
        net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # missing from torch's stubs
    opt = make_sgd(net, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay,
                   fused=config.fused_sgd)
    total = config.steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / total))
    arch_rng = random.Random(config.seed)
    table = flops_table(layout, config.input_size)
    sampler = (FlopsUniformSampler(arch_rng, layout.channel_search, table, config.flops_bins)
               if config.sampler == "flops" else UniformSampler(arch_rng, layout.channel_search))
    torch.manual_seed(config.seed * 1000 + rank)  # dropout differs per process, reproducibly

    step = 0
    ckpt: dict[str, Any] | None = None
    if out.exists():
        ckpt = read_checkpoint(out)
        if "optimizer" not in ckpt:
            raise CheckpointError(f"{out} holds weights only (megvii's released supernet); train into another --out")
        if Layout.from_dict(ckpt["layout"]) != layout:
            raise CheckpointError(f"{out} holds a supernet with another layout ({ckpt['layout']}); "
                                  "use another --out or the same options")
        if len(ckpt["rng"]) != world:
            raise CheckpointError(f"{out} was written by {len(ckpt['rng'])} processes, this run has {world}")
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        if config.fused_sgd:  # a checkpoint of the unfused optimiser has buffers only where paths have been
            fresh = make_sgd(net, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay, fused=True)
            for p, st in fresh.state.items():
                opt.state[p].setdefault("momentum_buffer", st["momentum_buffer"])
        sched.load_state_dict(ckpt["scheduler"])
        arch_rng.setstate(_to_tuple(ckpt["sampler"]))
        _set_rng_state(ckpt["rng"][rank], device)
        step = int(ckpt["step"])

    def save() -> None:
        states: list[Any] = [None] * world
        if world > 1:
            for buf in net.buffers():  # BN statistics: every process ends with the first one's, as DDP uses them
                dist.broadcast(buf, 0)
            dist.all_gather_object(states, _rng_state(torch.device("cpu")) | _cuda_only(device))
        else:
            states = [_rng_state(device)]
        if rank == 0:
            save_atomic({
                "format": FORMAT, "layout": layout.to_dict(), "model": net.state_dict(),
                "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "step": step,
                "rng": states, "sampler": arch_rng.getstate(), "config": config.to_dict(),
                **({"scaler": train_step.scaler.state_dict()} if train_step.scaler is not None else {}),
            }, out)

    model: nn.Module = net
    if world > 1:
        model = nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True)
    local_batch = config.batch_size // world
    batches = StepBatches(len(cast(Sized, dataset)), local_batch, seed=config.seed, start=step, rank=rank, world=world)
    loader = DataLoader(_Keyed(dataset), batch_sampler=batches, num_workers=config.num_workers,
                        pin_memory=device.type == "cuda", generator=torch.Generator())
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    train_step = TrainStep(model, net, opt, criterion, channels_last=config.channels_last, amp=config.amp)
    if train_step.scaler is not None and ckpt is not None and "scaler" in ckpt:
        train_step.scaler.load_state_dict(ckpt["scaler"])
    model.train()
    start_step, t0, loss_value, interrupted = step, time.perf_counter(), math.nan, False
    bar = tqdm(total=total, initial=step, desc="supernet", unit="step", disable=not progress or rank != 0)
    stop_flag = torch.zeros(1, device=device)
    with _stop_requests() as stop_requested:
        it = iter(loader)
        while step < total:
            if world > 1:
                stop_flag.fill_(float(stop_requested()))
                dist.all_reduce(stop_flag, op=dist.ReduceOp.MAX)
                stop = bool(stop_flag.item())
            else:
                stop = stop_requested()
            if stop:
                interrupted = True
                break
            x, y = next(it)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            arch = sampler()
            loss = train_step(x, y, arch)
            sched.step()
            step += 1
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):  # nothing after this is worth a checkpoint: stop, keep the last one
                bar.close()
                raise InvalidOption(f"the loss became {loss_value} at step {step}: training stopped (the last "
                                    "checkpoint is kept); lower the learning rate (--lr)")
            seconds = time.perf_counter() - t0
            bar.update(1)
            bar.set_postfix(loss=f"{loss_value:.3f}", img_s=f"{(step - start_step) * config.batch_size / seconds:.0f}",
                            refresh=False)
            if step % config.checkpoint_every == 0 or step == total:
                save()
            if on_step is not None:
                on_step(step, loss_value, arch)
        if interrupted and step % config.checkpoint_every:
            save()
    bar.close()
    seconds = time.perf_counter() - t0
    ips = (step - start_step) * config.batch_size / seconds if step > start_step else 0.0
    if step == start_step and not out.exists():
        save()
    return TrainResult(net, step, interrupted, ips, out, loss_value)


def _cuda_only(device: torch.device) -> dict[str, Any]:
    return {"cuda": torch.cuda.get_rng_state(device).cpu()} if device.type == "cuda" else {}


def _to_tuple(x: Any) -> Any:
    return tuple(_to_tuple(v) for v in x) if isinstance(x, (list, tuple)) else x
