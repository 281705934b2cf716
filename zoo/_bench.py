"""``zoo.benchmark``: latency, throughput and peak memory of zoo models, with the environment recorded beside every
number.

    results = zoo.benchmark("shufflenet_v2*", batch_sizes=(1, 32), engines=("eager", "optimized", "openvino"))
    print(zoo.format_results(results, "table"))

Timing is a plain loop (``time.perf_counter`` around each forward, device synchronised on GPUs) under
``torch.inference_mode``, so the harness adds nothing a hand-written loop would not. Peak memory is the growth during
one extra forward pass: ``torch.cuda.max_memory_allocated`` on CUDA; on Linux CPUs the kernel's peak resident set
(``VmHWM``, reset through ``/proc/self/clear_refs`` after glibc's ``malloc_trim`` returned cached free memory) minus
the resident set before; elsewhere the growth of ``ru_maxrss``. Each result names its method in ``memory_method``.

This module knows nothing of the reading log: results are plain dataclasses; the CLI stores them.
"""
from __future__ import annotations

import copy
import csv
import dataclasses
import functools
import io
import json
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import torch
from torch import nn

from ._count import count
from ._engines import ENGINES, EngineModule, engine_missing, engine_version
from ._evaluate import EvalResult, evaluate, imagenet_synsets
from ._export import export
from ._factory import load
from ._optimize import optimize
from ._registry import ZooError, check_input, check_range, info, list_models, resolve

__all__ = [
    "BenchResult",
    "DTYPES",
    "EvalResult",
    "benchmark",
    "environment",
    "evaluate",
    "format_results",
    "imagenet_synsets",
]

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
#: Why an ONNX engine's row has no peak memory: the growth during one call reads 0 (its buffers were allocated at the
#: first call of the shape, during warm-up, and are kept), and its first call also plans, compiles and, with two
#: engines, tunes both: neither measures what one forward pass needs, so none is reported (shown as "—").
ENGINE_MEMORY = "not measured for ONNX engines (buffers allocated at their first call of a shape and kept)"
METRICS = ("latency_ms", "latency_p90_ms", "throughput_ips", "peak_memory_mb", "params", "macs")


