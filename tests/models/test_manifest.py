"""Model manifests: TOML round trip, the writer's escaping, and every validation error."""

from __future__ import annotations

import copy
import hashlib
import math
import os
import tomllib
from pathlib import Path

import pytest

from matchcut.errors import ManifestError, ManifestPathEscapeError, ModelError, PathEscapeError
from matchcut.models.manifest import (
    Control,
    DataFile,
    ModelManifest,
    RuntimeInfo,
    SourceInfo,
    TensorSpec,
    dump_manifest,
    dump_toml,
    load_manifest,
    manifest_from_dict,
    manifest_to_dict,
    sha256_file,
    write_manifest,
)


def _write_model_files(folder: Path) -> dict:
    """Write a tiny 'model' and data file into ``folder``; return a valid manifest dict pointing at them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toy.onnx").write_bytes(b"not really onnx, only hashed here")
    (folder / "toy.mesh.json").write_text('{"triangles": [[0, 1, 2]]}')
    (folder / "LICENSE.txt").write_text("Apache-2.0 text")
    return {
        "schema": 1,
        "id": "toy",
        "version": "1.2.3",
        "task": "image-to-image",
        "file": "toy.onnx",
        "sha256": sha256_file(folder / "toy.onnx"),
        "licence": "Apache-2.0",
        "licence_file": "LICENSE.txt",
        "description": "A toy model.",
        "source": {"package": "toypkg", "package_version": "0.1", "sha256": "a" * 64},
        "runtime": {"size_multiple": 4, "receptive_field": 12},
        "inputs": [{"name": "input", "layout": "NCHW", "channels": ["R", "G", "B"], "range": [0, 1]}],
        "outputs": [{"name": "output", "layout": "NCHW", "channels": ["R", "G", "B"], "range": [0.0, 1.0]}],
        "controls": [{"name": "strength", "type": "float", "min": 0.0, "max": 1.0, "default": 1.0}],
        "data": [{"file": "toy.mesh.json", "sha256": sha256_file(folder / "toy.mesh.json")}],
    }


def _full_manifest() -> ModelManifest:
    """A manifest using every field and every control type, with strings that need escaping."""
    return ModelManifest(
        id="full-model_1.0",
        version="0.10.21",
        task="studio-task",  # unknown tasks are allowed: studios bring their own
        file="full.onnx",
        sha256="0123456789abcdef" * 4,
        licence="MIT",
        description='Quotes " and back\\slash, a tab\t, a newline\n, unicode “é”, a bell \x07.',
        licence_file="LICENSE",
        licence_note="Upstream weights: licence not confirmed.",
        source=SourceInfo("pkg", "1.0", "a/b.tflite", "b" * 64, "c" * 64, "matchcut.models.zoo.tflite"),
        runtime=RuntimeInfo(8, 32, 2, (256, 144), True, False, {"half_scale": "full-half", "odd key.x": "y"}),
        inputs=(
            TensorSpec("img0", "NCHW", ("R", "G", "B"), (0.0, 1.0), "sRGB Encoded Rec.709 (sRGB)", "float32", (1, 3, None, None), "first"),
            TensorSpec("timestep", "other", (), None, None, "float16", (1, 1, 1, 1)),
        ),
        outputs=(TensorSpec("frame", "NHWC", ("A",), (-1.0, 1.0)),),
        controls=(
            Control("strength", "float", 0.5, 0.0, 1.0, (), "Strength", "Mix with the input."),
            Control("steps", "int", 3, 1, 8),
            Control("invert", "bool", False),
            Control("mode", "choice", "fast", choices=("fast", "best")),
            Control("tint", "color", (1.0, 0.5, 0.25), 0.0, 2.0),
            Control("label", "string", "shot \"A\""),
        ),
        data=(DataFile("full.tess.json", "d" * 64, "tessellation"), DataFile("extra/anchors.bin", "e" * 64)),
    )


def test_round_trip_dump_load_equal(tmp_path):
    m = _full_manifest()
    path = write_manifest(m, tmp_path / "full.toml")
    loaded = load_manifest(path)
    assert loaded == m
    assert loaded.path == path and loaded.folder == tmp_path
    assert loaded.onnx_path == tmp_path / "full.onnx"
    assert loaded.data_path("extra/anchors.bin") == tmp_path / "extra" / "anchors.bin"
    # an independent TOML reader sees exactly the dict the manifest was written from
    assert tomllib.loads(dump_manifest(m)) == manifest_to_dict(m)
    assert loaded.inputs[0].shape == (1, 3, None, None)
    assert loaded.controls[4].default == (1.0, 0.5, 0.25)
    assert os.listdir(tmp_path) == ["full.toml"]  # the atomic write left no temporary behind


def test_minimal_manifest_round_trip_and_hash(tmp_path):
    m = ModelManifest("a", "1", "segmentation", "a.onnx", "0" * 64, "MIT",
                      controls=(Control("s", "string", ""), Control("b", "bool", False)))  # fmt: skip
    loaded = load_manifest(write_manifest(m, tmp_path / "a.toml"))
    assert loaded == m and loaded.controls[0].default == "" and loaded.source == SourceInfo()
    assert "[source]" not in dump_manifest(m) and "[runtime]" in dump_manifest(m)
    assert len({m, loaded, _full_manifest()}) == 2  # hashable (usable as a cache key), equal ones collapse


def test_write_manifest_replaces_existing_file(tmp_path):
    m = _full_manifest()
    path = tmp_path / "full.toml"
    path.write_text("old contents")
    write_manifest(m, path)
    assert load_manifest(path) == m


def test_loaded_example_files_verify_paths(tmp_path):
    d = _write_model_files(tmp_path / "toy")
    (tmp_path / "toy" / "toy.toml").write_text(dump_toml(d))
    m = load_manifest(tmp_path / "toy" / "toy.toml")
    assert m.inputs[0].range == (0.0, 1.0) and isinstance(m.inputs[0].range[0], float)
    assert m.runtime.size_multiple == 4 and m.runtime.fixed_size is None and m.runtime.tileable
    assert m.source.package == "toypkg" and m.source.member is None
    with pytest.raises(ModelError, match="no data file 'nope.json'.*listed: toy.mesh.json"):
        m.data_path("nope.json")


@pytest.mark.parametrize(
    "value",
    ["plain", "", 'q"uote', "back\\slash", "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f", "üñí€😀", "'single'", "a = b # c"],
)
def test_toml_writer_strings(value):
    assert tomllib.loads(dump_toml({"k": value, value or "empty": 1})) == {"k": value, value or "empty": 1}


def test_toml_writer_numbers_arrays_tables():
    data = {
        "ints": [0, -7, 2**40],
        "floats": [1.0, -0.5, 1e-5, 1.5e20, 0.1],
        "flags": [True, False],
        "nested": [[1, 2], ["a"], []],
        "table": {"x": 1, "sub": {"y": "z"}, "arr": [{"p": 1}, {"p": 2, "deep": {"q": [1.5]}}]},
        "rows": [{"name": "a", "inline": [{"k": 1}, 2]}, {"name": "b"}],
    }
    assert tomllib.loads(dump_toml(data)) == data
    special = tomllib.loads(dump_toml({"a": math.inf, "b": -math.inf, "c": math.nan}))
    assert special["a"] == math.inf and special["b"] == -math.inf and math.isnan(special["c"])


def test_sha256_file(tmp_path):
    payload = os.urandom(3 << 20)  # more than one read chunk
    (tmp_path / "blob").write_bytes(payload)
    assert sha256_file(tmp_path / "blob") == hashlib.sha256(payload).hexdigest()


def test_from_dict_without_schema_but_file_needs_it(tmp_path):
    d = _write_model_files(tmp_path)
    del d["schema"]
    assert manifest_from_dict(d).id == "toy"  # builders' dicts: the current schema is assumed
    (tmp_path / "toy.toml").write_text(dump_toml(d))
    with pytest.raises(ManifestError, match=r"toy\.toml: bad model manifest: missing required field 'schema' \(supported: 1\)"):
        load_manifest(tmp_path / "toy.toml")


def _set(d: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d[int(k)] if isinstance(d, list) else d[k]
    if value is _DELETE:
        del d[keys[-1]]
    else:
        d[keys[-1]] = value


_DELETE = object()

BAD = [
    ("sha256", _DELETE, "missing required field 'sha256'"),
    ("id", _DELETE, "missing required field 'id'"),
    ("inputs.0.name", _DELETE, "missing required field 'inputs[0].name'"),
    ("controls.0.default", _DELETE, "missing required field 'controls[0].default'"),
    ("schema", 2, "schema 2 is not supported (supported: 1)"),
    ("sha256", "abc123", "field 'sha256': expected 64 lowercase hex"),
    ("sha256", "G" * 64, "field 'sha256': expected 64 lowercase hex"),
    ("data.0.sha256", "0" * 63, "field 'data[0].sha256': expected 64 lowercase hex"),
    ("source.wheel_sha256", "x" * 64, "field 'source.wheel_sha256': expected 64 lowercase hex"),
    ("inputs.0.range", [1.0, 0.0], "field 'inputs[0].range': expected lo < hi"),
    ("outputs.0.range", [0.5, 0.5], "field 'outputs[0].range': expected lo < hi"),
    ("inputs.0.range", [0.0], "field 'inputs[0].range': expected [lo, hi]"),
    ("inputs.0.layout", "CHW", "field 'inputs[0].layout': expected one of NCHW, NHWC, NC, other"),
    ("inputs.0.dtype", "float8", "field 'inputs[0].dtype'"),
    ("inputs.0.shape", [1, 0, 3], "field 'inputs[0].shape'"),
    ("controls.0.type", "slider", "unknown control type 'slider' (known: float, int, bool, choice, color, string)"),
    ("controls.0.default", 1.5, "field 'controls[0].default': 1.5 is outside [0.0, 1.0]"),
    ("controls.0.default", "high", "field 'controls[0].default': expected a number"),
    ("controls.0.min", 2.0, "field 'controls[0]': expected min < max"),
    ("runtime.size_multiple", "4", "field 'runtime.size_multiple': expected an integer"),
    ("runtime.size_multiple", 0, "field 'runtime.size_multiple': expected an integer >= 1"),
    ("runtime.fixed_size", [256], "field 'runtime.fixed_size': expected [height, width]"),
    ("runtime.fp16", "yes", "field 'runtime.fp16': expected true or false"),
    ("version", 1, "field 'version': expected a string"),
    ("task", "  ", "field 'task': expected a task name"),
    ("id", "../evil", "field 'id': expected letters, digits"),
    ("colour", "red", "unknown field(s) 'colour' at top level"),
    ("runtime.tile", 3, "unknown field(s) 'tile' in 'runtime'"),
    ("inputs", [{"name": "a"}, {"name": "a"}], "field 'inputs': name 'a' appears more than once"),
    ("file", "", "field 'file': expected a relative file name"),
    ("file", "./toy.onnx", "field 'file': expected a plain relative name"),
]


@pytest.mark.parametrize("key,value,message", BAD, ids=[f"{k}={v!r}"[:40] for k, v, _ in BAD])
def test_validation_errors(tmp_path, key, value, message):
    d = _write_model_files(tmp_path)
    _set(d, key, value)
    with pytest.raises(ManifestError) as info:
        manifest_from_dict(d, tmp_path / "toy.toml")
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'toy.toml'}: bad model manifest: ")
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    "control,message",
    [
        ({"name": "m", "type": "choice", "default": "a", "choices": []}, "needs a non-empty array of choices"),
        ({"name": "m", "type": "choice", "default": "c", "choices": ["a", "b"]}, "'c' is not one of the choices (a, b)"),
        ({"name": "m", "type": "bool", "default": 1}, "expected true or false"),
        ({"name": "m", "type": "int", "default": 2.5}, "expected an integer"),
        ({"name": "m", "type": "int", "default": 9, "min": 0, "max": 8}, "9 is outside [0, 8]"),
        ({"name": "m", "type": "color", "default": [1, 2]}, "expected an array of 3 or 4 numbers"),
        ({"name": "m", "type": "color", "default": [1, 2, 3], "max": 2.0}, "[1, 2, 3] is outside [-inf, 2.0]"),
        ({"name": "m", "type": "string", "default": "x", "min": 0}, "only float, int and color controls have bounds"),
        ({"name": "m", "type": "float", "default": 0.0, "choices": ["a"]}, "only 'choice' controls have choices"),
    ],
)
def test_control_validation(tmp_path, control, message):
    d = _write_model_files(tmp_path)
    d["controls"] = [control]
    with pytest.raises(ManifestError, match="controls\\[0\\]") as info:
        manifest_from_dict(d, tmp_path / "toy.toml")
    assert message in str(info.value)


@pytest.mark.parametrize(
    "key,value",
    [
        ("file", "../toy.onnx"),
        ("file", "sub/../../toy.onnx"),
        ("file", "/etc/passwd"),
        ("licence_file", "../../LICENSE"),
        ("data.0.file", "/tmp/anything.json"),
        ("data.0.file", "C:/models/x.json"),
    ],
)
def test_path_escape_lexical(tmp_path, key, value):
    folder = tmp_path / "models" / "toy"
    d = _write_model_files(folder)
    _set(d, key, value)
    (folder / "toy.toml").write_text(dump_toml(d))
    with pytest.raises(ManifestPathEscapeError) as info:
        load_manifest(folder / "toy.toml")
    # both a manifest error (the registry skips it) and a path escape (the security class)
    assert isinstance(info.value, PathEscapeError) and isinstance(info.value, ManifestError)
    assert f"path '{value}' leaves its folder" in str(info.value)
    assert str(info.value).startswith(str(folder / "toy.toml"))
    with pytest.raises(ManifestPathEscapeError):
        manifest_from_dict(d)  # no folder known: the lexical check alone still refuses


def test_path_escape_symlink(tmp_path):
    folder = tmp_path / "toy"
    d = _write_model_files(folder)
    outside = tmp_path / "elsewhere.onnx"
    outside.write_bytes(b"secret")
    (folder / "linked.onnx").symlink_to(outside)
    d["file"] = "linked.onnx"
    (folder / "toy.toml").write_text(dump_toml(d))
    with pytest.raises(ManifestPathEscapeError, match="path 'linked.onnx' leaves its folder"):
        load_manifest(folder / "toy.toml")
    # a link that stays inside the folder is fine
    (folder / "inside.onnx").symlink_to(folder / "toy.onnx")
    d["file"] = "inside.onnx"
    (folder / "toy.toml").write_text(dump_toml(d))
    assert load_manifest(folder / "toy.toml").onnx_path == folder / "inside.onnx"


def test_symlinked_subfolder_escape(tmp_path):
    folder = tmp_path / "toy"
    d = _write_model_files(folder)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "mesh.json").write_text("{}")
    (folder / "sub").symlink_to(tmp_path / "outside", target_is_directory=True)
    d["data"][0]["file"] = "sub/mesh.json"
    with pytest.raises(ManifestPathEscapeError, match="field 'data\\[0\\].file'"):
        manifest_from_dict(d, folder / "toy.toml")


def test_not_toml_and_unreadable(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("id = 'unterminated\n")
    with pytest.raises(ManifestError, match=r"bad\.toml: bad model manifest: not valid TOML"):
        load_manifest(bad)
    with pytest.raises(ManifestError, match=r"missing\.toml: bad model manifest: cannot read"):
        load_manifest(tmp_path / "missing.toml")


def test_folder_needs_a_path():
    d = copy.deepcopy(manifest_to_dict(_full_manifest()))
    m = manifest_from_dict(d)
    assert m == _full_manifest() and m.path is None
    with pytest.raises(ModelError, match="not loaded from a file"):
        _ = m.onnx_path
