"""The composite: clean foreground colour at the edges, premultiplied output, light wrap, the comp.

Colours are scene-linear (H, W, 3) float32; alpha is (H, W) float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np


def estimate_foreground(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The foreground's own colour where alpha is partial (edges, hair), with the old background taken out:
    pymatting's multi-level foreground estimation (Germer et al.), (H, W, 3) float32.

    It works on values in [0, 1]; scene-linear highlights above 1 are scaled in and back out, so nothing clips.
    """
    from pymatting import estimate_foreground_ml

    scale = max(1.0, float(np.percentile(rgb, 99.9)))
    image = np.clip(rgb / scale, 0.0, 1.0).astype(np.float64)
    fg = estimate_foreground_ml(image, alpha.astype(np.float64))
    out = (fg * scale).astype(np.float32)
    solid = alpha >= 0.999  # keep solid pixels exactly as shot (values above 1 and below 0 included)
    out[solid] = rgb[solid]
    return out


def premultiply(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """RGBA (H, W, 4) float32: the foreground colour times alpha, and alpha."""
    return np.concatenate([foreground * alpha[..., None], alpha[..., None]], axis=2).astype(np.float32)


def light_wrap(background: np.ndarray, alpha: np.ndarray, *, amount: float = 0.0, size: float = 0.0) -> np.ndarray:
    """The light wrap to add over a comp: the background, blurred, spilling onto the foreground's edge,
    (H, W, 3) float32 (zeros when amount is 0). size: blur sigma in pixels (0: 1/150 of the long side)."""
    if amount <= 0:
        return np.zeros_like(background)
    import cv2

    h, w = alpha.shape
    sigma = size or max(2.0, max(h, w) / 150)
    # How much background surrounds each foreground pixel: blurred (1 - alpha), seen only inside the subject.
    around = cv2.GaussianBlur((1.0 - alpha).astype(np.float32), (0, 0), sigma)
    wrap = around * alpha
    blurred = cv2.GaussianBlur(background * (1.0 - alpha)[..., None], (0, 0), sigma)
    norm = np.maximum(around, 1e-4)[..., None]
    return (amount * wrap[..., None] * blurred / norm).astype(np.float32)


def composite(premult: np.ndarray, background: np.ndarray, *, wrap: np.ndarray | None = None) -> np.ndarray:
    """Over: premultiplied RGBA (H, W, 4) over the background (H, W, 3), plus the light wrap; (H, W, 3)."""
    alpha = premult[..., 3:4]
    out = premult[..., :3] + background * (1.0 - alpha)
    if wrap is not None:
        out = out + wrap
    return out.astype(np.float32)


def match_foreground(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray,
                     method: str = "mkl", strength: float = 1.0) -> np.ndarray:
    """The foreground graded toward the new background (shot match's fit_color/apply_color), fitted on the
    solid part of the subject; strength mixes 0 (as shot) to 1. (H, W, 3) float32 scene-linear."""
    from matchcut.matching import apply_color, fit_color

    solid = alpha > 0.9
    if solid.sum() < 64 or strength <= 0:
        return foreground
    fit = fit_color(foreground, background, method=method, source_mask=solid.astype(np.float32))
    graded = apply_color(fit, foreground)
    return (foreground + strength * (graded - foreground)).astype(np.float32)
