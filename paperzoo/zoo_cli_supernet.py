"""``zoo supernet ...``: train, search, measure and extract SPOS supernets (thin veneers over ``zoo.spos``)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

import zoo

from ._cli import OutputFile, check_output
from ._echo import echo
from ._params import BATCH, CHANNELS, REPEATS, SEED, SIDE, STEPS, WORKERS, Float, Int


def _macs(text: str | None) -> float | None:
    """``"330M"``, ``"0.33G"``, ``"3.3e8"`` -> MACs."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)\s*([kKmMgG]?)\s*", text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a MACs figure; write e.g. 330M or 0.33G")
    value = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2).lower()]
    if not 0 < value < 1e15:  # 1e999 is infinite
        raise click.BadParameter(f"{text!r}: a MACs figure must be positive and below 1e15")
    return value


def _layout(stem: int | None, stages: str | None, last: int | None, channel_search: bool,
            strides: str | None = None) -> dict[str, Any]:
    """The layout options given; widths within ``CHANNELS`` (a 10**8-channel stage would allocate for minutes)."""
    out: dict[str, Any] = {"channel_search": channel_search}
    if stem is not None:
        out["stem_channels"] = stem
    if stages is not None:
        try:
            out["stage_channels"] = [int(c) for c in stages.split(",")]
        except ValueError:
            raise click.BadParameter(f"{stages!r}: give 4 comma-separated ints, e.g. 64,160,320,640") from None
        if not all(CHANNELS.min <= c <= CHANNELS.max for c in out["stage_channels"]):
            raise click.BadParameter(f"{stages!r}: each width must be between {CHANNELS.min} and {CHANNELS.max}")
    if last is not None:
        out["last_channels"] = last
    if strides is not None:
        try:
            out["stage_strides"] = [int(c) for c in strides.split(",")]
        except ValueError:
            raise click.BadParameter(f"{strides!r}: give 4 comma-separated strides, e.g. 1,2,2,1") from None
    return out


def _torch_failure(e: RuntimeError) -> click.ClickException:
    """torch's own failures (a device it cannot use, a lost DDP peer) as one line; the zoo's errors (``ZooError``)
    become one line in ``_cli.Group`` like every library error."""
    return click.ClickException(str(e).splitlines()[0] if str(e) else type(e).__name__)


@click.group("supernet")
def supernet() -> None:
    """SPOS supernets (arXiv 1904.00420): train once, search under FLOPs or latency, extract subnets.

    Example: zoo supernet train --data tiny --out supernet.pt --steps 20 --batch-size 16 --input-size 32
    """


_layout_options = [
    click.option("--channel-search", is_flag=True, help="Also search middle widths 0.2x..1.6x."),
    click.option("--stem-channels", type=CHANNELS, help="Stem width (paper: 16)."),
    click.option("--stage-channels", help="4 stage widths (paper: 64,160,320,640)."),
    click.option("--last-channels", type=CHANNELS, help="Last conv width (paper: 1024)."),
    click.option("--stage-strides", help="Stride of each stage's first block (paper: 2,2,2,2; small inputs: 1,2,2,1)."),
]


def _with_layout(f: Any) -> Any:
    for opt in reversed(_layout_options):
        f = opt(f)
    return f


@supernet.command("train")
@click.option("--data", default="tiny", show_default=True, help="'tiny', 'tiny:CLASSES:LENGTH' or an ImageFolder dir.")
@click.option("--out", required=True, type=OutputFile(str), help="Checkpoint file (resumed if present).")
@click.option("--steps", type=STEPS, default=120_000, show_default=True)
@click.option("--batch-size", type=Int(1, 262_144), default=1024, show_default=True, help="Global, over all processes.")
@click.option("--lr", type=Float(0, 100, lo_open=True), default=0.5, show_default=True)
@click.option("--momentum", type=Float(0, 1), default=0.9, show_default=True)
@click.option("--weight-decay", type=Float(0, 1), default=4e-5, show_default=True)
@click.option("--label-smoothing", type=Float(0, 0.999), default=0.1, show_default=True)
@click.option("--input-size", type=SIDE, default=224, show_default=True)
@click.option("--num-classes", type=Int(1, 1_000_000), help="Default: the dataset's.")
@click.option("--sampler", type=click.Choice(["uniform", "flops"]), default="uniform", show_default=True,
              help="Uniform paths, or uniform over FLOPs bins (as released).")
