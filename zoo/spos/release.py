"""megvii's SPOS checkpoint layouts -> this package's keys (a filter function, then strict loading).

Two layouts, both ``{'state_dict': {'module.' + key: tensor}}`` (written through ``nn.DataParallel``):

- the standalone searched networks (``ShuffleNetV2_OneShot`` of SinglePathOneShot ``src/Evaluation`` and of
  ShuffleNet-Series ``OneShot``): ``first_conv.0``, ``features.N.branch_main.J``, ``features.N.branch_proj.J``,
  ``conv_last.0``, ``classifier.0`` -> ``SPOSNet``'s ``stem``, ``blocks.N.main.n``, ``blocks.N.proj.n``, ``head``,
  ``classifier``;
- the trained supernet (SinglePathOneShot ``src/Supernet``, ``checkpoint-150000.pth.tar``): the same, except that each
  position ``features.N`` is a module list of the four choices, so ``features.N.C.branch_main.J`` ->
  ``SuperNet``'s ``blocks.N.choices.C.main.n`` (BatchNorm ``affine=False``: running statistics only).

In their ``nn.Sequential`` branches the n-th convolution (and the BatchNorm right after it) is the n-th ``ConvBN`` of
the same branch here.
"""
from __future__ import annotations

import re
from typing import Any

import torch

from .._weights import filter_megvii

__all__ = ["filter_release", "is_release_supernet"]

# their Sequential prefixes -> ours; each conv there is followed by its BN, which is one ConvBN here
_PREFIXES = (
    (re.compile(r"first_conv"), "stem"),
    (re.compile(r"conv_last"), "head"),
    (re.compile(r"features\.(\d+)\.branch_main"), r"blocks.\1.main"),
    (re.compile(r"features\.(\d+)\.branch_proj"), r"blocks.\1.proj"),
    (re.compile(r"features\.(\d+)\.(\d+)\.branch_main"), r"blocks.\1.choices.\2.main"),
    (re.compile(r"features\.(\d+)\.(\d+)\.branch_proj"), r"blocks.\1.choices.\2.proj"),
)
_KEY = re.compile(r"(.+)\.(\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)")
_SUPERNET_KEY = re.compile(r"(?:module\.)?features\.\d+\.\d+\.branch_main\.\d+\.weight")


def is_release_supernet(sd: Any) -> bool:
    """Whether a state dict (prefixed or not) has the supernet's ``features.N.C.branch_main`` keys."""
    return isinstance(sd, dict) and any(isinstance(k, str) and _SUPERNET_KEY.fullmatch(k) for k in sd)


def filter_release(obj: Any) -> dict[str, torch.Tensor]:
    """megvii's ``ShuffleNetV2_OneShot`` checkpoint (standalone or supernet) -> ``SPOSNet`` / ``SuperNet`` keys.

    Keys that fit no rule are passed through, so strict loading names them. A checkpoint already in this package's
    layout is returned as is.
    """
    sd = filter_megvii(obj)
    if "stem.conv.weight" in sd:
        return sd
    convs: dict[str, list[int]] = {}  # Sequential prefix -> indices of its convolutions, in order
    for key, value in sd.items():
        m = _KEY.fullmatch(key)
        if m and m.group(3) == "weight" and value.dim() == 4:
            convs.setdefault(m.group(1), []).append(int(m.group(2)))
    return {_release_key(key, convs): value for key, value in sd.items()}


def _release_key(key: str, convs: dict[str, list[int]]) -> str:
    if key == "classifier.0.weight":
        return "classifier.weight"
    m = _KEY.fullmatch(key)
    if m is None or m.group(1) not in convs:
        return key
    seq, j, leaf = m.group(1), int(m.group(2)), m.group(3)
    order = sorted(convs[seq])
    if j in order:
        n, part = order.index(j), "conv"
    elif j - 1 in order:
        n, part = order.index(j - 1), "bn"
    else:
        return key
    for pattern, ours in _PREFIXES:
        if pattern.fullmatch(seq):
            base = pattern.sub(ours, seq)
            # the stem and the head are single ConvBNs; branches are lists of them
            return f"{base}.{part}.{leaf}" if base in ("stem", "head") else f"{base}.{n}.{part}.{leaf}"
    return key
