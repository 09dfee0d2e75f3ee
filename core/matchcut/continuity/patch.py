"""Patch a flagged region of B from the reference A: warp, colour-match, feathered composite, RGBA patch."""

from __future__ import annotations

import numpy as np

from matchcut.continuity.align import Alignment, warp_to_b
from matchcut.continuity.detect import Region


def feathered_matte(shape: tuple[int, int], box: tuple[int, int, int, int], feather: float) -> np.ndarray:
    """(H, W) float32 in [0, 1]: 1 over ``box`` grown by ``feather`` px, falling off smoothly over ``feather`` px."""
    import cv2

    h, w = shape
    x, y, bw, bh = box
    f = max(0.0, float(feather))
    m = np.zeros((h, w), np.float32)
    g = int(round(f))
    m[max(0, y - g):min(h, y + bh + g), max(0, x - g):min(w, x + bw + g)] = 1.0
    if f > 0:
        m = cv2.GaussianBlur(m, (0, 0), f / 2.0)
    return np.clip(m, 0.0, 1.0)


def patch_region(a: np.ndarray, b: np.ndarray, alignment: Alignment, region: Region, fit, *, feather: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild ``region`` of B from A.

    Args:
        a, b: full-resolution linear Rec.709 (H, W, 3) float32 (A the reference, B the shot to fix).
        alignment: compare's; with depth, A is carried per pixel (what surrounds an added prop, from where A
            sees it), and what A does not see is left as B.
        fit: the global colour fit A -> B (compare's); a local gain from a ring around the region follows it,
            so the patch meets its surroundings where light varies across the frame.
        feather: px; 0 picks 4 % of the region's larger side.
    Returns (composite (H, W, 3), patch (H, W, 4) RGBA premultiplied), both linear Rec.709 float32.
    """
    from matchcut.matching import apply_color

    import cv2

    h, w = b.shape[:2]
    warped, valid = warp_to_b(alignment, a, 1.0, (h, w), 1.0)
    if alignment.occluded is not None and alignment.occluded.any():
        # What A does not see cannot come from A: those pixels of the region stay B's.
        hidden = cv2.resize(alignment.occluded.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        valid &= ~hidden
    matched = apply_color(fit, warped).astype(np.float32)
    x, y, bw, bh = region.box
    feather = feather or max(2.0, 0.04 * max(bw, bh))
    matte = feathered_matte((h, w), region.box, feather) * valid.astype(np.float32)
    ring = (feathered_matte((h, w), region.box, 3 * feather) > 0.05) & (matte < 0.01) & valid
    if ring.sum() > 50:
        gain = np.median(b[ring], axis=0) / np.maximum(np.median(matched[ring], axis=0), 1e-5)
        matched = matched * np.clip(gain, 0.5, 2.0).astype(np.float32)
    m = matte[..., None]
    composite = matched * m + b * (1.0 - m)
    patch = np.concatenate([matched * m, m], -1)
    return composite.astype(np.float32), patch.astype(np.float32)
