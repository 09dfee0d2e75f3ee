"""The measures every known-answer check uses: PSNR and SSIM of pictures, matte errors, region IoU and scores.

Matte errors follow the alpha-matting benchmark (Rhemann et al. 2009): SAD in thousands of pixels, MSE,
gradient error, connectivity error (both in thousands), and IoU of the mattes thresholded at 0.5. Colour
differences (CIEDE2000) live with the Lab code in
``matchcut.matching.lab.delta_e2000``, which the tools themselves use.
"""

from __future__ import annotations

import math

import numpy as np

#: The highest PSNR ``psnr`` returns by default: the MSE is floored at 10 ** (-120 / 10) = 1e-12.
PSNR_CAP = 120.0


def psnr(a: np.ndarray, b: np.ndarray, *, clip: bool = True, cap: float | None = PSNR_CAP,
         dtype: type | None = None) -> float:
    """PSNR in dB of ``a`` against ``b``, for values whose peak is 1.0.

    ``clip``: both clipped to [0, 1] first (display values, as a delivery would be). ``cap``: the largest value
    returned (identical images give it); None: identical images give inf. ``dtype``: the precision of the
    arithmetic (None: the inputs', so float32 images are compared in float32).
    """
    a, b = np.asarray(a, dtype), np.asarray(b, dtype)
    if clip:
        a, b = np.clip(a, 0, 1), np.clip(b, 0, 1)
    mse_ = float(np.mean((a - b) ** 2))
    if cap is None:
        return float("inf") if mse_ == 0 else 10.0 * math.log10(1.0 / mse_)
    return 10 * float(np.log10(1.0 / max(mse_, 10 ** (-cap / 10))))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (scikit-image, data range 1, over R, G, B) of two float32 (H, W, 3) display images."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(np.clip(a, 0, 1), np.clip(b, 0, 1), channel_axis=2, data_range=1.0))


# --- mattes: (H, W) alpha in [0, 1] against the known alpha ----------------------------------------------


def sad(alpha: np.ndarray, truth: np.ndarray) -> float:
    """Sum of absolute differences, in thousands (the matting benchmark's unit)."""
    return float(np.abs(alpha.astype(np.float64) - truth).sum() / 1000.0)


def mse(alpha: np.ndarray, truth: np.ndarray) -> float:
    """Mean squared error (float64) of alpha in [0, 1]."""
    return float(np.mean((alpha.astype(np.float64) - truth) ** 2))


def gradient_error(alpha: np.ndarray, truth: np.ndarray, sigma: float = 1.4) -> float:
    """Gradient error: the summed squared difference of Gaussian-derivative gradient magnitudes, in thousands."""
    from scipy.ndimage import gaussian_gradient_magnitude

    ga = gaussian_gradient_magnitude(alpha.astype(np.float64), sigma)
    gt = gaussian_gradient_magnitude(truth.astype(np.float64), sigma)
    return float(((ga - gt) ** 2).sum() / 1000.0)


def connectivity_error(alpha: np.ndarray, truth: np.ndarray, step: float = 0.1) -> float:
    """Connectivity error (Rhemann et al. 2009, as the matting benchmark's reference code computes it), in
    thousands, over the whole frame: for each threshold t = step, 2 step, ..., 1 the largest 4-connected region
    where both mattes are >= t is the source; a pixel's level l is the last threshold at which it still
    belonged to the source; phi = 1 - d * (d >= 0.15) with d = alpha - l; the error sums |phi - phi_truth|.
    A hole punched in a matte, or an island cut off from the subject, costs by how far it is disconnected."""
    from scipy.ndimage import label

    a, t = alpha.astype(np.float64), truth.astype(np.float64)
    level = np.full(a.shape, -1.0)
    thresholds = np.arange(0.0, 1.0 + step / 2, step)
    four = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    for previous, threshold in zip(thresholds[:-1], thresholds[1:]):
        labels, count = label((a >= threshold) & (t >= threshold), structure=four)
        if count:
            sizes = np.bincount(labels.ravel())[1:]
            omega = labels == (1 + int(np.argmax(sizes)))
        else:
            omega = np.zeros(a.shape, bool)
        level[(level == -1) & ~omega] = previous
    level[level == -1] = 1.0
    da, dt = a - level, t - level
    phi_a, phi_t = 1.0 - da * (da >= 0.15), 1.0 - dt * (dt >= 0.15)
    return float(np.abs(phi_a - phi_t).sum() / 1000.0)


