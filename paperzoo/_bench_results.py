"""Benchmark and evaluation results into the log: one rule, used by ``zoo bench/eval --store`` and the Zoo page.

The rule, so that the log reads the same whoever measured:

- which metrics: every number a result carries (``BenchResult.metrics()``: latency median / p90, throughput, peak
  memory, params, MACs; ``EvalResult.metrics()``: top-1, top-5); a skipped configuration stores nothing;
- which environment: timings and accuracies with the result's whole environment (torch, device, threads, dtype,
  batch, input size, mode ...); params and MACs, which depend only on the model and its input, with
  ``{"torch", "input_size"}`` alone;
- when: once per call, after the measurements, in one transaction; params and MACs once per (model, input size)
  within the call, however many batch sizes, dtypes and modes were measured.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from reading import Log
    from zoo import BenchResult, EvalResult

#: Metrics that depend only on the model and its input size, not on the machine or the configuration.
COUNT_METRICS = ("params", "macs")
#: The environment keys kept with a count.
COUNT_ENV = ("torch", "input_size")


def bench_rows(results: Iterable[BenchResult]) -> list[dict[str, Any]]:
    """The result rows :func:`store_bench` writes: dicts of ``add_result``'s arguments (model, metric, value,
    weights, env)."""
    rows: list[dict[str, Any]] = []
    counted: set[tuple[str, tuple[int, ...]]] = set()
    for r in results:
        for metric, value in r.metrics().items():
            env = dict(r.env)
            if metric in COUNT_METRICS:
                if (r.model, tuple(r.input_size)) in counted:
                    continue
                env = {k: r.env[k] for k in COUNT_ENV if k in r.env}
            rows.append({"model": r.model, "metric": metric, "value": value, "weights": r.weights, "env": env})
        if not r.skipped:
            counted.add((r.model, tuple(r.input_size)))
    return rows


def eval_rows(result: EvalResult) -> list[dict[str, Any]]:
    """The rows :func:`store_eval` writes: top-1 and top-5 with the evaluation's environment."""
    return [{"model": result.model, "metric": metric, "value": value, "weights": result.weights,
             "env": dict(result.env)} for metric, value in result.metrics().items()]


def _store(log: Log, rows: list[dict[str, Any]]) -> int:
    with log.transaction():
        for row in rows:
            log.add_result(row["model"], row["metric"], row["value"], weights=row["weights"], env=row["env"])
    return len(rows)


def store_bench(log: Log, results: Iterable[BenchResult]) -> int:
    """Write benchmark results to the log (see the module's rule); returns the number of rows written."""
    return _store(log, bench_rows(results))


def store_eval(log: Log, result: EvalResult) -> int:
    """Write an evaluation's top-1 / top-5 to the log; returns the number of rows written."""
    return _store(log, eval_rows(result))
