"""interpolate(): padding, sessions, errors on tiny exported IFNets; quality of the zoo's RIFE models."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import ModelNotFoundError, PixelValueError, SettingError, ShapeMismatchError
from matchcut.testing.metrics import psnr
from matchcut.vision.interpolation import carry, interpolate, interpolate_motion, padded_size, warp

CPU = {"provider": "cpu"}


def _photo(height: int, width: int, size: int = 320) -> np.ndarray:
    """The middle of scikit-image's astronaut resized to size x size, (height, width, 3) float32 in [0, 1]."""
    import cv2
    from skimage import data

    photo = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    y0, x0 = (size - height) // 2, (size - width) // 2
    return np.ascontiguousarray(photo[y0 : y0 + height, x0 : x0 + width])


def _shift(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The image content moved by (dx, dy) pixels, bilinear (cv2.warpAffine), borders reflected."""
    import cv2

    h, w = image.shape[:2]
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


# --- tiny exported IFNets (random weights; no zoo needed) ------------------------------------------------


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """Randomly initialised narrow IFNets exported to ONNX with manifests, like the zoo builders write them."""
    torch = pytest.importorskip("torch")
    from matchcut.models.manifest import manifest_from_dict, sha256_file, write_manifest
    from matchcut.models.zoo import rife
    from matchcut.models.zoo.ifnet import IFNet425, IFNetHDv3

    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    models = {}
    tiny = (("tiny-rife-425", IFNet425(widths=(24, 16, 16, 16, 8))), ("tiny-rife-hdv3", IFNetHDv3(width=16)))
    for model_id, model in tiny:
        model.eval()
        onnx_path = rife.export_onnx(model, folder / f"{model_id}.onnx", with_timestep=model.has_timestep)
        fields = rife.manifest_fields(with_timestep=model.has_timestep, size_multiple=model.size_multiple,
                                      description="random weights, for tests")
        manifest = manifest_from_dict({"id": model_id, "version": "0", "file": onnx_path.name,
                                       "sha256": sha256_file(onnx_path), "licence": "MIT", **fields})
        write_manifest(manifest, folder / f"{model_id}.toml")
        models[model_id] = model
    segmentation = manifest_from_dict({"id": "tiny-not-rife", "version": "0", "task": "segmentation",
                                       "file": "tiny-rife-hdv3.onnx", "licence": "MIT",
                                       "sha256": sha256_file(folder / "tiny-rife-hdv3.onnx")})
    write_manifest(segmentation, folder / "tiny-not-rife.toml")
    return folder, models


@pytest.fixture
def tiny(tiny_models, monkeypatch, tmp_path):
    folder, models = tiny_models
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(folder))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    return models


def test_padded_size_rounds_up_to_the_multiple():
    assert padded_size(200, 300, 64) == (256, 320)
    assert padded_size(256, 320, 64) == (256, 320)
    assert padded_size(1080, 1920, 128) == (1152, 1920)


@pytest.mark.parametrize("model_id, timestep", [("tiny-rife-425", 0.3), ("tiny-rife-hdv3", 0.5)])
def test_interpolate_pads_runs_and_crops_like_the_model(tiny, model_id, timestep):
    import torch

    frame0, frame1 = _photo(100, 150), _shift(_photo(100, 150), 3, -2)
    out = interpolate(frame0, frame1, timestep, model=model_id, device=CPU)
    assert out.shape == (100, 150, 3) and out.dtype == np.float32 and out.flags.c_contiguous
    assert out.min() >= 0.0 and out.max() <= 1.0

    # The same computation in PyTorch: edge-pad to 128x192, run, crop, clip.
    def nchw(frame):
        return torch.from_numpy(np.pad(frame, ((0, 28), (0, 42), (0, 0)), mode="edge").transpose(2, 0, 1)[None].copy())

    model = tiny[model_id]
    args = [nchw(frame0), nchw(frame1)] + ([torch.full((1, 1, 1, 1), timestep)] if model.has_timestep else [])
    with torch.no_grad():
        expected = model(*args)[0, :, :100, :150].permute(1, 2, 0).clamp(0, 1).numpy()
    assert np.max(np.abs(out - expected)) < 1e-4


def test_numpy_warp_matches_the_graphs_warp():
    """``warp`` (cv2.remap) samples exactly where RIFE's torch warp does, borders clamped, so an alpha carried
    outside the graph lands where the picture did."""
    import torch

    from matchcut.models.zoo.ifnet import warp as torch_warp

    rng = np.random.default_rng(3)
    image = _photo(48, 64)
    flow = (rng.normal(0, 4, (48, 64, 2)) + [2.5, -1.25]).astype(np.float32)
    got = warp(image, flow)
    expected = torch_warp(torch.from_numpy(image.transpose(2, 0, 1)[None].copy()),
                          torch.from_numpy(flow.transpose(2, 0, 1)[None].copy()))[0].permute(1, 2, 0).numpy()
    assert got.shape == image.shape and np.max(np.abs(got - expected)) < 1e-3


@pytest.mark.parametrize("model_id, timestep", [("tiny-rife-425", 0.3), ("tiny-rife-hdv3", 0.5)])
def test_motion_carries_other_channels_with_the_frames_own_flow(tiny, model_id, timestep):
    frame0, frame1 = _photo(100, 150), _shift(_photo(100, 150), 3, -2)
    motion = interpolate_motion(frame0, frame1, timestep, model=model_id, device=CPU)
    assert motion.flow.shape == (100, 150, 4) and motion.weight.shape == (100, 150)
    assert np.max(np.abs(motion.frame - interpolate(frame0, frame1, timestep, model=model_id, device=CPU))) < 1e-6
    # Carrying the picture itself with the motion rebuilds the frame: the flow is the picture's own.
    assert np.max(np.abs(carry(frame0, frame1, motion) - motion.frame)) < 1e-3


def test_motion_needs_a_model_with_flow_outputs(tiny_models, monkeypatch, tmp_path):
    import shutil
    from dataclasses import replace

    from matchcut.models.manifest import load_manifest, write_manifest
    from matchcut.vision.sessions import clear_sessions

    folder, _ = tiny_models
    manifest = load_manifest(folder / "tiny-rife-425.toml")
    frame_only = tmp_path / "models"
    frame_only.mkdir()
    shutil.copy(folder / "tiny-rife-425.onnx", frame_only)  # a symlink out of the folder would be refused
    write_manifest(replace(manifest, outputs=manifest.outputs[:1]), frame_only / "tiny-rife-425.toml")
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(frame_only))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    clear_sessions()  # sessions are cached per model id; this id now names a frame-only model
    frame = _photo(64, 64)
    assert interpolate(frame, frame, 0.5, model="tiny-rife-425", device=CPU).shape == (64, 64, 3)
    with pytest.raises(SettingError, match="not frame, flow and weight.*matchcut models install"):
        interpolate_motion(frame, frame, 0.5, model="tiny-rife-425", device=CPU)


def test_device_may_be_options_or_a_job_table(tiny):
    from matchcut.runtime.backends import DeviceOptions

    frame0, frame1 = _photo(64, 64), _shift(_photo(64, 64), 2, 1)
    by_table = interpolate(frame0, frame1, 0.5, model="tiny-rife-425", device={"provider": "cpu", "threads": 1})
    by_options = interpolate(frame0, frame1, 0.5, model="tiny-rife-425", device=DeviceOptions(provider="cpu"))
    assert np.max(np.abs(by_table - by_options)) < 1e-6
    with pytest.raises(SettingError, match="device"):
        interpolate(frame0, frame1, model="tiny-rife-425", device="cpu")


def test_interpolate_rejects_bad_frames_timesteps_and_models(tiny):
    frame = _photo(64, 64)
    with pytest.raises(ShapeMismatchError, match="one size"):
        interpolate(frame, _photo(64, 80), model="tiny-rife-425", device=CPU)
    with pytest.raises(ShapeMismatchError, match=r"\(H, W, 3\)"):
        interpolate(frame[..., :1], frame[..., :1], model="tiny-rife-425", device=CPU)
    with pytest.raises(SettingError, match="dtype uint8"):
        interpolate((frame * 255).astype(np.uint8), frame, model="tiny-rife-425", device=CPU)
    bad = frame.copy()
    bad[3, 4, 1] = np.nan
    with pytest.raises(PixelValueError, match="frame1"):
        interpolate(frame, bad, model="tiny-rife-425", device=CPU)
    with pytest.raises(SettingError, match="timestep"):
        interpolate(frame, frame, 1.5, model="tiny-rife-425", device=CPU)
    with pytest.raises(SettingError, match="only the middle frame"):
        interpolate(frame, frame, 0.25, model="tiny-rife-hdv3", device=CPU)
    with pytest.raises(SettingError, match="segmentation model"):
        interpolate(frame, frame, model="tiny-not-rife", device=CPU)
    with pytest.raises(ModelNotFoundError, match="tiny-rife-425"):
        interpolate(frame, frame, model="no-such-rife", device=CPU)


# --- quality of the installed zoo models ------------------------------------------------------------------

# (model, timestep, frame size, motion dx, dy, least gain in dB). The scene is scikit-image's astronaut at
# 640x640; frames are not multiples of 64, so the runtime pads. The half-scale variant trades sub-pixel accuracy
# for reach (flow at half resolution, meant for 4K plates): it is checked on a larger frame with twice the motion.
# Between frames (t = 0.25) the reference is the time-weighted blend, a stronger baseline, and the bar is lower.
_CASES = [
    ("rife-hdv3", 0.5, (200, 300), 13.0, -6.5, 15.0),
    ("rife-4.25", 0.5, (200, 300), 13.0, -6.5, 15.0),
    ("rife-4.25-half", 0.5, (400, 600), 26.0, -13.0, 15.0),
    ("rife-4.25", 0.25, (200, 300), 13.0, -6.5, 10.0),
]


@pytest.mark.zoo
@pytest.mark.parametrize("model_id, timestep, size, dx, dy, least_gain", _CASES)
def test_interpolated_frame_beats_a_blend(zoo_model, model_id, timestep, size, dx, dy, least_gain):
    zoo_model(model_id)  # fails with the install command when the zoo is missing
    truth = _photo(*size, size=640)
    # frame0 sits at time 0, frame1 at time 1, the truth at `timestep` on a straight path of (dx, dy)
    frame0 = _shift(truth, -timestep * dx, -timestep * dy)
    frame1 = _shift(truth, (1 - timestep) * dx, (1 - timestep) * dy)
    out = interpolate(frame0, frame1, timestep, model=model_id, device=CPU)
    assert out.shape == truth.shape and out.dtype == np.float32
    blend = (1 - timestep) * frame0 + timestep * frame1
    inner = (slice(24, -24), slice(24, -24))  # away from the reflected borders
    gain = (psnr(out[inner], truth[inner], clip=False, dtype=np.float64)
            - psnr(blend[inner], truth[inner], clip=False, dtype=np.float64))
    assert gain >= least_gain, f"{model_id} at t={timestep}: only {gain:.1f} dB better than a blend"
