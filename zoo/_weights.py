"""Weights as data, and all download / cache / hash / checkpoint-reading logic of the zoo (one module, by design).

A ``Weights`` entry says where a checkpoint lives, how to check it, what it scored, and how its inputs must be
preprocessed. ``fetch`` puts the file in the cache (download to a temp file, check the SHA-256, rename);
``read_state_dict`` opens ``.pth`` / ``.pth.tar`` / ``.safetensors`` with ``weights_only=True`` and runs the entry's
checkpoint filter (``Weights.checkpoint_filter``: unwrap ``state_dict``, strip ``module.``, remap keys) so that
loading can be strict.
"""
from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from ._atomic import atomic_open
from ._errors import WeightsError

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Preprocessing",
    "Transform",
    "Weights",
    "cache_dir",
    "fetch",
    "file_sha256",
    "matching_entry",
    "read_state_dict",
    "sha256_of",
    "verify",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CACHE_ENV = "ZOO_CACHE"
CHECKPOINT_SUFFIXES = (".pth", ".pth.tar", ".pt", ".safetensors")


def cache_dir() -> Path:
    """Where downloaded weights live: ``$ZOO_CACHE`` or ``~/.cache/paper-zoo/weights``. Not created here."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "paper-zoo" / "weights"


@dataclass(frozen=True)
class Preprocessing:
    """How images must be prepared for a set of weights.

    Attributes:
        resize: shorter side is resized to this many pixels.
        crop: then a centre crop of ``crop`` x ``crop``.
        interpolation: ``"bilinear"`` or ``"bicubic"``.
        channel_order: ``"RGB"`` or ``"BGR"`` (megvii's OpenCV pipelines).
        pixel_scale: pixel values span ``[0, pixel_scale]`` before normalisation (1.0 or 255.0).
        mean: per-channel mean subtracted (in ``channel_order``), or ``None``.
        std: per-channel std divided by, or ``None``.
        resampling: ``"antialias"`` (``F.interpolate(antialias=True)``, as torchvision's tensor ``Resize``; long
            side ``round(resize / short * long)``, crop offset ``(size - crop) // 2``) or ``"opencv"`` (megvii's
            pipeline on uint8 pixels: OpenCV's ``INTER_LINEAR`` restated in ``zoo/_cvresize.py``, long side
            ``int(resize / short * long + 0.5)``, crop offset ``int(round((size - crop) / 2.0))``).
    """

    resize: int = 256
    crop: int = 224
    interpolation: str = "bilinear"
    channel_order: str = "RGB"
    pixel_scale: float = 1.0
    mean: tuple[float, float, float] | None = IMAGENET_MEAN
    std: tuple[float, float, float] | None = IMAGENET_STD
    resampling: str = "antialias"


# megvii's releases (ShuffleNet-Series, SinglePathOneShot) were trained and evaluated through OpenCV: BGR, 0-255,
# no mean/std, shorter side resized to 256 by cv2.resize(INTER_LINEAR), centre crop 224 (see zoo/_cvresize.py)
MEGVII_PREPROCESSING = Preprocessing(resize=256, crop=224, interpolation="bilinear", channel_order="BGR",
                                     pixel_scale=255.0, mean=None, std=None, resampling="opencv")
# the ShuffleNet-Series repository and the OneDrive folder that holds its checkpoints (V1, V2, OneShot)
MEGVII_SERIES_PAGE = ("https://github.com/megvii-model/ShuffleNet-Series "
                      "(models: https://1drv.ms/f/s!AgaP37NGYuEXhRfQxHRseR7eSxXo)")


class Transform:
    """Callable preprocessing: PIL image or RGB tensor (``CHW``/``NCHW``, uint8 0-255 or float 0-1) -> float tensor.

    With ``resampling="opencv"`` a float input is first rounded to the uint8 image it stands for.
    """

    def __init__(self, p: Preprocessing) -> None:
        self.p = p

    def __repr__(self) -> str:
        return f"Transform({self.p!r})"

    def __call__(self, img: Any) -> torch.Tensor:
        x = _to_tensor(img)
        batched = x.dim() == 4
        x = x if batched else x.unsqueeze(0)
        if self.p.resampling == "opencv":  # uint8 levels as floats: scaled only when pixel_scale is not 255
            x = self._opencv(x)
            x = x if self.p.pixel_scale == 255.0 else x * (self.p.pixel_scale / 255.0)
        else:
            x = self._antialias(x) * self.p.pixel_scale
        if self.p.channel_order == "BGR":
            x = x.flip(1)
        if self.p.mean is not None:
            x = x - torch.tensor(self.p.mean, dtype=x.dtype).view(1, -1, 1, 1)
        if self.p.std is not None:
            x = x / torch.tensor(self.p.std, dtype=x.dtype).view(1, -1, 1, 1)
        return x.contiguous() if batched else x[0].contiguous()

    def _antialias(self, x: torch.Tensor) -> torch.Tensor:
        """Resize and crop as floats in [0, 1]."""
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        h, w = x.shape[-2:]
        scale = self.p.resize / min(h, w)
        size = (max(self.p.crop, round(h * scale)), max(self.p.crop, round(w * scale)))
        x = torch.nn.functional.interpolate(
            x, size=size, mode=self.p.interpolation, align_corners=False, antialias=True
        )
        top, left = (size[0] - self.p.crop) // 2, (size[1] - self.p.crop) // 2
        x = x[..., top : top + self.p.crop, left : left + self.p.crop]
        return x.clamp(0.0, 1.0) if self.p.interpolation == "bicubic" else x

    def _opencv(self, x: torch.Tensor) -> torch.Tensor:
        """megvii's OpencvResize + CenterCrop on uint8 pixels; floats 0-255 (whole levels)."""
        from ._cvresize import center_crop_offset, megvii_resize_size, resize_linear_u8

        if self.p.interpolation != "bilinear":
            raise ValueError(f"opencv resampling restates INTER_LINEAR only, not {self.p.interpolation!r}")
        if x.dtype != torch.uint8:  # floats in [0, 1] become the uint8 image OpenCV would have been given
            x = (x.float() * 255.0).round().clamp(0, 255).to(torch.uint8)
        height, width = x.shape[-2:]
        oh, ow = megvii_resize_size(height, width, self.p.resize)
        if min(oh, ow) < self.p.crop:
            raise ValueError(f"resize {self.p.resize} is smaller than the {self.p.crop} crop")
        x = resize_linear_u8(x, oh, ow)
        top, left = center_crop_offset(oh, self.p.crop), center_crop_offset(ow, self.p.crop)
        return x[..., top : top + self.p.crop, left : left + self.p.crop].float()


def _to_tensor(img: Any) -> torch.Tensor:
    if isinstance(img, torch.Tensor):
        x = img
    elif hasattr(img, "convert") and hasattr(img, "size"):  # a PIL image; PIL is not a dependency of zoo
        import numpy as np

        x = torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.uint8).copy()).permute(2, 0, 1)
    else:
        raise TypeError(f"expected a PIL image or a tensor, not {type(img).__name__}")
    if x.dim() not in (3, 4) or x.shape[-3] != 3:
        raise ValueError(f"expected an RGB image of shape (3, H, W) or (N, 3, H, W), got {tuple(x.shape)}")
    return x


