"""Per-block lookup tables: exact FLOPs (multiply-accumulates) and latency measured on this device.

A path's cost is the stem's, plus one entry per block (position, choice, width), plus the head's. For MACs the
sum is exact: every conv and linear layer belongs to exactly one of those parts, so the table's total equals
``zoo.count`` of the extracted subnet. Latency is a sum of separately timed parts, the usual lookup-table
approximation (FBNet, ProxylessNAS); the table records the device it was measured on and the engine that ran the
parts (eager PyTorch, or each part exported to ONNX and run by ONNX Runtime or OpenVINO, so that a latency budget is
set in the latency of the engine the model will be deployed with).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .._registry import InvalidOption
from .._atomic import atomic_open
from .arch import NUM_CHOICES, SCALES, Arch, scaled_width
from .blocks import ConvBN, make_block
from .supernet import Layout

__all__ = ["FlopsTable", "LatencyTable", "device_description", "flops_table", "measure_latency_table"]


def _hw(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


@dataclass(frozen=True)
class FlopsTable:
    """MACs of every part of the supernet for one input size.

    Attributes:
        input_size: ``(height, width)`` of the input image.
        stem, head: MACs of the stem conv and of the last conv + classifier.
        blocks: ``blocks[i][choice][scale_id]``: MACs of block ``i`` for that choice and width.
    """

    input_size: tuple[int, int]
    stem: int
    head: int
    blocks: tuple[tuple[tuple[int, ...], ...], ...]

    def macs(self, arch: Arch | str) -> int:
        """Multiply-accumulates of one forward pass of ``arch`` on one image."""
        arch = Arch.coerce(arch)
        return self.stem + self.head + sum(self.blocks[i][c][s] for i, (c, s) in enumerate(zip(arch.blocks, arch.scale_ids)))

    def bounds(self, channel_search: bool = False) -> tuple[int, int]:
        """The smallest and largest MACs over the search space."""
        scales = range(len(SCALES)) if channel_search else (4,)
        lo = sum(min(b[c][s] for c in range(NUM_CHOICES) for s in scales) for b in self.blocks)
        hi = sum(max(b[c][s] for c in range(NUM_CHOICES) for s in scales) for b in self.blocks)
        return self.stem + self.head + lo, self.stem + self.head + hi


def flops_table(layout: Layout | None = None, input_size: int | tuple[int, int] = 224, **options: Any) -> FlopsTable:
    """Build the exact MACs table for a layout (or its keyword fields) at ``input_size``."""
    lay = layout if layout is not None else Layout(**options)
    hw = _hw(input_size)
    with torch.device("meta"):  # only shapes are needed
        stem = ConvBN(3, lay.stem_channels, 3, 2)
        stem_macs, size = stem.macs(None, hw)
        blocks = []
        for cin, cout, stride, base in lay.blocks():
            per_choice = []
            for choice in range(NUM_CHOICES):
                block = make_block(choice, cin, cout, 1, stride)  # widths are passed to macs() below
                per_choice.append(tuple(block.macs(scaled_width(base, s), size)[0] for s in range(len(SCALES))))
            blocks.append(tuple(per_choice))
            size = ((size[0] - 1) // stride + 1, (size[1] - 1) // stride + 1)
        head = ConvBN(lay.stage_channels[-1], lay.last_channels, 1)
        head_macs = head.macs(None, size)[0] + lay.last_channels * lay.num_classes
    return FlopsTable(hw, stem_macs, head_macs, tuple(blocks))


def device_description(device: torch.device | str | None = None) -> dict[str, Any]:
    """What the latency was measured on: device name, threads, torch version, platform."""
    device = torch.device(device or "cpu")
    name = platform.processor() or platform.machine()
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
    return {
        "type": device.type,
        "name": name,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


@dataclass
class LatencyTable:
    """Measured milliseconds of every part (same indexing as ``FlopsTable``; widths not measured are ``None``).

    Attributes:
        input_size, batch_size: the measured input.
        device: ``device_description()`` of where it was measured, plus ``engine`` and ``engine_version``
            (tables from before engines lack both: they were measured in eager PyTorch).
        stem, head: milliseconds of the stem and of the head (last conv, pool, classifier).
        blocks: ``blocks[i][choice][scale_id]`` in milliseconds.
    """

    input_size: tuple[int, int]
    batch_size: int
    device: dict[str, Any]
    stem: float
    head: float
    blocks: list[list[list[float | None]]]
    layout: dict[str, Any] = field(default_factory=dict)

    def latency_ms(self, arch: Arch | str) -> float:
        """Predicted milliseconds of one forward pass of ``arch``.

        Raises:
            ValueError: the table has no measurement for one of the arch's widths.
        """
        arch = Arch.coerce(arch)
        total = self.stem + self.head
        for i, (c, s) in enumerate(zip(arch.blocks, arch.scale_ids)):
            v = self.blocks[i][c][s]
            if v is None:
                raise InvalidOption(f"latency table has no entry for block {i} choice {c} width {SCALES[s]:.1f}; "
                                 "measure it with channel search")
            total += v
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "spos-latency/1",
            "input_size": list(self.input_size),
            "batch_size": self.batch_size,
            "device": self.device,
            "layout": self.layout,
            "stem": self.stem,
            "head": self.head,
            "blocks": self.blocks,
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the table as JSON, atomically."""
        path = Path(path)
        with atomic_open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "LatencyTable":
        """Read a table written by ``save``.

        Raises:
            ValueError: not a latency table.
        """
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            if d.get("format") != "spos-latency/1":
                raise KeyError("format")
            return cls(tuple(d["input_size"]), int(d["batch_size"]), d["device"], float(d["stem"]),
                       float(d["head"]), d["blocks"], d.get("layout", {}))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InvalidOption(f"{path}: not an SPOS latency table ({e})") from None


