"""The ncnn .param/.bin -> ONNX converter: tiny models written in the test, checked against NumPy and the ncnn runtime.

NumPy is the reference for every layer the zoo's networks use (convolution with fused activations, deconvolution,
crop, broadcasting BinaryOp, global pooling, InnerProduct, PReLU, Concat, Eltwise, PixelShuffle, Interp), on
odd sizes and with every weight encoding of the .bin (float16, float32 with either tag, the 256-value table).
The ``ncnn`` pip runtime, where it is installed (it is not a dependency), checks the same files and the zoo's
converted super-resolution models (zoo-marked) end to end on a real photograph.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from matchcut.errors import ConversionError
from matchcut.models.zoo.ncnn import convert_ncnn, layer_census, read_param

_TAGS = {"fp16": 0x01306B47, "fp32": 0, "fp32tag": 0x0002C056, "table": 0x00010203}


def _format(value) -> str:
    return f"{value:.6e}" if isinstance(value, float) else str(value)


def write_ncnn(folder, name, layers):
    """Write ``name``.param and .bin. layers: (type, name, bottoms, tops, params, weights) with params
    {id: int | float | tuple} and weights [(encoding, array)], encoding one of _TAGS or "raw" (untagged
    float32, as biases are). Returns (param path, bin path)."""
    blobs = {b for layer in layers for b in (*layer[2], *layer[3])}
    lines = ["7767517", f"{len(layers)} {len(blobs)}"]
    data = bytearray()
    for kind, lname, bottoms, tops, params, weights in layers:
        pairs = []
        for key, value in params.items():
            if isinstance(value, tuple):
                pairs.append(f"{-23300 - key}={len(value)}," + ",".join(_format(v) for v in value))
            else:
                pairs.append(f"{key}={_format(value)}")
        lines.append(" ".join([f"{kind:<24}", f"{lname:<24}", str(len(bottoms)), str(len(tops)), *bottoms, *tops,
                               *pairs]))
        for encoding, array in weights:
            flat = np.asarray(array, np.float32).ravel()
            if encoding == "raw":
                data += flat.astype("<f4").tobytes()
                continue
            data += struct.pack("<I", _TAGS[encoding])
            if encoding == "fp16":
                blob = flat.astype("<f2").tobytes()
                data += blob + b"\0" * (-len(blob) % 4)
            elif encoding == "table":
                table = np.unique(flat)
                assert len(table) <= 256
                data += np.pad(table, (0, 256 - len(table))).astype("<f4").tobytes()
                index = np.searchsorted(table, flat).astype(np.uint8).tobytes()
                data += index + b"\0" * (-len(index) % 4)
            else:
                data += flat.astype("<f4").tobytes()
    param, binf = folder / f"{name}.param", folder / f"{name}.bin"
    param.write_text("\n".join(lines) + "\n")
    binf.write_bytes(bytes(data))
    return param, binf


# --- NumPy references (CHW, one image) ----------------------------------------------------------------------


def conv(x, w, b=None, stride=1, pads=(0, 0, 0, 0)):
    """x (C, H, W), w (O, C, kh, kw), pads (top, left, bottom, right) of zeros."""
    top, left, bottom, right = pads
    x = np.pad(x, ((0, 0), (top, bottom), (left, right)))
    o, _, kh, kw = w.shape
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((o, oh, ow), np.float64)
    for ky in range(kh):
        for kx in range(kw):
            patch = x[:, ky:ky + stride * (oh - 1) + 1:stride, kx:kx + stride * (ow - 1) + 1:stride]
            out += np.einsum("oc,chw->ohw", w[:, :, ky, kx], patch)
    return out + (0 if b is None else b[:, None, None])


def deconv(x, w, b=None, stride=1, pads=(0, 0, 0, 0)):
    """Transposed convolution with ncnn's weight layout w (O, C, kh, kw); pads cut from the full output."""
    o, _, kh, kw = w.shape
    _, h, wd = x.shape
    full = np.zeros((o, (h - 1) * stride + kh, (wd - 1) * stride + kw), np.float64)
    for ky in range(kh):
        for kx in range(kw):
            full[:, ky:ky + (h - 1) * stride + 1:stride, kx:kx + (wd - 1) * stride + 1:stride] += np.einsum(
                "oc,chw->ohw", w[:, :, ky, kx], x)
    top, left, bottom, right = pads
    full = full[:, top:full.shape[1] - bottom, left:full.shape[2] - right]
    return full + (0 if b is None else b[:, None, None])


