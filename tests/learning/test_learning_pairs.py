"""Training pairs: the matte limits the fix, identical targets are left out, the held-out part."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import InputError
from matchcut.learning.pairs import HOLD_OUT_BAND, Pair, band_start, difference_map, split_pairs, usable_pairs


def _pair(frame, gain=1.2, matte=None, size=(24, 40)):
    rng = np.random.default_rng(frame)
    x = rng.random((*size, 3), dtype=np.float32)
    return Pair(frame, x, x * np.float32(gain), matte)


def test_the_goal_is_the_target_inside_the_matte_and_the_input_outside():
    matte = np.zeros((24, 40), np.float32)
    matte[:, :10] = 1.0
    matte[:, 10] = 0.5
    p = _pair(1, matte=matte)
    assert np.allclose(p.goal[:, :10], p.target[:, :10])
    assert np.allclose(p.goal[:, 11:], p.input[:, 11:])
    assert np.allclose(p.goal[:, 10], (p.input[:, 10] + p.target[:, 10]) / 2)


def test_identical_targets_are_left_out_and_none_left_is_an_error():
    kept, notes = usable_pairs([_pair(1), _pair(2, gain=1.0)], "fix.####.exr")
    assert [p.frame for p in kept] == [1] and len(notes) == 1 and "frame 2" in notes[0]
    with pytest.raises(InputError, match=r"fix\.####\.exr: every target frame \(5, 6\) is identical.*nothing to learn"):
        usable_pairs([_pair(5, gain=1.0), _pair(6, gain=1.0)], "fix.####.exr")
    outside = np.zeros((24, 40), np.float32)  # the change lies where the matte says there is no fix
    with pytest.raises(InputError, match="inside the matte"):
        usable_pairs([_pair(7, matte=outside)], "fix.####.exr")


def test_three_pairs_hold_the_middle_one_out_fewer_hold_a_band():
    train, held, how = split_pairs([_pair(30), _pair(10), _pair(20)])
    assert [p.frame for p in train] == [10, 30] and [p.frame for p in held] == [20] and "frame 20" in how
    train, held, how = split_pairs([_pair(1), _pair(2)])
    cut = band_start(40)
    assert cut == 32 and all(p.input.shape[1] == cut for p in train) and all(p.input.shape[1] == 8 for p in held)
    assert f"{HOLD_OUT_BAND:.0%}" in how


def test_difference_map_is_where_the_fix_changes_the_picture():
    x = np.full((32, 32, 3), 0.5, np.float32)
    y = x.copy()
    y[10:14, 20:24] = 0.9
    dm = difference_map(Pair(1, x, y), shaped=False)
    assert dm[12, 22] > 0.05 and dm[0, 0] == 0.0 and dm[12, 5] == 0.0