@dataclass(frozen=True)
class Weights:
    """One released checkpoint, as data.

    Attributes:
        tag: its name within the model, e.g. ``"IMAGENET1K_V1"`` (``model.tag`` selects it).
        file_name: the cache file name.
        url: direct download URL, or ``None`` when the file sits behind a cloud-drive page (see ``page``).
        sha256: the file's SHA-256 or its published prefix (torchvision publishes 8-10 hex digits in the name);
            ``None`` when unpublished.
        num_params: parameters of the model these weights fit.
        metrics: published figures, e.g. ``{"top1": 76.13, "top5": 92.862}`` (ImageNet-1k val, %).
        preprocessing: how to prepare inputs (see ``transforms()``).
        num_classes: size of the classifier the checkpoint holds.
        categories: the label set (``"imagenet-1k"``).
        source: ``"torchvision"`` or ``"megvii"``.
        checkpoint_filter: maps the file's contents to this model's state dict (timm's ``filter_fn``); ``None``:
            :func:`filter_generic` (unwrap ``state_dict``, strip a ``module.`` prefix).
        paper: arXiv id of the paper the model implements.
        licence: the licence the weights are released under.
        page: the release page (where to get a file that has no direct ``url``).
        recipe: how they were trained, in one line or a link.
    """

    tag: str
    file_name: str
    url: str | None = None
    sha256: str | None = None
    num_params: int | None = None
    metrics: Mapping[str, float] = field(default_factory=dict, hash=False)  # a dict: left out of hash()
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    num_classes: int = 1000
    categories: str = "imagenet-1k"
    source: str = ""
    paper: str | None = None
    licence: str = ""
    page: str | None = None
    recipe: str = ""
    checkpoint_filter: Callable[[Any], dict[str, torch.Tensor]] | None = field(default=None, compare=False, repr=False)

    def transforms(self) -> Transform:
        """The preprocessing these weights expect, as a callable on PIL images or tensors."""
        return Transform(self.preprocessing)

    def category_names(self) -> list[str]:
        """The class names of the classifier's outputs, in order (read from the package's data on demand)."""
        return _category_names(self.categories)

    @property
    def manual(self) -> bool:
        """True when the file must be downloaded by hand (no direct URL)."""
        return self.url is None

    def cache_path(self, root: str | os.PathLike | None = None) -> Path:
        """Where this file lives (or must be put) in the cache."""
        return (Path(root).expanduser() if root is not None else cache_dir()) / self.file_name

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["metrics"] = dict(self.metrics)
        d["preprocessing"] = dataclasses.asdict(self.preprocessing)
        fn = self.checkpoint_filter or filter_generic
        d["checkpoint_filter"] = f"{fn.__module__}.{fn.__qualname__}"
        return d


