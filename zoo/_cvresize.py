"""megvii's evaluation preprocessing without OpenCV: ``cv2.resize(..., INTER_LINEAR)`` on uint8 images, restated.

megvii's ShuffleNet-Series and SinglePathOneShot ``train.py`` evaluate with ``OpencvResize(256)`` (short side to 256,
long side ``int(256 / short * long + 0.5)``, OpenCV bilinear), torchvision's ``CenterCrop(224)`` (offsets
``int(round((size - 224) / 2.0))``) and ``ToBGRTensor`` (BGR, float 0-255, no mean or std).

OpenCV's bilinear resize differs from ``F.interpolate(mode="bilinear", antialias=True)`` in four ways that matter
for uint8 images: no antialiasing when shrinking; source coordinates ``(d + 0.5) * scale - 0.5`` computed in float32
and clamped at the borders; weights in 11-bit fixed point (``round(w * 2048)``); and a fixed-point vertical pass
whose vector kernel pre-shifts by 4 bits and rounds with ``(a + b + 2) >> 2``. An exact 2x shrink in both axes is
routed to OpenCV's area average (``(sum of 4 + 2) >> 2``). All four are restated here; the fixtures in
``tests/fixtures/zoo/megvii_preproc`` (made once by OpenCV) check the result to within one level.
"""
from __future__ import annotations

import torch

__all__ = ["center_crop_offset", "megvii_resize_size", "resize_linear_u8"]

_COEF_BITS = 11
_COEF_SCALE = 1 << _COEF_BITS


def megvii_resize_size(h: int, w: int, short: int) -> tuple[int, int]:
    """``(height, width)`` after megvii's ``OpencvResize(short)``: the long side is ``int(short / s * l + 0.5)``."""
    if h < w:
        return short, int(short / h * w + 0.5)
    return int(short / w * h + 0.5), short


def center_crop_offset(size: int, crop: int) -> int:
    """torchvision ``CenterCrop``'s offset, ``int(round((size - crop) / 2.0))`` (Python rounds halves to even)."""
    return int(round((size - crop) / 2.0))


def _taps(src: int, dst: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source indices (left/top, right/bottom, both clamped) and their fixed-point weights for each output pixel.

    As in OpenCV: ``f = float32((d + 0.5) * scale - 0.5)`` with ``scale = 1 / (dst / src)`` in double, ``s = floor(f)``,
    weights ``round(float32(1 - frac) * 2048)`` and ``round(float32(frac) * 2048)`` (half to even).
    """
    scale = 1.0 / (dst / src)
    f = ((torch.arange(dst, dtype=torch.float64) + 0.5) * scale - 0.5).to(torch.float32)
    s = torch.floor(f)
    frac = f - s
    s = s.to(torch.int64)
    w0 = torch.round((1.0 - frac) * _COEF_SCALE).to(torch.int64)
    w1 = torch.round(frac * _COEF_SCALE).to(torch.int64)
    return s, w0, w1, frac


def _horizontal(src: int, dst: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    s, w0, w1, _ = _taps(src, dst)
    # outside the image the left tap is pinned to the border with weight 1 (OpenCV resets the fraction to 0)
    edge = (s < 0) | (s >= src - 1)
    s = torch.where(s < 0, torch.zeros_like(s), torch.where(s >= src - 1, torch.full_like(s, src - 1), s))
    w0 = torch.where(edge, torch.full_like(w0, _COEF_SCALE), w0)
    w1 = torch.where(edge, torch.zeros_like(w1), w1)
    return s, (s + 1).clamp(max=src - 1), w0, w1


def _vertical(src: int, dst: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    s, w0, w1, _ = _taps(src, dst)
    # rows are clamped but their weights are kept (OpenCV clips the row pointers, not the fraction)
    return s.clamp(0, src - 1), (s + 1).clamp(0, src - 1), w0, w1


def resize_linear_u8(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)`` for uint8 images ``(..., H, W)``.

    Every channel is resized on its own, so channel order does not matter. Returns uint8 ``(..., height, width)``.
    """
    if x.dtype != torch.uint8:
        raise TypeError(f"expected a uint8 image, got {x.dtype}")
    h, w = x.shape[-2:]
    if height < 1 or width < 1:
        raise ValueError(f"cannot resize to {height}x{width}")
    if (h, w) == (height, width):
        return x.clone()
    if h == 2 * height and w == 2 * width:
        # OpenCV routes an exact 2x shrink to its area average, which for this factor is bilinear up to rounding
        q = x.to(torch.int32)
        s = q[..., 0::2, 0::2] + q[..., 0::2, 1::2] + q[..., 1::2, 0::2] + q[..., 1::2, 1::2]
        return ((s + 2) >> 2).to(torch.uint8)
    x0, x1, a0, a1 = _horizontal(w, width)
    y0, y1, b0, b1 = _vertical(h, height)
    # the horizontal pass runs on the source rows the vertical pass reads (OpenCV does the same), in int32:
    # a row value is < 255 * 2048 and a vertical product < 2**15 * 2048
    used = torch.unique(torch.cat((y0, y1)))
    q = x[..., used, :].to(torch.int32)
    rows = q[..., x0] * a0.to(torch.int32) + q[..., x1] * a1.to(torch.int32)  # (..., len(used), width)
    # OpenCV's vector kernel: (((r0 >> 4) * b0) >> 16) + (((r1 >> 4) * b1) >> 16), then (+ 2) >> 2
    r0 = rows[..., torch.searchsorted(used, y0), :] >> 4
    r1 = rows[..., torch.searchsorted(used, y1), :] >> 4
    v = ((r0 * b0.to(torch.int32)[:, None]) >> 16) + ((r1 * b1.to(torch.int32)[:, None]) >> 16)
    return ((v + 2) >> 2).clamp(0, 255).to(torch.uint8)
