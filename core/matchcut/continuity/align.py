"""Alignment of shot A onto shot B: SIFT features, a RANSAC homography, a smooth dense-flow refinement."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matchcut.errors import InputError

ANALYSIS_SIZE = 720  # px, the long side features and differences are computed at (speed; finer is mostly grain)
MIN_INLIERS = 15


class AlignmentError(InputError):
    """Two shots with nothing in common: no homography is supported by enough feature matches."""


@dataclass
class Alignment:
    """How A maps onto B at the analysis scale.

    ``homography``: 3x3 float64, A analysis pixels -> B analysis pixels. ``flow``: (h, w, 2) float32 residual
    displacement in B's analysis frame (smooth, small). ``valid``: (h, w) bool, where A sees B's frame.
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


def _gray8(display: np.ndarray) -> np.ndarray:
    """Display-referred RGB in [0, 1] (H, W, 3) -> uint8 luma for feature detection."""
    luma = display @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    return np.clip(luma * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _homography(gray_a: np.ndarray, gray_b: np.ndarray) -> tuple[np.ndarray | None, int, int]:
    import cv2

    # Local contrast equalised first: dark or flat-lit shots still give features, and both shots the same kind.
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    gray_a, gray_b = clahe.apply(gray_a), clahe.apply(gray_b)
    sift = cv2.SIFT_create(nfeatures=4000)
    ka, da = sift.detectAndCompute(gray_a, None)
    kb, db = sift.detectAndCompute(gray_b, None)
    if da is None or db is None or len(ka) < 2 or len(kb) < 2:
        return None, 0, 0
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(da, db, k=2)
    # Lowe's ratio test: a match only counts when it is clearly better than the second best.
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < 4:
        return None, len(good), 0
    src = np.float32([ka[m.queryIdx].pt for m in good])
    dst = np.float32([kb[m.trainIdx].pt for m in good])
    h, inl = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 3.0, maxIters=5000, confidence=0.999)
    if h is None:
        return None, len(good), 0
    return h, len(good), int(inl.sum())


def _plausible(h: np.ndarray, shape_a: tuple[int, int], shape_b: tuple[int, int]) -> bool:
    """A camera change, not a degenerate fit: the frame keeps its orientation and a sane size."""
    ha, wa = shape_a
    corners = np.float32([[0, 0], [wa, 0], [wa, ha], [0, ha]]).reshape(-1, 1, 2)
    import cv2

    warped = cv2.perspectiveTransform(corners, h).reshape(-1, 2)
    area = 0.5 * abs(np.dot(warped[:, 0], np.roll(warped[:, 1], 1)) - np.dot(warped[:, 1], np.roll(warped[:, 0], 1)))
    ratio = area / float(shape_b[0] * shape_b[1])
    det = np.linalg.det(h[:2, :2])
    return bool(det > 0 and 0.05 < ratio < 20.0)


def align(display_a: np.ndarray, display_b: np.ndarray, *, refine: bool = True, where: str = "shots A and B",
          scales: tuple[float, float] | None = None) -> Alignment:
    """Align A onto B.

    Args:
        display_a, display_b: display-referred RGB (sRGB encoded) in [0, 1], (H, W, 3) float32, full size;
            sizes and aspect ratios may differ.
        refine: add a smooth DIS optical-flow correction for what a homography cannot explain (parallax).
        scales: the images are already at the analysis scale: these are (A's, B's) factors from full size.
    Raises:
        AlignmentError naming the match and inlier counts when the shots have too little in common.
    """
    import cv2

    if scales is None:
        sa, sb = analysis_scale(display_a.shape), analysis_scale(display_b.shape)
        ga, gb = _gray8(resize(display_a, sa)), _gray8(resize(display_b, sb))
    else:
        (sa, sb), ga, gb = scales, _gray8(display_a), _gray8(display_b)
    h, matches, inliers = _homography(ga, gb)
    if h is None or inliers < MIN_INLIERS or not _plausible(h, ga.shape, gb.shape):
        raise AlignmentError(f"{where}: no alignment found: {matches} feature match(es), {inliers} consistent with "
                             f"one camera change (need {MIN_INLIERS}); the shots may have nothing in common")
    hb, wb = gb.shape
    warped = cv2.warpPerspective(ga, h, (wb, hb), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ones = cv2.warpPerspective(np.ones(ga.shape, np.uint8), h, (wb, hb), flags=cv2.INTER_NEAREST)
    # The rim of the warped frame is interpolated against the border: keep a margin out of the comparison.
    valid = cv2.erode(ones, np.ones((7, 7), np.uint8)) > 0
    flow = np.zeros((hb, wb, 2), np.float32)
    if refine:
        flow = _smooth_flow(warped, gb, valid)
    return Alignment(h, flow, valid, sa, sb, matches, inliers, (hb, wb),
                     {"flow_max_px": float(np.abs(flow).max()) if flow.size else 0.0})


def _smooth_flow(warped_a: np.ndarray, gray_b: np.ndarray, valid: np.ndarray, cells: int = 6) -> np.ndarray:
    """Dense flow B -> warped A, kept to its low frequencies so a moved prop is not aligned away.

    Parallax varies slowly across the frame; a continuity change is local. The flow is reduced to the median
    of each of ``cells`` x ``cells`` cells (a change covers a minority of a cell, so it cannot steer it), then
    interpolated smoothly; it is kept only where it lowers the pair's residual, so a planar scene keeps the
    plain homography.
    """
    import cv2

    # Flow assumes constant brightness: bring A's luma to B's level and contrast first (the light changed).
    a, b = warped_a.astype(np.float32), gray_b.astype(np.float32)
    a = (a - a[valid].mean()) * (b[valid].std() / max(float(a[valid].std()), 1e-3)) + b[valid].mean()
    warped_a = np.clip(a + 0.5, 0, 255).astype(np.uint8)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(gray_b, warped_a, None)
    h, w = gray_b.shape
    grid = np.zeros((cells, cells, 2), np.float32)
    for i in range(cells):
        for j in range(cells):
            ys, xs = slice(i * h // cells, (i + 1) * h // cells), slice(j * w // cells, (j + 1) * w // cells)
            ok = valid[ys, xs]
            if ok.mean() > 0.5:
                grid[i, j] = np.median(flow[ys, xs][ok], axis=0)
    smooth = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    smooth = cv2.GaussianBlur(smooth, (0, 0), min(h, w) / cells / 2.0)
    limit = 0.01 * max(h, w)
    smooth = np.clip(smooth, -limit, limit).astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    moved = cv2.remap(warped_a, xs + smooth[..., 0], ys + smooth[..., 1], cv2.INTER_LINEAR)
    # Mean residual after trimming the worst 10 % (the changes themselves, which no flow should explain).
    def residual(img):
        d = np.abs(img.astype(np.float32) - gray_b)[valid]
        return float(np.sort(d)[: max(1, int(0.9 * d.size))].mean())

    if residual(moved) > 0.95 * residual(warped_a):
        return np.zeros((h, w, 2), np.float32)
    return smooth


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
