"""Alignment of shot A onto shot B at the analysis size: SIFT features and a MAGSAC homography; with depth (the
default) the epipole by plane plus parallax, dense flow both ways from the planes', the matches' and RIFE's flow,
checked against each other and the camera geometry, and what A cannot see marked; the homography alone where the
scene is flat. The method before depth (a smooth flow correction) stays as ``alignment="smooth"``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np

from matchcut.continuity.flow import LEARNED_MODEL, depth_flow, rife_flows, smooth_flow
from matchcut.continuity.geometry import (MIN_INLIERS, feature_matches, find_epipole, fit_homography, gray8,
                                         plausible)
from matchcut.errors import InputError

ANALYSIS_SIZE = 720  # px, the long side features and differences are computed at (speed; finer is mostly grain)
ALIGNMENTS = ("depth", "smooth", "homography")
#: Least share of B's frame the homography must bring A onto for a comparison.
MIN_SHARED = 0.05
#: With depth, a band this share of the long side along B's border is not compared (the flow there is guessed).
BORDER = 0.015


class AlignmentError(InputError):
    """Two shots that cannot be compared: no homography is supported by enough feature matches, or A sees too
    little of B's frame; the message gives the counts."""


@dataclass
class Alignment:
    """How A maps onto B at the analysis scale.

    ``homography``: 3x3 float64, A analysis pixels -> B analysis pixels. ``flow``: (h, w, 2) float32 residual
    displacement in B's analysis frame: B pixel p shows what A, warped by the homography, shows at p + flow(p)
    (zero for the homography alone; per pixel with depth). ``valid``: (h, w) bool, where B can be compared
    with A: inside A's frame and not ``occluded``. ``occluded``: (h, w) bool, what A does not see inside its
    frame (occluded in A, disoccluded in B, a side A does not face); ``outside``: (h, w) bool, B's pixels
    beyond A's frame.
    """

    homography: np.ndarray
    flow: np.ndarray
    valid: np.ndarray
    scale_a: float
    scale_b: float
    matches: int
    inliers: int
    size_b: tuple[int, int]  # analysis (h, w)
    stats: dict = field(default_factory=dict)
    occluded: np.ndarray | None = None
    outside: np.ndarray | None = None
    epipole: np.ndarray | None = None  # (3,) homogeneous, B's analysis frame; None without parallax


def analysis_scale(shape: tuple[int, ...], size: int = ANALYSIS_SIZE) -> float:
    """The factor that brings an image's long side down to ``size`` (never up)."""
    return min(1.0, size / float(max(shape[:2])))


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    """(H, W, ...) float32 resized by ``scale`` with area averaging (no aliasing of grain)."""
    import cv2

    if scale == 1.0:
        return np.ascontiguousarray(image, np.float32)
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(np.ascontiguousarray(image, np.float32), size, interpolation=cv2.INTER_AREA)


