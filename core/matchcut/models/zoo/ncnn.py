"""ncnn ``.param``/``.bin`` -> ONNX converter (no ncnn needed); the super-resolution builders are in ``upscalers``.

ncnn's text ``.param`` (magic 7767517) lists layers in order: type, name, bottom and top blob names and ``id=value``
pairs (``-233xx=n,v1,..`` for arrays). The ``.bin`` holds each layer's weights in that order: a weight blob starts
with a 4-byte tag (0x01306B47: float16, padded to 4 bytes; 0: float32; 0x0002C056: float32; another non-zero tag:
a 256-entry float table and uint8 indices; 0x000D4B38: int8, not supported), biases and slopes are raw float32.
Every layer becomes ONNX nodes (opset 17) over NCHW float32 tensors with a batch axis: an ncnn 3-D blob (c, h, w)
is (N, C, H, W); a 1-D blob (w) is (N, W). Channel counts are tracked statically, so ncnn's broadcasting (a 1-D
blob against a 3-D one is per channel when its length is the channel count) and every weight shape are checked
while converting. Height and width stay dynamic. ``pre`` and ``post`` hooks let a builder add what a runtime does
around the network (padding, cropping) to the same graph.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matchcut.errors import ConversionError
from matchcut.models.zoo.onnx_graph import write_graph
from matchcut.models.zoo.ncnn_ops import HANDLERS, Blob, Graph, NcnnLayer, WeightReader, param_of

MAGIC = 7767517


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
    channels = int(param_of(inputs[0], 2, 0)) or input_channels
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
    inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", channels, "H", "W"])]
    write_graph(g, param.stem, inputs, [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, dims)], dst,
                producer="matchcut.models.zoo.ncnn", where=str(param))
    census = dict(Counter(layer.type for layer in layers))
    return ConversionReport(param, dst, census, len(g.nodes), weights.values, weights.fp16_values)
