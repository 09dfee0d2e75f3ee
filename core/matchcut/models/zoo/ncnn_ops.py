"""Each ncnn layer as ONNX nodes (opset 17) over NCHW float32 tensors, for ``matchcut.models.zoo.ncnn``.

An NcnnLayer is one line of a ``.param``; a WeightReader reads the ``.bin`` front to back as the layers ask. A
Graph (an OnnxGraph) holds the nodes, the initializers and the ncnn blob -> ONNX value map; a Blob is an ncnn
blob's value with its ncnn rank (a 3-D blob (c, h, w) is (N, C, H, W), a 1-D blob (w) is (N, W)) and its static
channel count, so ncnn's broadcasting and every weight shape are checked while converting. HANDLERS maps a layer
type to its function ``(graph, layer, input blobs, weights) -> output blobs``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matchcut.errors import ConversionError
from matchcut.models.zoo.onnx_graph import OnnxGraph

# .bin weight tags (ncnn src/modelbin.cpp)
_TAG_FP16 = 0x01306B47
_TAG_INT8 = 0x000D4B38
_TAG_FP32 = 0x0002C056
# fused activations of Convolution / Deconvolution / InnerProduct (ncnn src/layer/fused_activation.h)
_ACTIVATIONS = {0: "none", 1: "ReLU", 2: "LeakyReLU", 3: "Clip", 4: "Sigmoid", 5: "Mish", 6: "HardSwish"}
# BinaryOp op_type -> (ONNX op, operands swapped)
_BINARY = {0: ("Add", False), 1: ("Sub", False), 2: ("Mul", False), 3: ("Div", False), 4: ("Max", False),
           5: ("Min", False), 6: ("Pow", False), 7: ("Sub", True), 8: ("Div", True), 9: ("Pow", True)}
_INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class NcnnLayer:
    """One line of a ``.param``: layer type and name, bottom and top blob names, and its ``id -> value`` params
    (int, float, or a tuple of them for an array)."""

    type: str
    name: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    params: dict[int, Any]
    line: int


class WeightReader:
    """Reads a ``.bin`` front to back, as ncnn's ModelBin does: tagged weight blobs and raw float32 arrays."""

    def __init__(self, bin_path: Path):
        self.path = Path(bin_path)
        try:
            self.data = self.path.read_bytes()
        except OSError as exc:
            raise ConversionError(f"{self.path}: cannot read ncnn .bin: {exc.strerror or exc}") from None
        self.offset = 0
        self.values = 0
        self.fp16_values = 0

    def _take(self, size: int, layer: NcnnLayer) -> bytes:
        if self.offset + size > len(self.data):
            raise ConversionError(f"{self.path}: ends at byte {len(self.data)} inside the weights of layer "
                                  f"{layer.name} ({layer.type}); the .bin does not belong to this .param")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def raw(self, count: int, layer: NcnnLayer) -> np.ndarray:
        """``count`` raw little-endian float32 values (biases, slopes, scales)."""
        self.values += count
        return np.frombuffer(self._take(4 * count, layer), "<f4").astype(np.float32)

    def weight(self, count: int, layer: NcnnLayer) -> np.ndarray:
        """A tagged weight blob of ``count`` values as float32."""
        tag = int.from_bytes(self._take(4, layer), "little")
        self.values += count
        if tag == _TAG_FP16:
            self.fp16_values += count
            blob = self._take(-(-2 * count // 4) * 4, layer)
            return np.frombuffer(blob[:2 * count], "<f2").astype(np.float32)
        if tag == _TAG_INT8:
            raise ConversionError(f"{self.path}: layer {layer.name} has int8-quantized weights; only float models "
                                  "are supported")
        if tag in (0, _TAG_FP32):
            return np.frombuffer(self._take(4 * count, layer), "<f4").astype(np.float32)
        table = np.frombuffer(self._take(256 * 4, layer), "<f4")  # ncnn's "quantized" blob: a value table
        index = np.frombuffer(self._take(-(-count // 4) * 4, layer), np.uint8)[:count]
        return table[index].astype(np.float32)

    def finish(self) -> None:
        left = len(self.data) - self.offset
        if left:
            raise ConversionError(f"{self.path}: {left} bytes left after the last layer's weights; the .bin does "
                                  "not belong to this .param")


@dataclass
class Blob:
    """An ncnn blob in the ONNX graph: its value name, ncnn rank (1 or 3) and static channel count."""

    value: str
    dims: int
    channels: int


class Graph(OnnxGraph):
    """Conversion state: ONNX nodes and initializers (OnnxGraph) and the ncnn blob -> ONNX value map."""

    def __init__(self, source: str):
        super().__init__()
        self.source = source
        self.blobs: dict[str, Blob] = {}

    def ints(self, values: Sequence[int], base: str) -> str:
        return self.initializer(np.asarray(values, np.int64), base)

    def blob(self, layer: NcnnLayer, name: str) -> Blob:
        if name not in self.blobs:
            raise ConversionError(f"{self.source}:{layer.line}: layer {layer.name} reads blob '{name}', which no "
                                  "earlier layer writes")
        return self.blobs[name]

    def fail(self, layer: NcnnLayer, detail: str) -> ConversionError:
        return ConversionError(f"{self.source}:{layer.line}: layer {layer.name} ({layer.type}): {detail}")

    def spatial(self, value: str, base: str) -> str:
        """The (H, W) of a 4-D value as an int64 tensor."""
        shape = self.node("Shape", [value], f"{base}_shape")
        return self.node("Slice", [shape, self.ints([2], "s2"), self.ints([4], "s4")], f"{base}_hw")


# --- layers -----------------------------------------------------------------------------------------------


def param_of(layer: NcnnLayer, key: int, default: Any) -> Any:
    """The layer's parameter ``key`` (ncnn's id), or ``default``."""
    return layer.params.get(key, default)


def _activation(g: Graph, layer: NcnnLayer, x: str, kind: int, params: tuple) -> str:
    """A fused activation (ncnn's activation_type and activation_params) applied to ``x``."""
    base = layer.name
    if kind == 0:
        return x
    if kind == 1:
        return g.node("Relu", [x], f"{base}_relu")
    if kind == 2:
        return g.node("LeakyRelu", [x], f"{base}_lrelu", alpha=float(params[0]) if params else 0.0)
    if kind == 3:
        if len(params) < 2:
            raise g.fail(layer, "Clip activation without its min and max")
        lo, hi = (g.initializer(np.float32(v), f"{base}_clip") for v in params[:2])
        return g.node("Clip", [x, lo, hi], f"{base}_clip")
    if kind == 4:
        return g.node("Sigmoid", [x], f"{base}_sigmoid")
    if kind == 5:  # Mish is opset 18: x * tanh(softplus(x))
        return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x], f"{base}_sp")], f"{base}_tanh")],
                      f"{base}_mish")
    if kind == 6:
        if len(params) < 2:
            raise g.fail(layer, "HardSwish activation without its alpha and beta")
        gate = g.node("HardSigmoid", [x], f"{base}_hsig", alpha=float(params[0]), beta=float(params[1]))
        return g.node("Mul", [x, gate], f"{base}_hswish")
    raise g.fail(layer, f"fused activation type {kind} is not supported (known: {sorted(_ACTIVATIONS)})")


