"""The gain: plate x (1 + strength x added / ambient), protected in the dark, matted, never clipped."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.relight.apply import MID_GREY, ambient_estimate, luminance, relight_gain


def test_gain_is_added_light_over_ambient():
    shading = np.full((4, 5, 3), [0.5, 0.25, 0.0], np.float32)
    gain = relight_gain(shading, np.full((4, 5), 2.0, np.float32), strength=2.0)
    np.testing.assert_allclose(gain[0, 0], [1.5, 1.25, 1.0])


def test_dark_areas_cannot_blow_up():
    ambient = np.full((10, 10), 1.0, np.float32)
    ambient[:, :5] = 0.0  # black half
    gain = relight_gain(np.ones((10, 10, 3), np.float32), ambient, floor=0.2)
    assert np.isfinite(gain).all() and gain.max() <= 1 + 1 / (0.2 * np.median(ambient)) + 1e-5
    black = relight_gain(np.ones((3, 3, 3), np.float32), np.zeros((3, 3), np.float32))
    assert np.isfinite(black).all()


def test_matte_and_negative_strength():
    shading = np.ones((2, 4, 3), np.float32)
    matte = np.array([[0, 0.5, 1, 1]] * 2, np.float32)
    gain = relight_gain(shading, np.ones((2, 4), np.float32), matte=matte)
    np.testing.assert_allclose(gain[0, :, 0], [1, 1.5, 2, 2])
    darker = relight_gain(shading * 3, np.ones((2, 4), np.float32), strength=-1.0)
    assert darker.min() == 0.0  # stops at black, never negative


def test_ambient_estimate_of_a_grey_world_is_the_light_level():
    rgb = np.full((32, 48, 3), MID_GREY * 2.5, np.float32)
    np.testing.assert_allclose(ambient_estimate(rgb), 2.5, rtol=1e-5)
    np.testing.assert_allclose(ambient_estimate(rgb, 4.0), 4.0)
    assert luminance(rgb)[0, 0] == pytest.approx(MID_GREY * 2.5)
