"""``zoo bench``, ``zoo eval``, ``zoo compare``, ``zoo sync-links``: thin veneers over ``zoo.benchmark``,
``zoo.evaluate`` and ``zoo.compare``. The reading log (where results and links are stored) is imported only inside
the commands that use it."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import click

import zoo
from zoo import BenchResult, Comparison, EvalResult, benchmark, compare, evaluate, format_results

__all__ = ["bench_cmd", "compare_cmd", "eval_cmd", "sync_links_cmd"]

_DB = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                   help="The reading log (default: $READING_DB or the user data folder).")


def _open_log(db: Path | None) -> Any:
    from reading import ReadingError, open_log

    try:
        return open_log(db)
    except ReadingError as e:
        raise click.ClickException(str(e)) from None


def _input_size(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        parts = tuple(int(p) for p in text.lower().replace(",", "x").split("x"))
    except ValueError:
        parts = ()
    if len(parts) == 1:
        return (3, parts[0], parts[0])
    if len(parts) in (2, 3) and all(p > 0 for p in parts):
        return parts if len(parts) == 3 else (3, *parts)
    raise click.BadParameter(f"{text!r}: use 224, 224x224 or 3x224x224", param_hint="--input-size")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def store_bench(log: Any, results: list[BenchResult]) -> int:
    """Write benchmark results to the log: timings per configuration; params and MACs once per model and input."""
    n = 0
    counted: set[tuple[str, tuple[int, ...]]] = set()
    for r in results:
        for metric, value in r.metrics().items():
            env = dict(r.env)
            if metric in ("params", "macs"):
                if (r.model, r.input_size) in counted:
                    continue
                env = {k: r.env[k] for k in ("torch", "input_size") if k in r.env}
            log.add_result(r.model, metric, value, weights=r.weights, env=env)
            n += 1
        if not r.skipped:
            counted.add((r.model, r.input_size))
    return n


def store_eval(log: Any, result: EvalResult) -> int:
    """Write top-1 / top-5 of an evaluation to the log."""
    for metric, value in result.metrics().items():
        log.add_result(result.model, metric, value, weights=result.weights, env=dict(result.env))
    return len(result.metrics())


def _store(fn: Any, log: Any, results: Any) -> int:
    from reading import ReadingError

    try:
        return fn(log, results)
    except ReadingError as e:
        raise click.ClickException(f"storing results in {log.path} failed: {e}") from None


@click.command("bench")
@click.argument("names", nargs=-1, required=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or mps.")
@click.option("--batch", "-b", "batches", type=click.IntRange(min=1), multiple=True,
              help="Batch size; repeat for several (default: 1 and 32).")
@click.option("--dtype", "dtypes", type=click.Choice(["fp32", "fp16", "bf16"]), multiple=True,
              help="Precision; repeat for several (default: fp32). Unsupported ones are reported as skipped.")
@click.option("--mode", type=click.Choice(["eager", "optimized", "both"]), default="both", show_default=True,
              help="Eager model, zoo.optimize'd (BN folded, channels_last, oneDNN-fused on CPU), or both.")
@click.option("--compile", "use_compile", is_flag=True, help="Also measure under torch.compile.")
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True, help="Untimed calls.")
@click.option("--iters", type=click.IntRange(min=1), default=20, show_default=True, help="Timed calls.")
@click.option("--max-time", type=float, default=None, help="Seconds of timing per configuration at most.")
@click.option("--weights", default=None, help="Weights tag, DEFAULT or a checkpoint path (default: random init).")
@click.option("--input-size", default=None, help="224, 224x224 or 3x224x224 (default: the card's).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the output to this file instead of printing it.")
@click.option("--store", is_flag=True, help="Store the results in the reading log.")
@_DB
def bench_cmd(names: tuple[str, ...], device: str, batches: tuple[int, ...], dtypes: tuple[str, ...], mode: str,
              use_compile: bool, warmup: int, iters: int, max_time: float | None, weights: str | None,
              input_size: str | None, fmt: str, output: Path | None, store: bool, db: Path | None) -> None:
    """Measure latency, throughput and peak memory of models (names, aliases or patterns).

    Every row records torch version, device name, threads, dtype, batch and input size.

    Example: zoo bench "shufflenet_v2*" --batch 1 --batch 32 --dtype fp32 --dtype bf16 --store
    """
    optimized = {"eager": (False,), "optimized": (True,), "both": (False, True)}[mode]
    try:
        results = benchmark(list(names), device=device, batch_sizes=batches or (1, 32), dtypes=dtypes or ("fp32",),
                            optimized=optimized, compile=use_compile, warmup=warmup, iters=iters, max_time=max_time,
                            weights=weights, input_size=_input_size(input_size))
    except zoo.ZooError as e:
        raise click.ClickException(str(e)) from None
    text = format_results(results, fmt)
    if output is not None:
        _write_atomic(output, text)
        click.echo(f"wrote {len(results)} results to {output}", err=True)
    else:
        click.echo(text)
    if store:
        log = _open_log(db)
        with log:
            n = _store(store_bench, log, results)
        click.echo(f"stored {n} results in {log.path}", err=True)


@click.command("eval")
@click.argument("name")
@click.option("--data", "data_dir", required=True, type=click.Path(path_type=Path),
              help="ImageFolder in ImageNet val layout: one folder per synset id (n01440764/ ...).")
@click.option("--weights", default="DEFAULT", show_default=True, help="Weights tag, DEFAULT or a checkpoint path.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N images (all classes).")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=None, help="DataLoader workers (default: up to 4).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
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
        result = evaluate(name, data_dir, weights=weights, limit=limit, batch_size=batch_size, workers=workers,
                          device=device, state_file=state_file)
    except zoo.ZooError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        hint = f"; rerun the same command to resume from {state_file}" if state_file else " (use --state to resume)"
        raise click.ClickException(f"interrupted{hint}") from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(f"{result.model} {result.weights or '-'} on {result.data_dir}: top-1 {result.top1:.3f}%  "
                   f"top-5 {result.top5:.3f}%  ({result.images} images, {result.skipped} unreadable skipped"
                   f"{', resumed' if result.resumed else ''}, {result.seconds:.1f} s)")
    if store:
        log = _open_log(db)
        with log:
            _store(store_eval, log, result)
        click.echo(f"stored top1/top5 in {log.path}", err=True)


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
    try:
        canonical = zoo.resolve(name)
    except zoo.ZooError as e:
        raise click.ClickException(str(e)) from None
    log = _open_log(db)
    with log:
        measured = log.results(canonical)
    rows = compare(canonical, measured)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"{canonical}: the card claims no figures")
        return
    header = ("metric", "claimed", "measured", "difference", "weights", "source")
    table = [header, *_rows(rows)]
    width = [max(len(r[i]) for r in table) for i in range(len(header))]
    click.echo(f"{canonical}: claimed vs measured")
    for r in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, width)).rstrip())


@click.command("sync-links")
@_DB
def sync_links_cmd(db: Path | None) -> None:
    """Write every registered model's (model, arXiv id) links into the reading log (idempotent).

    Example: zoo sync-links
    """
    pairs = [(name, paper) for name in zoo.list_models() for paper in zoo.info(name).papers]
    from reading import ReadingError

    log = _open_log(db)
    with log:
        try:
            for name, paper in pairs:
                log.link_model(name, paper)
        except ReadingError as e:
            raise click.ClickException(str(e)) from None
    click.echo(f"linked {len({n for n, _ in pairs})} models to {len({p for _, p in pairs})} papers "
               f"({len(pairs)} links) in {log.path}")
