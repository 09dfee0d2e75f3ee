"""TFLite flatbuffer -> ONNX converter (no TensorFlow), and the zoo builders for the MediaPipe models.

The flatbuffer is read with the ``tflite`` schema package; each op becomes ONNX nodes through the handlers
in ``matchcut.models.zoo.tflite_ops`` (MediaPipe's custom ``Convolution2DTransposeBias`` included). Graph
inputs and outputs keep TFLite's NHWC layout; 4-D activations inside are NCHW. float16 weights behind
DEQUANTIZE ops are folded into float32 initializers.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matchcut.color import SRGB_DISPLAY  # MediaPipe's inputs: 8-bit display sRGB scaled to floats
from matchcut.errors import ConversionError


@dataclass(frozen=True)
class ConversionReport:
    """What a conversion read and wrote. Shapes are TFLite's (NHWC for 4-D), which the ONNX graph keeps at its I/O."""

    source: Path
    onnx_path: Path
    ops: dict[str, int]  # TFLite op name -> count, ``CUSTOM:<code>`` for custom ops
    nodes: int  # ONNX nodes written
    inputs: tuple[tuple[str, tuple[int, ...]], ...]
    outputs: tuple[tuple[str, tuple[int, ...]], ...]
    fp16_folded: int = 0  # DEQUANTIZE ops folded into float32 initializers


def _op_name(model, op) -> str:
    from matchcut.models.zoo.tflite_ops import BUILTIN_NAMES

    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())  # old files only fill the deprecated field
    if builtin == 32:  # BuiltinOperator.CUSTOM
        custom = code.CustomCode()
        return "CUSTOM:" + (custom.decode("utf-8", "replace") if custom else "?")
    return BUILTIN_NAMES.get(builtin, f"builtin code {builtin}")


def read_model(tflite_path: Path):
    """Parse a ``.tflite`` file; returns (``tflite.Model``, raw bytes). ConversionError when it is not one."""
    import tflite

    path = Path(tflite_path)
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise ConversionError(f"{path}: cannot read TFLite model: {exc.strerror or exc}") from None
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ConversionError(f"{path}: not a TFLite flatbuffer (expected the 'TFL3' identifier at byte 4)")
    model = tflite.Model.GetRootAsModel(buf, 0)
    if model.SubgraphsLength() < 1:
        raise ConversionError(f"{path}: TFLite model has no subgraph")
    return model, buf


def op_census(tflite_path: Path) -> dict[str, int]:
    """Count the ops of a TFLite model's main subgraph by name (``CUSTOM:<code>`` for custom ops)."""
    model, _ = read_model(tflite_path)
    sub = model.Subgraphs(0)
    return dict(Counter(_op_name(model, sub.Operators(i)) for i in range(sub.OperatorsLength())))


