"""The screen model (matte/screen.py) on a small slice of the keying set's recipes, and its parts on known answers.

The slice: a photo cut by a known soft alpha (feathered edge, hair-thin strands; ``keying_set.synthetic_subject``)
over every recipe of the keying set (even, falloff and two-temperature screens; folds, seams, tracking markers;
spill; noise; JPEG), 108x192. The full set (Blender subjects, both halves) is `matchcut bench --quality matte`.
"""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import SettingError
from matchcut.matte import screen as sm
from matchcut.matte.keying import estimate_screen_color, key_screen, screen_model
from matchcut.testing.keying_set import RECIPES, Recipe, key_plate, make_plate, synthetic_subject
from matchcut.testing.metrics import sad

H, W = 108, 192


@pytest.fixture(scope="module")
def subject():
    return synthetic_subject(H, W)


@pytest.fixture(scope="module")
def slice_errors(subject):
    rows = []
    for i, recipe in enumerate(RECIPES):
        plate = make_plate(subject, recipe, i)
        rows.append({k: sad(key_plate(k, plate), plate.alpha) for k in ("screen model", "plain key", "fitted plane")})
    return rows


def test_screen_model_beats_the_plain_key_and_the_fitted_plane_on_every_plate(slice_errors):
    for recipe, row in zip(RECIPES, slice_errors):
        assert row["screen model"] < row["plain key"], recipe.label
        assert row["screen model"] < row["fitted plane"], recipe.label
    # Measured 0.43 on this slice (docs/quality.md has the Blender set: tuning and held-out halves).
    total = {k: sum(r[k] for r in slice_errors) for k in slice_errors[0]}
    assert total["screen model"] < 0.5 * total["plain key"]


def _far_from(alpha: np.ndarray, pixels: int) -> np.ndarray:
    import cv2

    return ~cv2.dilate((alpha > 0).astype(np.uint8), np.ones((2 * pixels + 1,) * 2, np.uint8)).astype(bool)


@pytest.mark.parametrize("recipe", [Recipe("green", "two temperatures", ("markers",), 1.0, "low"),
                                    Recipe("blue", "falloff", ("markers",), 1.0, "high")], ids=lambda r: r.label)
def test_tracking_markers_do_not_punch_holes_in_the_background(recipe):
    # 162x288: tape 2.5 % of the short side; at 108 px a marker's anti-aliased, noisy outline is as big as
    # the despot. Markers touching the subject's hair stay in its region (a garbage matte is for those).
    subject = synthetic_subject(162, 288)
    plate = make_plate(subject, recipe, 0)
    far = plate.dressing & _far_from(plate.alpha, 20)
    assert far.sum() > 100
    assert key_screen(plate.plate)[0][far].max() == 0.0
    assert key_screen(plate.plate, despot=0.0)[0][far].max() > 0.5  # it is the despot that takes them out
    assert key_plate("fitted plane", plate)[far].mean() > 0.5  # the peers key the tape as subject


def test_seams_and_folds_are_keyed_as_screen(subject):
    plate = make_plate(subject, Recipe("green", "falloff", ("wrinkles",), 1.0, "low"), 0)
    seams = plate.dressing & _far_from(plate.alpha, 12)
    assert seams.sum() > 20
    alpha = key_screen(plate.plate)[0]
    # A seam is a 1.2 px line 25 % darker: the model follows most of it (0.033 left on average, measured).
    assert alpha[seams].mean() < 0.06
    assert alpha[seams].mean() < 0.4 * key_plate("fitted plane", plate)[seams].mean()


def test_a_clean_plate_is_the_screen_model():
    subject = synthetic_subject(162, 288)
    plate = make_plate(subject, Recipe("blue", "falloff", ("wrinkles", "markers"), 1.0, "low"), 0)
    model = screen_model(plate.plate, clean_plate=plate.clean)
    assert model.source == "clean plate" and model.evidence.mean() > 0.9
    alpha = key_screen(plate.plate, model=model)[0]
    assert alpha[plate.dressing & _far_from(plate.alpha, 20)].max() == 0.0
    assert sad(alpha, plate.alpha) < min(sad(key_plate(k, plate), plate.alpha) for k in ("plain key", "fitted plane"))


#: A dyed blue jacket near a blue screen's hue but paler (linear Rec.709), below a brown face.
JACKET, FACE = (0.19, 0.23, 0.48), (0.42, 0.24, 0.15)


def _jacket_subject(h: int, w: int):
    """A brown face (soft edge) above a solid blue jacket rising from the bottom edge: the keying set's drape in
    miniature. (Subject, jacket mask (H, W) bool)."""
    import cv2

    from matchcut.testing.keying_set import Subject

    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    face = ((x - 0.5 * w) / (0.13 * w)) ** 2 + ((y - 0.38 * h) / (0.2 * h)) ** 2 < 1.0
    jacket = ((x - 0.5 * w) / (0.22 * w)) ** 2 + ((y - h) / (0.3 * h)) ** 2 < 1.0
    alpha = cv2.GaussianBlur((face | jacket).astype(np.float32), (0, 0), 1.5)
    alpha[jacket] = 1.0
    colour = np.where(jacket[..., None], JACKET, FACE).astype(np.float32)
    return Subject("jacket", "tests", colour * alpha[..., None], alpha, np.zeros_like(colour)), jacket