def leaky(x, slope):
    return np.where(x > 0, x, x * slope)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def f16(a):
    """What a float16 weight blob holds."""
    return np.asarray(a, np.float32).astype(np.float16).astype(np.float32)


def _rng():
    return np.random.default_rng(7)


def se_block(folder):
    """Real-CUGAN's pieces: conv + leaky ReLU, a squeeze-and-excitation gate (global average pooling, two
    InnerProducts, per-channel BinaryOp), deconvolution, crop by starts/ends/axes, a scalar BinaryOp.
    Returns (param, bin, numpy reference function)."""
    rng = _rng()
    w1, b1 = rng.normal(0, 0.3, (4, 3, 3, 3)), rng.normal(0, 0.1, 4)
    fc1, fb1 = rng.normal(0, 0.5, (2, 4)), rng.normal(0, 0.1, 2)
    fc2, fb2 = rng.normal(0, 0.5, (4, 2)), rng.normal(0, 0.1, 4)
    wd = rng.integers(-8, 8, (4, 4, 2, 2)) / 16.0  # few distinct values: the 256-entry table encoding
    bd = rng.normal(0, 0.1, 4)
    w2, b2 = rng.normal(0, 0.3, (4, 4, 3, 3)), rng.normal(0, 0.1, 4)
    layers = [
        ("Input", "in0", (), ("in0",), {}, []),
        ("Convolution", "conv1", ("in0",), ("a",), {0: 4, 1: 3, 5: 1, 6: 108, 9: 2, 10: (0.1,)},
         [("fp16", w1), ("raw", b1)]),
        ("Split", "split0", ("a",), ("a1", "a2"), {}, []),
        ("Pooling", "gap", ("a1",), ("g",), {0: 1, 4: 1}, []),
        ("InnerProduct", "fc1", ("g",), ("f1",), {0: 2, 1: 1, 2: 8, 9: 1}, [("fp32", fc1), ("raw", fb1)]),
        ("InnerProduct", "fc2", ("f1",), ("f2",), {0: 4, 1: 1, 2: 8, 9: 4}, [("fp16", fc2), ("raw", fb2)]),
        ("BinaryOp", "gate", ("a2", "f2"), ("m",), {0: 2}, []),
        ("Deconvolution", "up", ("m",), ("u",), {0: 4, 1: 2, 3: 2, 5: 1, 6: 64, 9: 2, 10: (0.2,)},
         [("table", wd), ("raw", bd)]),
        ("Split", "split1", ("u",), ("u1", "u2"), {}, []),
        ("Crop", "crop", ("u1",), ("c",), {9: (1, 1), 10: (-1, -1), 11: (-2, -1)}, []),
        ("Convolution", "conv2", ("u2",), ("v",), {0: 4, 1: 3, 5: 1, 6: 144}, [("fp32tag", w2), ("raw", b2)]),
        ("BinaryOp", "add", ("c", "v"), ("s",), {0: 0}, []),
        ("BinaryOp", "rsub", ("s",), ("out0",), {0: 7, 1: 1, 2: 1.0}, []),
    ]
    param, binf = write_ncnn(folder, "se", layers)

    def reference(x):
        a = leaky(conv(x, f16(w1), b1), 0.1)
        g = a.mean(axis=(1, 2))
        f = sigmoid(f16(fc2) @ np.maximum(fc1 @ g + fb1, 0) + fb2)
        u = leaky(deconv(a * f[:, None, None], wd, bd, stride=2), 0.2)
        return 1.0 - (u[:, 1:-1, 1:-1] + conv(u, w2, b2))

    return param, binf, reference


