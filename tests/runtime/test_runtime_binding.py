"""matchcut.runtime.binding: IO-bound runs and the upload/compute/download pipeline, equal to plain runs on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.runtime import DeviceOptions, create_session
from matchcut.runtime.backends import CPU, CUDA, TENSORRT
from matchcut.runtime.binding import PIPELINE_DEPTH, BoundRunner, binding_device


@pytest.fixture
def conv_model(tmp_path):
    """A 3x3 convolution (3 -> 4 channels, seeded weights) plus a second output y = x * 2: float32
    [N, 3, H, W] with dynamic N, H, W."""
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(7)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    dims = ["N", 3, "H", "W"]
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1]),
         helper.make_node("Add", ["x", "x"], ["twice"])], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, "H", "W"]),
         helper.make_tensor_value_info("twice", TensorProto.FLOAT, dims)],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "conv.onnx"
    save(model, str(path))
    return path


def _ort_session(path):
    import onnxruntime

    so = onnxruntime.SessionOptions()
    so.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), so, providers=[CPU])


def _frames(count, shape=(1, 3, 20, 28)):
    return [np.random.default_rng(i).random(shape, dtype=np.float32) for i in range(count)]


def test_binding_device_follows_the_first_provider():
    assert binding_device([CUDA, CPU]) == "cuda" and binding_device([TENSORRT, CUDA, CPU]) == "cuda"
    assert binding_device([CPU]) == "cpu" and binding_device(["CoreMLExecutionProvider", CPU]) == "cpu"


def test_bound_run_equals_plain_run(conv_model):
    sess = _ort_session(conv_model)
    runner = BoundRunner(sess, ["y", "twice"])
    assert runner.device == "cpu" and not runner.pinned
    for x in _frames(3):
        ref = sess.run(["y", "twice"], {"x": x})
        got = runner.run({"x": x})
        np.testing.assert_array_equal(got["y"], ref[0])
        np.testing.assert_array_equal(got["twice"], ref[1])


def test_a_non_contiguous_input_is_bound_as_its_values(conv_model):
    sess = _ort_session(conv_model)
    x = np.random.default_rng(3).random((1, 3, 28, 20), dtype=np.float32).transpose(0, 1, 3, 2)
    assert not x.flags["C_CONTIGUOUS"]
    got = BoundRunner(sess, ["y"]).run({"x": x})["y"]
    np.testing.assert_array_equal(got, sess.run(["y"], {"x": np.ascontiguousarray(x)})[0])


@pytest.mark.parametrize("count", [0, 1, PIPELINE_DEPTH, 7])
def test_pipelined_runs_keep_order_and_equal_plain_runs(conv_model, count):
    sess = _ort_session(conv_model)
    frames = _frames(count)
    got = list(BoundRunner(sess, ["y", "twice"]).run_many({"x": x} for x in frames))
    assert len(got) == count
    for x, out in zip(frames, got):
        np.testing.assert_array_equal(out["y"], sess.run(["y"], {"x": x})[0])
        np.testing.assert_array_equal(out["twice"], x + x)


def test_pipeline_takes_frames_of_changing_size_and_a_generator(conv_model):
    sess = _ort_session(conv_model)
    shapes = [(1, 3, 8, 8), (2, 3, 16, 12), (1, 3, 8, 8), (3, 3, 5, 9)]
    frames = [np.random.default_rng(i).random(s, dtype=np.float32) for i, s in enumerate(shapes)]
    got = list(BoundRunner(sess, ["y"]).run_many({"x": x} for x in frames))
    assert [g["y"].shape for g in got] == [(s[0], 4, s[2], s[3]) for s in shapes]
    for x, out in zip(frames, got):
        np.testing.assert_array_equal(out["y"], sess.run(["y"], {"x": x})[0])


def test_an_error_in_a_frame_is_raised_from_the_pipeline(conv_model):
    sess = _ort_session(conv_model)
    frames = [{"x": _frames(1)[0]}, {"x": np.zeros((1, 5, 8, 8), np.float32)}]  # 5 channels: the Conv refuses
    with pytest.raises(Exception, match="(?i)channel|dimension|shape|invalid"):
        list(BoundRunner(sess, ["y"]).run_many(frames))


def test_session_run_goes_through_binding_and_equals_onnxruntime(conv_model):
    session = create_session(conv_model, DeviceOptions(provider="cpu", threads=1))
    raw = _ort_session(conv_model)
    x = _frames(1)[0]
    out = session.run({"x": x})
    assert set(out) == {"y", "twice"}
    np.testing.assert_array_equal(out["y"], raw.run(["y"], {"x": x})[0])
    assert session.runner().device == "cpu" and session.runner() is session.runner()


def test_session_run_many_equals_run_per_frame(conv_model):
    session = create_session(conv_model, DeviceOptions(provider="cpu", threads=1))
    frames = _frames(5)
    many = list(session.run_many({"x": x} for x in frames))
    for x, out in zip(frames, many):
        single = session.run({"x": x})
        np.testing.assert_array_equal(out["y"], single["y"])
        np.testing.assert_array_equal(out["twice"], single["twice"])


def test_session_run_many_checks_every_frames_feeds(conv_model):
    from matchcut.errors import ModelError

    session = create_session(conv_model, DeviceOptions(provider="cpu", threads=1))
    with pytest.raises(ModelError, match="do not match the model's inputs"):
        list(session.run_many([{"x": _frames(1)[0]}, {"image": _frames(1)[0]}]))


def test_image_fn_runs_one_output_and_maps_in_order(conv_model):
    session = create_session(conv_model, DeviceOptions(provider="cpu", threads=1))
    assert session.takes_batch
    fn = session.image_fn("x", "y")
    frames = _frames(4)
    mapped = list(fn.map(iter(frames)))
    for x, y in zip(frames, mapped):
        np.testing.assert_array_equal(y, session.run({"x": x})["y"])
        np.testing.assert_array_equal(fn(x), y)


@pytest.mark.parametrize("count", [1, PIPELINE_DEPTH + 1, 9])
def test_the_cuda_paths_slot_buffers_on_the_cpu_keep_every_frame_its_own(conv_model, count):
    """device_buffers=True runs the CUDA path's logic here: per-slot buffers, reused and refilled frame after
    frame while the pipeline runs; a slot refilled before its frame computed would give a wrong result."""
    sess = _ort_session(conv_model)
    runner = BoundRunner(sess, ["y"], device="cpu", device_buffers=True)
    frames = _frames(count) + [np.random.default_rng(50).random((2, 3, 12, 10), dtype=np.float32)]
    got = list(runner.run_many({"x": x} for x in frames))
    for x, out in zip(frames, got):
        np.testing.assert_array_equal(out["y"], sess.run(["y"], {"x": x})[0])
    held = [slot.device_inputs["x"][1] for slot in runner._slots if "x" in slot.device_inputs]
    assert held and all(shape_dtype[1] == np.float32 for shape_dtype in held)


def test_image_fn_repeats_a_per_sample_extra_input_to_the_batch(tmp_path):
    """RIFE-like: y = x * t with t (N, 1, 1, 1); a batch of 3 windows gets t repeated to (3, 1, 1, 1)."""
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "t"], ["y"])], "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"]),
         helper.make_tensor_value_info("t", TensorProto.FLOAT, ["N", 1, 1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "H", "W"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save(model, str(tmp_path / "scale.onnx"))
    session = create_session(tmp_path / "scale.onnx", DeviceOptions(provider="cpu", threads=1))
    fn = session.image_fn("x", "y", {"t": np.full((1, 1, 1, 1), 0.5, np.float32)})
    x = _frames(1, (3, 3, 4, 5))[0]
    np.testing.assert_array_equal(fn(x), x * np.float32(0.5))
    np.testing.assert_array_equal(next(fn.map([x])), x * np.float32(0.5))
