"""Difference detection on an aligned pair: photometric normalisation, multi-scale difference, regions."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CATEGORIES = ("appeared", "disappeared", "moved", "changed colour")
WORKING = "Linear Rec.709 (sRGB)"


@dataclass
class Region:
    """One flagged difference, in B's full-resolution pixels.

    ``box``: (x, y, w, h). ``score``: 0..1, how strong the difference is. ``category``: one of CATEGORIES.
    ``on``: "person" (wardrobe, hair) or "set", or "unknown" without a person matte. ``pair``: the id of the
    other half of a move (where it came from / went to), else None.
    """

    id: int
    box: tuple[int, int, int, int]
    score: float
    category: str
    on: str
    area: int
    pair: int | None = None

    def to_dict(self) -> dict:
        return {**asdict(self), "box": list(self.box)}


def normalise(aligned_a: np.ndarray, b: np.ndarray, valid: np.ndarray, *, method: str = "mkl") -> tuple[np.ndarray, object]:
    """Bring aligned A's light and colour to B's with shot match's global fit, over the shared area, then
    refine that fit on corresponding pixels (the pair is aligned, so each A pixel has its B pixel).

    Args: linear Rec.709 (H, W, 3) float32 both, ``valid`` (H, W) bool (the pixels to fit on). Returns
    (normalised A, ColorFit).
    """
    from matchcut.matching import apply_color, fit_color

    # A global fit needs statistics, not every pixel: fit on about 40k pixels, apply to all.
    step = max(1, int(np.sqrt(valid.size / 40_000)))
    mask = valid[::step, ::step].astype(np.float32)
    fit = fit_color(aligned_a[::step, ::step], b[::step, ::step], method=method, source_mask=mask, reference_mask=mask)
    fit = _refine_fit(fit, aligned_a[::step, ::step], b[::step, ::step], valid[::step, ::step])
    return apply_color(fit, aligned_a).astype(np.float32), fit


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
    luma = np.array([0.2126, 0.7152, 0.0722])
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


def _lab(display: np.ndarray) -> np.ndarray:
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


def difference_map(display_a: np.ndarray, display_b: np.ndarray, valid: np.ndarray, *, scales: int = 3,
                   colour_b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-scale structural and colour difference of two aligned display-referred images.

    Args: (H, W, 3) float32 sRGB-encoded in [0, 1] (A already normalised to B), ``valid`` (H, W) bool;
    ``colour_b``: B for the colour term where it differs from ``display_b`` (see censor), else None.
    Returns (score, structural, colour), each (H, W) float32 in [0, 1]; 0 outside ``valid``.
    """
    import cv2

    h, w = display_b.shape[:2]
    # Outside the shared area A holds the warp's smeared border: B's own pixels stand in for it, so the blurs
    # below cannot carry a difference from there into the compared area.
    display_a = np.where(valid[..., None], display_a, display_b)
    la, lb = _lab(display_a), _lab(display_b)
    lc = lb if colour_b is None else _lab(colour_b)
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
        delta = np.sqrt(((a - c) ** 2).sum(-1))
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


def pair_threshold(score: np.ndarray, valid: np.ndarray, sensitivity: float) -> float:
    """The score threshold for this pair: threshold_for(sensitivity), lowered towards QUIET_FLOOR of it when
    the pair's own difference floor is low (clean footage lets a faint change through); grain, compression
    and a rough fit raise the floor and so keep the threshold where it is.

    The floor is the median plus NOISE_Z robust standard deviations (1.4826 x MAD) of the score over the
    shared area: most of a frame has not changed, so these statistics describe the unchanged part.
    """
    base = threshold_for(sensitivity)
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


