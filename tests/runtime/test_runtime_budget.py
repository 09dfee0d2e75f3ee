"""matchcut.runtime.budget: GPU listing, free memory, tile and batch from a memory figure, OOM retries (injected)."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import DeviceMemoryError, ProviderError
from matchcut.runtime import budget
from matchcut.runtime.budget import (
    BUDGET_FRACTION,
    Gpu,
    MemoryFigure,
    TilePlan,
    check_device_id,
    choose_tiling,
    is_out_of_memory,
    run_budgeted,
    shrink,
    smallest_tile,
)
from matchcut.runtime.tiling import run_tiled

H200 = [Gpu(0, "NVIDIA H200", 143771.0, 140000.0)]


def test_a_device_id_that_does_not_exist_names_the_ones_that_do():
    with pytest.raises(ProviderError, match=r"^device.device_id 3: no such GPU; this machine has: 0 \(NVIDIA H200\)$"):
        check_device_id(3, H200)
    two = H200 + [Gpu(1, "NVIDIA H100", 81559.0, 80000.0)]
    check_device_id(1, two)  # exists: no error
    with pytest.raises(ProviderError, match=r"has: 0 \(NVIDIA H200\), 1 \(NVIDIA H100\)"):
        check_device_id(2, two)
    with pytest.raises(ProviderError, match="has: none"):
        check_device_id(0, [])


def test_without_nvidia_smi_the_device_id_is_left_to_onnxruntime(monkeypatch):
    monkeypatch.setattr(budget.shutil, "which", lambda name: None)
    assert budget.gpus() is None
    check_device_id(5)  # nothing known: onnxruntime's own error speaks later
    assert budget.free_memory_mb("cuda", 0) is None


def test_gpus_reads_nvidia_smi(monkeypatch):
    class Done:
        returncode = 0
        stdout = "0, NVIDIA H200, 143771, 139000\n1, NVIDIA H200, 143771, [N/A]\n"

    monkeypatch.setattr(budget.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(budget.subprocess, "run", lambda *a, **k: Done())
    assert budget.gpus() == [Gpu(0, "NVIDIA H200", 143771.0, 139000.0)]  # the unreadable one is skipped
    assert budget.free_memory_mb("cuda", 0) == 139000.0 and budget.free_memory_mb("cuda", 1) is None


def test_free_cpu_memory_is_read():
    free = budget.free_memory_mb("cpu")
    assert free is not None and free > 0


FIGURE = MemoryFigure(base_mb=100.0, mb_per_mpix=400.0)


def test_a_frame_that_fits_runs_whole():
    plan = choose_tiling(1080, 1920, figure=FIGURE, free_mb=10000.0, multiple=4, overlap=27)
    assert plan == TilePlan(1920, 1)
    # no figure, or no reading: whole frame (the OOM retry is the safety net)
    assert choose_tiling(2160, 3840, figure=None, free_mb=10.0, multiple=64) == TilePlan(3840, 1)
    assert choose_tiling(2160, 3840, figure=FIGURE, free_mb=None) == TilePlan(3840, 1)


def test_tile_and_batch_fit_the_budget():
    free = 1000.0
    plan = choose_tiling(2160, 3840, figure=FIGURE, free_mb=free, multiple=4, overlap=27)
    assert plan.tile < 3840 and plan.tile % 4 == 0 and plan.batch >= 1
    assert FIGURE.need_mb(plan.tile, plan.tile, plan.batch) <= free * BUDGET_FRACTION
    # the largest tile that fits is chosen: twice it would not fit even alone
    assert FIGURE.need_mb(2 * plan.tile, 2 * plan.tile) > free * BUDGET_FRACTION
    single = choose_tiling(2160, 3840, figure=FIGURE, free_mb=free, multiple=4, overlap=27, max_batch=1)
    assert single == TilePlan(plan.tile, 1)


def test_too_little_memory_for_the_smallest_tile_says_what_it_needs():
    least = smallest_tile(27, 4)
    assert least == 60 and least > 2 * 27
    with pytest.raises(DeviceMemoryError) as caught:
        choose_tiling(2160, 3840, figure=FIGURE, free_mb=50.0, multiple=4, overlap=27, model="degrain-small",
                      device="GPU 0")
    line = str(caught.value)
    assert "\n" not in line and line.startswith("GPU 0: 50 MB free")
    assert f"smallest tile of model 'degrain-small' ({least}x{least}" in line
    assert f"needs {FIGURE.need_mb(least, least):.0f} MB" in line


def test_a_model_that_cannot_be_tiled_says_what_the_whole_frame_needs():
    with pytest.raises(DeviceMemoryError, match=r"needs 3418 MB for one 3840x2176 frame \(it cannot be tiled\)"):
        choose_tiling(2160, 3840, figure=MemoryFigure(76.0, 400.0), free_mb=1000.0, multiple=64, tileable=False,
                      model="rife-4.25")


def test_out_of_memory_errors_are_recognised():
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code "
                                         "returned while running Conv node. Status Message: Failed to allocate "
                                         "memory for requested buffer of size 35389440"))
    assert is_out_of_memory(RuntimeError("CUDA failure 2: out of memory ; GPU=0"))
    assert not is_out_of_memory(RuntimeError("Invalid input name: x"))


def test_shrink_halves_the_batch_then_the_tile():
    assert shrink(TilePlan(512, 4), 8, 4) == TilePlan(512, 2)
    assert shrink(TilePlan(512, 1), 8, 4) == TilePlan(256, 1)
    assert shrink(TilePlan(smallest_tile(8, 4), 1), 8, 4) is None
    assert shrink(TilePlan(512, 1), 8, 4, tileable=False) is None


def _box(window: np.ndarray) -> np.ndarray:
    """A 3x3 box mean per sample (receptive-field radius 1), zero-padded like a conv."""
    padded = np.pad(window, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, w = window.shape[-2:]
    return sum(padded[..., dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)) / np.float32(9)


class _OOMAbove:
    """fn for run_tiled that raises onnxruntime's allocation failure for runs above ``limit`` pixels."""

    def __init__(self, limit: int):
        self.limit, self.calls = limit, []

    def __call__(self, window: np.ndarray) -> np.ndarray:
        self.calls.append(window.shape)
        if window.shape[0] * window.shape[2] * window.shape[3] > self.limit:
            raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory for "
                               "requested buffer of size 123456")
        return _box(window)


