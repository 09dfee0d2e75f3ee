"""`matchcut doctor`: the JSON report hosts parse, the human report, and a missing essential package."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy
import pytest
import typer
from typer.testing import CliRunner

from matchcut import __version__
from matchcut.cli import doctor
from matchcut.models import registry
from matchcut.models.manifest import dump_toml, sha256_file

KEYS = {"ok", "errors", "matchcut", "python", "platform", "packages", "providers", "gpu", "gpu_active", "gpu_fallback", "ocio", "models"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """One studio model (a real file and manifest) on the search path; an empty cache."""
    studio = tmp_path / "studio"
    studio.mkdir()
    (studio / "m.onnx").write_bytes(b"model bytes")
    manifest = {"schema": 1, "id": "studio-model", "version": "1", "task": "image-to-image", "file": "m.onnx",
                "sha256": sha256_file(studio / "m.onnx"), "licence": "proprietary"}  # fmt: skip
    (studio / "m.toml").write_text(dump_toml(manifest))
    (studio / "bad.toml").write_text("schema = 7\n")
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(studio))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "BUILTIN_DIR", tmp_path / "builtin")
    return tmp_path


@pytest.fixture
def cli():
    app = typer.Typer()
    doctor.register(app)
    app.command("noop", hidden=True)(lambda: None)  # two commands keep `doctor` a subcommand
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_doctor_json(env, cli):
    result = cli("doctor", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # nothing but the JSON on stdout (onnxruntime's prints are kept out)
    assert KEYS <= set(report)
    assert report["ok"] is True and report["errors"] == []
    assert report["matchcut"] == __version__
    assert report["python"] == ".".join(map(str, sys.version_info[:3]))
    assert report["packages"]["numpy"] == numpy.__version__
    assert set(report["packages"]) >= {"numpy", "OpenImageIO", "OpenColorIO", "onnxruntime", "onnx", "opencv", "torch"}
    assert "error" not in report["providers"], report["providers"]
    assert "CPUExecutionProvider" in report["providers"]["available"]
    assert set(report["providers"]["active"]) >= {"auto"}
    providers = report["providers"]  # the probe's answer: what onnxruntime lists vs what really loads, and why
    assert providers["usable"][-1] == "CPUExecutionProvider"
    assert set(providers["usable"]) | set(providers["unusable"]) == set(providers["available"])
    assert all(why and "\n" not in why for why in providers["unusable"].values())
    assert report["gpu_active"] == any(p != "CPUExecutionProvider" for p in providers["usable"])
    if providers["unusable"]:  # doctor always probes afresh and rewrites the machine cache
        assert providers["probe_cached"] is False and providers["probe_cache"] == str(env / "cache" / "providers.json")
        assert json.loads((env / "cache" / "providers.json").read_text())["unusable"] == providers["unusable"]
    assert "error" not in report["ocio"] and report["ocio"]["name"]
    models = report["models"]
    assert models["count"] == 1 and models["ids"] == ["studio-model"]
    assert models["cache"] == str(env / "cache" / "models")
    assert models["search_path"][0] == str(env / "studio")
    assert len(models["problems"]) == 1 and "schema 7 is not supported" in models["problems"][0]


def test_doctor_human(env, cli):
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"matchcut {__version__}  python ")
    assert f"numpy {numpy.__version__}" in out
    assert "providers available: " in out and "providers that load: " in out and "ocio: " in out
    assert "models: 1 (studio-model)" in out and "warning: " in out
    report = json.loads(cli("doctor", "--json").stdout)
    # the loud line appears exactly when GPU providers are packaged but no session got one
    assert ("no session got one" in out) == (bool(report["gpu_fallback"]) and not report["gpu_active"])


def test_gpu_fallback_rule():
    offered = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    cpu_only = {"available": offered, "active": {"auto": ["CPUExecutionProvider"], "tensorrt": "error: no libnvinfer"}}
    assert doctor.gpu_fallback(cpu_only) == ["TensorrtExecutionProvider", "CUDAExecutionProvider"]
    cuda = {"available": offered, "active": {"auto": ["CUDAExecutionProvider", "CPUExecutionProvider"]}}
    assert doctor.gpu_fallback(cuda) == ["TensorrtExecutionProvider"]
    assert doctor.gpu_active(cuda) and not doctor.gpu_active(cpu_only)
    assert doctor.gpu_fallback({"available": ["CPUExecutionProvider"], "active": {}}) == []
    assert doctor.gpu_fallback({"error": "cannot probe"}) == []


def test_doctor_missing_essential(env, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "OpenImageIO", None)  # makes `import OpenImageIO` fail here
    result = cli("doctor", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["packages"]["OpenImageIO"] is None
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("matchcut: error: cannot import OpenImageIO (OpenImageIO): ")


def test_optional_torch_missing_is_fine(env, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    assert "torch not installed" in result.stdout


def _missing_command_modules() -> list[str]:
    from matchcut.cli.app import COMMAND_MODULES

    return [name for name in COMMAND_MODULES if importlib.util.find_spec(f"matchcut.cli.{name}") is None]


@pytest.mark.skipif(bool(_missing_command_modules()), reason=f"command modules not written yet: {', '.join(_missing_command_modules())}")
def test_real_matchcut_doctor(env):
    import os

    done = subprocess.run([sys.executable, "-m", "matchcut", "doctor", "--json"], env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert KEYS <= set(report) and report["models"]["ids"] == ["studio-model"]
