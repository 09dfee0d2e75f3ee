"""Fit a background or a mask of another size to the plate: fill (crop), fit (letterbox) or stretch."""

from __future__ import annotations

import numpy as np

from matchcut.errors import SettingError

FITS = ("fill", "fit", "stretch")


def fit_image(image: np.ndarray, height: int, width: int, how: str = "fill") -> np.ndarray:
    """``image`` (h, w, C) or (h, w) float32 resized to (height, width[, C]).

    fill: scale to cover the frame, centred, the overflow cropped (no bars, some edge lost);
    fit: scale to fit inside, centred, the rest black (nothing lost, bars);
    stretch: scale each axis on its own (nothing lost, proportions change).
    """
    import cv2

    if how not in FITS:
        raise SettingError("background_fit", f"unknown fit {how!r}", FITS)
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    if how == "stretch":
        out = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if h * w > height * width else cv2.INTER_LINEAR)
        return out.astype(np.float32)
    scale = max(height / h, width / w) if how == "fill" else min(height / h, width / w)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, (nw, nh), interpolation=interp).astype(np.float32)
    if scaled.ndim < image.ndim:
        scaled = scaled[..., None]
    out = np.zeros((height, width, *image.shape[2:]), np.float32)
    # Source window (crop for fill) and destination window (letterbox for fit), both centred.
    sy, sx = max(0, (nh - height) // 2), max(0, (nw - width) // 2)
    dy, dx = max(0, (height - nh) // 2), max(0, (width - nw) // 2)
    ch, cw = min(nh, height), min(nw, width)
    out[dy:dy + ch, dx:dx + cw] = scaled[sy:sy + ch, sx:sx + cw]
    return out


def same_aspect(a: tuple[int, int], b: tuple[int, int], tolerance: float = 0.01) -> bool:
    """Whether two (height, width) sizes have the same aspect ratio within ``tolerance`` (relative)."""
    return abs((a[1] / a[0]) / (b[1] / b[0]) - 1.0) <= tolerance