def _pads(g: Graph, layer: NcnnLayer, left: int, right: int, top: int, bottom: int) -> dict:
    if (left, right, top, bottom) == (-233,) * 4:
        return {"auto_pad": "SAME_UPPER"}
    if (left, right, top, bottom) == (-234,) * 4:
        return {"auto_pad": "SAME_LOWER"}
    if min(left, right, top, bottom) < 0:
        raise g.fail(layer, f"padding {left, right, top, bottom} is not supported")
    return {"pads": [top, left, bottom, right]}


def _conv_common(g: Graph, layer: NcnnLayer, x: Blob, weights: WeightReader, transposed: bool):
    num_output, kw = param_of(layer, 0, 0), param_of(layer, 1, 0)
    kh = param_of(layer, 11, kw)
    dw = param_of(layer, 2, 1)
    dh = param_of(layer, 12, dw)
    sw = param_of(layer, 3, 1)
    sh = param_of(layer, 13, sw)
    left = param_of(layer, 4, 0)
    right, top = param_of(layer, 15, left), param_of(layer, 14, left)
    bottom = param_of(layer, 16, top)
    size = param_of(layer, 6, 0)
    if param_of(layer, 28 if transposed else 19, 0):
        raise g.fail(layer, "dynamic weights (a weight blob input) are not supported")
    if not transposed and param_of(layer, 8, 0):
        raise g.fail(layer, "int8 quantization is not supported")
    if x.dims != 3:
        raise g.fail(layer, f"expected a 3-D (c, h, w) input, got a {x.dims}-D blob")
    if num_output <= 0 or kw <= 0 or kh <= 0 or size <= 0 or size % (num_output * kw * kh):
        raise g.fail(layer, f"weight size {size} does not fit {num_output} outputs of {kh}x{kw}")
    cin = size // (num_output * kw * kh)
    if cin != x.channels:
        raise g.fail(layer, f"weights are for {cin} input channels, its input has {x.channels}")
    w = weights.weight(size, layer).reshape(num_output, cin, kh, kw)
    b = weights.raw(num_output, layer) if param_of(layer, 5, 0) else None
    attrs = {"kernel_shape": [kh, kw], "strides": [sh, sw], "dilations": [dh, dw]}
    return num_output, w, b, attrs, (left, right, top, bottom)


