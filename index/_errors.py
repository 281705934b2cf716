"""The index's one error base: every error it raises on purpose (bad search or inbox input) derives from it."""
from __future__ import annotations


class SearchIndexError(ValueError):
    """Base class of the index's errors; the message is one line for the user."""
