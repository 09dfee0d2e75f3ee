"""`matchcut models list|info|verify|install` on real manifests and tiny ONNX graphs in tmp folders."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
import typer
from onnx import TensorProto, helper
from typer.testing import CliRunner

from matchcut.cli import models as models_cli
from matchcut.errors import ModelNotFoundError
from matchcut.models import registry
from matchcut.models.manifest import dump_toml, load_manifest, manifest_to_dict, sha256_file


def write_model(folder: Path, model_id: str, *, scale: float = 2.0, licence: str = "Apache-2.0") -> Path:
    """A real one-node ONNX graph (y = x * scale) and its manifest with a control; returns the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "s"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, None, None])],
        [helper.make_tensor("s", TensorProto.FLOAT, [], [scale])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10), folder / f"{model_id}.onnx")
    manifest = {
        "schema": 1,
        "id": model_id,
        "version": "2.0",
        "task": "image-to-image",
        "file": f"{model_id}.onnx",
        "sha256": sha256_file(folder / f"{model_id}.onnx"),
        "licence": licence,
        "licence_note": "weights licence checked by hand",
        "description": f"Multiplies by {scale}.",
        "source": {"package": "toypkg", "package_version": "0.3", "sha256": "f" * 64},
        "runtime": {"size_multiple": 8, "receptive_field": 4, "fixed_size": [64, 32]},
        "inputs": [{"name": "x", "channels": ["R", "G", "B"], "range": [0.0, 1.0], "colorspace": "ACEScg"}],
        "outputs": [{"name": "y", "channels": ["R", "G", "B"], "range": [0.0, 2.0]}],
        "controls": [{"name": "strength", "type": "float", "min": 0.0, "max": 1.0, "default": 0.75, "label": "Strength"}],
    }
    path = folder / f"{model_id}.toml"
    path.write_text(dump_toml(manifest))
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    studio, cache, builtin = tmp_path / "studio", tmp_path / "cache", tmp_path / "builtin"
    for p in (studio, cache, builtin):
        p.mkdir()
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(studio))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(cache))
    monkeypatch.setattr(registry, "BUILTIN_DIR", builtin)
    write_model(studio, "double", scale=2.0)
    write_model(cache / "models" / "triple", "triple", scale=3.0, licence="MIT")
    return {"studio": studio, "cache": cache, "builtin": builtin, "tmp": tmp_path}


@pytest.fixture
def cli():
    app = typer.Typer()
    models_cli.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_list_table_and_warnings(env, cli):
    (env["studio"] / "broken.toml").write_text("schema = 1\nid = 'broken'\n")
    result = cli("models", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "version", "task", "licence", "folder"]
    assert lines[1].split() == ["double", "2.0", "image-to-image", "Apache-2.0", str(env["studio"])]
    assert lines[2].split() == ["triple", "2.0", "image-to-image", "MIT", str(env["cache"] / "models" / "triple")]
    assert "warning: " in result.stderr and "broken.toml: bad model manifest: missing required field" in result.stderr


def test_list_json(env, cli):
    result = cli("models", "list", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [m["id"] for m in data["models"]] == ["double", "triple"]
    assert data["models"][1]["folder"] == str(env["cache"] / "models" / "triple")
    assert data["search_path"][0] == str(env["studio"]) and data["problems"] == []


def test_list_empty_says_how_to_install(tmp_path, monkeypatch, cli):
    monkeypatch.delenv("MATCHCUT_MODEL_PATH", raising=False)
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(registry, "BUILTIN_DIR", tmp_path / "none")
    result = cli("models", "list")
    assert result.exit_code == 0 and "matchcut models install" in result.stdout


def test_info_text_and_json(env, cli):
    result = cli("models", "info", "double")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for fragment in (
        "double 2.0  (image-to-image)",
        "Multiplies by 2.0.",
        f"file: {env['studio'] / 'double.onnx'}",
        "licence: Apache-2.0",
        "licence note: weights licence checked by hand",
        "source: toypkg 0.3",
        "fixed size 64x32 (height x width)",
        "size multiple 8",
        "receptive field 4 px",
        "x: NCHW; float32; channels R,G,B; range [0, 1]; colorspace 'ACEScg'",
        "strength (Strength): float; default 0.75; range [0.0, 1.0]",
    ):
        assert fragment in out, fragment
    data = json.loads(cli("models", "info", "double", "--json").stdout)
    m = load_manifest(env["studio"] / "double.toml")
    assert {k: v for k, v in data.items() if k not in ("manifest", "folder", "onnx_path")} == manifest_to_dict(m)
    assert data["onnx_path"] == str(m.onnx_path)


def test_info_unknown_model(env, cli):
    result = cli("models", "info", "quadruple")
    assert isinstance(result.exception, ModelNotFoundError)
    assert "available: double, triple" in str(result.exception)


def test_verify_ok_then_failures(env, cli):
    result = cli("models", "verify")
    assert result.exit_code == 0, result.output
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [["ok", "double"], ["ok", "triple"]]

    onnx_path = env["cache"] / "models" / "triple" / "triple.onnx"
    onnx_path.write_bytes(onnx_path.read_bytes() + b"\0")
    result = cli("models", "verify")
    assert result.exit_code == 6
    assert "ok      double" in result.stdout
    assert f"FAILED  triple: {onnx_path}: sha256 is" in result.stderr

    result = cli("models", "verify", "double", "nope")
    assert result.exit_code == 6
    assert "ok      double" in result.stdout and "FAILED  no model 'nope'" in result.stderr


def test_verify_counts_broken_manifests(env, cli):
    (env["studio"] / "broken.toml").write_text("not toml at all [")
    result = cli("models", "verify")
    assert result.exit_code == 6
    assert "broken.toml: bad model manifest: not valid TOML" in result.stderr


def test_install_forwards_arguments(env, cli, monkeypatch):
    """The command hands names, --from and --force to the zoo installer and reports what it returns."""
    install_module = pytest.importorskip("matchcut.models.zoo.install", reason="the zoo installer is not written yet")
    calls = []

    def fake_install(names, from_dir=None, force=False, log=print):
        calls.append((names, from_dir, force))
        log("building double")
        return [registry.find_model("double")]

    monkeypatch.setattr(install_module, "install", fake_install)
    result = cli("models", "install", "double", "--from", str(env["tmp"]), "--force")
    assert result.exit_code == 0, result.output
    assert calls == [(["double"], env["tmp"], True)]
    assert "building double" in result.stdout and "ready   double 2.0" in result.stdout
    assert cli("models", "install").exit_code == 0 and calls[-1] == (None, None, False)


def _all_command_modules() -> list[str]:
    from matchcut.cli.app import COMMAND_MODULES

    return [name for name in COMMAND_MODULES if importlib.util.find_spec(f"matchcut.cli.{name}") is None]


@pytest.mark.skipif(bool(_all_command_modules()), reason=f"command modules not written yet: {', '.join(_all_command_modules())}")
def test_real_matchcut_script(env):
    """The real entry point: `python -m matchcut models ...` with the project's error boundary."""
    run_env = {**os.environ}
    ok = subprocess.run([sys.executable, "-m", "matchcut", "models", "list", "--json"], env=run_env,
                        capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert [m["id"] for m in json.loads(ok.stdout)["models"]] == ["double", "triple"]
    missing = subprocess.run([sys.executable, "-m", "matchcut", "models", "info", "nope"], env=run_env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert missing.returncode == 6
    assert missing.stderr.strip().splitlines()[-1].startswith("matchcut: error: no model 'nope' (available: double, triple)")
