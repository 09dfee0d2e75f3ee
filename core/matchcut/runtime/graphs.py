"""ONNX graphs the project builds in code (no weights): finished the same way, written once into the user
cache, then run through the runtime like any model (the same graph runs on a GPU in every host)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def make_model(nodes: list, name: str, inputs: list, outputs: list, initializers: list) -> Any:
    """An onnx.ModelProto at opset 17 that onnxruntime 1.2x-1.3x reads (they read IR versions up to 10)."""
    from onnx import helper

    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="matchcut")
    model.ir_version = 8
    return model


def cached_graph(name: str, build: Callable[[], Any]) -> Path:
    """The file `name` under the user cache's graphs/ folder, built, checked and written atomically the first
    time; `name` carries the graph's version, so a changed graph gets a new file."""
    import onnx

    from matchcut import settings

    path = settings.cache_dir() / "graphs" / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        model = build()
        onnx.checker.check_model(model)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        onnx.save(model, str(tmp))
        os.replace(tmp, path)
    return path
