"""Model <-> paper links in the log: the zoo registry's (model, arXiv id) pairs, a model's paper logged from the
Zoo page, and the starter set with its links. ``zoo`` is imported inside the functions that read the registry.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from reading import AddResult, Log


@dataclass(frozen=True)
class LinkReport:
    """What :func:`sync_model_links` wrote: ``links`` (model, arXiv id) pairs over ``models`` and ``papers``."""

    models: int
    papers: int
    links: int

    def summary(self, where: Any = None) -> str:
        place = f" in {where}" if where is not None else ""
        return f"linked {self.models} models to {self.papers} papers ({self.links} links){place}"


def registry_links(names: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(model, arXiv id) for every registered model (or those in ``names``) and every paper its card names."""
    import zoo

    return [(name, paper) for name in (zoo.list_models() if names is None else names)
            for paper in zoo.info(name).papers]


def sync_model_links(log: Log, names: Iterable[str] | None = None) -> LinkReport:
    """Write the registry's (model, arXiv id) links into the log, in one transaction; idempotent."""
    pairs = registry_links(names)
    with log.transaction():
        for name, paper in pairs:
            log.link_model(name, paper)
    return LinkReport(len({n for n, _ in pairs}), len({p for _, p in pairs}), len(pairs))


def log_model_paper(log: Log, model: str, arxiv_id: str, *, tags: Iterable[str] = ()) -> AddResult:
    """Log paper ``arxiv_id`` (to-read, from arXiv; offline from what is known) and link zoo ``model`` to it."""
    result = log.add(arxiv_id, status="to-read", tags=list(tags))
    log.link_model(model, arxiv_id)
    return result


def load_starter(log: Log) -> dict[str, Any]:
    """The starter set into the log (its papers with the links it ships), then the zoo registry's links, so the
    papers behind every registered model show their models. Returns the import report (``reading.import_summary``)
    with ``"links"`` counting the registry's links too; without torch only the shipped links are written."""
    report = log.import_starter()
    try:
        linked = sync_model_links(log)
    except ImportError:  # the zoo needs torch; the log does not
        return report
    return {**report, "registry_links": linked.links}
