"""Evolutionary architecture search over a trained supernet, under a FLOPs or a measured-latency budget.

As released (megvii-model/SinglePathOneShot): a population of 50; each iteration keeps the top 10 seen so far and
breeds 25 mutants (each gene redrawn with probability 0.1) and 25 crossovers, topping up with random candidates;
20 iterations. A candidate must be new and within the budget *before* it is scored, so violators cost nothing.
Scoring (``make_scorer``) recalibrates the path's BN statistics on a training subset, then measures top-1 accuracy
on a validation subset. The search state is saved after every iteration and a rerun resumes from it.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from .._atomic import atomic_open
from .._registry import ZooError
from .arch import Arch
from .subnet import recalibrate_bn
from .supernet import SuperNet
from .tables import FlopsTable, LatencyTable

__all__ = [
    "Candidate", "SearchConfig", "SearchError", "SearchResult", "calibration_batches", "evolution_search", "make_scorer",
    "pareto_front", "search_supernet",
]

_FORMAT = "spos-search/1"


class SearchError(ZooError, ValueError):
    """A search that cannot run: a budget nothing fits, a state file from another search, a bad table."""


@dataclass(frozen=True)
class SearchConfig:
    """Search hyper-parameters (defaults as released) and the budget.

    Attributes:
        max_macs: FLOPs budget in multiply-accumulates (e.g. ``330e6``).
        max_latency_ms: latency budget, predicted by the latency table.
    """

    population: int = 50
    top_k: int = 10
    mutations: int = 25
    mutation_prob: float = 0.1
    crossovers: int = 25
    iterations: int = 20
    max_macs: float | None = None
    max_latency_ms: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.population < 1 or self.top_k < 1 or self.iterations < 0 or self.mutations < 0 or self.crossovers < 0:
            raise SearchError("population and top-k must be >= 1; iterations, mutations, crossovers >= 0")
        if not 0.0 <= self.mutation_prob <= 1.0:
            raise SearchError(f"mutation probability must be in [0, 1], got {self.mutation_prob}")


@dataclass(frozen=True)
class Candidate:
    """A scored architecture with its costs."""

    arch: Arch
    macs: int
    latency_ms: float | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"arch": str(self.arch), "macs": self.macs, "latency_ms": self.latency_ms, "score": self.score}


@dataclass
class SearchResult:
    """``top``: the best ``top_k`` candidates, best first; ``pareto``: the non-dominated (cost, score) front,
    cheapest first; ``evaluated`` / ``rejected``: how many candidates were scored / refused by the budget."""

    top: list[Candidate]
    pareto: list[Candidate]
    evaluated: int
    rejected: int
    iterations: int
    history: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "top": [c.to_dict() for c in self.top],
            "pareto": [c.to_dict() for c in self.pareto],
            "evaluated": self.evaluated,
            "rejected": self.rejected,
            "iterations": self.iterations,
            "history": self.history,
        }


def pareto_front(cands: Iterable[Candidate], *, latency: bool = False) -> list[Candidate]:
    """Candidates no other one beats on both cost (MACs, or latency) and score; sorted by cost."""
    cost = (lambda c: c.latency_ms) if latency else (lambda c: c.macs)
    front, best = [], float("-inf")
    for c in sorted(cands, key=lambda c: (cost(c), -c.score)):
        if c.score > best:
            front.append(c)
            best = c.score
    return front


def make_scorer(
    supernet: SuperNet, calib: Iterable[Any], val: Iterable[Any], *, device: torch.device | str | None = None
) -> Callable[[Arch], float]:
    """Score = top-1 accuracy (%) on ``val`` after recalibrating the path's BN on ``calib``.

    ``calib`` and ``val`` are re-iterable collections of ``(images, labels)`` batches (lists or DataLoaders).
    """
    device = torch.device(device) if device is not None else next(supernet.parameters()).device

    @torch.no_grad()
    def score(arch: Arch) -> float:
        recalibrate_bn(supernet, calib, arch=arch)
        correct = total = 0
        for x, y in val:
            pred = supernet(x.to(device), arch).argmax(1).cpu()
            correct += int((pred == y).sum())
            total += len(y)
        return 100.0 * correct / max(total, 1)

    return score


def _json_state(rng: random.Random) -> list[Any]:
    v, state, gauss = rng.getstate()
    return [v, list(state), gauss]


def _save_json(obj: Any, path: Path) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def evolution_search(
    score_fn: Callable[[Arch], float],
    flops: FlopsTable,
    config: SearchConfig = SearchConfig(),
    *,
    channel_search: bool = False,
    latency: LatencyTable | None = None,
    state_path: str | os.PathLike | None = None,
    progress: bool = True,
    on_iteration: Callable[[int, list[Candidate]], None] | None = None,
) -> SearchResult:
    """Run (or resume) the evolutionary search.

    Args:
        score_fn: higher is better; called once per distinct in-budget candidate (see ``make_scorer``).
        flops: MACs per path (the FLOPs budget, and the reported cost).
        config: population sizes and the budget.
        channel_search: search widths too (the supernet must have been trained with channel search).
        latency: the table that predicts latency; required by ``config.max_latency_ms``.
        state_path: JSON file saved after each iteration; resumed from when it exists.
        on_iteration: called after each saved iteration with ``(iteration, current top-k)``.

    Raises:
        SearchError: a latency budget without a table, a state file of another search, or a budget that no
            random candidate meets.
    """
    from tqdm.auto import tqdm

    if config.max_latency_ms is not None and latency is None:
        raise SearchError("a latency budget needs a latency table (zoo supernet latency-table)")
    rng = random.Random(config.seed)
    seen: dict[str, dict[str, Any]] = {}
    population: list[str] = []
    iteration = 0
    history: list[float] = []
    path = Path(state_path) if state_path is not None else None
    key = {**dataclasses.asdict(config), "channel_search": channel_search}
    if path is not None and path.exists():
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            ok = state.get("format") == _FORMAT
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise SearchError(f"{path} is not an SPOS search state; remove it or choose another --state")
        if {k: v for k, v in state["config"].items() if k != "iterations"} != {
                k: v for k, v in key.items() if k != "iterations"}:
            raise SearchError(f"{path} belongs to a search with other settings; remove it or choose another --state")
        seen, population, iteration, history = state["seen"], state["population"], state["iteration"], state["history"]
        v, s, g = state["rng"]
        rng.setstate((v, tuple(s), g))

    def cand(name: str) -> Candidate:
        e = seen[name]
        return Candidate(Arch.parse(name), e["macs"], e["latency_ms"], e["score"])

    def top(k: int) -> list[Candidate]:
        scored = [cand(n) for n, e in seen.items() if e["score"] is not None]
        return sorted(scored, key=lambda c: (-c.score, c.macs, str(c.arch)))[:k]

    def consider(arch: Arch) -> bool:
        """Score ``arch`` if it is new and within budget; True when it joins the population."""
        name = str(arch)
        if name in seen:
            return False
        macs = flops.macs(arch)
        lat = latency.latency_ms(arch) if latency is not None else None
        legal = (config.max_macs is None or macs <= config.max_macs) and (
            config.max_latency_ms is None or (lat is not None and lat <= config.max_latency_ms))
        seen[name] = {"macs": macs, "latency_ms": lat, "score": float(score_fn(arch)) if legal else None}
        if legal:
            population.append(name)
        return legal

    def fill_random(target: int) -> None:
        tries = 0
        while len(population) < target and tries < 100 * config.population:
            consider(Arch.random(rng, channel_search=channel_search))
            tries += 1
        if not any(e["score"] is not None for e in seen.values()):
            raise SearchError("no random architecture meets the budget "
                              f"(max MACs {config.max_macs}, max latency {config.max_latency_ms} ms); relax it")

    def save() -> None:
        if path is not None:
            _save_json({"format": _FORMAT, "config": key, "iteration": iteration, "population": population,
                        "seen": seen, "history": history, "rng": _json_state(rng)}, path)

    bar = tqdm(total=config.iterations, initial=min(iteration, config.iterations), desc="search", unit="it",
               disable=not progress)
    if iteration == 0 and not population:
        fill_random(config.population)
        save()
    while iteration < config.iterations:
        parents = [c.arch for c in top(config.top_k)]
        population = []
        for _ in range(10 * config.mutations):
            if len(population) >= config.mutations:
                break
            consider(rng.choice(parents).mutate(rng, config.mutation_prob, channel_search=channel_search))
        n_mut = len(population)
        for _ in range(10 * config.crossovers):
            if len(population) >= n_mut + config.crossovers:
                break
            a, b = rng.choice(parents), rng.choice(parents)
            consider(a.crossover(b, rng, channel_search=channel_search))
        fill_random(config.population)
        iteration += 1
        best = top(config.top_k)
        history.append(best[0].score)
        save()
        bar.update(1)
        bar.set_postfix(best=f"{best[0].score:.2f}", evaluated=sum(e["score"] is not None for e in seen.values()),
                        refresh=False)
        if on_iteration is not None:
            on_iteration(iteration, best)
    bar.close()
    scored = [cand(n) for n, e in seen.items() if e["score"] is not None]
    return SearchResult(
        top=top(config.top_k),
        pareto=pareto_front(scored, latency=latency is not None and config.max_latency_ms is not None),
        evaluated=len(scored),
        rejected=sum(e["score"] is None for e in seen.values()),
        iterations=iteration,
        history=history,
    )


def _batches(ds: Any, indices: list[int], batch_size: int, workers: int) -> Any:
    """A re-iterable loader of fixed batches; augmenting datasets get one fixed seed per image."""
    from torch.utils.data import DataLoader

    from .train import _Keyed

    chunks = [[(i, i) for i in indices[k : k + batch_size]] for k in range(0, len(indices), batch_size)]
    return DataLoader(_Keyed(ds), batch_sampler=chunks, num_workers=workers)


def calibration_batches(ds: Any, count: int, batch_size: int, *, seed: int = 0, workers: int = 0) -> Any:
    """``count`` fixed batches of ``ds`` (the same images, and augmentations, on every pass): what
    :func:`recalibrate_bn` takes to reset a path's BN statistics before it is scored or extracted."""
    from .data import split_indices

    return _batches(ds, split_indices(len(ds), count * batch_size, seed), batch_size, workers)


