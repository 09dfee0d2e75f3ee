"""Ranking a hole's proposals: what each costs the picture and how well it cuts with the shots either side.

A proposal starts at 100 points and loses:

- picture: nothing for real frames (extend); ``SLOW_POINTS`` x (1 / speed - 1) for a slow (half speed: 40);
  for a punch-in, ``UPSCALE_POINTS`` per dB the super-resolution model falls short of ``CLEAN_DB`` when it
  restores this very framing from that much smaller (its measured loss at that scale, on this picture); for a
  bridge, ``BRIDGE_POINTS`` per frame made;
- continuity: at each cut the proposal makes with a neighbour it does not continue, the continuity check
  (``matchcut.continuity.compare``, the tool's own comparison) between the two frames either side of that cut:
  ``REGION_POINTS`` per region flagged plus ``AREA_POINTS`` x the fraction of the frame they cover.

The weights are judgement, not measurement: a half-speed slow or a soft punch-in costs about what a visible
continuity slip does. The report gives every term in words, so the editor can weigh them otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matchcut.missing_shots.proposals import Proposal
from matchcut.missing_shots.shots import INCOMING, OUTGOING, Side

SLOW_POINTS = 40.0
UPSCALE_POINTS = 2.0
CLEAN_DB = 40.0
BRIDGE_POINTS = 5.0
REGION_POINTS = 10.0
AREA_POINTS = 100.0


@dataclass
class Score:
    """A proposal's points (0 to 100, higher is better) and each term as (points lost, words)."""

    points: float
    terms: list[tuple[float, str]] = field(default_factory=list)
    continuity: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        lost = "; ".join(f"{words} (-{p:.0f})" if p >= 0.5 else words for p, words in self.terms)
        return f"{self.points:.0f} of 100: {lost}"


def upscale_loss(crop_display: np.ndarray, factor: float, model: str, device: Any = None) -> float:
    """PSNR (dB) of ``model`` restoring ``crop_display`` (H, W, 3) display sRGB in [0, 1] from ``factor`` times
    smaller (area shrink, then ``upscale_to`` back): how well it restores at that scale, on this picture."""
    from matchcut.testing.metrics import psnr
    from matchcut.vision.upscale import shrink, upscale_to

    small = shrink(crop_display, factor)
    back = upscale_to(small, crop_display.shape[0], crop_display.shape[1], model, device=device)
    return float(psnr(back, crop_display, dtype=np.float64))


def picture_terms(p: Proposal) -> list[tuple[float, str]]:
    """What the proposal costs the picture, as (points, words)."""
    if p.kind == "extend":
        split = f", cut to the other shot after {p.cost['split']}" if "split" in p.cost else ""
        return [(0.0, f"real frames from the handles, nothing made{split}")]
    if p.kind == "slow":
        speed = p.cost["slowdown"]
        return [(SLOW_POINTS * (1 / speed - 1), f"slowed to {100 * speed:.0f} % ({p.cost['interpolated']} "
                 "in-between(s))")]
    if p.kind == "bridge":
        n = p.cost["interpolated"]
        return [(BRIDGE_POINTS * n, f"{n} frame(s) made by interpolation across {p.cost['span']} frame(s)")]
    need = p.cost["upscale"]
    if need <= 1.0:
        return [(0.0, "the wider take has the pixels: no super-resolution needed")]
    db = p.cost.get("restore_db")
    if db is None:
        return [(UPSCALE_POINTS * 10, f"{need:.2f}x super-resolution ({p.cost['model']}; its loss not measured)")]
    return [(UPSCALE_POINTS * max(0.0, CLEAN_DB - db), f"{need:.2f}x super-resolution by {p.cost['model']}, which "
             f"restores this framing at {db:.1f} dB from that much smaller")]


def measure_punch(p: Proposal, first_plate, device: Any = None) -> None:
    """Record in ``p.cost`` the model's measured restoration at the proposal's scale on its first source frame."""
    from matchcut import color

    make = p.frames[0]
    if p.kind != "punch-in" or make.box is None or p.cost.get("upscale", 1.0) <= 1.0:
        return
    x0, y0, x1, y1 = make.box.pixels(first_plate.width, first_plate.height)
    rgb = np.ascontiguousarray(first_plate.rgb[y0:y1, x0:x1])
    display = np.clip(color.convert(rgb, color.plate_colorspace(first_plate), color.SRGB_DISPLAY), 0, 1)
    p.cost["restore_db"] = round(upscale_loss(display.astype(np.float32), p.cost["upscale"], p.cost["model"],
                                              device), 2)


def _linear(plate) -> np.ndarray:
    from matchcut import color
    from matchcut.tools.continuity import WORKING

    return color.convert(np.ascontiguousarray(plate.rgb), color.plate_colorspace(plate), WORKING).astype(np.float32)


def continuity_terms(p: Proposal, ends: dict[str, Any], sides: dict[str, Side], *, sensitivity: float = 0.5,
                     device: Any = None) -> tuple[list[tuple[float, str]], list[dict]]:
    """The continuity check at each new cut: ``ends`` maps OUTGOING/INCOMING to the proposal's first/last plate.
    Returns (terms, one dict per comparison for the report)."""
    from matchcut.continuity.align import AlignmentError
    from matchcut.continuity.compare import compare

    terms: list[tuple[float, str]] = []
    checks: list[dict] = []
    for where in (OUTGOING, INCOMING):
        side = sides.get(where)
        if side is None or not p.meets.get(where) or where not in ends:
            continue
        edge = side.edge_plate
        a, b = (edge, ends[where]) if where == OUTGOING else (ends[where], edge)
        label = f"'{side.name}' / proposal" if where == OUTGOING else f"proposal / '{side.name}'"
        try:
            c = compare(_linear(a), _linear(b), sensitivity=sensitivity, alignment="homography", person=False,
                        device=device, where=label)
        except AlignmentError as exc:
            checks.append({"with": side.name, "side": where, "regions": None, "note": str(exc)})
            terms.append((0.0, f"cut with '{side.name}': too different to compare (another framing)"))
            continue
        frame = float(b.width * b.height)
        area = sum(r.area for r in c.regions) / frame if frame else 0.0
        points = REGION_POINTS * len(c.regions) + AREA_POINTS * area
        checks.append({"with": side.name, "side": where, "regions": len(c.regions), "area": round(area, 4),
                       "boxes": [list(r.box) for r in c.regions]})
        words = (f"cut with '{side.name}': {len(c.regions)} continuity region(s) flagged, {100 * area:.1f} % of the "
                 "frame" if c.regions else f"cut with '{side.name}': nothing flagged by the continuity check")
        terms.append((points, words))
    return terms, checks


def score(p: Proposal, ends: dict[str, Any], sides: dict[str, Side], *, check_continuity: bool = True,
          device: Any = None) -> Score:
    """The proposal's Score (picture terms, then continuity at its new cuts when ``check_continuity``)."""
    terms = picture_terms(p)
    checks: list[dict] = []
    if check_continuity:
        more, checks = continuity_terms(p, ends, sides, device=device)
        terms += more
    points = max(0.0, 100.0 - sum(t for t, _ in terms))
    return Score(round(points, 1), terms, checks)