def test_the_subject_colour_correction_keeps_to_pixels_that_mix_that_colour_with_the_screen():
    # Every keyer reads a jacket of the screen's hue as partly transparent. The correction for the subject's
    # own colour, measured on the face, made it more transparent still: 0.62-0.67 of the uncorrected key there
    # before, 0.77-0.83 now (measured; the model from the clean plate, so the screen is known). On the face's
    # soft edge the correction still applies: 0.04-0.05 mean error against the uncorrected key's 0.10.
    import cv2

    subject, jacket = _jacket_subject(H, W)
    inside = cv2.erode(jacket.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    for seed in range(4):
        plate = make_plate(subject, Recipe("blue", "even", (), 0.0, "low"), seed)
        model = screen_model(plate.plate, clean_plate=plate.clean)
        alpha = sm.key_with_model(plate.plate, model)
        uncorrected = np.clip(1.0 - sm.lead(plate.plate, "blue") / sm.lead(model.field, "blue"), 0.0, 1.0)
        assert alpha[inside].mean() > 0.72 * uncorrected[inside].mean(), seed
        edge = (plate.alpha > 0.02) & (plate.alpha < 0.98) & ~jacket
        error = np.abs(alpha - plate.alpha)[edge].mean()
        assert error < 0.6 * np.abs(uncorrected - plate.alpha)[edge].mean(), seed


def test_fill_carries_the_surroundings_into_a_hole():
    y, x = np.mgrid[0:64, 0:96].astype(np.float32)
    ramp = np.dstack([0.1 + x / 960.0, 0.4 - y / 640.0, np.full_like(x, 0.2)]).astype(np.float32)
    weight = np.ones((64, 96), np.float32)
    weight[20:44, 30:66] = 0.0  # the subject hides the screen here
    filled = sm.fill(ramp, weight, 1.5)
    assert np.abs(filled - ramp)[weight > 0].max() < 3e-3  # where the screen is seen, it is the screen
    assert np.abs(filled - ramp).max() < 0.02  # under the subject, a smooth continuation (the ramp spans 0.1)
    flat = sm.fill(np.full((64, 96, 3), 0.3, np.float32), weight, 1.5)
    assert np.allclose(flat, 0.3, atol=1e-5)


def test_noise_model_follows_the_light():
    rng = np.random.default_rng(1)
    screen = np.full((200, 200, 3), (0.1, 0.4, 0.12), np.float32)
    screen[:, 100:] *= 0.4  # the dim half of a falloff
    a, b = 1e-6, 2e-4  # sigma ** 2 of each channel = a + b x channel level
    noisy = screen + rng.normal(0, 1, screen.shape).astype(np.float32) * np.sqrt(a + b * screen)
    model = sm.fit_screen(noisy, "green", np.array([0.1, 0.4, 0.12], np.float32))
    sigma = model.sigma()
    bright, dim = float(np.median(sigma[:, :100])), float(np.median(sigma[:, 100:]))
    # The lead (green minus the larger of red and blue) carries the noise of two channels; shot noise grows
    # with the light, so the bright half is noisier, by about sqrt(1 / 0.4).
    assert 1.3 < bright / dim < 2.0
    expected = np.sqrt(a + b * 0.4 + a + b * 0.12)
    assert 0.7 * expected < bright < 1.3 * expected


def test_despot_takes_out_spots_and_keeps_the_subject():
    alpha = np.zeros((100, 100), np.float32)
    alpha[30:80, 30:80] = 1.0  # the subject
    alpha[5:9, 5:9] = 1.0  # a marker
    alpha[90:92, 10:40] = 0.3  # a long faint streak: not a spot
    out = sm.despot(alpha, 0.12)
    assert out[5:9, 5:9].max() == 0 and out[30:80, 30:80].min() == 1 and out[90:92, 10:40].min() == pytest.approx(0.3)
    assert np.array_equal(sm.despot(alpha, 0.0), alpha)
    tiny = np.zeros((100, 100), np.float32)
    tiny[50:54, 50:54] = 1.0  # the only region is the subject, however small
    assert np.array_equal(sm.despot(tiny, 0.12), tiny)


def test_foreground_from_the_model_is_the_subject_when_the_alpha_is_true(subject):
    plate = make_plate(subject, Recipe("green", "even", (), 0.0, "low"), 0)
    clean_model = sm.clean_plate_screen(plate.clean, "green", estimate_screen_color(plate.clean)[1])
    premult = sm.premultiplied_foreground(plate.plate, plate.alpha, clean_model)
    # Exact but for the plate's own noise (and the clean plate's, smoothed): far below the subject's level.
    edge = (plate.alpha > 0.05) & (plate.alpha < 0.95)
    assert np.abs(premult - plate.foreground)[edge].mean() < 0.01
    assert premult[plate.alpha == 0].max() == 0.0


def test_screen_despill_brings_the_lead_to_zero():
    field = np.broadcast_to(np.array([0.1, 0.4, 0.12], np.float32), (4, 4, 3)).copy()
    model = sm.ScreenModel("green", field[0, 0], field, np.ones((4, 4), bool), (1e-6, 0.0), "flat colour")
    skin = np.broadcast_to(np.array([0.5, 0.3, 0.2], np.float32), (4, 4, 3))
    spilled = skin + 0.3 * field
    out = sm.screen_despill(spilled, np.ones((4, 4), np.float32), model)
    assert np.abs(sm.average_lead(out, "green")).max() < 1e-5
    assert np.allclose(sm.screen_despill(skin.copy(), np.ones((4, 4), np.float32), model), skin)  # no spill, no change


def test_shared_model_holds_for_a_moving_subject_but_not_a_camera_move(subject):
    recipe = Recipe("green", "falloff", ("wrinkles", "markers"), 1.0, "low")
    first = make_plate(subject, recipe, 0)
    moved = make_plate(subject, recipe, 0, noise_seed=1, shift=(20.0, 4.0))
    shared = screen_model(first.plate, frame=1)
    model, z = sm.frame_model(shared, moved.plate, frame=2)
    assert z < sm.AGREE_Z and model.source == shared.source == "fitted on frame 1"  # shared, extended
    own = key_screen(moved.plate)[0]
    assert sad(key_screen(moved.plate, model=model)[0], moved.alpha) < 1.15 * sad(own, moved.alpha)
    # The camera pans 12 px: the screen's folds, seams and tape move with it.
    panned = np.pad(moved.plate, ((0, 0), (12, 0), (0, 0)), mode="reflect")[:, :W]
    refit, z = sm.frame_model(shared, panned, frame=3)
    assert z > sm.AGREE_Z and refit.source == "fitted on frame 3"


def test_steadied_plate_stops_a_static_edge_boiling(subject):
    recipe = Recipe("blue", "even", ("markers",), 1.0, "high")
    frames = [make_plate(subject, recipe, 0, noise_seed=f) for f in range(5)]
    model = screen_model(frames[0].plate)

    def change(mattes):
        return np.mean([np.abs(b - a).mean() for a, b in zip(mattes[:-1], mattes[1:])])

    plain = [key_screen(f.plate, model=model)[0] for f in frames]
    keyed, steadied = frames[0].plate, []
    for f in frames:
        keyed = sm.steady_plate(keyed, f.plate, model, 0.6)
        steadied.append(key_screen(keyed, model=model)[0])
    assert change(steadied) < 0.75 * change(plain)
    moving = [make_plate(subject, recipe, 0, noise_seed=f, shift=(4.0 * f, 0.0)) for f in range(3)]
    keyed, errors = moving[0].plate, []
    for f in moving:
        keyed = sm.steady_plate(keyed, f.plate, model, 0.6)
        steadied_error = sad(key_screen(keyed, model=model)[0], f.alpha)
        errors.append(steadied_error / sad(key_screen(f.plate, model=model)[0], f.alpha))
    assert max(errors) < 1.1  # what moved is keyed from its own frame


def test_a_screen_that_is_not_one_hue_is_refused(subject):
    plate = make_plate(subject, Recipe("green", "even", (), 0.0, "low"), 0).plate.copy()
    blue = make_plate(subject, Recipe("blue", "even", (), 0.0, "low"), 0).plate
    plate[:, W // 2:] = blue[:, W // 2:]  # two screens side by side
    with pytest.raises(SettingError, match="not one hue.*--mode person"):
        estimate_screen_color(plate)
    # One screen whose hue sweeps from green to cyan across the frame is not one fabric either.
    x = np.linspace(0.0, 1.0, W, dtype=np.float32)[None, :, None]
    for end in ((0.05, 0.4, 0.38), (0.3, 0.4, 0.05)):  # toward cyan, toward yellow: ~40 degrees
        sweep = np.broadcast_to(np.array([0.05, 0.4, 0.05], np.float32) * (1 - x) +
                                np.array(end, np.float32) * x, (H, W, 3)).copy()
        with pytest.raises(SettingError, match="not one hue: its hues"):
            estimate_screen_color(sweep)


def test_a_screen_that_is_not_visible_at_the_border(subject):
    plate = make_plate(subject, Recipe("green", "even", (), 0.0, "low"), 0)
    close = plate.plate.copy()
    border = np.ones((H, W), bool)
    border[20:-20, 30:-30] = False
    close[border] = (0.3, 0.2, 0.15)  # the subject fills the frame's edges; the screen shows in the middle
    screen, color = estimate_screen_color(close)
    assert screen == "green" and np.allclose(color, estimate_screen_color(plate.plate)[1], rtol=0.05)
    assert sad(key_screen(close)[0][20:-20, 30:-30], plate.alpha[20:-20, 30:-30]) < \
        sad(key_plate("plain key", plate)[20:-20, 30:-30], plate.alpha[20:-20, 30:-30])
    with pytest.raises(SettingError, match="not a green or blue screen.*none is inside the frame"):
        estimate_screen_color(np.full((H, W, 3), (0.3, 0.2, 0.15), np.float32))
