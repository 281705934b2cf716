"""The zoo's errors, in a module of their own: every other module raises them, and none needs the registry for
that (``_weights`` imported them from ``_registry``, which names ``Weights``: a loop). ``zoo._registry`` and ``zoo``
re-export them."""
from __future__ import annotations

__all__ = ["DataNotFound", "InvalidOption", "UnknownModelError", "WeightsError", "ZooError"]


class ZooError(Exception):
    """Base class of every error the zoo raises on purpose."""


class UnknownModelError(ZooError, KeyError):
    """A model name (or alias) that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class WeightsError(ZooError):
    """Weights that cannot be found, fetched, verified or loaded."""


class InvalidOption(ZooError, ValueError):
    """An option value the zoo cannot use: a layout, a dataset spec, a batch size, a budget, an activation ..."""


class DataNotFound(ZooError, FileNotFoundError):
    """A dataset folder that is missing or holds no images."""
