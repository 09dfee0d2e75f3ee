"""The keyers the screen model is measured against (matchcut.testing.keyers), on screens with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.testing.keyers import PEERS, border_color, lead, plain_key, plane_key, previous_key

H, W = 60, 90


def _shot(gain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A grey subject (lead 0, where a difference key is exact) with a soft edge over a green screen times gain."""
    x = np.linspace(0.0, 1.0, W, dtype=np.float32)[None, :]
    alpha = np.broadcast_to(np.clip((x - 0.3) / 0.1, 0, 1) * np.clip((0.7 - x) / 0.1, 0, 1), (H, W)).astype(np.float32)
    screen = np.array([0.08, 0.42, 0.12], np.float32) * gain[..., None]
    fg = np.full((H, W, 3), 0.3, np.float32)
    return (fg * alpha[..., None] + screen * (1 - alpha[..., None])).astype(np.float32), alpha


def test_plain_key_is_exact_on_an_even_screen_and_wrong_on_a_falloff():
    even, alpha = _shot(np.ones((H, W), np.float32))
    assert np.abs(plain_key(even, "green") - alpha).max() < 1e-5
    assert np.allclose(border_color(even, "green"), [0.08, 0.42, 0.12], atol=1e-6)
    ramp = np.broadcast_to(np.linspace(1.0, 0.5, W, dtype=np.float32)[None, :], (H, W))
    falloff, alpha = _shot(ramp)
    assert np.abs(plain_key(falloff, "green") - alpha).max() > 0.2  # the dim side reads as half subject


@pytest.mark.parametrize("name", ["fitted plane", "previous keyer"])
def test_fitted_surfaces_take_most_of_a_falloff_out_of_the_screen(name):
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    shot, alpha = _shot(1.0 - 0.4 * (x / W) - 0.2 * (y / H))
    screen = alpha == 0
    plain = np.abs(plain_key(shot, "green") - alpha)[screen].max()  # 0.41 in the dim corner
    # Both fit the pixels whose lead is half the border colour's, soft edges included, so not exactly.
    assert np.abs(PEERS[name](shot, "green") - alpha)[screen].max() < 0.5 * plain


def test_the_fitted_plane_divides_the_subject_too_and_the_previous_keyer_does_not():
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    shot, alpha = _shot(1.0 - 0.4 * (x / W) - 0.2 * (y / H))
    solid = alpha == 1
    assert np.abs(plane_key(shot, "green") - alpha)[solid].max() > 0.2  # the grey subject turned green
    assert np.abs(previous_key(shot, "green") - alpha)[solid].max() == 0.0


def test_plane_key_degree_and_lead():
    assert lead(np.array([0.1, 0.5, 0.3], np.float32), "green") == pytest.approx(0.2)
    assert lead(np.array([0.1, 0.2, 0.5], np.float32), "blue") == pytest.approx(0.3)
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    shot, alpha = _shot(1.0 - 0.8 * ((x / W) - 0.5) ** 2)  # a quadratic falloff
    screen = alpha == 0
    assert np.abs(plane_key(shot, "green", degree=2) - alpha)[screen].mean() < \
        np.abs(plane_key(shot, "green", degree=1) - alpha)[screen].mean()
