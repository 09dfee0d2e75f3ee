"""The lighting model of a static surface: whether another light explains a difference region.

A surface that did not change keeps its edges and its hue when the light changes (a fill light beside the
camera, a falloff across the floor): how bright it is changes (a gain) and a light from another side adds a
sheen or takes one away (an offset the same in every channel, which is why the surface also looks more or less
saturated); both may step where the surface ends. A prop added, removed or moved brings edges that only one shot
has; a recoloured prop turns its hue, which no gain and grey offset do. So a region is explained by light when,
cut into the surfaces that both shots show (parts bounded by the edges A and B have in common, within the
alignment's error), one gain and offset per surface take its difference under the pair's threshold.
"""

from __future__ import annotations

import numpy as np

#: Margin (analysis px) of static context around a region that the surfaces are cut from.
SHADED_MARGIN = 12
#: A pixel is on an edge both shots show when both shots' gradients of L*a*b* (after a 1 px blur) are above
#: this (CIE Lab units per px) within EDGE_SLACK px of it (the alignment's error on a texture-poor prop's outline).
COMMON_EDGE, EDGE_SLACK = 2.5, 1
#: The gain of one surface stays within this many stops either way (what a change of light does to a surface),
#: its grey offset within SHEEN of the darker shot's median level there (a sheen adds to what the surface shows:
#: it does not turn a black prop into a grey floor).
SHADED_LIMIT, SHEEN = 2.0, 0.5
#: Surfaces smaller than this (px) carry no gain of their own: they share one with the texture's edge pixels
#: (label 0 of ``surfaces``), so a region cannot be explained piece by piece of texture.
MIN_SURFACE = 24


def surfaces(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """The surfaces both shots show in a window: (H, W) int32 labels from 1, cut by the edges A and B have in
    common; a pixel on such an edge joins the nearest surface within EDGE_SLACK + 1 px, and the rest of the edge
    pixels (a texture dense in edges) are label 0. Args: CIE Lab (H, W, 3) float32 both."""
    import cv2
    from scipy.ndimage import distance_transform_edt

    def edges(x):
        # Lightness and colour both: a prop lit to the floor's lightness still has its outline.
        g = cv2.GaussianBlur(np.ascontiguousarray(x), (0, 0), 1.0)
        gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
        return np.sqrt((gx * gx + gy * gy).sum(-1)) / 8.0

    grow = np.ones((2 * EDGE_SLACK + 1, 2 * EDGE_SLACK + 1), np.uint8)
    common = (cv2.dilate((edges(lab_a) > COMMON_EDGE).astype(np.uint8), grow) > 0) & \
        (cv2.dilate((edges(lab_b) > COMMON_EDGE).astype(np.uint8), grow) > 0)
    count, labels = cv2.connectedComponents((~common).astype(np.uint8), connectivity=4)
    if count <= 1:
        return np.zeros(common.shape, np.int32)
    distance, (iy, ix) = distance_transform_edt(labels == 0, return_indices=True)
    # The band along an edge belongs to the surface beside it; deeper in, edge pixels are a texture (label 0).
    return np.where(distance <= EDGE_SLACK + 1, labels[iy, ix], 0).astype(np.int32)


def relit(display_a: np.ndarray, display_b: np.ndarray) -> np.ndarray:
    """A brought to B's light surface by surface: each surface (``surfaces``) gets the gain and grey offset
    (``_gain_offset``) that bring it to B; the pieces under MIN_SURFACE px (a texture cut by its own edges) share
    one. Args and result: display-referred sRGB (H, W, 3) float32 in [0, 1] (A and B of one window)."""
    from matchcut.continuity.detect import lab

    a, b = np.clip(display_a, 0.0, 1.0).astype(np.float32), np.clip(display_b, 0.0, 1.0).astype(np.float32)
    labels = surfaces(lab(a), lab(b))
    sizes = np.bincount(labels.ravel())
    merged = np.where(sizes[labels] >= MIN_SURFACE, labels, 0)
    lit = np.empty_like(a)
    for k in np.unique(merged):
        m = merged == k
        g, o = _gain_offset(a[m], b[m])
        lit[m] = g * a[m] + o
    return np.clip(lit, 0.0, 1.0)


def light_explains(display_a: np.ndarray, display_b: np.ndarray, region: np.ndarray, threshold: float,
                   weights: tuple[float, float] = (1.0, 1.0)) -> float:
    """The share of a difference region that a change of light on static surfaces explains (0..1): of its
    pixels, those whose difference (``detect.difference_map`` with ``weights``) falls to ``threshold`` or under
    once A is relit surface by surface (``relit``, over the region's box and SHADED_MARGIN px around it).

    Args: A aligned and normalised to B's light, and B, display-referred sRGB (H, W, 3) float32 in [0, 1];
    ``region``: (H, W) bool; ``threshold``: the pair's score threshold (detect.pair_threshold).
    """
    from matchcut.continuity.detect import difference_map

    h, w = region.shape
    ys, xs = np.nonzero(region)
    if xs.size == 0:
        return 0.0
    x0, y0 = max(0, xs.min() - SHADED_MARGIN), max(0, ys.min() - SHADED_MARGIN)
    x1, y1 = min(w, xs.max() + SHADED_MARGIN + 1), min(h, ys.max() + SHADED_MARGIN + 1)
    a, b = display_a[y0:y1, x0:x1], display_b[y0:y1, x0:x1]
    score, _, _ = difference_map(relit(a, b), b, np.ones(b.shape[:2], bool), weights=weights)
    return float((score[region[y0:y1, x0:x1]] <= threshold).mean())


def _gain_offset(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The gain g and grey offset o with b ~ g * a + o over one surface's pixels ((N, 3) display values).

    Moments, not a regression: g is the ratio of the two spreads (over pixels and channels: a flat coloured
    surface's channels still pin it), o what is left of the means. A regression of unrelated content (a prop
    where A shows a wall) shrinks g towards 0 and so erases A's texture; matching the spreads keeps it, and the
    difference stays. g within SHADED_LIMIT stops; |o| within SHEEN of the darker shot's median level (the mean
    of the channels), g then taken from the means.
    """
    x, y = a.astype(np.float64), b.astype(np.float64)
    sa, sb = float(x.std()), float(y.std())
    g = float(np.clip(sb / sa, 2.0 ** -SHADED_LIMIT, 2.0 ** SHADED_LIMIT)) if sa > 1e-6 else 1.0
    ma, mb = float(x.mean()), float(y.mean())
    limit = SHEEN * min(float(np.median(x.mean(-1))), float(np.median(y.mean(-1))))
    o = mb - g * ma
    if abs(o) > limit:
        o = float(np.clip(o, -limit, limit))
        g = float(np.clip((mb - o) / max(ma, 1e-6), 2.0 ** -SHADED_LIMIT, 2.0 ** SHADED_LIMIT))
    return g, float(o)
