"""Alignment with depth: real parallax (the Middlebury motorcycle pair) is not a change, what A cannot see is not
compared, a move is one region with its origin, a blurrier shot is compared at the common sharpness, and shots
that cannot be compared say why."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from matchcut.continuity.align import AlignmentError
from matchcut.continuity.compare import compare
from matchcut.testing import takes
from matchcut.testing.metrics import region_iou, score_changes
from matchcut.testing.photos import photo
from matchcut.testing.planted import make_pair


def _shrink(pair: takes.TakePair, f: float) -> takes.TakePair:
    """A take pair at ``f`` times its size (images by area, the truth mask by nearest, boxes scaled)."""
    h, w = pair.b.shape[:2]
    size = (round(w * f), round(h * f))

    def box(b):
        return tuple(int(round(v * f)) for v in b) if b is not None else None

    def image(x):
        return cv2.resize(x, size, interpolation=cv2.INTER_AREA)

    mask = cv2.resize(pair.not_comparable.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return takes.TakePair(pair.name, pair.source, pair.split, pair.kind, image(pair.a), image(pair.b),
                          [takes.Change(c.kind, box(c.box), box(c.origin)) for c in pair.changes], image(pair.clean_b),
                          mask)


@pytest.fixture(scope="module")
def stereo():
    return _shrink(takes.stereo_pairs("tune")[0], 0.65)


def test_parallax_alone_is_not_a_change(stereo):
    # Two camera positions 0.1 of the width apart, nothing changed: the homography flags the scene's depth.
    depth = compare(stereo.a, stereo.clean_b, person=False)
    before = compare(stereo.a, stereo.clean_b, person=False, alignment="smooth")
    assert depth.alignment.stats["model"] == "dense" and depth.alignment.epipole is not None
    assert len(before.regions) >= 10
    assert len(depth.regions) <= 3
    h, w = stereo.b.shape[:2]
    assert all(r.box[2] * r.box[3] <= 0.25 * h * w for r in depth.regions)
    # What the right view sees and the left cannot (its right edge, beside what stands in front) is not
    # compared, and counted as such.
    marked = cv2.resize((~depth.valid).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    assert (marked & stereo.not_comparable).sum() > 0.3 * stereo.not_comparable.sum()
    edge = stereo.not_comparable[:, -20:]
    assert marked[:, -20:][edge].mean() > 0.9
    assert depth.occluded.any() and not (depth.occluded & depth.valid).any()


def test_planted_changes_found_despite_parallax(stereo):
    depth = compare(stereo.a, stereo.b, person=False)
    before = compare(stereo.a, stereo.b, person=False, alignment="smooth")
    now, then = (score_changes(c.regions, stereo.changes) for c in (depth, before))
    assert now["found"] >= 3 and now["found"] > then["found"]
    assert now["false_alarms"] <= 2 < then["false_alarms"]


def test_a_moved_prop_is_one_region_with_its_origin():
    pair = make_pair("chelsea", seed=2, size=(288, 384), changes=("move",))
    c = compare(pair.a, pair.b, person=False)
    origin, target = pair.boxes
    moves = [r for r in c.regions if r.category == "moved"]
    assert len(moves) == 1
    assert region_iou(moves[0].box, target) >= 0.3 and region_iou(moves[0].origin, origin) >= 0.3
    assert not [r for r in c.regions if r is not moves[0] and region_iou(r.box, origin) >= 0.3]
    assert moves[0].to_dict()["origin"] == list(moves[0].origin)


def test_a_blurrier_shot_is_compared_at_the_common_sharpness():
    pair = make_pair("astronaut", seed=4, size=(288, 384))
    soft = cv2.GaussianBlur(pair.b, (0, 0), 2.0)
    c = compare(pair.a, soft, person=False)
    assert c.sharpness["blurrier"] == "B" and c.sharpness["sigma_px"] >= 1.0
    assert "B is blurrier than A" in c.sharpness["note"]
    boxes = [r.box for r in c.regions] + [r.origin for r in c.regions if r.origin]
    found = sum(any(region_iou(b, p) >= 0.3 for b in boxes) for p in pair.boxes)
    assert found >= 4 and len(c.regions) <= 5
    sharp = compare(pair.a, pair.b, person=False)
    assert sharp.sharpness["blurrier"] is None


def test_shots_that_barely_overlap_say_so():
    # Two crops of one photo that share a sliver: features match, but there is too little to compare.
    image = photo("astronaut", colorspace="linear")
    a, b = image[:, :262], image[:, 250:]
    with pytest.raises(AlignmentError, match=r"share \d+ % of B's frame|no alignment found"):
        compare(a, b, person=False)


def test_shots_of_different_aspect_ratios_are_compared_in_b_frame(stereo):
    wide = stereo.a[20:-20]  # A cropped to a wider aspect ratio than B
    c = compare(wide, stereo.b, person=False)
    assert c.size_b == stereo.b.shape[:2]
    found = score_changes(c.regions, stereo.changes)["found"]
    assert found >= 3
