"""Regional shot match: separate fits for the person and the set, and a local gain field for light that
changed across the frame.

Person and background: the zoo's selfie matte, gated by face detection (the selfie model calls most things
"person"), on both shots; a fit per region; blended with a feathered matte. Local: after the colour fit,
where the two shots line up (ORB features + RANSAC homography), the remaining low-frequency luminance ratio
becomes a smooth gain field, upsampled edge-aware with a guided filter so it does not bleed across edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matchcut.color import REC709_LUMA
from matchcut.matching.fit import ColorFit, apply_color, fit_color

#: The local gain field's resolution (cells across the long side) and its limit, in stops.
GAIN_CELLS = 24
GAIN_LIMIT_STOPS = 2.0
_MIN_INLIERS = 12
_DARK = 0.02  # linear luminance below which a pixel's light ratio gets less weight


@dataclass(frozen=True)
class RegionalFit:
    """A person fit and a background fit (person None: one global fit), plus an optional coarse log2 gain
    field in the input's frame: (h, w) from the statistics path's local fit (one gain, upsampled edge-aware),
    or (gh, gw, 3) from matching.light (a gain per channel on a node grid, upsampled smoothly)."""

    background: ColorFit
    person: ColorFit | None = None
    log_gain: np.ndarray | None = None

    def to_dict(self) -> dict:
        return {"background": self.background.to_dict(),
                "person": self.person.to_dict() if self.person else None,
                "log_gain": None if self.log_gain is None else np.round(self.log_gain, 4).tolist()}


def _display(rgb_linear: np.ndarray) -> np.ndarray:
    from matchcut import color

    return np.clip(color.convert(rgb_linear, "Linear Rec.709 (sRGB)", color.SRGB_DISPLAY), 0.0, 1.0)


def person_matte(rgb: np.ndarray, device=None) -> np.ndarray | None:
    """The gated person matte (H, W) float32 in [0, 1] of a linear Rec.709 frame, or None when no person."""
    from matchcut.vision.segmentation import gated_person_mask

    matte, present = gated_person_mask(_display(rgb), device=device)
    return matte.astype(np.float32) if present else None


def person_mattes(src: np.ndarray, ref: np.ndarray, device=None) -> tuple[np.ndarray, np.ndarray] | None:
    """Person mattes of both linear Rec.709 shots, or None unless both have a person."""
    m_src = person_matte(src, device)
    m_ref = person_matte(ref, device) if m_src is not None else None
    return None if m_src is None or m_ref is None else (m_src, m_ref)


def feather(matte: np.ndarray, fraction: float = 0.01) -> np.ndarray:
    """A soft-edged copy of a matte: Gaussian blur with sigma = `fraction` of the long side."""
    import cv2

    sigma = max(1.0, fraction * max(matte.shape))
    return np.clip(cv2.GaussianBlur(matte.astype(np.float32), (0, 0), sigma), 0.0, 1.0)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return np.maximum(rgb @ REC709_LUMA, 1e-4)


def align(src: np.ndarray, ref: np.ndarray) -> np.ndarray | None:
    """The homography (3, 3) taking reference pixels onto the input's, or None when the shots do not line up."""
    import cv2

    def gray(rgb):
        return (np.clip(_display(rgb) @ np.array([0.299, 0.587, 0.114], np.float32), 0, 1) * 255).astype(np.uint8)

    orb = cv2.ORB_create(3000)
    ka, da = orb.detectAndCompute(gray(src), None)
    kb, db = orb.detectAndCompute(gray(ref), None)
    if da is None or db is None or len(ka) < _MIN_INLIERS or len(kb) < _MIN_INLIERS:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(db, da)
    if len(matches) < _MIN_INLIERS:
        return None
    pts_ref = np.float32([kb[m.queryIdx].pt for m in matches])
    pts_src = np.float32([ka[m.trainIdx].pt for m in matches])
    h, inliers = cv2.findHomography(pts_ref, pts_src, cv2.RANSAC, 3.0)
    if h is None or int(inliers.sum()) < _MIN_INLIERS:
        return None
    return h


