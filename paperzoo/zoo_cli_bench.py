"""``zoo bench``, ``zoo eval``, ``zoo compare``, ``zoo sync-links``: thin veneers over ``zoo.benchmark``,
``zoo.evaluate`` and the application layer's results, comparison and links (:mod:`paperzoo`). Library errors
become one-line messages in :class:`paperzoo._cli.Group`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import click

import zoo
from reading import open_log, write_atomic

from ._bench_results import store_bench, store_eval
from ._claims import Comparison, compare
from ._cli import OutputFile, protected_files, recheck_outputs
from ._echo import echo
from ._links import sync_model_links
from ._params import BATCH, COUNT, WORKERS, Float, Int, input_size as parse_input_size

__all__ = ["bench_cmd", "compare_cmd", "eval_cmd", "sync_links_cmd"]

_DB = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None, callback=recheck_outputs,
                   help="The reading log (default: $READING_DB or the user data folder).")


@click.command("bench")
@click.argument("names", nargs=-1, required=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or mps.")
@click.option("--batch", "-b", "batches", type=BATCH, multiple=True,
              help="Batch size; repeat for several (default: 1 and 32).")
@click.option("--dtype", "dtypes", type=click.Choice(["fp32", "fp16", "bf16"]), multiple=True,
              help="Precision; repeat for several (default: fp32). Unsupported ones are reported as skipped.")
@click.option("--engine", "engines", type=click.Choice(list(zoo.ENGINES)), multiple=True,
              help="eager, optimized (zoo.optimize: ONNX Runtime / OpenVINO on CPU fp32), compiled (torch.compile), "
                   "onnxruntime, openvino; repeat for several (default: eager and optimized; overrides --mode).")
@click.option("--mode", type=click.Choice(["eager", "optimized", "both"]), default="both", show_default=True,
              help="Shorthand: eager, optimized (zoo.optimize), or both.")
@click.option("--compile", "use_compile", is_flag=True, help="Also measure under torch.compile.")
@click.option("--warmup", type=Int(0, 1_000_000), default=3, show_default=True, help="Untimed calls.")
@click.option("--iters", type=Int(1, 1_000_000), default=20, show_default=True, help="Timed calls.")
@click.option("--max-time", type=Float(0, 7 * 86400, lo_open=True), default=None,
              help="Seconds of timing per configuration at most.")
@click.option("--weights", default=None, help="Weights tag, DEFAULT or a checkpoint path (default: random init).")
@click.option("--input-size", default=None, help="224, 224x224 or 3x224x224 (default: the card's).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--output", "-o", type=OutputFile(), default=None,
              help="Write the output to this file instead of printing it.")
@click.option("--store", is_flag=True, help="Store the results in the reading log.")
@_DB
def bench_cmd(names: tuple[str, ...], device: str, batches: tuple[int, ...], dtypes: tuple[str, ...],
              engines: tuple[str, ...], mode: str,
              use_compile: bool, warmup: int, iters: int, max_time: float | None, weights: str | None,
              input_size: str | None, fmt: str, output: Path | None, store: bool, db: Path | None) -> None:
    """Measure latency, throughput and peak memory of models (names, aliases or patterns).

    Every row records torch version, device name, threads, dtype, batch, input size, engine and its version.

    Example: zoo bench "shufflenet_v2*" --batch 1 --batch 32 --dtype fp32 --dtype bf16 --store
    """
    optimized = {"eager": (False,), "optimized": (True,), "both": (False, True)}[mode]
    results = zoo.benchmark(list(names), device=device, batch_sizes=batches or (1, 32), dtypes=dtypes or ("fp32",),
                            optimized=optimized, compile=use_compile, warmup=warmup, iters=iters, max_time=max_time,
                            weights=weights, input_size=parse_input_size(input_size), engines=engines or None)
    text = zoo.format_results(results, fmt)
    if output is not None:
        write_atomic(output, text if text.endswith("\n") else text + "\n", protect=protected_files(db))
        echo(f"wrote {len(results)} results to {output}", err=True)
    else:
        echo(text)
    if store:
        with open_log(db) as log:
            n = store_bench(log, results)
        echo(f"stored {n} results in {log.path}", err=True)


@click.command("eval")
@click.argument("name")
@click.option("--data", "data_dir", required=True, type=click.Path(path_type=Path),
              help="ImageFolder in ImageNet val layout: one folder per synset id (n01440764/ ...).")
@click.option("--weights", default="DEFAULT", show_default=True, help="Weights tag, DEFAULT or a checkpoint path.")
@click.option("--limit", type=COUNT, default=None, help="Only the first N images (all classes).")
@click.option("--batch-size", type=BATCH, default=32, show_default=True)
@click.option("--workers", type=WORKERS, default=None, help="DataLoader workers (default: up to 4).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--state", "state_file", type=OutputFile(), default=None,
              help="Save progress here after every batch; rerun the same command to resume.")
@click.option("--store", is_flag=True, help="Store top-1 / top-5 in the reading log.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_DB
def eval_cmd(name: str, data_dir: Path, weights: str, limit: int | None, batch_size: int, workers: int | None,
             device: str, state_file: Path | None, store: bool, as_json: bool, db: Path | None) -> None:
    """Top-1 / top-5 accuracy of NAME with its weights on an ImageFolder (ImageNet validation layout).

    Unreadable images are skipped and counted. With --state, an interrupted run resumes where it stopped.

    Example: zoo eval resnet50 --data ~/imagenet/val --limit 500 --state /tmp/r50.json --store
    """
    try:
        result = zoo.evaluate(name, data_dir, weights=weights, limit=limit, batch_size=batch_size, workers=workers,
                              device=device, state_file=state_file)
    except KeyboardInterrupt:
        hint = f"; rerun the same command to resume from {state_file}" if state_file else " (use --state to resume)"
        raise click.ClickException(f"interrupted{hint}") from None
    if as_json:
        echo(json.dumps(result.to_dict(), indent=2))
    else:
        echo(f"{result.model} {result.weights or '-'} on {result.data_dir}: top-1 {result.top1:.3f}%  "
                   f"top-5 {result.top5:.3f}%  ({result.images} images, {result.skipped} unreadable skipped"
                   f"{', resumed' if result.resumed else ''}, {result.seconds:.1f} s)")
    if store:
        with open_log(db) as log:
            store_eval(log, result)
        echo(f"stored top1/top5 in {log.path}", err=True)


def _num(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.4g}{unit}"


def _rows(comparisons: list[Comparison]) -> Iterator[tuple[str, ...]]:
    for c in comparisons:
        diff = c.difference
        yield (c.metric, _num(c.claimed, c.unit), _num(c.measured, c.unit) + (" (counted)" if c.origin == "counted"
                                                                               else ""),
               "-" if diff is None else f"{diff:+.3g}{c.unit}", c.weights or "-", c.source)


@click.command("compare")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@_DB
def compare_cmd(name: str, as_json: bool, db: Path | None) -> None:
    """Claimed (paper and weights) vs measured figures of NAME, with the difference.

    Measured accuracies come from results stored by `zoo eval --store`; params and MACs from
    `zoo bench --store`, else the card's counted figures.

    Example: zoo compare resnet50
    """
    canonical = zoo.resolve(name)
    with open_log(db) as log:
        measured = log.results(canonical)
    rows = compare(canonical, measured)
    if as_json:
        echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    if not rows:
        echo(f"{canonical}: the card claims no figures")
        return
    header = ("metric", "claimed", "measured", "difference", "weights", "source")
    table = [header, *_rows(rows)]
    width = [max(len(r[i]) for r in table) for i in range(len(header))]
    echo(f"{canonical}: claimed vs measured")
    for r in table:
        echo("  ".join(cell.ljust(w) for cell, w in zip(r, width)).rstrip())


@click.command("sync-links")
@_DB
def sync_links_cmd(db: Path | None) -> None:
    """Write every registered model's (model, arXiv id) links into the reading log (idempotent).

    Example: zoo sync-links
    """
    with open_log(db) as log:
        report = sync_model_links(log)
    echo(report.summary(log.path))
