"""The model search path: order, shadowing, broken manifests, find_model errors and sha256 verification."""

from __future__ import annotations

import os
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from matchcut.errors import ChecksumError, ModelError, ModelNotFoundError
from matchcut.models import registry
from matchcut.models.manifest import dump_toml, sha256_file
from matchcut.models.registry import find_model, list_models, scan, scan_models, search_paths, verify_model


def write_tiny_model(folder: Path, model_id: str, *, scale: float = 2.0, version: str = "1.0") -> Path:
    """A real one-node ONNX graph (y = x * scale) with its manifest and a data file; returns the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "s"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, None, None])],
        [helper.make_tensor("s", TensorProto.FLOAT, [], [scale])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)  # ORT 1.31 reads IR <= 13
    onnx.checker.check_model(model)
    onnx.save(model, folder / f"{model_id}.onnx")
    (folder / f"{model_id}.json").write_text('{"points": [1, 2, 3]}')
    manifest = {
        "schema": 1,
        "id": model_id,
        "version": version,
        "task": "image-to-image",
        "file": f"{model_id}.onnx",
        "sha256": sha256_file(folder / f"{model_id}.onnx"),
        "licence": "Apache-2.0",
        "inputs": [{"name": "x", "channels": ["R", "G", "B"], "range": [0.0, 1.0]}],
        "outputs": [{"name": "y", "channels": ["R", "G", "B"]}],
        "data": [{"file": f"{model_id}.json", "sha256": sha256_file(folder / f"{model_id}.json")}],
    }
    path = folder / f"{model_id}.toml"
    path.write_text(dump_toml(manifest))
    return path


@pytest.fixture
def search_env(tmp_path, monkeypatch):
    """Two $MATCHCUT_MODEL_PATH folders, a cache dir and a stand-in built-in folder, all empty."""
    paths = {name: tmp_path / name for name in ("studio_a", "studio_b", "cache", "builtin")}
    for p in paths.values():
        p.mkdir()
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", os.pathsep.join([str(paths["studio_a"]), str(paths["studio_b"])]))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(paths["cache"]))
    monkeypatch.setattr(registry, "BUILTIN_DIR", paths["builtin"])
    return paths


def test_search_order(search_env):
    assert search_paths() == [
        search_env["studio_a"],
        search_env["studio_b"],
        search_env["cache"] / "models",
        search_env["builtin"],
    ]


def test_real_builtin_folder_is_searched_last(monkeypatch, tmp_path):
    monkeypatch.delenv("MATCHCUT_MODEL_PATH", raising=False)
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path))
    paths = search_paths()
    assert paths[-1] == registry.BUILTIN_DIR and (registry.BUILTIN_DIR / "README.md").is_file()
    assert paths[0] == tmp_path / "models"


def test_shadowing_first_folder_wins(search_env):
    write_tiny_model(search_env["cache"] / "models" / "denoise", "denoise", version="cache")
    write_tiny_model(search_env["studio_b"], "denoise", version="studio")
    write_tiny_model(search_env["builtin"], "denoise", version="builtin")
    write_tiny_model(search_env["builtin"], "only-builtin")
    models, problems = scan_models()
    assert [(m.id, m.version) for m in models] == [("denoise", "studio"), ("only-builtin", "1.0")]
    shadow_notes = [p for p in problems if "shadowed" in p]
    assert len(shadow_notes) == 2 and all(p.startswith("note: ") for p in problems)
    assert str(search_env["studio_b"] / "denoise.toml") in shadow_notes[0]
    assert str(search_env["cache"] / "models" / "denoise" / "denoise.toml") in shadow_notes[0]
    assert find_model("denoise").folder == search_env["studio_b"]


def test_cache_subfolders_scanned_hidden_skipped(search_env):
    models_dir = search_env["cache"] / "models"
    write_tiny_model(models_dir / "selfie", "selfie")
    write_tiny_model(models_dir / ".installing-selfie", "selfie", version="half-built")
    write_tiny_model(models_dir / "deep" / "deeper", "too-deep")  # only one level of subfolders
    assert [(m.id, m.version) for m in list_models()] == [("selfie", "1.0")]


def test_broken_manifest_skipped_others_load(search_env):
    write_tiny_model(search_env["studio_a"], "good-one")
    (search_env["studio_a"] / "broken.toml").write_text("id = [unclosed\n")
    bad = write_tiny_model(search_env["studio_b"], "escapes")
    bad.write_text(bad.read_text().replace('file = "escapes.onnx"', 'file = "../escapes.onnx"'))
    write_tiny_model(search_env["builtin"], "good-two")
    result = scan()
    assert [m.id for m in result.models] == ["good-one", "good-two"]
    assert len(result.problems) == 2
    assert "broken.toml: bad model manifest: not valid TOML" in result.problems[0]
    assert "path '../escapes.onnx' leaves its folder" in result.problems[1]


def test_missing_model_path_folder_is_a_note(search_env, monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(tmp_path / "nowhere"))
    result = scan()
    assert result.models == [] and result.problems == []
    assert result.notes == [f"{tmp_path / 'nowhere'}: folder named in $MATCHCUT_MODEL_PATH does not exist"]


def test_find_model_error_lists_available_and_searched(search_env):
    write_tiny_model(search_env["studio_a"], "alpha")
    write_tiny_model(search_env["builtin"], "beta")
    with pytest.raises(ModelNotFoundError) as info:
        find_model("gamma")
    text = str(info.value)
    assert text.startswith("no model 'gamma' (available: alpha, beta)")
    for folder in search_paths():
        assert str(folder) in text


def test_verify_model_detects_changes(search_env):
    write_tiny_model(search_env["studio_a"], "tiny")
    m = find_model("tiny")
    verify_model(m)
    verify_model(m)  # second time from the hash cache

    # a different graph of the same size: only the sha256 can tell
    original = m.onnx_path.read_bytes()
    other = write_tiny_model(search_env["studio_b"] / "other", "tiny", scale=3.0)
    changed = (other.parent / "tiny.onnx").read_bytes()
    assert len(changed) == len(original) and changed != original
    m.onnx_path.write_bytes(changed)
    with pytest.raises(ChecksumError) as info:
        verify_model(m)
    assert str(m.onnx_path) in str(info.value) and info.value.expected == m.sha256
    with pytest.raises(ChecksumError):
        verify_model(m, use_cache=False)

    m.onnx_path.write_bytes(original)
    verify_model(m)
    m.data_path("tiny.json").write_text('{"points": [1, 2, 4]}')
    with pytest.raises(ChecksumError, match="tiny.json"):
        verify_model(m)

    m.data_path("tiny.json").unlink()
    with pytest.raises(ModelError, match=r"tiny\.json: missing file of model 'tiny'"):
        verify_model(m)
    m.onnx_path.unlink()
    with pytest.raises(ModelError, match=r"tiny\.onnx: missing file of model 'tiny'"):
        verify_model(m)


def test_verified_model_runs(search_env):
    """The registry's paths point at a model onnxruntime can run (the manifest describes the real file)."""
    import numpy as np
    import onnxruntime as ort

    write_tiny_model(search_env["cache"] / "models" / "tiny", "tiny", scale=2.0)
    m = find_model("tiny")
    verify_model(m)
    sess = ort.InferenceSession(str(m.onnx_path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, 4, 5), dtype=np.float32)
    (y,) = sess.run(None, {m.inputs[0].name: x})
    np.testing.assert_allclose(y, x * 2.0)


def test_verify_model_needs_the_licence_file(search_env):
    path = write_tiny_model(search_env["studio_a"], "licensed")
    (search_env["studio_a"] / "LICENSE.txt").write_text("MIT licence text")
    path.write_text(path.read_text().replace('licence = "Apache-2.0"', 'licence = "MIT"\nlicence_file = "LICENSE.txt"'))
    m = find_model("licensed")
    verify_model(m)
    (search_env["studio_a"] / "LICENSE.txt").unlink()
    with pytest.raises(ModelError, match=r"LICENSE\.txt: missing licence file of model 'licensed'"):
        verify_model(m)
