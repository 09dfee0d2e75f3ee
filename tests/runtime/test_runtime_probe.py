"""matchcut.runtime.probe: which GPU providers really load, the per-process memo and per-machine cache, and
keeping onnxruntime's own output (C++ lines on fd 2, Python fallback prints) from the user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matchcut.errors import ProviderError
from matchcut.runtime import DeviceOptions, create_session, probe
from matchcut.runtime.backends import CPU, CUDA, GPU_ORDER, TENSORRT
from matchcut.runtime.session import gpu_name

NOISE = ("EP Error", "Falling back", "[E:onnxruntime", "[W:onnxruntime", "*******", "onnxruntime_src")


@pytest.fixture(autouse=True)
def _clean(tmp_path, monkeypatch):
    """The probe cache under tmp_path, no debug, and a fresh process memo for every test."""
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MATCHCUT_DEBUG", raising=False)
    probe.forget()
    yield
    probe.forget()


@pytest.fixture
def counted(monkeypatch):
    """Replace the real per-provider probe with one that records its calls and finds CUDA missing a library."""
    calls = []

    def fake(provider, model):
        calls.append(provider)
        return "libcudnn.so.9 not found" if provider == CUDA else None

    monkeypatch.setattr(probe, "_probe_one", fake)
    return calls


def _cache_file(tmp_path) -> Path:
    return tmp_path / "cache" / "providers.json"


def _gpu_listed() -> list[str]:
    import onnxruntime

    return [p for p in GPU_ORDER if p in onnxruntime.get_available_providers()]


def test_this_machine_without_a_gpu_probes_cpu_only_and_caches(tmp_path, monkeypatch):
    result = probe.usable_providers()
    assert result.usable[-1] == CPU and not result.cached
    if not _gpu_listed():  # the CPU-only wheel: nothing to probe, nothing cached
        assert result.usable == (CPU,) and result.key is None and not _cache_file(tmp_path).exists()
        return
    if gpu_name() is None:  # no NVIDIA GPU here: every GPU provider onnxruntime lists must be found unusable
        assert result.usable == (CPU,) and not result.gpu
        assert set(result.unusable) == set(_gpu_listed())
        for reason in result.unusable.values():
            assert reason and "\n" not in reason
    data = json.loads(_cache_file(tmp_path).read_text())
    assert data["key"] == result.key and data["usable"] == list(result.usable)
    assert data["unusable"] == result.unusable and data["machine"]["onnxruntime"] == probe._ort().__version__

    def no_probing(provider, model):
        raise AssertionError(f"probed {provider} again")

    monkeypatch.setattr(probe, "_probe_one", no_probing)
    assert probe.usable_providers() is result  # the same process: the memo
    probe.forget()
    again = probe.usable_providers()  # a new process: the machine cache
    assert again.cached and again.usable == result.usable and again.unusable == result.unusable


def test_cache_is_keyed_on_what_changes_the_answer(tmp_path, monkeypatch, counted):
    import onnxruntime

    listed = [TENSORRT, CUDA, CPU]
    first = probe.usable_providers(listed)
    assert counted == [TENSORRT, CUDA]
    assert first.usable == (TENSORRT, CPU) and first.unusable == {CUDA: "libcudnn.so.9 not found"}
    probe.forget()
    assert probe.usable_providers(listed).cached and len(counted) == 2  # same key: read, not probed

    monkeypatch.setattr(onnxruntime, "__version__", "0.0.1-other")  # an onnxruntime upgrade
    probe.forget()
    upgraded = probe.usable_providers(listed)
    assert not upgraded.cached and upgraded.key != first.key and len(counted) == 4
    assert json.loads(_cache_file(tmp_path).read_text())["key"] == upgraded.key

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")  # another GPU, or none
    probe.forget()
    assert not probe.usable_providers(listed).cached and len(counted) == 6
    parts = probe.machine_key_parts(listed)
    assert parts["env"]["CUDA_VISIBLE_DEVICES"] == "1" and parts["onnxruntime"] == "0.0.1-other"
    assert probe.machine_key(parts) != probe.machine_key({**parts, "available": [CUDA, CPU]})
    assert probe.machine_key(parts) != probe.machine_key({**parts, "gpus": "NVIDIA L40S, 570.86"})
    assert probe.machine_key(parts) != probe.machine_key({**parts, "packages": ["nvidia-cudnn-cu12==9.1.0"]})


@pytest.mark.parametrize("junk", ["{not json", "[]", '{"schema": 1}', "", "\x00\xff"])
def test_corrupt_cache_is_ignored_and_rewritten(tmp_path, counted, junk):
    first = probe.usable_providers([CUDA, CPU])
    _cache_file(tmp_path).write_text(junk, encoding="utf-8", errors="surrogateescape")
    probe.forget()
    again = probe.usable_providers([CUDA, CPU])
    assert not again.cached and counted == [CUDA, CUDA] and again.usable == (CPU,)
    assert json.loads(_cache_file(tmp_path).read_text())["key"] == first.key
    assert [p.name for p in _cache_file(tmp_path).parent.iterdir()] == ["providers.json"]  # no temp files left


def test_cache_naming_a_provider_no_longer_listed_is_ignored(tmp_path, counted):
    result = probe.usable_providers([TENSORRT, CUDA, CPU])
    data = json.loads(_cache_file(tmp_path).read_text())
    data["usable"] = ["SomeOtherExecutionProvider", CPU]
    _cache_file(tmp_path).write_text(json.dumps(data))
    probe.forget()
    assert probe.usable_providers([TENSORRT, CUDA, CPU]).usable == result.usable and len(counted) == 4


def test_refresh_probes_again(counted):
    probe.usable_providers([CUDA, CPU])
    assert probe.usable_providers([CUDA, CPU], refresh=True).cached is False and counted == [CUDA, CUDA]


def test_cpu_only_wheel_needs_no_probe(tmp_path, counted):
    result = probe.usable_providers([CPU])
    assert result.usable == (CPU,) and result.unusable == {} and counted == []
    assert not _cache_file(tmp_path).exists()


def test_explicit_request_that_cannot_load_is_one_line(counted):
    unusable = probe.usable_providers([TENSORRT, CUDA, CPU]).unusable
    with pytest.raises(ProviderError) as info:
        DeviceOptions(provider="cuda").requested([TENSORRT, CUDA, CPU], unusable)
    assert "\n" not in str(info.value)
    assert "device.provider 'cuda'" in str(info.value) and "libcudnn.so.9 not found" in str(info.value)
    # TensorRT loads: asked for by name it runs without the CUDA it would otherwise keep behind it
    assert DeviceOptions(provider="tensorrt").requested([TENSORRT, CUDA, CPU], unusable) == [TENSORRT, CPU]
    assert DeviceOptions().requested([TENSORRT, CUDA, CPU], unusable) == [TENSORRT, CPU]


@pytest.mark.skipif(not _gpu_listed() or gpu_name() is not None,
                    reason="needs onnxruntime-gpu on a machine where its GPU providers cannot load")
def test_real_explicit_cuda_or_tensorrt_fails_in_one_line(tmp_path):
    from matchcut.runtime.graphs import cached_graph, make_model
    from onnx import TensorProto, helper

    def build():
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
        return make_model([helper.make_node("Identity", ["x"], ["y"])], "ident", [x], [y], [])

    path = cached_graph("ident-test.onnx", build)
    for request in ("cuda", "tensorrt"):
        with pytest.raises(ProviderError) as info:
            create_session(path, DeviceOptions(provider=request))
        assert "\n" not in str(info.value) and "cannot load" in str(info.value)


def test_probe_and_auto_session_print_nothing(tmp_path, capfd):
    """Neither the probe nor a session on what it found writes anything to the process's stdout or stderr."""
    from matchcut.matching.graph import graph_path

    probe.usable_providers(refresh=True)
    seen = []
    session = create_session(graph_path(), DeviceOptions(threads=1), on_warning=seen.append)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert len(seen) == int(session.fell_back) and all("\n" not in s for s in seen)
    if seen:
        assert seen[0].startswith("GPU INFERENCE UNAVAILABLE: no usable GPU: ")