def upsampler(folder):
    """Real-ESRGAN's and SPAN's pieces: padded conv, PReLU, Concat, PixelShuffle, nearest Interp, Eltwise with
    coefficients, ReLU with a slope."""
    rng = _rng()
    w1, b1 = rng.normal(0, 0.3, (6, 3, 3, 3)), rng.normal(0, 0.1, 6)
    slopes = rng.uniform(0.05, 0.3, 6)
    layers = [
        ("Input", "data", (), ("data",), {}, []),
        ("Split", "split0", ("data",), ("x1", "x2"), {}, []),
        ("Convolution", "conv", ("x1",), ("c",), {0: 6, 1: 3, 4: 1, 5: 1, 6: 162}, [("fp16", w1), ("raw", b1)]),
        ("PReLU", "prelu", ("c",), ("p",), {0: 6}, [("raw", slopes)]),
        ("Split", "split1", ("p",), ("p1", "p2"), {}, []),
        ("Concat", "cat", ("p1", "p2"), ("k",), {0: 0}, []),
        ("PixelShuffle", "shuffle", ("k",), ("s",), {0: 2}, []),
        ("Interp", "near", ("x2",), ("n",), {0: 1, 1: 2.0, 2: 2.0}, []),
        ("Eltwise", "sum", ("s", "n"), ("e",), {0: 1, 1: (1.0, 0.5)}, []),
        ("ReLU", "lrelu", ("e",), ("output",), {0: 0.1}, []),
    ]
    param, binf = write_ncnn(folder, "up", layers)

    def reference(x):
        c = conv(x, f16(w1), b1, pads=(1, 1, 1, 1))
        p = np.where(c > 0, c, c * slopes[:, None, None])
        k = np.concatenate([p, p])
        r = 2
        s = k.reshape(3, r, r, *k.shape[1:]).transpose(0, 3, 1, 4, 2).reshape(3, k.shape[1] * r, k.shape[2] * r)
        n = x.repeat(2, axis=1).repeat(2, axis=2)
        return leaky(s + 0.5 * n, 0.1)

    return param, binf, reference


def _ort(path, x):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("build", [se_block, upsampler])
@pytest.mark.parametrize("size", [(11, 13), (16, 9)])
def test_tiny_models_match_numpy(tmp_path, build, size):
    param, binf, reference = build(tmp_path)
    report = convert_ncnn(param, binf, tmp_path / "m.onnx")
    x = np.random.default_rng(1).random((2, 3, *size), dtype=np.float32)  # two images: the batch axis works
    y = _ort(tmp_path / "m.onnx", x)
    for i in range(2):
        want = reference(x[i].astype(np.float64))
        assert y[i].shape == want.shape
        np.testing.assert_allclose(y[i], want, atol=2e-5, rtol=1e-5)
    census = layer_census(param)
    assert report.layers == census and report.nodes > sum(census.values()) - census["Input"] - census["Split"]
    assert report.fp16_weights > 0 and report.weights > report.fp16_weights


def test_bilinear_interp_matches_opencv(tmp_path):
    import cv2

    layers = [("Input", "in0", (), ("in0",), {}, []),
              ("Interp", "resize", ("in0",), ("out0",), {0: 2, 1: 2.0, 2: 2.0}, [])]
    param, binf = write_ncnn(tmp_path, "bilinear", layers)
    convert_ncnn(param, binf, tmp_path / "m.onnx")
    x = np.random.default_rng(2).random((1, 3, 7, 10), dtype=np.float32)
    y = _ort(tmp_path / "m.onnx", x)[0]
    want = cv2.resize(x[0].transpose(1, 2, 0), (20, 14), interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1)
    np.testing.assert_allclose(y, want, atol=1e-5)


@pytest.mark.parametrize("build, names", [(se_block, ("in0", "out0")), (upsampler, ("data", "output"))])
def test_tiny_models_match_the_ncnn_runtime(tmp_path, build, names):
    ncnn = pytest.importorskip("ncnn")
    param, binf, _ = build(tmp_path)
    convert_ncnn(param, binf, tmp_path / "m.onnx")
    x = np.random.default_rng(3).random((3, 12, 15), dtype=np.float32)
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.use_fp16_storage = net.opt.use_fp16_packed = net.opt.use_fp16_arithmetic = False
    net.opt.num_threads = 1
    assert net.load_param(str(param)) == 0 and net.load_model(str(binf)) == 0
    ex = net.create_extractor()
    ex.input(names[0], ncnn.Mat(x))
    _, out = ex.extract(names[1])
    np.testing.assert_allclose(_ort(tmp_path / "m.onnx", x[None])[0], np.array(out), atol=2e-5)


# --- refusals: one line naming the file, line and layer -------------------------------------------------


def test_an_unknown_layer_is_a_one_line_conversion_error(tmp_path):
    layers = [("Input", "in0", (), ("in0",), {}, []), ("Swish", "swish_7", ("in0",), ("out0",), {}, [])]
    param, binf = write_ncnn(tmp_path, "bad", layers)
    with pytest.raises(ConversionError) as err:
        convert_ncnn(param, binf, tmp_path / "m.onnx")
    message = str(err.value)
    assert "\n" not in message and str(param) in message and "Swish" in message and "swish_7" in message
    assert "supported: BinaryOp, Concat, Convolution" in message
    assert not (tmp_path / "m.onnx").exists()


