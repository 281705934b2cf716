"""``zoo.load``: build a registered model and put weights in it (by tag, ``"DEFAULT"``, a ``Weights`` or a file)."""
from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._registry import WeightsError, _Entry, get_entry, split_tag
from ._weights import CHECKPOINT_SUFFIXES, Weights, fetch, load_strict, matching_entry, read_state_dict

__all__ = ["build", "load"]


def build(name: str, **options: Any) -> nn.Module:
    """A freshly initialised model; ``None`` options are dropped so the builder's defaults apply."""
    entry = get_entry(name)
    return entry.builder(**{k: v for k, v in options.items() if v is not None})


def _looks_like_path(s: str) -> bool:
    return os.sep in s or "/" in s or s.endswith(CHECKPOINT_SUFFIXES) or Path(s).expanduser().is_file()


def _select(entry: _Entry, weights: Any) -> tuple[Weights | None, Path | None]:
    card = entry.card
    if weights is None:
        return None, None
    if isinstance(weights, Weights):
        return weights, None
    if isinstance(weights, str) and card.weights and weights.upper() in {"DEFAULT", *(w.tag.upper() for w in card.weights)}:
        return (card.weights[0] if weights.upper() == "DEFAULT" else next(  # a tag, even if a file has its name
            w for w in card.weights if w.tag.upper() == weights.upper())), None
    if isinstance(weights, os.PathLike) or (isinstance(weights, str) and _looks_like_path(weights)):
        path = Path(os.fspath(weights)).expanduser()
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
        same = matching_entry(card.weights, path)  # the entry's identity only when the hash says so
        if same is not None:
            return same, path
        like = card.weights[0] if card.weights else Weights(tag="file", file_name=path.name)
        # a local file keeps the preprocessing and filter of the model's first entry (same family, same source)
        return dataclasses.replace(like, tag="file", file_name=path.name, url=None, sha256=None, page=None,
                                   metrics={}), path
    if isinstance(weights, str):
        if not card.weights:
            raise WeightsError(f"{card.name} has no released weights; pass a checkpoint path as weights=...")
        if weights.upper() == "DEFAULT":
            return card.weights[0], None
        for w in card.weights:
            if w.tag.upper() == weights.upper():
                return w, None
        tags = ", ".join(["DEFAULT", *(w.tag for w in card.weights)])
        raise WeightsError(f"{card.name} has no weights {weights!r}; choose one of {tags} or a file path")
    raise WeightsError(f"weights must be None, 'DEFAULT', a tag, a path or a Weights entry, not {type(weights).__name__}")


def load(
    name: str,
    *,
    weights: Any = None,
    num_classes: int | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    **options: Any,
) -> nn.Module:
    """Build a registered model, optionally with pretrained weights.

    Args:
        name: canonical name, alias, or ``name.TAG`` (selects that weights entry).
        weights: ``None`` (random He init), ``"DEFAULT"`` (the first entry), a tag, a ``Weights`` entry, or a
            path to a ``.pth`` / ``.pth.tar`` / ``.safetensors`` file.
        num_classes: classifier size. With weights, ``None`` keeps the checkpoint's; a different number loads the
            backbone and re-initialises the head (with a warning).
        device: where to put the model.
        progress: show a progress bar while downloading.
        **options: keyword-only builder options (``act="prelu"``, ...); ``None`` values are dropped.

    Returns:
        The model; ``model.weights`` is the ``Weights`` entry used (``None`` without weights), and
        ``model.weights.transforms()`` the matching preprocessing.

    Raises:
        UnknownModelError: unknown name (the message lists close matches).
        WeightsError: unknown tag, file not cached and not downloadable, bad hash, or keys that do not fit.
    """
    base, tag = split_tag(name)
    entry = get_entry(base)
    if weights is None and tag is not None:
        weights = tag
    w, path = _select(entry, weights)
    if w is None:
        model = build(base, num_classes=num_classes, **options)
    else:
        path = path or fetch(w, progress=progress)
        state = read_state_dict(path, w.checkpoint_filter)
        head = state.get(f"{entry.classifier}.weight")
        have = int(head.shape[0]) if head is not None else w.num_classes
        want = num_classes if num_classes is not None else have
        model = build(base, num_classes=want, **options)
        skip = (f"{entry.classifier}.",) if want != have else ()
        try:
            load_strict(model, state, skip=skip)
        except WeightsError as e:
            raise WeightsError(f"{path}: {e}") from None
        if skip:
            warnings.warn(
                f"{entry.card.name}: loaded the backbone of {w.tag}; classifier '{entry.classifier}' re-initialised "
                f"for {want} classes (the weights have {have})",
                UserWarning,
                stacklevel=2,
            )
    model.weights = w  # type: ignore[assignment]  # plain attribute, not a parameter
    if device is not None:
        model.to(device)
    return model
