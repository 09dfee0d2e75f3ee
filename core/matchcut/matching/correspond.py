"""Pixels the two shots share: features and a homography, then dense flow where it holds, as colour pairs.

Two framings of one scene (a reverse, a pickup, a wider or tighter set-up) show the same surfaces in part of the
frame. Where they do, the reference's pixel is the input's pixel under the reference's light, so the light can be
fitted pixel by pixel instead of from colour distributions (which compare content as much as light). The steps,
at an analysis size of ANALYSIS_SIZE px on the long side:

1. SIFT features on contrast-equalised grey (the light differs, so does brightness), Lowe's ratio test, a MAGSAC
   homography from the reference to the input: the overlap, and where the reference sits in the input's frame.
2. DIS optical flow between the input and the warped reference, both as high-passed log luminance (a light
   that changed across the frame is a low-frequency change of log luminance, so it does not steer the flow),
   forward and backward: a pixel pair is kept only where the two flows agree (parallax, occlusion and moving
   people fail the check and are left out).
3. Pairs on clipped, near-black or strongly edged pixels (where a fraction of a pixel of misalignment changes
   the colour) are dropped; the rest are thinned on a regular grid to at most MAX_PAIRS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matchcut.color import REC709_LUMA

ANALYSIS_SIZE = 640  # px on the long side
MAX_PAIRS = 30_000
MIN_INLIERS = 12
#: Planes (homographies) tried one after another: the set's wall, its floor, a box.
PLANES = 3
#: Forward-backward flow disagreement (analysis px) above which a pixel pair is not trusted.
FLOW_CONSISTENCY = 1.0
#: Largest difference of the (blurred) structure images, in their 8-bit units, for a pixel pair to be kept.
PHOTO_LIMIT = 14.0
_BLACK = 2e-3  # linear luminance below which a pixel says nothing about light


@dataclass
class Pairs:
    """Corresponding pixels of the input and the reference.

    src, ref: (N, 3) float32 linear Rec.709, the input's pixel and the reference's pixel showing the same point.
    xy: (N, 2) float32 positions in the input's frame, normalised to [0, 1] (x / width, y / height).
    overlap: the fraction (0..1) of the input's frame the reference also shows (from the homography).
    matches, inliers: feature matches after the ratio test and those the homography explains.
    dense: True when the flow refinement held (False: homography only). coverage: (h, w) bool at the analysis
    size, where pairs were kept.
    """

    src: np.ndarray
    ref: np.ndarray
    xy: np.ndarray
    overlap: float
    matches: int
    inliers: int
    dense: bool
    coverage: np.ndarray
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.src.shape[0])

    def subset(self, keep: np.ndarray) -> Pairs:
        """The pairs where ``keep`` (N,) bool is true."""
        return Pairs(self.src[keep], self.ref[keep], self.xy[keep], self.overlap, self.matches, self.inliers,
                     self.dense, self.coverage, dict(self.stats))


def _scale(shape: tuple[int, ...], size: int) -> float:
    return min(1.0, size / float(max(shape[:2])))


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    image = np.ascontiguousarray(image, np.float32)
    if scale == 1.0:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.nan_to_num(rgb, nan=0.0, posinf=0.0, neginf=0.0) @ REC709_LUMA, np.float32)


def _grey8(luma: np.ndarray) -> np.ndarray:
    """Linear luminance -> uint8 sRGB-like grey, contrast-equalised (CLAHE) for feature detection."""
    import cv2

    display = np.clip(luma / max(float(np.percentile(luma, 99.5)), 1e-4), 0, 1) ** (1 / 2.2)
    grey = (display * 255 + 0.5).astype(np.uint8)
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(grey)


def _structure8(luma: np.ndarray, sigma: float) -> np.ndarray:
    """High-passed log luminance as uint8: what the flow follows (detail), not the light (low frequencies)."""
    import cv2

    log = cv2.GaussianBlur(np.log2(np.maximum(luma, _BLACK)).astype(np.float32), (0, 0), 0.7)  # grain out
    high = log - cv2.GaussianBlur(log, (0, 0), sigma)
    return np.clip(high * 48.0 + 128.0, 0, 255).astype(np.uint8)


def _matches(src_luma: np.ndarray, ref_luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SIFT matches after Lowe's ratio test: (reference points (M, 2), input points (M, 2)) float32."""
    import cv2

    sift = cv2.SIFT_create(nfeatures=4000)
    ka, da = sift.detectAndCompute(_grey8(src_luma), None)
    kb, db = sift.detectAndCompute(_grey8(ref_luma), None)
    if da is None or db is None or len(ka) < MIN_INLIERS or len(kb) < MIN_INLIERS:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    knn = cv2.BFMatcher(cv2.NORM_L2).knnMatch(db, da, k=2)
    good = [p[0] for p in knn if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    return (np.float32([kb[m.queryIdx].pt for m in good]).reshape(-1, 2),
            np.float32([ka[m.trainIdx].pt for m in good]).reshape(-1, 2))


def homographies(src_luma: np.ndarray, ref_luma: np.ndarray, planes: int = PLANES
                 ) -> tuple[list[np.ndarray], int, int]:
    """Homographies (3, 3) taking reference analysis pixels onto the input's, the first explaining the most
    feature matches, each next one the matches the earlier ones left (another plane of the set: the floor, a
    wall, a box); with the match count and the first one's inliers. Empty when too few features agree.
    Both: (h, w) float32 linear luminance at the analysis size."""
    import cv2

    pts_ref, pts_src = _matches(src_luma, ref_luma)
    found, first = [], 0
    left = np.ones(len(pts_ref), bool)
    while len(found) < planes and left.sum() >= MIN_INLIERS:
        h, inliers = cv2.findHomography(pts_ref[left], pts_src[left], cv2.USAC_MAGSAC, 4.0, maxIters=5000,
                                        confidence=0.999)
        if h is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
            break
        if not _plausible(h, ref_luma.shape, src_luma.shape):
            break
        found.append(h)
        first = first or int(inliers.sum())
        index = np.nonzero(left)[0]
        left[index[inliers.ravel().astype(bool)]] = False
    return found, len(pts_ref), first


def _plausible(h: np.ndarray, shape_ref: tuple[int, int], shape_src: tuple[int, int]) -> bool:
    """A camera change, not a degenerate fit: orientation kept, the reference's frame a sane size in the input's."""
    import cv2

    hr, wr = shape_ref[:2]
    corners = np.float32([[0, 0], [wr, 0], [wr, hr], [0, hr]]).reshape(-1, 1, 2)
    warped = cv2.perspectiveTransform(corners, h).reshape(-1, 2)
    area = 0.5 * abs(np.dot(warped[:, 0], np.roll(warped[:, 1], 1)) - np.dot(warped[:, 1], np.roll(warped[:, 0], 1)))
    ratio = area / float(shape_src[0] * shape_src[1])
    return bool(np.linalg.det(h[:2, :2]) > 0 and 0.05 < ratio < 20.0)


def _consistent_flow(src8: np.ndarray, ref8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DIS flow input -> warped reference (h, w, 2) and where it agrees with the backward flow (h, w) bool."""
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    forward = dis.calc(src8, ref8, None)
    backward = dis.calc(ref8, src8, None)
    h, w = src8.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    mx, my = xs + forward[..., 0], ys + forward[..., 1]
    back = cv2.remap(backward, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(1e3, 1e3))
    error = np.hypot(forward[..., 0] + back[..., 0], forward[..., 1] + back[..., 1])
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return forward, inside & (error < FLOW_CONSISTENCY)


def find_pairs(src: np.ndarray, ref: np.ndarray, *, size: int = ANALYSIS_SIZE, dense: bool = True) -> Pairs | None:
    """Corresponding pixels of ``src`` (the input) and ``ref`` (the reference), or None when they share nothing.

    src, ref: linear Rec.709 (H, W, 3) float32 at any size (they may differ); NaN and Inf are left out.
    dense: refine the homography with forward-backward-checked DIS flow (parallax, lens differences).
    """
    import cv2

    sa, sr = _scale(src.shape, size), _scale(ref.shape, size)
    a, b = _resize(np.nan_to_num(src, nan=0.0, posinf=0.0, neginf=0.0), sa), _resize(
        np.nan_to_num(ref, nan=0.0, posinf=0.0, neginf=0.0), sr)
    la, lb = _luma(a), _luma(b)
    planes, matches, inliers = homographies(la, lb)
    if not planes:
        return None
    h, w = la.shape
    sigma = max(2.0, 0.012 * max(h, w))
    src8 = _structure8(la, sigma)
    first_inside = cv2.warpPerspective(np.ones(lb.shape, np.uint8), planes[0], (w, h), flags=cv2.INTER_NEAREST)
    overlap = float(first_inside.mean())
    warped = np.zeros_like(a)
    valid = np.zeros((h, w), bool)
    best = np.full((h, w), np.inf, np.float32)
    flowed = False
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for k, hom in enumerate(planes):
        plane = cv2.warpPerspective(b, hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        inside = cv2.erode(cv2.warpPerspective(np.ones(lb.shape, np.uint8), hom, (w, h), flags=cv2.INTER_NEAREST),
                           np.ones((5, 5), np.uint8)) > 0
        ref8 = _structure8(_luma(plane), sigma)
        ok = inside
        if dense:
            flow, agree = _consistent_flow(src8, ref8)
            mx, my = xs + flow[..., 0], ys + flow[..., 1]
            plane = cv2.remap(plane, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            ok = agree & (cv2.remap(inside.astype(np.uint8), mx, my, cv2.INTER_NEAREST) > 0)
            ref8 = cv2.remap(ref8, mx, my, cv2.INTER_LINEAR)
            flowed = flowed or bool(ok.any())
        elif k > 0:
            break  # without the flow only the first plane is trusted
        # Which plane a pixel belongs to: the one whose (flowed) structure agrees best with the input's.
        photo = np.abs(cv2.GaussianBlur(ref8.astype(np.float32), (0, 0), 2.0)
                       - cv2.GaussianBlur(src8.astype(np.float32), (0, 0), 2.0))
        take = ok & (photo < PHOTO_LIMIT) & (photo < best)
        warped[take], valid[take], best[take] = plane[take], True, photo[take]
    valid = cv2.erode(valid.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # the blur below reaches 2 px
    # Colour pairs: lightly blurred in both (sub-pixel misregistration and grain average out), away from edges.
    blur_a = cv2.GaussianBlur(a, (0, 0), 0.8)
    blur_b = cv2.GaussianBlur(warped, (0, 0), 0.8)
    log_a = np.log2(np.maximum(la, _BLACK))
    grad = np.hypot(cv2.Sobel(log_a, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(log_a, cv2.CV_32F, 0, 1, ksize=3)) / 8.0
    keep = valid & (grad < max(0.35, float(np.percentile(grad[valid], 85)) if valid.any() else 0.35))
    keep &= (la > _BLACK) & (_luma(blur_b) > _BLACK)
    keep &= np.isfinite(blur_a).all(-1) & np.isfinite(blur_b).all(-1)
    for img in (a, b):  # a plateau at the image's top is a clip: its colour is not the scene's
        top = float(np.max(img)) if img.size else 0.0
        if top > 0 and (img >= 0.995 * top).any(-1).mean() > 0.002:
            clipped = (blur_a if img is a else blur_b) >= 0.98 * top
            keep &= ~clipped.any(-1)
    n = int(keep.sum())
    if n > MAX_PAIRS:  # a regular grid keeps the pairs spread over the overlap
        step = int(np.ceil(np.sqrt(n / MAX_PAIRS)))
        grid = np.zeros_like(keep)
        grid[::step, ::step] = True
        keep &= grid
    ys, xs = np.nonzero(keep)
    xy = np.stack([(xs + 0.5) / w, (ys + 0.5) / h], axis=1).astype(np.float32)
    return Pairs(blur_a[ys, xs].astype(np.float32), blur_b[ys, xs].astype(np.float32), xy, overlap, matches, inliers,
                 flowed, keep, {"analysis": (h, w), "homography": planes[0], "planes": len(planes)})