def mask_iou(alpha: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> float:
    """Intersection over union of the two mattes thresholded at ``threshold`` (1.0 when both are empty)."""
    a, t = alpha >= threshold, truth >= threshold
    union = np.logical_or(a, t).sum()
    return float(np.logical_and(a, t).sum() / union) if union else 1.0


def matte_errors(alpha: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """{"sad", "mse", "grad", "conn", "iou"} of ``alpha`` against ``truth`` ((H, W) float32 in [0, 1])."""
    return {"sad": sad(alpha, truth), "mse": mse(alpha, truth), "grad": gradient_error(alpha, truth),
            "conn": connectivity_error(alpha, truth), "iou": mask_iou(alpha, truth)}


# --- regions: (x, y, w, h) boxes in pixels ------------------------------------------------------------


def region_iou(p: tuple[int, int, int, int], q: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes (0.0 when both are empty)."""
    ix = max(0, min(p[0] + p[2], q[0] + q[2]) - max(p[0], q[0]))
    iy = max(0, min(p[1] + p[3], q[1] + q[3]) - max(p[1], q[1]))
    inter = ix * iy
    union = p[2] * p[3] + q[2] * q[3] - inter
    return inter / union if union else 0.0


def score_detections(boxes: list, planted: list, threshold: float = 0.3) -> tuple[int, int, int]:
    """(true positives, false positives, missed) of detected boxes against planted boxes at IoU >= threshold:
    a planted box is found when some detection overlaps it; a detection that overlaps none is a false positive."""
    found = [any(region_iou(d, p) >= threshold for d in boxes) for p in planted]
    fp = sum(1 for d in boxes if not any(region_iou(d, p) >= threshold for p in planted))
    return sum(found), fp, len(planted) - sum(found)


def _claims(region) -> list:
    """The boxes a detection points at: its own and, for a move reported once, where it came from."""
    if hasattr(region, "box"):
        box, origin = region.box, getattr(region, "origin", None)
    else:
        box, origin = region, None
    return [tuple(box)] + ([tuple(origin)] if origin is not None else [])


def score_changes(regions: list, changes: list, ignore: list = (), threshold: float = 0.3) -> dict:
    """Detections against known continuity changes at IoU >= ``threshold``.

    ``regions``: objects with ``box`` (x, y, w, h) and optional ``origin`` (a move's other end, or None), or
    plain boxes. ``changes``: objects with ``box``, ``kind`` and ``origin`` (a move's
    origin, or None). ``ignore``: boxes of changes nobody is expected to find (a detection of one is neither a
    find nor a false alarm). A change is found when a detection's box or origin overlaps its box or origin; a
    detection that overlaps no change and no ignored box is a false alarm. A move counts as *one move* when a
    single detection overlaps both its ends. Returns {"changes", "found", "missed", "false_alarms", "moves",
    "moves_as_one"} (counts).
    """
    claims = [_claims(r) for r in regions]
    truth = [[tuple(c.box)] + ([tuple(c.origin)] if getattr(c, "origin", None) is not None else []) for c in changes]

    def hit(cl, boxes):
        return any(region_iou(p, q) >= threshold for p in cl for q in boxes)

    found = [any(hit(cl, t) for cl in claims) for t in truth]
    false_alarms = sum(1 for cl in claims if not any(hit(cl, t) for t in truth) and not hit(cl, list(ignore)))
    moves = [(c, t) for c, t in zip(changes, truth) if len(t) == 2]
    as_one = sum(1 for _, t in moves if any(len(cl) == 2 and (
        (region_iou(cl[0], t[0]) >= threshold and region_iou(cl[1], t[1]) >= threshold)) for cl in claims))
    return {"changes": len(changes), "found": sum(found), "missed": len(changes) - sum(found),
            "false_alarms": false_alarms, "moves": len(moves), "moves_as_one": as_one}
