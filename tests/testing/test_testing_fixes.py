"""Footage with a known correction: the truths are what they say, the matte and the markers move, the files match."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.testing import fixes

SIZE, FRAMES, TRAINING = (96, 128), 10, (1001, 1003, 1005)


@pytest.fixture(scope="module")
def shots():
    return {kind: fixes.fix_shot("tune", kind, size=SIZE, frames=FRAMES, training=TRAINING) for kind in fixes.KINDS}


def _centroid(weight):
    yy, xx = np.mgrid[0:weight.shape[0], 0:weight.shape[1]]
    return np.array([(xx * weight).sum(), (yy * weight).sum()]) / weight.sum()


def _warmth(img, where):
    return float(np.mean(img[where][:, 0] / np.maximum(img[where][:, 2], 1e-3)))


def _yellow(img, where):
    """How much green is above blue where the tape is (the markers are yellow)."""
    return float(np.mean(img[where][:, 1] - img[where][:, 2]))


def test_shots_are_scene_linear_half_floats_and_score_every_frame_but_the_training_ones(shots):
    shot = shots["colour"]
    assert shot.frames == list(range(fixes.FIRST, fixes.FIRST + FRAMES)) and shot.training == TRAINING
    assert shot.scored == [f for f in shot.frames if f not in TRAINING]
    for f in shot.frames:
        for img in (shot.inputs[f], shot.truths[f]):
            assert img.shape == (*SIZE, 3) and img.dtype == np.float32
            assert np.array_equal(img, img.astype(np.float16).astype(np.float32))
    assert 0.01 < float(np.median(shot.inputs[1001])) < 0.6  # scene-linear, not display values


def test_the_colour_fix_is_a_warmer_grade_inside_the_matte_only_and_the_matte_moves(shots):
    shot = shots["colour"]
    first, last = shot.regions[fixes.FIRST], shot.regions[fixes.FIRST + FRAMES - 1]
    moved = _centroid(last) - _centroid(first)
    assert np.allclose(moved, np.array(fixes.VELOCITY) * (FRAMES - 1), atol=1.0)
    for f in (fixes.FIRST, fixes.FIRST + FRAMES - 1):
        a, b, m = shot.inputs[f], shot.truths[f], shot.regions[f]
        assert np.array_equal(a[m == 0], b[m == 0])
        inside = m == 1
        assert inside.sum() > 500
        assert _warmth(b, inside) > 1.3 * _warmth(a, inside)
        edge = (m > 0.1) & (m < 0.9)  # soft edge: part of the change
        assert edge.sum() > 50


def test_the_soften_input_is_the_truth_softened(shots):
    import cv2

    shot = shots["soften"]
    f = shot.scored[0]
    assert np.allclose(shot.inputs[f], fixes.soften(shot.truths[f]), atol=2e-3)

    def sharpness(x):
        return float(cv2.Laplacian(np.ascontiguousarray(x.mean(axis=2)), cv2.CV_32F).var())

    assert sharpness(shot.inputs[f]) < 0.3 * sharpness(shot.truths[f])
    assert np.all(shot.regions[f] == 1)


def test_the_paint_out_truth_differs_only_where_the_markers_are_and_they_move_with_the_background(shots):
    shot = shots["paint-out"]
    masks = []
    for f in shot.frames:
        a, b, m = shot.inputs[f], shot.truths[f], shot.regions[f] > 0
        assert m.any() and m.mean() < 0.2
        assert np.array_equal(a[~m], b[~m])  # the inpainting touches nothing else
        assert _yellow(b, m) < _yellow(a, m) - 0.05
        masks.append(m)
    assert not np.array_equal(masks[0], masks[-1])


def test_inpainting_fills_a_hole_from_its_surroundings():
    yy, xx = np.mgrid[0:48, 0:64].astype(np.float32)
    ramp = np.repeat((0.2 + 0.5 * xx / 64)[..., None], 3, axis=2).astype(np.float32)
    hole = np.zeros((48, 64), bool)
    hole[20:26, 10:50] = True
    marked = ramp.copy()
    marked[hole] = 1.0
    filled = fixes.paint_out(marked, hole)
    assert np.array_equal(filled[~hole], marked[~hole])
    assert np.abs(filled[hole] - ramp[hole]).max() < 0.05


def test_written_frames_read_back_as_held(shots, tmp_path):
    from matchcut.frames import open_source

    shot = shots["paint-out"]
    plate, target = shot.write(tmp_path)
    src, dst = open_source(plate), open_source(target)
    assert list(src.frames) == shot.frames and list(dst.frames) == list(TRAINING)
    assert np.array_equal(src.read(1004).rgb, shot.inputs[1004])
    assert np.array_equal(dst.read(1003).rgb, shot.truths[1003])


def test_a_missing_photo_leaves_its_shot_out_and_says_so(monkeypatch):
    monkeypatch.setattr(fixes, "source_photo", lambda name, log=None: None)
    lines = []
    assert fixes.fix_shot("held-out", "soften", size=SIZE, frames=3, log=lines.append) is None
    assert lines and "left out" in lines[0]
    assert fixes.evaluation_set(("tune",), ("colour",), size=SIZE, frames=3, log=lines.append) == []


def test_unknown_split_or_kind_is_a_setting_error():
    from matchcut.errors import SettingError

    with pytest.raises(SettingError, match="kind"):
        fixes.fix_shot("tune", "regrain")
    with pytest.raises(SettingError, match="split"):
        fixes.fix_shot("test", "soften")
