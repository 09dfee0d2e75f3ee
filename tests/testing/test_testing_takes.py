"""The continuity evaluation set: the reprojection truth, the stereo pair's visibility, the planted changes, a tiny
real Blender render with its passes, and the scores."""

from __future__ import annotations

import numpy as np

from matchcut.testing import takes
from matchcut.testing.metrics import region_iou, score_changes


def test_stereo_visibility_follows_the_disparity():
    seen_left, seen_right = takes.stereo_visibility()
    assert seen_left.shape == seen_right.shape == (500, 741)
    # A right pixel x matches the left pixel x + d: along the right view's right edge there is none.
    assert seen_right[:, :5].mean() > 0.8 and seen_right[:, -5:].mean() < 0.2
    assert 0.75 < seen_left.mean() < 0.97 and 0.75 < seen_right.mean() < 0.97


def test_stereo_pairs_plant_four_changes_where_both_views_see():
    for split in takes.SPLITS:
        pairs = takes.stereo_pairs(split)
        assert len(pairs) == 4
        for p in pairs:
            assert sorted(c.kind for c in p.changes) == sorted(takes.KINDS)
            for c in p.changes:
                for box in [c.box] + ([c.origin] if c.origin else []):
                    x, y, w, h = box
                    assert p.not_comparable[y:y + h, x:x + w].mean() < 0.05
            assert p.clean_b.shape == p.b.shape and not np.allclose(p.clean_b, p.b)
    assert takes.stereo_pairs("tune")[0].name != takes.stereo_pairs("held-out")[0].name


def test_planted_pairs_keep_todays_kind_with_moves_as_one_change():
    pairs = takes.planted_pairs("held-out")
    assert len(pairs) == 8 and {p.kind for p in pairs} == {"homography"}
    moves = [c for p in pairs for c in p.changes if c.kind == "moved"]
    assert moves and all(c.origin is not None and region_iou(c.box, c.origin) < 0.3 for c in moves)


def test_score_changes_counts_a_move_once_and_ignores_what_nobody_can_find():
    class R:
        def __init__(self, box, origin=None):
            self.box, self.origin = box, origin

    changes = [takes.Change("moved", (100, 100, 20, 20), (10, 10, 20, 20)), takes.Change("added", (50, 50, 10, 10))]
    s = score_changes([R((101, 100, 20, 20), (10, 11, 20, 20)), R((200, 200, 9, 9)), R((300, 300, 8, 8))],
                      changes, ignore=[(300, 300, 8, 8)])
    assert s == {"changes": 2, "found": 1, "missed": 1, "false_alarms": 1, "moves": 1, "moves_as_one": 1}
    # The two halves of a move as two regions: found, no false alarm, but not one move.
    s = score_changes([R((100, 100, 20, 20)), R((10, 10, 20, 20))], changes[:1])
    assert (s["found"], s["false_alarms"], s["moves_as_one"]) == (1, 0, 0)
