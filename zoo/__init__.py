"""Paper zoo: the seed papers' models (ResNet, ShuffleNet V1/V2, SPOS) with weights, cards and exact counts.

    import zoo
    zoo.list_models("shufflenet*")
    model = zoo.load("shufflenet_v2", weights="DEFAULT")
    zoo.info("shufflenet_v2").claims

``import zoo`` needs only torch.
"""
from ._atomic import atomic_open, atomic_write_bytes, atomic_write_text
from ._count import Counts, count
from ._engines import ENGINES, EngineModule, engine_version, load_engine
from ._export import ExportError, export
from ._factory import load
from ._optimize import optimize
from ._registry import (
    UNIT_SCALE,
    Claim,
    DataNotFound,
    InvalidOption,
    ModelCard,
    UnknownModelError,
    WeightsError,
    ZooError,
    info,
    list_models,
    register_model,
    resolve,
)
from ._weights import Preprocessing, Weights, cache_dir

# Model files: importing them registers their models. Other engineers add one import line each here.
from . import resnet as _resnet  # noqa: E402,F401  (registers resnet*)
from . import shufflenet_v1 as _shufflenet_v1  # noqa: E402,F401
from . import shufflenet_v2 as _shufflenet_v2  # noqa: E402,F401
from .spos import models as _spos  # noqa: E402,F401  (registers spos_supernet, spos_a, spos_ac)

from ._bench import BenchResult, EvalResult, benchmark, evaluate, format_results  # noqa: E402

__all__ = [
    "UNIT_SCALE",
    "Claim",
    "Counts",
    "DataNotFound",
    "InvalidOption",
    "ENGINES",
    "EngineModule",
    "ExportError",
    "ModelCard",
    "Preprocessing",
    "UnknownModelError",
    "Weights",
    "WeightsError",
    "ZooError",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "cache_dir",
    "count",
    "engine_version",
    "export",
    "load_engine",
    "info",
    "list_models",
    "load",
    "optimize",
    "register_model",
    "resolve",
    "BenchResult",
    "EvalResult",
    "benchmark",
    "evaluate",
    "format_results",
]