def test_debug_lets_onnxruntime_speak(monkeypatch, capfd):
    monkeypatch.setenv("MATCHCUT_DEBUG", "1")
    result = probe.usable_providers(refresh=True)
    err = capfd.readouterr().err
    if result.unusable:  # onnxruntime-gpu on a machine where a provider cannot load: its own lines show
        assert "onnxruntime" in err
    assert probe.ort_log_level(capturing=True) == 2


def test_captured_output_takes_native_and_python_writes():
    with probe.captured_output() as text:
        os.write(2, b"[E:onnxruntime:Default] native line\n")
        print("*************** EP Error ***************")
    assert "native line" in text[0] and "EP Error" in text[0]


def test_captured_output_passes_on_what_onnxruntime_did_not_write(capfd):
    """fd 2 is process-wide: another thread's line in the window comes out after it, onnxruntime's do not."""
    with probe.captured_output() as text:
        os.write(2, b"\x1b[1;31m2026 [E:onnxruntime:Default, provider_bridge_ort.cc:2458] FAIL\x1b[m\n\x1b[m\n")
        os.write(2, b"render node 3: 40%\n")
        print("*************** EP Error ***************")
        print("EP Error boom when using ['CUDAExecutionProvider']")
        print(" when using ['CUDAExecutionProvider']")
        print("Falling back to ['CPUExecutionProvider'] and retrying.")
        print("a host's own print")
    out, err = capfd.readouterr()
    assert err == "render node 3: 40%\n" and out == "a host's own print\n"
    assert "[E:onnxruntime" in text[0] and "Falling back" in text[0] and "\x1b" not in text[0]


