"""Data for supernet training and search: an ImageFolder reader (no torchvision), the built-in tiny dataset, and a
deterministic, resumable, shardable batch order.

Every sample is fetched with a key ``(index, seed)``: random augmentation draws from ``seed`` alone, so a resumed
run sees exactly the images (and crops) that the uninterrupted run would have seen.
"""
from __future__ import annotations

import math
import os
import random
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
from torch.utils.data import Dataset

from .._registry import DataNotFound, InvalidOption

__all__ = ["ImageFolder", "TinyDataset", "StepBatches", "open_dataset", "split_indices"]

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".JPEG", ".JPG", ".PNG")


class TinyDataset(Dataset):
    """A synthetic, learnable image set generated on the fly: class ``k`` is a grating at angle ``k * pi / n``.

    Deterministic given ``seed``; used by the tests and the quick-start commands.
    """

    def __init__(self, num_classes: int = 2, size: int = 32, length: int = 64, seed: int = 0) -> None:
        if num_classes < 2 or size < 8 or length < 1:
            raise InvalidOption("tiny dataset needs num_classes >= 2, size >= 8, length >= 1")
        self.num_classes, self.size, self.length, self.seed = num_classes, size, length, seed
        self.classes = [f"angle{k}" for k in range(num_classes)]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, int]:
        index = key[0] if isinstance(key, tuple) else key
        if not 0 <= index < self.length:
            raise IndexError(index)
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        label = index % self.num_classes
        angle = math.pi * label / self.num_classes
        freq = 2 * math.pi / (4 + float(torch.rand((), generator=g)) * 4)
        phase = float(torch.rand((), generator=g)) * 2 * math.pi
        ys, xs = torch.meshgrid(torch.arange(self.size, dtype=torch.float32),
                                torch.arange(self.size, dtype=torch.float32), indexing="ij")
        wave = torch.sin(freq * (xs * math.cos(angle) + ys * math.sin(angle)) + phase)
        img = wave.expand(3, -1, -1) + 0.3 * torch.randn(3, self.size, self.size, generator=g)
        return img.contiguous(), label


class ImageFolder(Dataset):
    """Images in ``root/<class>/<file>`` (the ImageNet layout), read with Pillow.

    Args:
        root: the folder of class folders.
        size: output side in pixels.
        train: random-resized crop (scale 0.08-1) and horizontal flip, else resize to ``size / 0.875`` and
            centre crop.
        pixels: ``"imagenet"`` (RGB, ImageNet mean/std) or ``"megvii"`` (BGR 0-255, as megvii's released supernet
            was trained; evaluation crops through megvii's OpenCV pipeline, ``zoo.Preprocessing(resampling="opencv")``).
    """

    def __init__(self, root: str | os.PathLike, size: int = 224, *, train: bool = True,
                 pixels: str = "imagenet") -> None:
        if pixels not in ("imagenet", "megvii"):
            raise InvalidOption(f"pixels must be 'imagenet' or 'megvii', got {pixels!r}")
        self.pixels = pixels
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataNotFound(f"image folder not found: {self.root}")
        self.classes = sorted(d.name for d in self.root.iterdir() if d.is_dir() and not d.name.startswith("."))
        self.samples = [
            (str(p), k)
            for k, c in enumerate(self.classes)
            for p in sorted((self.root / c).rglob("*"))
            if p.suffix in IMAGE_SUFFIXES
        ]
        if not self.samples:
            raise DataNotFound(f"no images in {self.root} (expected {self.root}/<class>/<image>)")
        self.num_classes = len(self.classes)
        self.size, self.train = size, train

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, int]:
        index, seed = key if isinstance(key, tuple) else (key, 0)
        from PIL import Image

        path, label = self.samples[index]
        with Image.open(path) as im:
            im = im.convert("RGB")
            if self.pixels == "megvii" and not self.train:
                return _megvii_eval(self.size)(im), label
            if self.train:
                im = _random_resized_crop(im, self.size, random.Random(seed))
            else:
                short = round(self.size / 0.875)
                w, h = im.size
                s = short / min(w, h)
                im = im.resize((max(self.size, round(w * s)), max(self.size, round(h * s))),
                               Image.Resampling.BILINEAR)
                w, h = im.size
                left, top = (w - self.size) // 2, (h - self.size) // 2
                im = im.crop((left, top, left + self.size, top + self.size))
            x = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).view(self.size, self.size, 3)
        if self.pixels == "megvii":
            return x.permute(2, 0, 1).flip(0).float(), label
        x = x.permute(2, 0, 1).float().div_(255)
        mean = torch.tensor(_MEAN).view(3, 1, 1)
        std = torch.tensor(_STD).view(3, 1, 1)
        return (x - mean) / std, label