def test_an_injected_oom_retries_smaller_says_so_once_per_step_and_finishes():
    image = np.random.default_rng(0).random((1, 3, 96, 128), dtype=np.float32)
    expected = run_tiled(_box, image, tile=64, overlap=2)
    fn = _OOMAbove(limit=40 * 40 * 2)
    said = []
    got = run_budgeted(fn, image, plan=TilePlan(128, 1), overlap=2, multiple=4, on_message=said.append, model="box")
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert said and all("\n" not in s and s.startswith("model 'box': out of memory at tile") for s in said)
    assert said[0] == "model 'box': out of memory at tile 128 x batch 1; retrying with tile 64 x batch 1"
    assert max(h * w for _, _, h, w in fn.calls[-3:]) <= 40 * 40 * 2


def test_an_injected_oom_halves_the_batch_first():
    image = np.random.default_rng(1).random((1, 3, 64, 160), dtype=np.float32)
    fn = _OOMAbove(limit=2 * 40 * 40)
    said = []
    got = run_budgeted(fn, image, plan=TilePlan(40, 4), overlap=2, multiple=4, on_message=said.append)
    np.testing.assert_allclose(got, run_tiled(_box, image, tile=40, overlap=2), rtol=0, atol=1e-6)
    assert said == ["model 'the model': out of memory at tile 40 x batch 4; retrying with tile 40 x batch 2"]


def test_oom_even_at_the_smallest_tile_is_one_error_line():
    image = np.zeros((1, 3, 64, 64), np.float32)
    with pytest.raises(DeviceMemoryError, match=r"^model 'box' ran out of memory even at tile 8 x batch 1 \("):
        run_budgeted(_OOMAbove(limit=1), image, plan=TilePlan(64, 1), overlap=2, multiple=4, model="box")


def test_other_errors_are_not_retried():
    calls = []

    def broken(window):
        calls.append(1)
        raise ValueError("not a memory problem")

    with pytest.raises(ValueError, match="not a memory problem"):
        run_budgeted(broken, np.zeros((1, 1, 32, 32), np.float32), plan=TilePlan(32, 1), overlap=2)
    assert len(calls) == 1


def test_plan_for_a_session_reads_the_manifest_figure_and_cpu_memory(tmp_path, monkeypatch):
    from matchcut.models.runtime_info import RuntimeInfo

    class FakeSession:
        active = ["CPUExecutionProvider"]
        device_id = 0
        takes_batch = True

    monkeypatch.setattr(budget, "free_memory_mb", lambda device, device_id=0: 500.0)
    runtime = RuntimeInfo(size_multiple=4, receptive_field=27, memory_mb=10.0, memory_mb_per_mpix=400.0)
    plan = budget.plan_for(FakeSession(), runtime, 2160, 3840, model="degrain-small")
    assert plan.tile < 3840 and MemoryFigure(10.0, 400.0).need_mb(plan.tile, plan.tile, plan.batch) <= 400.0
    FakeSession.takes_batch = False
    assert budget.plan_for(FakeSession(), runtime, 2160, 3840).batch == 1
    unmeasured = RuntimeInfo(size_multiple=4, receptive_field=27)
    assert budget.plan_for(FakeSession(), unmeasured, 2160, 3840) == TilePlan(3840, 1)


def test_cuda_visible_devices_renumbers_the_gpus_as_cuda_sees_them(monkeypatch):
    four = [Gpu(i, f"GPU{i}", 1000.0, 900.0 - i) for i in range(4)]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert [(g.index, g.name) for g in budget.cuda_numbered(four)] == [(0, "GPU2"), (1, "GPU3")]
    with pytest.raises(ProviderError, match=r"device_id 2: no such GPU; this machine has: 0 \(GPU2\), 1 \(GPU3\)"):
        check_device_id(2, four)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert budget.cuda_numbered(four) == []  # CUDA sees none
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-5f1c")
    assert budget.cuda_numbered(four) == four  # UUIDs: no index to map by
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert budget.cuda_numbered(four) == four