def search_supernet(
    supernet: str | os.PathLike | SuperNet,
    data: Any = "tiny",
    config: SearchConfig = SearchConfig(),
    *,
    input_size: int | None = None,
    batch_size: int = 64,
    calib_batches: int = 20,
    val_batches: int = 10,
    latency_table: str | os.PathLike | LatencyTable | None = None,
    state_path: str | os.PathLike | None = None,
    device: str | None = None,
    workers: int = 0,
    progress: bool = True,
    on_iteration: Callable[[int, list[Candidate]], None] | None = None,
) -> SearchResult:
    """Search a trained supernet on a dataset: the whole pipeline behind ``zoo supernet search``.

    Args:
        supernet: checkpoint path or ``SuperNet``.
        data: as in training (``"tiny"``, an ImageFolder directory with ``train/`` and ``val/``, or a Dataset);
            BN is recalibrated on a fixed training subset, scores come from a fixed validation subset.
        input_size: image side (default: the checkpoint's training size, else 224).
        calib_batches, val_batches, batch_size: subset sizes.
        latency_table: a ``LatencyTable`` or its JSON file, reported for every candidate and needed by a
            latency budget.
    """
    from .checkpoint import load_supernet, read_checkpoint
    from .data import open_dataset
    from .tables import flops_table

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    pixels = "imagenet"
    if isinstance(supernet, SuperNet):
        net = supernet.to(dev)
    else:
        ckpt = read_checkpoint(supernet)
        net = load_supernet(ckpt, dev)
        input_size = input_size or int(ckpt.get("config", {}).get("input_size", 224))
        pixels = ckpt.get("pixels", pixels)  # megvii's released supernet: BGR 0-255 through their pipeline
    input_size = input_size or 224
    table = latency_table
    if table is not None and not isinstance(table, LatencyTable):
        table = LatencyTable.load(table)
    if table is not None and (tuple(table.input_size) != (input_size, input_size) or len(table.blocks) != len(net.blocks)):
        raise SearchError(f"latency table was measured at {tuple(table.input_size)}, the search runs at {input_size}")
    train_ds = open_dataset(data, size=input_size, train=True, seed=0, pixels=pixels)
    val_ds = open_dataset(data, size=input_size, train=False, seed=0, pixels=pixels)
    calib = calibration_batches(train_ds, calib_batches, batch_size, seed=config.seed, workers=workers)
    val = calibration_batches(val_ds, val_batches, batch_size, seed=config.seed + 1, workers=workers)
    return evolution_search(
        make_scorer(net, calib, val, device=dev), flops_table(net.layout, input_size), config,
        channel_search=net.layout.channel_search, latency=table, state_path=state_path, progress=progress,
        on_iteration=on_iteration,
    )
