"""The model registry: one decorator, canonical names, aliases, model cards.

Model files register thin entry points::

    @register_model(family="resnet", papers=("1512.03385",), params=25_557_032, macs=4_089_184_256,
                    weights=(_W50_V1, _W50_V2), aliases=("resnet",))
    def resnet50(**kwargs) -> nn.Module:
        return _resnet(Bottleneck, (3, 4, 6, 3), **kwargs)

The registered function is a builder: it takes keyword-only options (``num_classes`` included) and returns a freshly
initialised model. ``params`` and ``macs`` are the *declared* figures of the card (MACs at 1x3x224x224); a
convention test counts every registered model and checks them.
"""
from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ._errors import DataNotFound, InvalidOption, UnknownModelError, WeightsError, ZooError

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from ._weights import Weights

__all__ = [
    "UNIT_SCALE",
    "Claim",
    "DataNotFound",
    "InvalidOption",
    "ModelCard",
    "UnknownModelError",
    "WeightsError",
    "ZooError",
    "get_entry",
    "info",
    "list_models",
    "register_model",
    "resolve",
    "split_tag",
]


#: Bounds on the sizes a caller may ask for (the memory of a run follows them): an image side in pixels, a batch,
#: and the bytes of one fp32 input batch.
MAX_SIDE = 4096
MAX_BATCH = 4096
MAX_INPUT_BYTES = 2 << 30


def check_range(what: str, value: Any, lo: float, hi: float) -> None:
    """The zoo's one check of a number it was given: InvalidOption (one line) unless ``value`` is a finite number
    in ``[lo, hi]`` (NaN passes no comparison, so it is refused explicitly)."""
    import math

    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not (ok and lo <= value <= hi):
        raise InvalidOption(f"{what} must be between {lo:g} and {hi:g}, not {value!r}")


def check_input(batch: int, shape: Iterable[int]) -> None:
    """InvalidOption unless a batch of ``shape`` (C, H, W) images is within the bounds above."""
    c, h, w = shape
    check_range("batch size", batch, 1, MAX_BATCH)
    check_range("image channels", c, 1, 64)
    check_range("image height", h, 1, MAX_SIDE)
    check_range("image width", w, 1, MAX_SIDE)
    need = 4 * batch * c * h * w
    if need > MAX_INPUT_BYTES:
        raise InvalidOption(f"a batch of {batch} images of {c}x{h}x{w} needs {need / 2**30:.1f} GiB for its input "
                            f"alone (the bound is {MAX_INPUT_BYTES / 2**30:g} GiB): use a smaller batch or size")


#: What a claim's ``unit`` multiplies its value by: counts in base units, accuracies stay in %.
UNIT_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "%": 1.0}


@dataclass(frozen=True)
class Claim:
    """A figure a paper (or a release page) claims for a model.

    Attributes:
        metric: ``"top1"``, ``"top5"``, ``"top1_err"``, ``"macs"`` (multiply-adds, what the papers call FLOPs),
            ``"params"``.
        value: the number as published, in ``unit``.
        unit: ``"%"``, ``"M"`` (millions), ``"G"`` (billions) or ``""``.
        source: where it is published, e.g. ``"Table 5"`` or ``"megvii README"``.
        paper: the arXiv id the claim comes from (``None``: a release page).
    """

    metric: str
    value: float
    unit: str = ""
    source: str = ""
    paper: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def number(self) -> float:
        """The value in base units: MACs and params as plain counts, accuracies in %."""
        return float(self.value) * UNIT_SCALE.get(self.unit, 1.0)


