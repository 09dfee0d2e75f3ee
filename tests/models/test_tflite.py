"""The TFLite -> ONNX converter: tiny flatbuffers written in the test, run by onnxruntime and by LiteRT.

LiteRT (``ai-edge-litert``, Google's TFLite runtime) is the independent reference: every op the converter
maps is checked on a small graph with awkward shapes (odd sizes, strides, SAME padding), then the four
MediaPipe models are checked end to end on a real photograph (zoo-marked).
"""

from __future__ import annotations

import importlib.util
import json
import struct

import flatbuffers
import numpy as np
import pytest
import tflite

from matchcut.errors import ConversionError
from matchcut.models.zoo.tflite import convert_tflite, op_census, read_tessellation

# --- a minimal TFLite flatbuffer writer (the schema package's builder functions) ---------------------------

_TYPES = {np.float32: tflite.TensorType.FLOAT32, np.float16: tflite.TensorType.FLOAT16, np.int32: tflite.TensorType.INT32}


def write_tflite(path, tensors, ops, inputs, outputs):
    """Write a one-subgraph TFLite model.

    tensors: [(name, shape, dtype, data or None)]; ops: [(op name or "CUSTOM:code", inputs, outputs, options)]
    where options is None, ("Conv2DOptions", {"Padding": 0, ...}) or raw bytes for a custom op.
    """
    b = flatbuffers.Builder(1024)
    codes = sorted({op[0] for op in ops})
    buffers = [None] + [t[3] for t in tensors if t[3] is not None]
    buffer_offsets = []
    for data in buffers:
        vec = None if data is None else b.CreateNumpyVector(np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8))
        tflite.BufferStart(b)
        if vec is not None:
            tflite.BufferAddData(b, vec)
        buffer_offsets.append(tflite.BufferEnd(b))
    tensor_offsets, buf_idx = [], 1
    for name, shape, dtype, data in tensors:
        name_off = b.CreateString(name)
        shape_off = b.CreateNumpyVector(np.array(shape, np.int32))
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape_off)
        tflite.TensorAddType(b, _TYPES[dtype])
        tflite.TensorAddName(b, name_off)
        if data is not None:
            tflite.TensorAddBuffer(b, buf_idx)
            buf_idx += 1
        tensor_offsets.append(tflite.TensorEnd(b))
    code_offsets = []
    for code in codes:
        custom = b.CreateString(code[7:]) if code.startswith("CUSTOM:") else None
        value = 32 if custom else getattr(tflite.BuiltinOperator, code)
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(value, 127))
        tflite.OperatorCodeAddBuiltinCode(b, value)
        if custom:
            tflite.OperatorCodeAddCustomCode(b, custom)
        code_offsets.append(tflite.OperatorCodeEnd(b))
    op_offsets = []
    for name, ins, outs, options in ops:
        ins_off, outs_off = b.CreateNumpyVector(np.array(ins, np.int32)), b.CreateNumpyVector(np.array(outs, np.int32))
        opt_off = custom_off = None
        if isinstance(options, bytes):
            custom_off = b.CreateNumpyVector(np.frombuffer(options, np.uint8))
        elif options is not None:
            kind, fields = options
            getattr(tflite, f"{kind}Start")(b)
            for field, value in fields.items():
                getattr(tflite, f"{kind}Add{field}")(b, value)
            opt_off = getattr(tflite, f"{kind}End")(b)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, codes.index(name))
        tflite.OperatorAddInputs(b, ins_off)
        tflite.OperatorAddOutputs(b, outs_off)
        if opt_off is not None:
            tflite.OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, options[0]))
            tflite.OperatorAddBuiltinOptions(b, opt_off)
        if custom_off is not None:
            tflite.OperatorAddCustomOptions(b, custom_off)
        op_offsets.append(tflite.OperatorEnd(b))

    def vector(start, items, scalar=False):
        start(b, len(items))
        for item in reversed(items):
            b.PrependInt32(item) if scalar else b.PrependUOffsetTRelative(item)
        return b.EndVector()

    t_vec = vector(tflite.SubGraphStartTensorsVector, tensor_offsets)
    i_vec = vector(tflite.SubGraphStartInputsVector, inputs, scalar=True)
    o_vec = vector(tflite.SubGraphStartOutputsVector, outputs, scalar=True)
    op_vec = vector(tflite.SubGraphStartOperatorsVector, op_offsets)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, t_vec)
    tflite.SubGraphAddInputs(b, i_vec)
    tflite.SubGraphAddOutputs(b, o_vec)
    tflite.SubGraphAddOperators(b, op_vec)
    sub = tflite.SubGraphEnd(b)
    sub_vec = vector(tflite.ModelStartSubgraphsVector, [sub])
    code_vec = vector(tflite.ModelStartOperatorCodesVector, code_offsets)
    buf_vec = vector(tflite.ModelStartBuffersVector, buffer_offsets)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, code_vec)
    tflite.ModelAddSubgraphs(b, sub_vec)
    tflite.ModelAddBuffers(b, buf_vec)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    path.write_bytes(b.Output())
    return path


