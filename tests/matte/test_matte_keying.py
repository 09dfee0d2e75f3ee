"""Screen keying on known answers: real photo content cut by a known soft alpha over green and blue screens."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import SettingError
from matchcut.matte.despill import despill
from matchcut.matte.keying import classify_screen_color, detect_screen, key_screen, levels, soften
from matchcut.matte.settings import choose_mode
from matchcut.testing.mattes import screen_background, screen_shot, sky_shot, soft_alpha
from matchcut.testing.metrics import matte_errors
from matchcut.testing.photos import photo

H, W = 128, 192


@pytest.fixture(scope="module")
def truth():
    return soft_alpha(H, W), photo("coffee", colorspace="scene_linear", size=(H, W))


@pytest.mark.parametrize("screen", ["green", "blue"])
@pytest.mark.parametrize("uneven", [0.0, 0.5])
def test_key_recovers_known_alpha(truth, screen, uneven):
    alpha, fg = truth
    shot = screen_shot(fg, alpha, screen, uneven=uneven, noise=0.02, seed=3)
    pulled, found, _ = key_screen(shot)
    e = matte_errors(pulled, alpha)
    assert found == screen
    # Bounds from docs/quality.md (Matte): mean absolute error under 0.035 per pixel, IoU at 0.5 over 0.95.
    assert e["sad"] * 1000 / alpha.size < 0.035
    assert e["iou"] > 0.95


def test_uneven_screen_surface_beats_flat_colour(truth):
    alpha, fg = truth
    shot = screen_shot(fg, alpha, "green", uneven=0.5, noise=0.02, seed=4)
    flat = matte_errors(key_screen(shot, uneven=False)[0], alpha)
    surface = matte_errors(key_screen(shot, uneven=True)[0], alpha)
    assert surface["sad"] < 0.7 * flat["sad"]


def test_clean_plate_keys_uneven_screen(truth):
    alpha, fg = truth
    shot = screen_shot(fg, alpha, "blue", uneven=0.6)
    clean = screen_background(H, W, "blue", uneven=0.6)
    pulled, found, _ = key_screen(shot, clean_plate=clean)
    assert found == "blue"
    # A colour-difference key is exact only where the foreground's own colour difference is 0 (greys); the
    # coffee's browns leave ~0.016 per pixel at the soft edge. The flat screen colour misses by far more.
    assert matte_errors(pulled, alpha)["sad"] * 1000 / alpha.size < 0.02
    assert matte_errors(pulled, alpha)["sad"] < 0.5 * matte_errors(key_screen(shot, uneven=False)[0], alpha)["sad"]


def test_auto_detection_and_non_screen(truth):
    alpha, fg = truth
    assert detect_screen(screen_shot(fg, alpha, "green"))[0] == "green"
    assert detect_screen(screen_shot(fg, alpha, "blue"))[0] == "blue"
    assert detect_screen(photo("rocket", colorspace="scene_linear", size=(H, W)))[0] is None
    red = fg * alpha[..., None] + np.array([0.5, 0.04, 0.04], np.float32) * (1 - alpha[..., None])
    with pytest.raises(SettingError, match="not a green or blue screen"):
        key_screen(red)
    with pytest.raises(SettingError, match="not a green or blue screen"):
        classify_screen_color([0.5, 0.05, 0.05])


@pytest.mark.parametrize("screen", ["green", "blue"])
@pytest.mark.parametrize("uneven", [0.0, 0.5])
@pytest.mark.parametrize("noise", [0.0, 0.02, 0.06])
def test_auto_mode_keys_screens(truth, screen, uneven, noise):
    alpha, fg = truth
    mode, why = choose_mode(screen_shot(fg, alpha, screen, uneven=uneven, noise=noise, seed=5))
    assert mode == "screen" and why.startswith(f"{screen} on 4 of 4 sides"), why


@pytest.mark.parametrize("screen", ["green", "blue"])
def test_auto_mode_keys_a_screen_the_subject_fills_the_bottom_of(screen):
    # A medium shot: the subject fills the bottom edge and the lower third of both sides.
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    body = ((x - W / 2) / (W * 0.62)) ** 2 + ((y - H * 1.1) / (H * 0.7)) ** 2 < 1
    head = ((x - W / 2) / (W * 0.15)) ** 2 + ((y - H * 0.35) / (H * 0.22)) ** 2 < 1
    fg = photo("astronaut", colorspace="scene_linear", size=(H, W))
    shot = screen_shot(fg, (body | head).astype(np.float32), screen, uneven=0.5, noise=0.06)
    mode, why = choose_mode(shot)
    assert mode == "screen" and why.startswith(f"{screen} on 3 of 4 sides"), why


@pytest.mark.parametrize("sky", [0.33, 0.6, 0.8, 1.0])
@pytest.mark.parametrize("curve", [0.5, 1.0, 2.0, 3.0])
def test_auto_mode_does_not_key_a_blue_sky(sky, curve):
    shot = sky_shot("coffee", H, W, sky=sky, curve=curve)
    # The sky's top is as saturated as a blue screen: the old rule (half the border saturated) keyed 6 of these 16.
    assert detect_screen(shot)[1] > 0.25
    mode, why = choose_mode(shot)
    assert mode == "person" and why.startswith("blue on 1 of 4 sides"), why


@pytest.mark.parametrize("name", ["rocket", "astronaut", "coffee", "chelsea"])
def test_auto_mode_on_real_photos(name):
    # rocket: a real deep blue sky over the top of the frame, fading toward the horizon down both sides.
    assert choose_mode(photo(name, colorspace="scene_linear", size=(H, W)))[0] == "person"


def test_black_white_points_and_softness():
    ramp = np.linspace(0, 1, 11, dtype=np.float32)[None]
    out = levels(ramp, 0.2, 0.8)
    assert out[0, 2] == 0 and out[0, 8] == 1 and out[0, 5] == pytest.approx(0.5)
    with pytest.raises(SettingError):
        levels(ramp, 0.8, 0.2)
    step = np.zeros((32, 32), np.float32)
    step[:, 16:] = 1
    soft = soften(step, 2.0)
    assert 0 < soft[0, 15] < 1 and soft[0, 0] == pytest.approx(0, abs=1e-4)


def test_despill_methods():
    spill = np.array([[[0.3, 0.6, 0.2]]], np.float32)
    avg = despill(spill, "green", "average")
    lim = despill(spill, "green", "limit")
    assert avg[0, 0, 1] == pytest.approx(0.25) and lim[0, 0, 1] == pytest.approx(0.3)
    assert np.allclose(avg[..., [0, 2]], spill[..., [0, 2]])
    grey = np.full((1, 1, 3), 0.4, np.float32)
    assert np.allclose(despill(grey, "blue", "average"), grey)
    with pytest.raises(SettingError):
        despill(spill, "green", "strong")


@pytest.mark.parametrize("screen", ["green", "blue"])
def test_auto_mode_keys_screens_filmed_in_rec709(screen):
    # A green screen filmed in Rec.709 measures ~0.5 colour difference / value in ACEScg (pure Rec.709 green is
    # 0.58 there): the blue-sky threshold (0.55) would call it a person shot; green has its own (0.35).
    from matchcut.testing.keying_set import Recipe, make_plate, synthetic_subject

    for lighting in ("even", "falloff", "two temperatures"):
        plate = make_plate(synthetic_subject(H, W), Recipe(screen, lighting, ("markers",), 1.0, "high"), 0)
        mode, why = choose_mode(plate.plate)
        assert mode == "screen" and why.startswith(f"{screen} on"), (lighting, why)
