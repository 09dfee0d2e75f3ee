"""RIFE in the zoo: the warp, strict weight loading, ONNX export with dynamic H/W, parity with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from matchcut.errors import ConversionError, SettingError  # noqa: E402
from matchcut.models.manifest import manifest_from_dict  # noqa: E402
from matchcut.models.zoo import rife  # noqa: E402
from matchcut.models.zoo.ifnet import IFNet425, IFNetHDv3, load_weights, warp  # noqa: E402


@pytest.fixture(autouse=True)
def _no_grad():
    with torch.no_grad():
        yield


def _photo(height: int, width: int, dy: int = 0, dx: int = 0) -> np.ndarray:
    """A crop of scikit-image's astronaut moved by (dx, dy) from the centre, (height, width, 3) float32 in [0, 1]."""
    import cv2
    from skimage import data

    photo = cv2.resize(data.astronaut(), (320, 320), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    y0, x0 = (320 - height) // 2 + dy, (320 - width) // 2 + dx
    return np.ascontiguousarray(photo[y0 : y0 + height, x0 : x0 + width])


# --- the warp ------------------------------------------------------------------------------------------


def test_warp_with_zero_flow_returns_the_image():
    image = torch.from_numpy(_photo(40, 56).transpose(2, 0, 1)[None].copy())
    out = warp(image, torch.zeros(1, 2, 40, 56))
    assert out.shape == image.shape
    assert torch.max(torch.abs(out - image)).item() < 1e-5


def test_warp_with_integer_flow_shifts_exactly_in_the_interior():
    image = torch.from_numpy(_photo(40, 56).transpose(2, 0, 1)[None].copy())
    dx, dy = 3, -2
    flow = torch.zeros(1, 2, 40, 56)
    flow[:, 0], flow[:, 1] = dx, dy
    out = warp(image, flow)
    # out(x, y) = image(x + dx, y + dy) wherever that source pixel exists
    expected = image[:, :, 0 : 40 + dy, dx:56]
    got = out[:, :, -dy:40, 0 : 56 - dx]
    assert torch.max(torch.abs(got - expected)).item() < 1e-5
    # and the border rows/columns clamp to the edge instead of sampling black
    assert torch.allclose(out[:, :, 0, 0 : 56 - dx], image[:, :, 0, dx:56], atol=1e-5)


def test_warp_keeps_the_grid_in_float32_for_half_inputs():
    # A half-precision image must be sampled at the same (float32) places as the float32 image. At 2048 px
    # wide an fp16 grid would misplace samples by up to half a pixel: errors of ~0.25 on this noise.
    image = torch.rand(1, 3, 4, 2048, generator=torch.Generator().manual_seed(1))
    flow = torch.full((1, 2, 4, 2048), 0.37)
    half = warp(image.half(), flow.half())
    assert half.dtype == torch.float16
    reference = warp(image.half().float(), flow.half().float())
    assert torch.max(torch.abs(half.float() - reference)).item() < 1e-3


# --- the networks, no weights ---------------------------------------------------------------------------


def test_hdv3_accepts_only_the_middle_timestep():
    model = IFNetHDv3().eval()
    frames = torch.rand(1, 3, 64, 64)
    with pytest.raises(SettingError, match="timestep"):
        model(frames, frames, 0.25)


def test_unsupported_scale_and_size_raise_setting_errors():
    with pytest.raises(SettingError, match="scale"):
        IFNet425(scale=0.3)
    model = IFNet425(scale=0.5).eval()
    assert model.size_multiple == 128
    frames = torch.rand(1, 3, 64, 128)
    with pytest.raises(SettingError, match="multiples of 128"):
        model(frames, frames, 0.5)


def _tiny(with_timestep: bool, scale: float = 1.0):
    """A randomly initialised IFNet of the right structure but few channels: quick to export and run."""
    torch.manual_seed(0)
    model = IFNet425(scale, widths=(24, 16, 16, 16, 8)) if with_timestep else IFNetHDv3(scale, width=16)
    return model.eval()


@pytest.mark.parametrize("with_timestep", [False, True])
def test_export_of_a_random_ifnet_runs_at_other_sizes(tmp_path, with_timestep):
    model = _tiny(with_timestep)
    path = rife.export_onnx(model, tmp_path / "ifnet.onnx", with_timestep=with_timestep)

    import onnx
    import onnxruntime as ort

    graph = onnx.load(str(path)).graph
    assert "GridSample" in {node.op_type for node in graph.node}
    assert [i.name for i in graph.input] == (["img0", "img1", "timestep"] if with_timestep else ["img0", "img1"])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    # Two sizes the export never saw (it traced 64x128): H and W must really be dynamic.
    for height, width in ((128, 192), (192, 64)):
        img0, img1 = torch.rand(1, 3, height, width), torch.rand(1, 3, height, width)
        feeds = {"img0": img0.numpy(), "img1": img1.numpy()}
        args = [img0, img1]
        if with_timestep:
            feeds["timestep"] = np.full((1, 1, 1, 1), 0.3, np.float32)
            args.append(torch.full((1, 1, 1, 1), 0.3))
        (out,) = session.run(["frame"], feeds)
        assert out.shape == (1, 3, height, width)
        assert np.max(np.abs(out - model(*args).numpy())) < 1e-4
    assert rife.check_parity(model, path, timesteps=(0.5, 0.8)) < rife.PARITY_TOLERANCE


@pytest.mark.parametrize("with_timestep", [False, True])
def test_exported_flow_and_weight_rebuild_the_frame(tmp_path, with_timestep):
    """The graph's flow and weight are the ones that made its frame: warping the inputs by them and mixing
    by the weight gives the frame output back, so a channel carried the same way moves with the picture."""
    import onnxruntime as ort

    from matchcut.models.zoo.ifnet import warp

    model = _tiny(with_timestep)
    path = rife.export_onnx(model, tmp_path / "ifnet.onnx", with_timestep=with_timestep)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == list(rife.OUTPUTS)
    img0, img1 = (torch.from_numpy(f[None]) for f in rife.sample_pair(128, 192))
    feeds = {"img0": img0.numpy(), "img1": img1.numpy()}
    if with_timestep:
        feeds["timestep"] = np.full((1, 1, 1, 1), 0.3, np.float32)
    frame, flow, weight = session.run(list(rife.OUTPUTS), feeds)
    assert flow.shape == (1, 4, 128, 192) and weight.shape == (1, 1, 128, 192)
    assert 0.0 <= weight.min() and weight.max() <= 1.0
    flow_t, weight_t = torch.from_numpy(flow), torch.from_numpy(weight)
    rebuilt = warp(img0, flow_t[:, :2]) * weight_t + warp(img1, flow_t[:, 2:4]) * (1 - weight_t)
    assert np.max(np.abs(rebuilt.numpy() - frame)) < 1e-5


def test_export_refuses_a_timestep_input_for_hdv3(tmp_path):
    with pytest.raises(ConversionError, match="no timestep"):
        rife.export_onnx(IFNetHDv3(), tmp_path / "hdv3.onnx", with_timestep=True)


def test_builder_needs_the_weights_role(tmp_path):
    with pytest.raises(ConversionError, match="role 'weights'.*licence"):
        rife.build_rife_425({"licence": tmp_path / "LICENSE"}, tmp_path / "rife.onnx", lambda line: None)


def test_builder_fields_make_a_valid_manifest():
    fields = rife.manifest_fields(with_timestep=True, size_multiple=64, description="v4.25",
                                  variants={"half_scale": rife.HALF_SCALE_ID})
    manifest = manifest_from_dict({"id": "rife-4.25", "version": "0.14.0", "file": "rife-4.25.onnx",
                                   "sha256": "0" * 64, "licence": "MIT", **fields})
    assert manifest.task == "interpolation"
    assert [t.name for t in manifest.inputs] == ["img0", "img1", "timestep"]
    assert manifest.runtime.size_multiple == 64 and manifest.runtime.temporal_window == 2
    assert manifest.runtime.tileable is False
    assert manifest.runtime.variants == {"half_scale": "rife-4.25-half"}
    assert [t.name for t in manifest.outputs] == ["frame", "flow", "weight"]
    assert manifest.outputs[1].channels == ("x0", "y0", "x1", "y1")


# --- weight loading ------------------------------------------------------------------------------------


def test_half_scale_export_needs_and_accepts_multiples_of_128(tmp_path):
    model = _tiny(True, scale=0.5)
    path = rife.export_onnx(model, tmp_path / "half.onnx", with_timestep=True)
    assert rife.check_parity(model, path, timesteps=(0.25,), size=(128, 256)) < rife.PARITY_TOLERANCE


def test_load_weights_strips_module_prefix_and_reports_unused(tmp_path):
    source = IFNetHDv3()
    state = {f"module.{k}": v + 1.0 for k, v in source.state_dict().items()}
    state["module.block_tea.extra.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "flownet.pkl")
    model = IFNetHDv3()
    unused = load_weights(model, tmp_path / "flownet.pkl")
    assert unused == ["block_tea.extra.weight"]
    key = "block0.conv0.0.0.weight"
    assert torch.equal(model.state_dict()[key], source.state_dict()[key] + 1.0)


def test_load_weights_refuses_missing_keys_wrong_shapes_and_pickled_objects(tmp_path):
    state = IFNet425().state_dict()
    del state["encode.cnn0.weight"]
    torch.save(state, tmp_path / "missing.pkl")
    with pytest.raises(ConversionError, match="missing encode.cnn0.weight"):
        load_weights(IFNet425(), tmp_path / "missing.pkl")

    state = IFNet425().state_dict()
    state["encode.cnn0.bias"] = torch.zeros(5)
    torch.save(state, tmp_path / "shape.pkl")
    with pytest.raises(ConversionError, match="encode.cnn0.bias has shape"):
        load_weights(IFNet425(), tmp_path / "shape.pkl")

    # An arbitrary pickled object: weights_only=True refuses it, nothing is executed.
    torch.save({"weights": ConversionError("not a tensor")}, tmp_path / "object.pkl")
    with pytest.raises(ConversionError, match="weights-only"):
        load_weights(IFNet425(), tmp_path / "object.pkl")


# --- the original weights (installed zoo) ----------------------------------------------------------------

_MODELS = {
    "rife-hdv3": (IFNetHDv3, 1.0, {"block_tea"}),
    "rife-4.25": (IFNet425, 1.0, {"teacher", "caltime"}),
    "rife-4.25-half": (IFNet425, 0.5, {"teacher", "caltime"}),
}


def _original(model_id: str):
    from matchcut.models.zoo.install import source_member

    cls, scale, _ = _MODELS[model_id]
    model = cls(scale=scale)
    unused = load_weights(model, source_member(model_id, "weights"))
    return model, unused


@pytest.mark.zoo
@pytest.mark.parametrize("model_id", ["rife-hdv3", "rife-4.25"])
def test_original_weights_load_strictly(model_id):
    model, unused = _original(model_id)  # load_weights raises on any missing key or shape
    assert {key.split(".")[0] for key in unused} == _MODELS[model_id][2]
    assert unused, "the published files carry training-only tensors"
    # every parameter came from the file: none is left at its initial value of one (ResConv beta) or zero
    assert all(not torch.all(p == p.flatten()[0]) for name, p in model.named_parameters() if p.numel() > 1)


@pytest.mark.zoo
@pytest.mark.parametrize("model_id, timestep", [("rife-hdv3", 0.5), ("rife-4.25", 0.5), ("rife-4.25", 0.25),
                                                ("rife-4.25-half", 0.5)])
def test_installed_onnx_matches_our_pytorch_model(zoo_model, model_id, timestep):
    import onnxruntime as ort

    manifest = zoo_model(model_id)
    model, _ = _original(model_id)
    multiple = manifest.runtime.size_multiple
    assert multiple == model.size_multiple
    height, width = 200, 300  # not a multiple: padded like the runtime pads
    padded_h, padded_w = -(-height // multiple) * multiple, -(-width // multiple) * multiple
    frame0, frame1 = _photo(height, width, -2, 3), _photo(height, width, 3, -4)  # a real photo, moved

    def nchw(frame):
        padded = np.pad(frame, ((0, padded_h - height), (0, padded_w - width), (0, 0)), mode="edge")
        return np.ascontiguousarray(padded.transpose(2, 0, 1)[None])

    feeds = {"img0": nchw(frame0), "img1": nchw(frame1)}
    args = [torch.from_numpy(feeds["img0"]), torch.from_numpy(feeds["img1"])]
    if model.has_timestep:
        feeds["timestep"] = np.full((1, 1, 1, 1), timestep, np.float32)
        args.append(torch.full((1, 1, 1, 1), timestep))
    session = ort.InferenceSession(str(manifest.onnx_path), providers=["CPUExecutionProvider"])
    (out,) = session.run(["frame"], feeds)
    assert out.shape == (1, 3, padded_h, padded_w)
    assert np.max(np.abs(out - model(*args).numpy())) < 1e-4