def _time_ms(fn: Callable[[], Any], repeats: int, warmup: int, sync: Callable[[], None]) -> float:
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


class _Head(nn.Module):
    def __init__(self, lay: Layout) -> None:
        super().__init__()
        self.head = ConvBN(lay.stage_channels[-1], lay.last_channels, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(lay.last_channels, lay.num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.head(x)).flatten(1))


@torch.no_grad()
def measure_latency_table(
    layout: Layout | None = None,
    *,
    input_size: int | tuple[int, int] = 224,
    batch_size: int = 1,
    device: str | torch.device | None = None,
    repeats: int = 20,
    warmup: int = 3,
    progress: bool = True,
    engine: str = "eager",
    **options: Any,
) -> LatencyTable:
    """Time every part of the supernet's search space on ``device`` (standalone eval-mode blocks, no grad).

    Widths are measured for all eight scales when ``layout.channel_search``, else at the default width only.
    ``engine``: ``"eager"`` (PyTorch), ``"onnxruntime"`` or ``"openvino"`` (CPU only: each part is exported to ONNX
    at its input shape, checked against eager, and timed through the engine with torch's thread count).

    Raises:
        ZooError: an unknown or missing engine, or an ONNX engine on another device.
    """
    from tqdm.auto import tqdm

    from .._engines import ONNX_ENGINES, engine_version
    from .._registry import ZooError, check_input, check_range

    check_range("repeats", repeats, 1, 100_000)
    check_range("warmup", warmup, 0, 100_000)
    side = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    check_input(batch_size, (3, *side))
    if engine != "eager" and engine not in ONNX_ENGINES:
        raise ZooError(f"unknown engine {engine!r}; choose from eager, {', '.join(ONNX_ENGINES)}")
    version = engine_version(engine)
    if version is None:
        raise ZooError(f"{engine} is not installed (pip install {engine})")
    lay = layout if layout is not None else Layout(**options)
    device = torch.device(device or "cpu")
    if engine != "eager" and device.type != "cpu":
        raise ZooError(f"{engine} runs on CPU, not {device.type}")
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    h, w = _hw(input_size)
    scales = list(range(len(SCALES))) if lay.channel_search else [4]
    specs = lay.blocks()
    bar = tqdm(total=len(specs) * NUM_CHOICES * len(scales) + 2, desc="latency table", disable=not progress)

    def timed(module: nn.Module, x: torch.Tensor) -> tuple[float, torch.Tensor]:
        module = module.to(device).eval()
        run = module if engine == "eager" else _through(engine, module, x)
        ms = _time_ms(lambda: run(x), repeats, warmup, sync)
        bar.update(1)
        return ms, module(x)

    x = torch.randn(batch_size, 3, h, w, device=device)
    stem_ms, x = timed(ConvBN(3, lay.stem_channels, 3, 2), x)
    blocks: list[list[list[float | None]]] = []
    for cin, cout, stride, base in specs:
        row: list[list[float | None]] = []
        out = None
        for choice in range(NUM_CHOICES):
            cells: list[float | None] = [None] * len(SCALES)
            for s in scales:
                cells[s], out = timed(make_block(choice, cin, cout, scaled_width(base, s), stride), x)
            row.append(cells)
        blocks.append(row)
        assert out is not None  # NUM_CHOICES blocks were timed
        x = out
    head_ms, _ = timed(_Head(lay), x)
    bar.close()
    described = {**device_description(device), "engine": engine, "engine_version": version}
    return LatencyTable((h, w), batch_size, described, stem_ms, head_ms, blocks, lay.to_dict())


def _through(engine: str, module: nn.Module, x: torch.Tensor) -> nn.Module:
    """``module`` exported at ``x``'s shape and loaded into ``engine`` with torch's thread count."""
    import tempfile

    from .._engines import EngineModule
    from .._export import export

    with tempfile.TemporaryDirectory(prefix="zoo-latency-") as tmp:
        path = export(module, Path(tmp) / "part.onnx", input_size=tuple(x.shape), dynamic_batch=False)
        return EngineModule(path, (engine,), threads=torch.get_num_threads())
