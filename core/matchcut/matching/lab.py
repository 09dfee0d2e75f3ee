"""CIE Lab from scene-linear Rec.709 and back, and CIEDE2000: the perceptual space shot match fits in.

Lab here is CIE 1976 L*a*b* relative to D65 white, computed from linear Rec.709/sRGB primaries
(``Linear Rec.709 (sRGB)`` in the OCIO config). It is defined for values above 1 (highlights keep
L* > 100), so scene-linear plates need no clipping; negative (out-of-gamut) values pass through the linear
toe. The same formulas are built into the ONNX correction graph (matching/graph.py).
"""

from __future__ import annotations

import numpy as np

#: Linear Rec.709 -> CIE XYZ (D65), and back.
RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]], dtype=np.float64)
XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)
WHITE = RGB_TO_XYZ.sum(axis=1)  # D65 white of the primaries (Y = 1)
EPS = 216.0 / 24389.0  # CIE's threshold between the cube root and the linear toe
KAPPA = 24389.0 / 27.0


def _f(t: np.ndarray) -> np.ndarray:
    return np.where(t > EPS, np.cbrt(np.maximum(t, EPS)), (KAPPA * t + 16.0) / 116.0)


def _f_inv(f: np.ndarray) -> np.ndarray:
    return np.where(f > 6.0 / 29.0, f ** 3, (116.0 * f - 16.0) / KAPPA)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Linear Rec.709 RGB (..., 3) float -> L*a*b* (..., 3) float32 (L* 0-100 for 0-1, more above)."""
    xyz = np.asarray(rgb, dtype=np.float64) @ RGB_TO_XYZ.T / WHITE
    fx, fy, fz = (_f(xyz[..., i]) for i in range(3))
    lab = np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)
    return lab.astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """L*a*b* (..., 3) -> linear Rec.709 RGB (..., 3) float32; the exact inverse of rgb_to_lab."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    xyz = np.stack([_f_inv(fx), _f_inv(fy), _f_inv(fz)], axis=-1) * WHITE
    return (xyz @ XYZ_TO_RGB.T).astype(np.float32)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of two Lab arrays (..., 3) -> (...) float (scikit-image's implementation)."""
    from skimage.color import deltaE_ciede2000

    return deltaE_ciede2000(np.asarray(lab1, np.float64), np.asarray(lab2, np.float64), channel_axis=-1)
