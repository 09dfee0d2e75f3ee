"""Global colour fits in Lab: Reinhard moments, the linear Monge-Kantorovich transform, histogram matching.

Every fit has the same two-stage form, as a colorist grades: gains in linear light (white balance and
exposure are exact there and only approximately affine in Lab; the fit picks per-channel gains, one gain or
none, whichever leaves the smaller residual), then in Lab per-channel tone curves
on a uniform grid (histogram matching; identity otherwise) and ``lab' = matrix @ lab + offset`` (diagonal for
Reinhard, full 3x3 for Monge-Kantorovich, identity for histogram). One correction graph runs all of them. Fits use only trustworthy pixels: NaN, near-black
and clipped pixels are dropped, masks select regions, and statistics are trimmed so a lamp in one shot or a
prop in the other does not pull the grade.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matchcut.color import REC709_LUMA
from matchcut.errors import InputError, SettingError
from matchcut.matching.lab import rgb_to_lab

METHODS = ("reinhard", "mkl", "histogram")
CURVE_POINTS = 256
#: Luminance (Y, linear) below which a pixel is too dark to say anything about colour.
BLACK_LEVEL = 1e-3
#: Fewest usable pixels a shot must have for a fit.
MIN_PIXELS = 256
_MAX_SAMPLES = 60_000  # plenty for a 3x3 covariance and per-channel quantiles; fits stay fast
_TRIM = (1.0, 99.0)  # percentiles kept for moments


@dataclass(frozen=True)
class ColorFit:
    """A fitted correction: ``mix @ (rgb * gains)`` in linear light, then in Lab ``lab' = matrix @ curves(lab) + offset``.

    curves: (3, CURVE_POINTS) values of each channel's tone curve sampled uniformly on [curve_lo, curve_hi];
    outside that range the curve continues with slope 1. residual: the mean absolute difference, in Lab units,
    between the corrected source's and the reference's per-channel quantiles (5th to 95th percentile): 0 means
    the distributions agree; a few units is a good match; tens means the shots do not share content.
    space: the RGB space the fit reads and writes (linear Rec.709 primaries). mix: (3, 3) linear-light colour
    matrix after the gains (identity for the statistics fits; fitted from corresponding pixels by
    matching.light, where a camera or a light's colour mixes channels).
    """

    method: str
    gains: np.ndarray
    matrix: np.ndarray
    offset: np.ndarray
    curves: np.ndarray
    curve_lo: np.ndarray
    curve_hi: np.ndarray
    residual: float = 0.0
    space: str = "Linear Rec.709 (sRGB)"
    notes: tuple[str, ...] = field(default=())
    mix: np.ndarray = field(default_factory=lambda: np.eye(3))

    @property
    def linear(self) -> np.ndarray:
        """The whole linear-light stage as one (3, 3) matrix: ``mix @ diag(gains)``."""
        return np.asarray(self.mix, np.float64) @ np.diag(np.asarray(self.gains, np.float64))

    def to_dict(self) -> dict:
        """JSON-safe parameters (for provenance, jobs and the hosts)."""
        return {"method": self.method, "gains": self.gains.tolist(), "matrix": self.matrix.tolist(), "offset": self.offset.tolist(),
                "curves": np.round(self.curves, 5).tolist(), "curve_lo": self.curve_lo.tolist(),
                "curve_hi": self.curve_hi.tolist(), "residual": self.residual, "space": self.space,
                "notes": list(self.notes), "mix": np.asarray(self.mix).tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> ColorFit:
        return cls(d["method"], np.asarray(d["gains"], np.float64), np.asarray(d["matrix"], np.float64), np.asarray(d["offset"], np.float64),
                   np.asarray(d["curves"], np.float64), np.asarray(d["curve_lo"], np.float64),
                   np.asarray(d["curve_hi"], np.float64), float(d.get("residual", 0.0)),
                   d.get("space", "Linear Rec.709 (sRGB)"), tuple(d.get("notes", ())),
                   np.asarray(d.get("mix", np.eye(3)), np.float64))


def identity_fit(method: str = "identity") -> ColorFit:
    lo, hi = np.array([-10.0, -150.0, -150.0]), np.array([160.0, 150.0, 150.0])
    grid = np.linspace(lo, hi, CURVE_POINTS, axis=1)
    return ColorFit(method, np.ones(3), np.eye(3), np.zeros(3), grid, lo, hi)


def usable_pixels(rgb: np.ndarray, mask: np.ndarray | None, what: str, *, seed: int = 0) -> np.ndarray:
    """Linear RGB samples (N, 3) of the pixels a fit may trust; InputError naming `what` when too few remain.

    rgb: linear Rec.709 (H, W, 3) or (N, 3). Dropped: NaN/Inf, near-black (Y < BLACK_LEVEL), clipped pixels
    (any channel on the image's own clip plateau), and mask weights below 0.5.
    """
    flat = np.asarray(rgb, np.float32).reshape(-1, 3)
    keep = np.isfinite(flat).all(axis=1)
    if mask is not None:
        m = np.asarray(mask, np.float32).reshape(-1)
        if m.shape[0] != flat.shape[0]:
            raise SettingError("mask", f"{what}: mask has {m.shape[0]} pixels, the image {flat.shape[0]}")
        keep &= m >= 0.5
    luma = flat @ REC709_LUMA
    keep &= luma >= BLACK_LEVEL
    top = float(np.nanmax(flat[keep])) if keep.any() else 0.0
    if top > 0:
        near_top = (flat >= 0.995 * top).any(axis=1) & keep
        if near_top.mean() > 0.005:  # a plateau at the maximum is a clip, not a highlight
            keep &= ~near_top
    n = int(keep.sum())
    if n < MIN_PIXELS:
        raise InputError(f"{what}: only {n} usable pixels (need {MIN_PIXELS}): the image is black, clipped "
                         "or masked out; a colour match needs real picture content")
    samples = flat[keep]
    if n > _MAX_SAMPLES:
        samples = samples[np.random.default_rng(seed).choice(n, _MAX_SAMPLES, replace=False)]
    return samples.astype(np.float64)


def _trimmed_mean(rgb: np.ndarray) -> np.ndarray:
    """Per-channel mean of the pixels inside every channel's 2nd-98th percentile (lamps and deep shadows out)."""
    lo, hi = np.percentile(rgb, (2.0, 98.0), axis=0)
    inside = ((rgb >= lo) & (rgb <= hi)).all(axis=1)
    return (rgb[inside] if inside.sum() >= MIN_PIXELS else rgb).mean(axis=0)


def _trimmed(lab: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(lab, _TRIM, axis=0)
    inside = ((lab >= lo) & (lab <= hi)).all(axis=1)
    return lab[inside] if inside.sum() >= MIN_PIXELS else lab


def _sqrtm(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((c + c.T) / 2)
    return (v * np.sqrt(np.clip(w, 1e-9, None))) @ v.T


def _fit_reinhard(src: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s, r = _trimmed(src), _trimmed(ref)
    scale = r.std(axis=0) / np.maximum(s.std(axis=0), 1e-6)
    return np.diag(scale), r.mean(axis=0) - scale * s.mean(axis=0)


def _fit_mkl(src: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The linear Monge-Kantorovich map between the two Gaussians (the least-displacement affine transport)."""
    s, r = _trimmed(src), _trimmed(ref)
    cs, cr = np.cov(s, rowvar=False), np.cov(r, rowvar=False)
    cs_half = _sqrtm(cs)
    cs_half_inv = np.linalg.inv(cs_half)
    matrix = cs_half_inv @ _sqrtm(cs_half @ cr @ cs_half) @ cs_half_inv
    return matrix, r.mean(axis=0) - matrix @ s.mean(axis=0)


def _fit_curves(src: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel quantile mapping, monotonic, sampled on a uniform grid over the source's range."""
    p = np.linspace(0.5, 99.5, 199)
    qs, qr = np.percentile(src, p, axis=0), np.percentile(ref, p, axis=0)
    lo, hi = qs[0] - 1e-3, qs[-1] + 1e-3
    curves = np.empty((3, CURVE_POINTS))
    for c in range(3):
        xs = np.maximum.accumulate(qs[:, c] + np.arange(len(p)) * 1e-6)  # strictly increasing for interp
        grid = np.linspace(lo[c], hi[c], CURVE_POINTS)
        curves[c] = np.interp(grid, xs, qr[:, c])
    return curves, lo, hi


def apply_lab(fit: ColorFit, lab: np.ndarray) -> np.ndarray:
    """The Lab stage of a fit on Lab values (..., 3) of the gained source: curves (slope 1 beyond their
    range), then the affine part."""
    lab = np.asarray(lab, np.float64)
    out = np.empty_like(lab)
    k = fit.curves.shape[1]
    for c in range(3):
        lo, hi = fit.curve_lo[c], fit.curve_hi[c]
        grid = np.linspace(lo, hi, k)
        v = lab[..., c]
        inner = np.interp(v, grid, fit.curves[c])
        out[..., c] = np.where(v < lo, fit.curves[c, 0] + (v - lo), np.where(v > hi, fit.curves[c, -1] + (v - hi), inner))
    return out @ fit.matrix.T + fit.offset


def _residual(fit: ColorFit, src: np.ndarray, ref: np.ndarray) -> float:
    """src: Lab of the source after the gains; ref: Lab of the reference."""
    p = np.linspace(5, 95, 19)
    return float(np.mean(np.abs(np.percentile(apply_lab(fit, src), p, axis=0) - np.percentile(ref, p, axis=0))))


def fit_color(source: np.ndarray, reference: np.ndarray, *, method: str = "mkl",
              source_mask: np.ndarray | None = None, reference_mask: np.ndarray | None = None) -> ColorFit:
    """Fit a correction that makes `source` look like `reference`.

    Args:
        source, reference: linear Rec.709 RGB float32, (H, W, 3) or (N, 3); sizes and framing may differ.
        method: "reinhard" (per-channel mean and spread), "mkl" (linear Monge-Kantorovich: full 3x3 plus
            offset, keeps colour correlations) or "histogram" (per-channel distribution matching).
        source_mask, reference_mask: (H, W) weights in [0, 1]; pixels under 0.5 are ignored.
    Raises:
        SettingError for an unknown method; InputError when either image has too few usable pixels
        (all black, clipped or masked out).
    """
    if method not in METHODS:
        raise SettingError("method", f"unknown colour-match method '{method}'", METHODS)
    src_rgb = usable_pixels(source, source_mask, "input")
    ref_rgb = usable_pixels(reference, reference_mask, "reference")
    ref = rgb_to_lab(ref_rgb).astype(np.float64)
    # Which linear stage explains the change best is decided by the data, not assumed: per-channel gains
    # (a white-balance shift), one gain (exposure) or none (e.g. a saturation change, which moves the channel
    # means without being a gain). Judged by the Monge-Kantorovich fit's residual for every method, because a
    # histogram match fits any candidate perfectly and so cannot tell them apart.
    channel = _trimmed_mean(ref_rgb) / np.maximum(_trimmed_mean(src_rgb), 1e-6)
    luma = REC709_LUMA
    exposure = np.full(3, float(_trimmed_mean(ref_rgb) @ luma / max(_trimmed_mean(src_rgb) @ luma, 1e-6)))
    candidates = [(gains, rgb_to_lab(src_rgb * gains).astype(np.float64)) for gains in (channel, exposure, np.ones(3))]
    gains, src = min(candidates, key=lambda c: _fit_lab("mkl", c[0], c[1], ref).residual)
    return _fit_lab(method, gains, src, ref)


def _fit_lab(method: str, gains: np.ndarray, src: np.ndarray, ref: np.ndarray) -> ColorFit:
    """The Lab stage for source Lab values `src` (after `gains`) towards `ref`, with its residual."""
    base = identity_fit(method)
    if method == "histogram":
        curves, lo, hi = _fit_curves(src, ref)
        fit = ColorFit(method, gains, np.eye(3), np.zeros(3), curves, lo, hi)
    else:
        matrix, offset = (_fit_reinhard if method == "reinhard" else _fit_mkl)(src, ref)
        fit = ColorFit(method, gains, matrix, offset, base.curves, base.curve_lo, base.curve_hi)
    return ColorFit(fit.method, fit.gains, fit.matrix, fit.offset, fit.curves, fit.curve_lo, fit.curve_hi,
                    _residual(fit, src, ref))


def apply_color(fit: ColorFit, rgb: np.ndarray) -> np.ndarray:
    """Apply a fit to linear Rec.709 RGB (..., 3) -> (..., 3) float32; never clips (NumPy reference of the graph)."""
    from matchcut.matching.lab import lab_to_rgb

    rgb = np.asarray(rgb, np.float32) @ fit.linear.T.astype(np.float32)
    return lab_to_rgb(apply_lab(fit, rgb_to_lab(rgb)))