def align(display_a: np.ndarray, display_b: np.ndarray, *, alignment: str = "depth", where: str = "shots A and B",
          scales: tuple[float, float] | None = None, device=None) -> Alignment:
    """Align A onto B.

    Args:
        display_a, display_b: display-referred RGB (sRGB encoded) in [0, 1], (H, W, 3) float32, full size;
            sizes and aspect ratios may differ.
        alignment: one of ALIGNMENTS. "depth": per-pixel correspondence that holds with depth (dense flow
            checked forward and backward and against the camera geometry; what one shot cannot see is marked
            not comparable), the homography alone where the scene is flat; "smooth": the homography with a
            smooth flow correction (the method before depth); "homography": the homography alone.
        scales: the images are already at the analysis scale: these are (A's, B's) factors from full size.
        device: for the learned flow (the zoo's RIFE), as the tools pass it; None: the default.
    Raises:
        AlignmentError naming the match and inlier counts when the shots have too little in common, or the
        shared fraction when they barely overlap.
    """
    import cv2

    from matchcut.errors import SettingError

    if alignment not in ALIGNMENTS:
        raise SettingError("alignment", f"unknown alignment '{alignment}'", ALIGNMENTS)
    if scales is None:
        sa, sb = analysis_scale(display_a.shape), analysis_scale(display_b.shape)
        display_a, display_b = resize(display_a, sa), resize(display_b, sb)
    else:
        sa, sb = scales
    ga, gb = gray8(display_a), gray8(display_b)
    src, dst = feature_matches(ga, gb, mutual=alignment == "depth")
    h, inl = fit_homography(src, dst)
    inliers = int(inl.sum())
    if h is None or inliers < MIN_INLIERS or not plausible(h, ga.shape, gb.shape):
        raise AlignmentError(f"{where}: no alignment found: {len(src)} feature match(es), {inliers} consistent with "
                             f"one camera change (need {MIN_INLIERS}); the shots may have nothing in common")
    hb, wb = gb.shape
    warped = cv2.warpPerspective(ga, h, (wb, hb), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ones = cv2.warpPerspective(np.ones(ga.shape, np.uint8), h, (wb, hb), flags=cv2.INTER_NEAREST)
    # The rim of the warped frame is interpolated against the border: keep a margin out of the comparison.
    inside = cv2.erode(ones, np.ones((7, 7), np.uint8)) > 0
    if inside.mean() < MIN_SHARED:
        raise AlignmentError(f"{where}: the shots share {100 * inside.mean():.0f} % of B's frame (need "
                             f"{100 * MIN_SHARED:.0f} %): too little overlap to compare")
    flow = np.zeros((hb, wb, 2), np.float32)
    occluded = np.zeros((hb, wb), bool)
    epipole = None
    stats = {"model": "homography"}
    if alignment == "smooth":
        flow = smooth_flow(warped, gb, inside)
        stats["model"] = "homography + smooth flow"
    elif alignment == "depth":
        epipole, agree = find_epipole(src, dst, h)
        stats["parallax_matches"] = int(agree.sum() - (inl & agree).sum()) if epipole is not None else 0
        learned = partial(rife_flows, display_a, display_b, h, device, stats) if LEARNED_MODEL else None
        dense = depth_flow(warped, gb, inside, h, epipole, {"src": src, "dst": dst, "inliers": inl,
                                                             "geometry": agree if epipole is not None else None},
                            learned)
        if dense is not None:
            flow, occluded, inside, more = dense
            stats.update(more)
            stats["model"] = "dense"
            # Along B's border the flow has one side to hold on to: a band of BORDER of the long side.
            band = max(2, int(round(BORDER * max(hb, wb))))
            inside[:band], inside[-band:], inside[:, :band], inside[:, -band:] = False, False, False, False
            occluded &= inside
        else:
            epipole = None
    stats["flow_max_px"] = float(np.abs(flow).max()) if flow.size else 0.0
    return Alignment(h, flow, inside & ~occluded, sa, sb, len(src), inliers, (hb, wb), stats, occluded=occluded,
                     outside=~inside, epipole=epipole if alignment == "depth" else None)


def scaled_homography(al: Alignment, scale_a: float, scale_b: float) -> np.ndarray:
    """The homography for A pixels at ``scale_a`` -> B pixels at ``scale_b`` (1.0 = full resolution)."""
    sa = np.diag([al.scale_a / scale_a, al.scale_a / scale_a, 1.0])
    sb = np.diag([scale_b / al.scale_b, scale_b / al.scale_b, 1.0])
    return sb @ al.homography @ sa


def warp_to_b(al: Alignment, image_a: np.ndarray, scale_a: float, shape_b: tuple[int, int], scale_b: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Warp an A image (at ``scale_a`` of A's full size) into B's frame at ``scale_b``.

    Returns (warped (h, w, C) float32, valid (h, w) bool). Scene-linear or display values alike: the warp
    only resamples (bilinear).
    """
    import cv2

    h, w = shape_b
    hom = scaled_homography(al, scale_a, scale_b)
    image_a = np.ascontiguousarray(image_a, np.float32)
    flow = cv2.resize(al.flow, (w, h), interpolation=cv2.INTER_LINEAR) * (scale_b / al.scale_b)
    # Map every B pixel to A: B (+ flow) -> H^-1 -> A.
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    pts = np.stack([xs + flow[..., 0], ys + flow[..., 1], np.ones_like(xs)], -1) @ np.linalg.inv(hom).T
    mx = (pts[..., 0] / pts[..., 2]).astype(np.float32)
    my = (pts[..., 1] / pts[..., 2]).astype(np.float32)
    warped = cv2.remap(image_a, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if warped.ndim == 2 and image_a.ndim == 3:
        warped = warped[..., None]
    ha, wa = image_a.shape[:2]
    margin = 3.0 * scale_b / al.scale_b
    valid = (mx >= margin) & (my >= margin) & (mx <= wa - 1 - margin) & (my <= ha - 1 - margin)
    return warped.astype(np.float32), valid
