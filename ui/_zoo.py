"""Zoo data shaped for the pages: card tables, claimed-vs-measured figures, weights status, plot points.

Everything here reads the zoo's public API (model cards, ``Weights``) and the log's stored results through the
application layer's one rule (``paperzoo.latest``, ``paperzoo.compare``); no tensors.
"""
from __future__ import annotations

from typing import Any

import paperzoo
from paperzoo import ACCURACY, LATENCY


def is_cached(weights: Any) -> bool:
    return weights.cache_path().is_file()


def card_rows(cards: list[Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model for the zoo table."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_model.setdefault(r["model"], []).append(r)
    rows = []
    for card in cards:
        claims = paperzoo.headline_claims(card)
        mine = by_model.get(card.name, [])
        acc, lat = paperzoo.latest(mine, ACCURACY), paperzoo.latest(mine, LATENCY)
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
    """Rows ``metric / claimed / source / ours / how`` for one model: ``paperzoo.compare`` (measured metrics no
    claim covers included), shaped for a paper's page."""
    rows = []
    for c in paperzoo.compare(model, results, unclaimed=True):
        value = c.measured_number
        if value is None:
            ours = None
        elif c.metric in paperzoo.COUNTS:
            ours = f"{value / 1e6:.2f}M"
        else:
            ours = f"{value:.3f}"
        rows.append({
            "metric": c.metric,
            "claimed": None if c.claimed is None else f"{c.claimed:g}{c.unit}",
            "source": c.source or None,
            "ours": ours,
            "how": c.origin or None,
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
        claims = paperzoo.headline_claims(card)
        macs = card.macs or (claims["macs"].number if "macs" in claims else None)
        if not macs:
            continue
        if "top1" in claims:
            points.append({"model": card.name, "family": card.family, "MACs (G)": macs / 1e9, "metric": "top-1 (%)",
                           "value": float(claims["top1"].value), "kind": "claimed"})
        mine = by_model.get(card.name, [])
        acc, lat = paperzoo.latest(mine, ACCURACY), paperzoo.latest(mine, LATENCY)
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
