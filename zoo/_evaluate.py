"""``zoo.evaluate``: top-1 / top-5 accuracy on an ImageFolder in ImageNet validation layout.

The layout is one folder per class, named by its WordNet synset id (``val/n01440764/ILSVRC2012_val_00000293.JPEG``).
Folder names map to the model's class indices through the weights' categories: ``"imagenet-1k"`` is the standard
sorted list of 1,000 synset ids (``zoo/data/imagenet_synsets.txt``), and a weights entry may instead list its own
folder names in class order. Images go through the weights' own preprocessing (``weights.transforms()``, megvii's
BGR 0-255 convention included), read with PIL in a batched ``DataLoader``.

Unreadable images are skipped and counted. With a ``state_file`` the running counts are saved (atomically) after
every batch; an interrupted run started again with the same arguments continues where it stopped.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from ._atomic import atomic_open
from ._factory import load
from ._registry import ZooError, resolve

__all__ = ["EvalResult", "evaluate", "imagenet_synsets", "scan_image_folder"]

IMAGE_SUFFIXES = {".jpeg", ".jpg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
_SYNSETS_FILE = Path(__file__).resolve().parent / "data" / "imagenet_synsets.txt"
_STATE_VERSION = 1


@lru_cache(maxsize=1)
def imagenet_synsets() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k synset ids, sorted: position ``i`` is class index ``i`` of ImageNet-1k weights."""
    lines = _SYNSETS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(s.strip() for s in lines if s.strip() and not s.startswith("#"))


@dataclass(frozen=True)
class EvalResult:
    """Accuracy of one model and weights on one ImageFolder.

    Attributes:
        model: canonical model name; weights: the weights tag.
        data_dir: the folder evaluated (absolute).
        images: images evaluated; skipped: unreadable images (not counted in the accuracy).
        correct1, correct5: images whose label is the top prediction / among the top 5.
        top1, top5: accuracy in %.
        limit: the ``limit`` asked for (``None``: every image).
        seconds: time spent, summed over resumed runs.
        resumed: whether this run continued a saved state.
        env: torch version, device, batch size, preprocessing.
    """

    model: str
    weights: str | None
    data_dir: str
    images: int
    skipped: int
    correct1: int
    correct5: int
    top1: float
    top5: float
    limit: int | None = None
    seconds: float = 0.0
    resumed: bool = False
    env: Mapping[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """``{"top1": ..., "top5": ...}`` in % (what ``eval --store`` writes to the log)."""
        return {"top1": self.top1, "top5": self.top5}

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "env": dict(self.env)}


# --------------------------------------------------------------------------------------------------------------------
# the folder


def _categories(weights: Any, categories: Sequence[str] | None) -> list[str]:
    if categories is not None:
        return [str(c) for c in categories]
    cats = getattr(weights, "categories", "imagenet-1k")
    if isinstance(cats, str):
        if cats.lower().replace("_", "-") in ("imagenet-1k", "imagenet1k", "imagenet"):
            return list(imagenet_synsets())
        raise ZooError(f"weights {getattr(weights, 'tag', '')!r} have label set {cats!r}, which the zoo has no "
                       "folder names for; pass categories=[folder names in class order]")
    return [str(c) for c in cats]