def test_a_bin_that_does_not_belong_to_the_param_is_refused(tmp_path):
    param, binf, _ = se_block(tmp_path)
    whole = binf.read_bytes()
    binf.write_bytes(whole[:-12])
    with pytest.raises(ConversionError, match=r"inside the weights of layer conv2 \(Convolution\)"):
        convert_ncnn(param, binf, tmp_path / "m.onnx")
    binf.write_bytes(whole + b"\0" * 8)
    with pytest.raises(ConversionError, match="8 bytes left after the last layer's weights"):
        convert_ncnn(param, binf, tmp_path / "m.onnx")


def test_weights_for_another_channel_count_name_the_layer(tmp_path):
    w = np.zeros((4, 2, 3, 3))
    layers = [("Input", "in0", (), ("in0",), {}, []),
              ("Convolution", "conv1", ("in0",), ("out0",), {0: 4, 1: 3, 6: 72}, [("fp32", w)])]
    param, binf = write_ncnn(tmp_path, "chan", layers)
    with pytest.raises(ConversionError, match=r"chan\.param:4: layer conv1 \(Convolution\): weights are "
                                              r"for 2 input channels, its input has 3"):
        convert_ncnn(param, binf, tmp_path / "m.onnx")


def test_not_a_param_file(tmp_path):
    bad = tmp_path / "x.param"
    bad.write_text("7767518\n1 1\n")
    with pytest.raises(ConversionError, match="not an ncnn text .param"):
        read_param(bad)
    bad.write_text("7767517\n2 2\nInput in0 0 1 in0\n")
    with pytest.raises(ConversionError, match="header says 2 layers, the file has 1"):
        read_param(bad)


# --- the zoo's converted models against the ncnn runtime ---------------------------------------------------

#: zoo id -> (padding the runtime puts around a whole image, its border mode, the network's blob names)
RUNTIME_PADDING = {"waifu2x-photo-2x": (7, "edge", "Input1", "Eltwise4"),
                   "waifu2x-cunet-2x": (18, "edge", "Input1", "Eltwise4"),
                   "realcugan-pro-2x-conservative": (18, "reflect", "in0", "out0")}


@pytest.mark.zoo
@pytest.mark.parametrize("model_id", sorted(RUNTIME_PADDING))
def test_zoo_upscalers_match_the_ncnn_runtime_on_a_photo(zoo_model, model_id):
    """The converted ONNX model (its own padding and crop included) against ncnn running the original files on
    the picture padded as realcugan-ncnn-vulkan / waifu2x-ncnn-vulkan pad a whole image (to even sizes too)."""
    ncnn = pytest.importorskip("ncnn")
    from matchcut.models.zoo.install import source_member
    from matchcut.testing.photos import photo

    m = zoo_model(model_id)
    pad, mode, blob_in, blob_out = RUNTIME_PADDING[model_id]
    x = np.ascontiguousarray(photo("chelsea", colorspace="srgb")[40:133, 120:251].transpose(2, 0, 1))  # 93x131
    h, w = x.shape[1:]
    padded = np.pad(x, ((0, 0), (pad, pad + h % 2), (pad, pad + w % 2)), mode=mode)
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = 1
    assert net.load_param(str(source_member(model_id, "param"))) == 0
    assert net.load_model(str(source_member(model_id, "bin"))) == 0
    ex = net.create_extractor()
    ex.input(blob_in, ncnn.Mat(np.ascontiguousarray(padded)))
    _, out = ex.extract(blob_out)
    want = np.array(out)[:, :2 * h, :2 * w]
    got = _ort(m.onnx_path, x[None])[0]
    print(f"{model_id}: max |ONNX - ncnn| {np.abs(got - want).max():.2e}")
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.zoo
@pytest.mark.parametrize("model_id", sorted(RUNTIME_PADDING))
def test_a_rebuild_gives_the_installed_file_byte_for_byte(zoo_model, tmp_path, model_id):
    from matchcut.models.manifest import sha256_file
    from matchcut.models.zoo import catalog
    from matchcut.models.zoo.install import _builder, source_member

    m = zoo_model(model_id)
    entry = catalog.CATALOG[model_id]
    members = {role: source_member(model_id, role) for role in entry.members}
    lines = []
    fields = _builder(entry.builder)(members, tmp_path / "m.onnx", lines.append)
    assert sha256_file(tmp_path / "m.onnx") == m.sha256
    assert fields["task"] == m.task == "super-resolution" and fields["description"] == m.description
    assert any("held-out coffee shrunk 2x" in line for line in lines)
