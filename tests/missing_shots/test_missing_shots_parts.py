"""Coverage's parts on small real inputs: take names, finding a framing in a wider picture, punch-in boxes and their
limit, handles that stop at a cut or a missing frame, retiming plans, track placement, lost frames inside a clip."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import SettingError
from matchcut.frames import write_plate
from matchcut.missing_shots.proposals import Limits, _retimed
from matchcut.missing_shots.reframe import Box, check_upscale, punch_box, upscale_needed
from matchcut.missing_shots.shots import INCOMING, OUTGOING, Side, handles
from matchcut.missing_shots.takes import Footage, candidates, index_media, locate_framing, scene_of, setup_of
from matchcut.missing_shots.timeline import _place
from matchcut.testing.photos import photo


@pytest.mark.parametrize("name, setup, scene", [
    ("sc12_close_tk2", "sc12_close", "sc12"), ("ZZ100_501.take_1", "zz100_501", "zz100_501"),
    ("sh010.1001.exr", "sh010", "sh010"), ("A012_C003_T04.mov", "a012_c003", "a012_c003"),
    ("sc4-MS-take3", "sc4-ms", "sc4"), ("sc12_WIDE", "sc12_wide", "sc12")])
def test_take_names_give_the_set_up_and_the_scene(name, setup, scene):
    assert (setup_of(name), scene_of(name)) == (setup, scene)


def test_the_scene_s_other_set_ups_are_tried_first(tmp_path):
    footage = [Footage("sc12_close_tk1", "a"), Footage("sc40_wide", "b"), Footage("sc12_wide_tk3", "c"),
               Footage("sc12_close_tk2", "own")]
    names = [f.name for f in candidates(footage, "sc12_close_tk2", "own")]
    assert names == ["sc12_wide_tk3", "sc12_close_tk1", "sc40_wide"]


def test_media_folders_are_indexed_a_few_levels_down(tmp_path):
    for rel in ("a/sh010/sh010.1001.exr", "a/sh010/sh010.1002.exr", "a/b/c/still.exr", "a/b/c/d/e/deep.1001.exr",
                "a/b/c/d/e/deep.1002.exr"):
        write_plate(tmp_path / rel, np.zeros((4, 4, 3), np.float32))
    found = {f.name: f.pattern for f in index_media([tmp_path / "a"])}
    assert found == {"sh010": str(tmp_path / "a/sh010/sh010.####.exr"), "still": str(tmp_path / "a/b/c/still.exr")}
    with pytest.raises(Exception, match="does not exist"):
        index_media([tmp_path / "nowhere"])


def test_a_close_framing_is_found_inside_the_wide_picture():
    import cv2

    wide = photo("astronaut", colorspace="srgb", size=(288, 512))
    close = cv2.resize(wide[60:204, 200:456], (512, 288), interpolation=cv2.INTER_CUBIC)
    box, inliers = locate_framing(close, wide)
    assert inliers >= 25
    assert np.allclose([box.x, box.y, box.w, box.h], [200, 60, 256, 144], atol=1.5)
    assert locate_framing(close, photo("coffee", colorspace="srgb", size=(288, 512))) is None


def test_a_punch_in_box_keeps_the_aspect_stays_inside_and_is_refused_past_the_model():
    box = punch_box(1920, 1080, 1.5, centre=(1900, 50))
    assert (box.x + box.w, box.y, box.w, box.h) == (1920, 0, 1280, 720)
    assert punch_box(1920, 1080, 2, aspect=1.0).w == 540  # a square output from a 16:9 take
    assert upscale_needed(Box(0, 0, 959.6, 539.6), 1080, 1920) == 2.0  # the crop is whole pixels
    assert check_upscale(Box(0, 0, 960, 540), 1080, 1920, limit=2) == 2.0
    with pytest.raises(SettingError, match=r"a 640x360 box brought to 1920x1080 is a 3.00x upscale, beyond the 2x"):
        check_upscale(Box(0, 0, 640, 360), 1080, 1920, limit=2)
    with pytest.raises(SettingError, match="at least 1"):
        punch_box(100, 100, 0.5)


def _shot(folder, name, frames, picture):
    for f in frames:
        write_plate(folder / name / f"{name}.{f:04d}.exr", picture(f))
    return str(folder / name / f"{name}.####.exr")


def test_handles_stop_at_a_scene_cut_and_at_a_missing_frame(tmp_path):
    a = photo("astronaut", colorspace="linear", size=(48, 64))
    b = photo("rocket", colorspace="linear", size=(48, 64))
    # 1001-1010 used, 1011-1013 the same shot, 1014 on is another take on the roll; 1020 missing before 1021
    pattern = _shot(tmp_path, "roll", [*range(998, 1020), 1021], lambda f: a if f < 1014 else b)

    class Clip:
        name = "roll"

    side = Side(OUTGOING, Clip(), pattern, 1, (0, 9), list(range(1001, 1011)))
    got, why = handles(side, 8)
    assert got == [1011, 1012, 1013] and "cuts to another shot at frame 1014" in why
    back = Side(INCOMING, Clip(), pattern, 1, (0, 9), list(range(1001, 1011)))
    got, why = handles(back, 5)
    assert got == [1000, 999, 998] and "the media ends there" in why
    later = Side(OUTGOING, Clip(), pattern, 1, (0, 3), list(range(1016, 1020)))
    assert handles(later, 4) == ([], "0 frame(s) after it (frame 1020 is missing)")


def test_a_slow_spreads_the_frames_evenly_and_keeps_both_ends():
    class S:
        pattern, origin = "p.####.exr", 1

    plan = _retimed(list(range(1001, 1011)), 16, S())
    assert len(plan) == 16 and plan[0].how == plan[-1].how == "reuse"
    assert (plan[0].left, plan[-1].left) == (1001, 1010)
    times = [m.left + (m.t if m.how == "interpolate" else 0) for m in plan]
    assert np.allclose(np.diff(times), 9 / 15)
    assert Limits().max_slowdown == 0.5


def test_a_proposal_that_overlaps_goes_one_track_up():
    tracks: list = []
    assert _place(tracks, 0, (10, 20)) == 0
    tracks[0].append((10, 20, None))
    assert _place(tracks, 0, (21, 30)) == 0
    assert _place(tracks, 0, (15, 30)) == 1
    assert _place(tracks, 2, (0, 5)) == 2 and len(tracks) == 3


@pytest.mark.zoo
def test_the_same_punch_in_found_from_both_sides_of_a_hole_is_offered_once(tmp_path):
    from matchcut.missing_shots.holes import find_holes
    from matchcut.missing_shots.proposals import build
    from matchcut.testing.productions import make_production
    from matchcut.timelines import read_edit

    prod = make_production(tmp_path, size=(180, 320))
    lost = find_holes(read_edit(prod.timeline))[3]  # frames lost inside sc01_close: both sides are that shot
    proposals, _, handles_of = build(3, lost, index_media([prod.media]), Limits(max_bridge=1))
    assert [p.kind for p in proposals].count("punch-in") == 1
    assert handles_of["outgoing"]["frames"] == 0 and "frame 1024 is missing" in handles_of["outgoing"]["why"]
