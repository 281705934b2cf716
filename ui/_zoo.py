"""Zoo data shaped for the pages: card tables, claimed-vs-measured figures, weights status, plot points.

Everything here reads the zoo's public API (model cards, ``Weights``) and the log's stored results; no tensors.
"""
from __future__ import annotations

from typing import Any, Iterable

#: Stored-result metric names read as accuracy (top-1, %) and as latency (milliseconds).
ACCURACY = ("top1",)
LATENCY = ("latency_ms", "latency")
_SCALE = {"": 1.0, "M": 1e6, "G": 1e9, "K": 1e3, "%": 1.0}


def claim_number(claim: Any) -> float:
    """A claim's value in base units (MACs and params as plain counts, accuracies in %)."""
    return float(claim.value) * _SCALE.get(claim.unit, 1.0)


def _claims(card: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for claim in card.claims:
        out.setdefault(claim.metric, claim)
    if "top1" not in out and "top1_err" in out:
        err = out["top1_err"]
        out["top1"] = type(err)("top1", 100.0 - float(err.value), "%", err.source, err.paper)
    return out


def latest(results: Iterable[dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, Any] | None:
    """The most recent stored result with one of ``metrics``; for latency, a batch-1 fp32 one when there is one."""
    found = [r for r in results if r["metric"] in metrics]
    if metrics == LATENCY:
        single = [r for r in found if (r.get("env") or {}).get("batch", 1) == 1
                  and (r.get("env") or {}).get("dtype", "fp32") == "fp32"]
        found = single or found
    return max(found, key=lambda r: r.get("measured_at") or "") if found else None


def is_cached(weights: Any) -> bool:
    return weights.cache_path().is_file()


def card_rows(cards: list[Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model for the zoo table."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_model.setdefault(r["model"], []).append(r)
    rows = []
    for card in cards:
        claims = _claims(card)
        mine = by_model.get(card.name, [])
        acc, lat = latest(mine, ACCURACY), latest(mine, LATENCY)
        rows.append({
            "model": card.name,
            "family": card.family,
            "papers": ", ".join(card.papers),
            "params (M)": round(card.params / 1e6, 2) if card.params else None,
            "MACs (G)": round(card.macs / 1e9, 3) if card.macs else None,
            "top-1 claimed": claims["top1"].value if "top1" in claims else None,
            "top-1 measured": round(acc["value"], 2) if acc else None,
            "latency (ms)": round(lat["value"], 2) if lat else None,
            "weights": len(card.weights),
            "cached": sum(is_cached(w) for w in card.weights),
        })
    return rows


def claimed_vs_measured(model: str, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows ``metric / claimed / source / counted or measured`` for one model."""
    import zoo

    card = zoo.info(model)
    claims = _claims(card)
    counted = {"params": card.params, "macs": card.macs}
    rows = []
    for metric in sorted(set(claims) | {r["metric"] for r in results} | {k for k, v in counted.items() if v}):
        claim = claims.get(metric)
        measured = latest(results, (metric,))
        value = measured["value"] if measured else counted.get(metric)
        rows.append({
            "metric": metric,
            "claimed": f"{claim.value:g}{claim.unit}" if claim else None,
            "source": claim.source if claim else None,
            "ours": None if value is None else (f"{value / 1e6:.2f}M" if metric in ("params", "macs") else
                                                f"{value:.3f}"),
            "how": "measured" if measured else ("counted" if metric in counted and value is not None else None),
        })
    return rows


def weights_rows(card: Any) -> list[dict[str, Any]]:
    """One row per weights entry: where it comes from, whether it is cached, and where the file goes."""
    rows = []
    for w in card.weights:
        rows.append({
            "tag": w.tag,
            "source": w.source,
            "top-1": w.metrics.get("top1"),
            "cached": is_cached(w),
            "path": str(w.cache_path()),
            "download": w.url or w.page or "",
            "licence": w.licence,
        })
    return rows


def plot_points(cards: list[Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points for the Pareto plots: per model, claimed and measured top-1 and latency against MACs."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_model.setdefault(r["model"], []).append(r)
    points = []
    for card in cards:
        claims = _claims(card)
        macs = card.macs or (claim_number(claims["macs"]) if "macs" in claims else None)
        if not macs:
            continue
        if "top1" in claims:
            points.append({"model": card.name, "family": card.family, "MACs (G)": macs / 1e9, "metric": "top-1 (%)",
                           "value": float(claims["top1"].value), "kind": "claimed"})
        mine = by_model.get(card.name, [])
        acc, lat = latest(mine, ACCURACY), latest(mine, LATENCY)
        if acc:
            points.append({"model": card.name, "family": card.family, "MACs (G)": macs / 1e9, "metric": "top-1 (%)",
                           "value": float(acc["value"]), "kind": "measured"})
        if lat:
            points.append({"model": card.name, "family": card.family, "MACs (G)": macs / 1e9,
                           "metric": "latency (ms)", "value": float(lat["value"]), "kind": "measured"})
    return points


def pareto(points: list[dict[str, Any]], higher_is_better: bool) -> list[dict[str, Any]]:
    """The points no other point beats on both MACs (lower) and value; cheapest first."""
    front, best = [], None
    for p in sorted(points, key=lambda p: (p["MACs (G)"], -p["value"] if higher_is_better else p["value"])):
        if best is None or (p["value"] > best if higher_is_better else p["value"] < best):
            front.append(p)
            best = p["value"]
    return front
