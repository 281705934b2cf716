"""Zoo links and benchmark results of the :class:`~reading.Log` (mixed into ``Log``)."""
from __future__ import annotations

from typing import Any, cast

from . import _db
from ._base import LogCore
from ._types import Paper
from ._errors import InvalidInput
from ._fields import now_iso
from ._ids import is_arxiv_id, parse_arxiv_id


class ZooLinksMixin(LogCore):
    """Links between zoo model names and arXiv ids, and benchmark results keyed by model name."""

    def link_model(self, model: str, arxiv_id: str, *, role: str = "implements") -> None:
        """Record that zoo model ``model`` implements (``role``) paper ``arxiv_id``; idempotent."""
        if not model or not str(model).strip():
            raise InvalidInput("empty model name")
        aid = parse_arxiv_id(arxiv_id)
        with self._lock, self._write():
            _db.upsert_link(self.conn, str(model).strip(), aid, role, now_iso())

    def models_for(self, ref: int | str) -> list[str]:
        """Zoo model names linked to paper ``ref`` (an arXiv id need not be in the log)."""
        with self._lock:
            text = str(ref).strip()
            if not (isinstance(ref, int) or text.isdigit()) and is_arxiv_id(text):
                return _db.linked_models(self.conn, parse_arxiv_id(text))
            paper = self._paper(self._resolve(ref))
            return paper["models"]

    def papers_for_model(self, model: str) -> list[Paper]:
        with self._lock:
            pids = _db.linked_paper_ids(self.conn, model)
            rows = _db.paper_rows(self.conn, pids)
        return [cast(Paper, rows[i]) for i in pids]

    def links(self) -> list[dict[str, Any]]:
        """Every (model, arxiv_id, role) link."""
        with self._lock:
            return _db.all_links(self.conn)

    def add_result(
        self,
        model: str,
        metric: str,
        value: float,
        *,
        weights: str | None = None,
        env: dict[str, Any] | None = None,
        source: str = "measured",
        measured_at: str | None = None,
    ) -> int:
        """Store one benchmark number for a zoo model; returns the result id."""
        if not model or not metric:
            raise InvalidInput("a result needs a model name and a metric")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"bad result value {value!r}") from None
        row = {"model": model, "weights": weights, "metric": metric, "value": number, "env": dict(env or {}),
               "source": source, "measured_at": measured_at or now_iso()}
        with self._lock, self._write():
            return _db.insert_result(self.conn, row)

    def results(self, model: str | None = None, *, metric: str | None = None) -> list[dict[str, Any]]:
        """Stored results, oldest first: dicts with model, weights, metric, value, env (dict), source, measured_at."""
        with self._lock:
            return _db.select_results(self.conn, model, metric)
