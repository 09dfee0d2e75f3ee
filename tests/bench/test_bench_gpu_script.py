""".ci/bench-gpu (make bench-gpu) here, without a GPU: it joins and checks what .ci/gpu-carry sent, then stops in
one line saying no GPU was found, before any GPU work."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "bench-gpu"


def _run(tmp_path, **env):
    out = tmp_path / "out"
    full = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "GPU_CARRY": str(tmp_path / "carry"),
            "GPU_SITE": str(tmp_path / "site"), "MATCHCUT_CACHE_DIR": str(tmp_path / "cache"), **env}
    done = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)
    return done, out


def _no_gpu_here():
    from matchcut.bench.device import no_gpu_reason

    if no_gpu_reason() is None:
        pytest.skip("CUDA loads here: this is a GPU machine")


def test_without_nvidia_smi_it_says_no_gpu_was_found_and_exits_3(tmp_path):
    _no_gpu_here()
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("bash", "cat", "tee", "ls", "mkdir", "tail", "wc", "sha256sum", "tar", "rm", "cp", "sed", "head"):
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        if found:
            (bare / tool).symlink_to(found)
    done, out = _run(tmp_path, PATH=str(bare))
    assert done.returncode == 3, done.stderr
    line = "bench-gpu: no GPU found: nvidia-smi is not here (no NVIDIA driver); stopping before the GPU tests and " \
           "the --device cuda benchmark"
    assert done.stdout.strip() == line and (out / "bench-gpu.log").read_text().strip() == line
    assert not (out / "gpu-tests.log").exists() and not (out / "benchmarks.md").exists()


def test_a_driver_without_a_loadable_cuda_provider_stops_before_the_tests(tmp_path):
    _no_gpu_here()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nvidia-smi"  # a driver that answers, on a machine whose onnxruntime cannot use it
    fake.write_text("#!/bin/sh\necho 'index, name, driver_version, memory.total [MiB], memory.free [MiB]'\n"
                    "echo '0, Fake GPU, 1.0, 1000 MiB, 900 MiB'\n")
    fake.chmod(0o755)
    done, out = _run(tmp_path, PATH=f"{bin_dir}:{os.environ['PATH']}")
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.strip().startswith("bench-gpu: no GPU found: onnxruntime's CUDA provider cannot load (")
    assert "Fake GPU" in (out / "bench-gpu.log").read_text()  # what nvidia-smi said is in the log
    assert not (out / "gpu-tests.log").exists()


def test_the_carried_parts_are_joined_checked_and_the_models_put_on_the_path(tmp_path):
    _no_gpu_here()
    carry = tmp_path / "carry"
    carry.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"[stand-in manifest]\n"
        info = tarfile.TarInfo("./models/m/m.toml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    payload = buffer.getvalue()
    half = len(payload) // 2
    (carry / "chunk.00").write_bytes(payload[:half])
    (carry / "chunk.01").write_bytes(payload[half:])
    (carry / "payload.sha256").write_text(hashlib.sha256(payload).hexdigest() + "\n")
    done, out = _run(tmp_path)
    log = (out / "bench-gpu.log").read_text()
    assert "joining 2 carried part(s)" in log and "payload.tar: OK" in log
    assert (carry / "payload" / "models" / "m" / "m.toml").read_bytes() == b"[stand-in manifest]\n"
    assert done.returncode == 3 and "no GPU found" in done.stdout


def test_a_corrupt_carry_is_refused(tmp_path):
    carry = tmp_path / "carry"
    carry.mkdir()
    (carry / "chunk.00").write_bytes(b"part of something")
    (carry / "payload.sha256").write_text("0" * 64 + "\n")
    done, out = _run(tmp_path)
    assert done.returncode == 4 and "does not match its sha256" in done.stdout
