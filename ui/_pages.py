"""The app's pages, listed once: ``app.py`` builds its navigation from this table and ``common.link`` its links."""
from __future__ import annotations

from typing import NamedTuple


class PageSpec(NamedTuple):
    key: str  # the name links use, and the page's URL path
    file: str  # the page script, relative to app.py
    title: str
    section: str
    icon: str | None = None
    default: bool = False
    hidden: bool = False  # reached by links only (a paper's page)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("library", "ui/pages/library.py", "Library", "Papers", ":material/library_books:", default=True),
    PageSpec("search", "ui/pages/search.py", "Search", "Papers", ":material/search:"),
    PageSpec("inbox", "ui/pages/inbox.py", "Inbox", "Papers", ":material/inbox:"),
    PageSpec("log", "ui/pages/log_paper.py", "Log a paper", "Papers", ":material/add_circle:"),
    PageSpec("stats", "ui/pages/stats.py", "Reading stats", "Papers", ":material/insights:"),
    PageSpec("suggestions", "ui/pages/suggestions.py", "Reading suggestions", "Papers", ":material/menu_book:"),
    PageSpec("paper", "ui/pages/paper.py", "Paper", "Papers", hidden=True),
    PageSpec("zoo", "ui/pages/zoo.py", "Zoo", "Models", ":material/pets:"),
    PageSpec("supernet", "ui/pages/supernet.py", "Supernet", "Models", ":material/hub:"),
)

#: The page scripts by the names the pages link with.
PAGE_FILES = {p.key: p.file for p in PAGES}
