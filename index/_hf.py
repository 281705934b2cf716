"""Loading Hugging Face models our way: offline (a bundled or local model never asks the hub) and quietly. Used by
the embedder (`_embed`) and the ONNX export (`_onnx_export`), which `_embed` calls: here, so that the export needs
no import of `_embed`."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """``HF_HUB_OFFLINE=1`` while a model loads or exports (a bundled or local model must never trigger a hub
    lookup), then as before, so the process's other users of ``huggingface_hub`` keep their setting. A value the
    user set is left alone. huggingface_hub reads the variable once, at import, so its constant is set too."""
    if "HF_HUB_OFFLINE" in os.environ:
        yield
        return
    import sys

    def constants() -> Any:
        return sys.modules.get("huggingface_hub.constants")

    before = getattr(constants(), "HF_HUB_OFFLINE", False)
    os.environ["HF_HUB_OFFLINE"] = "1"
    if constants() is not None:
        constants().HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        os.environ.pop("HF_HUB_OFFLINE", None)
        if constants() is not None:  # imported before, or during the load (then it read "1"): as it was
            constants().HF_HUB_OFFLINE = before


@contextlib.contextmanager
def _quiet_weight_loading() -> Iterator[None]:
    """Hide transformers' per-tensor "Loading weights" bar (a local load takes well under a second) and restore
    the caller's setting afterwards."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()
