"""The preview quality (matchcut.retime.preview): the motion at half size once per pair, the plates warped along
it; it must beat FFmpeg's minterpolate on the layered sequence, as the benchmark's figures say."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import SettingError
from matchcut.retime import preview
from matchcut.testing.baselines import minterpolate_between
from matchcut.testing.metrics import psnr
from matchcut.testing.photos import photo
from matchcut.testing.sequences import layered_frame
from matchcut.vision.interpolation import Motion

SIZE = (136, 320)


def test_retimed_motion_is_scaled_to_the_frame_and_carried_along_linear_motion():
    flow = np.zeros((10, 20, 4), np.float32)
    flow[..., 0], flow[..., 1], flow[..., 2], flow[..., 3] = -2.0, 1.0, 2.0, -1.0
    weight = np.full((10, 20), 0.6, np.float32)
    motion = Motion(np.zeros((10, 20, 3), np.float32), flow, weight)
    same = preview.retimed(motion, 0.5, 0.5, (20, 40))
    assert same.flow.shape == (20, 40, 4) and np.allclose(same.flow[..., 0], -4.0) and np.allclose(same.flow[..., 1], 2.0)
    assert np.allclose(same.weight, 0.6)
    early = preview.retimed(motion, 0.25, 0.5, (20, 40))
    # a quarter of the way: half the pull towards frame0, one and a half times the pull towards frame1
    assert np.allclose(early.flow[..., 0], -2.0) and np.allclose(early.flow[..., 2], 6.0)
    assert np.all(early.weight > 0.6) and np.all(early.weight < 1.0)  # nearer frame0: more of it


def test_an_unknown_quality_and_a_time_at_a_frame_are_refused():
    with pytest.raises(SettingError, match="quality.*final, preview"):
        preview.check_quality("draft")
    frame = np.zeros((64, 64, 3), np.float32)
    with pytest.raises(SettingError, match="timestep"):
        preview.interpolate_preview(frame, frame, 1.0, "rife-hdv3")


@pytest.mark.zoo
def test_one_model_run_per_pair_and_it_beats_minterpolate(zoo_model, monkeypatch):
    zoo_model("rife-hdv3")
    import matchcut.vision.interpolation as interpolation

    runs = []
    real = interpolation.interpolate_motion
    monkeypatch.setattr(interpolation, "interpolate_motion", lambda *a, **k: runs.append(1) or real(*a, **k))
    preview.forget_motions()
    back, front = photo("astronaut", colorspace="srgb"), photo("chelsea", colorspace="srgb")
    seq = {k: layered_frame(back, front, SIZE, k) for k in (0, 4, 5, 6, 7, 8, 12)}
    times = [0.25, 0.5, 0.75]
    made = [preview.interpolate_preview(seq[4], seq[8], t, "rife-hdv3")[0] for t in times]
    assert len(runs) == 1 and made[0].shape == (*SIZE, 3) and made[0].dtype == np.float32
    ffmpeg = minterpolate_between(seq[0], seq[4], seq[8], seq[12], times)
    ours = np.mean([psnr(m, seq[5 + i]) for i, m in enumerate(made)])
    theirs = np.mean([psnr(m, seq[5 + i]) for i, m in enumerate(ffmpeg)])
    assert ours > theirs + 0.5, (ours, theirs)


@pytest.mark.zoo
def test_alpha_is_carried_with_the_preview_motion(zoo_model):
    zoo_model("rife-hdv3")
    back, front = photo("coffee", colorspace="srgb"), photo("chelsea", colorspace="srgb")
    f0, f1 = layered_frame(back, front, SIZE, 0), layered_frame(back, front, SIZE, 2)
    # an alpha that is a fixed mix of the picture stays that mix of the rebuilt picture
    a0, a1 = (f[..., :1] * 0.5 + f[..., 2:3] * 0.5 for f in (f0, f1))
    frame, alpha = preview.interpolate_preview(f0, f1, 0.5, "rife-hdv3", alpha0=a0, alpha1=a1)
    assert alpha.shape == (*SIZE, 1)
    assert np.abs(alpha[..., 0] - (frame[..., 0] * 0.5 + frame[..., 2] * 0.5)).max() < 1e-4