@dataclass(frozen=True)
class ModelCard:
    """What the zoo knows about one model. ``params``/``macs`` are declared, and checked by a convention test."""

    name: str
    family: str
    aliases: tuple[str, ...] = ()
    papers: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()
    weights: tuple["Weights", ...] = ()
    params: int | None = None
    macs: int | None = None
    input_size: tuple[int, int, int, int] = (1, 3, 224, 224)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (weights as their metadata dicts)."""
        return {
            "name": self.name,
            "family": self.family,
            "aliases": list(self.aliases),
            "papers": list(self.papers),
            "claims": [c.to_dict() for c in self.claims],
            "weights": [w.to_dict() for w in self.weights],
            "params": self.params,
            "macs": self.macs,
            "input_size": list(self.input_size),
            "description": self.description,
        }


@dataclass(frozen=True)
class _Entry:
    card: ModelCard
    builder: Callable[..., "nn.Module"]
    classifier: str = "fc"
    module: str = ""


_MODELS: dict[str, _Entry] = {}
_ALIASES: dict[str, str] = {}


def register_model(
    fn: Callable[..., "nn.Module"] | None = None,
    *,
    name: str | None = None,
    family: str = "",
    aliases: Iterable[str] = (),
    papers: Iterable[str] = (),
    claims: Iterable[Claim] = (),
    weights: Iterable["Weights"] = (),
    params: int | None = None,
    macs: int | None = None,
    classifier: str = "fc",
    input_size: tuple[int, int, int, int] = (1, 3, 224, 224),
    description: str | None = None,
) -> Any:
    """Register a model builder under its function name (or ``name``). Usable bare or with arguments.

    Args:
        fn: the builder (when used bare, ``@register_model``).
        name: the canonical name; defaults to the function's name. Must not contain a dot (``arch.tag`` syntax).
        family: e.g. ``"resnet"``, ``"shufflenet_v2"``, ``"spos"``.
        aliases: other names that resolve to this one.
        papers: arXiv ids the model implements.
        claims: the papers' (or release pages') published figures.
        weights: ``Weights`` entries; the first one is ``"DEFAULT"``.
        params: declared parameter count (checked by the convention test).
        macs: declared multiply-accumulates at ``input_size`` (conv + linear, checked by the convention test).
        classifier: attribute path of the final ``nn.Linear``; its keys are dropped when ``num_classes`` differs
            from the weights' and it is re-initialised.
        input_size: the input size the declared MACs refer to.
        description: one line; defaults to the first line of the builder's docstring.

    Raises:
        ZooError: the name or an alias is already registered, or is malformed.
    """

    def decorate(f: Callable[..., "nn.Module"]) -> Callable[..., "nn.Module"]:
        model_name = name or f.__name__
        alias_names = tuple(aliases)
        for n in (model_name, *alias_names):
            if not n or "." in n or n != n.strip():
                raise ZooError(f"invalid model name {n!r}: no dots or spaces (dots separate weight tags)")
            if n in _MODELS or n in _ALIASES:
                raise ZooError(f"model name {n!r} is already registered")
        if len(set(alias_names)) != len(alias_names) or model_name in alias_names:
            raise ZooError(f"duplicate alias in {alias_names!r}")
        doc = (f.__doc__ or "").strip().splitlines()
        card = ModelCard(
            name=model_name,
            family=family,
            aliases=alias_names,
            papers=tuple(papers),
            claims=tuple(claims),
            weights=tuple(weights),
            params=params,
            macs=macs,
            input_size=tuple(input_size),  # type: ignore[arg-type]
            description=description if description is not None else (doc[0] if doc else ""),
        )
        tags = [w.tag for w in card.weights]
        if len(set(tags)) != len(tags) or "DEFAULT" in tags:
            raise ZooError(f"{model_name}: weight tags must be unique and not 'DEFAULT': {tags}")
        _MODELS[model_name] = _Entry(card=card, builder=f, classifier=classifier, module=f.__module__)
        for a in alias_names:
            _ALIASES[a] = model_name
        return f

    if fn is not None:
        return decorate(fn)
    return decorate


def split_tag(name: str) -> tuple[str, str | None]:
    """``"resnet50.IMAGENET1K_V2"`` -> ``("resnet50", "IMAGENET1K_V2")``; no dot -> ``(name, None)``."""
    base, dot, tag = name.partition(".")
    return base, (tag if dot else None)


def _all_names() -> list[str]:
    return sorted([*_MODELS, *_ALIASES])


def resolve(name: str) -> str:
    """The canonical name of a model name or alias (a ``.tag`` suffix is ignored).

    Raises:
        UnknownModelError: not registered; the message lists close matches.
    """
    if not isinstance(name, str):
        raise UnknownModelError(f"model name must be a string, not {type(name).__name__}")
    base, _ = split_tag(name.strip())
    if base in _MODELS:
        return base
    if base in _ALIASES:
        return _ALIASES[base]
    close = difflib.get_close_matches(base, _all_names(), n=5, cutoff=0.6)
    if not close:
        close = [n for n in _all_names() if base and (base in n or n in base)][:5]
    hint = f"; did you mean {', '.join(close)}?" if close else "; see zoo.list_models()"
    raise UnknownModelError(f"unknown model {base!r}{hint}")


def get_entry(name: str) -> _Entry:
    """The registry entry of a name or alias (private to the package)."""
    return _MODELS[resolve(name)]


def list_models(pattern: str | Iterable[str] | None = None, pretrained: bool = False) -> list[str]:
    """Canonical model names, sorted.

    Args:
        pattern: a shell-style pattern (``"shufflenet_v2*"``) or several; matched against canonical names and
            aliases (an alias match lists its canonical name).
        pretrained: only models that have at least one weights entry.
    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern or [])
    names = set()
    for n, e in _MODELS.items():
        if pretrained and not e.card.weights:
            continue
        candidates = (n, *e.card.aliases)
        if not patterns or any(fnmatch.fnmatchcase(c, p) for p in patterns for c in candidates):
            names.add(n)
    return sorted(names)


def info(name: str) -> ModelCard:
    """The model card of a model name or alias."""
    return get_entry(name).card

