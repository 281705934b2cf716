"""CPU inference engines over the zoo's ONNX export: ONNX Runtime and OpenVINO behind one ``nn.Module`` that takes
and returns torch tensors.

Why two engines and a chooser: measured side by side on this project's CPUs (``bench/engines_speed.py``), ONNX
Runtime is the faster at batch 1 and OpenVINO often at batch 32, by up to ~1.3x either way, and which one wins also
depends on the model (OpenVINO is slow on SPOS's channel split). So :class:`EngineModule` with several engines times
each on the first call at a new input shape and keeps the faster for that shape (like ``cudnn.benchmark``); with one
engine it just runs it. Neither engine is imported until a module is built (``import zoo`` stays torch-only).

Threads are set identically for every engine: ``intra_op_num_threads`` (ONNX Runtime), ``INFERENCE_NUM_THREADS``
(OpenVINO), the caller's ``torch.get_num_threads()`` by default. OpenVINO is pinned to fp32 inference
(``INFERENCE_PRECISION_HINT``): on CPUs with AMX it would otherwise run in bf16 and differ from eager by ~3e-3.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ._registry import ZooError

__all__ = ["ENGINES", "ONNX_ENGINES", "EngineModule", "engine_missing", "engine_version", "load_engine"]

#: Every engine ``zoo.benchmark`` knows: the eager model, ``zoo.optimize``'s recommended fast path, ``torch.compile``,
#: and the two ONNX engines alone.
ENGINES = ("eager", "optimized", "compiled", "onnxruntime", "openvino")
#: Engines that run the exported ONNX file, in the order they are tried.
ONNX_ENGINES = ("onnxruntime", "openvino")
_PACKAGE = {"onnxruntime": "onnxruntime", "openvino": "openvino"}

# autotuning: 3 to 25 alternating rounds within about a second (fewer for slow calls); shapes remembered at most
_TUNE_MIN_ROUNDS, _TUNE_MAX_ROUNDS, _TUNE_BUDGET_S, _MAX_SHAPES = 3, 25, 1.0, 16


def engine_version(engine: str) -> str | None:
    """The installed version of the package behind ``engine`` (torch for the torch engines); ``None`` if missing.
    Reads package metadata only: nothing is imported."""
    if engine in ("eager", "optimized", "compiled", "torch"):
        return torch.__version__
    package = _PACKAGE.get(engine)
    if package is None:
        raise ZooError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if importlib.util.find_spec(package) is None:
        return None
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def engine_missing(engine: str) -> str | None:
    """Why ``engine`` cannot run here (a one-line message with the install command), or ``None`` when it can."""
    if engine_version(engine) is None:
        return f"{engine} is not installed (pip install {_PACKAGE[engine]})"
    return None


def _require(engine: str) -> None:
    missing = engine_missing(engine)
    if missing:
        raise ZooError(missing)


class _OnnxRuntime:
    """One ONNX Runtime session (dynamic batch: ORT plans memory per call)."""

    name = "onnxruntime"

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: no warnings about unused initializers on stderr
        # Idle workers sleep instead of spinning after each run: spinning threads held both cores of a 2-core CPU
        # after every call and slowed whatever ran next (eager torch 2.5x, the fast path 1.3-1.5x at 2 threads);
        # ONNX Runtime itself was no slower without it (bench/engines_speed.py). One thread has no workers.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [torch.from_numpy(y) for y in self.session.run(None, {self.input: x.numpy()})]


class _OpenVino:
    """OpenVINO, compiled once per input shape (a static shape runs up to ~1.7x faster than a dynamic one)."""

    name = "openvino"

    def __init__(self, path: Path, threads: int) -> None:
        import openvino as ov

        self.core = ov.Core()
        self.model = self.core.read_model(str(path))
        self.config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
                       "INFERENCE_PRECISION_HINT": "f32"}
        self.requests: dict[tuple[int, ...], Any] = {}
        self.compiled: dict[tuple[int, ...], Any] = {}

    def _request(self, shape: tuple[int, ...]) -> Any:
        request = self.requests.get(shape)
        if request is None:
            if len(self.requests) >= _MAX_SHAPES:
                self.requests.clear()
                self.compiled.clear()
            model = self.model.clone()
            model.reshape({model.inputs[0].get_any_name(): list(shape)})
            compiled = self.core.compile_model(model, "CPU", self.config)
            request = self.requests[shape] = compiled.create_infer_request()
            self.compiled[shape] = compiled
        return request

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        request = self._request(tuple(x.shape))
        request.infer({0: x.numpy()}, share_inputs=True)
        # the request's output buffers are reused by the next call: copy them out
        return [torch.from_numpy(request.get_output_tensor(i).data.copy())
                for i in range(len(request.model_outputs))]


_RUNNERS: dict[str, Callable[[Path, int], Any]] = {"onnxruntime": _OnnxRuntime, "openvino": _OpenVino}


def _fastest(rounds: list[dict[str, float]]) -> str:
    """The engine with the lowest median time relative to the fastest engine of the same round. Comparing within a
    round, not overall minima or medians, cancels the load other processes put on the machine while tuning runs."""
    names = list(rounds[0])
    relative = {n: sorted(r[n] / min(r.values()) for r in rounds) for n in names}
    return min(names, key=lambda n: (relative[n][len(rounds) // 2], names.index(n)))


class EngineModule(nn.Module):
    """Runs an exported zoo model on CPU in float32 through ONNX Runtime and/or OpenVINO; takes and returns torch
    tensors (one output: a tensor; several: a tuple).

    With several engines, the first call at each new input shape runs every engine (warm-up: shape-specific
    compilation), then times them in alternating rounds (3 to 25 within about a second; fewer for calls of seconds)
    and keeps for that shape the engine with the lowest median time relative to each round's fastest; ``choices``
    shows what was picked. Inference only: no parameters, no gradients.

    Attributes:
        engines: the engine names, in order. versions: ``{engine: version}``. threads: intra-op threads of each.
        choices: ``{input shape: engine}`` picked so far. weights: the zoo weights of the exported model, if any.
    """

    def __init__(self, path: str | Path, engines: tuple[str, ...] = ONNX_ENGINES, *, threads: int | None = None,
                 weights: Any = None) -> None:
        super().__init__()
        if not engines:
            raise ZooError("EngineModule needs at least one engine")
        for e in engines:
            if e not in _RUNNERS:
                raise ZooError(f"unknown ONNX engine {e!r}; choose from {', '.join(ONNX_ENGINES)}")
            _require(e)
        self.threads = int(threads or torch.get_num_threads())
        self.engines = tuple(engines)
        self.versions = {e: engine_version(e) for e in self.engines}
        self._runners = {e: _RUNNERS[e](Path(path), self.threads) for e in self.engines}
        self.choices: dict[tuple[int, ...], str] = {}
        self.weights = weights

    def extra_repr(self) -> str:
        return f"engines={'+'.join(self.engines)}, threads={self.threads}"

    def _choose(self, x: torch.Tensor) -> str:
        runners = list(self._runners.items())
        if len(runners) == 1:
            return runners[0][0]
        for _, run in runners:  # warm-up: shape-specific compilation and memory planning
            run(x)
        rounds: list[dict[str, float]] = []
        start = time.perf_counter()
        while len(rounds) < _TUNE_MAX_ROUNDS:
            times = {}
            for name, run in (runners if len(rounds) % 2 == 0 else runners[::-1]):
                t0 = time.perf_counter()
                run(x)
                times[name] = time.perf_counter() - t0
            rounds.append(times)
            elapsed = time.perf_counter() - start
            if (len(rounds) >= _TUNE_MIN_ROUNDS and elapsed > _TUNE_BUDGET_S) or elapsed > 5 * _TUNE_BUDGET_S:
                break  # slow calls: fewer rounds (a long call averages out other processes' load by itself)
        return _fastest(rounds)

    def forward(self, x: torch.Tensor) -> Any:
        if x.device.type != "cpu" or x.dtype != torch.float32:
            raise ZooError(f"{'+'.join(self.engines)} runs CPU float32 inputs, not {x.dtype} on {x.device}; "
                           "use zoo.optimize(model, engine='torch') for other devices and dtypes")
        x = x.detach().contiguous()
        shape = tuple(x.shape)
        engine = self.choices.get(shape)
        if engine is None:
            if len(self.choices) >= _MAX_SHAPES:
                self.choices.clear()
            engine = self.choices[shape] = self._choose(x)
        outputs = self._runners[engine](x)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def load_engine(path: str | Path, engine: str = "auto", *, threads: int | None = None) -> EngineModule:
    """An :class:`EngineModule` over an ONNX file (e.g. one written by ``zoo.export``).

    Args:
        path: the ONNX file.
        engine: ``"onnxruntime"``, ``"openvino"`` or ``"auto"`` (every installed one, fastest picked per shape).
        threads: intra-op threads (default: ``torch.get_num_threads()``).
    """
    if not Path(path).is_file():
        raise ZooError(f"{path}: no such ONNX file")
    if engine == "auto":
        engines = tuple(e for e in ONNX_ENGINES if engine_missing(e) is None)
        if not engines:
            raise ZooError(engine_missing("onnxruntime") or "no ONNX engine installed")
    else:
        engines = (engine,)
    return EngineModule(path, engines, threads=threads)
