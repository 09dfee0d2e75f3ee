"""matchcut.color: config loading, names, conversions, processor cache, plates."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut import color
from matchcut.errors import ColorError, UnknownColorSpaceError

# A tiny OCIO v2 config: linear reference, an sRGB-encoded space built from OCIO's own sRGB curve
# (exponent 2.4, offset 0.055, linear segment), and a data space.
TINY_CONFIG = """\
ocio_profile_version: 2

roles:
  default: raw
  scene_linear: linear
  data: raw

file_rules:
  - !<Rule> {name: Default, colorspace: default}

displays:
  sRGB:
    - !<View> {name: Raw, colorspace: raw}

colorspaces:
  - !<ColorSpace>
    name: linear
    aliases: [lin_srgb]
    encoding: scene-linear
    isdata: false

  - !<ColorSpace>
    name: sRGB
    encoding: sdr-video
    isdata: false
    from_scene_reference: !<ExponentWithLinearTransform> {gamma: 2.4, offset: 0.055, direction: inverse}

  - !<ColorSpace>
    name: raw
    isdata: true
"""


def _srgb_encode(v: np.ndarray) -> np.ndarray:
    """The sRGB (IEC 61966-2-1) encoding, written out independently of OCIO."""
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.power(np.maximum(v, 0.0031308), 1 / 2.4) - 0.055)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv("OCIO", raising=False)
    color.clear_caches()
    yield
    color.clear_caches()


def _image(h=6, w=5, c=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, size=(h, w, c)).astype(np.float32)


def test_builtin_config_and_description():
    config = color.load_config()
    assert color.load_config() is config  # cached per source
    desc = color.config_description()
    assert desc["source"] == color.BUILTIN_URI
    assert desc["cache_id"] == config.getCacheID()
    assert "studio-config" in desc["name"]
    assert desc["ocio_version"].startswith("2.")


def test_constants_resolve_in_builtin_config():
    assert color.resolve_colorspace(color.SRGB_DISPLAY) == "sRGB Encoded Rec.709 (sRGB)"
    assert color.resolve_colorspace(color.LINEAR_REC709) == "Linear Rec.709 (sRGB)"
    assert color.resolve_colorspace(color.ACESCG) == "ACEScg"
    assert color.resolve_colorspace(color.SCENE_LINEAR) == "ACEScg"  # the role
    assert color.resolve_colorspace("srgb_tx") == "sRGB Encoded Rec.709 (sRGB)"  # an alias


def test_unknown_name_lists_available():
    with pytest.raises(UnknownColorSpaceError) as info:
        color.resolve_colorspace("No Such Space")
    message = str(info.value)
    assert "No Such Space" in message and "ACEScg" in message and "available" in message


def test_known_value_matches_srgb_formula():
    px = np.full((1, 1, 3), 0.18, np.float32)
    out = color.convert(px, color.LINEAR_REC709, color.SRGB_DISPLAY)
    assert out[0, 0, 0] == pytest.approx(0.4613, abs=1e-4)
    ramp = np.linspace(0.0, 1.0, 33, dtype=np.float32)
    px = np.repeat(ramp[None, :, None], 3, axis=2)
    out = color.convert(px, color.LINEAR_REC709, color.SRGB_DISPLAY)
    np.testing.assert_allclose(out[0, :, 1], _srgb_encode(ramp), atol=2e-5)


@pytest.mark.parametrize("linear", [color.SCENE_LINEAR, color.LINEAR_REC709])
def test_round_trip_linear_srgb(linear):
    px = _image(8, 8, 3) * 0.9 + 0.01
    there = color.convert(px, linear, color.SRGB_DISPLAY)
    assert not np.allclose(there, px)
    back = color.convert(there, color.SRGB_DISPLAY, linear)
    np.testing.assert_allclose(back, px, atol=1e-5)
    srgb = _image(8, 8, 3, seed=3)
    back = color.convert(color.convert(srgb, color.SRGB_DISPLAY, linear), linear, color.SRGB_DISPLAY)
    np.testing.assert_allclose(back, srgb, atol=1e-5)


def test_values_above_one_survive_round_trip():
    # Scene-linear highlights (sun, speculars) must not clip through the sRGB texture space.
    px = np.array([[[1.5, 4.0, 16.0], [2.0, 2.0, 2.0]]], np.float32)
    encoded = color.convert(px, color.LINEAR_REC709, color.SRGB_DISPLAY)
    assert encoded.max() > 1.0  # extended curve, not clamped
    np.testing.assert_allclose(encoded[0, 1, 0], _srgb_encode(2.0), rtol=1e-5)
    back = color.convert(encoded, color.SRGB_DISPLAY, color.LINEAR_REC709)
    np.testing.assert_allclose(back, px, rtol=1e-5)
    back = color.convert(color.convert(px, color.SCENE_LINEAR, color.SRGB_DISPLAY), color.SRGB_DISPLAY,
                         color.SCENE_LINEAR)
    np.testing.assert_allclose(back, px, rtol=1e-5)
    # Below zero the linear toe continues (no clamp, no mirror), so negatives round-trip too.
    neg = np.array([[[-0.1, -0.001, 0.5]]], np.float32)
    encoded = color.convert(neg, color.LINEAR_REC709, color.SRGB_DISPLAY)
    slopes = encoded[0, 0, :2] / neg[0, 0, :2]  # OCIO's toe slope is 12.9232, the curve's exact tangent
    assert slopes[0] == pytest.approx(slopes[1], rel=1e-5) and slopes[0] == pytest.approx(12.92, rel=1e-3)
    np.testing.assert_allclose(color.convert(encoded, color.SRGB_DISPLAY, color.LINEAR_REC709), neg, rtol=1e-5)


def test_alpha_and_extra_channels_untouched_and_input_kept():
    px = _image(4, 3, 5)
    original = px.copy()
    out = color.convert(px, color.SCENE_LINEAR, color.SRGB_DISPLAY)
    assert out is not px and out.dtype == np.float32 and out.shape == px.shape
    np.testing.assert_array_equal(out[..., 3:], original[..., 3:])
    np.testing.assert_array_equal(px, original)
    assert not np.allclose(out[..., :3], original[..., :3])


def test_identity_when_same_space():
    px = _image(3, 3, 3)
    out = color.convert(px, "ACEScg", color.SCENE_LINEAR)  # role and name of the same space
    assert out is not px
    np.testing.assert_array_equal(out, px)


def test_bad_shape():
    with pytest.raises(ColorError, match=r"\(H, W, C>=3\)"):
        color.convert(np.zeros((4, 4, 1), np.float32), color.SCENE_LINEAR, color.SRGB_DISPLAY)


def test_processor_cache_hit():
    a = color.processor(color.SCENE_LINEAR, color.SRGB_DISPLAY)
    b = color.processor(color.SCENE_LINEAR, color.SRGB_DISPLAY)
    assert a is b
    assert color.processor(color.SRGB_DISPLAY, color.SCENE_LINEAR) is not a


def test_ocio_env_points_to_config_file(tmp_path, monkeypatch):
    path = tmp_path / "tiny.ocio"
    path.write_text(TINY_CONFIG)
    monkeypatch.setenv("OCIO", str(path))
    config = color.load_config()
    assert color.config_description()["source"] == str(path)
    assert color.resolve_colorspace(color.SCENE_LINEAR) == "linear"
    assert color.resolve_colorspace(color.SRGB_DISPLAY) == "sRGB"  # found through its other spellings
    assert color.resolve_colorspace(color.LINEAR_REC709) == "linear"  # through the alias lin_srgb
    px = np.full((2, 2, 3), 0.18, np.float32)
    out = color.convert(px, color.SCENE_LINEAR, color.SRGB_DISPLAY)
    np.testing.assert_allclose(out, _srgb_encode(0.18), atol=1e-5)
    with pytest.raises(UnknownColorSpaceError, match=r"available: linear, raw, sRGB"):
        color.resolve_colorspace(color.ACESCG, config)


def test_bad_ocio_env_names_path(tmp_path, monkeypatch):
    missing = tmp_path / "missing.ocio"
    monkeypatch.setenv("OCIO", str(missing))
    with pytest.raises(ColorError, match="missing.ocio"):
        color.load_config()
    broken = tmp_path / "broken.ocio"
    broken.write_text("ocio_profile_version: 2\ncolorspaces: [this is not a colour space\n")
    monkeypatch.setenv("OCIO", str(broken))
    with pytest.raises(ColorError, match="broken.ocio"):
        color.load_config()


def test_default_colorspace():
    assert color.default_colorspace("plates/sh010.1001.exr") == color.SCENE_LINEAR
    assert color.default_colorspace("plates/sh010.1001.EXR") == color.SCENE_LINEAR
    assert color.default_colorspace("plates/sh010.1001.png") == color.SRGB_DISPLAY
    assert color.default_colorspace("clip.mov") == color.SRGB_DISPLAY


def test_plate_round_trip_through_working_space():
    from matchcut.frames.plates import Plate

    px = _image(4, 4, 4)
    plate = Plate(px, ("R", "G", "B", "A"), source="sh010.1001.png")
    work = color.to_working(plate, color.SCENE_LINEAR)
    assert work.colorspace == "ACEScg" and work.channels == plate.channels
    expected = color.convert(px, color.SRGB_DISPLAY, color.SCENE_LINEAR)
    np.testing.assert_allclose(work.pixels, expected)
    back = color.from_working(work.pixels, plate, color.SCENE_LINEAR)
    assert back.colorspace is None and back.channels == plate.channels
    np.testing.assert_allclose(back.pixels, px, atol=1e-5)
    exr = Plate(px, ("R", "G", "B", "A"), source="sh010.1001.exr")  # EXR defaults to scene_linear
    np.testing.assert_array_equal(color.to_working(exr, color.SCENE_LINEAR).pixels, px)
    tagged = Plate(px, ("R", "G", "B", "A"), colorspace=color.LINEAR_REC709, source="sh010.1001.exr")
    assert not np.allclose(color.to_working(tagged, color.ACESCG).pixels[..., :3], px[..., :3])
    # an explicit default beats the file extension: declared ACEScg into scene_linear (ACEScg) is a copy
    np.testing.assert_array_equal(color.to_working(plate, color.SCENE_LINEAR, default=color.ACESCG).pixels, px)


def test_plate_channels_out_of_order():
    from matchcut.frames.plates import Plate

    px = _image(3, 3, 4)
    abgr = Plate(px[:, :, [3, 2, 1, 0]], ("A", "B", "G", "R"), source="x.png")
    work = color.to_working(abgr, color.SCENE_LINEAR)
    expected = color.convert(px, color.SRGB_DISPLAY, color.SCENE_LINEAR)
    np.testing.assert_allclose(work.pixels, expected[:, :, [3, 2, 1, 0]], atol=1e-7)
    np.testing.assert_array_equal(work.channel("A"), px[:, :, 3])