def find_regions(score: np.ndarray, structural: np.ndarray, colour: np.ndarray, display_a: np.ndarray,
                 display_b: np.ndarray, *, sensitivity: float = 0.5, min_area: float = 0.001,
                 person: np.ndarray | None = None, valid: np.ndarray | None = None) -> list[Region]:
    """Clean the score map into ranked regions with a category guess, in the maps' own pixels.

    Args: maps (H, W) float32 from difference_map; display images (H, W, 3) sRGB-encoded in [0, 1];
    ``min_area``: smallest region as a fraction of the frame; ``person``: (H, W) matte of B or None;
    ``valid``: (H, W) bool, the shared area the threshold's noise floor is measured on (default: score > 0).
    """
    import cv2

    h, w = score.shape
    threshold = pair_threshold(score, score > 0 if valid is None else valid, sensitivity)
    mask = (score > threshold).astype(np.uint8)
    k = max(3, (min(h, w) // 120) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3 * k, 3 * k)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    ga = _lab(display_a)[..., 0]
    gb = _lab(display_b)[..., 0]
    ea, eb = _gradient_energy(ga), _gradient_energy(gb)
    regions = []
    for i in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if area < min_area * h * w:
            continue
        inside = labels == i
        s = float(np.percentile(score[inside], 90))
        # Blur and closing spread a region past the object: its box is where the score is near its peak.
        core = inside & (score >= max(threshold, 0.5 * s))
        ys, xs = np.nonzero(core)
        if xs.size:
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
    _pair_moves(regions, display_a, display_b)
    regions.sort(key=lambda r: -r.score * np.sqrt(r.area))
    ids = {id(r): n + 1 for n, r in enumerate(regions)}
    old = {}
    for r in regions:
        old[r.id] = ids[id(r)]
    for r in regions:
        r.id = ids[id(r)]
    for r in regions:
        if r.pair is not None:
            r.pair = old[r.pair]
    return regions


def _pair_moves(regions: list[Region], display_a: np.ndarray, display_b: np.ndarray) -> None:
    """A moved prop leaves two regions: A's content at one place is B's content at the other."""
    import cv2

    for n, r in enumerate(regions):
        r.id = n  # temporary ids, renumbered by rank afterwards
    ga = np.ascontiguousarray(_lab(display_a)[..., 0])
    gb = np.ascontiguousarray(_lab(display_b)[..., 0])
    for r in regions:
        for q in regions:
            if q is r or r.pair is not None or q.pair is not None:
                continue
            (x1, y1, w1, h1), (x2, y2, w2, h2) = r.box, q.box
            if not (0.5 < (w1 * h1) / max(1, w2 * h2) < 2.0):
                continue
            # The object that was at r in A, searched for around q in B.
            tw, th = min(w1, w2), min(h1, h2)
            cx1, cy1 = x1 + w1 // 2, y1 + h1 // 2
            tmpl = ga[max(0, cy1 - th // 2):cy1 + th // 2, max(0, cx1 - tw // 2):cx1 + tw // 2]
            m = max(tw, th) // 4
            area = gb[max(0, y2 - m):y2 + h2 + m, max(0, x2 - m):x2 + w2 + m]
            if tmpl.size < 16 or tmpl.std() < 2.0 or area.shape[0] < tmpl.shape[0] or area.shape[1] < tmpl.shape[1]:
                continue
            best = float(cv2.matchTemplate(area, tmpl, cv2.TM_CCOEFF_NORMED).max())
            if best > 0.7:
                r.category, q.category = "moved", "moved"
                r.pair, q.pair = q.id, r.id


def ssim_regions(display_a: np.ndarray, display_b: np.ndarray, valid: np.ndarray, *, threshold: float = 0.5,
                 min_area: float = 0.001) -> list[tuple[int, int, int, int]]:
    """The baseline: boxes where plain SSIM (scikit-image, on luma) falls under ``threshold``.

    Same inputs as difference_map; no multi-scale, no colour term, no cleaning beyond the minimum area.
    """
    import cv2
    from skimage.metrics import structural_similarity

    la = display_a @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    lb = display_b @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    _, smap = structural_similarity(la, lb, data_range=1.0, full=True, gaussian_weights=True, sigma=1.5)
    mask = ((smap < threshold) & valid).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    h, w = mask.shape
    return [tuple(int(v) for v in stats[i][:4]) for i in range(1, count) if stats[i][4] >= min_area * h * w]
