"""What every converter of the model zoo writes through: an ONNX graph being built (nodes, initializers, names
unique in the graph) and its file, written atomically and only once onnx.checker accepts it.

The TFLite converter (``tflite_ops.Graph``) and the ncnn one (``ncnn_ops.Graph``) build on OnnxGraph; both write
opset 17 at IR version 8, what every onnxruntime with opset 17 loads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matchcut.errors import ConversionError

OPSET = 17
IR_VERSION = 8  # the IR of opset 17


class OnnxGraph:
    """ONNX nodes and initializers being written, each value and node named once."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self._used: set[str] = set()

    def fresh(self, hint: str) -> str:
        """A graph-unique ONNX name starting with ``hint``."""
        name, n = hint, 1
        while name in self._used:
            name, n = f"{hint}_{n}", n + 1
        self._used.add(name)
        return name

    def node(self, op_type: str, inputs: Sequence[str], hint: str, **attrs) -> str:
        """Append one ONNX node with one output and return the output's name."""
        from onnx import helper

        out = self.fresh(hint)
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=self.fresh(f"{op_type}_{out}"), **attrs))
        return out

    def initializer(self, array: np.ndarray, hint: str) -> str:
        """Add ``array`` as an initializer; returns its name."""
        from onnx import numpy_helper

        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name


def write_graph(g: OnnxGraph, name: str, inputs: list, outputs: list, dst: Path, *, producer: str,
                where: str) -> None:
    """The graph of ``g`` with these value infos as an ONNX model at ``dst``: written to a temporary name, checked
    by onnx.checker (full check), then moved into place; ConversionError naming ``where`` when it fails."""
    import onnx
    from onnx import helper

    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=producer)
    model.ir_version = IR_VERSION
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
    try:
        onnx.save(model, str(tmp))
        onnx.checker.check_model(str(tmp), full_check=True)
        os.replace(tmp, dst)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ConversionError(f"{where}: converted graph fails onnx.checker: {str(exc).splitlines()[0]}") from None
    finally:
        tmp.unlink(missing_ok=True)
