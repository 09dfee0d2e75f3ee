"""Composite pieces: foreground estimation, premultiply/over, light wrap, fitting, masks of other sizes."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import SettingError, ShapeMismatchError
from matchcut.matte.composite import composite, estimate_foreground, light_wrap, match_foreground, premultiply
from matchcut.matte.fit import fit_image
from matchcut.matte.settings import mask_to_plate
from matchcut.testing.mattes import screen_background, soft_alpha
from matchcut.testing.photos import photo

H, W = 96, 128


def test_foreground_estimation_removes_old_background():
    alpha = soft_alpha(H, W)
    fg = photo("coffee", colorspace="scene_linear", size=(H, W))
    bg = screen_background(H, W, "green")
    shot = fg * alpha[..., None] + bg * (1 - alpha[..., None])
    est = estimate_foreground(shot, alpha)
    edge = (alpha > 0.1) & (alpha < 0.9)
    # Unpremultiplying by alpha alone keeps the screen in the edge; the estimate must be closer to the truth.
    naive = np.abs(shot[edge] - fg[edge]).mean()
    assert np.abs(est[edge] - fg[edge]).mean() < 0.6 * naive
    assert np.array_equal(est[alpha >= 0.999], shot[alpha >= 0.999])


def test_premultiply_and_over_match_known_comp():
    alpha = soft_alpha(H, W)
    fg = photo("coffee", colorspace="scene_linear", size=(H, W))
    bg = photo("rocket", colorspace="scene_linear", size=(H, W))
    rgba = premultiply(fg, alpha)
    assert rgba.shape == (H, W, 4) and np.allclose(rgba[..., 3], alpha)
    comp = composite(rgba, bg)
    assert np.allclose(comp, fg * alpha[..., None] + bg * (1 - alpha[..., None]), atol=1e-5)


def test_light_wrap_only_on_the_edge():
    alpha = soft_alpha(H, W)
    bg = np.ones((H, W, 3), np.float32)
    assert not light_wrap(bg, alpha, amount=0.0).any()
    wrap = light_wrap(bg, alpha, amount=1.0)[..., 0]
    assert wrap[alpha == 0].max() == 0  # never outside the subject
    inner = alpha > 0.999
    assert wrap[(alpha > 0.3) & (alpha < 0.99)].mean() > 5 * wrap[inner].mean()


def test_match_foreground_moves_toward_background():
    alpha = np.ones((H, W), np.float32)
    fg = photo("coffee", colorspace="scene_linear", size=(H, W))
    bg = fg * np.array([0.5, 0.7, 1.3], np.float32)
    out = match_foreground(fg, alpha, bg, "mkl", 1.0)
    assert np.abs(out.mean((0, 1)) - bg.mean((0, 1))).max() < 0.25 * np.abs(fg.mean((0, 1)) - bg.mean((0, 1))).max()
    assert np.array_equal(match_foreground(fg, alpha, bg, "mkl", 0.0), fg)


@pytest.mark.parametrize("how", ["fill", "fit", "stretch"])
def test_fit_background_of_another_size(how):
    src = np.zeros((50, 200, 3), np.float32)
    src[:, :100] = 1.0  # left half white
    out = fit_image(src, 100, 100, how)
    assert out.shape == (100, 100, 3)
    if how == "fill":  # cropped: centre column is the white/black edge, no bars
        assert out[:, 0].min() == 1.0 and out[:, -1].max() == 0.0
    elif how == "fit":  # letterboxed: black bars above and below
        assert out[:20].max() == 0 and out[50, 10, 0] == pytest.approx(1.0)
    else:
        assert out[:, 10].min() == pytest.approx(1.0) and out[:, 90].max() == pytest.approx(0.0)
    with pytest.raises(SettingError):
        fit_image(src, 100, 100, "zoom")


def test_garbage_mask_of_another_size():
    mask = np.zeros((48, 64), np.float32)
    mask[:, 32:] = 1
    out, resized = mask_to_plate(mask, H, W, "garbage.exr")
    assert resized and out.shape == (H, W) and out[:, -1].min() == 1 and out[:, 0].max() == 0
    with pytest.raises(ShapeMismatchError, match="aspect"):
        mask_to_plate(np.zeros((64, 64), np.float32), H, W, "garbage.exr")
