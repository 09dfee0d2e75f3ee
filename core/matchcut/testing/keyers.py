"""The keyers Matchcut's screen model is measured against: a plain one-colour difference key, a plane fitted to
the screen then the same key, and the keyer Matchcut shipped before the screen model. Peers, not product code.

Every function takes scene-linear RGB (H, W, 3) float32 and the screen ("green" or "blue") and returns alpha
(H, W) float32 in [0, 1] (1 = foreground).
"""

from __future__ import annotations

import numpy as np

#: Fraction of the short side taken as the frame's border band.
BORDER = 0.08


def lead(rgb: np.ndarray, screen: str) -> np.ndarray:
    """The colour difference: the screen's dominant channel minus the larger of the other two."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return g - np.maximum(r, b) if screen == "green" else b - np.maximum(r, g)


def border_color(rgb: np.ndarray, screen: str) -> np.ndarray:
    """The screen colour, [r, g, b]: the median of the border band's pixels whose dominant channel leads."""
    h, w = rgb.shape[:2]
    b = max(1, int(round(min(h, w) * BORDER)))
    band = np.concatenate([rgb[:b].reshape(-1, 3), rgb[h - b:].reshape(-1, 3), rgb[b:h - b, :b].reshape(-1, 3),
                           rgb[b:h - b, w - b:].reshape(-1, 3)])
    keep = lead(band, screen) > 0.25 * band.max(axis=1)
    return np.median(band[keep] if keep.any() else band, axis=0).astype(np.float32)


def plain_key(rgb: np.ndarray, screen: str) -> np.ndarray:
    """The plain one-colour difference key: 1 - lead(pixel) / lead(screen colour), the screen colour the
    border's median."""
    ref = max(float(lead(border_color(rgb, screen), screen)), 1e-6)
    return np.clip(1.0 - lead(rgb, screen) / ref, 0.0, 1.0).astype(np.float32)


def plane_key(rgb: np.ndarray, screen: str, degree: int = 2) -> np.ndarray:
    """A colour plane fitted to the screen, divided out, then the plain key: each channel of the pixels that are
    clearly screen (lead above half the border colour's) fitted by least squares with a polynomial in x and y
    (degree 1: a plane, 2: quadratic), the plate divided by that field and multiplied by the border colour,
    then keyed as plain_key does with that colour."""
    h, w = rgb.shape[:2]
    color = border_color(rgb, screen)
    ref = max(float(lead(color, screen)), 1e-6)
    sel = lead(rgb, screen) > 0.5 * ref
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = x / max(w - 1, 1) - 0.5, y / max(h - 1, 1) - 0.5
    terms = [np.ones_like(u), u, v] + ([u * u, u * v, v * v] if degree >= 2 else [])
    design = np.stack([t[sel] for t in terms], axis=1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, rgb[sel].astype(np.float64), rcond=None)
    field = np.einsum("khw,kc->hwc", np.stack(terms), coef.astype(np.float32))
    flat = rgb / np.maximum(field, 1e-4) * color
    return np.clip(1.0 - lead(flat, screen) / ref, 0.0, 1.0).astype(np.float32)


def previous_key(rgb: np.ndarray, screen: str) -> np.ndarray:
    """The keyer Matchcut shipped before the screen model (issue 7), kept to measure against: the border's
    median screen colour (pixels whose lead is 25 % of their value), a degree-2 surface per channel fitted to
    the pixels whose lead is at least half of that colour's (sampled to ~40k), and the colour difference
    divided by the surface's at each pixel."""
    h, w = rgb.shape[:2]
    b = max(1, int(round(min(h, w) * BORDER)))
    band = np.concatenate([rgb[:b].reshape(-1, 3), rgb[h - b:].reshape(-1, 3), rgb[b:h - b, :b].reshape(-1, 3),
                           rgb[b:h - b, w - b:].reshape(-1, 3)])
    keep = lead(band, screen) > 0.25 * band.max(axis=1)
    color = np.median(band[keep], axis=0).astype(np.float32)
    lead0 = float(lead(color, screen))
    full_lead = lead(rgb, screen)
    step = max(1, int(np.sqrt(h * w / 40000)))
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    sel = full_lead[::step, ::step] > 0.5 * lead0
    if sel.sum() < 12:
        field = np.broadcast_to(color, rgb.shape)
    else:
        u, v = xs[sel] / max(w - 1, 1) - 0.5, ys[sel] / max(h - 1, 1) - 0.5
        a = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=1)
        coef, *_ = np.linalg.lstsq(a, rgb[::step, ::step][sel].astype(np.float64), rcond=None)
        gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
        gu, gv = gx / max(w - 1, 1) - 0.5, gy / max(h - 1, 1) - 0.5
        full = np.stack([np.ones_like(gu), gu, gv, gu * gu, gu * gv, gv * gv])
        field = np.maximum(np.einsum("khw,kc->hwc", full, coef.astype(np.float32)), 1e-6)
    ref = np.maximum(lead(np.asarray(field, np.float32), screen), 1e-6)
    return np.clip(1.0 - full_lead / ref, 0.0, 1.0).astype(np.float32)


#: name -> function(rgb, screen) -> alpha; the peers the quality benchmark runs beside Matchcut's keyer.
PEERS = {"plain key": plain_key, "fitted plane": plane_key, "previous keyer": previous_key}
