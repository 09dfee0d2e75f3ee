"""Screens lit the ways sets are and the camera (matchcut.testing.screens): deterministic, and what they claim."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.testing.screens import FABRICS, camera, lighting_field, markers, screen_plate, spill, wrinkles

H, W = 90, 160


def test_screens_are_deterministic_and_lit_as_named():
    a, da = screen_plate(H, W, "green", "falloff", ("wrinkles", "markers"), seed=4)
    b, db = screen_plate(H, W, "green", "falloff", ("wrinkles", "markers"), seed=4)
    assert np.array_equal(a, b) and np.array_equal(da, db)
    rng = np.random.default_rng(0)
    even = lighting_field(H, W, "even", rng)
    assert even.min() > 0.9 and even.max() < 1.1
    falloff = lighting_field(H, W, "falloff", rng)[..., 1]
    assert falloff.max() / falloff.min() > 2.5  # more than a stop and a half across the frame
    two = lighting_field(H, W, "two temperatures", rng)
    ratio = two[..., 0] / two[..., 2]  # warm against cool: red over blue changes across the frame
    assert ratio.max() / ratio.min() > 1.5
    with pytest.raises(ValueError, match="unknown lighting"):
        lighting_field(H, W, "moonlight", rng)


def test_dressing_masks_cover_the_tape_and_the_seams():
    rng = np.random.default_rng(1)
    gain, seams = wrinkles(H, W, rng)
    assert 0.6 < gain.min() and gain.max() < 1.4 and seams.any()
    colour, cover = markers(H, W, "blue", rng)
    assert cover.max() == pytest.approx(1.0) and 0.005 < (cover > 0.5).mean() < 0.1
    plate, where = screen_plate(H, W, "blue", "even", ("markers",), seed=2)
    fabric = np.asarray(FABRICS["blue"], np.float32)
    off = np.abs(plate / np.maximum(plate.mean(axis=(0, 1)), 1e-6) - 1.0).max(axis=2) > 0.3
    assert off[~where].mean() < 0.01 and off[where].mean() > 0.3  # the mask is where the tape changes the screen
    assert plate[~where].mean(axis=0)[2] > 2 * plate[~where].mean(axis=0)[1] and fabric[2] > 2 * fabric[1]


def test_camera_noise_grows_with_the_signal_and_jpeg_keeps_the_picture():
    flat = np.concatenate([np.full((H, W // 2, 3), 0.05, np.float32), np.full((H, W // 2, 3), 0.5, np.float32)], 1)
    noisy = camera(flat, "high", seed=3)
    dark, bright = (noisy - flat)[:, : W // 2].std(), (noisy - flat)[:, W // 2:].std()
    assert bright > 2 * dark
    assert np.array_equal(noisy, camera(flat, "high", seed=3))
    jpeg = camera(flat, "low", jpeg=85, seed=3)
    assert not np.array_equal(jpeg, camera(flat, "low", seed=3))
    assert np.abs(jpeg.mean(axis=(0, 1)) - flat.mean(axis=(0, 1))).max() < 0.01


def test_spill_is_the_screen_light_in_the_screen_colour():
    light = np.full((H, W, 3), 0.1, np.float32)
    screen, _ = screen_plate(H, W, "green", "even", (), seed=0)
    tinted = spill(light, screen, 2.0)
    assert tinted[..., 1].mean() > 3 * tinted[..., 0].mean()  # green light
    assert np.allclose(spill(light, screen, 0.0), 0.0)
