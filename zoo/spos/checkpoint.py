"""Supernet checkpoint files: atomic writes, validated reads, and the supernet they hold."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from .._registry import ZooError
from .supernet import Layout, SuperNet

__all__ = ["CheckpointError", "FORMAT", "load_supernet", "read_checkpoint", "save_atomic"]

FORMAT = "spos-supernet/1"


class CheckpointError(ZooError, ValueError):
    """A file that is not a readable SPOS supernet checkpoint."""


def save_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temp file in the same folder, then ``os.replace``: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a supernet checkpoint (``weights_only`` unpickling).

    Raises:
        CheckpointError: missing, unreadable, or not an SPOS supernet checkpoint.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"supernet checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001  (pickle / zip errors of every kind)
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an SPOS supernet checkpoint (expected format {FORMAT})")
    return ckpt


def load_supernet(source: str | os.PathLike | SuperNet | dict[str, Any], device: str | torch.device | None = None) -> SuperNet:
    """A ``SuperNet`` from a checkpoint path, a checkpoint dict, or a ``SuperNet`` (returned as is)."""
    if isinstance(source, SuperNet):
        return source if device is None else source.to(device)
    ckpt = source if isinstance(source, dict) else read_checkpoint(source)
    net = SuperNet(Layout.from_dict(ckpt["layout"]))
    try:
        net.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint weights do not fit its layout: {e}") from None
    net.eval()
    return net if device is None else net.to(device)
