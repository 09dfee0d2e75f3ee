"""Difference detection on an aligned pair: photometric normalisation, multi-scale difference, regions."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from matchcut.color import REC709_LUMA

CATEGORIES = ("appeared", "disappeared", "moved", "changed colour")
WORKING = "Linear Rec.709 (sRGB)"


@dataclass
class Region:
    """One flagged difference, in B's full-resolution pixels.

    ``box``: (x, y, w, h). ``score``: 0..1, how strong the difference is. ``category``: one of CATEGORIES.
    ``on``: "person" (wardrobe, hair) or "set", or "unknown" without a person matte. ``origin``: for a move,
    the box (x, y, w, h) where the prop was (in B's frame: where A shows it once aligned), else None; ``box``
    is where it is now.
    """

    id: int
    box: tuple[int, int, int, int]
    score: float
    category: str
    on: str
    area: int
    origin: tuple[int, int, int, int] | None = None

    def to_dict(self) -> dict:
        return {**asdict(self), "box": list(self.box), "origin": list(self.origin) if self.origin else None}


def normalise(aligned_a: np.ndarray, b: np.ndarray, valid: np.ndarray, *, method: str = "mkl",
              local: bool = False) -> tuple[np.ndarray, object]:
    """Bring aligned A's light and colour to B's with shot match's global fit, over the shared area, then
    refine that fit on corresponding pixels (the pair is aligned, so each A pixel has its B pixel); with
    ``local``, then a smooth gain per channel for light that changed across the frame (local_gain).

    Args: linear Rec.709 (H, W, 3) float32 both, ``valid`` (H, W) bool (the pixels to fit on). Returns
    (normalised A, ColorFit).
    """
    from matchcut.matching import apply_color, fit_color

    # A global fit needs statistics, not every pixel: fit on about 40k pixels, apply to all.
    step = max(1, int(np.sqrt(valid.size / 40_000)))
    mask = valid[::step, ::step].astype(np.float32)
    fit = fit_color(aligned_a[::step, ::step], b[::step, ::step], method=method, source_mask=mask, reference_mask=mask)
    fit = _refine_fit(fit, aligned_a[::step, ::step], b[::step, ::step], valid[::step, ::step])
    out = apply_color(fit, aligned_a).astype(np.float32)
    if local:
        out = (out * local_gain(out, b, valid)).astype(np.float32)
    return out, fit


#: The local gain: cells across the frame's long side, the least share of a cell's pixels it is measured on,
#: and its limit in stops either way.
LOCAL_CELLS, LOCAL_COVER, LOCAL_LIMIT = 12, 0.25, 1.0


def local_gain(a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """A smooth gain per channel that brings ``a`` to ``b`` where the light changed across the frame (a fill
    light on the floor, a falloff), (H, W, 3) float32 around 1.

    The log2 ratio b / a is measured as a median in LOCAL_CELLS cells across the long side (robust to a change
    covering part of a cell), then each cell is replaced by the median of it and its 8 neighbours (a prop that
    changed fills a cell or two, light a larger area), upsampled and smoothed edge-aware along B's luma (the
    guided filter), and held within LOCAL_LIMIT stops. Args: linear Rec.709 (H, W, 3) float32, ``valid``
    (H, W) bool: the pixels to measure on.
    """
    import cv2

    h, w = valid.shape
    luma = REC709_LUMA
    ok = valid & (a @ luma > 0.01) & (b @ luma > 0.01) & (a.min(-1) > 1e-4) & (b.min(-1) > 1e-4)
    ratio = np.log2(np.maximum(b, 1e-4) / np.maximum(a, 1e-4)).astype(np.float32)
    cell = max(h, w) / float(LOCAL_CELLS)
    gh, gw = max(1, round(h / cell)), max(1, round(w / cell))
    grid = np.full((gh, gw, 3), np.nan, np.float32)
    for i in range(gh):
        for j in range(gw):
            ys, xs = slice(i * h // gh, (i + 1) * h // gh), slice(j * w // gw, (j + 1) * w // gw)
            m = ok[ys, xs]
            if m.mean() >= LOCAL_COVER:
                grid[i, j] = np.median(ratio[ys, xs][m], axis=0)
    if np.isnan(grid).all():
        return np.ones((h, w, 3), np.float32)
    overall = np.nanmedian(grid.reshape(-1, 3), axis=0)
    grid = np.where(np.isnan(grid), overall, grid)
    padded = np.pad(grid, ((1, 1), (1, 1), (0, 0)), mode="edge")
    robust = np.median(np.stack([padded[di:di + gh, dj:dj + gw] for di in range(3) for dj in range(3)]), 0)
    field = cv2.resize(robust, (w, h), interpolation=cv2.INTER_LINEAR)
    guide = np.ascontiguousarray(np.log2(np.maximum(b @ luma, 1e-3)).astype(np.float32))
    radius = max(2, int(cell / 2))
    field = np.stack([cv2.ximgproc.guidedFilter(guide, np.ascontiguousarray(field[..., c]), radius, 0.05)
                      for c in range(3)], -1)
    return np.exp2(np.clip(field, -LOCAL_LIMIT, LOCAL_LIMIT)).astype(np.float32)


def _refine_fit(fit, a: np.ndarray, b: np.ndarray, mask: np.ndarray, *, rounds: int = 4):
    """``fit`` followed by a robust affine map in Lab from its output to B on corresponding pixels.

    Matching distributions (shot match's fit) cannot tell a colour's shift from the scene's: a narrow palette
    (a red retina) or a planted prop makes its 3x3 matrix wander. Pixel pairs pin it: a least-squares affine
    map, pulled towards identity (ridge) and refitted on the pixels it explains best (changes, misaligned
    edges and noise are the rest), composed into the fit's own matrix and offset.
    """
    from dataclasses import replace

    from matchcut.matching.fit import BLACK_LEVEL, apply_lab
    from matchcut.matching.lab import rgb_to_lab

    src = a[mask].astype(np.float64)
    ref = b[mask].astype(np.float64)
    luma = REC709_LUMA
    keep = np.isfinite(src).all(1) & np.isfinite(ref).all(1) & (src @ luma >= BLACK_LEVEL) & (ref @ luma >= BLACK_LEVEL)
    if keep.sum() < 256:
        return fit
    x = apply_lab(fit, rgb_to_lab(src[keep] * fit.gains))
    y = rgb_to_lab(ref[keep]).astype(np.float64)
    design = np.concatenate([x, np.ones((len(x), 1))], 1)
    ident = np.concatenate([np.eye(3), np.zeros((1, 3))], 0)  # (4, 3): the identity map
    ridge = np.diag([1.0, 1.0, 1.0, 0.0]) * 0.05 * len(x)  # towards identity; the offset is free
    use = np.ones(len(x), bool)
    coef = ident
    for _ in range(rounds):
        d = design[use]
        coef = np.linalg.solve(d.T @ d + ridge, d.T @ y[use] + ridge @ ident)
        err = np.sqrt(((design @ coef - y) ** 2).sum(1))
        use = err <= 2.5 * max(float(np.median(err)), 0.5)
    m2, o2 = coef[:3].T, coef[3]
    return replace(fit, matrix=m2 @ fit.matrix, offset=m2 @ fit.offset + o2)


#: Blurs (Gaussian sigma, analysis px) tried to find the two shots' common sharpness; one shot counts as blurrier
#: when softening the other matches them SHARPER_BY better than softening it the same amount.
SHARPNESS_SIGMAS, SHARPER_BY = (0.75, 1.0, 1.5, 2.0, 3.0, 4.0), 0.85


def soften(display: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, 3) float32 blurred by a Gaussian of ``sigma`` px (0: unchanged)."""
    import cv2

    return cv2.GaussianBlur(display, (0, 0), sigma) if sigma > 0 else display


def common_sharpness(display_a: np.ndarray, display_b: np.ndarray, valid: np.ndarray) -> dict:
    """Which shot is blurrier (a soft focus, motion blur, a softer lens) and by how much.

    Args: aligned display-referred (H, W, 3) float32 in [0, 1], ``valid`` (H, W) bool. For each sigma of
    SHARPNESS_SIGMAS the median luma difference on detailed pixels is taken with A softened and with B
    softened; a misalignment gains the same from either, a difference of sharpness only from softening the
    sharper shot. Returns {"blurrier": "A", "B" or None, "sigma_px": the blur (analysis px) that brings the
    sharper shot to the other's, 0.0 when neither is blurrier, "note": one line for the report}.
    """
    import cv2

    luma = REC709_LUMA
    la, lb = display_a @ luma, display_b @ luma
    detail = np.maximum(_gradient_energy(la), _gradient_energy(lb))
    mask = cv2.erode(valid.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    none = {"blurrier": None, "sigma_px": 0.0, "note": ""}
    if mask.sum() < 256:
        return none
    mask &= detail >= np.percentile(detail[mask], 70)
    base = float(np.median(np.abs(la - lb)[mask]))
    errors = {"B": [], "A": []}  # "B": A softened (B is the blurrier one), "A": B softened
    for sigma in SHARPNESS_SIGMAS:
        errors["B"].append(float(np.median(np.abs(cv2.GaussianBlur(la, (0, 0), sigma) - lb)[mask])))
        errors["A"].append(float(np.median(np.abs(la - cv2.GaussianBlur(lb, (0, 0), sigma))[mask])))
    best = (SHARPER_BY, None, 0.0)
    for who, other in (("B", "A"), ("A", "B")):
        ratio = min(e / max(o, 1e-6) for e, o in zip(errors[who], errors[other]))
        k = int(np.argmin(errors[who]))
        if ratio < best[0] and errors[who][k] < base:
            best = (ratio, who, SHARPNESS_SIGMAS[k])
    if best[1] is None:
        return none
    other = "A" if best[1] == "B" else "B"
    return {"blurrier": best[1], "sigma_px": best[2],
            "note": f"{best[1]} is blurrier than {other} (about {best[2]:g} px of blur at the analysis size); "
                    f"compared at {best[1]}'s sharpness ({other} softened to it)"}


#: Display-referred levels at which a channel is taken as clipped (8-bit 250 and 5): above or below them a
#: shot only says "at least" or "at most" this, and JPEG ringing spreads a clip a little past its edge.
CLIP_HIGH, CLIP_LOW = 0.98, 0.02
#: How far (display units) the other shot may fall short of a clipped value and still agree with it: the
#: colour fit's error near the clip and the compression of the clipped edge.
CLIP_MARGIN = 0.05


def clipped(display: np.ndarray, *, spread: int = 2) -> np.ndarray:
    """Where a shot's own display-referred values are clipped: (H, W, 3) int8, +1 at the top, -1 at the bottom.

    Args: ``display`` (H, W, 3) sRGB-encoded in [0, 1] (float values above 1 are clipped by the display
    transform, so they count too). ``spread``: px the marks grow by (compression rings around a clip).
    """
    import cv2

    hi = (display >= CLIP_HIGH).astype(np.uint8)
    lo = (display <= CLIP_LOW).astype(np.uint8)
    out = np.zeros(display.shape, np.int8)
    if spread > 0:
        kernel = np.ones((2 * spread + 1, 2 * spread + 1), np.uint8)
        out[cv2.dilate(lo, kernel) > 0] = -1
        out[cv2.dilate(hi, kernel) > 0] = 1  # next to both (a thin dark line on a burnt-out sky): the top clip
    # A pixel's own clip decides over a neighbour's.
    out[lo > 0] = -1
    out[hi > 0] = 1
    return out


def censor(a: np.ndarray, clip_a: np.ndarray, b: np.ndarray, clip_b: np.ndarray, margin: float = CLIP_MARGIN,
           *, colour: bool = True) -> np.ndarray:
    """B with every difference from A that clipping can explain taken out: compare ``a`` with the result.

    Each value stands for the interval its clip allows: a channel clipped at the top says only "at least
    this", one at the bottom "at most this", both with ``margin`` of slack; with ``colour`` the other channels
    of a pixel with a clipped channel get half that either way (its colour, a mix of all three, is uncertain, but
    its texture in the channels that did not clip is not: the structural comparison passes colour=False).
    The rest are exact.
    Where A's and B's intervals overlap the result is ``a``; where they do not, ``a`` plus the gap between
    them, signed. Without clipping anywhere the result is ``b``. (H, W, 3) float32 display values and
    int8 marks from clipped().
    """
    def interval(x, clip):
        slack = np.where((clip != 0).any(-1, keepdims=True), 0.5 * margin, 0.0) if colour else 0.0
        lo = np.where(clip > 0, x - margin, x - slack)
        hi = np.where(clip < 0, x + margin, x + slack)
        return np.where(clip < 0, -np.inf, lo), np.where(clip > 0, np.inf, hi)

    lo_a, hi_a = interval(a, clip_a)
    lo_b, hi_b = interval(b, clip_b)
    gap = np.where(lo_b > hi_a, lo_b - hi_a, np.where(hi_b < lo_a, hi_b - lo_a, 0.0))
    return (a + gap).astype(np.float32)


def lab(display: np.ndarray) -> np.ndarray:
    """Display-referred sRGB (H, W, 3) in [0, 1] -> CIE L*a*b* (H, W, 3) float32 (L* 0..100)."""
    import cv2

    return cv2.cvtColor(np.clip(display, 0.0, 1.0).astype(np.float32), cv2.COLOR_RGB2Lab)


def _dssim(x: np.ndarray, y: np.ndarray, sigma: float) -> np.ndarray:
    """1 - local SSIM of two (H, W) float32 images in [0, 100] (L*), Gaussian window; 0 = same structure."""
    import cv2

    def blur(v):
        return cv2.GaussianBlur(v, (0, 0), sigma)

    mx, my = blur(x), blur(y)
    vx = np.maximum(blur(x * x) - mx * mx, 0)
    vy = np.maximum(blur(y * y) - my * my, 0)
    cxy = blur(x * y) - mx * my
    # SSIM's structure and contrast terms only: exposure is the normaliser's job and its residual shows in the
    # colour term. Twice SSIM's default c2 keeps grain on flat areas from reading as structure.
    c2 = 2.0 * (0.03 * 100) ** 2
    s = (2 * cxy + c2) / (vx + vy + c2)
    return np.clip(1.0 - s, 0.0, 2.0) / 2.0


#: Weights of the lightness and the chroma difference (against the hue's 1) in the colour term of a pair aligned
#: with depth: a light that falls differently on what has depth (a fill from beside the camera, a reflection)
#: changes how light and how saturated a surface looks, a recoloured prop changes its hue.
DEPTH_COLOUR = (0.25, 0.25)


def _colour_distance(a: np.ndarray, b: np.ndarray, weights: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """(H, W) colour difference of two CIE Lab (H, W, 3) float32 images from their lightness, chroma and hue
    differences, the first two weighted by ``weights``; (1, 1) is the CIE76 distance."""
    wl, wc = weights
    dl = a[..., 0] - b[..., 0]
    ca = np.sqrt(a[..., 1] ** 2 + a[..., 2] ** 2)
    cb = np.sqrt(b[..., 1] ** 2 + b[..., 2] ** 2)
    dc = ca - cb
    dab2 = (a[..., 1] - b[..., 1]) ** 2 + (a[..., 2] - b[..., 2]) ** 2
    dh2 = np.maximum(dab2 - dc * dc, 0.0)
    return np.sqrt((wl * dl) ** 2 + (wc * dc) ** 2 + dh2)


def difference_map(display_a: np.ndarray, display_b: np.ndarray, valid: np.ndarray, *, scales: int = 3,
                   colour_b: np.ndarray | None = None, weights: tuple[float, float] = (1.0, 1.0)
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-scale structural and colour difference of two aligned display-referred images.

    Args: (H, W, 3) float32 sRGB-encoded in [0, 1] (A already normalised to B), ``valid`` (H, W) bool;
    ``colour_b``: B for the colour term where it differs from ``display_b`` (see censor), else None.
    ``weights``: of lightness and chroma in the colour term (_colour_distance). Returns (score, structural,
    colour), each (H, W) float32 in [0, 1]; 0 outside ``valid``.
    """
    import cv2

    h, w = display_b.shape[:2]
    # Outside the shared area A holds the warp's smeared border: B's own pixels stand in for it, so the blurs
    # below cannot carry a difference from there into the compared area.
    display_a = np.where(valid[..., None], display_a, display_b)
    la, lb = lab(display_a), lab(display_b)
    lc = lb if colour_b is None else lab(colour_b)
    score = np.zeros((h, w), np.float32)
    struct_all = np.zeros((h, w), np.float32)
    colour_all = np.zeros((h, w), np.float32)
    for level in range(scales):
        f = 0.5 ** level
        a = cv2.resize(la, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA) if level else la
        b = cv2.resize(lb, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA) if level else lb
        c = cv2.resize(lc, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA) if level else lc
        # Grain and compression are fine detail: a small pre-blur before comparing, at every scale.
        a = cv2.GaussianBlur(a, (0, 0), 1.0)
        b = cv2.GaussianBlur(b, (0, 0), 1.0)
        c = b if colour_b is None else cv2.GaussianBlur(c, (0, 0), 1.0)
        structural = _dssim(a[..., 0], b[..., 0], 2.0)
        # The colour difference is blurred before it counts: a pixel or two of misalignment along an edge
        # is thin, a changed prop is not.
        delta = _colour_distance(a, c, weights)
        colour = cv2.GaussianBlur(np.clip(delta / 25.0, 0.0, 1.0), (0, 0), 2.0)
        up = [cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) for m in (structural, colour)]
        struct_all = np.maximum(struct_all, up[0])
        colour_all = np.maximum(colour_all, up[1])
        # Weight coarse scales more: a continuity change is an object, not a pixel.
        weight = (0.6, 0.8, 1.0, 1.0, 1.0)[level]
        score = np.maximum(score, weight * np.maximum(up[0] * 1.6, up[1]))
    score[~valid] = 0.0
    struct_all[~valid] = 0.0
    colour_all[~valid] = 0.0
    return np.clip(score, 0.0, 1.0), struct_all, colour_all


def threshold_for(sensitivity: float) -> float:
    """Sensitivity 0..1 (1 flags the most) -> the score threshold for a pair at the usual noise floor."""
    return float(np.interp(sensitivity, [0.0, 0.5, 1.0], [0.5, 0.21, 0.08]))


#: How far the threshold may come down for a quiet pair (a fraction of threshold_for's), and how many robust
#: standard deviations of the pair's own score it stays above the score's median.
QUIET_FLOOR, NOISE_Z = 0.6, 10.0
#: The threshold's factor for a pair aligned per pixel with depth (see pair_threshold).
DEPTH_RAISE = 1.5


def pair_threshold(score: np.ndarray, valid: np.ndarray, sensitivity: float, *, depth: bool = False) -> float:
    """The score threshold for this pair: threshold_for(sensitivity), lowered towards QUIET_FLOOR of it when
    the pair's own difference floor is low (clean footage lets a faint change through); grain, compression
    and a rough fit raise the floor and so keep the threshold where it is.

    The floor is the median plus NOISE_Z robust standard deviations (1.4826 x MAD) of the score over the
    shared area: most of a frame has not changed, so these statistics describe the unchanged part.
    """
    base = threshold_for(sensitivity)
    if depth:
        # Aligned per pixel, a scene with depth keeps a residue no homography pair has: the edges of what
        # stands in front, surfaces seen at another angle (their shading and reflections). It is sparse, so
        # the noise floor does not see it; the threshold is raised by DEPTH_RAISE instead, never lowered.
        return min(0.95, DEPTH_RAISE * base)
    values = score[valid]
    if values.size < 64:
        return base
    med = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - med)))
    return float(np.clip(med + NOISE_Z * spread, QUIET_FLOOR * base, base))


def _gradient_energy(gray: np.ndarray) -> np.ndarray:
    import cv2

    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


#: A region's box may cover at most this share of the frame before it is split at a higher threshold (a change
#: is an object; a frame-wide difference is light or alignment); one still larger after SPLIT_STEPS is kept.
LARGEST, SPLIT_STEPS = 0.25, (1.5, 2.0, 3.0)


def _components(mask: np.ndarray, k: int) -> tuple[int, np.ndarray, np.ndarray]:
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3 * k, 3 * k)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return count, labels, stats


def _blobs(score: np.ndarray, threshold: float, k: int, min_pixels: float) -> list[np.ndarray]:
    """Connected regions (H, W) bool of ``score > threshold``, cleaned, each split where it holds several
    changes (``_split``); one whose box still covers more than LARGEST of the frame is kept only if it does not
    split at all."""
    count, labels, stats = _components(score > threshold, k)
    out = []
    for i in range(1, count):
        if stats[i][4] >= min_pixels:
            out += _split(labels == i, score, threshold, k, min_pixels)
    return out


def _split(inside: np.ndarray, score: np.ndarray, threshold: float, k: int, min_pixels: float,
           depth: int = 0) -> list[np.ndarray]:
    """A region as one or several: where it breaks into two or more parts (each at least ``min_pixels``) above
    SPLIT_STEPS times the threshold, it holds several changes that the blur and the closing joined; each part
    then takes the region's pixels nearest to it (and may split again). A part larger than LARGEST of the frame
    that never splits stays whole (a large change)."""
    from scipy.ndimage import distance_transform_edt

    h, w = score.shape
    for step in SPLIT_STEPS:
        count, labels, stats = _components(inside & (score > step * threshold), k)
        parts = [i for i in range(1, count) if stats[i][4] >= min_pixels]
        if len(parts) < 2 and not (len(parts) == 1 and _too_large(inside, h, w)):
            continue
        if len(parts) == 0:
            continue
        if len(parts) == 1:
            return [labels == parts[0]] if not _too_large(labels == parts[0], h, w) or depth > 2 else \
                _split(labels == parts[0], score, step * threshold, k, min_pixels, depth + 1)
        seeds = np.zeros((h, w), np.int32)
        for n, i in enumerate(parts):
            seeds[labels == i] = n + 1
        iy, ix = distance_transform_edt(seeds == 0, return_distances=False, return_indices=True)
        grown = np.where(inside, seeds[iy, ix], 0)
        out = []
        for n in range(len(parts)):
            piece = grown == n + 1
            out += _split(piece, score, step * threshold, k, min_pixels, depth + 1) if depth < 3 else [piece]
        return out
    return [inside]


def _too_large(mask: np.ndarray, h: int, w: int) -> bool:
    ys, xs = np.nonzero(mask)
    return bool(xs.size) and (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1) > LARGEST * h * w


def find_regions(score: np.ndarray, structural: np.ndarray, colour: np.ndarray, display_a: np.ndarray,
                 display_b: np.ndarray, *, sensitivity: float = 0.5, min_area: float = 0.001,
                 person: np.ndarray | None = None, valid: np.ndarray | None = None, hidden=None,
                 depth: bool = False) -> list[Region]:
    """Clean the score map into ranked regions with a category guess, in the maps' own pixels.

    Args: maps (H, W) float32 from difference_map; display images (H, W, 3) sRGB-encoded in [0, 1];
    ``min_area``: smallest region as a fraction of the frame; ``person``: (H, W) matte of B or None;
    ``valid``: (H, W) bool, the shared area the threshold's noise floor is measured on (default: score > 0).
    A region larger than LARGEST of the frame is split at a higher threshold where it can be; a prop that
    moved is one region (category "moved", ``origin`` where it was). ``hidden``: called with a region's
    (H, W) bool mask, True when the region is what parallax uncovered (B sees it, A cannot): no region then.
    """
    h, w = score.shape
    threshold = pair_threshold(score, score > 0 if valid is None else valid, sensitivity, depth=depth)
    k = max(3, (min(h, w) // 120) | 1)
    ga = lab(display_a)[..., 0]
    gb = lab(display_b)[..., 0]
    ea, eb = _gradient_energy(ga), _gradient_energy(gb)
    regions = []
    for inside in _blobs(score, threshold, k, min_area * h * w):
        if hidden is not None and hidden(inside):
            continue
        area = int(inside.sum())
        s = float(np.percentile(score[inside], 90))
        # Blur and closing spread a region past the object: its box is where the score is near its peak.
        core = inside & (score >= max(threshold, 0.5 * s))
        ys, xs = np.nonzero(core if core.any() else inside)
        x, y, bw, bh = int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
        st, co = float(structural[inside].mean()), float(colour[inside].mean())
        ra, rb = float(ea[inside].mean()), float(eb[inside].mean())
        if st * 1.6 < 0.6 * co and abs(np.log((rb + 1) / (ra + 1))) < 0.35:
            category = "changed colour"
        elif rb >= ra:
            category = "appeared"
        else:
            category = "disappeared"
        on = "unknown" if person is None else ("person" if float(person[inside].mean()) > 0.3 else "set")
        regions.append(Region(0, (x, y, bw, bh), round(s, 4), category, on, area))
    regions = _merge_moves(regions, display_a, display_b)
    regions.sort(key=lambda r: -r.score * np.sqrt(r.area))
    for n, r in enumerate(regions):
        r.id = n + 1
    return regions


#: Normalised cross-correlation (luma, best over a small search and a few scales) above which the content of
#: one region in A is taken for the content of another in B: a prop that moved.
MOVE_MATCH = 0.7
#: ... or whose colours (Bhattacharyya coefficient of a*b* histograms) agree this well, and by MOVE_MARGIN more
#: than with what each shot shows at the other place.
MOVE_PALETTE, MOVE_MARGIN = 0.8, 0.15


def _likeness(src: np.ndarray, box_src, dst: np.ndarray, box_dst) -> float:
    """How well the content of ``box_src`` in ``src`` turns up around ``box_dst`` in ``dst`` (luma (H, W)
    float32): the best normalised cross-correlation over a quarter-size search and scales 0.8 to 1.25."""
    import cv2

    (x1, y1, w1, h1), (x2, y2, w2, h2) = box_src, box_dst
    tmpl = np.ascontiguousarray(src[y1:y1 + h1, x1:x1 + w1])
    if tmpl.size < 16 or tmpl.std() < 2.0:
        return 0.0
    m = max(w2, h2) // 4
    area = np.ascontiguousarray(dst[max(0, y2 - m):y2 + h2 + m, max(0, x2 - m):x2 + w2 + m])
    best = 0.0
    for f in (0.8, 1.0, 1.25):
        tw, th = max(4, round(min(w1, w2) * f)), max(4, round(min(h1, h2) * f))
        if th > area.shape[0] or tw > area.shape[1]:
            continue
        t = cv2.resize(tmpl, (tw, th), interpolation=cv2.INTER_AREA)
        if t.std() < 2.0:
            continue
        best = max(best, float(cv2.matchTemplate(area, t, cv2.TM_CCOEFF_NORMED).max()))
    return best


def _palette(lab: np.ndarray, box) -> np.ndarray | None:
    """A box's colours as a normalised 2D histogram of a* and b* (12 x 12 bins over -60..60), or None if empty."""
    x, y, w, h = box
    patch = lab[y:y + h, x:x + w].reshape(-1, 3)
    if len(patch) < 16:
        return None
    hist, _, _ = np.histogram2d(patch[:, 1], patch[:, 2], bins=12, range=[[-60, 60], [-60, 60]])
    return hist / max(hist.sum(), 1.0)


def _same_palette(p: np.ndarray | None, q: np.ndarray | None) -> float:
    """Bhattacharyya coefficient of two palettes (1: the same colours, 0: none in common)."""
    return float(np.sqrt(p * q).sum()) if p is not None and q is not None else 0.0


def _merge_moves(regions: list[Region], display_a: np.ndarray, display_b: np.ndarray) -> list[Region]:
    """A moved prop leaves two regions: where it was (A shows it there) and where it is (B shows it there). Each
    such pair becomes one region, category "moved", its box where the prop is in B and ``origin`` where it was;
    the strongest likeness pairs first, each region once.

    Likeness: A's content at the origin found again in B at the new place, as luma (normalised
    cross-correlation, MOVE_MATCH) or, for a prop seen from another side or turned, as colours (MOVE_PALETTE),
    and more like it than what each shot shows at the other place (the background the prop left or covered); a
    region whose colour changed (its structure kept) is no end of a move.
    """
    lab_a, lab_b = lab(display_a), lab(display_b)
    ga = np.ascontiguousarray(lab_a[..., 0])
    gb = np.ascontiguousarray(lab_b[..., 0])
    candidates = []
    for i, r in enumerate(regions):
        for j, q in enumerate(regions):
            if i == j:
                continue
            (_, _, w1, h1), (_, _, w2, h2) = r.box, q.box
            if not (0.4 < (w1 * h1) / max(1, w2 * h2) < 2.5):
                continue
            # r is where the prop was (A shows it there), q where it is (B shows the same content); a recoloured
            # prop stays where it stands.
            if "changed colour" in (r.category, q.category):
                continue
            like = _likeness(ga, r.box, gb, q.box)
            if like > MOVE_MATCH:
                candidates.append((like, i, j))
                continue
            prop = _same_palette(_palette(lab_a, r.box), _palette(lab_b, q.box))
            left = _same_palette(_palette(lab_b, r.box), _palette(lab_b, q.box))  # B where the prop was
            covered = _same_palette(_palette(lab_a, q.box), _palette(lab_b, q.box))  # A where it is now
            if prop > MOVE_PALETTE and prop > max(left, covered) + MOVE_MARGIN:
                candidates.append((prop * MOVE_MATCH, i, j))
    used, merged = set(), []
    for like, i, j in sorted(candidates, reverse=True):
        if i in used or j in used:
            continue
        used |= {i, j}
        r, q = regions[i], regions[j]
        merged.append(Region(0, q.box, max(r.score, q.score), "moved", q.on, q.area + r.area, origin=r.box))
    return merged + [r for n, r in enumerate(regions) if n not in used]


def ssim_regions(display_a: np.ndarray, display_b: np.ndarray, valid: np.ndarray, *, threshold: float = 0.5,
                 min_area: float = 0.001) -> list[tuple[int, int, int, int]]:
    """The baseline: boxes where plain SSIM (scikit-image, on luma) falls under ``threshold``.

    Same inputs as difference_map; no multi-scale, no colour term, no cleaning beyond the minimum area.
    """
    import cv2
    from skimage.metrics import structural_similarity

    la = display_a @ REC709_LUMA
    lb = display_b @ REC709_LUMA
    _, smap = structural_similarity(la, lb, data_range=1.0, full=True, gaussian_weights=True, sigma=1.5)
    mask = ((smap < threshold) & valid).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    h, w = mask.shape
    return [tuple(int(v) for v in stats[i][:4]) for i in range(1, count) if stats[i][4] >= min_area * h * w]
