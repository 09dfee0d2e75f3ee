"""The apply tool with tiny ONNX models made here: a 3x3 convolution checked against numpy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert
from matchcut.errors import SettingError
from matchcut.frames import read_metadata, read_plate, write_plate
from matchcut.jobs import ListSink, job_from_dict, run_job
from matchcut.models.manifest import Control, ModelManifest, RuntimeInfo, TensorSpec, sha256_file, write_manifest
from matchcut.tools import get_tool

RNG = np.random.default_rng(7)
WEIGHTS = RNG.normal(0.0, 0.3, (3, 3, 3, 3)).astype(np.float32)  # (out, in, kh, kw)
BIAS = np.array([0.05, -0.02, 0.01], np.float32)


def conv_model(folder, model_id="conv3", *, weights=WEIGHTS, bias=BIAS, gain_input=False, controls=(),
               colorspace=None, value_range=(0.0, 1.0), layout="NCHW", fixed_size=None, size_multiple=1):
    """Write ``<id>.onnx`` (a 3x3 convolution, zero padding, optional scalar ``gain`` input) and its manifest."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    shape = ["N", 3, "H", "W"] if layout == "NCHW" else ["N", "H", "W", 3]
    nodes, inputs = [], [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)]
    src = "x"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["x"], ["x_nchw"], perm=[0, 3, 1, 2]))
        src = "x_nchw"
    nodes.append(helper.make_node("Conv", [src, "w", "b"], ["conv"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]))
    last = "conv"
    if gain_input:
        inputs.append(helper.make_tensor_value_info("gain", TensorProto.FLOAT, []))
        nodes.append(helper.make_node("Mul", ["conv", "gain"], ["gained"]))
        last = "gained"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", [last], ["y"], perm=[0, 2, 3, 1]))
    else:
        nodes.append(helper.make_node("Identity", [last], ["y"]))
    graph = helper.make_graph(nodes, model_id, inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
                              [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx_path = folder / f"{model_id}.onnx"
    onnx.save(model, onnx_path)
    tensor = dict(layout=layout, channels=("R", "G", "B"), range=value_range, colorspace=colorspace)
    manifest = ModelManifest(
        id=model_id, version="1", task="image-to-image", file=onnx_path.name, sha256=sha256_file(onnx_path),
        licence="Apache-2.0", runtime=RuntimeInfo(size_multiple=size_multiple, receptive_field=1, fixed_size=fixed_size),
        inputs=(TensorSpec("x", **tensor),), outputs=(TensorSpec("y", **tensor),), controls=tuple(controls),
    )
    write_manifest(manifest, folder / f"{model_id}.toml")
    return manifest


def conv_numpy(x: np.ndarray, weights=WEIGHTS, bias=BIAS) -> np.ndarray:
    """Reference: (H, W, 3) float -> (H, W, 3), 3x3 cross-correlation with zero padding (ONNX Conv)."""
    h, w, _ = x.shape
    padded = np.pad(x.astype(np.float64), ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((h, w, weights.shape[0]), np.float64) + bias
    for dy in range(3):
        for dx in range(3):
            out += padded[dy:dy + h, dx:dx + w, :] @ weights[:, :, dy, dx].T.astype(np.float64)
    return out.astype(np.float32)


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(folder))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    return folder


def _pixels(frame: int, channels: int = 3, size=(13, 17)) -> np.ndarray:
    return np.random.default_rng(frame).random((*size, channels), dtype=np.float32)


def _job(folder, frames="1001-1002", provider="cpu", **params):
    data = {"matchcut_job": 1, "tool": "apply", "inputs": {"plate": "plates/p.####.exr"},
            "outputs": {"main": "out/o.####.exr"}, "frames": frames, "params": {"model": "conv3", **params},
            "device": {"provider": provider},
            "output_options": {"dtype": "float"}}
    return job_from_dict(data, folder, where="job.json")


def _write_plates(folder, frames=(1001, 1002), channels=("R", "G", "B"), suffix="exr"):
    from matchcut.frames import Plate

    for f in frames:
        write_plate(folder / "plates" / f"p.{f:04d}.{suffix}", Plate(_pixels(f, len(channels)), channels=channels),
                    dtype="float")


def _out(folder, frame):
    return read_plate(folder / "out" / f"o.{frame:04d}.exr")


def test_whole_frame_matches_numpy_and_records_the_model(tmp_path, models):
    manifest = conv_model(models)
    _write_plates(tmp_path)
    run_job(get_tool("apply"), _job(tmp_path), ListSink())
    for f in (1001, 1002):
        np.testing.assert_allclose(_out(tmp_path, f).pixels, conv_numpy(_pixels(f)), atol=1e-5)
    meta = read_metadata(tmp_path / "out" / "o.1001.exr")
    assert meta["matchcut/model"] == f"conv3@{manifest.sha256}"
    assert meta["matchcut/tool"] == "apply"
    assert json.loads(meta["matchcut/params"])["overlap"] == 1  # the manifest's receptive field


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_tiled_run_matches_numpy(tmp_path, models, layout):
    conv_model(models, layout=layout)
    _write_plates(tmp_path, frames=(1001,))
    run_job(get_tool("apply"), _job(tmp_path, frames="1001", tile=6, overlap=1), ListSink())
    np.testing.assert_allclose(_out(tmp_path, 1001).pixels, conv_numpy(_pixels(1001)), atol=1e-5)


def _centre_tap(gain=0.5):
    weights = np.zeros((3, 3, 3, 3), np.float32)
    for c in range(3):
        weights[c, c, 1, 1] = gain
    return weights


def test_frames_are_padded_to_the_size_multiple_and_cropped_back(tmp_path, models, monkeypatch):
    from matchcut.tools.apply import ApplyTool

    conv_model(models, weights=_centre_tap(), bias=np.zeros(3, np.float32), size_multiple=8)
    _write_plates(tmp_path, frames=(1001,))  # 13x17: not a multiple of 8
    seen = []
    infer = ApplyTool._infer
    monkeypatch.setattr(ApplyTool, "_infer", lambda self, window: seen.append(window.shape) or infer(self, window))
    run_job(get_tool("apply"), _job(tmp_path, frames="1001"), ListSink())
    assert seen == [(1, 3, 16, 24)]
    out = _out(tmp_path, 1001)
    assert out.pixels.shape == (13, 17, 3)
    np.testing.assert_allclose(out.pixels, 0.5 * _pixels(1001), atol=1e-6)


def test_alpha_and_extra_channels_pass_through(tmp_path, models):
    conv_model(models)
    _write_plates(tmp_path, frames=(1001,), channels=("R", "G", "B", "A", "depth.Z"))
    run_job(get_tool("apply"), _job(tmp_path, frames="1001"), ListSink())
    out, src = _out(tmp_path, 1001), _pixels(1001, 5)
    assert out.channels == ("R", "G", "B", "A", "depth.Z")
    np.testing.assert_array_equal(out.pixels[..., 3:], src[..., 3:])
    np.testing.assert_allclose(out.pixels[..., :3], conv_numpy(src[..., :3]), atol=1e-5)


def test_colour_space_and_range_conversion(tmp_path, models):
    # A centre-tap kernel of 0.5: y = 0.5 * x in the model's space (sRGB-encoded, values in [-1, 1]).
    conv_model(models, weights=_centre_tap(), bias=np.zeros(3, np.float32), colorspace=SRGB_DISPLAY, value_range=(-1.0, 1.0))
    _write_plates(tmp_path, frames=(1001,))
    run_job(get_tool("apply"), _job(tmp_path, frames="1001"), ListSink())
    x = convert(_pixels(1001), SCENE_LINEAR, SRGB_DISPLAY) * 2.0 - 1.0
    expected = convert((0.5 * x + 1.0) / 2.0, SRGB_DISPLAY, SCENE_LINEAR)
    np.testing.assert_allclose(_out(tmp_path, 1001).pixels, expected, atol=1e-5)


def test_strength_mixes_with_the_input(tmp_path, models):
    conv_model(models, controls=[Control("strength", "float", 1.0, 0.0, 1.0)])
    _write_plates(tmp_path, frames=(1001,))
    run_job(get_tool("apply"), _job(tmp_path, frames="1001", strength=0.25), ListSink())
    x = _pixels(1001)
    np.testing.assert_allclose(_out(tmp_path, 1001).pixels, x + 0.25 * (conv_numpy(x) - x), atol=1e-5)


def test_control_that_is_a_graph_input_is_fed(tmp_path, models):
    conv_model(models, gain_input=True, controls=[Control("gain", "float", 1.0, 0.0, 4.0)])
    _write_plates(tmp_path, frames=(1001,))
    run_job(get_tool("apply"), _job(tmp_path, frames="1001", gain=2.5), ListSink())
    np.testing.assert_allclose(_out(tmp_path, 1001).pixels, 2.5 * conv_numpy(_pixels(1001)), atol=1e-5)


def test_bad_control_name_lists_the_valid_ones(tmp_path, models):
    conv_model(models, controls=[Control("strength", "float", 1.0, 0.0, 1.0)])
    _write_plates(tmp_path, frames=(1001,))
    sink = ListSink()
    with pytest.raises(SettingError) as info:
        run_job(get_tool("apply"), _job(tmp_path, frames="1001", strenght=0.5), sink)
    message = str(info.value)
    assert message.startswith("setting 'strenght': model 'conv3' has no control 'strenght' (valid: ")
    assert "strength" in message and "tile" in message and "overlap" in message
    assert sink.events[-1]["type"] == "SettingError"
    assert not (tmp_path / "out").exists()


def test_bad_control_values_and_tiles(tmp_path, models):
    conv_model(models, controls=[Control("strength", "float", 1.0, 0.0, 1.0)])
    _write_plates(tmp_path, frames=(1001,))
    with pytest.raises(SettingError, match=r"'strength': 1.5 is outside \[0.0, 1.0\]"):
        run_job(get_tool("apply"), _job(tmp_path, frames="1001", strength=1.5), ListSink())
    with pytest.raises(SettingError, match="'tile': tile 2 must be a multiple of 1 and larger than twice the overlap 1"):
        run_job(get_tool("apply"), _job(tmp_path, frames="1001", tile=2), ListSink())


def test_fixed_size_models_are_refused(tmp_path, models):
    conv_model(models, fixed_size=(16, 16))
    _write_plates(tmp_path, frames=(1001,))
    with pytest.raises(SettingError, match="takes a fixed 16x16 input; apply runs models that take any size"):
        run_job(get_tool("apply"), _job(tmp_path, frames="1001"), ListSink())


def test_cpu_fallback_is_reported_as_a_warning(tmp_path, models):
    conv_model(models)
    for provider in ("auto", "cpu"):
        spec = _job(tmp_path, frames="1001", provider=provider)
        tool = get_tool("apply")
        tool.check(spec)
        sink = ListSink()
        tool.prepare(spec, sink.emit)
        warnings = sink.of("warning")
        # Where "auto" finds no working GPU (this machine, CI) it must say so; "cpu" is what was asked for.
        assert bool(warnings) == tool.session.fell_back
        if provider == "cpu":
            assert not warnings
        if warnings:
            assert "conv3" in warnings[0]["message"] and "CPU" in warnings[0]["message"]


def test_an_out_of_memory_run_retries_in_smaller_tiles_and_says_so(tmp_path, models, monkeypatch):
    """Tile 0 runs the whole frame when it fits; a device that runs out of memory on it gets tiles instead, the
    job goes on, the frame equals the whole-frame result and one warning says what happened."""
    from matchcut.tools.apply import ApplyTool

    conv_model(models)
    _write_plates(tmp_path, frames=(1001,))
    real = ApplyTool._infer
    sizes = []

    def scarce(self, window):
        sizes.append(window.shape[-2:])
        if max(window.shape[-2:]) > 12:  # this "device" holds at most a 12 px window
            raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory for "
                               "requested buffer of size 2916")
        return real(self, window)

    monkeypatch.setattr(ApplyTool, "_infer", scarce)
    sink = ListSink()
    run_job(get_tool("apply"), _job(tmp_path, frames="1001"), sink)
    np.testing.assert_allclose(_out(tmp_path, 1001).pixels, conv_numpy(_pixels(1001)), atol=1e-5)
    retries = [e["message"] for e in sink.of("warning") if "out of memory" in e["message"]]
    assert retries and all(m.startswith("model 'conv3': out of memory at tile") for m in retries)
    assert max(sizes[0]) > 12 and max(sizes[-1]) <= 12
