"""The relight as a gain on the plate: plate x (1 + strength x added light / ambient), safe in the dark.

A plate pixel is albedo x the light already on it (the ambient estimate E); a virtual light adds dE, so the
relit pixel is albedo x (E + dE) = plate x (1 + dE / E). Everything is scene-linear; nothing is clipped.
"""

from __future__ import annotations

import numpy as np

from matchcut.color import REC709_LUMA

#: The average albedo the automatic ambient estimate assumes (a mid-grey world).
MID_GREY = 0.18
#: The automatic estimate's blur, as a fraction of the frame's width: the light on a form, not its texture.
AMBIENT_RADIUS = 0.03


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec.709 luminance of scene-linear RGB: (H, W, 3) float32 -> (H, W) float32."""
    return np.ascontiguousarray(rgb[..., :3], np.float32) @ REC709_LUMA


def ambient_estimate(rgb: np.ndarray, ambient: float = 0.0) -> np.ndarray:
    """The light already on each pixel: (H, W) float32 scene-linear irradiance.

    rgb: (H, W, 3) float32 scene-linear. ambient > 0: that constant (the artist knows the plate's light level,
    e.g. a CG plate rendered under a uniform light of that value); 0: automatic, the luminance blurred by
    AMBIENT_RADIUS of the width and divided by MID_GREY (so the gain is smooth and the plate's texture stays).
    """
    import cv2

    h, w = rgb.shape[:2]
    if ambient > 0:
        return np.full((h, w), ambient, np.float32)
    y = np.maximum(luminance(rgb), 0.0)
    return (cv2.GaussianBlur(y, (0, 0), max(1.0, AMBIENT_RADIUS * w), borderType=cv2.BORDER_REFLECT)
            / MID_GREY).astype(np.float32)


def relight_gain(shading: np.ndarray, ambient: np.ndarray, *, strength: float = 1.0, floor: float = 0.05,
                 matte: np.ndarray | None = None) -> np.ndarray:
    """The per-pixel RGB gain: (H, W, 3) float32 >= 0.

    shading: (H, W, 3) added irradiance (shading.shade); ambient: (H, W) from ambient_estimate; strength: the
    artist's multiplier (negative takes light away; the gain stops at 0, never below); floor: dark-area
    protection, the ambient never counts as less than floor x its median over the frame (so black areas do not
    divide by ~0 and explode); matte: (H, W) 0..1, where the relight applies (1 - matte keeps the plate).
    """
    median = float(np.median(ambient))
    lowest = max(floor * median, 1e-6)
    e = np.maximum(ambient, lowest)[..., None]
    gain = np.maximum(1.0 + np.float32(strength) * shading / e, 0.0)
    if matte is not None:
        gain = 1.0 + np.clip(matte, 0.0, 1.0)[..., None] * (gain - 1.0)
    return gain.astype(np.float32)