def run_onnx(path, feeds):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def run_litert(path, arrays):
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    it = litert.Interpreter(model_path=str(path))
    it.allocate_tensors()
    for detail, array in zip(it.get_input_details(), arrays, strict=True):
        it.set_tensor(detail["index"], array)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def assert_matches_litert(tmp_path, tfl, inputs, atol=1e-5):
    onnx_path = tmp_path / "model.onnx"
    report = convert_tflite(tfl, onnx_path)
    ours = run_onnx(onnx_path, {name: x for (name, _), x in zip(report.inputs, inputs, strict=True)})
    ref = run_litert(tfl, inputs)
    assert len(ours) == len(ref)
    for a, r in zip(ours, ref, strict=True):
        assert a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=atol)
    return report


RNG = np.random.default_rng(7)


def rand(*shape, dtype=np.float32):
    return RNG.uniform(-1, 1, shape).astype(dtype)


def f32(name, shape, data=None):
    return (name, shape, np.float32, data)


# --- one op at a time, against LiteRT ---------------------------------------------------------------------


@pytest.mark.parametrize("padding, stride, act", [(0, 2, 3), (0, 1, 1), (1, 2, 0)])
def test_conv2d_same_valid_strides_and_fused_activation(tmp_path, padding, stride, act):
    # 9x7 input: SAME with stride 2 needs TFLite's asymmetric padding (the odd pixel after)
    h, w = 9, 7
    oh, ow = (-(-h // stride), -(-w // stride)) if padding == 0 else ((h - 3) // stride + 1, (w - 3) // stride + 1)
    tensors = [f32("x", [1, h, w, 3]), f32("w", [4, 3, 3, 3], rand(4, 3, 3, 3)), f32("b", [4], rand(4)), f32("y", [1, oh, ow, 4])]
    opts = ("Conv2DOptions", {"Padding": padding, "StrideW": stride, "StrideH": stride, "FusedActivationFunction": act,
                              "DilationWFactor": 1, "DilationHFactor": 1})
    tfl = write_tflite(tmp_path / "conv.tflite", tensors, [("CONV_2D", [0, 1, 2], [3], opts)], [0], [3])
    report = assert_matches_litert(tmp_path, tfl, [rand(1, h, w, 3)])
    assert report.ops == {"CONV_2D": 1}


def test_depthwise_conv_with_fp16_weights_folded(tmp_path):
    # fp16 weights behind DEQUANTIZE, as in MediaPipe's models; output channels = 2 x input (multiplier 2)
    tensors = [f32("x", [1, 8, 5, 3]), ("w16", [1, 3, 3, 6], np.float16, rand(1, 3, 3, 6, dtype=np.float16)),
               f32("w", [1, 3, 3, 6]), f32("b", [6], rand(6)), f32("y", [1, 4, 3, 6])]
    opts = ("DepthwiseConv2DOptions", {"Padding": 0, "StrideW": 2, "StrideH": 2, "DepthMultiplier": 2,
                                       "DilationWFactor": 1, "DilationHFactor": 1})
    ops = [("DEQUANTIZE", [1], [2], None), ("DEPTHWISE_CONV_2D", [0, 2, 3], [4], opts)]
    tfl = write_tflite(tmp_path / "dw.tflite", tensors, ops, [0], [4])
    report = assert_matches_litert(tmp_path, tfl, [rand(1, 8, 5, 3)])
    assert report.fp16_folded == 1


@pytest.mark.parametrize("kind, padding", [("AVERAGE_POOL_2D", 0), ("MAX_POOL_2D", 0), ("AVERAGE_POOL_2D", 1)])
def test_pooling(tmp_path, kind, padding):
    # SAME average pooling at the border averages only real pixels in TFLite
    oh, ow = (4, 3) if padding == 0 else (3, 2)
    tensors = [f32("x", [1, 7, 5, 2]), f32("y", [1, oh, ow, 2])]
    opts = ("Pool2DOptions", {"Padding": padding, "StrideW": 2, "StrideH": 2, "FilterWidth": 3, "FilterHeight": 3})
    tfl = write_tflite(tmp_path / "pool.tflite", tensors, [(kind, [0], [1], opts)], [0], [1])
    assert_matches_litert(tmp_path, tfl, [rand(1, 7, 5, 2)])


@pytest.mark.parametrize("align, half", [(False, False), (True, False), (False, True)])
def test_resize_bilinear_coordinate_modes(tmp_path, align, half):
    tensors = [f32("x", [1, 5, 7, 2]), ("size", [2], np.int32, np.array([11, 9], np.int32)), f32("y", [1, 11, 9, 2])]
    opts = ("ResizeBilinearOptions", {"AlignCorners": align, "HalfPixelCenters": half})
    tfl = write_tflite(tmp_path / "resize.tflite", tensors, [("RESIZE_BILINEAR", [0, 1], [2], opts)], [0], [2])
    assert_matches_litert(tmp_path, tfl, [rand(1, 5, 7, 2)])


def test_elementwise_and_activations_broadcast_over_channels(tmp_path):
    # ADD of a per-channel constant, MUL by a [1,1,1,C] activation (squeeze-excite style), PRELU, HARD_SWISH,
    # LOGISTIC, RELU6: constants must be moved to NCHW for broadcasting
    tensors = [f32("x", [1, 6, 5, 4]), f32("c", [4], rand(4)), f32("a", [1, 6, 5, 4]),
               f32("m", [1, 1, 1, 4]), f32("s", [1, 1, 1, 4]), f32("mul", [1, 6, 5, 4]),
               f32("alpha", [1, 1, 4], rand(1, 1, 4)), f32("p", [1, 6, 5, 4]), f32("hs", [1, 6, 5, 4]),
               f32("r6", [1, 6, 5, 4]), f32("y", [1, 6, 5, 4]),
               ("axes", [2], np.int32, np.array([1, 2], np.int32))]
    ops = [
        ("ADD", [0, 1], [2], ("AddOptions", {"FusedActivationFunction": 0})),
        ("MEAN", [2, 11], [3], ("ReducerOptions", {"KeepDims": True})),
        ("LOGISTIC", [3], [4], None),
        ("MUL", [2, 4], [5], ("MulOptions", {"FusedActivationFunction": 0})),
        ("PRELU", [5, 6], [7], None),
        ("HARD_SWISH", [7], [8], None),
        ("RELU6", [8], [9], None),
        ("RELU", [9], [10], None),
    ]
    tfl = write_tflite(tmp_path / "ew.tflite", tensors, ops, [0], [10])
    x = rand(1, 6, 5, 4) * 8
    assert_matches_litert(tmp_path, tfl, [x])


def test_mean_without_keepdims_reshape_concat_pad(tmp_path):
    # NHWC axes must be remapped: MEAN over H,W without keep_dims, CONCATENATION on the channel axis of 4-D
    # tensors, PAD of H and W, RESHAPE to a 3-D tensor (as BlazeFace's head does)
    tensors = [f32("x", [1, 4, 6, 3]), ("pads", [4, 2], np.int32, np.array([[0, 0], [1, 2], [0, 1], [0, 0]], np.int32)),
               f32("p", [1, 7, 7, 3]), f32("cat", [1, 7, 7, 6]), f32("r", [1, 98, 3]),
               ("axes", [2], np.int32, np.array([1, 2], np.int32)), f32("m", [1, 6]),
               ("shape", [3], np.int32, np.array([1, 98, 3], np.int32)), f32("q", [1, 7, 7, 3])]
    ops = [
        ("PAD", [0, 1], [2], None),
        ("LOGISTIC", [2], [8], None),
        ("CONCATENATION", [2, 8], [3], ("ConcatenationOptions", {"Axis": -1, "FusedActivationFunction": 0})),
        ("RESHAPE", [3, 7], [4], None),
        ("MEAN", [3, 5], [6], ("ReducerOptions", {"KeepDims": False})),
    ]
    tfl = write_tflite(tmp_path / "shape.tflite", tensors, ops, [0], [4, 6])
    assert_matches_litert(tmp_path, tfl, [rand(1, 4, 6, 3)])


@pytest.mark.parametrize("padding, k, stride, out", [(1, 2, 2, (10, 14)), (2, 3, 2, (11, 15)), (1, 3, 2, (10, 14)),
                                                     (1, 4, 2, (10, 14))])
def test_mediapipe_transpose_conv_bias(tmp_path, padding, k, stride, out):
    # MediaPipe's custom op: options are three int32 (padding 1 SAME / 2 VALID, stride_w, stride_h); kernel OHWI
    tensors = [f32("x", [1, 5, 7, 3]), f32("w", [2, k, k, 3], rand(2, k, k, 3)), f32("b", [2], rand(2)),
               f32("y", [1, *out, 2])]
    opts = struct.pack("<3i", padding, stride, stride)
    tfl = write_tflite(tmp_path / "convt.tflite", tensors, [("CUSTOM:Convolution2DTransposeBias", [0, 1, 2], [3], opts)], [0], [3])
    x = rand(1, 5, 7, 3)
    onnx_path = tmp_path / "convt.onnx"
    convert_tflite(tfl, onnx_path)
    (ours,) = run_onnx(onnx_path, {"x": x})
    # independent reference in NumPy: scatter each input pixel's kernel, then crop TF's SAME padding
    w, bias = tensors[1][3], tensors[2][3]
    full = np.zeros((1, (5 - 1) * stride + k, (7 - 1) * stride + k, 2), np.float32)
    for i in range(5):
        for j in range(7):
            full[0, i * stride : i * stride + k, j * stride : j * stride + k] += np.einsum("c,ohwc->hwo", x[0, i, j], w)
    top, left = (max(full.shape[1] - out[0], 0) // 2, max(full.shape[2] - out[1], 0) // 2)
    ref = np.zeros((1, *out, 2), np.float32)
    crop = full[:, top : top + out[0], left : left + out[1]]
    ref[:, : crop.shape[1], : crop.shape[2]] = crop
    np.testing.assert_allclose(ours, ref + bias, rtol=1e-5, atol=1e-5)
    if importlib.util.find_spec("ai_edge_litert") is not None:  # LiteRT runs this op through XNNPack
        np.testing.assert_allclose(ours, run_litert(tfl, [x])[0], rtol=1e-5, atol=1e-5)


# --- errors ---------------------------------------------------------------------------------------------------


def test_unsupported_op_names_file_op_and_supported_list(tmp_path):
    tensors = [f32("x", [1, 4]), f32("y", [1, 4])]
    tfl = write_tflite(tmp_path / "softmax.tflite", tensors, [("SOFTMAX", [0], [1], ("SoftmaxOptions", {"Beta": 1.0}))], [0], [1])
    with pytest.raises(ConversionError) as err:
        convert_tflite(tfl, tmp_path / "out.onnx")
    msg = str(err.value)
    assert str(tfl) in msg and "SOFTMAX" in msg and "CONV_2D" in msg and "CUSTOM:Convolution2DTransposeBias" in msg
    assert "\n" not in msg
    assert not (tmp_path / "out.onnx").exists()


def test_unknown_custom_op_is_named(tmp_path):
    tensors = [f32("x", [1, 4]), f32("y", [1, 4])]
    tfl = write_tflite(tmp_path / "custom.tflite", tensors, [("CUSTOM:Landmarks2TransformMatrix", [0], [1], b"")], [0], [1])
    with pytest.raises(ConversionError, match="CUSTOM:Landmarks2TransformMatrix"):
        convert_tflite(tfl, tmp_path / "out.onnx")
    assert op_census(tfl) == {"CUSTOM:Landmarks2TransformMatrix": 1}


def test_not_a_tflite_file(tmp_path):
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ConversionError, match="not a TFLite flatbuffer"):
        convert_tflite(bad, tmp_path / "out.onnx")
    with pytest.raises(ConversionError, match="cannot read"):
        convert_tflite(tmp_path / "missing.tflite", tmp_path / "out.onnx")


def test_io_names_and_nhwc_layout_kept(tmp_path):
    import onnx

    tensors = [f32("in_raw", [1, 4, 3, 2]), f32("out_raw", [1, 4, 3, 2])]
    tfl = write_tflite(tmp_path / "relu.tflite", tensors, [("RELU", [0], [1], None)], [0], [1])
    report = convert_tflite(tfl, tmp_path / "relu.onnx", input_name="input", output_names=["mask"])
    model = onnx.load(str(tmp_path / "relu.onnx"))
    assert [i.name for i in model.graph.input] == ["input"] and [o.name for o in model.graph.output] == ["mask"]
    assert model.opset_import[0].version == 17
    assert report.inputs == (("input", (1, 4, 3, 2)),)
    x = rand(1, 4, 3, 2)
    np.testing.assert_array_equal(run_onnx(tmp_path / "relu.onnx", {"input": x})[0], np.maximum(x, 0))
    with pytest.raises(ConversionError, match="output name 'input' is used twice"):
        convert_tflite(tfl, tmp_path / "clash.onnx", input_name="input", output_names=["input"])


def test_tessellation_is_read_as_data_not_executed(tmp_path):
    src = tmp_path / "face_mesh_connections.py"
    # a side effect that would show if the file were executed
    src.write_text("raise SystemExit('executed')\nFACEMESH_TESSELATION = frozenset([(0, 1), (1, 2), (2, 0), (2, 1), (1, 3), (3, 2)])\n")
    tess = read_tessellation(src)
    assert tess == {"points": 4, "triangles": [[0, 1, 2], [2, 1, 3]], "edges": [[0, 1], [1, 2], [2, 0], [2, 1], [1, 3], [3, 2]]}
    src.write_text("FACEMESH_TESSELATION = frozenset([(0, 1), (1, 2), (2, 3)])\n")
    with pytest.raises(ConversionError, match="do not close a triangle"):
        read_tessellation(src)


# --- the real MediaPipe models (zoo) ------------------------------------------------------------------------


def _photo(h, w, lo, hi, crop=None):
    """skimage's astronaut (a person, a face) resized to h x w, RGB scaled to [lo, hi], NHWC float32."""
    import cv2
    from skimage import data

    img = data.astronaut()
    if crop is not None:
        img = img[crop]
    elif h != w:  # the landscape model: keep the face, crop to the aspect ratio
        img = img[: int(img.shape[1] * h / w)]
    x = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return (x * (hi - lo) + lo)[None]


ZOO = {
    "selfie-segmentation": (0.0, 1.0),
    "selfie-segmentation-landscape": (0.0, 1.0),
    "face-detection": (-1.0, 1.0),
    "face-landmarks": (0.0, 1.0),
}


@pytest.mark.zoo
@pytest.mark.parametrize("model_id", sorted(ZOO))
def test_zoo_model_matches_litert_on_a_photo(zoo_model, tmp_path, model_id):
    from matchcut.models.zoo.install import source_member

    m = zoo_model(model_id)
    src = source_member(model_id, "model")
    (spec,) = m.inputs
    assert spec.layout == "NHWC" and spec.range == ZOO[model_id]
    x = _photo(*m.runtime.fixed_size, *spec.range)
    ours = run_onnx(m.onnx_path, {spec.name: x})
    ref = run_litert(src, [x])
    for out, a, r in zip(m.outputs, ours, ref, strict=True):
        assert a.shape == r.shape == tuple(out.shape)
        scale = max(1.0, float(np.abs(r).max()))
        assert np.abs(a - r).max() <= 1e-4 * scale, f"{model_id} output {out.name}"
    # the installed file is what this converter writes today
    report = convert_tflite(src, tmp_path / "again.onnx", input_name=spec.name, output_names=[o.name for o in m.outputs])
    np.testing.assert_array_equal(run_onnx(tmp_path / "again.onnx", {spec.name: x})[0], ours[0])
    assert report.ops.get("DEQUANTIZE", 0) == report.fp16_folded > 0


@pytest.mark.zoo
def test_zoo_outputs_make_sense_on_a_photo(zoo_model):
    # the astronaut is a person with a face: the mask covers her, the detector and face mesh fire
    seg = zoo_model("selfie-segmentation")
    (mask,) = run_onnx(seg.onnx_path, {"input": _photo(256, 256, 0, 1)})
    assert 0.2 < float((mask > 0.5).mean()) < 0.9 and mask.min() >= 0 and mask.max() <= 1
    det = zoo_model("face-detection")
    _, scores = run_onnx(det.onnx_path, {"input": _photo(128, 128, -1, 1)})
    assert 1 / (1 + np.exp(-scores.max())) > 0.5
    lm = zoo_model("face-landmarks")
    tess = json.loads(lm.data_path("face-landmarks.tessellation.json").read_text())
    assert tess["points"] == 468 and len(tess["triangles"]) == 852
    face = (slice(20, 240), slice(130, 350))  # the astronaut's face
    points, flag = run_onnx(lm.onnx_path, {"input": _photo(192, 192, 0, 1, face)})
    points = points.reshape(468, 3)
    assert flag.item() > 0 and ((points[:, :2] > 0) & (points[:, :2] < 192)).all()
    _, whole_frame_flag = run_onnx(lm.onnx_path, {"input": _photo(192, 192, 0, 1)})
    assert whole_frame_flag.item() < flag.item()
