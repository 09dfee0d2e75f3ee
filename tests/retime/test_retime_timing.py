"""Timing plans: fill runs, edges, retime positions and recursive halving."""

import pytest

from matchcut.errors import SettingError
from matchcut.retime.timing import Source, fill_sources, gaps, halving_steps, retime_sources, retime_step


def test_run_of_bad_frames_gets_evenly_spaced_timesteps_from_nearest_good():
    plan = fill_sources(list(range(1001, 1009)), {1004, 1005, 1006})
    assert plan[1003] == Source(1003)
    assert [(plan[f].left, plan[f].right) for f in (1004, 1005, 1006)] == [(1003, 1007)] * 3
    assert [plan[f].t for f in (1004, 1005, 1006)] == [0.25, 0.5, 0.75]


def test_bad_frames_at_both_ends_are_held_from_the_nearest_good():
    plan = fill_sources([1, 2, 3, 4, 5], {1, 2, 5})
    assert plan[1] == Source(3, hold=True) and plan[2] == Source(3, hold=True)
    assert plan[5] == Source(4, hold=True)


def test_all_bad_is_an_error():
    with pytest.raises(SettingError, match="every frame"):
        fill_sources([1, 2, 3], {1, 2, 3})


def test_half_speed_doubles_frames_and_numbers_from_first():
    plan = retime_sources([1001, 1002, 1003], retime_step(speed=0.5))
    assert sorted(plan) == [1001, 1002, 1003, 1004, 1005]
    assert plan[1001] == Source(1001) and plan[1003] == Source(1002) and plan[1005] == Source(1003)
    assert plan[1002] == Source(1001, 1002, 0.5)


def test_fps_24_to_30_keeps_duration():
    step = retime_step(fps_from=24, fps_to=30)
    assert step == pytest.approx(0.8)
    plan = retime_sources(list(range(1, 25)), step)
    assert len(plan) == 29  # 23 source intervals / 0.8 = 28.75 -> 29 frames from 1
    assert plan[2].left == 1 and plan[2].t == pytest.approx(0.8)
    assert plan[6] == Source(5)


def test_speed_and_fps_together_or_neither_are_errors():
    with pytest.raises(SettingError):
        retime_step(speed=2, fps_from=24, fps_to=30)
    with pytest.raises(SettingError):
        retime_step()
    with pytest.raises(SettingError):
        retime_step(speed=-1)


def test_halving_reaches_quarters_exactly_and_others_within_depth():
    assert halving_steps(0.5, 5) == ([], 0.5)
    assert halving_steps(0.25, 5) == ([0], 0.25)
    assert halving_steps(0.75, 5) == ([1], 0.75)
    path, reached = halving_steps(1 / 3, 6)
    assert abs(reached - 1 / 3) <= 2 ** -6


def test_retime_bridges_gaps_at_their_true_time():
    plan = retime_sources([1, 2, 5, 6], 0.5)
    assert plan[1] == Source(1) and plan[3] == Source(2) and plan[9] == Source(5) and plan[11] == Source(6)
    assert plan[4] == Source(2, 5, pytest.approx(0.5 / 3))
    assert plan[8] == Source(2, 5, pytest.approx(2.5 / 3))
    assert len(plan) == 11 and gaps([1, 2, 5, 6, 8]) == [(3, 4), (7, 7)]
