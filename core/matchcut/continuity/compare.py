"""One comparison of two frames: align, normalise, difference, regions (in B's full-resolution pixels)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from matchcut.continuity.align import Alignment, align, analysis_scale, resize, warp_to_b
from matchcut.continuity.detect import WORKING, Region, censor, clipped, difference_map, find_regions, normalise


@dataclass
class Comparison:
    """What a comparison found. Images are at the analysis scale, display-referred sRGB in [0, 1]."""

    alignment: Alignment
    fit: object
    display_a: np.ndarray  # A as shot (analysis scale of A)
    display_b: np.ndarray  # B as shot
    aligned_a: np.ndarray  # A warped into B and normalised to B's light
    score: np.ndarray  # (h, w) float32 0..1
    valid: np.ndarray  # (h, w) bool
    clipped: np.ndarray  # (h, w) bool: clipped in either shot, compared one way only (see detect.censor)
    regions: list[Region]  # boxes in B's full-resolution pixels
    size_b: tuple[int, int]  # B's full (H, W)
    person: bool | None = None  # None: not looked for
    seconds: dict = field(default_factory=dict)


def display(linear: np.ndarray) -> np.ndarray:
    """Linear Rec.709 (H, W, 3) -> sRGB-encoded display values clipped to [0, 1], through OCIO."""
    from matchcut.color import SRGB_DISPLAY, convert

    return np.clip(convert(np.ascontiguousarray(linear, np.float32), WORKING, SRGB_DISPLAY), 0.0, 1.0)


def compare(a: np.ndarray, b: np.ndarray, *, sensitivity: float = 0.5, min_area: float = 0.001,
            refine: bool = True, person: bool = True, device=None, where: str = "shots A and B",
            warn=None) -> Comparison:
    """Compare frame A (the reference) with frame B.

    Args:
        a, b: linear Rec.709 RGB (H, W, 3) float32; sizes and aspect ratios may differ.
        sensitivity: 0..1, 1 flags the most. min_area: smallest region, a fraction of B's frame.
        person: look for a person in B (zoo models) to tell wardrobe and hair from the set.
        warn: called with a message when person detection is unavailable.
    Raises AlignmentError when the shots have nothing in common.
    """
    t0 = time.perf_counter()
    sa, sb = analysis_scale(a.shape), analysis_scale(b.shape)
    small_a, small_b = resize(a, sa), resize(b, sb)
    da, db = display(small_a), display(small_b)
    al = align(da, db, refine=refine, where=where, scales=(sa, sb))
    warped, valid = warp_to_b(al, small_a, sa, db.shape[:2], sb)
    valid &= al.valid
    t1 = time.perf_counter()
    # Clipped values (a highlight burnt out in the brighter shot, crushed blacks) carry no comparable level:
    # they stay out of the colour fit and are compared only as bounds.
    clip_a, clip_b = clipped(display(warped)), clipped(db)
    either = ((clip_a != 0) | (clip_b != 0)).any(-1) & valid
    fit_mask = valid & ~either if (valid & ~either).mean() > 0.1 * max(valid.mean(), 1e-6) else valid
    normalised, fit = normalise(warped, small_b, fit_mask)
    dn = display(normalised)
    score, structural, colour = difference_map(dn, censor(dn, clip_a, db, clip_b, colour=False), valid,
                                               colour_b=censor(dn, clip_a, db, clip_b))
    matte, present = None, None
    if person:
        matte, present = _person(db, device, warn)
    regions = find_regions(score, structural, colour, dn, db, sensitivity=sensitivity, min_area=min_area,
                           person=matte if present else None, valid=valid)
    s = 1.0 / sb
    full_h, full_w = b.shape[:2]
    for r in regions:
        x, y, w, h = r.box
        x0, y0 = int(np.floor(x * s)), int(np.floor(y * s))
        x1, y1 = min(full_w, int(np.ceil((x + w) * s))), min(full_h, int(np.ceil((y + h) * s)))
        r.box = (x0, y0, x1 - x0, y1 - y0)
        r.area = int(round(r.area * s * s))
    t2 = time.perf_counter()
    return Comparison(al, fit, da, db, dn, score, valid, either, regions, (full_h, full_w), present,
                      {"alignment": t1 - t0, "detection": t2 - t1})


def _person(display_b: np.ndarray, device, warn):
    from matchcut.errors import MatchcutError

    try:
        from matchcut.vision.segmentation import gated_person_mask

        return gated_person_mask(display_b, device=device)
    except MatchcutError as exc:
        if warn:
            warn(f"person detection unavailable ({exc}); regions are not split into person and set")
        return None, None