@click.option("--flops-bins", help="LOW,HIGH,STEP in MACs for --sampler flops, e.g. 290M,360M,10M.")
@click.option("--checkpoint-every", type=STEPS, default=1000, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--workers", type=WORKERS, default=0, show_default=True, help="Data-loading processes per process.")
@click.option("--device", help="cpu or cuda (default: cuda when available).")
@click.option("--amp", type=click.Choice(["bf16", "fp16"]), help="Autocast (opt-in; not numerically equivalent).")
@click.option("--nchw", is_flag=True, help="NCHW instead of the default channels_last.")
@click.option("--fused-sgd", is_flag=True, help="One fused SGD kernel (same update).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_with_layout
def train_cmd(data: str, out: str, steps: int, batch_size: int, lr: float, momentum: float, weight_decay: float,
              label_smoothing: float, input_size: int, num_classes: int | None, sampler: str, flops_bins: str | None,
              checkpoint_every: int, seed: int, workers: int, device: str | None, quiet: bool, channel_search: bool,
              stem_channels: int | None, stage_channels: str | None, last_channels: int | None,
              stage_strides: str | None, amp: str | None = None, nchw: bool = False,
              fused_sgd: bool = False) -> None:
    """Train a supernet; rerun the same command to resume. Runs under torchrun for DDP.

    Example: zoo supernet train --data tiny --out supernet.pt --steps 20 --batch-size 16 --input-size 32

    Ctrl-C finishes the current step and saves a checkpoint.
    """
    from zoo.spos import TrainConfig, train_supernet

    layout = _layout(stem_channels, stage_channels, last_channels, channel_search, stage_strides)
    if num_classes is not None:
        layout["num_classes"] = num_classes
    bins = None
    if flops_bins is not None:
        parts = flops_bins.split(",")
        if len(parts) != 3:
            raise click.BadParameter("--flops-bins needs LOW,HIGH,STEP, e.g. 290M,360M,10M")
        low, high, step = (_macs(p) or 0.0 for p in parts)  # a part is never None: _macs returns a number
        bins = (low, high, step)
    if steps < 1 or batch_size < 1 or checkpoint_every < 1:
        raise click.BadParameter("--steps, --batch-size and --checkpoint-every must be positive")
    config = TrainConfig(out=out, data=data, steps=steps, batch_size=batch_size, lr=lr, momentum=momentum,
                         weight_decay=weight_decay, label_smoothing=label_smoothing, input_size=input_size,
                         layout=layout, sampler=sampler, flops_bins=bins, checkpoint_every=checkpoint_every, seed=seed,
                         num_workers=workers, device=device, amp=amp, channels_last=not nchw,
                         fused_sgd=fused_sgd)
    try:
        result = train_supernet(config, progress=not quiet)
    except RuntimeError as e:
        raise _torch_failure(e) from None
    state = "interrupted" if result.interrupted else "done"
    echo(f"{state} at step {result.step}/{steps}: loss {result.last_loss:.4f}, "
               f"{result.images_per_second:.1f} img/s; checkpoint {result.checkpoint}")
    if result.interrupted:
        echo("rerun the same command to resume")


@supernet.command("search")
@click.option("--supernet", "ckpt", required=True, type=click.Path(dir_okay=False), help="Supernet checkpoint.")
@click.option("--data", default="tiny", show_default=True, help="As in train; DIR/train and DIR/val are used.")
@click.option("--max-macs", help="FLOPs budget, e.g. 330M.")
@click.option("--max-latency-ms", type=Float(0, 1e7, lo_open=True), help="Latency budget (needs --latency-table).")
@click.option("--latency-table", type=click.Path(dir_okay=False), help="From zoo supernet latency-table.")
@click.option("--population", type=Int(2, 100_000), default=50, show_default=True)
@click.option("--top-k", type=Int(1, 100_000), default=10, show_default=True)
@click.option("--mutations", type=Int(0, 100_000), default=25, show_default=True)
@click.option("--mutation-prob", type=Float(0, 1), default=0.1, show_default=True)
@click.option("--crossovers", type=Int(0, 100_000), default=25, show_default=True)
@click.option("--iterations", type=Int(1, 100_000), default=20, show_default=True)
@click.option("--batch-size", type=BATCH, default=64, show_default=True)
@click.option("--calib-batches", type=Int(0, 100_000), default=20, show_default=True, help="BN recalibration batches.")
@click.option("--val-batches", type=Int(1, 100_000), default=10, show_default=True, help="Scoring batches.")
@click.option("--input-size", type=SIDE, help="Default: the training size.")
@click.option("--state", type=OutputFile(str), help="Search state, saved each iteration (default: OUT.state).")
@click.option("--out", required=True, type=OutputFile(str), help="Result JSON: top-k and Pareto front.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--device", help="cpu or cuda.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def search_cmd(ckpt: str, data: str, max_macs: str | None, max_latency_ms: float | None, latency_table: str | None,
               population: int, top_k: int, mutations: int, mutation_prob: float, crossovers: int, iterations: int,
               batch_size: int, calib_batches: int, val_batches: int, input_size: int | None, state: str | None,
               out: str, seed: int, device: str | None, quiet: bool) -> None:
    """Evolutionary search of a trained supernet under a FLOPs or latency budget; resumable.

    Example: zoo supernet search --supernet supernet.pt --max-macs 1M --iterations 2 --population 8 --top-k 3 --mutations 4 --crossovers 4 --batch-size 16 --calib-batches 2 --val-batches 2 --out search.json
    """
    from zoo.spos import SearchConfig, search_supernet

    config = SearchConfig(population=population, top_k=top_k, mutations=mutations, mutation_prob=mutation_prob,
                          crossovers=crossovers, iterations=iterations, max_macs=_macs(max_macs),
                          max_latency_ms=max_latency_ms, seed=seed)
    state = str(check_output(state or f"{out}.state"))  # the default state file is an output too
    result = search_supernet(ckpt, data, config, input_size=input_size, batch_size=batch_size,
                             calib_batches=calib_batches, val_batches=val_batches, latency_table=latency_table,
                             state_path=state, device=device, progress=not quiet)
    zoo.atomic_write_text(Path(out), json.dumps(result.to_dict()))
    for i, c in enumerate(result.top, 1):
        lat = f"  {c.latency_ms:.2f} ms" if c.latency_ms is not None else ""
        echo(f"{i:>2}. {c.arch}  {c.macs / 1e6:.2f} M MACs{lat}  score {c.score:.2f}")
    echo(f"{result.evaluated} evaluated, {result.rejected} over budget (never evaluated); "
               f"Pareto front of {len(result.pareto)} in {out}")


@supernet.command("latency-table")
@click.option("--out", required=True, type=OutputFile(str), help="JSON file to write.")
@click.option("--supernet", "ckpt", type=click.Path(dir_okay=False), help="Take the layout from this checkpoint.")
@click.option("--input-size", type=SIDE, default=224, show_default=True)
@click.option("--batch-size", type=BATCH, default=1, show_default=True)
@click.option("--repeats", type=REPEATS, default=20, show_default=True)
@click.option("--device", help="cpu or cuda (default: cpu).")
@click.option("--engine", type=click.Choice(["eager", "onnxruntime", "openvino"]), default="eager", show_default=True,
              help="What runs the parts: eager PyTorch, or the engine the model will be deployed with (CPU).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_with_layout
def latency_table_cmd(out: str, ckpt: str | None, input_size: int, batch_size: int, repeats: int,
                      device: str | None, engine: str, quiet: bool, channel_search: bool, stem_channels: int | None,
                      stage_channels: str | None, last_channels: int | None, stage_strides: str | None) -> None:
    """Measure per-block latency with an engine on this device; save it with both described.

    Example: zoo supernet latency-table --out latency.json --engine onnxruntime --input-size 32 --repeats 3
    """
    from zoo.spos import Layout, measure_latency_table, read_checkpoint

    try:
        if ckpt is not None:
            layout = Layout.from_dict(read_checkpoint(ckpt)["layout"])
        else:
            layout = Layout(**_layout(stem_channels, stage_channels, last_channels, channel_search, stage_strides))
        table = measure_latency_table(layout, input_size=input_size, batch_size=batch_size, device=device,
                                      repeats=repeats, progress=not quiet, engine=engine)
    except RuntimeError as e:
        raise _torch_failure(e) from None
    table.save(out)
    echo(f"{len(table.blocks)} blocks measured on {table.device['name']} ({table.device['type']}, "
               f"{table.device['threads']} threads, {engine} {table.device['engine_version']}); saved {out}")


@supernet.command("extract")
@click.option("--supernet", "ckpt", required=True, type=click.Path(dir_okay=False), help="Supernet checkpoint.")
@click.option("--arch", required=True, help="Architecture string, e.g. 21012020202300003233.")
@click.option("--out", required=True, type=OutputFile(str), help="Subnet state_dict file (.pth).")
@click.option("--data", help="Recalibrate BN on this data first (as in train).")
@click.option("--calib-batches", type=Int(0, 100_000), default=20, show_default=True)
@click.option("--batch-size", type=BATCH, default=64, show_default=True)
def extract_cmd(ckpt: str, arch: str, out: str, data: str | None, calib_batches: int, batch_size: int) -> None:
    """Save the standalone subnet of ARCH with weights inherited from the supernet.

    Example: zoo supernet extract --supernet supernet.pt --arch 21012020202300003233 --data tiny --batch-size 16 --out subnet.pth
    """
    from zoo.spos import calibration_batches, extract_subnet, load_supernet, read_checkpoint, recalibrate_bn
    from zoo.spos.checkpoint import save_atomic
    from zoo.spos.data import open_dataset

    ckpt_d = read_checkpoint(ckpt)
    net = load_supernet(ckpt_d)
    a = net.check(arch)
    if data is not None:
        size = int(ckpt_d.get("config", {}).get("input_size", 224))
        ds = open_dataset(data, size=size, train=True, pixels=ckpt_d.get("pixels", "imagenet"))
        recalibrate_bn(net, calibration_batches(ds, calib_batches, batch_size), arch=a)
    sub = extract_subnet(net, a)
    save_atomic(sub.state_dict(), out)
    n = sum(p.numel() for p in sub.parameters())
    echo(f"subnet {a} ({n / 1e6:.3f} M params) saved to {out}; "
               f"load it with zoo.load('spos', arch='{a}', weights='{out}'" + _layout_hint(net) + ")")


def _layout_hint(net: Any) -> str:
    lay, default = net.layout, type(net.layout)()
    opts = [f"{k}={v!r}" for k, v in lay.to_dict().items()
            if k != "channel_search" and v != default.to_dict()[k]]
    return "".join(", " + o for o in opts)