def convert_tflite(tflite_path: Path, onnx_path: Path, *, input_name: str | None = None,
                   output_names: Sequence[str] | None = None) -> ConversionReport:
    """Convert a float TFLite model to an ONNX file (opset 17) that onnx.checker accepts.

    The ONNX graph takes and returns the TFLite model's own tensors: float32, NHWC for 4-D ones, the same
    value ranges. ``input_name`` renames the (single) input; ``output_names`` renames the outputs in TFLite
    order. Raises ConversionError for an op it does not know, naming it and listing the supported ones.
    """
    from onnx import TensorProto, helper

    from matchcut.models.zoo.onnx_graph import write_graph
    from matchcut.models.zoo.tflite_ops import BUILTIN_HANDLERS, CUSTOM_HANDLERS, TO_NCHW, TO_NHWC, Graph, supported_ops

    src, dst = Path(tflite_path), Path(onnx_path)
    model, buf = read_model(src)
    g = Graph(model, buf, str(src))
    sub = g.sub
    n_in, n_out = sub.InputsLength(), sub.OutputsLength()
    if input_name is not None and n_in != 1:
        raise ConversionError(f"{src}: input_name given but the model has {n_in} inputs")
    if output_names is not None and len(output_names) != n_out:
        raise ConversionError(f"{src}: {len(output_names)} output names given for {n_out} outputs")

    # check every op first, so unknown ones are reported before any work
    names = [_op_name(model, sub.Operators(i)) for i in range(sub.OperatorsLength())]
    unknown = sorted({n for n in names if not (n[7:] in CUSTOM_HANDLERS if n.startswith("CUSTOM:") else n in BUILTIN_HANDLERS)})
    if unknown:
        first = names.index(unknown[0])
        raise ConversionError(f"{src}: TFLite op {', '.join(unknown)} (first at operator {first}) is not supported; "
                              f"supported: {', '.join(supported_ops())}")

    graph_inputs, report_inputs = [], []
    for k in range(n_in):
        idx = sub.Inputs(k)
        shape = g.shape(idx)
        if g.ttype(idx) != 0:  # TensorType.FLOAT32
            raise ConversionError(f"{src}: input '{g.tname(idx)}' is not float32; quantized models are not supported")
        name = g.fresh(input_name or g.tname(idx) or f"input_{k}")
        graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        report_inputs.append((name, shape))
        if len(shape) == 4:
            g.set_value(idx, g.node("Transpose", [name], f"t{idx}", perm=list(TO_NCHW)), True)
        else:
            g.set_value(idx, name, False)

    # output names are taken before any internal name, so a requested one is never renamed
    out_names = []
    for k in range(n_out):
        wanted = output_names[k] if output_names else g.tname(sub.Outputs(k)) or f"output_{k}"
        got = g.fresh(wanted)
        if output_names and got != wanted:
            raise ConversionError(f"{src}: output name '{wanted}' is used twice (or is the input's name)")
        out_names.append(got)

    for i, name in enumerate(names):
        op = sub.Operators(i)
        ins = [int(v) for v in op.InputsAsNumpy()] if op.InputsLength() else []
        outs = [int(v) for v in op.OutputsAsNumpy()]
        handler = CUSTOM_HANDLERS[name[7:]] if name.startswith("CUSTOM:") else BUILTIN_HANDLERS[name]
        handler(g, op, ins, outs)

    graph_outputs, report_outputs = [], []
    for k, name in enumerate(out_names):
        idx = sub.Outputs(k)
        shape = g.shape(idx)
        if idx in g.nchw:
            node = helper.make_node("Transpose", [g.value(idx)], [name], perm=list(TO_NHWC), name=g.fresh(f"Transpose_{name}"))
        else:
            node = helper.make_node("Identity", [g.value(idx)], [name], name=g.fresh(f"Identity_{name}"))
        g.nodes.append(node)
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        report_outputs.append((name, shape))

    write_graph(g, src.stem, graph_inputs, graph_outputs, dst, producer="matchcut.models.zoo.tflite",
                where=str(src))
    return ConversionReport(src, dst, dict(Counter(names)), len(g.nodes), tuple(report_inputs), tuple(report_outputs),
                            g.fp16_folded)


# --- zoo builders (signature: see matchcut.models.zoo.catalog) -------------------------------------------


def _rgb_input(shape: tuple[int, ...], lo: float, hi: float) -> dict:
    return {"name": "input", "layout": "NHWC", "channels": ["R", "G", "B"], "range": [lo, hi],
            "colorspace": SRGB_DISPLAY, "shape": list(shape),
            "description": f"RGB image resized to {shape[2]}x{shape[1]}, values scaled to [{lo:g}, {hi:g}]"}


def _convert(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None], outputs: Sequence[str]) -> ConversionReport:
    report = convert_tflite(members["model"], out_onnx, input_name="input", output_names=outputs)
    census = ", ".join(f"{k} {v}" for k, v in sorted(report.ops.items()))
    log(f"converted {Path(members['model']).name}: {sum(report.ops.values())} TFLite ops ({census}) -> {report.nodes} ONNX nodes")
    return report


def _selfie(members, out_onnx, log, which: str) -> dict:
    report = _convert(members, out_onnx, log, ["segment"])
    (_, shape), = report.inputs
    return {
        "task": "segmentation",
        "description": f"MediaPipe selfie segmentation, {which} model ({shape[1]}x{shape[2]}): person probability.",
        "inputs": [_rgb_input(shape, 0.0, 1.0)],
        "outputs": [{"name": "segment", "layout": "NHWC", "channels": ["A"], "range": [0.0, 1.0],
                     "shape": list(report.outputs[0][1]), "description": "probability that the pixel is a person"}],
        "runtime": {"fixed_size": [shape[1], shape[2]], "tileable": False},
        "controls": [{"name": "threshold", "type": "float", "default": 0.5, "min": 0.0, "max": 1.0,
                      "label": "Threshold", "help": "probability above which a pixel counts as person"}],
    }


