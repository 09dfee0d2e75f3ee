"""Scene-cut detection: a colour-histogram distance between two frames, so no blend crosses a cut."""

from __future__ import annotations

import numpy as np

#: Histogram distance above which two frames are taken to be different shots (0: same histogram, 1: disjoint).
DEFAULT_THRESHOLD = 0.5
_BINS = 16


def histogram(display: np.ndarray) -> np.ndarray:
    """Normalised per-channel histogram (3 * 16 bins, each channel summing to 1) of an (H, W, >=3) float32
    sRGB-encoded display-referred image; values are clipped to [0, 1]."""
    rgb = np.clip(np.asarray(display, dtype=np.float32)[..., :3], 0.0, 1.0)
    # A stride keeps 4K frames cheap; a histogram does not need every pixel.
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 65536)))
    rgb = rgb[::step, ::step].reshape(-1, 3)
    hists = [np.bincount(np.minimum((rgb[:, c] * _BINS).astype(np.int64), _BINS - 1), minlength=_BINS)
             for c in range(3)]
    h = np.stack(hists).astype(np.float64)
    return h / h.sum(axis=1, keepdims=True)


def cut_distance(display0: np.ndarray, display1: np.ndarray) -> float:
    """Histogram distance in [0, 1] between two display-referred frames: half the L1 distance of their
    per-channel histograms, averaged over R, G, B. Camera or subject motion moves pixels but keeps the
    histogram; a cut to another shot changes it."""
    h0, h1 = histogram(display0), histogram(display1)
    return float(0.5 * np.abs(h0 - h1).sum(axis=1).mean())


def is_cut(display0: np.ndarray, display1: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """True when the two display-referred frames look like different shots (``cut_distance`` > threshold)."""
    return cut_distance(display0, display1) > threshold
