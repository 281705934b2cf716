"""Claimed vs measured: a model card's published figures beside the results stored in the log.

One rule for which stored result counts (:func:`latest`) and one comparison (:func:`compare`), used by
``zoo compare``, the Zoo page and the paper page alike. Counts are scaled with ``zoo.UNIT_SCALE`` (the zoo's one unit
table, also behind ``zoo.Claim.number``). ``zoo`` is imported inside the functions, so importing this module
stays light.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Stored-result metric names read as accuracy (top-1, %) and as latency (milliseconds).
ACCURACY = ("top1",)
LATENCY = ("latency_ms", "latency")
COUNTS = ("params", "macs")
#: The input the cards' counts (and the papers' MACs) refer to.
REFERENCE_INPUT = [3, 224, 224]

_ANY = object()


def latest(results: Iterable[Mapping[str, Any]], metrics: str | tuple[str, ...], *, model: str | None = None,
           weights: Any = _ANY) -> Mapping[str, Any] | None:
    """The stored result that stands for ``metrics`` (one name or several), or ``None``.

    The rule: the most recent (``measured_at``; on a tie the later row) among the results of ``model`` (when given)
    and ``weights`` (when given; ``None`` is a valid tag); MACs only at the papers' 224x224 input;
    latencies at batch 1 in fp32 when there is such a result (other configurations only when there is none).
    """
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    found = []
    for r in results:
        if r.get("metric") not in names or (model is not None and r.get("model") != model):
            continue
        if weights is not _ANY and r.get("weights") != weights:
            continue
        env = r.get("env") or {}
        if r["metric"] == "macs" and env.get("input_size") not in (None, REFERENCE_INPUT):
            continue
        found.append(r)
    if any(m in LATENCY for m in names):
        reference = [r for r in found if (r.get("env") or {}).get("batch", 1) == 1
                     and (r.get("env") or {}).get("dtype", "fp32") == "fp32"]
        found = reference or found
    best = None
    for r in found:
        if best is None or str(r.get("measured_at") or "") >= str(best.get("measured_at") or ""):
            best = r
    return best


def headline_claims(card: Any) -> dict[str, Any]:
    """The one claim that stands for each metric of a model card (its first claim of the metric), for tables and
    plots; top-1 is derived from the top-1 error when only that is claimed. :func:`compare` lists every claim."""
    out: dict[str, Any] = {}
    for claim in card.claims:
        out.setdefault(claim.metric, claim)
    if "top1" not in out and "top1_err" in out:
        err = out["top1_err"]
        out["top1"] = dataclasses.replace(err, metric="top1", value=100.0 - float(err.value), unit="%")
    return out


@dataclass(frozen=True)
class Comparison:
    """One claimed figure beside the measured one.

    Attributes:
        metric: ``top1``, ``top5``, ``top1_err``, ``top5_err``, ``macs``, ``params`` (or, with ``unclaimed``,
            any measured metric).
        claimed: the published number, in ``unit`` (``None``: measured, never claimed).
        unit: ``"%"``, ``"M"``, ``"G"`` or ``""``.
        source: where it is published (``"arXiv:1512.03385 Table 3"``, ``"weights IMAGENET1K_V1 (torchvision)"``).
        weights: the weights tag a measured accuracy belongs to (``None`` for counts or when nothing is measured).
        measured: the measured number in ``unit`` (``None``: nothing measured yet).
        origin: ``"measured"`` (a stored result, :func:`latest` picks it), ``"counted"`` (the card's verified count)
            or ``""``.
        measured_at: when the stored result was measured.
    """

    metric: str
    claimed: float | None
    unit: str
    source: str
    weights: str | None = None
    measured: float | None = None
    origin: str = ""
    measured_at: str | None = None

    @property
    def difference(self) -> float | None:
        """``measured - claimed`` (in ``unit``)."""
        return None if self.measured is None or self.claimed is None else self.measured - self.claimed

    @property
    def measured_number(self) -> float | None:
        """``measured`` in base units (MACs and params as plain counts, accuracies in %)."""
        if self.measured is None:
            return None
        import zoo

        return self.measured * zoo.UNIT_SCALE.get(self.unit, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "difference": self.difference}


def compare(name: str, results: Iterable[Mapping[str, Any]] = (), *, unclaimed: bool = False) -> list[Comparison]:
    """Every figure the card claims (paper claims, then each weights entry's published metrics) beside measured ones.

    Args:
        name: a model name or alias.
        results: stored results as dicts with ``model``, ``weights``, ``metric``, ``value``, ``env``,
            ``measured_at`` (what ``reading.Log.results(model)`` returns). Accuracies are in %, counts absolute.
        unclaimed: also one row per measured metric no claim covers (latency, throughput ...), ``claimed=None``.

    Returns:
        One row per claim and measured weights (a claim nothing has measured yet gets one row with ``measured=None``;
        params / MACs fall back to the card's counted figures).
    """
    import zoo

    card = zoo.info(name)
    mine = [r for r in results if r.get("model") == card.name]
    claims: list[tuple[str, float, str, str, str | None]] = [
        (c.metric, c.value, c.unit, f"{'arXiv:' + c.paper + ' ' if c.paper else ''}{c.source}".strip(), None)
        for c in card.claims]
    for w in card.weights:
        claims += [(m, v, "%" if m.startswith("top") else "", f"weights {w.tag} ({w.source})", w.tag)
                   for m, v in w.metrics.items()]
    rows: list[Comparison] = []
    for metric, value, unit, source, tag in claims:
        base = metric.removesuffix("_err")
        scale = zoo.UNIT_SCALE.get(unit, 1.0) if base in COUNTS else 1.0
        if base in COUNTS:
            picked = [latest(mine, base)]
        elif tag is not None:
            picked = [latest(mine, base, weights=tag)]
        else:
            tags = dict.fromkeys(r.get("weights") for r in mine if r.get("metric") == base)
            picked = [latest(mine, base, weights=t) for t in tags]
        found = [r for r in picked if r is not None]
        if found:
            for r in found:
                v = float(r["value"])
                v = 100.0 - v if metric.endswith("_err") else v
                rows.append(Comparison(metric, value, unit, source, r.get("weights") if base not in COUNTS else None,
                                       v / scale, "measured", r.get("measured_at")))
        elif base in COUNTS and getattr(card, base) is not None:
            rows.append(Comparison(metric, value, unit, source, None, getattr(card, base) / scale, "counted"))
        else:
            rows.append(Comparison(metric, value, unit, source, tag))
    if unclaimed:
        covered = {c.metric.removesuffix("_err") for c in rows}
        for metric in sorted({str(r["metric"]) for r in mine} - covered):
            last = latest(mine, metric)
            if last is not None:
                rows.append(Comparison(metric, None, "", "", last.get("weights"), float(last["value"]), "measured",
                                       last.get("measured_at")))
        for metric in COUNTS:
            if metric not in covered and metric not in {c.metric for c in rows} and getattr(card, metric):
                rows.append(Comparison(metric, None, "", "", None, float(getattr(card, metric)), "counted"))
    return rows
