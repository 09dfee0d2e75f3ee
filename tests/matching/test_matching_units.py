"""matchcut.matching: Lab, the fits, the ONNX graph against its NumPy reference, keyframes and flicker, exports."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut import color
from matchcut.errors import InputError, SettingError
from matchcut.matching import METHODS, ColorFit, apply_color, fit_color
from matchcut.matching.lab import lab_to_rgb, rgb_to_lab
from matchcut.testing.photos import LINEAR_REC709, photo as load_photo

WORKING = LINEAR_REC709


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """coffee(), linear Rec.709, with a scene-linear highlight and a negative (out-of-gamut) pixel."""
    lin = load_photo("coffee", colorspace="linear")
    lin[0, 0] = [6.0, 4.0, 2.5]
    lin[0, 1] = [-0.01, 0.003, 0.0]
    return lin


@pytest.fixture(scope="module")
def cast(photo) -> np.ndarray:
    return photo * np.array([1.2, 1.0, 0.8], np.float32) * 1.3


def test_lab_round_trip_keeps_highlights_and_negatives(photo):
    back = lab_to_rgb(rgb_to_lab(photo))
    assert np.allclose(back, photo, rtol=1e-4, atol=1e-6)
    assert rgb_to_lab(np.array([[1.0, 1.0, 1.0]], np.float32))[0, 0] == pytest.approx(100.0, abs=1e-3)


@pytest.mark.parametrize("method", METHODS)
def test_graph_matches_numpy_reference(tmp_path, monkeypatch, photo, cast, method):
    """The ONNX correction graph (what runs in every host) equals apply_color, highlights and negatives included."""
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path))
    from matchcut.matching.graph import feeds, graph_path
    from matchcut.runtime import DeviceOptions, create_session

    fit = fit_color(cast, photo, method=method)
    session = create_session(graph_path(), DeviceOptions(provider="cpu"))
    image = cast.transpose(2, 0, 1)[None]
    ones = np.ones((1, 1, *cast.shape[:2]), np.float32)
    got = session.run(feeds(fit, image, ones))["corrected"][0].transpose(1, 2, 0)
    want = apply_color(fit, cast)
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-2)) < 1e-4
    half = session.run(feeds(fit, image, ones * 0.5, gain=ones * 2.0))["corrected"][0].transpose(1, 2, 0)
    assert np.allclose(half, cast + 0.5 * (2.0 * want - cast), rtol=1e-4, atol=1e-5)


def test_fit_round_trips_through_json(cast, photo):
    fit = fit_color(cast, photo, method="histogram")
    again = ColorFit.from_dict(fit.to_dict())
    assert np.allclose(apply_color(again, cast), apply_color(fit, cast), rtol=1e-4, atol=1e-5)


def test_black_or_clipped_reference_is_refused(cast):
    with pytest.raises(InputError, match="reference: only 0 usable pixels"):
        fit_color(cast, np.zeros((64, 64, 3), np.float32))
    clipped = np.full((64, 64, 3), 1.0, np.float32)
    with pytest.raises(InputError, match="reference: .*black, clipped"):
        fit_color(cast, clipped)
    with pytest.raises(SettingError, match="valid: histogram, mkl, reinhard"):
        fit_color(cast, cast, method="average")


def test_nan_pixels_are_left_out_of_the_fit(cast, photo):
    noisy = cast.copy()
    noisy[::7, ::5] = np.nan
    a, b = fit_color(noisy, photo), fit_color(cast, photo)
    assert np.allclose(a.matrix, b.matrix, atol=0.02) and np.isfinite(a.offset).all()


def test_keyframes_every_n_or_listed():
    from matchcut.matching.temporal import keyframes

    frames = list(range(1001, 1011))
    assert keyframes(frames, "4") == [1001, 1005, 1009, 1010]
    assert keyframes(frames, "1001,1005-1006") == [1001, 1005, 1006]
    with pytest.raises(SettingError, match="keyframes.*not in the shot"):
        keyframes(frames, "1001,2000")
    with pytest.raises(SettingError, match="keyframes"):
        keyframes(frames, "every other")


def test_static_grainy_shot_does_not_flicker(photo):
    """Keyframe fits on a static shot with fresh grain each frame, smoothed: the correction changes by less than
    FLICKER_BOUND CIEDE2000 between consecutive frames (the documented bound)."""
    from matchcut.matching.regional import RegionalFit
    from matchcut.matching.temporal import FLICKER_BOUND, correction_change, fit_at, smooth

    rng = np.random.default_rng(0)
    src = photo[::2, ::2] * np.array([1.1, 1.0, 0.9], np.float32)
    ref = photo[::2, ::2]
    fits = {}
    for frame in range(1001, 1009):
        grainy = src + 0.02 * np.sqrt(np.clip(src, 0, None)) * rng.standard_normal(src.shape).astype(np.float32)
        fits[frame] = RegionalFit(fit_color(grainy, ref))
    smoothed = smooth(fits, sigma=1.0)
    changes = [correction_change(fit_at(f, smoothed).background, fit_at(f + 1, smoothed).background)
               for f in range(1001, 1008)]
    assert max(changes) < FLICKER_BOUND, changes


def test_lut_loads_back_in_ocio_and_matches(tmp_path, cast, photo):
    from matchcut.matching.export import grading_space, write_cube

    fit = fit_color(cast, photo)
    linear = color.resolve_colorspace(color.SCENE_LINEAR)
    plate = color.convert(cast, WORKING, linear)
    report = write_cube(tmp_path / "g.cube", fit, linear, plate.reshape(-1, 3)[::11], 33)
    assert report["space"] == grading_space(linear) == color.resolve_colorspace("ACEScct")
    assert report["mean_delta_e"] < 0.2 and report["p95_delta_e"] < 0.5, report
    text = (tmp_path / "g.cube").read_text()
    assert "LUT_3D_SIZE 33" in text and len(text.splitlines()) == 5 + 33 ** 3
    display = np.clip(color.convert(cast, WORKING, color.SRGB_DISPLAY), 0, 1)
    report = write_cube(tmp_path / "d.cube", fit, color.SRGB_DISPLAY, display.reshape(-1, 3)[::11], 17)
    assert report["space"] == color.SRGB_DISPLAY and report["mean_delta_e"] < 0.2, report
    with pytest.raises(SettingError, match="lut_size"):
        write_cube(tmp_path / "x.cube", fit, linear, plate.reshape(-1, 3)[::11], 32)


def test_cdl_is_written_when_close_and_refused_when_not(tmp_path, photo):
    import PyOpenColorIO as ocio

    from matchcut.matching.export import Cdl, write_cdl

    display = np.clip(color.convert(photo, WORKING, color.SRGB_DISPLAY), 0, 1)
    mild = color.convert(display, color.SRGB_DISPLAY, WORKING) * np.array([1.1, 1.0, 0.9], np.float32)
    fit = fit_color(mild, color.convert(display, color.SRGB_DISPLAY, WORKING), method="reinhard")
    samples = color.convert(mild, WORKING, color.SRGB_DISPLAY).reshape(-1, 3)[::11]
    report = write_cdl(tmp_path / "g.cc", fit, color.SRGB_DISPLAY, samples)
    assert report["mean_delta_e"] < 1.0 and "<SOPNode>" in (tmp_path / "g.cc").read_text()
    # Our CDL formula is the ASC one OpenColorIO implements.
    cdl = Cdl(np.array(report["slope"]), np.array(report["offset"]), np.array(report["power"]), report["saturation"])
    x = np.ascontiguousarray(samples[:500], np.float32)
    t = ocio.CDLTransform()
    t.setSlope(report["slope"]), t.setOffset(report["offset"]), t.setPower(report["power"])
    t.setSat(report["saturation"])
    got = x.copy()
    ocio.GetCurrentConfig().getProcessor(t).getDefaultCPUProcessor().applyRGB(got)
    assert np.allclose(got, cdl.apply(x.astype(np.float64)), atol=1e-4)
    # A strong curve is no CDL: refused with the figure and what to do instead.
    curve = color.convert(np.clip(display, 0, 1) ** 3.0, color.SRGB_DISPLAY, WORKING)
    strong = fit_color(color.convert(display, color.SRGB_DISPLAY, WORKING), curve, method="histogram")
    with pytest.raises(SettingError, match=r"not close enough to a CDL .*--lut"):
        write_cdl(tmp_path / "s.cdl", strong, color.SRGB_DISPLAY, samples, tolerance=0.3)
    assert not (tmp_path / "s.cdl").exists()


def test_graph_carries_the_colour_matrix_and_a_gain_per_channel(tmp_path, monkeypatch, photo, cast):
    """What the default fit adds (a linear-light colour matrix, a coloured light field) runs in the graph as in NumPy."""
    from dataclasses import replace

    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path))
    from matchcut.matching.graph import feeds, graph_path
    from matchcut.runtime import DeviceOptions, create_session

    mix = np.array([[0.9, 0.08, 0.02], [0.05, 0.92, 0.03], [0.01, 0.1, 0.89]])
    fit = replace(fit_color(cast, photo), mix=mix)
    h, w = cast.shape[:2]
    gain = np.random.default_rng(2).uniform(0.5, 2.0, (1, 3, h, w)).astype(np.float32)
    session = create_session(graph_path(), DeviceOptions(provider="cpu"))
    got = session.run(feeds(fit, cast.transpose(2, 0, 1)[None], np.ones((1, 1, h, w), np.float32), gain))["corrected"]
    want = apply_color(fit, cast) * gain[0].transpose(1, 2, 0)
    assert np.max(np.abs(got[0].transpose(1, 2, 0) - want) / np.maximum(np.abs(want), 1e-2)) < 1e-4
    assert np.allclose(fit.linear, mix @ np.diag(fit.gains))
    assert np.allclose(ColorFit.from_dict(fit.to_dict()).mix, mix)


def test_smoothing_blends_the_colour_matrix_and_fields_a_keyframe_lacks():
    from dataclasses import replace

    from matchcut.matching.fit import identity_fit
    from matchcut.matching.regional import RegionalFit
    from matchcut.matching.temporal import fit_at, smooth

    a = replace(identity_fit("pixels"), mix=np.diag([1.2, 1.0, 0.8]))
    b = identity_fit("pixels")
    field = np.full((4, 6, 3), 0.5)
    keyed = smooth({1001: RegionalFit(a, None, field), 1011: RegionalFit(b, None, None)}, sigma=0)
    middle = fit_at(1006, keyed)
    assert np.allclose(middle.background.mix, np.diag([1.1, 1.0, 0.9]))
    assert np.allclose(middle.log_gain, 0.25)  # the keyframe without a field counts as no light change there