def _megvii_eval(size: int) -> Any:
    """megvii's evaluation pipeline at ``size`` (their OpencvResize(size / 0.875) + CenterCrop + ToBGRTensor)."""
    import dataclasses

    from .._weights import MEGVII_PREPROCESSING, Transform

    return Transform(dataclasses.replace(MEGVII_PREPROCESSING, resize=round(size / 0.875), crop=size))


def _random_resized_crop(im: Any, size: int, rng: random.Random) -> Any:
    from PIL import Image

    w, h = im.size
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(0.08, 1.0)
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
        if 0 < cw <= w and 0 < ch <= h:
            left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
            break
    else:
        cw = ch = min(w, h)
        left, top = (w - cw) // 2, (h - ch) // 2
    im = im.resize((size, size), Image.Resampling.BILINEAR, box=(left, top, left + cw, top + ch))
    if rng.random() < 0.5:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return im


def open_dataset(spec: str | Dataset, *, size: int, train: bool = True, seed: int = 0,
                 pixels: str = "imagenet") -> Dataset:
    """A dataset from a spec: ``"tiny"`` / ``"tiny:CLASSES:LENGTH"``, a folder (``DIR/train`` and ``DIR/val``
    are used when present; ``pixels`` as in ``ImageFolder``), or a ``Dataset`` passed through.

    Raises:
        FileNotFoundError: the folder does not exist or holds no images.
    """
    if isinstance(spec, Dataset):
        return spec
    if spec == "tiny" or spec.startswith("tiny:"):
        parts = spec.split(":")[1:]
        try:
            num_classes = int(parts[0]) if parts else 2
            length = int(parts[1]) if len(parts) > 1 else 64
        except ValueError:
            raise InvalidOption(f"bad tiny dataset spec {spec!r}; use tiny or tiny:CLASSES:LENGTH") from None
        return TinyDataset(num_classes, size, length, seed=seed if train else seed + 1)
    root = Path(spec).expanduser()
    sub = root / ("train" if train else "val")
    return ImageFolder(sub if sub.is_dir() else root, size, train=train, pixels=pixels)


def split_indices(n: int, k: int, seed: int) -> list[int]:
    """A fixed random subset of ``k`` of ``range(n)`` (all of them when ``k >= n``)."""
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    return sorted(idx[: min(k, n)])


class StepBatches:
    """Batches of ``(index, seed)`` keys for step ``start``, ``start + 1``, ...: a fixed function of the step.

    Epoch ``e`` is a permutation seeded by ``(seed, e)``; rank ``r`` of ``world`` takes every ``world``-th index,
    then consecutive batches of ``batch_size`` (the remainder of an epoch is dropped). Infinite.
    """

    def __init__(self, n: int, batch_size: int, *, seed: int = 0, start: int = 0, rank: int = 0, world: int = 1,
                 indices: Sequence[int] | None = None) -> None:
        self.indices = list(indices) if indices is not None else list(range(n))
        self.per_rank = len(self.indices) // world
        self.steps_per_epoch = self.per_rank // batch_size
        if self.steps_per_epoch < 1:
            raise InvalidOption(f"{len(self.indices)} samples cannot fill one batch of {batch_size} on each of {world} "
                             "processes; lower the batch size")
        self.batch_size, self.seed, self.start, self.rank, self.world = batch_size, seed, start, rank, world

    def _epoch(self, epoch: int) -> list[int]:
        order = list(self.indices)
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        return order[self.rank : self.per_rank * self.world : self.world]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start
        while True:
            epoch, b = divmod(step, self.steps_per_epoch)
            mine = self._epoch(epoch)
            while b < self.steps_per_epoch:
                chunk = mine[b * self.batch_size : (b + 1) * self.batch_size]
                yield [(i, (self.seed * 7919 + epoch) * 1_000_003 + i) for i in chunk]
                b += 1
                step += 1

    def __len__(self) -> int:  # DataLoader asks; the stream is infinite
        return 2**62