@dataclass(frozen=True)
class BenchResult:
    """One measured configuration of one model.

    Attributes:
        model: canonical model name (or the class name of a module passed in).
        weights: the weights tag used, ``None`` for random initialisation (speed does not depend on it).
        device, dtype, batch, input_size: the configuration.
        optimized, compiled: whether the engine is anything but eager, and whether it is ``torch.compile``.
        params: parameters; macs: multiply-accumulates per image at ``input_size``.
        iters: timed iterations.
        latency_ms: median wall time of one forward pass of the whole batch; latency_p90_ms: its 90th percentile;
            latency_min_ms: the fastest call (the least disturbed by other work on a busy machine).
        throughput_ips: images per second (``batch / median``).
        peak_memory_mb: growth of memory during one forward pass (see ``memory_method``).
        env: the environment (torch version, device name, threads, ...) plus this configuration.
        skipped: why the configuration was not measured (unsupported dtype, compile failure, an engine package
            not installed); numbers are ``None``.
        engine: what ran it (see ``zoo.ENGINES``); ``env`` also names its version (``engine_version``) and, for
            ``optimized``, the engine ``zoo.optimize`` picked at this batch (``engine_picked``).
    """

    model: str
    weights: str | None
    device: str
    dtype: str
    batch: int
    input_size: tuple[int, ...]
    optimized: bool
    compiled: bool
    params: int
    macs: int
    iters: int = 0
    latency_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_min_ms: float | None = None
    throughput_ips: float | None = None
    peak_memory_mb: float | None = None
    memory_method: str = ""
    env: Mapping[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    engine: str = ""

    def __post_init__(self) -> None:
        if not self.engine:  # built the pre-engine way (optimized / compiled flags)
            engine = "compiled" if self.compiled else "optimized" if self.optimized else "eager"
            object.__setattr__(self, "engine", engine)

    @property
    def mode(self) -> str:
        return self.engine

    def metrics(self) -> dict[str, float]:
        """The numbers of this result by metric name (what ``bench --store`` writes to the log); none when skipped."""
        if self.skipped:
            return {}
        values = {m: getattr(self, m) for m in METRICS}
        return {k: float(v) for k, v in values.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["input_size"] = list(self.input_size)
        d["env"] = dict(self.env)
        return d


# --------------------------------------------------------------------------------------------------------------------
# environment and devices


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return f"Apple MPS ({platform.machine()})"
    return _cpu_name()


def environment(device: str | torch.device = "cpu") -> dict[str, Any]:
    """What a number depends on besides the model: torch version, device name, threads, platform."""
    dev = torch.device(device)
    env: dict[str, Any] = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": dev.type,
        "device_name": _device_name(dev),
        "threads": torch.get_num_threads(),
    }
    if dev.type == "cuda":
        env["cuda"] = torch.version.cuda
        env["cudnn"] = torch.backends.cudnn.version()
    return env


def _check_device(device: str | torch.device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ZooError(f"unknown device {device!r}; use cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ZooError("device cuda is not available here (no GPU, or torch built without CUDA)")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ZooError("device mps is not available here")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ZooError(f"unsupported device {device!r}; use cpu, cuda, cuda:N or mps")
    return dev


def _dtype_unsupported(dev: torch.device, dtype: str) -> str | None:
    """A reason when ``dtype`` is known not to work on ``dev``; ``None`` means try it (errors are caught later)."""
    if dev.type == "cuda" and dtype == "bf16" and not torch.cuda.is_bf16_supported():
        return f"bf16 is not supported by {torch.cuda.get_device_name(dev)}"
    return None


def _synchronizer(dev: torch.device) -> Callable[[], None]:
    if dev.type == "cuda":
        return lambda: torch.cuda.synchronize(dev)
    if dev.type == "mps":
        return torch.mps.synchronize
    return lambda: None


# --------------------------------------------------------------------------------------------------------------------
# measuring


def _timed(fn: Callable[[torch.Tensor], Any], x: torch.Tensor, *, warmup: int, iters: int,
           sync: Callable[[], None], max_time: float | None) -> list[float]:
    """Seconds per call of ``fn(x)``: ``warmup`` untimed calls, then up to ``iters`` timed ones (at least 2 when
    ``max_time`` cuts the loop short)."""
    clock = time.perf_counter
    for _ in range(warmup):
        fn(x)
    sync()
    times = []
    start = clock()
    for i in range(iters):
        t0 = clock()
        fn(x)
        sync()
        times.append(clock() - t0)
        if max_time is not None and i >= 1 and clock() - start > max_time:
            break
    return times


def _read_status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _malloc_trim() -> None:
    """Return glibc's cached free memory to the kernel, so that RSS growth shows what one forward pass needs
    rather than what the allocator happens to hold from earlier calls."""
    trim = _libc_malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _libc_malloc_trim() -> Callable[[int], int] | None:
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def _peak_memory(fn: Callable[[torch.Tensor], Any], x: torch.Tensor, dev: torch.device,
                 sync: Callable[[], None]) -> tuple[float | None, str]:
    """Memory growth (MiB) during one call of ``fn(x)`` and the method used."""
    if dev.type == "cuda":
        sync()
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
        fn(x)
        sync()
        return (torch.cuda.max_memory_allocated(dev) - base) / 2**20, "cuda max_memory_allocated"
    if dev.type == "mps":
        base = torch.mps.current_allocated_memory()
        fn(x)
        sync()
        return max(0, torch.mps.driver_allocated_memory() - base) / 2**20, "mps driver_allocated_memory"
    try:  # Linux: hand freed heap pages back to the kernel, reset its peak-RSS counter, run, read the peak
        _malloc_trim()
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        before = _read_status_kb("VmRSS")
        fn(x)
        peak = _read_status_kb("VmHWM")
        if before is not None and peak is not None:
            return max(0, peak - before) / 1024, "cpu peak RSS growth (VmHWM after malloc_trim)"
    except OSError:
        pass
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fn(x)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    unit = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return (after - before) * unit / 2**20, "cpu ru_maxrss growth (0 when below an earlier peak)"


def _p90(times: Sequence[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0][:160]}" if text else type(e).__name__


def _expand(name_or_model: str | nn.Module | Iterable[str | nn.Module]) -> list[str | nn.Module]:
    items = [name_or_model] if isinstance(name_or_model, (str, nn.Module)) else list(name_or_model)
    out: list[str | nn.Module] = []
    for item in items:
        if isinstance(item, nn.Module):
            out.append(item)
        elif any(ch in item for ch in "*?["):
            found = list_models(item)
            if not found:
                raise ZooError(f"no model matches {item!r}; see zoo.list_models()")
            out += found
        else:
            out.append(resolve(item))
    return list(dict.fromkeys(out))  # keep order, drop repeats


def _input_shape(input_size: int | Sequence[int] | None, default: Sequence[int]) -> tuple[int, ...]:
    if input_size is None:
        return tuple(default[-3:])
    if isinstance(input_size, int):
        return (3, input_size, input_size)
    shape = tuple(int(v) for v in input_size)
    if len(shape) == 2:
        return (3, *shape)
    if len(shape) == 4:
        return shape[1:]
    if len(shape) != 3:
        raise ZooError(f"input_size must be an int, (H, W) or (C, H, W), not {input_size!r}")
    check_input(1, shape)
    return shape


def benchmark(
    name_or_model: str | nn.Module | Iterable[str | nn.Module],
    *,
    device: str | torch.device = "cpu",
    batch_sizes: Sequence[int] = (1, 32),
    dtypes: Sequence[str] = ("fp32",),
    optimized: Sequence[bool] = (False, True),
    compile: bool = False,
    engines: Sequence[str] | None = None,
    threads: int | None = None,
    warmup: int = 3,
    iters: int = 20,
    max_time: float | None = None,
    weights: Any = None,
    input_size: int | Sequence[int] | None = None,
    memory: bool = True,
    progress: bool = True,
) -> list[BenchResult]:
    """Measure models: latency (median, p90), throughput and peak memory per batch size, dtype and engine.

    Args:
        name_or_model: a model name, alias or shell pattern (``"shufflenet_v2*"``), a module, or several of them.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        batch_sizes: batch 1 gives latency; a larger batch gives throughput (every result carries both).
        dtypes: among ``"fp32"``, ``"fp16"``, ``"bf16"``; a dtype the device cannot run is reported as skipped.
        optimized: the pre-engine way to choose: ``False`` eager, ``True`` optimized (ignored when ``engines``).
        compile: with ``optimized``, also measure ``"compiled"`` (ignored when ``engines`` is given).
        engines: among ``"eager"``, ``"optimized"`` (``zoo.optimize``: ONNX Runtime / OpenVINO on CPU fp32, BN
            folded elsewhere), ``"compiled"`` (``torch.compile`` of the BN-folded model), ``"onnxruntime"``,
            ``"openvino"`` (CPU fp32 only). An engine whose package is missing gives skipped results saying so.
        threads: intra-op threads for every engine alike (torch's are restored afterwards); default: torch's.
        warmup: untimed calls before timing.
        iters: timed calls.
        max_time: stop timing a configuration after this many seconds (at least 2 calls are timed).
        weights: weights for named models (``None``: random init; a tag, ``"DEFAULT"`` or a path).
        input_size: ``224``, ``(H, W)`` or ``(C, H, W)``; default the card's input size.
        memory: also measure peak memory (one extra call per configuration).
        progress: show a tqdm progress bar.

    Returns:
        One ``BenchResult`` per model, engine, dtype and batch size, in that nesting order.

    Raises:
        UnknownModelError: a name that is not registered; ZooError: a pattern with no match, a bad device or dtype.
    """
    dev = _check_device(device)
    bad = [d for d in dtypes if d not in DTYPES]
    if bad:
        raise ZooError(f"unknown dtype {bad[0]!r}; choose from {', '.join(DTYPES)}")
    if not batch_sizes or any(int(b) < 1 for b in batch_sizes):
        raise ZooError(f"batch sizes must be positive integers, not {tuple(batch_sizes)!r}")
    check_range("iters", iters, 1, 1_000_000)
    check_range("warmup", warmup, 0, 1_000_000)
    if max_time is not None:
        check_range("max_time", max_time, 1e-6, 7 * 86400)
    if input_size is not None:  # checked here before any model loads (and again per model at the card's size)
        for b in batch_sizes:
            check_input(int(b), _input_shape(input_size, (3, 224, 224)))
    if engines is None:
        engines = ["optimized" if o else "eager" for o in dict.fromkeys(optimized)] + (["compiled"] if compile else [])
    engines = list(dict.fromkeys(engines))
    bad = [e for e in engines if e not in ENGINES]
    if bad or not engines:
        raise ZooError(f"unknown engine {bad[0] if bad else None!r}; choose from {', '.join(ENGINES)}")
    if threads is not None and threads < 1:
        raise ZooError(f"threads must be >= 1, not {threads}")
    items = _expand(name_or_model)
    total = len(items) * len(engines) * len(dtypes) * len(batch_sizes)
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="benchmark", unit="run", disable=not progress, leave=False)
    torch_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    base_env = environment(dev)
    sync = _synchronizer(dev)
    out: list[BenchResult] = []
    try:
        for item in items:
            out += _bench_one(item, dev, base_env, sync, batch_sizes=batch_sizes, dtypes=dtypes, engines=engines,
                              warmup=warmup, iters=iters, max_time=max_time, weights=weights,
                              input_size=input_size, memory=memory, bar=bar)
    finally:
        bar.close()
        torch.set_num_threads(torch_threads)
    return out


def _prepare(engine: str, model: nn.Module, dev: torch.device, dtype: str, shape: tuple[int, ...],
             onnx: Callable[[], Any]) -> Callable[[torch.Tensor], Any]:
    """The callable that runs ``model`` with ``engine`` (raises with the reason when it cannot)."""
    if engine in ("onnxruntime", "openvino"):
        missing = engine_missing(engine)
        if missing:
            raise ZooError(missing)
        if dev.type != "cpu" or dtype != "fp32":
            raise ZooError(f"{engine} runs the fp32 ONNX export on CPU")
        return EngineModule(onnx(), (engine,), threads=torch.get_num_threads())
    m = copy.deepcopy(model).to(device=dev, dtype=DTYPES[dtype])
    if engine == "eager":
        return m
    if engine == "compiled":
        return torch.compile(optimize(m, engine="torch"))
    return optimize(m, input_size=(1, *shape))


def _bench_one(item: str | nn.Module, dev: torch.device, base_env: dict[str, Any], sync: Callable[[], None], *,
               batch_sizes: Sequence[int], dtypes: Sequence[str], engines: Sequence[str], warmup: int,
               iters: int, max_time: float | None, weights: Any, input_size: Any, memory: bool,
               bar: Any) -> list[BenchResult]:
    if isinstance(item, nn.Module):
        model, name = item, type(item).__name__
        shape = _input_shape(input_size, (3, 224, 224))
        counts = count(model, input_size=(1, *shape))
    else:
        name = item
        shape = _input_shape(input_size, info(name).input_size)
        model = load(name, weights=weights, progress=False)
        counts = count(name, input_size=(1, *shape))
    for b in batch_sizes:
        check_input(int(b), shape)
    tag = getattr(getattr(model, "weights", None), "tag", None)
    model = model.eval()
    bar.set_postfix_str(name, refresh=False)
    out = []
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as tmp:
        exported: list[Any] = []

        def onnx() -> Any:  # one export per model, shared by the ONNX engines
            if not exported:
                exported.append(export(model, Path(tmp) / "model.onnx", input_size=(1, *shape)))
            return exported[0]

        for engine in engines:
            version = engine_version(engine)
            for dtype in dtypes:
                fields: dict[str, Any] = dict(
                    model=name, weights=tag, device=str(dev), dtype=dtype, input_size=shape, optimized=engine != "eager",
                    compiled=engine == "compiled", params=counts.params, macs=counts.macs, engine=engine)
                reason = _dtype_unsupported(dev, dtype)
                runner: Callable[[torch.Tensor], Any] | None = None
                if reason is None:
                    try:
                        runner = _prepare(engine, model, dev, dtype, shape, onnx)
                    except Exception as e:  # a missing package, an export or compile failure: a skipped row
                        reason = str(e) if isinstance(e, ZooError) else _first_line(e)
                for batch in batch_sizes:
                    env = {**base_env, "dtype": dtype, "batch": int(batch), "input_size": list(shape),
                           "optimized": engine != "eager", "compiled": engine == "compiled", "engine": engine,
                           "engine_version": version}
                    if reason is None and runner is not None:
                        result, reason_b = _measure(runner, fields, env, dev, sync, int(batch), warmup, iters,
                                                    max_time, memory)
                        if result is not None:
                            out.append(result)
                        else:
                            # an error at one batch size (e.g. fp16 convolution not implemented) fails them all
                            reason = reason_b
                            out.append(BenchResult(**fields, batch=int(batch), env=env, skipped=reason))
                    else:
                        out.append(BenchResult(**fields, batch=int(batch), env=env, skipped=reason))
                    bar.update(1)
                del runner
    return out


def _measure(runner: Callable[[torch.Tensor], Any], fields: dict[str, Any], env: dict[str, Any], dev: torch.device,
             sync: Callable[[], None], batch: int, warmup: int, iters: int, max_time: float | None,
             memory: bool) -> tuple[BenchResult | None, str | None]:
    x = torch.randn(batch, *fields["input_size"], device=dev).to(DTYPES[fields["dtype"]])
    if fields["engine"] != "eager" and not isinstance(runner, EngineModule) and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)  # what the BN-folded torch path's layout expects
    try:
        with torch.inference_mode():
            times = _timed(runner, x, warmup=max(warmup, 1), iters=iters, sync=sync, max_time=max_time)
            if not memory:
                peak, method = None, ""
            elif isinstance(runner, EngineModule):
                peak, method = None, ENGINE_MEMORY
            else:
                peak, method = _peak_memory(runner, x, dev, sync)
    except Exception as e:  # "not implemented for 'Half'", compile backends' own errors: reported, not fatal
        return None, _first_line(e)
    median = statistics.median(times)
    if isinstance(runner, EngineModule):
        picked = runner.choices.get(tuple(x.shape), runner.engines[0])
        env = {**env, "engine_picked": picked, "engine_version": runner.versions[picked]}
    elif fields["engine"] == "optimized":
        env = {**env, "engine_picked": "torch"}
    return BenchResult(
        **fields, batch=batch, iters=len(times), latency_ms=median * 1e3, latency_p90_ms=_p90(times) * 1e3,
        latency_min_ms=min(times) * 1e3,
        throughput_ips=batch / median, peak_memory_mb=peak, memory_method=method, env=env,
    ), None


# --------------------------------------------------------------------------------------------------------------------
# output


_COLUMNS = ("model", "weights", "device", "dtype", "engine", "batch", "input", "params_M", "MACs_G", "median_ms",
            "p90_ms", "img_per_s", "peak_MiB", "note")


def _row(r: BenchResult) -> dict[str, str]:
    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    return {
        "model": r.model, "weights": r.weights or "-", "device": r.device, "dtype": r.dtype, "engine": r.engine,
        "batch": str(r.batch), "input": "x".join(map(str, r.input_size)), "params_M": f"{r.params / 1e6:.2f}",
        "MACs_G": f"{r.macs / 1e9:.3f}", "median_ms": num(r.latency_ms, ".2f"), "p90_ms": num(r.latency_p90_ms, ".2f"),
        "img_per_s": num(r.throughput_ips, ".1f"),
        "peak_MiB": "—" if r.peak_memory_mb is None and not r.skipped else num(r.peak_memory_mb, ".1f"),
        "note": f"skipped: {r.skipped}" if r.skipped else "",
    }


def format_results(results: Sequence[BenchResult], fmt: str = "table") -> str:
    """Results as a markdown ``"table"`` (with the environment on top), ``"json"`` or ``"csv"`` (env as JSON)."""
    if fmt == "json":
        return json.dumps([r.to_dict() for r in results], indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        names = [f.name for f in dataclasses.fields(BenchResult)]
        writer = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for r in results:
            d = r.to_dict()
            d["input_size"] = "x".join(map(str, r.input_size))
            d["env"] = json.dumps(d["env"], sort_keys=True)
            writer.writerow(d)
        return buf.getvalue()
    if fmt != "table":
        raise ZooError(f"unknown format {fmt!r}; choose table, json or csv")
    lines = []
    if results:
        e = results[0].env
        lines.append(f"torch {e.get('torch')} · {e.get('device_name')} · {e.get('threads')} threads · "
                     f"{e.get('platform')}")
        methods = list(dict.fromkeys(r.memory_method for r in results if r.memory_method))
        for method in methods:
            lines.append(f"peak memory{' —' if method == ENGINE_MEMORY else ''}: {method}")
        lines.append("")
    rows = [_row(r) for r in results]
    width = {c: max([len(c), *(len(row[c]) for row in rows)]) for c in _COLUMNS}
    right = {"batch", "params_M", "MACs_G", "median_ms", "p90_ms", "img_per_s", "peak_MiB"}

    def fmt_line(cells: Mapping[str, str]) -> str:
        return "| " + " | ".join(
            cells[c].rjust(width[c]) if c in right else cells[c].ljust(width[c]) for c in _COLUMNS) + " |"

    lines.append(fmt_line({c: c for c in _COLUMNS}))
    lines.append("|" + "|".join(("-" * (width[c] + 1) + ":") if c in right else "-" * (width[c] + 2)
                                for c in _COLUMNS) + "|")
    lines += [fmt_line(row) for row in rows]
    return "\n".join(lines)
