"""What the parts of :class:`reading.Log` rely on, declared once.

``Log`` (``_log.py``) is its core plus mixins by concern (``_bulk``, ``_inbox``, ``_zoo_links``, ``_fulltext``).
The mixins derive from :class:`LogCore`, which names the attributes ``Log.__init__`` sets and the core methods the
mixins call; ``Log`` defines them (a type checker verifies that its definitions match these declarations).
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ._types import Paper


class LogCore:
    """The contract between ``Log``'s core and its mixins (declarations only; ``Log`` implements them)."""

    path: Path
    conn: sqlite3.Connection
    _lock: threading.RLock

    if TYPE_CHECKING:  # declared for the type checker and the reader; defined in _log.py

        def _write(self) -> AbstractContextManager[Any]: ...

        def _resolve(self, ref: int | str) -> int: ...

        def _paper(self, pid: int) -> Paper: ...

        def _touch(self, pid: int) -> None: ...

        def _match(self, aid: str | None, doi: str | None, title: str | None) -> int | None: ...

        def _insert(self, fields: dict[str, Any], *, manual: list[str], needs_refresh: bool, status: str,
                    rating: int | None, source: str) -> int: ...

        def _merge(self, pid: int, fields: dict[str, Any], *, manual: list[str], fetched: bool, status: str | None,
                   rating: int | None, force: bool = False) -> None: ...

        def get(self, ref: int | str) -> Paper: ...

        def papers(self, *, tag: str | None = None, status: str | None = None, since: str | dt.date | None = None,
                   until: str | dt.date | None = None, year_min: int | None = None, year_max: int | None = None,
                   sort: str = "added", limit: int | None = None, ids: Iterable[int] | None = None
                   ) -> list[Paper]: ...

        def get_setting(self, key: str, default: Any = None) -> Any: ...

        def set_setting(self, key: str, value: Any) -> None: ...

        def sync_citations(self) -> dict[str, int]: ...
