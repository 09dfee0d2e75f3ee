"""One comparison of two frames: align, normalise, difference, regions (in B's full-resolution pixels)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from matchcut.continuity.align import MIN_SHARED, Alignment, AlignmentError, align, analysis_scale, resize, warp_to_b
from matchcut.continuity.detect import (DEPTH_COLOUR, WORKING, Region, censor, clipped, common_sharpness,
                                        difference_map, find_regions, lab, local_gain, normalise, pair_threshold,
                                        soften)
from matchcut.continuity.flow import run_closes, shift_explains
from matchcut.continuity.shading import light_explains


@dataclass
class Comparison:
    """What a comparison found. Images are at the analysis scale, display-referred sRGB in [0, 1]."""

    alignment: Alignment
    fit: object
    display_a: np.ndarray  # A as shot (analysis scale of A)
    display_b: np.ndarray  # B as shot
    aligned_a: np.ndarray  # A warped into B and normalised to B's light
    score: np.ndarray  # (h, w) float32 0..1
    valid: np.ndarray  # (h, w) bool: compared (A sees it: inside A's frame, not occluded)
    clipped: np.ndarray  # (h, w) bool: clipped in either shot, compared one way only (see detect.censor)
    regions: list[Region]  # boxes in B's full-resolution pixels
    size_b: tuple[int, int]  # B's full (H, W)
    person: bool | None = None  # None: not looked for
    seconds: dict = field(default_factory=dict)
    occluded: np.ndarray | None = None  # (h, w) bool: inside A's frame, but A does not see it (not comparable)
    outside: np.ndarray | None = None  # (h, w) bool: beyond A's frame (not comparable)
    sharpness: dict = field(default_factory=dict)  # {"blurrier": "A" | "B" | None, "sigma_px", "note"}


#: A difference region is parallax, not a change, when the runs through this share of its pixels close up in A.
HIDDEN_REGION = 0.6
#: ... and a static scene the flow got wrong when a shift along the epipolar line explains this share of it.
EXPLAINED_REGION = 0.7
#: ... or static surfaces under another light, when one gain per surface explains this share of it (shading).
SHADED_REGION = 0.7


def display(linear: np.ndarray) -> np.ndarray:
    """Linear Rec.709 (H, W, 3) -> sRGB-encoded display values clipped to [0, 1], through OCIO."""
    from matchcut.color import SRGB_DISPLAY, convert

    return np.clip(convert(np.ascontiguousarray(linear, np.float32), WORKING, SRGB_DISPLAY), 0.0, 1.0)


def compare(a: np.ndarray, b: np.ndarray, *, sensitivity: float = 0.5, min_area: float = 0.001,
            alignment: str = "depth", person: bool = True, device=None, where: str = "shots A and B",
            warn=None) -> Comparison:
    """Compare frame A (the reference) with frame B.

    Args:
        a, b: linear Rec.709 RGB (H, W, 3) float32; sizes and aspect ratios may differ.
        sensitivity: 0..1, 1 flags the most. min_area: smallest region, a fraction of B's frame.
        person: look for a person in B (zoo models) to tell wardrobe and hair from the set.
        warn: called with a message when person detection is unavailable.
        alignment: see align.ALIGNMENTS ("depth": per pixel, what A cannot see is not compared).
    When one shot is blurrier, the other is softened to its sharpness before the difference (``sharpness``).
    Raises AlignmentError when the shots have nothing in common or A sees too little of B.
    """
    t0 = time.perf_counter()
    sa, sb = analysis_scale(a.shape), analysis_scale(b.shape)
    small_a, small_b = resize(a, sa), resize(b, sb)
    da, db = display(small_a), display(small_b)
    al = align(da, db, alignment=alignment, where=where, scales=(sa, sb), device=device)
    warped, inside = warp_to_b(al, small_a, sa, db.shape[:2], sb)
    valid = inside & al.valid
    occluded = inside & al.occluded if al.occluded is not None else np.zeros_like(valid)
    if valid.mean() < MIN_SHARED:
        raise AlignmentError(f"{where}: A sees {100 * valid.mean():.0f} % of B's frame ({100 * occluded.mean():.0f} % "
                             f"hidden from A by what stands in front, need {100 * MIN_SHARED:.0f} % in all): too "
                             "little in common to compare")
    t1 = time.perf_counter()
    # Clipped values (a highlight burnt out in the brighter shot, crushed blacks) carry no comparable level:
    # they stay out of the colour fit and are compared only as bounds.
    clip_a, clip_b = clipped(display(warped)), clipped(db)
    either = ((clip_a != 0) | (clip_b != 0)).any(-1) & valid
    fit_mask = valid & ~either if (valid & ~either).mean() > 0.1 * max(valid.mean(), 1e-6) else valid
    normalised, fit = normalise(warped, small_b, fit_mask)
    dense = al.stats.get("model") == "dense"
    # Depth proper (the features showed parallax): surfaces at many angles, edges of what stands in front.
    parallax = dense and al.epipole is not None
    gain = local_gain(normalised, small_b, fit_mask) if dense else None
    if gain is not None:
        normalised = (normalised * gain).astype(np.float32)
    dn = display(normalised)
    sharp = common_sharpness(dn, db, valid) if alignment == "depth" else {"blurrier": None, "sigma_px": 0.0}
    # Compared at the common sharpness: the sharper shot softened to the blurrier one's.
    dn_cmp = soften(dn, sharp["sigma_px"]) if sharp["blurrier"] == "B" else dn
    db_cmp = soften(db, sharp["sigma_px"]) if sharp["blurrier"] == "A" else db
    weights = DEPTH_COLOUR if parallax else (1.0, 1.0)
    score, structural, colour = difference_map(dn_cmp, censor(dn_cmp, clip_a, db_cmp, clip_b, colour=False), valid,
                                               colour_b=censor(dn_cmp, clip_a, db_cmp, clip_b), weights=weights)
    # The regions' threshold (find_regions computes the same), for the lighting model's verdict.
    threshold = pair_threshold(score, valid, sensitivity, depth=parallax)
    matte, present = None, None
    if person:
        matte, present = _person(db, device, warn)
    uncovered = []
    if parallax:
        from matchcut.matching import apply_color

        # A warped by the homography alone, in B's light: where a static scene would show each patch of B.
        plain = Alignment(al.homography, np.zeros_like(al.flow), al.valid, al.scale_a, al.scale_b, al.matches,
                          al.inliers, al.size_b)
        flat = apply_color(fit, warp_to_b(plain, small_a, sa, db.shape[:2], sb)[0]).astype(np.float32)
        flat = display(flat * gain if gain is not None else flat)
        labs = [lab(x) for x in (flat, db_cmp, dn_cmp)]

    def hidden(mask: np.ndarray) -> bool:
        """A region that is a band parallax uncovered (not comparable), a static scene the flow got wrong
        (explained by a shift along the epipolar line) or static surfaces under another light: not a change."""
        if parallax and run_closes(al.flow, mask, al.epipole) >= HIDDEN_REGION:
            uncovered.append(mask)
            return True
        if light_explains(dn_cmp, db_cmp, mask, threshold, weights) >= SHADED_REGION:
            return True
        return parallax and shift_explains(*labs, al.flow, al.epipole, mask) >= EXPLAINED_REGION

    regions = find_regions(score, structural, colour, dn_cmp, db_cmp, sensitivity=sensitivity, min_area=min_area,
                           person=matte if present else None, valid=valid, hidden=hidden,
                           depth=parallax)
    for mask in uncovered:
        occluded |= mask
        valid &= ~mask
        score[mask] = 0.0
    s = 1.0 / sb
    full_h, full_w = b.shape[:2]
    for r in regions:
        r.box = _to_full(r.box, s, (full_h, full_w))
        r.area = int(round(r.area * s * s))
        if r.origin is not None:
            r.origin = _to_full(r.origin, s, (full_h, full_w))
    t2 = time.perf_counter()
    return Comparison(al, fit, da, db, dn, score, valid, either, regions, (full_h, full_w), present,
                      {"alignment": t1 - t0, "detection": t2 - t1}, occluded,
                      ~inside | (al.outside if al.outside is not None else False), sharp)


def _to_full(box: tuple[int, int, int, int], scale: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """An (x, y, w, h) box at the analysis scale -> B's full-resolution pixels (``scale`` = 1 / analysis scale,
    ``shape`` B's full (H, W)), grown to whole pixels and kept in the frame."""
    x, y, w, h = box
    x0, y0 = int(np.floor(x * scale)), int(np.floor(y * scale))
    x1, y1 = min(shape[1], int(np.ceil((x + w) * scale))), min(shape[0], int(np.ceil((y + h) * scale)))
    return x0, y0, x1 - x0, y1 - y0


def _person(display_b: np.ndarray, device, warn):
    from matchcut.errors import MatchcutError

    try:
        from matchcut.vision.segmentation import gated_person_mask

        return gated_person_mask(display_b, device=device)
    except MatchcutError as exc:
        if warn:
            warn(f"person detection unavailable ({exc}); regions are not split into person and set")
        return None, None
