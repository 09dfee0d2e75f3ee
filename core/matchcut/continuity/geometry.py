"""Camera geometry between two shots at the analysis size: SIFT features (mutual best matches), a MAGSAC
homography, the epipole by plane plus parallax, the scene's planes and the flows they and the matches imply."""

from __future__ import annotations

import numpy as np

from matchcut.color import REC709_LUMA

#: Feature matches a homography must be supported by.
MIN_INLIERS = 15
#: Parallax shows when this many feature matches off the homography's plane, and this share of them, agree on
#: one epipole.
PARALLAX_MATCHES, PARALLAX_SHARE = 20, 0.5
#: Planes (homographies) whose flows, with the nearest feature match's, start the dense flow.
PLANES = 3


def gray8(display: np.ndarray) -> np.ndarray:
    """Display-referred RGB in [0, 1] (H, W, 3) -> uint8 luma for feature detection."""
    luma = display @ REC709_LUMA
    return np.clip(luma * 255.0 + 0.5, 0, 255).astype(np.uint8)


def feature_matches(gray_a: np.ndarray, gray_b: np.ndarray, *, mutual: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """SIFT matches that pass Lowe's ratio test: (N, 2) float32 points in A and in B (N may be 0). ``mutual``:
    only those that are also B's best match back to A (a repeating texture matches itself one period away)."""
    import cv2

    # Local contrast equalised first: dark or flat-lit shots still give features, and both shots the same kind.
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    gray_a, gray_b = clahe.apply(gray_a), clahe.apply(gray_b)
    sift = cv2.SIFT_create(nfeatures=4000)
    ka, da = sift.detectAndCompute(gray_a, None)
    kb, db = sift.detectAndCompute(gray_b, None)
    empty = np.zeros((0, 2), np.float32)
    if da is None or db is None or len(ka) < 2 or len(kb) < 2:
        return empty, empty
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(da, db, k=2)
    # Lowe's ratio test: a match only counts when it is clearly better than the second best.
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if mutual and good:
        back = {m.queryIdx: m.trainIdx for m in cv2.BFMatcher(cv2.NORM_L2).match(db, da)}
        good = [m for m in good if back.get(m.trainIdx) == m.queryIdx]
    if not good:
        return empty, empty
    return (np.float32([ka[m.queryIdx].pt for m in good]).reshape(-1, 2),
            np.float32([kb[m.trainIdx].pt for m in good]).reshape(-1, 2))


def fit_homography(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """MAGSAC homography A -> B from matched points, and its (N,) bool inliers (None, all False: no fit)."""
    import cv2

    none = np.zeros(len(src), bool)
    if len(src) < 4:
        return None, none
    h, inl = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 3.0, maxIters=5000, confidence=0.999)
    if h is None:
        return None, none
    return h, inl.ravel().astype(bool)


def find_epipole(src: np.ndarray, dst: np.ndarray, hom: np.ndarray, *, seed: int = 0
             ) -> tuple[np.ndarray | None, np.ndarray]:
    """B's epipole when the matches show parallax the homography cannot explain: (3,) homogeneous (a direction
    when it is at infinity) or None, and the (N,) bool matches consistent with it.

    Plane plus parallax: after the homography (a plane of the scene), every static point's residual runs along
    the line through the epipole, so the epipole is where the lines through each off-plane match (B's point and
    A's point under the homography) meet. Found by RANSAC over pairs of lines; two degrees of freedom instead of
    a fundamental matrix's seven, so a repeating texture or matches mostly on one plane cannot bend it. Kept
    when at least PARALLAX_MATCHES off-plane matches agree with it, PARALLAX_SHARE of them.
    """
    import cv2

    n = len(src)
    none = np.zeros(n, bool)
    if n < 8:
        return None, none
    q = cv2.perspectiveTransform(src.reshape(-1, 1, 2).astype(np.float64), hom).reshape(-1, 2)
    b = dst.astype(np.float64)
    off = np.hypot(*(b - q).T) > 2.0
    if off.sum() < PARALLAX_MATCHES:
        return None, none
    ones = np.ones((n, 1))
    lines = np.cross(np.hstack([b, ones]), np.hstack([q, ones]))
    lines /= np.maximum(np.hypot(lines[:, 0], lines[:, 1]), 1e-9)[:, None]
    idx = np.nonzero(off)[0]
    rng = np.random.default_rng(seed)
    best, best_in = None, np.zeros(n, bool)
    for _ in range(400):
        i, j = rng.choice(idx, 2, replace=False)
        e = np.cross(lines[i], lines[j])
        if not np.isfinite(e).all() or np.abs(e).max() < 1e-12:
            continue
        e = e / np.linalg.norm(e)
        inl = off & (line_distance(b, q, e) < 1.5)
        if inl.sum() > best_in.sum():
            best, best_in = e, inl
    if best is None or best_in.sum() < max(PARALLAX_MATCHES, PARALLAX_SHARE * off.sum()):
        return None, best_in
    # Refined on its inliers: the least-squares point closest to all their lines.
    _, _, vt = np.linalg.svd(lines[best_in])
    e = vt[-1] / np.linalg.norm(vt[-1])
    return e, (~off) | (line_distance(b, q, e) < 1.5)


def line_distance(p: np.ndarray, q: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Distance (px) of points ``p`` (..., 2) from the lines through ``q`` (..., 2) and the homogeneous point
    ``e`` (3,): how far a residual q - p runs off the epipolar direction (0 where q == p)."""
    lx = q[..., 1] * e[2] - e[1]
    ly = e[0] - q[..., 0] * e[2]
    lz = q[..., 0] * e[1] - q[..., 1] * e[0]
    norm = np.sqrt(lx * lx + ly * ly)
    dist = np.abs(lx * p[..., 0] + ly * p[..., 1] + lz) / np.maximum(norm, 1e-9)
    return np.where(norm > 1e-9, dist, 0.0)


def plausible(h: np.ndarray, shape_a: tuple[int, int], shape_b: tuple[int, int]) -> bool:
    """A camera change, not a degenerate fit: the frame keeps its orientation and a sane size."""
    ha, wa = shape_a
    corners = np.float32([[0, 0], [wa, 0], [wa, ha], [0, ha]]).reshape(-1, 1, 2)
    import cv2

    warped = cv2.perspectiveTransform(corners, h).reshape(-1, 2)
    area = 0.5 * abs(np.dot(warped[:, 0], np.roll(warped[:, 1], 1)) - np.dot(warped[:, 1], np.roll(warped[:, 0], 1)))
    ratio = area / float(shape_b[0] * shape_b[1])
    det = np.linalg.det(h[:2, :2])
    return bool(det > 0 and 0.05 < ratio < 20.0)


def spread(points: np.ndarray, shape: tuple[int, int], cells: int = 6) -> float:
    """The share of a ``cells`` x ``cells`` grid over the frame ((H, W)) that holds at least 3 of ``points``
    ((N, 2) x, y): how widely features cover it."""
    h, w = shape
    if len(points) == 0:
        return 0.0
    gx = np.clip((points[:, 0] / w * cells).astype(int), 0, cells - 1)
    gy = np.clip((points[:, 1] / h * cells).astype(int), 0, cells - 1)
    counts = np.bincount(gy * cells + gx, minlength=cells * cells)
    return float((counts >= 3).mean())


def epipolar_directions(pts: np.ndarray, epipole: np.ndarray) -> np.ndarray:
    """The unit direction (H, W, 2) float32 of the epipolar line through each pixel (towards the epipole, or
    the epipole's direction when it lies at infinity)."""
    if abs(epipole[2]) > 1e-9:
        d = epipole[:2] / epipole[2] - pts
    else:
        d = np.broadcast_to(epipole[:2].astype(np.float32), pts.shape).copy()
    norm = np.maximum(np.sqrt((d ** 2).sum(-1, keepdims=True)), 1e-6)
    return (d / norm).astype(np.float32)


def fit_planes(src: np.ndarray, dst: np.ndarray, hom: np.ndarray, inliers: np.ndarray, keep: np.ndarray | None,
            count: int = PLANES) -> list[np.ndarray]:
    """Up to ``count`` homographies A -> B: the main one, then one after another on the matches no earlier plane
    explains (the set's floor, a wall, a large prop). ``keep``: (N,) bool, matches the camera geometry accepts."""
    out = [hom]
    left = ~inliers if keep is None else (~inliers & keep)
    for _ in range(count - 1):
        if left.sum() < 2 * MIN_INLIERS:
            break
        h, inl = fit_homography(src[left], dst[left])
        if h is None or inl.sum() < MIN_INLIERS:
            break
        out.append(h)
        idx = np.nonzero(left)[0]
        left[idx[inl]] = False
    return out


def plane_flows(planes: list[np.ndarray], hom: np.ndarray, xs: np.ndarray, ys: np.ndarray, inverse: bool
                 ) -> list[np.ndarray]:
    """Each plane's flow field, (H, W, 2) float32: B -> A warped by ``hom`` (``inverse`` False), or that warped A
    -> B (True)."""
    import cv2

    pts = np.stack([xs, ys], -1).reshape(-1, 1, 2).astype(np.float64)
    out = []
    for h_k in planes:
        m = hom @ np.linalg.inv(h_k) if not inverse else h_k @ np.linalg.inv(hom)
        q = cv2.perspectiveTransform(pts, m).reshape(xs.shape + (2,))
        out.append((q - np.stack([xs, ys], -1)).astype(np.float32))
    return out


def sparse_flow(src: np.ndarray, dst: np.ndarray, hom: np.ndarray, shape: tuple[int, int], inverse: bool
                 ) -> np.ndarray:
    """The flow of the nearest feature match at every pixel ((H, W, 2) float32; Voronoi, not smoothed)."""
    import cv2
    from scipy.ndimage import distance_transform_edt

    h, w = shape
    a_h = cv2.perspectiveTransform(src.reshape(-1, 1, 2).astype(np.float64), hom).reshape(-1, 2)
    at, to = (a_h, dst) if inverse else (dst, a_h)
    flow = np.zeros((h, w, 2), np.float32)
    seeds = np.ones((h, w), bool)
    xi = np.clip(np.rint(at[:, 0]), 0, w - 1).astype(np.int64)
    yi = np.clip(np.rint(at[:, 1]), 0, h - 1).astype(np.int64)
    flow[yi, xi] = (to - at).astype(np.float32)
    seeds[yi, xi] = False
    iy, ix = distance_transform_edt(seeds, return_distances=False, return_indices=True)
    return flow[iy, ix]