def fit_gain_field(corrected: np.ndarray, ref: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Coarse log2 gain field (h, w): what the reference's light has that the colour-matched input lacks.

    Both are linear Rec.709 (H, W, 3) (ref any size); the reference is warped into the input's frame, and the
    ratio of heavily blurred luminances is taken where the warped reference is valid, weighted towards
    well-exposed pixels (normalised convolution), then limited to +-GAIN_LIMIT_STOPS.
    """
    import cv2

    h, w = corrected.shape[:2]
    warped = cv2.warpPerspective(ref.astype(np.float32), homography, (w, h), flags=cv2.INTER_LINEAR)
    valid = cv2.warpPerspective(np.ones(ref.shape[:2], np.float32), homography, (w, h), flags=cv2.INTER_NEAREST)
    scale = GAIN_CELLS / max(h, w)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    luma_ref, luma_in = _luma(warped), _luma(corrected)
    # Dark pixels carry noise, not light: a ratio of two near-blacks says nothing, so weight by exposure.
    weight = valid * np.clip(luma_ref / _DARK, 0, 1) * np.clip(luma_in / _DARK, 0, 1)
    ratio = (np.log2(luma_ref) - np.log2(luma_in)) * weight
    sigma = 0.08 * max(h, w)
    num = cv2.GaussianBlur(ratio, (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    field = np.where(den > 0.05, num / np.maximum(den, 1e-6), 0.0)
    coarse = cv2.resize(field.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return np.clip(coarse, -GAIN_LIMIT_STOPS, GAIN_LIMIT_STOPS)


def gain_map(log_gain: np.ndarray, guide_rgb: np.ndarray) -> np.ndarray:
    """The coarse log2 field as a linear gain at the guide's (H, W): an (h, w) field upsampled edge-aware (guided
    filter) to (H, W); a (gh, gw, 3) light field (matching.light) smoothly to (H, W, 3)."""
    import cv2

    h, w = guide_rgb.shape[:2]
    if log_gain.ndim == 3:
        from matchcut.matching.field import field_map

        return field_map(log_gain, h, w)
    smooth = cv2.resize(log_gain.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    guide = _display(guide_rgb).astype(np.float32)
    radius = max(4, round(0.02 * max(h, w)))
    refined = cv2.ximgproc.guidedFilter(guide, smooth, radius, 1e-3)
    return np.exp2(np.clip(refined, -GAIN_LIMIT_STOPS, GAIN_LIMIT_STOPS)).astype(np.float32)


def fit_regional(src: np.ndarray, ref: np.ndarray, *, method: str = "mkl", person: bool = True,
                 local: bool = False, device=None, warn=lambda message: None) -> RegionalFit:
    """Fit person/background and local corrections of linear Rec.709 `src` towards `ref` ((H, W, 3) each)."""
    mattes = person_mattes(src, ref, device) if person else None
    if person and mattes is None:
        warn("regional match: no person in both shots (face detection found none), one fit for the whole frame")
    if mattes is not None:
        m_src, m_ref = mattes
        fit_p = fit_color(src, ref, method=method, source_mask=m_src, reference_mask=m_ref)
        fit_b = fit_color(src, ref, method=method, source_mask=1 - m_src, reference_mask=1 - m_ref)
    else:
        fit_p, fit_b = None, fit_color(src, ref, method=method)
    log_gain = None
    if local:
        homography = align(src, ref)
        if homography is None:
            warn("local correction skipped: the two shots do not line up (too few matching features)")
        else:
            corrected = apply_regional(RegionalFit(fit_b, fit_p), src, matte=mattes[0] if mattes else None)
            log_gain = fit_gain_field(corrected, ref, homography)
    return RegionalFit(fit_b, fit_p, log_gain)


def apply_regional(fit: RegionalFit, rgb: np.ndarray, matte: np.ndarray | None = None) -> np.ndarray:
    """NumPy reference of a regional correction on linear Rec.709 (H, W, 3): the region fits blended by the
    feathered person matte, then the local gain."""
    out = apply_color(fit.background, rgb)
    if fit.person is not None and matte is not None:
        m = feather(matte)[..., None]
        out = m * apply_color(fit.person, rgb) + (1 - m) * out
    if fit.log_gain is not None:
        gain = gain_map(fit.log_gain, rgb)
        out = out * (gain if gain.ndim == 3 else gain[..., None])
    return out.astype(np.float32)
