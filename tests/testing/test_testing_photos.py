"""matchcut.testing.photos: one loader, the colour space always named, the spaces related as they should be."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from matchcut import color
from matchcut.errors import SettingError
from matchcut.testing.photos import COLORSPACES, LINEAR_REC709, photo


def _srgb_decode(v: np.ndarray) -> np.ndarray:
    """The sRGB transfer function (IEC 61966-2-1): encoded values -> linear light."""
    v = v.astype(np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def test_srgb_is_the_files_values_and_linear_is_them_decoded():
    srgb = photo("astronaut", colorspace="srgb")
    linear = photo("astronaut", colorspace="linear")
    assert srgb.dtype == linear.dtype == np.float32 and srgb.shape == linear.shape == (512, 512, 3)
    assert np.array_equal(srgb, skimage.data.astronaut().astype(np.float32) / np.float32(255))
    np.testing.assert_allclose(linear, _srgb_decode(srgb), atol=1e-5)


def test_scene_linear_is_the_configs_role():
    srgb = photo("coffee", colorspace="srgb", size=(30, 40))
    scene = photo("coffee", colorspace="scene_linear", size=(30, 40))
    assert np.array_equal(scene, color.convert(srgb, color.SRGB_DISPLAY, color.SCENE_LINEAR))
    assert np.array_equal(photo("coffee", colorspace="linear", size=(30, 40)),
                          color.convert(srgb, color.SRGB_DISPLAY, LINEAR_REC709))


def test_size_grey_photos_and_alpha():
    grey = photo("camera", colorspace="srgb", size=(40, 60))  # a grey photo: three equal channels
    assert grey.shape == (40, 60, 3) and grey.flags.c_contiguous
    assert np.array_equal(grey[..., 0], grey[..., 2])
    assert photo("logo", colorspace="srgb").shape[2] == 3  # RGBA: alpha dropped


def test_the_colour_space_must_be_named():
    with pytest.raises(TypeError):
        photo("astronaut")  # no default: every caller says which space it wants
    with pytest.raises(SettingError, match="srgb"):
        photo("astronaut", colorspace="rec709")
    assert COLORSPACES == ("srgb", "linear", "scene_linear")
