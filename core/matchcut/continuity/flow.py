"""Dense flow between two shots with depth: DIS flow both ways started from the planes', the matches' and
RIFE's flows, trusted where the two ways agree and the camera geometry allows; what A cannot see; the smooth
correction of the method before depth."""

from __future__ import annotations

import numpy as np

from matchcut.continuity.geometry import (epipolar_directions, fit_planes, line_distance, plane_flows, sparse_flow,
                                         spread)

#: The zoo's interpolation model whose flow joins DIS's candidates ("" for none).
LEARNED_MODEL = "rife-hdv3"
#: Forward-backward flow disagreement (analysis px, plus a share of the flow) a trusted pixel stays within.
FB_TOLERANCE, FB_RELATIVE = 1.0, 0.05
#: Distance (B analysis px, plus a share of the flow) of a trusted match from its epipolar line.
EPIPOLAR_TOLERANCE, EPIPOLAR_RELATIVE = 2.0, 0.03
#: A scene is flat (the homography alone) when the trusted residual flow's median is under this (px) and its
#: 98th percentile under 2.5 times it (90th where the features show no parallax) ...
FLAT_PX = 0.4
#: ... and the flow is trusted over more than this share of the shared area (elsewhere it may be large); or the
#: features found no parallax while covering this share of a 6 x 6 grid over the frame.
FLAT_TRUSTED, FLAT_SPREAD = 0.8, 0.5
#: Verifying a difference region with depth (shift_explains): patch size (px), extra parallax searched (px),
#: the mean colour difference (CIE Lab, lightness at half weight) a match stays within, and the share of the
#: patch's compared difference it must stay under.
VERIFY_PATCH, VERIFY_SLACK, VERIFY_DELTA, VERIFY_GAIN = 8, 3, 6.0, 0.5
#: An untrusted pixel is explained when its best flow matches within this many times this percentile of the
#: trusted pixels' match costs.
EXPLAINED, EXPLAINED_PERCENTILE = 1.0, 90
#: An untrusted run along an epipolar line (up to MAX_RUN px each way) is hidden from A when its ends land in A
#: within OCCLUSION_GAP px of each other or RUN_CLOSES of the run's length.
MAX_RUN, OCCLUSION_GAP, RUN_CLOSES = 96, 3.0, 0.5
#: The window (px) over which the scene's explanations of an untrusted pixel are compared; the radius (px) of
#: the neighbourhood whose trusted parallax bounds its epipolar search, and the longest search (px).
EXPLAIN_WINDOW, SEARCH_RADIUS, SEARCH_SPAN = 9, 24, 160


