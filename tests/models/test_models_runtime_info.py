"""matchcut.models.runtime_info: the [runtime] table's fp16 variant and memory figure fields, read and written."""

from __future__ import annotations

import pytest

from matchcut.errors import ManifestError
from matchcut.models.manifest import dump_manifest, load_manifest, manifest_from_dict, write_manifest

SHA = "a" * 64
BASE = {"schema": 1, "id": "m", "version": "1", "task": "interpolation", "file": "m.onnx", "sha256": SHA,
        "licence": "MIT"}


def test_fp16_variant_and_memory_figure_round_trip(tmp_path):
    runtime = {"size_multiple": 64, "fp16": True, "fp16_file": "m.fp16.onnx", "fp16_sha256": "b" * 64,
               "fp16_note": "fp16 variant used on GPUs: change -0.02 dB", "memory_mb": 21.5, "memory_mb_per_mpix": 412}
    m = manifest_from_dict({**BASE, "runtime": runtime}, tmp_path / "m.toml")
    assert m.runtime.fp16_file == "m.fp16.onnx" and m.fp16_path == tmp_path / "m.fp16.onnx"
    assert m.runtime.memory_mb == 21.5 and m.runtime.memory_mb_per_mpix == 412.0
    write_manifest(m, tmp_path / "m.toml")
    again = load_manifest(tmp_path / "m.toml")
    assert again.runtime == m.runtime and 'fp16_note = "fp16 variant used on GPUs' in dump_manifest(again)


def test_a_manifest_without_the_fields_has_no_variant_and_no_figure(tmp_path):
    m = manifest_from_dict(BASE, tmp_path / "m.toml")
    assert m.fp16_path is None and m.runtime.fp16_note == "" and m.runtime.memory_mb is None
    assert "fp16_file" not in dump_manifest(m) and "memory_mb" not in dump_manifest(m)


@pytest.mark.parametrize("runtime, message", [
    ({"fp16_file": "m.fp16.onnx"}, "missing required field 'runtime.fp16_sha256'"),
    ({"fp16_sha256": "b" * 64}, "runtime.fp16_sha256.*given without runtime.fp16_file"),
    ({"fp16_file": "../x.onnx", "fp16_sha256": "b" * 64}, r"\.\./x\.onnx"),
    ({"memory_mb": -1.0}, r"runtime.memory_mb.*expected a number >= 0"),
    ({"memory_mb_per_mpix": "lots"}, r"runtime.memory_mb_per_mpix.*expected a number"),
    ({"fp16_note": 3}, r"runtime.fp16_note.*expected a string"),
])
def test_bad_fields_are_one_line_errors_naming_them(tmp_path, runtime, message):
    with pytest.raises(ManifestError, match=message) as caught:
        manifest_from_dict({**BASE, "runtime": runtime}, tmp_path / "m.toml")
    assert "\n" not in str(caught.value)


def test_verify_checks_the_fp16_file_too(tmp_path):
    from matchcut.errors import ChecksumError, ModelError
    from matchcut.models.manifest import sha256_file
    from matchcut.models.registry import verify_model

    (tmp_path / "m.onnx").write_bytes(b"model")
    (tmp_path / "m.fp16.onnx").write_bytes(b"half")
    fields = {**BASE, "sha256": sha256_file(tmp_path / "m.onnx"),
              "runtime": {"fp16": True, "fp16_file": "m.fp16.onnx", "fp16_sha256": sha256_file(tmp_path / "m.fp16.onnx")}}
    m = manifest_from_dict(fields, tmp_path / "m.toml")
    verify_model(m, use_cache=False)
    (tmp_path / "m.fp16.onnx").write_bytes(b"changed")
    with pytest.raises(ChecksumError, match="m.fp16.onnx"):
        verify_model(m, use_cache=False)
    (tmp_path / "m.fp16.onnx").unlink()
    with pytest.raises(ModelError, match="m.fp16.onnx: missing file"):
        verify_model(m, use_cache=False)