def test_captured_output_hands_fd2_back(capfd):
    with probe.captured_output():
        os.write(2, b"[E:onnxruntime:Default] swallowed\n")
    os.write(2, b"after\n")
    sys.stdout.write("stdout after\n")
    sys.stdout.flush()
    out, err = capfd.readouterr()
    assert err == "after\n" and out == "stdout after\n"


@pytest.mark.parametrize("text, exc, expected", [
    ("\x1b[1;31m2026 [E:onnxruntime:Default, provider_bridge_ort.cc:2458 operator()] ... Failed to load library "
     "/x/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such "
     "file or directory\x1b[m\n2026 [W:onnxruntime:Default] Failed to create CUDAExecutionProvider. Require cuDNN "
     "9.* and CUDA 13.*. Please install", None,
     "libcublasLt.so.13 not found; onnxruntime {v} needs CUDA 13.* and cuDNN 9.*"),
    ("", RuntimeError("CUDA failure 100: no CUDA-capable device is detected ; GPU=0"),
     "CUDA failure 100: no CUDA-capable device is detected"),
    ("", RuntimeError("TensorRT EP failed to create engine\nmore"), "TensorRT EP failed to create engine"),
    ("", None, "onnxruntime could not start it"),
])
def test_reason_from_output(text, exc, expected):
    import onnxruntime

    reason = probe.reason_from_output(text, exc)
    assert "\n" not in reason and reason.startswith(expected.format(v=onnxruntime.__version__))


def _matchcut() -> list[str]:
    exe = Path(sys.executable).parent / "matchcut"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "matchcut"]


def _plates(folder: Path) -> None:
    from matchcut.frames import write_plate

    from matchcut.testing.photos import photo

    # a real picture: the match finds the pixels the two shots share, so its only warning is the GPU's
    ref = photo("astronaut", colorspace="linear", size=(96, 128)).astype(np.float32)
    write_plate(folder / "ref.exr", ref, channels=("R", "G", "B"), colorspace="ACEScg")
    for frame in (1001, 1002):
        write_plate(folder / "plates" / f"sh.{frame:04d}.exr", ref * np.float32([1.2, 1.0, 0.8]),
                    channels=("R", "G", "B"), colorspace="ACEScg", dtype="float")


def _run_match(folder: Path, out: str, *extra: str, debug: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MATCHCUT_DEBUG"}
    env["MATCHCUT_CACHE_DIR"] = str(folder / "cache")
    if debug:
        env["MATCHCUT_DEBUG"] = "1"
    return subprocess.run([*_matchcut(), "match", "--reference", "ref.exr", "--input", "plates/sh.####.exr",
                           "--output", f"{out}/sh.####.exr", *extra], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def test_matchcut_match_stderr_has_one_warning_and_no_onnxruntime_noise(tmp_path):
    """The real CLI on tiny EXRs, with a fresh cache (the probe runs in it) and then a warm one."""
    _plates(tmp_path)
    for run, out in enumerate(("out1", "out2")):
        done = _run_match(tmp_path, out)
        assert done.returncode == 0, done.stderr
        lines = done.stderr.splitlines()
        assert not any(noise in line for line in lines for noise in NOISE), done.stderr
        warnings = [line for line in lines if line.startswith("warning: ")]
        assert len(warnings) <= 1, done.stderr
        own = ("match: ", "info (frame ", "warning: ", "frame ", "done: ")  # the text event sink's lines
        assert all(line.startswith(own) for line in lines), done.stderr
        if warnings:
            assert warnings[0].startswith("warning: GPU INFERENCE UNAVAILABLE: no usable GPU: ")
        if _gpu_listed() and gpu_name() is None:
            assert len(warnings) == 1
        assert done.stdout == ""
        assert (tmp_path / out / "sh.1002.exr").is_file()
        assert (tmp_path / "cache" / "providers.json").is_file() == bool(_gpu_listed())
    # with jsonl events the warning is an event on stdout, and stderr stays empty
    done = _run_match(tmp_path, "out3", "--events", "jsonl")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    warned = [e for e in events if e["event"] == "warning"]
    assert len(warned) <= 1 and events[-1]["event"] == "done"
    if _gpu_listed() and gpu_name() is None:
        assert len(warned) == 1 and "GPU INFERENCE UNAVAILABLE" in warned[0]["message"]


@pytest.mark.skipif(not _gpu_listed() or gpu_name() is not None,
                    reason="needs onnxruntime-gpu on a machine where its GPU providers cannot load")
def test_matchcut_match_with_debug_shows_onnxruntime(tmp_path):
    _plates(tmp_path)
    done = _run_match(tmp_path, "out", debug=True)
    assert done.returncode == 0, done.stderr
    assert any(noise in done.stderr for noise in NOISE), done.stderr  # onnxruntime's own lines, as asked
    assert sum(line.startswith("warning: ") for line in done.stderr.splitlines()) == 1