def build_selfie_segmentation(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: MediaPipe's general selfie segmentation (256x256 RGB in [0,1] -> 256x256 probability)."""
    return _selfie(members, out_onnx, log, "general")


def build_selfie_segmentation_landscape(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: MediaPipe's landscape selfie segmentation (144x256 RGB in [0,1] -> 144x256 probability)."""
    return _selfie(members, out_onnx, log, "landscape")


def build_face_detection(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: BlazeFace short range (128x128 RGB in [-1,1] -> 896 anchor boxes and scores).

    The [-1, 1] range is MediaPipe's own: its FaceDetection graph's ImageToTensorCalculator asks for
    output_tensor_float_range {min: -1 max: 1} (with keep_aspect_ratio and zero borders).
    """
    report = _convert(members, out_onnx, log, ["regressors", "classificators"])
    (_, shape), = report.inputs
    return {
        "task": "face-detection",
        "description": "MediaPipe BlazeFace short-range face detector (128x128): 896 anchors, faces within ~2 m.",
        "inputs": [_rgb_input(shape, -1.0, 1.0)],
        "outputs": [
            {"name": "regressors", "layout": "other", "shape": list(report.outputs[0][1]),
             "description": "per anchor: box centre x, y, width, height and 6 keypoints (x, y), in input pixels relative to the anchor"},
            {"name": "classificators", "layout": "other", "shape": list(report.outputs[1][1]),
             "description": "per anchor: face score logit (apply a sigmoid)"},
        ],
        "runtime": {"fixed_size": [shape[1], shape[2]], "tileable": False},
    }


def build_face_landmarks(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: MediaPipe face mesh (192x192 face crop, RGB in [0,1] -> 468 3-D landmarks and a face score),
    plus ``face-landmarks.tessellation.json``: the mesh's 852 triangles and 2,556 edges over the 468 points."""
    report = _convert(members, out_onnx, log, ["landmarks", "face_flag"])
    (_, shape), = report.inputs
    data_name = "face-landmarks.tessellation.json"
    tess = read_tessellation(members["tessellation"])
    (Path(out_onnx).parent / data_name).write_text(json.dumps(tess, separators=(",", ":")), encoding="utf-8")
    log(f"tessellation: {len(tess['triangles'])} triangles, {len(tess['edges'])} edges")
    return {
        "task": "face-landmarks",
        "description": "MediaPipe face mesh (192x192 face crop): 468 3-D landmarks and a face-presence score.",
        "inputs": [_rgb_input(shape, 0.0, 1.0)],
        "outputs": [
            {"name": "landmarks", "layout": "NHWC", "shape": list(report.outputs[0][1]),
             "description": "468 points x (x, y, z) in input pixels; z relative depth at the same scale as x"},
            {"name": "face_flag", "layout": "NHWC", "shape": list(report.outputs[1][1]),
             "description": "face-presence logit (apply a sigmoid)"},
        ],
        "runtime": {"fixed_size": [shape[1], shape[2]], "tileable": False},
        "data": [data_name],
    }


def read_tessellation(path: Path) -> dict:
    """The face mesh tessellation from MediaPipe's ``face_mesh_connections.py``, read as data with ``ast``
    (never imported or executed): {"points": 468, "triangles": [[a, b, c], ...], "edges": [[a, b], ...]}."""
    path = Path(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise ConversionError(f"{path}: cannot parse face mesh connections: {exc}") from None
    edges = None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "FACEMESH_TESSELATION" and isinstance(node.value, ast.Call)
                and len(node.value.args) == 1):
            try:
                edges = [tuple(int(v) for v in e) for e in ast.literal_eval(node.value.args[0])]
            except (ValueError, TypeError):
                break
            break
    if not edges or len(edges) % 3 or any(len(e) != 2 for e in edges):
        raise ConversionError(f"{path}: FACEMESH_TESSELATION is not a literal list of edge pairs in triangles")
    # the list is written triangle by triangle: (a, b), (b, c), (c, a)
    triangles = []
    for i in range(0, len(edges), 3):
        (a, b), (b2, c), (c2, a2) = edges[i : i + 3]
        if (b, c, a) != (b2, c2, a2):
            raise ConversionError(f"{path}: FACEMESH_TESSELATION edges {i}..{i + 2} do not close a triangle")
        triangles.append([a, b, c])
    points = max(max(e) for e in edges) + 1
    return {"points": points, "triangles": triangles, "edges": [list(e) for e in edges]}
