"""A light field: a coarse grid of per-channel log2 gains, as a smooth gain over the frame (matching.light fits
it; matching.regional applies it). Its own module so that neither of those imports the other for it."""

from __future__ import annotations

import numpy as np

#: The largest change of light a field may make, in stops either way.
FIELD_LIMIT_STOPS = 2.5


def field_map(log_gain: np.ndarray, height: int, width: int) -> np.ndarray:
    """The field (gh, gw, 3) log2 as a linear gain (height, width, 3) float32: bilinear between nodes, so the
    light changes smoothly (a falloff or a pool of light has no edges to follow)."""
    import cv2

    gh, gw = log_gain.shape[:2]
    # Node (0, 0) sits on pixel centre 0 and node (gh-1, gw-1) on the last: resize with aligned corners.
    xs = np.linspace(0, gw - 1, width, dtype=np.float32)
    ys = np.linspace(0, gh - 1, height, dtype=np.float32)
    mx, my = np.meshgrid(xs, ys)
    up = cv2.remap(np.ascontiguousarray(log_gain, np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.exp2(np.clip(up, -FIELD_LIMIT_STOPS, FIELD_LIMIT_STOPS)).astype(np.float32)
