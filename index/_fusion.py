"""Fusing a dense and a keyword ranking: reciprocal-rank fusion and a weighted blend of normalised scores.

Both are measured on CSFCube by bench/search_quality.py (tuned on one fold, reported on the other); `DEFAULT`
holds the winner and its parameter, which `index.search` and `index.related` use in hybrid mode.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence

Ranking = Sequence[tuple[int, float]]  # (paper id, score), best first

#: RRF's rank offset; 60 is the value of Cormack et al. (2009).
RRF_K = 60
#: Weight of the dense scores in the blend (1 - this for keyword), tuned on CSFCube's dev folds.
BLEND_ALPHA = 0.8
#: The fusion hybrid search uses: ("rrf", RRF_K) or ("blend", BLEND_ALPHA).
DEFAULT: tuple[str, float] = ("blend", BLEND_ALPHA)


def rrf(dense: Ranking, keyword: Ranking, k: float = RRF_K, *, unknown: Collection[int] = ()
        ) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: score = sum over rankings of 1 / (k + rank). An `unknown` id (no dense score yet)
    counts its keyword term twice: as if dense ranked it where keyword does."""
    scores: dict[int, float] = {}
    for ranking in (dense, keyword):
        for rank, (pid, _) in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (k + rank)
    for pid in set(unknown) & set(scores):
        scores[pid] *= 2
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _scaled(ranking: Ranking) -> dict[int, float]:
    """Scores divided by the best one (negatives clipped to 0): independent of how deep the ranking was cut."""
    if not ranking:
        return {}
    best = max(s for _, s in ranking)
    return {pid: (max(s, 0.0) / best if best > 0 else 0.0) for pid, s in ranking}


def blend(dense: Ranking, keyword: Ranking, alpha: float = BLEND_ALPHA, *, unknown: Collection[int] = ()
          ) -> list[tuple[int, float]]:
    """Weighted blend: alpha * dense + (1 - alpha) * keyword, each divided by its best score.

    Scaling by the best score (not min-max) makes the top of the fused list the same whether 100 or all
    candidates were taken. A paper missing from one ranking scores 0 there, except an `unknown` one (not embedded
    yet: its dense score is unknown, not low), which scores its keyword score alone: the exact match that tops
    the keyword ranking still comes first.
    """
    d, kw = _scaled(dense), _scaled(keyword)
    unknown = set(unknown)
    scores = {pid: kw.get(pid, 0.0) if pid in unknown and pid not in d
              else alpha * d.get(pid, 0.0) + (1 - alpha) * kw.get(pid, 0.0) for pid in {*d, *kw}}
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def fuse(dense: Ranking, keyword: Ranking, method: tuple[str, float] | None = None, *,
         unknown: Collection[int] = ()) -> list[tuple[int, float]]:
    """Fuse with `method` (default `DEFAULT`); `unknown`: ids whose dense score is not known yet (see `blend`)."""
    name, param = method or DEFAULT
    if name == "rrf":
        return rrf(dense, keyword, param, unknown=unknown)
    if name == "blend":
        return blend(dense, keyword, param, unknown=unknown)
    raise ValueError(f"unknown fusion {name!r}; use 'rrf' or 'blend'")
