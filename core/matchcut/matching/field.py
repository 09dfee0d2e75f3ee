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


def bilinear_nodes(xy: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Node indices (N, 4) and weights (N, 4) of positions xy (N, 2) in [0, 1] on a node grid of ``shape``."""
    gh, gw = shape
    u = np.clip(xy[:, 0], 0, 1) * (gw - 1)
    v = np.clip(xy[:, 1], 0, 1) * (gh - 1)
    j0 = np.minimum(np.floor(u).astype(int), gw - 2)
    i0 = np.minimum(np.floor(v).astype(int), gh - 2)
    fu, fv = u - j0, v - i0
    idx = np.stack([i0 * gw + j0, i0 * gw + j0 + 1, (i0 + 1) * gw + j0, (i0 + 1) * gw + j0 + 1], 1)
    wts = np.stack([(1 - fu) * (1 - fv), fu * (1 - fv), (1 - fu) * fv, fu * fv], 1)
    return idx, wts
