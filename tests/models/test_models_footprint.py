"""matchcut.models.zoo.footprint: a model's working memory measured from real onnxruntime runs."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.models.zoo import footprint

#: Output channels of the test model's convolution: its output alone is this many float32 values per pixel.
CHANNELS = 32


def _wide_conv(path, fixed: int | None = None):
    """x (1, 3, H, W) -> a 3x3 conv to CHANNELS channels -> relu: the activations grow with the frame."""
    from onnx import TensorProto, helper, numpy_helper, save

    w = np.random.default_rng(0).standard_normal((CHANNELS, 3, 3, 3)).astype(np.float32)
    dims = [1, 3, fixed or "H", fixed or "W"]
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])],
        "wide", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, CHANNELS, fixed or "H", fixed or "W"])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save(model, str(path))


def test_memory_per_megapixel_is_measured_from_real_runs(tmp_path):
    if footprint._status_mb("VmRSS") is None:
        pytest.skip("this system has no /proc/self/status to read resident memory from")
    path = tmp_path / "wide.onnx"
    _wide_conv(path)
    fields = footprint.memory_fields({"size_multiple": 1}, [{"name": "x", "layout": "NCHW"}], path)
    output_mb_per_mpix = CHANNELS * 4 * 1e6 / footprint.MB  # the output tensor the run must hold
    assert set(fields) == {"memory_mb", "memory_mb_per_mpix"}
    assert 0.5 * output_mb_per_mpix <= fields["memory_mb_per_mpix"] <= 10 * output_mb_per_mpix
    assert fields["memory_mb"] >= path.stat().st_size / footprint.MB


def test_a_fixed_size_model_has_a_fixed_figure(tmp_path):
    if footprint._status_mb("VmRSS") is None:
        pytest.skip("this system has no /proc/self/status to read resident memory from")
    path = tmp_path / "fixed.onnx"
    _wide_conv(path, fixed=64)
    fields = footprint.memory_fields({"fixed_size": [64, 64]}, [{"name": "x", "layout": "NCHW"}], path)
    assert fields["memory_mb_per_mpix"] == 0.0 and fields["memory_mb"] > 0


def test_without_a_memory_reading_there_is_no_figure(tmp_path, monkeypatch):
    path = tmp_path / "wide.onnx"
    _wide_conv(path)
    monkeypatch.setattr(footprint, "_status_mb", lambda field: None)
    assert footprint.memory_fields({}, [{"name": "x"}], path) == {}
