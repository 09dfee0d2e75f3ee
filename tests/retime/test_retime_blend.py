"""Interpolating plates: colour round trip with highlights, alpha, extra layers, halving, the 4K variant."""

import numpy as np
import pytest

from matchcut import color
from matchcut.errors import ShapeMismatchError
from matchcut.frames import Plate
from matchcut.retime.blend import choose_model, interpolate_display, interpolate_plates
from matchcut.retime.quality import psnr
from matchcut.retime.samples import photo, warped_frame

CPU = {"provider": "cpu"}
SIZE = (96, 128)


@pytest.fixture(scope="module")
def img():
    return photo("astronaut")


def _linear(display):
    return color.convert(display, color.SRGB_DISPLAY, color.SCENE_LINEAR)


@pytest.mark.zoo
def test_highlights_above_one_survive_and_picture_matches_truth(zoo_model, img):
    zoo_model("rife-4.25")
    frames = [_linear(warped_frame(img, SIZE, k)) for k in (0, 1, 2)]
    for f in frames:
        f[10:30, 10:40] = 20.0  # a static specular highlight far above display white
    p0, p1 = (Plate(frames[0], colorspace=color.SCENE_LINEAR), Plate(frames[2], colorspace=color.SCENE_LINEAR))
    out, warnings = interpolate_plates(p0, p1, 0.5, model="rife-4.25", device=CPU)
    assert warnings == []
    assert np.median(out[14:26, 14:36]) == pytest.approx(20.0, rel=0.05)
    shown = np.clip(color.convert(out, color.SCENE_LINEAR, color.SRGB_DISPLAY), 0, 1)
    truth = np.clip(color.convert(frames[1], color.SCENE_LINEAR, color.SRGB_DISPLAY), 0, 1)
    blend = np.clip(color.convert((frames[0] + frames[2]) / 2, color.SCENE_LINEAR, color.SRGB_DISPLAY), 0, 1)
    assert psnr(shown, truth) > psnr(blend, truth) + 3


def _disc(center, size=SIZE, radius=20):
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    return ((xx - center[0]) ** 2 + (yy - center[1]) ** 2 <= radius ** 2).astype(np.float32)


@pytest.mark.zoo
def test_alpha_follows_the_motion_and_extra_layers_pass_with_a_warning(zoo_model, img):
    zoo_model("rife-4.25")
    plates = []
    for k, cx in ((0, 40), (2, 80)):
        rgb = warped_frame(img, SIZE, k)
        alpha = _disc((cx, 48))
        depth = np.full(SIZE, float(k), np.float32)
        plates.append(Plate(np.dstack([rgb, alpha, depth]), channels=("R", "G", "B", "A", "Z"),
                            colorspace=color.SRGB_DISPLAY))
    out, warnings = interpolate_plates(*plates, 0.5, model="rife-4.25", device=CPU)
    alpha = out[..., 3]
    truth = _disc((60, 48))
    iou = np.logical_and(alpha > 0.5, truth > 0.5).sum() / np.logical_or(alpha > 0.5, truth > 0.5).sum()
    blended = 0.5 * (plates[0].pixels[..., 3] + plates[1].pixels[..., 3])
    iou_blend = np.logical_and(blended > 0.5, truth > 0.5).sum() / np.logical_or(blended > 0.5, truth > 0.5).sum()
    assert iou > 0.8 and iou > iou_blend
    assert np.all(out[..., 4] == 2.0)  # t = 0.5 takes the later frame's layer
    assert len(warnings) == 1 and "Z" in warnings[0]


@pytest.mark.zoo
def test_hdv3_reaches_a_quarter_by_halving(zoo_model, img):
    zoo_model("rife-hdv3")
    f0, f1, truth = (warped_frame(img, SIZE, k) for k in (0, 4, 1))
    got = interpolate_display(f0, f1, 0.25, "rife-hdv3", CPU)
    assert psnr(got, truth) > psnr(0.75 * f0 + 0.25 * f1, truth) + 3


@pytest.mark.zoo
def test_4k_frames_use_the_half_scale_variant(zoo_model):
    zoo_model("rife-4.25")
    assert choose_model("rife-4.25", 2160, 3840) == "rife-4.25-half"
    assert choose_model("rife-4.25", 1080, 1920) == "rife-4.25"
    assert choose_model("rife-hdv3", 2160, 3840) == "rife-hdv3"  # no variant declared: the model itself


def test_neighbours_of_different_sizes_are_refused():
    a = Plate(np.zeros((32, 32, 3), np.float32), source="a.exr")
    b = Plate(np.zeros((32, 40, 3), np.float32), source="b.exr")
    with pytest.raises(ShapeMismatchError, match="b.exr is 40x32"):
        interpolate_plates(a, b, 0.5, model="rife-4.25")