_LABEL_SETS = {"imagenet-1k": "imagenet1k_categories.txt"}


def _category_names(label_set: str) -> list[str]:
    from importlib.resources import files

    if label_set not in _LABEL_SETS:
        raise WeightsError(f"unknown label set {label_set!r}; known: {', '.join(_LABEL_SETS)}")
    text = files("zoo").joinpath("data").joinpath(_LABEL_SETS[label_set]).read_text(encoding="utf-8")
    return text.splitlines()


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _hash_ok(digest: str, expected: str | None) -> bool:
    return expected is None or digest.lower().startswith(expected.lower())


# Hashes of files already verified, by resolved path, with the size and mtime they had then: a file is hashed once,
# not on every load, and hashed again as soon as it changes. The record is a convenience: losing it costs a re-hash.
VERIFIED_FILE = ".verified.json"


def _verified_record(root: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads((root / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def file_sha256(path: str | os.PathLike, *, root: str | os.PathLike | None = None) -> str:
    """SHA-256 of ``path``, read from the verified-files record in ``root`` (default: the cache folder) when the
    file's size and mtime are those recorded, else computed and recorded (best effort: a read-only cache still
    works, it only hashes every time)."""
    import json

    path = Path(path).expanduser().resolve()
    folder = Path(root).expanduser() if root is not None else cache_dir()
    st = path.stat()
    key, stamp = str(path), [st.st_size, st.st_mtime_ns]
    record = _verified_record(folder)
    seen = record.get(key)
    if isinstance(seen, dict) and seen.get("stamp") == stamp and isinstance(seen.get("sha256"), str):
        return seen["sha256"]
    digest = sha256_of(path)
    record = {k: v for k, v in _verified_record(folder).items() if k != key and Path(k).exists()}
    record[key] = {"stamp": stamp, "sha256": digest}
    try:
        with atomic_open(folder / VERIFIED_FILE, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
    except OSError:
        pass
    return digest


def verify(path: str | os.PathLike, weights: Weights, *, root: str | os.PathLike | None = None) -> Path:
    """``path`` when its SHA-256 matches ``weights.sha256`` (always, when no hash is published).

    Raises:
        WeightsError: one line naming the file, the hash found and the hash expected.
    """
    path = Path(path)
    if weights.sha256 is None:
        return path
    try:
        digest = file_sha256(path, root=root)
    except OSError as e:
        raise WeightsError(f"cannot read {path}: {e.strerror or e}") from None
    if not _hash_ok(digest, weights.sha256):
        raise WeightsError(
            f"{path} is not {weights.tag}: its SHA-256 is {digest}, expected {weights.sha256}...; "
            "delete it (or put the right file there)"
        )
    return path


def matching_entry(entries: Any, path: str | os.PathLike, *, root: str | os.PathLike | None = None) -> Weights | None:
    """The entry of ``entries`` that the local file ``path`` is: same file name and a matching published hash.

    A file that only shares an entry's name is not that entry (its metrics, label set and preprocessing would be a
    claim about a file nobody checked); an entry without a published hash is never matched.
    """
    path = Path(path)
    for w in entries:
        if w.file_name == path.name and w.sha256 is not None:
            try:
                if _hash_ok(file_sha256(path, root=root), w.sha256):
                    return w
            except OSError:
                return None
    return None


def fetch(
    weights: Weights, *, root: str | os.PathLike | None = None, progress: bool = True, timeout: float = 30.0
) -> Path:
    """The cached file of ``weights``, downloading it first when needed.

    The download goes to a temp file in the cache folder; its SHA-256 is checked against ``weights.sha256`` and only
    then is it renamed into place, so an interrupted or corrupt download never sits in the cache. A file already in
    the cache (downloaded, or put there by hand) is checked too, once per change of its size or mtime.

    Raises:
        WeightsError: the file is not cached and cannot be downloaded (one line naming the URL and the exact path
            to put the file at), or its hash does not match (one line naming both hashes).
    """
    dest = weights.cache_path(root)
    if dest.is_file():
        return verify(dest, weights, root=root)
    if weights.url is None:
        raise WeightsError(
            f"{weights.file_name} is published only on {weights.page or 'its release page'}: download it once and "
            f"pass its path as weights=..., or put it at {dest}"
        )
    _download(weights.url, dest, weights.sha256, progress=progress, timeout=timeout)
    return dest


def _download(url: str, dest: Path, sha256: str | None, *, progress: bool, timeout: float) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WeightsError(f"cannot create the cache folder {dest.parent}: {e.strerror or e}") from None
    with atomic_open(dest, "wb", suffix=".part") as out:  # renamed over dest only if all of it arrived and matches
        h = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                length = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
                total = int(length) if length and length.isdigit() else None
                bar = _progress(total, dest.name, progress)
                got = 0
                try:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        out.write(block)
                        h.update(block)
                        got += len(block)
                        bar.update(len(block))
                finally:
                    bar.close()
                if total is not None and got != total:
                    raise OSError(f"connection closed after {got} of {total} bytes")
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or str(e) or type(e).__name__
            raise WeightsError(f"cannot download {url} ({reason}); put the file at {dest}") from None
        digest = h.hexdigest()
        if not _hash_ok(digest, sha256):
            raise WeightsError(
                f"{url} downloaded with SHA-256 {digest[:16]}..., expected {sha256}...; nothing was cached at {dest}"
            )


def _progress(total: int | None, desc: str, enabled: bool):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional for the library
        enabled = False
    if not enabled:

        class _Null:
            def update(self, n: int) -> None: ...

            def close(self) -> None: ...

        return _Null()
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False)


# --------------------------------------------------------------------------------------------------------------------
# reading checkpoints


_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"  # pickle protocol 2+ (torch's legacy, non-zip format starts with a pickled magic number)


def _not_a_checkpoint(path: Path) -> str | None:
    """Why ``path`` cannot be a torch checkpoint, judged from its first bytes (None when it may be one)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError as e:
        return e.strerror or str(e)
    if head.startswith((_ZIP_MAGIC, _PICKLE_MAGIC)):
        return None
    if not head:
        return "the file is empty"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "it is neither a zip nor a pickle file"
    shown = "".join(ch if ch.isprintable() else " " for ch in text[:24]).strip()
    return f"it is a text file, starting {shown!r}"


def _torch_load_reason(e: Exception) -> str:
    """torch.load's failure as one safe line; its advice to retry with ``weights_only=False`` (which would run
    whatever code the file holds) is never passed on."""
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
    m = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if m or "weights_only" in text or "Weights only load failed" in text:
        what = f" ({m.group(1)})" if m else ""
        return (f"it holds Python objects beyond tensors{what}, which are not loaded because unpickling them "
                "could run code")
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


#: A checkpoint's zip archive may declare at most this many bytes in all, and at most ``MAX_EXPANSION`` times its own
#: size (torch.save stores tensors uncompressed: an honest archive is about 1x), in at most ``MAX_RECORDS`` entries.
MAX_CHECKPOINT_BYTES = 16 << 30
MAX_EXPANSION = 4
MAX_RECORDS = 1_000_000


def check_archive(path: str | os.PathLike, error: type[Exception] = WeightsError) -> None:
    """Refuse, in one line and before ``torch.load`` inflates anything, a zip checkpoint whose entries claim more
    bytes than the bounds above (a deflate bomb: 2 MB on disk, gigabytes in memory). Other files pass."""
    import zipfile

    path = Path(path)
    try:
        if not zipfile.is_zipfile(path):
            return
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return  # torch.load says what is wrong with it
    size = path.stat().st_size
    claimed = sum(i.file_size for i in infos)
    if len(infos) > MAX_RECORDS:
        raise error(f"{path} holds {len(infos):,} records (more than {MAX_RECORDS:,}): not loaded")
    if claimed > MAX_CHECKPOINT_BYTES or claimed > MAX_EXPANSION * size + (1 << 20):
        raise error(f"{path} claims {claimed / 2**20:,.0f} MiB uncompressed in a {size / 2**20:,.1f} MiB file "
                    f"(at most {MAX_EXPANSION}x and {MAX_CHECKPOINT_BYTES >> 30} GiB): not loaded (a zip bomb?)")


def _read_file(path: Path) -> Any:
    if path.name.endswith(".safetensors"):
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise WeightsError(f"{path} is a .safetensors file: pip install safetensors to read it") from None
        try:
            return load_file(str(path))
        except Exception as e:  # safetensors raises its own error types
            raise WeightsError(f"{path} is not a readable .safetensors file ({e})") from None
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    why = _not_a_checkpoint(path)
    if why is not None:
        raise WeightsError(f"{path} is not a readable checkpoint ({why})")
    check_archive(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"weights file not found: {path}") from None
    except Exception as e:  # unpickling errors are varied; the message matters, not the type
        raise WeightsError(f"{path} is not a readable checkpoint ({_torch_load_reason(e)})") from None


def _unwrap(obj: Any) -> dict[str, torch.Tensor]:
    """Find the state dict inside common wrappers: {'state_dict': ...}, {'model': ...}, {'state_dict_ema': ...}."""
    for _ in range(3):
        if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return dict(obj)
        if isinstance(obj, Mapping):
            for key in ("state_dict", "model", "model_state_dict", "net"):
                if isinstance(obj.get(key), Mapping):
                    obj = obj[key]
                    break
            else:
                break
    raise WeightsError("the checkpoint holds no state dict (expected tensors, or a 'state_dict' entry of tensors)")


def _strip_prefix(sd: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    if sd and all(k.startswith(prefix) for k in sd):
        return {k[len(prefix) :]: v for k, v in sd.items()}
    return sd


def filter_generic(obj: Any) -> dict[str, torch.Tensor]:
    """Unwrap and strip a DataParallel ``module.`` prefix."""
    return _strip_prefix(_unwrap(obj), "module.")


def filter_megvii(obj: Any) -> dict[str, torch.Tensor]:
    """Megvii's releases: ``{'state_dict': {'module.' + key: tensor}}``; keys otherwise match their wiring."""
    return filter_generic(obj)


def read_state_dict(path: str | os.PathLike, checkpoint_filter: Callable[[Any], dict[str, torch.Tensor]] | None = None
                    ) -> dict[str, torch.Tensor]:
    """Read a ``.pth`` / ``.pth.tar`` / ``.safetensors`` file and run ``checkpoint_filter`` (default
    :func:`filter_generic`; a ``Weights`` entry carries its own) on it."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    return (checkpoint_filter or filter_generic)(_read_file(path))


def load_strict(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], *, skip: tuple[str, ...] = ()) -> None:
    """Strict loading with one clear message naming missing, unexpected and mis-shaped keys.

    Keys under the ``skip`` prefixes (a classifier being re-initialised) are neither loaded nor required.
    """
    own = {k: v for k, v in model.state_dict().items() if not k.startswith(skip or ("\0",))}
    theirs = {k: v for k, v in state_dict.items() if not k.startswith(skip or ("\0",))}
    missing = sorted(set(own) - set(theirs))
    unexpected = sorted(set(theirs) - set(own))
    shapes = sorted(
        f"{k} {tuple(theirs[k].shape)} vs {tuple(own[k].shape)}"
        for k in set(own) & set(theirs)
        if tuple(own[k].shape) != tuple(theirs[k].shape)
    )
    if missing or unexpected or shapes:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", shapes)):
            if items:
                more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
                parts.append(f"{label} {len(items)}: {', '.join(items[:5])}{more}")
        raise WeightsError(f"the weights do not fit {type(model).__name__}: " + "; ".join(parts))
    model.load_state_dict(theirs, strict=not skip)