def scan_image_folder(data_dir: str | os.PathLike, categories: Sequence[str]) -> list[tuple[str, int]]:
    """``(image path, class index)`` for every image file under ``data_dir/<class folder>/``.

    Classes are interleaved (first image of every class, then the second, ...) so that any prefix, as taken by
    ``limit``, covers as many classes as it can. Files with other suffixes are ignored.

    Raises:
        ZooError: the folder is missing, has no class folders or no images, or has class folders that are not
            among ``categories``.
    """
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise ZooError(f"data directory not found: {root}" if not root.exists() else f"not a directory: {root}")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ZooError(f"{root} has no class folders; expected one folder per class, e.g. {root}/{categories[0]}/")
    index = {c: i for i, c in enumerate(categories)}
    unknown = [p.name for p in folders if p.name not in index]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else "")
        raise ZooError(f"{len(unknown)} class folder(s) in {root} do not match the weights' categories: {shown}; "
                       f"expected names like {categories[0]}")
    per_class = [
        sorted(str(f) for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."))
        for p in folders
    ]
    labels = [index[p.name] for p in folders]
    samples = []
    for rank in range(max(len(files) for files in per_class)):
        samples += [(files[rank], label) for files, label in zip(per_class, labels) if rank < len(files)]
    if not samples:
        raise ZooError(f"no image files in the class folders of {root} ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return samples


def _load_image(path: str) -> Any:
    from PIL import Image

    with Image.open(path) as img:
        return img.convert("RGB")


class _Images(torch.utils.data.Dataset):
    """``(tensor, label, readable)``; an unreadable image gives zeros and ``readable=False``."""

    def __init__(self, samples: Sequence[tuple[str, int]], transform: Any, shape: tuple[int, ...]) -> None:
        self.samples, self.transform, self.shape = samples, transform, shape

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, bool]:
        path, label = self.samples[i]
        try:
            return self.transform(_load_image(path)), label, True
        except Exception:  # PIL raises OSError, ValueError, SyntaxError, DecompressionBombError ... for bad files
            return torch.zeros(self.shape), label, False


# --------------------------------------------------------------------------------------------------------------------
# saved state


def _state_key(model: str, weights: Any, root: Path, samples: Sequence[tuple[str, int]], limit: int | None) -> dict:
    digest = hashlib.sha256()
    for path, label in samples:
        digest.update(f"{os.path.relpath(path, root)}\t{label}\n".encode())
    return {"model": model, "weights": getattr(weights, "tag", None), "file": getattr(weights, "file_name", None),
            "data_dir": str(root), "limit": limit, "images": len(samples), "samples_sha256": digest.hexdigest()}


def _read_state(path: Path, key: dict) -> dict | None:
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        ok = state.get("version") == _STATE_VERSION and isinstance(state.get("done"), int)
    except (OSError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise ZooError(f"{path} is not an evaluation state file; delete it or choose another state file")
    if state["key"] != key:
        theirs = state["key"]
        raise ZooError(f"{path} holds the state of another evaluation ({theirs.get('model')} "
                       f"{theirs.get('weights')} on {theirs.get('data_dir')}, limit {theirs.get('limit')}); "
                       "delete it or choose another state file")
    return state


def _write_state(path: Path, state: dict) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)


# --------------------------------------------------------------------------------------------------------------------
# evaluation


def _default_workers() -> int:
    return min(4, max(0, (os.cpu_count() or 1) - 1))


def evaluate(
    name_or_model: str | nn.Module,
    data_dir: str | os.PathLike,
    *,
    weights: Any = "DEFAULT",
    categories: Sequence[str] | None = None,
    limit: int | None = None,
    batch_size: int = 32,
    workers: int | None = None,
    device: str | torch.device = "cpu",
    state_file: str | os.PathLike | None = None,
    progress: bool = True,
) -> EvalResult:
    """Top-1 / top-5 accuracy of a model with its weights on an ImageFolder in ImageNet validation layout.

    Args:
        name_or_model: a model name or alias (loaded with ``weights``), or a module whose ``.weights`` is set
            (as ``zoo.load`` returns it).
        data_dir: the folder holding one sub-folder per class (synset ids for ImageNet-1k weights).
        weights: a tag, ``"DEFAULT"``, a checkpoint path or a ``Weights`` entry; its ``preprocessing`` and
            ``categories`` are used.
        categories: folder names in class-index order, overriding the weights' categories.
        limit: evaluate only the first ``limit`` images (classes interleaved, so a prefix spans many classes).
        batch_size: images per forward pass.
        workers: ``DataLoader`` worker processes (``None``: up to 4, one core left free; 0 reads in-process).
        device: where the model runs.
        state_file: a JSON file for the running counts, written after every batch; a run with the same arguments
            resumes from it without recounting.
        progress: show a tqdm progress bar.

    Raises:
        ZooError: no weights, a missing or empty folder, class folders not in the categories, a model whose
            outputs do not match the categories, a state file of another evaluation, or no readable image at all.
    """
    if isinstance(name_or_model, nn.Module):
        model, name = name_or_model, type(name_or_model).__name__
        w = getattr(model, "weights", None)
    else:
        if weights is None:
            raise ZooError("evaluation needs weights: a tag, 'DEFAULT', a checkpoint path or a Weights entry")
        model = load(name_or_model, weights=weights, progress=progress)
        name, w = resolve(name_or_model), model.weights
    if w is None:
        raise ZooError(f"{name} has no weights attached: evaluation needs the weights' preprocessing and categories")
    if limit is not None and limit < 1:
        raise ZooError(f"limit must be a positive number of images, not {limit}")
    if batch_size < 1:
        raise ZooError(f"batch_size must be >= 1, not {batch_size}")
    cats = _categories(w, categories)
    root = Path(data_dir).expanduser().resolve()
    samples = scan_image_folder(root, cats)
    if limit is not None:
        samples = samples[:limit]
    key = _state_key(name, w, root, samples, limit)
    state_path = Path(state_file).expanduser() if state_file is not None else None
    saved = _read_state(state_path, key) if state_path is not None else None
    state = saved or {"version": _STATE_VERSION, "key": key, "done": 0, "images": 0, "skipped": 0,
                      "correct1": 0, "correct5": 0, "seconds": 0.0}
    transform = w.transforms()
    crop = transform.p.crop if hasattr(transform, "p") else 224
    dev = torch.device(device)
    model = model.to(dev).eval()
    remaining = samples[state["done"]:]
    if remaining:
        _run(model, remaining, transform, (3, crop, crop), state, len(cats), dev, batch_size,
             _default_workers() if workers is None else workers, state_path, progress, len(samples))
    if state["images"] == 0:
        raise ZooError(f"no readable image in {root} ({state['skipped']} unreadable)")
    pre = getattr(w, "preprocessing", None)
    env = {"torch": torch.__version__, "python": platform.python_version(), "device": dev.type,
           "batch_size": batch_size, "data_dir": str(root), "images": state["images"], "skipped": state["skipped"],
           "limit": limit, "categories": getattr(w, "categories", None) if categories is None else "custom",
           "preprocessing": dataclasses.asdict(pre) if dataclasses.is_dataclass(pre) and not isinstance(pre, type)
           else None}
    return EvalResult(
        model=name, weights=getattr(w, "tag", None), data_dir=str(root), images=state["images"],
        skipped=state["skipped"], correct1=state["correct1"], correct5=state["correct5"],
        top1=100.0 * state["correct1"] / state["images"], top5=100.0 * state["correct5"] / state["images"],
        limit=limit, seconds=state["seconds"], resumed=saved is not None, env=env,
    )


def _run(model: nn.Module, remaining: Sequence[tuple[str, int]], transform: Any, shape: tuple[int, ...],
         state: dict, num_classes: int, dev: torch.device, batch_size: int, workers: int, state_path: Path | None,
         progress: bool, total: int) -> None:
    from tqdm.auto import tqdm

    loader = torch.utils.data.DataLoader(_Images(remaining, transform, shape), batch_size=batch_size,
                                         shuffle=False, num_workers=workers)
    bar = tqdm(total=total, initial=state["done"], desc="evaluate", unit="img", disable=not progress, leave=False)
    try:
        t0 = time.perf_counter()
        for x, y, ok in loader:
            if ok.any():
                with torch.inference_mode():
                    logits = model(x[ok].to(dev))
                if logits.shape[-1] != num_classes:
                    raise ZooError(f"the model has {logits.shape[-1]} outputs but the categories list "
                                   f"{num_classes} classes")
                top = logits.topk(min(5, num_classes), dim=-1).indices.cpu()
                labels = y[ok]
                state["correct1"] += int((top[:, 0] == labels).sum())
                state["correct5"] += int((top == labels[:, None]).any(dim=1).sum())
            state["images"] += int(ok.sum())
            state["skipped"] += int((~ok).sum())
            state["done"] += len(y)
            now = time.perf_counter()
            state["seconds"] += now - t0
            t0 = now
            if state_path is not None:
                _write_state(state_path, state)
            bar.update(len(y))
            if state["images"]:
                bar.set_postfix(top1=f"{100 * state['correct1'] / state['images']:.2f}", refresh=False)
    finally:
        bar.close()