def _convolution(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    num_output, w, b, attrs, pads = _conv_common(g, layer, x, weights, transposed=False)
    value = x.value
    pad_value = float(param_of(layer, 18, 0.0))
    if pad_value != 0.0 and min(pads) > 0:  # ONNX Conv pads with zeros only
        left, right, top, bottom = pads
        value = g.node("Pad", [value, g.ints([0, 0, top, left, 0, 0, bottom, right], f"{layer.name}_pads"),
                               g.initializer(np.float32(pad_value), f"{layer.name}_padv")], f"{layer.name}_pad")
        pads = (0, 0, 0, 0)
    attrs.update(_pads(g, layer, *pads))
    return _weighted(g, layer, "Conv", value, w, b, attrs, num_output)


def _weighted(g: Graph, layer: NcnnLayer, op: str, value: str, w: np.ndarray, b: np.ndarray | None, attrs: dict,
              channels: int) -> list[Blob]:
    """A Conv or ConvTranspose of ``value`` with weights ``w`` (and bias ``b``), then the layer's fused activation."""
    ins = [value, g.initializer(w, f"{layer.name}_w")]
    ins += [g.initializer(b, f"{layer.name}_b")] if b is not None else []
    out = g.node(op, ins, layer.name, **attrs)
    out = _activation(g, layer, out, param_of(layer, 9, 0), tuple(param_of(layer, 10, ())))
    return [Blob(out, 3, channels)]


def _deconvolution(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    num_output, w, b, attrs, pads = _conv_common(g, layer, x, weights, transposed=True)
    if param_of(layer, 20, 0) or param_of(layer, 21, 0):
        raise g.fail(layer, "a fixed output size (params 20/21) is not supported")
    attrs.update(_pads(g, layer, *pads))
    out_pad_right = param_of(layer, 18, 0)
    out_pad_bottom = param_of(layer, 19, out_pad_right)
    if out_pad_right or out_pad_bottom:
        attrs["output_padding"] = [out_pad_bottom, out_pad_right]
    # ncnn keeps deconvolution weights as (out, in, kh, kw); ONNX ConvTranspose wants (in, out, kh, kw)
    wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
    return _weighted(g, layer, "ConvTranspose", x.value, wt, b, attrs, num_output)


def _inner_product(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    num_output, size = param_of(layer, 0, 0), param_of(layer, 2, 0)
    if param_of(layer, 8, 0):
        raise g.fail(layer, "int8 quantization is not supported")
    value = x.value
    if x.dims == 3:
        raise g.fail(layer, "a 3-D input (flattened by ncnn) is not supported; only a 1-D one")
    if num_output <= 0 or size != num_output * x.channels:
        raise g.fail(layer, f"weight size {size} does not fit {num_output} outputs of {x.channels} inputs")
    w = weights.weight(size, layer).reshape(num_output, x.channels)
    b = weights.raw(num_output, layer) if param_of(layer, 1, 0) else None
    ins = [value, g.initializer(w, f"{layer.name}_w")]
    ins += [g.initializer(b, f"{layer.name}_b")] if b is not None else []
    out = g.node("Gemm", ins, layer.name, transB=1)
    out = _activation(g, layer, out, param_of(layer, 9, 0), tuple(param_of(layer, 10, ())))
    return [Blob(out, 1, num_output)]


def _pooling(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    kind = param_of(layer, 0, 0)
    if not param_of(layer, 4, 0):
        raise g.fail(layer, "only global pooling (4=1) is supported")
    if kind not in (0, 1) or x.dims != 3:
        raise g.fail(layer, f"global pooling type {kind} of a {x.dims}-D blob is not supported")
    pooled = g.node("GlobalMaxPool" if kind == 0 else "GlobalAveragePool", [x.value], layer.name)
    return [Blob(g.node("Flatten", [pooled], f"{layer.name}_flat", axis=1), 1, x.channels)]


def _broadcast(g: Graph, layer: NcnnLayer, a: Blob, b: Blob) -> tuple[str, str, int, int]:
    """Both operands as ONNX values that broadcast the way ncnn's BinaryOp does; the result's rank and channels."""
    if a.dims == b.dims:
        return a.value, b.value, a.dims, max(a.channels, b.channels)
    big, small = (a, b) if a.dims > b.dims else (b, a)
    if big.dims != 3 or small.dims != 1:
        raise g.fail(layer, f"broadcasting a {small.dims}-D blob against a {big.dims}-D one is not supported")
    # ncnn: a 1-D blob of the channel count scales channels; otherwise it runs along w
    axes = [2, 3] if small.channels == big.channels else [1, 2]
    expanded = g.node("Unsqueeze", [small.value, g.ints(axes, f"{layer.name}_axes")], f"{layer.name}_expand")
    pair = (big.value, expanded) if big is a else (expanded, big.value)
    return pair[0], pair[1], 3, big.channels


def _binary_op(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    kind = param_of(layer, 0, 0)
    if kind not in _BINARY:
        raise g.fail(layer, f"operation type {kind} is not supported (known: {sorted(_BINARY)})")
    op, swapped = _BINARY[kind]
    if param_of(layer, 1, 0):  # with a scalar
        a, b = inputs[0].value, g.initializer(np.float32(param_of(layer, 2, 0.0)), f"{layer.name}_scalar")
        dims, channels = inputs[0].dims, inputs[0].channels
    else:
        if len(inputs) != 2:
            raise g.fail(layer, f"expected two inputs, got {len(inputs)}")
        a, b, dims, channels = _broadcast(g, layer, inputs[0], inputs[1])
    if swapped:
        a, b = b, a
    return [Blob(g.node(op, [a, b], layer.name), dims, channels)]


def _eltwise(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    kind, coeffs = param_of(layer, 0, 1), tuple(param_of(layer, 1, ()))
    if len(inputs) < 2 or len({(x.dims, x.channels) for x in inputs}) != 1:
        raise g.fail(layer, "expected two or more inputs of one shape")
    if coeffs and len(coeffs) != len(inputs):
        raise g.fail(layer, f"{len(coeffs)} coefficients for {len(inputs)} inputs")
    if kind not in (0, 1, 2):
        raise g.fail(layer, f"operation type {kind} is not supported (0 product, 1 sum, 2 max)")
    values = [x.value for x in inputs]
    if kind == 1 and coeffs and any(c != 1 for c in coeffs):
        values = [v if c == 1 else g.node("Mul", [v, g.initializer(np.float32(c), f"{layer.name}_c")],
                                          f"{layer.name}_x")
                  for v, c in zip(values, coeffs, strict=True)]
    if kind == 2:
        out = g.node("Max", values, layer.name)
    else:
        out = values[0]
        for v in values[1:]:
            out = g.node("Mul" if kind == 0 else "Add", [out, v], layer.name)
    return [Blob(out, inputs[0].dims, inputs[0].channels)]


def _concat(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    dims = inputs[0].dims
    axis = param_of(layer, 0, 0)
    axis = axis + dims if axis < 0 else axis
    if any(x.dims != dims for x in inputs) or not 0 <= axis < dims:
        raise g.fail(layer, "inputs of different ranks or an axis outside them")
    channels = sum(x.channels for x in inputs) if axis == 0 else inputs[0].channels
    return [Blob(g.node("Concat", [x.value for x in inputs], layer.name, axis=axis + 1), dims, channels)]


def _crop(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    if x.dims != 3:
        raise g.fail(layer, f"only 3-D blobs are cropped here, got a {x.dims}-D one")
    starts, ends, axes = (tuple(param_of(layer, k, ())) for k in (9, 10, 11))
    if any(isinstance(layer.params.get(k), str) for k in (19, 20, 21)):
        raise g.fail(layer, "crop expressions (params 19-21) are not supported")
    if starts and ends:  # numpy-style slice; an end <= 0 counts from the end, -233 means "to the end"
        if len(starts) != len(ends) or (axes and len(axes) != len(starts)):
            raise g.fail(layer, "starts, ends and axes of different lengths")
        axes = axes or tuple(range(len(starts)))
        onnx_axes, lo, hi, channels = [], [], [], x.channels
        for axis, start, end in zip(axes, starts, ends, strict=True):
            axis = axis + 3 if axis < 0 else axis
            if not 0 <= axis < 3:
                raise g.fail(layer, f"axis {axis} outside a 3-D blob")
            start = 0 if start == -233 else start
            end = _INT64_MAX if end == -233 or end == 0 else end
            onnx_axes.append(axis + 1)
            lo.append(start)
            hi.append(end)
            if axis == 0:
                stop = x.channels if end == _INT64_MAX else (end if end > 0 else x.channels + end)
                channels = min(stop, x.channels) - (start if start >= 0 else x.channels + start)
        out = g.node("Slice", [x.value, g.ints(lo, f"{layer.name}_starts"), g.ints(hi, f"{layer.name}_ends"),
                               g.ints(onnx_axes, f"{layer.name}_axes")], layer.name)
        return [Blob(out, 3, channels)]
    woff, hoff, coff = param_of(layer, 0, 0), param_of(layer, 1, 0), param_of(layer, 2, 0)
    if len(inputs) == 2:  # crop to the reference blob's size at the offsets
        ref = inputs[1]
        if coff or ref.dims != 3:
            raise g.fail(layer, "a channel offset or a reference blob that is not 3-D is not supported")
        starts_v = g.ints([0, hoff, woff], f"{layer.name}_starts")
        size = g.spatial(ref.value, f"{layer.name}_ref")
        ends_v = g.node("Add", [size, g.ints([hoff, woff], f"{layer.name}_off")], f"{layer.name}_ends")
        ends_v = g.node("Concat", [g.ints([ref.channels], f"{layer.name}_c"), ends_v], f"{layer.name}_ends3", axis=0)
        out = g.node("Slice", [x.value, starts_v, ends_v, g.ints([1, 2, 3], f"{layer.name}_axes")], layer.name)
        return [Blob(out, 3, ref.channels)]
    # offsets from both sides (0-2 and 6-8) with optional sizes (3-5; -233: no limit)
    w2, h2, c2 = param_of(layer, 6, 0), param_of(layer, 7, 0), param_of(layer, 8, 0)
    outw, outh, outc = param_of(layer, 3, 0), param_of(layer, 4, 0), param_of(layer, 5, 0)
    if min(outw, outh, outc) >= 0 and 0 in (outw, outh, outc) and (outw, outh, outc) != (0, 0, 0):
        raise g.fail(layer, f"a crop to size {outc}x{outh}x{outw} is empty")
    if (outw, outh, outc) != (-233, -233, -233) and (outw, outh, outc) != (0, 0, 0):
        raise g.fail(layer, "a crop to a fixed size is not supported; only offsets from both sides")
    channels = x.channels - coff - c2
    ends = [x.channels - c2, -h2 if h2 else _INT64_MAX, -w2 if w2 else _INT64_MAX]
    out = g.node("Slice", [x.value, g.ints([coff, hoff, woff], f"{layer.name}_starts"),
                           g.ints(ends, f"{layer.name}_ends"), g.ints([1, 2, 3], f"{layer.name}_axes")], layer.name)
    return [Blob(out, 3, channels)]


def _interp(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    kind = param_of(layer, 0, 0)
    hs, ws = float(param_of(layer, 1, 1.0)), float(param_of(layer, 2, 1.0))
    if x.dims != 3 or kind not in (1, 2, 3):
        raise g.fail(layer, f"resize type {kind} of a {x.dims}-D blob is not supported (1 nearest, 2 bilinear, "
                            "3 bicubic)")
    if param_of(layer, 3, 0) or param_of(layer, 4, 0) or param_of(layer, 5, 0) or layer.params.get(9):
        raise g.fail(layer, "a fixed or dynamic output size is not supported; only scale factors")
    empty = g.initializer(np.zeros(0, np.float32), f"{layer.name}_roi")
    if kind == 1:  # ncnn: source index = min(int(x / scale), w - 1)
        scales = g.initializer(np.array([1, 1, hs, ws], np.float32), f"{layer.name}_scales")
        out = g.node("Resize", [x.value, empty, scales], layer.name, mode="nearest",
                     coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        return [Blob(out, 3, x.channels)]
    # bilinear and bicubic: ncnn maps with the ratio of the sizes it computed, int(h * scale)
    hw = g.node("Cast", [g.spatial(x.value, layer.name)], f"{layer.name}_hwf", to=1)
    size = g.node("Floor", [g.node("Mul", [hw, g.initializer(np.array([hs, ws], np.float32), f"{layer.name}_s")],
                                   f"{layer.name}_hws")], f"{layer.name}_floor")
    nc = g.node("Slice", [g.node("Shape", [x.value], f"{layer.name}_shape"), g.ints([0], "s0"), g.ints([2], "s2")],
                f"{layer.name}_nc")
    sizes = g.node("Concat", [nc, g.node("Cast", [size], f"{layer.name}_hwi", to=7)], f"{layer.name}_sizes", axis=0)
    attrs = {"mode": "linear" if kind == 2 else "cubic"}
    attrs["coordinate_transformation_mode"] = "align_corners" if param_of(layer, 6, 0) else "half_pixel"
    if kind == 3:
        attrs["cubic_coeff_a"] = -0.75
    out = g.node("Resize", [x.value, empty, empty, sizes], layer.name, **attrs)
    return [Blob(out, 3, x.channels)]


def _pixel_shuffle(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    r, mode = param_of(layer, 0, 1), param_of(layer, 1, 0)
    if x.dims != 3 or r < 1 or x.channels % (r * r):
        raise g.fail(layer, f"upscale factor {r} does not divide the {x.channels} channels of its input")
    # ncnn mode 0 is PyTorch's pixel_shuffle (ONNX CRD); mode 1 is TensorFlow's depth_to_space (DCR)
    out = g.node("DepthToSpace", [x.value], layer.name, blocksize=r, mode="CRD" if mode == 0 else "DCR")
    return [Blob(out, 3, x.channels // (r * r))]


def _relu(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x, slope = inputs[0], float(param_of(layer, 0, 0.0))
    out = g.node("Relu", [x.value], layer.name) if slope == 0 else g.node("LeakyRelu", [x.value], layer.name,
                                                                          alpha=slope)
    return [Blob(out, x.dims, x.channels)]


def _prelu(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x, count = inputs[0], param_of(layer, 0, 0)
    if count not in (1, x.channels):
        raise g.fail(layer, f"{count} slopes for {x.channels} channels")
    slope = weights.raw(count, layer)
    shape = (count,) if count == 1 else ((count, 1, 1) if x.dims == 3 else (count,))
    out = g.node("PRelu", [x.value, g.initializer(slope.reshape(shape), f"{layer.name}_slope")], layer.name)
    return [Blob(out, x.dims, x.channels)]


def _sigmoid(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    return [Blob(g.node("Sigmoid", [inputs[0].value], layer.name), inputs[0].dims, inputs[0].channels)]


def _scale(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x, size, bias = inputs[0], param_of(layer, 0, 0), param_of(layer, 1, 0)
    if size == -233:  # per-channel scale from a second blob
        if len(inputs) != 2 or bias:
            raise g.fail(layer, "a scale blob input with a bias term is not supported")
        a, b, dims, channels = _broadcast(g, layer, x, inputs[1])
        return [Blob(g.node("Mul", [a, b], layer.name), dims, channels)]
    if size != x.channels or x.dims != 3:
        raise g.fail(layer, f"{size} scales for a {x.dims}-D blob of {x.channels} channels")
    s = weights.raw(size, layer).reshape(size, 1, 1)
    out = g.node("Mul", [x.value, g.initializer(s, f"{layer.name}_s")], layer.name)
    if bias:
        out = g.node("Add", [out, g.initializer(weights.raw(size, layer).reshape(size, 1, 1), f"{layer.name}_b")],
                     f"{layer.name}_bias")
    return [Blob(out, 3, x.channels)]


#: ncnn layer type -> its handler ``(graph, layer, input blobs, weights) -> output blobs`` (Input and Split are
#: handled by the converter itself).
HANDLERS: dict[str, Callable[..., list[Blob]]] = {
    "Convolution": _convolution,
    "Deconvolution": _deconvolution,
    "InnerProduct": _inner_product,
    "Pooling": _pooling,
    "BinaryOp": _binary_op,
    "Eltwise": _eltwise,
    "Concat": _concat,
    "Crop": _crop,
    "Interp": _interp,
    "PixelShuffle": _pixel_shuffle,
    "ReLU": _relu,
    "PReLU": _prelu,
    "Sigmoid": _sigmoid,
    "Scale": _scale,
}