def rife_flows(display_a: np.ndarray, display_b: np.ndarray, hom: np.ndarray, device, stats: dict
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """``learned_flows`` for A (analysis size, display-referred (H, W, 3) float32) warped by ``hom`` into B's
    frame; notes in ``stats`` whether the model was there."""
    import cv2

    hb, wb = display_b.shape[:2]
    warped = cv2.warpPerspective(np.ascontiguousarray(display_a, np.float32), hom, (wb, hb), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    flows = learned_flows(warped, np.ascontiguousarray(display_b, np.float32), device=device)
    stats["learned_flow"] = LEARNED_MODEL if flows is not None else "none (model not installed)"
    return flows


def structure(gray: np.ndarray, sigma: float = 6.0) -> np.ndarray:
    """Local-contrast-normalised luma (H, W) uint8 for flow: (g - local mean) / (local deviation + 4), 128 +-.

    A light change is mostly a change of level and contrast over areas larger than ``sigma`` px; this takes
    both out, so the flow follows texture, not light. ``gray``: (H, W) uint8 display luma.
    """
    import cv2

    g = gray.astype(np.float32)
    mean = cv2.GaussianBlur(g, (0, 0), sigma)
    dev = np.sqrt(np.maximum(cv2.GaussianBlur((g - mean) ** 2, (0, 0), sigma), 0))
    return np.clip((g - mean) / (dev + 4.0) * 40.0 + 128.0, 0, 255).astype(np.uint8)


def sample(field: np.ndarray, x: np.ndarray, y: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    import cv2

    return cv2.remap(np.ascontiguousarray(field), x.astype(np.float32), y.astype(np.float32),
                     cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def flow_fills(flow: np.ndarray, good: np.ndarray) -> list[np.ndarray]:
    """The flow of the nearest ``good`` pixel to the left, right, above and below each pixel: 4 x (H, W, 2)
    (a pixel with no good pixel that way gets its own flow)."""
    out = []
    h, w = good.shape
    for axis in (1, 0):
        n = good.shape[axis]
        idx = np.where(good, np.arange(n)[None, :] if axis == 1 else np.arange(n)[:, None], -1)
        fwd = np.maximum.accumulate(idx, axis=axis)
        rev_idx = np.where(good, np.arange(n)[None, :] if axis == 1 else np.arange(n)[:, None], n)
        bwd = np.flip(np.minimum.accumulate(np.flip(rev_idx, axis), axis=axis), axis)
        for pick in (fwd, bwd):
            ok = (pick >= 0) & (pick < n)
            pick = np.clip(pick, 0, n - 1)
            if axis == 1:
                got = flow[np.arange(h)[:, None], pick]
            else:
                got = flow[pick, np.arange(w)[None, :]]
            out.append(np.where(ok[..., None], got, flow))
    return out


def levelled(warped_a: np.ndarray, gray_b: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Warped A's luma brought to B's level and contrast over the shared area (flow assumes constant
    brightness), and B's: two (H, W) uint8."""
    a, b = warped_a.astype(np.float32), gray_b.astype(np.float32)
    if inside.any():
        a = (a - a[inside].mean()) * (b[inside].std() / max(float(a[inside].std()), 1e-3)) + b[inside].mean()
    return np.clip(a + 0.5, 0, 255).astype(np.uint8), gray_b


def dis_flow():
    """DIS optical flow: OpenCV's medium preset (patches of 12 px at 3 px strides, down to full resolution)."""
    import cv2

    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def learned_flows(warped_a: np.ndarray, display_b: np.ndarray, model: str = LEARNED_MODEL, device=None
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """The zoo's RIFE flow between B and A (warped by the homography into B's frame), both ways: (B -> A,
    A -> B), each (H, W, 2) float32 px; None when the model is not installed.

    RIFE gives, for each pixel m of the frame halfway between, where it samples each input (m + F0, m + F1);
    B's pixel p is such an m + F1, so p's match in A is m + F0 with m found by three fixed-point steps.
    Args: display-referred (H, W, 3) float32 in [0, 1], sRGB-encoded, the same size.
    """
    import cv2

    from matchcut.errors import ModelError
    from matchcut.vision.interpolation import interpolate_motion

    try:
        motion = interpolate_motion(np.clip(warped_a, 0, 1), np.clip(display_b, 0, 1), 0.5, model=model,
                                    device=device)
    except ModelError:
        return None
    h, w = display_b.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for there, here in ((motion.flow[..., :2], motion.flow[..., 2:4]), (motion.flow[..., 2:4], motion.flow[..., :2])):
        mx, my = xs - here[..., 0], ys - here[..., 1]
        for _ in range(3):
            at = cv2.remap(here, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            mx, my = xs - at[..., 0], ys - at[..., 1]
        out.append((cv2.remap(there, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) - at
                    ).astype(np.float32))
    return out[0], out[1]


def is_flat(flow: np.ndarray, inside: np.ndarray, gray: np.ndarray) -> bool:
    """Whether a flow (H, W, 2) is the homography's alone: its median within FLAT_PX and nine pixels in ten within
    2.5 times it, over the textured half of ``inside`` (by ``gray``'s gradient; a clear sky's flow is noise)."""
    import cv2

    g = gray.astype(np.float32)
    energy = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    energy = cv2.GaussianBlur(energy, (0, 0), 2.0)
    if not inside.any():
        return False
    textured = inside & (energy >= np.median(energy[inside]))
    mag = np.sqrt((flow[textured] ** 2).sum(-1))
    return bool(mag.size) and float(np.percentile(mag, 50)) < FLAT_PX and float(np.percentile(mag, 90)) < 2.5 * FLAT_PX


def geometric_error(pts: np.ndarray, flow: np.ndarray, epipole: np.ndarray | None) -> np.ndarray:
    """(H, W) bool: where a flow B -> A (at ``pts``, (H, W, 2)) keeps to the epipolar lines (all True without an
    epipole)."""
    if epipole is None:
        return np.ones(pts.shape[:2], bool)
    return line_distance(pts, pts + flow, epipole) < EPIPOLAR_TOLERANCE + EPIPOLAR_RELATIVE * \
        np.sqrt((flow ** 2).sum(-1))


def depth_flow(warped_a: np.ndarray, gray_b: np.ndarray, inside: np.ndarray, hom: np.ndarray,
                epipole: np.ndarray | None, matches: dict, learned=None):
    """Dense correspondence B -> A (warped by ``hom``) that holds with depth, and what A cannot see.

    1. Flat first: no epipole and features over the frame (FLAT_SPREAD), or DIS's own flow within FLAT_PX where
       the picture has texture: None (the homography alone).
    2. Where to start: per pixel, the best of DIS's own flow, each plane's (``fit_planes``), the nearest feature
       match's and the learned flow (``initial_flow``), so large parallax near the camera is within reach;
       then DIS flow both ways from there. A pixel's flow is trusted where the two agree (FB_TOLERANCE) and,
       when the matches showed parallax (``epipole``), its match lies on its epipolar line
       (EPIPOLAR_TOLERANCE): an object that moved on its own breaks that, a static scene seen from elsewhere
       does not. Trusted nearly everywhere and within FLAT_PX: flat after all, None.
    3. Every untrusted pixel is carried by the scene's best explanation for it: of the flows the camera geometry
       allows there (an epipolar search within its neighbours' parallax, their flows to each side, the planes',
       the nearest match's), the one under which A looks most like B around it. Where that explanation matches
       as well as trusted pixels do (EXPLAINED), the pixel is known: a thin structure, a texture-poor surface.
    4. An unknown pixel is *occluded* (A does not see it) when its run of unknown pixels along the epipolar line
       closes up in A (``find_disoccluded``): something nearer covers it there. The rest are compared: an added,
       removed or moved prop has no explanation and stays a difference.

    ``learned``: called (no arguments) for the learned flow both ways (``learned_flows``) once the scene is
    known not to be flat, or None. Returns (flow (H, W, 2) float32, occluded (H, W) bool, inside (H, W) bool:
    where the flow lands in A's frame, stats dict) or None.
    """
    h, w = gray_b.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    pts = np.stack([xs, ys], -1)
    sa, sb = structure(warped_a), structure(gray_b)
    ia, ib = levelled(warped_a, gray_b, inside)
    keep = matches.get("geometry")
    planes = fit_planes(matches["src"], matches["dst"], hom, matches["inliers"], keep)
    seeds = matches["inliers"] | (keep if keep is not None else False)
    src, dst = matches["src"][seeds], matches["dst"][seeds]
    dis = dis_flow()
    if epipole is None and spread(matches["dst"][matches["inliers"]], (h, w)) >= FLAT_SPREAD:
        return None  # plenty of features across the frame, and none off the homography's plane
    # Where DIS finds its own way (texture, small parallax) its flow is a candidate too; the planes' and the
    # matches' flows reach what its pyramid cannot (a floor's large parallax near the camera).
    free_b, free_a = dis.calc(ib, ia, None), dis.calc(ia, ib, None)
    if epipole is None and is_flat(free_b, inside, gray_b):
        return None  # no parallax among the features, and DIS's own flow says the same
    scene_b = plane_flows(planes, hom, xs, ys, False) + [sparse_flow(src, dst, hom, (h, w), False)]
    scene_a = plane_flows(planes, hom, xs, ys, True) + [sparse_flow(src, dst, hom, (h, w), True)]
    rife = learned() if learned is not None else None
    if rife is not None:  # the learned flow (RIFE) reaches into texture-poor areas DIS cannot hold
        scene_b.append(rife[0])
        scene_a.append(rife[1])
    fwd = dis.calc(ib, ia, initial_flow(sb, sa, [free_b] + scene_b))
    bwd = dis.calc(ia, ib, initial_flow(sa, sb, [free_a] + scene_a))

    tx, ty = xs + fwd[..., 0], ys + fwd[..., 1]
    back = sample(bwd, tx, ty)
    err_b = np.sqrt(((fwd + back) ** 2).sum(-1))
    mag = np.sqrt((fwd ** 2).sum(-1))
    lands = (tx >= 0) & (ty >= 0) & (tx <= w - 1) & (ty <= h - 1)
    good_b = (err_b < FB_TOLERANCE + FB_RELATIVE * mag) & lands & inside & geometric_error(pts, fwd, epipole)
    trusted = float(good_b.mean() / max(float(inside.mean()), 1e-6))
    stats = {"trusted_fraction": round(trusted, 4)}
    if good_b.sum() < 64:
        return None
    moving = mag[good_b]
    # Flat: the flow stays within FLAT_PX nearly everywhere; or the features showed no parallax and the flow
    # agrees for nine pixels in ten (the rest is noise on texture-poor areas).
    small = float(np.percentile(moving, 50)) < FLAT_PX
    if small and (trusted > FLAT_TRUSTED and float(np.percentile(moving, 98)) < 2.5 * FLAT_PX or
                  epipole is None and float(np.percentile(moving, 90)) < 2.5 * FLAT_PX):
        return None
    bad = inside & ~good_b
    trusted_flow = np.where(good_b[..., None], fwd, 0.0).astype(np.float32)
    fills = flow_fills(trusted_flow, good_b)
    # Every untrusted pixel's best explanation by the scene (DIS's own flow only where it is geometric) ...
    free_ok = np.where(geometric_error(pts, free_b, epipole)[..., None], free_b, fills[0])
    candidates = fills + scene_b + [free_ok]
    if epipole is not None:
        searched = epipolar_search(sb, sa, fwd, good_b, epipole, bad)
        if searched is not None:
            candidates.append(np.where(searched[1][..., None], searched[0], fills[0]))
    best, cost = initial_flow(sb, sa, candidates, window=EXPLAIN_WINDOW, with_cost=True)
    flow = np.where(good_b[..., None], fwd, best).astype(np.float32)
    # ... holds where it matches as well as trusted pixels do (texture-poor surfaces, a thin structure DIS lost).
    typical = float(np.percentile(match_cost(sb, sa, fwd, EXPLAIN_WINDOW)[good_b], EXPLAINED_PERCENTILE))
    known = good_b | (bad & (cost <= EXPLAINED * typical))
    occluded = np.zeros((h, w), bool)
    if epipole is not None:
        occluded = find_disoccluded(flow, known, inside & ~known, epipole) & inside
    fx, fy = xs + flow[..., 0], ys + flow[..., 1]
    lands = (fx >= 0) & (fy >= 0) & (fx <= w - 1) & (fy <= h - 1)
    inside_now = inside & lands & (sample(inside.astype(np.uint8), fx, fy, nearest=True) > 0)
    stats.update({"occluded_fraction": round(float(occluded.mean()), 4),
                  "untrusted_fraction": round(float(bad.mean()), 4), "planes": len(planes)})
    return flow, occluded, inside_now, stats


def run_closes(flow: np.ndarray, region: np.ndarray, epipole: np.ndarray) -> float:
    """The share of ``region``'s pixels ((H, W) bool) whose run through the region along the epipolar line
    closes up in A (``find_disoccluded``'s test, the run's ends the first pixels outside the region): 1.0 for a
    band that parallax uncovered (seen in B, hidden in A), near 0 for a prop that changed."""
    hidden = find_disoccluded(flow, ~region, region, epipole)
    return float(hidden[region].mean()) if region.any() else 0.0


def shift_explains(lab_a: np.ndarray, lab_b: np.ndarray, lab_now: np.ndarray, flow: np.ndarray,
                   epipole: np.ndarray, region: np.ndarray) -> float:
    """The share of a difference region's patches that a static scene explains: (0..1).

    ``lab_a``: A warped by the homography alone into B's frame, ``lab_b``: B, ``lab_now``: A as compared (carried
    by ``flow``), all CIE Lab (H, W, 3) float32 of display values after the light normalisation; ``region``:
    (H, W) bool. Each VERIFY_PATCH px patch of the region is looked for in A along its epipolar line, over the
    parallax the flow shows around the region (plus VERIFY_SLACK px either way and one px across): it is
    explained when some shift matches it within VERIFY_DELTA (mean colour difference, lightness at half weight)
    and at most VERIFY_GAIN of its difference as compared. A static scene whose flow went wrong (the edge of what
    stands in front, a surface with little texture) is explained; a prop that was added, removed or recoloured
    has no such match, and one that moved is not found along the line unless it moved along it.
    """
    import cv2

    h, w = region.shape
    ys, xs = np.nonzero(region)
    if xs.size == 0:
        return 0.0
    size = VERIFY_PATCH
    x0, y0 = max(0, xs.min() - size), max(0, ys.min() - size)
    x1, y1 = min(w, xs.max() + size + 1), min(h, ys.max() + size + 1)
    gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    u = epipolar_directions(np.stack([gx, gy], -1), epipole)
    t = (flow[y0:y1, x0:x1] * u).sum(-1)
    near = cv2.dilate(region.astype(np.uint8), np.ones((2 * size + 1, 2 * size + 1), np.uint8))[y0:y1, x0:x1] > 0
    lo = int(np.floor(np.percentile(t[near], 2))) - VERIFY_SLACK
    hi = int(np.ceil(np.percentile(t[near], 98))) + VERIFY_SLACK
    hi = min(hi, lo + 2 * SEARCH_SPAN)
    weight = np.array([0.5, 1.0, 1.0], np.float32)
    b = lab_b[y0:y1, x0:x1] * weight
    now = np.sqrt((((lab_now[y0:y1, x0:x1] * weight) - b) ** 2).sum(-1))
    best = np.full(b.shape[:2], np.inf, np.float32)
    perp = np.stack([-u[..., 1], u[..., 0]], -1)
    for step in range(lo, hi + 1):
        for across in (-1.0, 0.0, 1.0):
            mx = gx + step * u[..., 0] + across * perp[..., 0]
            my = gy + step * u[..., 1] + across * perp[..., 1]
            moved = cv2.remap(lab_a, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) * weight
            diff = cv2.blur(np.sqrt(((moved - b) ** 2).sum(-1)), (size, size))
            np.minimum(best, diff, out=best)
    now = cv2.blur(now, (size, size))
    inside = region[y0:y1, x0:x1]
    centres = inside.copy()
    centres[:, :] = False
    centres[size // 2::size, size // 2::size] = inside[size // 2::size, size // 2::size]
    if not centres.any():
        centres = inside
    ok = (best <= VERIFY_DELTA) & (best <= VERIFY_GAIN * np.maximum(now, 1e-3))
    return float(ok[centres].mean())


def find_disoccluded(flow: np.ndarray, good: np.ndarray, todo: np.ndarray, epipole: np.ndarray) -> np.ndarray:
    """Which ``todo`` pixels B sees and A cannot: (H, W) bool.

    Each untrusted pixel lies on a run of untrusted pixels along its epipolar line, between two trusted ones
    (the nearest each way, at most MAX_RUN px off). Where the run closes up in A (its two ends, carried by their
    flows, land within RUN_CLOSES of each other: OCCLUSION_GAP px or that share of the run's length), what B
    sees there is hidden in A behind the nearer end: a disocclusion, or a side of an object only B faces. A
    prop that was added, removed or moved leaves a run whose ends stay apart in A (the background behind it
    is seen in A), so it is compared.
    """
    h, w = good.shape
    ys, xs = np.nonzero(todo)
    if xs.size == 0:
        return np.zeros((h, w), bool)
    p = np.stack([xs, ys], -1).astype(np.float32)
    u = epipolar_directions(p, epipole)
    ends = []
    for sign in (-1.0, 1.0):
        dist = np.full(len(p), np.inf, np.float32)
        hit = np.zeros((len(p), 2), np.float32)
        for k in range(1, MAX_RUN + 1):
            open_ = ~np.isfinite(dist)
            if not open_.any():
                break
            q = p[open_] + sign * k * u[open_]
            qi, qj = np.rint(q[:, 0]).astype(np.int64), np.rint(q[:, 1]).astype(np.int64)
            inframe = (qi >= 0) & (qj >= 0) & (qi < w) & (qj < h)
            qi, qj = np.clip(qi, 0, w - 1), np.clip(qj, 0, h - 1)
            found = inframe & good[qj, qi]
            idx = np.nonzero(open_)[0][found]
            dist[idx] = k
            hit[idx] = q[found] + flow[qj[found], qi[found]]  # where that end lands in A
        ends.append((dist, hit))
    (d0, a0), (d1, a1) = ends
    both = np.isfinite(d0) & np.isfinite(d1)
    run = d0 + d1
    gap = ((a1 - a0) * u).sum(-1)  # the run's length in A along the line (B's length is ``run``)
    closes = both & (gap <= np.maximum(OCCLUSION_GAP, RUN_CLOSES * run))
    out = np.zeros((h, w), bool)
    out[ys[closes], xs[closes]] = True
    return out


def epipolar_search(struct_b: np.ndarray, struct_a: np.ndarray, flow: np.ndarray, good: np.ndarray,
                     epipole: np.ndarray, todo: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """For the ``todo`` pixels, the best static-scene flow: along each pixel's epipolar line, within the
    parallax its trusted neighbours show (SEARCH_RADIUS px around it, plus 2 px either way), the shift under
    which A's structure image best matches B's over EXPLAIN_WINDOW px. (H, W, 2) float32 (other pixels: 0),
    and the (H, W) bool pixels it searched; None when no trusted neighbour bounds the search anywhere.

    A thin structure in front of a far background (a mirror's stem, a chair's leg) is found where DIS lost it;
    a prop that was added, removed or moved is not explained by any shift its surroundings allow."""
    import cv2

    h, w = good.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    direction = epipolar_directions(np.stack([xs, ys], -1), epipole)
    t = (flow * direction).sum(-1)
    big = 1e6
    size = 2 * SEARCH_RADIUS + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    lo = cv2.erode(np.where(good, t, big).astype(np.float32), kernel) - 2.0
    hi = cv2.dilate(np.where(good, t, -big).astype(np.float32), kernel) + 2.0
    bounded = todo & (lo < big / 2) & (hi > -big / 2)
    if not bounded.any():
        return None
    t0, t1 = int(np.floor(lo[bounded].min())), int(np.ceil(hi[bounded].max()))
    t1 = min(t1, t0 + SEARCH_SPAN)
    best_cost = np.full((h, w), np.inf, np.float32)
    best_t = np.zeros((h, w), np.float32)
    base = struct_b.astype(np.float32)
    other = struct_a.astype(np.float32)
    for step in range(t0, t1 + 1):
        moved = cv2.remap(other, xs + step * direction[..., 0], ys + step * direction[..., 1], cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        cost = cv2.blur(np.abs(moved - base), (EXPLAIN_WINDOW, EXPLAIN_WINDOW))
        better = bounded & (cost < best_cost) & (step >= lo) & (step <= hi)
        best_cost[better] = cost[better]
        best_t[better] = step
    out = np.zeros((h, w, 2), np.float32)
    found = bounded & np.isfinite(best_cost)
    out[found] = best_t[found][:, None] * direction[found]
    return out, found


def match_cost(struct_from: np.ndarray, struct_to: np.ndarray, flow: np.ndarray, window: int) -> np.ndarray:
    """(H, W) float32: the mean absolute difference of the structure images over a ``window`` px box, with
    ``struct_to`` carried by ``flow``."""
    import cv2

    h, w = struct_from.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    moved = cv2.remap(struct_to.astype(np.float32), xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return cv2.blur(np.abs(moved - struct_from.astype(np.float32)), (window, window))


def initial_flow(struct_from: np.ndarray, struct_to: np.ndarray, candidates: list[np.ndarray], window: int = 15,
                  *, with_cost: bool = False):
    """Per pixel, the candidate flow (each (H, W, 2)) under which ``struct_to`` best matches ``struct_from`` over a
    ``window`` px box: DIS starts from it, so the floor's and the props' large parallax is within its reach.
    (H, W, 2) float32, and with ``with_cost`` that match's cost (``match_cost``) too."""
    import cv2

    h, w = struct_from.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = struct_from.astype(np.float32)
    costs = []
    for cand in candidates:
        moved = cv2.remap(struct_to.astype(np.float32), xs + cand[..., 0], ys + cand[..., 1], cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        costs.append(cv2.blur(np.abs(moved - base), (window, window)))
    stack = np.stack(costs)
    best = np.argmin(stack, 0)
    flow = np.take_along_axis(np.stack(candidates), best[None, ..., None], 0)[0].astype(np.float32)
    return (flow, np.take_along_axis(stack, best[None], 0)[0]) if with_cost else flow


def smooth_flow(warped_a: np.ndarray, gray_b: np.ndarray, valid: np.ndarray, cells: int = 6) -> np.ndarray:
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
