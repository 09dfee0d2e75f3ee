"""matchcut.testing.sequences and baselines: the known motion and the two baselines on tiny frames."""

from __future__ import annotations

import numpy as np

from matchcut.testing import baselines
from matchcut.testing.photos import photo
from matchcut.testing.sequences import layered_frame, layered_matte, warped_frame


def test_warped_frames_move_by_the_pan():
    img = photo("astronaut", colorspace="srgb")
    f0 = warped_frame(img, (64, 80), 0, wobble=0.0, pan=(2.0, 1.0))
    f1 = warped_frame(img, (64, 80), 1, wobble=0.0, pan=(2.0, 1.0))
    assert f0.shape == (64, 80, 3) and f0.dtype == np.float32
    np.testing.assert_allclose(f1[:-1, :-2], f0[1:, 2:], atol=1e-6)  # whole-pixel pan: the same pixels, moved


def test_layered_frame_is_its_matte_over_the_background():
    back, front = photo("coffee", colorspace="srgb"), photo("chelsea", colorspace="srgb")
    matte = layered_matte((48, 64), 0.5)
    assert matte.min() == 0.0 and matte.max() == 1.0
    frame = layered_frame(back, front, (48, 64), 0.5)
    outside = matte == 0
    np.testing.assert_array_equal(frame[outside], warped_frame(back, (48, 64), 0.5, wobble=1.0)[outside])


def test_baselines_on_still_frames():
    img = np.ascontiguousarray(photo("astronaut", colorspace="srgb", size=(64, 64)))
    a, b = img, np.zeros_like(img)
    np.testing.assert_allclose(baselines.blend(a, b, 0.25), 0.75 * a, atol=1e-7)
    assert np.abs(baselines.dis_flow(img, img)).max() < 0.05  # nothing moved
    np.testing.assert_allclose(baselines.dis_interpolate(img, img, 0.5), img, atol=0.02)


def test_minterpolate_returns_the_in_betweens_at_the_times_asked():
    img = photo("astronaut", colorspace="srgb")
    frames = [warped_frame(img, (64, 96), t, wobble=0.0, pan=(2.0, 0.0)) for t in (0, 2, 4, 6)]
    every = baselines.minterpolate(frames, 2)
    assert len(every) >= 5 and every[0].shape == (64, 96, 3) and every[0].dtype == np.float32
    assert np.abs(every[2] - frames[1]).mean() < 2 / 255  # output 2 lies at input 1: the frame itself, 8-bit
    mid = baselines.minterpolate_between(*frames, [0.5])[0]
    truth = warped_frame(img, (64, 96), 3, wobble=0.0, pan=(2.0, 0.0))
    blend = 0.5 * (frames[1] + frames[2])
    assert np.abs(mid - truth)[8:-8, 8:-8].mean() < np.abs(blend - truth)[8:-8, 8:-8].mean()
