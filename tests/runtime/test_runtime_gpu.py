"""The GPU path on a real NVIDIA GPU: IO binding on CUDA device buffers equal to the CPU, batched tiles, the device
list, free memory, TensorRT's one line, and each fp16 variant's quality on the GPU's own fp16 arithmetic.

Skipped where onnxruntime's CUDA provider cannot load (every CI machine); `make bench-gpu` (.ci/bench-gpu) runs
them on a lent GPU machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.runtime import DeviceOptions, create_session, run_tiled
from matchcut.runtime.backends import CUDA, TENSORRT


def _cuda_reason() -> str | None:
    from matchcut.bench.device import no_gpu_reason

    return no_gpu_reason()


pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(_cuda_reason() is not None, reason=f"no usable CUDA GPU: {_cuda_reason()}")]


@pytest.fixture(scope="module")
def conv_path(tmp_path_factory):
    """conv 3x3 (3 -> 8) -> relu -> conv 3x3 (8 -> 3), seeded, float32 [N, 3, H, W], all axes but C dynamic."""
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3, "w0"),
             numpy_helper.from_array(rng.standard_normal((3, 8, 3, 3)).astype(np.float32) * 0.3, "w1")]
    nodes = [helper.make_node("Conv", ["x", "w0"], ["a"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Conv", ["b", "w1"], ["y"], pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "gpu", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "H", "W"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("gpu") / "conv.onnx"
    save(model, str(path))
    return path


def _frames(count, shape=(1, 3, 256, 384)):
    return [np.random.default_rng(i).random(shape, dtype=np.float32) for i in range(count)]


def test_cuda_session_binds_device_buffers_and_equals_the_cpu(conv_path):
    cuda = create_session(conv_path, DeviceOptions(provider="cuda"))
    cpu = create_session(conv_path, DeviceOptions(provider="cpu"))
    assert cuda.provider == CUDA and cuda.runner().device == "cuda"
    for x in _frames(3):
        np.testing.assert_allclose(cuda.run({"x": x})["y"], cpu.run({"x": x})["y"], rtol=1e-4, atol=1e-4)


def test_cuda_pipeline_equals_single_runs_in_order(conv_path):
    cuda = create_session(conv_path, DeviceOptions(provider="cuda"))
    frames = _frames(6) + _frames(2, (2, 3, 128, 96))  # a size change mid-stream reallocates the slot buffers
    many = list(cuda.run_many({"x": x} for x in frames))
    for x, out in zip(frames, many):
        np.testing.assert_array_equal(out["y"], cuda.run({"x": x})["y"])


def test_pinned_host_buffers_are_used_where_onnxruntime_offers_them(conv_path):
    cuda = create_session(conv_path, DeviceOptions(provider="cuda"))
    runner = cuda.runner()
    print(f"pinned host buffers: {runner.pinned}")
    x = _frames(1)[0]
    np.testing.assert_array_equal(runner.run({"x": x})["y"], cuda.run({"x": x})["y"])


def test_batched_tiles_on_cuda_equal_the_whole_frame(conv_path):
    cuda = create_session(conv_path, DeviceOptions(provider="cuda"))
    fn = cuda.image_fn("x", "y")
    image = _frames(1, (1, 3, 300, 500))[0]
    whole = fn(image)
    tiled = run_tiled(fn, image, tile=128, overlap=4, batch=4)
    np.testing.assert_allclose(tiled, whole, rtol=1e-4, atol=1e-4)


def test_the_gpus_are_listed_and_a_missing_one_is_named(conv_path):
    from matchcut.errors import ProviderError
    from matchcut.runtime import budget

    listed = budget.gpus()
    assert listed and budget.free_memory_mb("cuda", listed[0].index) > 0
    missing = max(g.index for g in listed) + 1
    with pytest.raises(ProviderError, match=rf"device.device_id {missing}: no such GPU; this machine has: 0 \("):
        create_session(conv_path, DeviceOptions(provider="cuda", device_id=missing))


def test_tensorrt_runs_where_installed_else_one_line(conv_path):
    from matchcut.runtime.probe import usable_providers

    if TENSORRT in usable_providers().usable:
        trt = create_session(conv_path, DeviceOptions(provider="tensorrt"))
        x = _frames(1)[0]
        ref = create_session(conv_path, DeviceOptions(provider="cpu")).run({"x": x})["y"]
        np.testing.assert_allclose(trt.run({"x": x})["y"], ref, rtol=1e-3, atol=1e-3)
        return
    said = []
    session = create_session(conv_path, DeviceOptions(), on_warning=said.append)
    assert session.provider == CUDA
    if TENSORRT in session.skipped:
        assert len(said) == 1 and said[0].startswith("TensorRT not used (") and "\n" not in said[0]


@pytest.mark.zoo
def test_every_fp16_variant_holds_on_the_gpu(zoo_model):
    from matchcut.models.zoo import catalog, half

    checked = 0
    for model_id in catalog.CATALOG:
        m = zoo_model(model_id)
        if m.fp16_path is None:
            continue
        ref_db, half_db = half.check_quality(m.task, m.onnx_path, m.fp16_path, DeviceOptions(provider="cuda"))
        print(f"{model_id}: PSNR {ref_db:.2f} dB fp32 -> {half_db:.2f} dB fp16 on CUDA")
        assert ref_db - half_db < half.QUALITY_TOLERANCE_DB, model_id
        checked += 1
    assert checked >= 1
