"""Supernet checkpoint files: atomic writes, validated reads, and the supernet they hold.

Besides this package's own format, ``read_checkpoint`` accepts megvii's released supernet
(SinglePathOneShot ``checkpoint-150000.pth.tar``: ``{'state_dict': {'module.features.N.C.branch_main.J...': ...}}``),
remapped by ``release.filter_release`` and presented as a weights-only checkpoint of the paper's layout at 224x224.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .._atomic import atomic_open
from .._registry import ZooError
from .._weights import load_strict
from .release import filter_release, is_release_supernet
from .supernet import Layout, SuperNet

__all__ = ["CheckpointError", "FORMAT", "load_supernet", "read_checkpoint", "save_atomic"]

FORMAT = "spos-supernet/1"


class CheckpointError(ZooError, ValueError):
    """A file that is not a readable SPOS supernet checkpoint."""


def save_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` through ``zoo.atomic_open`` (temp file, fsync, rename): a crash never leaves half a file."""
    path = Path(path)
    with atomic_open(path, "wb") as f:
        torch.save(obj, f)
    return path


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a supernet checkpoint (``weights_only`` unpickling).

    Raises:
        CheckpointError: missing, unreadable, or not an SPOS supernet checkpoint.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"supernet checkpoint not found: {path}")
    from .._weights import check_archive

    check_archive(path, CheckpointError)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001  (pickle / zip errors of every kind)
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if isinstance(ckpt, dict) and ckpt.get("format") == FORMAT:
        return ckpt
    if isinstance(ckpt, dict) and is_release_supernet(ckpt.get("state_dict", ckpt)):
        return _from_release(ckpt)
    raise CheckpointError(f"{path}: not an SPOS supernet checkpoint (expected format {FORMAT}, "
                          "or megvii's released supernet)")


def _from_release(obj: dict[str, Any]) -> dict[str, Any]:
    """megvii's supernet as a weights-only checkpoint: their layout is the paper's, trained at 224x224."""
    sd = filter_release(obj)
    head = sd.get("classifier.weight")
    if head is None or head.dim() != 2:
        raise CheckpointError("megvii supernet checkpoint without its classifier.0.weight")
    layout = Layout(num_classes=int(head.shape[0]))
    return {"format": FORMAT, "layout": layout.to_dict(), "model": sd, "source": "megvii", "pixels": "megvii",
            "config": {"input_size": 224}}


def load_supernet(source: str | os.PathLike | SuperNet | dict[str, Any], device: str | torch.device | None = None) -> SuperNet:
    """A ``SuperNet`` from a checkpoint path, a checkpoint dict, or a ``SuperNet`` (returned as is)."""
    if isinstance(source, SuperNet):
        return source if device is None else source.to(device)
    ckpt = source if isinstance(source, dict) else read_checkpoint(source)
    net = SuperNet(Layout.from_dict(ckpt["layout"]))
    try:
        load_strict(net, ckpt["model"])
    except ZooError as e:
        raise CheckpointError(f"checkpoint weights do not fit its layout: {e}") from None
    net.eval()
    return net if device is None else net.to(device)
