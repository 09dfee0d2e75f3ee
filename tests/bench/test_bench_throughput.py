"""`matchcut bench --device`: the device check, and the throughput benchmark's table (its figures are not
asserted: timings belong in docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from matchcut.bench import device as bench_device
from matchcut.bench import throughput
from matchcut.errors import ProviderError, SettingError


@pytest.fixture(autouse=True)
def _cpu_again():
    yield
    bench_device._chosen["device"] = "cpu"


def test_an_unknown_device_is_a_setting_error():
    with pytest.raises(SettingError, match="--device"):
        bench_device.set_device("tpu")
    assert bench_device.set_device("cpu") == "cpu" and bench_device.device() == "cpu"


def test_cuda_without_a_gpu_says_no_gpu_was_found_in_one_line():
    reason = bench_device.no_gpu_reason()
    if reason is None:
        pytest.skip("CUDA loads here: this is the GPU machine")
    with pytest.raises(ProviderError) as caught:
        bench_device.set_device("cuda")
    assert str(caught.value).startswith("--device cuda: no GPU found: ") and "\n" not in str(caught.value)
    assert bench_device.device() == "cpu"


def test_the_cli_stops_before_measuring_when_cuda_is_asked_for_without_a_gpu(tmp_path, capsys):
    from matchcut.cli.app import main

    if bench_device.no_gpu_reason() is None:
        pytest.skip("CUDA loads here: this is the GPU machine")
    out = tmp_path / "benchmarks.md"
    with pytest.raises(SystemExit) as caught:
        main(["bench", "--device", "cuda", "--write", str(out)])
    assert caught.value.code == ProviderError.exit_code and not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("matchcut: error: --device cuda: no GPU found: ")


@pytest.mark.zoo
def test_throughput_table_on_the_cpu(monkeypatch):
    monkeypatch.setattr(throughput, "MODELS", ("degrain-small", "face-detection"))
    monkeypatch.setattr(throughput, "SIZES", {"1080p": (96, 160), "4K": (192, 320)})
    monkeypatch.setattr(throughput, "FRAMES", {"cpu": 1, "cuda": 1})
    res = throughput.bench_throughput(quick=True)
    assert res.name == "throughput" and res.title.startswith("Zoo throughput, CPU: ")
    assert [(r[0], r[1], r[2]) for r in res.rows] == [("degrain-small", "fp32", "1080p"), ("face-detection", "fp32", "1080p")]
    assert res.rows[0][3] == "160x96" and res.rows[1][3] == "128x128x3"  # the fixed-size model's own input
    for row in res.rows:
        assert len(row) == len(res.header)
        assert all(float(cell.split(" ")[0]) > 0 for cell in row[4:7])
    assert "(tile " in res.rows[0][8]  # degrain's end to end goes through the memory budget
    assert any(n.startswith("degrain-small: fp16 variant used on GPUs") for n in res.notes)
    assert any("1080p only" in n for n in res.notes)
