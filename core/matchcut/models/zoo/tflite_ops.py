"""TFLite operators as ONNX nodes: one handler per op, over a graph whose 4-D activations are NCHW.

TFLite is NHWC throughout; the converter keeps every 4-D activation NCHW inside the ONNX graph (what
ONNX's Conv, pooling and Resize expect) and remaps axes, paddings and broadcast constants here. The
graph's own inputs and outputs stay NHWC (see ``matchcut.models.zoo.tflite``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import numpy as np
import tflite
from onnx import TensorProto

from matchcut.errors import ConversionError
from matchcut.models.zoo.onnx_graph import OnnxGraph

#: NHWC axis -> NCHW axis, and the permutations between the two layouts.
NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}
TO_NCHW = (0, 3, 1, 2)
TO_NHWC = (0, 2, 3, 1)

# TFLite tensor types this converter reads as constants.
_NUMPY_TYPES = {
    tflite.TensorType.FLOAT32: np.float32,
    tflite.TensorType.FLOAT16: np.float16,
    tflite.TensorType.INT32: np.int32,
    tflite.TensorType.INT64: np.int64,
    tflite.TensorType.UINT8: np.uint8,
    tflite.TensorType.INT8: np.int8,
}

BUILTIN_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


class Graph(OnnxGraph):
    """Conversion state: the TFLite subgraph being read, and the ONNX nodes and initializers being written."""

    def __init__(self, model: tflite.Model, buf: bytes, source: str):
        super().__init__()
        self.model, self.buf, self.source = model, buf, source
        self.sub = model.Subgraphs(0)
        self.values: dict[int, str] = {}  # TFLite tensor index -> ONNX value name
        self.nchw: set[int] = set()  # TFLite tensors whose ONNX value is NCHW
        self.folded: dict[int, np.ndarray] = {}  # constants computed at conversion time (DEQUANTIZE)
        self.fp16_folded = 0

    # --- TFLite side -------------------------------------------------------------------------------

    def shape(self, idx: int) -> tuple[int, ...]:
        """The static NHWC shape TFLite records for tensor ``idx``."""
        shp = self.sub.Tensors(idx).ShapeAsNumpy()
        return tuple(int(s) for s in shp) if isinstance(shp, np.ndarray) else ()

    def ttype(self, idx: int) -> int:
        """TFLite ``TensorType`` code of tensor ``idx`` (0 is float32)."""
        return self.sub.Tensors(idx).Type()

    def tname(self, idx: int) -> str:
        """The name TFLite gives tensor ``idx`` (for messages and default graph I/O names)."""
        return self.sub.Tensors(idx).Name().decode("utf-8", "replace")

    def const(self, idx: int) -> np.ndarray | None:
        """The constant data of tensor ``idx`` (NHWC, TFLite's dtype), or None for an activation."""
        if idx in self.folded:
            return self.folded[idx]
        t = self.sub.Tensors(idx)
        b = self.model.Buffers(t.Buffer())
        raw: bytes | np.ndarray
        if b.Offset() > 1:  # large models keep buffers after the flatbuffer
            raw = self.buf[b.Offset() : b.Offset() + b.Size()]
        else:
            data = b.DataAsNumpy()
            if not isinstance(data, np.ndarray) or data.size == 0:
                return None
            raw = data.tobytes()
        dtype = _NUMPY_TYPES.get(t.Type())
        if dtype is None:
            raise ConversionError(f"{self.source}: constant tensor '{self.tname(idx)}' has TFLite type {t.Type()}; "
                                  "expected float32, float16, int32, int64, uint8 or int8")
        return np.frombuffer(raw, dtype=dtype).reshape(self.shape(idx)).copy()

    def need_const(self, idx: int, what: str) -> np.ndarray:
        """The constant data of tensor ``idx``; ConversionError naming ``what`` when it is computed at run time."""
        value = self.const(idx)
        if value is None:
            raise ConversionError(f"{self.source}: {what} (tensor '{self.tname(idx)}') must be a constant; "
                                  "computed ones are not supported")
        return value

    # --- ONNX side ---------------------------------------------------------------------------------

    def value(self, idx: int) -> str:
        """ONNX name of tensor ``idx`` as stored (NCHW for 4-D activations); constants become initializers as-is."""
        if idx not in self.values:
            data = self.const(idx)
            if data is None:
                raise ConversionError(f"{self.source}: tensor '{self.tname(idx)}' is used before any op produces it")
            if data.dtype == np.float16:
                data = data.astype(np.float32)
            self.values[idx] = self.initializer(data, f"c{idx}")
        return self.values[idx]

    def set_value(self, idx: int, name: str, nchw: bool) -> None:
        """Record that ONNX value ``name`` holds TFLite tensor ``idx`` (NCHW-ordered when ``nchw``)."""
        self.values[idx] = name
        (self.nchw.add if nchw else self.nchw.discard)(idx)

    def as_nchw(self, idx: int, rank: int = 4) -> str:
        """Tensor ``idx`` ready to broadcast against NCHW activations: constants and lower-rank activations
        are padded to rank 4 from the left (NumPy/TFLite broadcasting) and transposed to NCHW."""
        if idx in self.nchw:
            return self.value(idx)
        shp = self.shape(idx)
        if len(shp) > rank:
            raise ConversionError(f"{self.source}: tensor '{self.tname(idx)}' of rank {len(shp)} cannot broadcast to rank {rank}")
        padded = (1,) * (rank - len(shp)) + shp
        data = self.const(idx)
        if data is not None:
            return self.initializer(data.astype(np.float32).reshape(padded).transpose(TO_NCHW), f"c{idx}_nchw")
        shaped = self.node("Reshape", [self.value(idx), self.initializer(np.array(padded, np.int64), "shape")], f"t{idx}_4d")
        return self.node("Transpose", [shaped], f"t{idx}_nchw", perm=list(TO_NCHW))

    def as_nhwc(self, idx: int) -> str:
        """Tensor ``idx`` in TFLite's own layout (NHWC for 4-D)."""
        name = self.value(idx)
        return self.node("Transpose", [name], f"t{idx}_nhwc", perm=list(TO_NHWC)) if idx in self.nchw else name

    def activation(self, name: str, code: int, where: str) -> str:
        """Apply a TFLite fused activation function to ``name``."""
        if code == tflite.ActivationFunctionType.NONE:
            return name
        if code == tflite.ActivationFunctionType.RELU:
            return self.node("Relu", [name], f"{name}_relu")
        if code in (tflite.ActivationFunctionType.RELU6, tflite.ActivationFunctionType.RELU_N1_TO_1):
            lo, hi = (0.0, 6.0) if code == tflite.ActivationFunctionType.RELU6 else (-1.0, 1.0)
            bounds = [self.initializer(np.array(v, np.float32), "clip") for v in (lo, hi)]
            return self.node("Clip", [name, *bounds], f"{name}_clip")
        if code == tflite.ActivationFunctionType.TANH:
            return self.node("Tanh", [name], f"{name}_tanh")
        raise ConversionError(f"{self.source}: {where}: fused activation {code} is not supported "
                              "(NONE, RELU, RELU6, RELU_N1_TO_1, TANH are)")


# --- helpers ------------------------------------------------------------------------------------------


def _options(op, cls):
    """The op's builtin options table read as ``cls``, or None when the op has none."""
    table = op.BuiltinOptions()
    opts = cls()
    if table is not None:
        opts.Init(table.Bytes, table.Pos)
        return opts
    return None


def _required_options(g: Graph, op, cls, what: str):
    opts = _options(op, cls)
    if opts is None:
        raise ConversionError(f"{g.source}: {what} op has no {cls.__name__}; the model is malformed")
    return opts


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TFLite's SAME padding for one axis: (before, after), the odd pixel going after, as TFLite computes it."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _spatial_pads(g: Graph, padding: int, in_shape, kernel, strides, dilations=(1, 1)) -> list[int]:
    """ONNX ``pads`` [top, left, bottom, right] for a TFLite SAME/VALID 2-D window over an NHWC input."""
    if padding == tflite.Padding.VALID:
        return [0, 0, 0, 0]
    (top, bottom), (left, right) = (same_pads(in_shape[1 + i], kernel[i], strides[i], dilations[i]) for i in range(2))
    return [top, left, bottom, right]


def _check_shape(g: Graph, out_idx: int, got: tuple[int, ...], op: str) -> None:
    want = g.shape(out_idx)
    if tuple(got) != tuple(want):
        raise ConversionError(f"{g.source}: {op} would give shape {list(got)} where the model says {list(want)} "
                              f"(tensor '{g.tname(out_idx)}')")


Handler = Callable[[Graph, object, list[int], list[int]], None]


# --- handlers: each reads TFLite op ``op`` with inputs ``ins`` and sets ``outs`` -------------------------


def _dequantize(g: Graph, op, ins, outs):
    data = g.const(ins[0])
    if data is not None and data.dtype == np.float16:
        g.folded[outs[0]] = data.astype(np.float32)  # fp16 weights: fold into fp32 initializers
        g.fp16_folded += 1
        return
    if g.ttype(ins[0]) == tflite.TensorType.FLOAT16:
        g.set_value(outs[0], g.node("Cast", [g.value(ins[0])], f"t{outs[0]}", to=TensorProto.FLOAT), ins[0] in g.nchw)
        return
    raise ConversionError(f"{g.source}: DEQUANTIZE of '{g.tname(ins[0])}' is integer dequantization; "
                          "only float16 weights are supported")


def _conv(g: Graph, op, ins, outs, depthwise: bool):
    cls = tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions
    o = _required_options(g, op, cls, "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D")
    x_shape = g.shape(ins[0])
    w = g.need_const(ins[1], "convolution weights").astype(np.float32)
    if depthwise:  # TFLite [1, kH, kW, Cin*mult] -> ONNX [Cin*mult, 1, kH, kW], one group per input channel
        w_onnx, group = w.transpose(3, 0, 1, 2), x_shape[3]
    else:  # OHWI -> OIHW
        w_onnx, group = w.transpose(0, 3, 1, 2), 1
    k = (w.shape[1], w.shape[2])
    strides, dil = (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
    pads = _spatial_pads(g, o.Padding(), x_shape, k, strides, dil)
    inputs = [g.value(ins[0]), g.initializer(w_onnx, f"w{ins[1]}")]
    if len(ins) > 2 and ins[2] >= 0:
        inputs.append(g.initializer(g.need_const(ins[2], "convolution bias").astype(np.float32), f"b{ins[2]}"))
    y = g.node("Conv", inputs, f"t{outs[0]}", kernel_shape=list(k), strides=list(strides), dilations=list(dil),
               pads=pads, group=group)
    g.set_value(outs[0], g.activation(y, o.FusedActivationFunction(), "CONV_2D"), True)


def _conv_transpose_bias(g: Graph, op, ins, outs):
    """MediaPipe's custom ``Convolution2DTransposeBias``: a transposed convolution with a bias input."""
    raw = op.CustomOptionsAsNumpy()
    raw = raw.tobytes() if isinstance(raw, np.ndarray) else b""
    if len(raw) < 12:
        raise ConversionError(f"{g.source}: Convolution2DTransposeBias has {len(raw)} bytes of options; expected 12 "
                              "(padding, stride_w, stride_h as int32)")
    padding, stride_w, stride_h = struct.unpack("<3i", raw[:12])  # TfLitePadding: 1 SAME, 2 VALID
    x_shape = g.shape(ins[0])
    w = g.need_const(ins[1], "transposed convolution weights").astype(np.float32)  # OHWI
    bias = g.need_const(ins[2], "transposed convolution bias").astype(np.float32)
    kh, kw, strides = w.shape[1], w.shape[2], (stride_h, stride_w)
    out_shape = g.shape(outs[0])
    pads, out_pad = [0, 0, 0, 0], [0, 0]
    if padding == 1:
        for i, k in enumerate((kh, kw)):
            # TF pads a transposed conv as the forward conv from the output size would be padded
            total = (x_shape[1 + i] - 1) * strides[i] + k - out_shape[1 + i]
            if total < 0:
                out_pad[i] = -total
            else:
                pads[i], pads[2 + i] = total // 2, total - total // 2
    elif padding != 2:
        raise ConversionError(f"{g.source}: Convolution2DTransposeBias padding {padding}; expected 1 (SAME) or 2 (VALID)")
    got = tuple((x_shape[1 + i] - 1) * strides[i] + k + out_pad[i] - pads[i] - pads[2 + i] for i, k in enumerate((kh, kw)))
    _check_shape(g, outs[0], (x_shape[0], *got, w.shape[0]), "Convolution2DTransposeBias")
    inputs = [g.value(ins[0]), g.initializer(w.transpose(3, 0, 1, 2), f"w{ins[1]}"), g.initializer(bias, f"b{ins[2]}")]
    y = g.node("ConvTranspose", inputs, f"t{outs[0]}", kernel_shape=[kh, kw], strides=list(strides), pads=pads,
               output_padding=out_pad)
    g.set_value(outs[0], y, True)


def _pool(g: Graph, op, ins, outs, onnx_op: str):
    o = _required_options(g, op, tflite.Pool2DOptions, onnx_op)
    k, strides = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
    pads = _spatial_pads(g, o.Padding(), g.shape(ins[0]), k, strides)
    attrs = {"count_include_pad": 0} if onnx_op == "AveragePool" else {}  # TFLite averages real pixels only
    y = g.node(onnx_op, [g.value(ins[0])], f"t{outs[0]}", kernel_shape=list(k), strides=list(strides), pads=pads, **attrs)
    g.set_value(outs[0], g.activation(y, o.FusedActivationFunction(), onnx_op), True)


def _binary(g: Graph, op, ins, outs, onnx_op: str, opts_cls):
    rank = len(g.shape(outs[0]))
    if rank == 4:
        a, b = g.as_nchw(ins[0]), g.as_nchw(ins[1])
    else:
        if any(i in g.nchw for i in ins):
            raise ConversionError(f"{g.source}: {onnx_op} of a 4-D and a rank-{rank} result is not supported")
        a, b = g.value(ins[0]), g.value(ins[1])
    o = _options(op, opts_cls)
    y = g.node(onnx_op, [a, b], f"t{outs[0]}")
    g.set_value(outs[0], g.activation(y, o.FusedActivationFunction() if o else 0, onnx_op), rank == 4)


def _unary(onnx_op: str, **attrs) -> Handler:
    def handle(g: Graph, op, ins, outs):
        g.set_value(outs[0], g.node(onnx_op, [g.value(ins[0])], f"t{outs[0]}", **attrs), ins[0] in g.nchw)

    return handle


def _relu6(g: Graph, op, ins, outs):
    g.set_value(outs[0], g.activation(g.value(ins[0]), tflite.ActivationFunctionType.RELU6, "RELU6"), ins[0] in g.nchw)


def _prelu(g: Graph, op, ins, outs):
    if ins[0] in g.nchw:
        alpha = g.need_const(ins[1], "PRELU alpha").astype(np.float32)
        shp = (1,) * (4 - alpha.ndim) + alpha.shape
        slope = g.initializer(alpha.reshape(shp).transpose(TO_NCHW)[0], f"alpha{ins[1]}")  # [C, H, W] or [C, 1, 1]
    else:
        slope = g.value(ins[1])
    g.set_value(outs[0], g.node("PRelu", [g.value(ins[0]), slope], f"t{outs[0]}"), ins[0] in g.nchw)


def _mean(g: Graph, op, ins, outs):
    axes = [int(a) for a in np.atleast_1d(g.need_const(ins[1], "MEAN axes"))]
    rank = len(g.shape(ins[0]))
    axes = sorted(a % rank for a in axes)
    opts = _options(op, tflite.ReducerOptions)
    keep = bool(opts.KeepDims()) if opts is not None else False  # TFLite's default
    if ins[0] not in g.nchw:
        y = g.node("ReduceMean", [g.value(ins[0])], f"t{outs[0]}", axes=axes, keepdims=int(keep))
        g.set_value(outs[0], y, False)
        return
    y = g.node("ReduceMean", [g.value(ins[0])], f"t{outs[0]}", axes=[NHWC_TO_NCHW_AXIS[a] for a in axes], keepdims=1)
    if keep:
        g.set_value(outs[0], y, True)
        return
    # dropped axes are named in NHWC terms: go back to NHWC before squeezing them
    nhwc = g.node("Transpose", [y], f"{y}_nhwc", perm=list(TO_NHWC))
    g.set_value(outs[0], g.node("Squeeze", [nhwc, g.initializer(np.array(axes, np.int64), "axes")], f"{y}_sq"), False)


def _reshape(g: Graph, op, ins, outs):
    shape = g.shape(outs[0])
    y = g.node("Reshape", [g.as_nhwc(ins[0]), g.initializer(np.array(shape, np.int64), "shape")], f"t{outs[0]}")
    if len(shape) == 4:
        y = g.node("Transpose", [y], f"{y}_nchw", perm=list(TO_NCHW))
    g.set_value(outs[0], y, len(shape) == 4)


def _concatenation(g: Graph, op, ins, outs):
    o = _required_options(g, op, tflite.ConcatenationOptions, "CONCATENATION")
    rank = len(g.shape(outs[0]))
    axis = o.Axis() % rank
    if rank == 4:
        names, axis = [g.as_nchw(i) for i in ins], NHWC_TO_NCHW_AXIS[axis]
    else:
        names = [g.value(i) for i in ins]
    y = g.node("Concat", names, f"t{outs[0]}", axis=axis)
    g.set_value(outs[0], g.activation(y, o.FusedActivationFunction(), "CONCATENATION"), rank == 4)


def _pad(g: Graph, op, ins, outs):
    pads = g.need_const(ins[1], "PAD paddings").astype(np.int64).reshape(-1, 2)
    if ins[0] in g.nchw:
        pads = pads[list(TO_NCHW)]
    inputs = [g.value(ins[0]), g.initializer(np.concatenate([pads[:, 0], pads[:, 1]]), "pads")]
    g.set_value(outs[0], g.node("Pad", inputs, f"t{outs[0]}", mode="constant"), ins[0] in g.nchw)


def _resize_bilinear(g: Graph, op, ins, outs):
    o = _options(op, tflite.ResizeBilinearOptions)
    align, half = (bool(o.AlignCorners()), bool(o.HalfPixelCenters())) if o else (False, False)
    if align and half:
        raise ConversionError(f"{g.source}: RESIZE_BILINEAR with both align_corners and half_pixel_centers is not valid")
    mode = "align_corners" if align else "half_pixel" if half else "asymmetric"
    n, h, w, c = g.shape(outs[0])
    sizes = g.initializer(np.array([n, c, h, w], np.int64), "sizes")
    y = g.node("Resize", [g.as_nchw(ins[0]), "", "", sizes], f"t{outs[0]}", mode="linear",
               coordinate_transformation_mode=mode)
    g.set_value(outs[0], y, True)


BUILTIN_HANDLERS: dict[str, Handler] = {
    "ADD": lambda g, op, i, o: _binary(g, op, i, o, "Add", tflite.AddOptions),
    "MUL": lambda g, op, i, o: _binary(g, op, i, o, "Mul", tflite.MulOptions),
    "AVERAGE_POOL_2D": lambda g, op, i, o: _pool(g, op, i, o, "AveragePool"),
    "MAX_POOL_2D": lambda g, op, i, o: _pool(g, op, i, o, "MaxPool"),
    "CONCATENATION": _concatenation,
    "CONV_2D": lambda g, op, i, o: _conv(g, op, i, o, depthwise=False),
    "DEPTHWISE_CONV_2D": lambda g, op, i, o: _conv(g, op, i, o, depthwise=True),
    "DEQUANTIZE": _dequantize,
    "HARD_SWISH": _unary("HardSwish"),  # x * relu6(x + 3) / 6 == ONNX's alpha 1/6, beta 0.5
    "LOGISTIC": _unary("Sigmoid"),
    "MEAN": _mean,
    "PAD": _pad,
    "PRELU": _prelu,
    "RELU": _unary("Relu"),
    "RELU6": _relu6,
    "RESHAPE": _reshape,
    "RESIZE_BILINEAR": _resize_bilinear,
}

CUSTOM_HANDLERS: dict[str, Handler] = {
    "Convolution2DTransposeBias": _conv_transpose_bias,
}


def supported_ops() -> list[str]:
    """Every op name the converter handles: TFLite builtin names and ``CUSTOM:<code>`` for custom ops."""
    return sorted(BUILTIN_HANDLERS) + [f"CUSTOM:{c}" for c in sorted(CUSTOM_HANDLERS)]
