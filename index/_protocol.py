"""What the index needs from a log, stated as a Protocol: ``reading.Log`` satisfies it, and so can any other store
(a test double, another database) without ``index`` importing ``reading``."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol


class PaperLog(Protocol):
    """The reading log as the index uses it: paper texts and filters, inbox candidates, PDF passages, settings.

    ``path`` places the index beside the log (``<stem>.index/``); the ``*_version`` numbers change whenever what
    they cover changes, so a sync can tell in one read whether anything is left to do.
    """

    path: Path

    # papers
    def data_version(self) -> int: ...

    def index_texts(self, ids: Iterable[int] | None = None) -> list[tuple[int, str]]: ...

    def papers(self, *, tag: str | None = None, status: str | None = None, since: str | dt.date | None = None,
               until: str | dt.date | None = None, year_min: int | None = None, year_max: int | None = None,
               sort: str = "added", limit: int | None = None, ids: Iterable[int] | None = None
               ) -> Sequence[Mapping[str, Any]]: ...

    def get(self, ref: int | str) -> Mapping[str, Any]: ...

    def filter_ids(self, *, tag: str | None = None, status: str | None = None, year_min: int | None = None,
                   year_max: int | None = None, read_since: str | dt.date | None = None,
                   read_until: str | dt.date | None = None) -> set[int]: ...

    def keyword_search(self, query: str, *, k: int = 10, ids: Iterable[int] | None = None
                       ) -> list[tuple[int, float]]: ...

    def tags(self) -> dict[str, int]: ...

    # settings (the configured embedding model)
    def get_setting(self, key: str, default: Any = None) -> Any: ...

    def set_setting(self, key: str, value: Any) -> None: ...

    # inbox candidates
    def candidates(self, *, state: str | Iterable[str] = "new", ids: Iterable[int] | None = None,
                   limit: int | None = None) -> list[dict[str, Any]]: ...

    def candidate_texts(self, ids: Iterable[int] | None = None, *, state: str | Iterable[str] = ("new", "skipped")
                        ) -> list[tuple[int, str]]: ...

    def candidates_version(self) -> int: ...

    # PDF passages (full text)
    def pages_version(self) -> int: ...

    def passage_texts(self, page_ids: Iterable[int] | None = None) -> Sequence[tuple[Any, ...]]: ...

    def page_refs(self) -> dict[int, int]: ...

    def page_keys(self) -> dict[int, tuple[str, int]]: ...

    def paper_titles(self, ids: Iterable[int]) -> dict[int, str]: ...

    def fulltext_search(self, query: str, *, k: int = 10, ids: Iterable[int] | None = None
                        ) -> list[dict[str, Any]]: ...
