"""matchcut.models.zoo.half: fp16 variants with the sampling grid kept fp32, checked against fp32 on a photo."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.models.zoo import half


def _warp_model(path):
    """A miniature RIFE warp: flow = conv(x) (2 channels), grid = base + flow (normalised), out = GridSample(x,
    grid) * 0.5 + conv2(x). float32 [1, 3, 16, 16]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    ys, xs = np.meshgrid(np.linspace(-1, 1, 16), np.linspace(-1, 1, 16), indexing="ij")
    base = np.stack([xs, ys], -1)[None].astype(np.float32)  # (1, 16, 16, 2)
    inits = [numpy_helper.from_array(rng.standard_normal((2, 3, 3, 3)).astype(np.float32) * 0.01, "wf"),
             numpy_helper.from_array(rng.standard_normal((3, 3, 3, 3)).astype(np.float32) * 0.1, "w2"),
             numpy_helper.from_array(base, "base"), numpy_helper.from_array(np.array(0.5, np.float32), "half"),
             numpy_helper.from_array(np.array(0.1, np.float32), "norm")]
    nodes = [helper.make_node("Conv", ["x", "wf"], ["flow"], pads=[1, 1, 1, 1], name="flow_conv"),
             helper.make_node("Transpose", ["flow"], ["flow_t"], perm=[0, 2, 3, 1], name="flow_t"),
             helper.make_node("Mul", ["flow_t", "norm"], ["flow_n"], name="flow_norm"),
             helper.make_node("Add", ["base", "flow_n"], ["grid"], name="grid_add"),
             helper.make_node("GridSample", ["x", "grid"], ["warped"], align_corners=1, name="warp"),
             helper.make_node("Mul", ["warped", "half"], ["w_half"], name="blend_mul"),
             helper.make_node("Conv", ["x", "w2"], ["c2"], pads=[1, 1, 1, 1], name="body_conv"),
             helper.make_node("Add", ["w_half", "c2"], ["y"], name="out_add")]
    graph = helper.make_graph(nodes, "warp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 16, 16])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_grid_nodes_are_the_arithmetic_from_the_flow_to_the_grid(tmp_path):
    import onnx

    _warp_model(tmp_path / "warp.onnx")
    assert half.grid_nodes(onnx.load(str(tmp_path / "warp.onnx"))) == ["flow_norm", "flow_t", "grid_add"]


def test_convert_keeps_io_and_the_warp_fp32_and_the_body_fp16(tmp_path):
    import onnx
    import onnxruntime

    src, dst = tmp_path / "warp.onnx", tmp_path / "warp.fp16.onnx"
    _warp_model(src)
    kept = half.convert(src, dst)
    assert kept == ["flow_norm", "flow_t", "grid_add"]
    model = onnx.load(str(dst))
    f32, f16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
    assert model.graph.input[0].type.tensor_type.elem_type == f32 and model.graph.output[0].type.tensor_type.elem_type == f32
    inits = {t.name: t.data_type for t in model.graph.initializer}
    assert inits["w2"] == f16 and inits["wf"] == f16  # the network body is half precision
    assert inits["base"] == f32  # the sampling grid's base coordinates are not
    ops = {n.name: n.op_type for n in model.graph.node}
    assert "warp" in ops and any(op == "Cast" for op in ops.values())
    x = np.random.default_rng(2).random((1, 3, 16, 16), dtype=np.float32)
    so = onnxruntime.SessionOptions()
    so.intra_op_num_threads = 1
    ref = onnxruntime.InferenceSession(str(src), so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    got = onnxruntime.InferenceSession(str(dst), so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert got.dtype == np.float32 and np.abs(got - ref).max() < 5e-3


def test_repair_drops_twin_casts_renames_and_sorts():
    import onnx
    from onnx import TensorProto, helper

    cast = lambda name: helper.make_node("Cast", ["x"], ["x32"], to=TensorProto.FLOAT, name=name)  # noqa: E731
    nodes = [helper.make_node("Add", ["x32", "x32"], ["a"], name="n"), cast("c"), cast("c"),
             helper.make_node("Add", ["a", "a"], ["y"], name="n")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    half._repair(model)
    onnx.checker.check_model(model)
    assert [n.name for n in model.graph.node] == ["c", "n", "n_1"]


def test_a_model_without_a_check_stays_fp32_and_says_why(tmp_path):
    fields = half.fp16_fields("face-detection", "face-detection", tmp_path / "missing.onnx", lambda _: None)
    assert fields["fp16"] is False and "fp16_file" not in fields
    assert fields["fp16_note"].startswith("stays fp32: no fp16 check for 'face-detection'")


def test_a_variant_that_fails_the_check_is_removed_and_the_note_says_why(tmp_path, monkeypatch):
    src = tmp_path / "warp.onnx"
    _warp_model(src)
    monkeypatch.setattr(half, "check_quality", lambda task, fp32, fp16: (40.0, 39.5))
    said = []
    fields = half.fp16_fields("warp", "interpolation", src, said.append)
    assert fields == {"fp16": False, "fp16_note": "stays fp32: fp16 loses 0.500 dB (limit 0.1 dB): PSNR 40.00 dB "
                                                  "fp32 -> 39.50 dB fp16 on the check photo (CPU check, 3 "
                                                  "sampling-grid nodes kept fp32)"}
    assert not (tmp_path / "warp.fp16.onnx").exists() and said == ["warp: fp16 variant loses 0.500 dB; keeping fp32"]


def test_a_variant_that_passes_is_kept_with_its_sha256(tmp_path, monkeypatch):
    from matchcut.models.manifest import sha256_file

    src = tmp_path / "warp.onnx"
    _warp_model(src)
    monkeypatch.setattr(half, "check_quality", lambda task, fp32, fp16: (40.0, 39.95))
    fields = half.fp16_fields("warp", "interpolation", src, lambda _: None)
    out = tmp_path / "warp.fp16.onnx"
    assert fields["fp16"] is True and fields["fp16_file"] == out.name and fields["fp16_sha256"] == sha256_file(out)
    assert fields["fp16_note"].endswith("change -0.050 dB")


def test_a_conversion_that_fails_keeps_fp32(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    fields = half.fp16_fields("bad", "interpolation", bad, lambda _: None)
    assert fields["fp16"] is False and fields["fp16_note"].startswith("stays fp32: the fp16 conversion failed (")
    assert "\n" not in fields["fp16_note"] and not (tmp_path / "bad.fp16.onnx").exists()


@pytest.mark.zoo
def test_the_installed_degrain_variant_holds_within_a_tenth_of_a_db(zoo_model):
    m = zoo_model("degrain-small")
    assert m.runtime.fp16 and m.fp16_path is not None and m.fp16_path.is_file()
    ref_db, half_db = half.check_quality(m.task, m.onnx_path, m.fp16_path)
    assert ref_db > 28.0  # a real denoise of the held-out photo, not a degenerate output
    assert ref_db - half_db < half.QUALITY_TOLERANCE_DB


@pytest.mark.zoo
def test_every_installed_zoo_model_says_how_fp16_went_and_has_a_memory_figure(zoo_model):
    from matchcut.models.zoo import catalog

    for model_id in catalog.CATALOG:
        m = zoo_model(model_id)
        note = m.runtime.fp16_note
        assert note and "\n" not in note
        assert note.startswith("fp16 variant used on GPUs") == m.runtime.fp16 == (m.fp16_path is not None)
        assert m.runtime.memory_mb is not None and m.runtime.memory_mb_per_mpix is not None
        if m.runtime.fixed_size is None:  # full-resolution models: activations grow with the frame
            assert m.runtime.memory_mb_per_mpix > 50.0
