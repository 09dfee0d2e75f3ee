"""Interpolating plates: colour round trip with highlights, alpha, extra layers, halving, the 4K variant."""

import numpy as np
import pytest

from matchcut import color
from matchcut.errors import ShapeMismatchError
from matchcut.frames import Plate
from matchcut.retime.blend import choose_model, interpolate_display, interpolate_plates
from matchcut.testing.metrics import psnr
from matchcut.testing.photos import photo
from matchcut.testing.sequences import layered_frame, layered_matte, warped_frame

CPU = {"provider": "cpu"}
SIZE = (96, 128)


@pytest.fixture(scope="module")
def img():
    return photo("astronaut", colorspace="srgb")


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


@pytest.mark.zoo
def test_alpha_follows_the_motion_and_extra_layers_pass_with_a_warning(zoo_model, img):
    """A real photo crossing another with its own soft matte as alpha (known at every time): the rebuilt
    alpha lands where the foreground really is at the middle time, far closer than a blend of the two."""
    zoo_model("rife-4.25")
    back = photo("coffee", colorspace="srgb")
    plates = []
    for k in (0, 2):
        rgb = layered_frame(back, img, SIZE, k)
        depth = np.full(SIZE, float(k), np.float32)
        plates.append(Plate(np.dstack([rgb, layered_matte(SIZE, k), depth]), channels=("R", "G", "B", "A", "Z"),
                            colorspace=color.SRGB_DISPLAY))
    out, warnings = interpolate_plates(*plates, 0.5, model="rife-4.25", device=CPU)
    alpha, truth = out[..., 3], layered_matte(SIZE, 1)
    blended = 0.5 * (plates[0].pixels[..., 3] + plates[1].pixels[..., 3])
    iou = np.logical_and(alpha > 0.5, truth > 0.5).sum() / np.logical_or(alpha > 0.5, truth > 0.5).sum()
    assert iou > 0.95
    assert np.abs(alpha - truth).mean() < 0.25 * np.abs(blended - truth).mean()
    assert np.all(out[..., 4] == 2.0)  # t = 0.5 takes the later frame's layer
    assert len(warnings) == 1 and "Z" in warnings[0]


@pytest.mark.zoo
@pytest.mark.parametrize("model, t, ensemble", [("rife-4.25", 0.3, 1), ("rife-hdv3", 0.25, 2)])
def test_alpha_moves_with_the_pictures_own_flow(zoo_model, img, model, t, ensemble):
    """An alpha that is a fixed mix of the colour channels stays that mix of the interpolated colour, to float
    precision, through halving steps and a flip ensemble: it was warped by the same flow and blended by the
    same weight as the picture (a separately estimated motion would break the identity at every edge)."""
    zoo_model(model)
    mix = np.float32([0.2126, 0.7152, 0.0722])
    plates = []
    for k in (0, 3):
        rgb = warped_frame(img, SIZE, k)
        plates.append(Plate(np.dstack([rgb, rgb @ mix]), channels=("R", "G", "B", "A"),
                            colorspace=color.SRGB_DISPLAY))
    out, warnings = interpolate_plates(*plates, t, model=model, device=CPU, ensemble=ensemble)
    assert warnings == []
    assert np.max(np.abs(out[..., 3] - out[..., :3] @ mix)) < 1e-4


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


def test_out_of_memory_falls_back_to_the_cpu_then_to_preview_and_says_so(monkeypatch):
    """RIFE cannot be tiled, so a frame that does not fit the device is made on the CPU, then at preview quality,
    each said once; only when nothing fits does the job stop, naming the model and the size."""
    from matchcut.errors import DeviceMemoryError
    from matchcut.retime import blend

    tried = []

    def scarce(limit):
        def run(frame0, frame1, t, model, device, depth, ensemble, alpha0, alpha1, quality="final"):
            tried.append((device.provider, quality))
            if (device.provider, quality) not in limit:
                raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : CUDA failure 2: out of memory")
            return np.full_like(frame0, 0.5), None
        return run

    plate = Plate(np.full((8, 12, 3), 0.2, np.float32), colorspace=color.SRGB_DISPLAY)
    monkeypatch.setattr(blend, "interpolate_display_alpha", scarce({("cpu", "final")}))
    pixels, warnings = interpolate_plates(plate, plate, 0.5, model="rife-hdv3", device={"provider": "cuda"})
    assert tried == [("cuda", "final"), ("cpu", "final")] and np.allclose(pixels, 0.5, atol=1e-3)
    assert warnings == ["rife-hdv3 at 12x8: out of memory on cuda ([ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : "
                        "CUDA failure 2: out of memory); this frame is made on the CPU"]
    tried.clear()
    monkeypatch.setattr(blend, "interpolate_display_alpha", scarce({("cpu", "preview")}))
    _, warnings = interpolate_plates(plate, plate, 0.5, model="rife-hdv3", device={"provider": "cpu"})
    assert tried == [("cpu", "final"), ("cpu", "preview")] and warnings[0].endswith("made at preview quality")
    monkeypatch.setattr(blend, "interpolate_display_alpha", scarce(set()))
    with pytest.raises(DeviceMemoryError, match="rife-hdv3 at 12x8: out of memory even at preview quality"):
        interpolate_plates(plate, plate, 0.5, model="rife-hdv3", device={"provider": "cpu"})
