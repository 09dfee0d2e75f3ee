"""JobSpec: parsing, round trip and every validation error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matchcut.errors import JobError, PathEscapeError
from matchcut.jobs.spec import JobSpec, job_from_dict, load_job, save_job
from matchcut.runtime import DeviceOptions


def _job(**overrides):
    data = {
        "matchcut_job": 1,
        "tool": "apply",
        "inputs": {"plate": "plates/sh010.####.exr"},
        "outputs": {"main": "out/sh010_denoise.####.exr"},
        "frames": "1001-1010",
        "handles": 2,
        "params": {"model": "denoise-small"},
        "device": {"provider": "cpu", "device_id": 0, "precision": "fp32"},
        "output_options": {"dtype": "float", "compression": "zip"},
    }
    data.update(overrides)
    return data


def _write(folder: Path, data, name: str = "job.json") -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_load_job_reads_every_field(tmp_path):
    spec = load_job(_write(tmp_path, _job()))
    assert spec.version == 1
    assert spec.tool == "apply"
    assert spec.frames == list(range(1001, 1011))
    assert spec.handles == 2
    assert spec.params == {"model": "denoise-small"}
    assert spec.device == DeviceOptions(provider="cpu")
    assert spec.output_options == {"dtype": "float", "compression": "zip"}
    assert spec.base_dir == tmp_path.resolve()
    assert spec.input_path("plate") == str(tmp_path.resolve() / "plates" / "sh010.####.exr")
    assert spec.output_path("main") == str(tmp_path.resolve() / "out" / "sh010_denoise.####.exr")
    assert spec.nonfinite == "error"


def test_defaults_when_optional_keys_are_absent(tmp_path):
    data = {k: v for k, v in _job().items() if k in ("matchcut_job", "tool", "inputs", "outputs")}
    spec = job_from_dict(data, tmp_path)
    assert spec.frames is None and spec.handles == 0 and spec.params == {}
    assert spec.device == DeviceOptions()
    assert spec.output_options == {"dtype": "half", "compression": None}


def test_frames_as_list_and_stepped_range(tmp_path):
    assert job_from_dict(_job(frames=[1003, 1001, 1003]), tmp_path).frames == [1001, 1003]
    assert job_from_dict(_job(frames="1001-1009x4"), tmp_path).frames == [1001, 1005, 1009]


def test_save_and_load_round_trip(tmp_path):
    spec = load_job(_write(tmp_path, _job(frames="1001-1005, 1010", params={"model": "m", "strength": 0.5})))
    out = save_job(spec, tmp_path / "copy.json")
    again = load_job(out)
    assert again.to_dict() == spec.to_dict()
    assert again.frames == [1001, 1002, 1003, 1004, 1005, 1010]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_nonfinite_is_a_job_field_and_params_nonfinite_reads_the_same(tmp_path):
    spec = job_from_dict(_job(nonfinite="fix"), tmp_path)
    assert spec.nonfinite == "fix" and spec.to_dict()["nonfinite"] == "fix"
    legacy = job_from_dict(_job(params={"model": "m", "nonfinite": "fix"}), tmp_path)  # as older adapters write
    assert legacy.nonfinite == "fix" and legacy.params == {"model": "m"}  # a tool never sees it as a param
    assert job_from_dict(_job(nonfinite="fix", params={"nonfinite": "fix"}), tmp_path).nonfinite == "fix"
    with pytest.raises(JobError, match="'nonfinite': is 'fix' but 'params.nonfinite' is 'error'; give it once"):
        job_from_dict(_job(nonfinite="fix", params={"nonfinite": "error"}), tmp_path)


def test_in_memory_spec_takes_a_device_dict():
    spec = JobSpec(tool="apply", inputs={"plate": "/a.####.exr"}, outputs={"main": "/b.####.exr"},
                   device={"provider": "cpu"})
    assert spec.device == DeviceOptions(provider="cpu")


def test_malformed_json_names_line_and_column(tmp_path):
    path = _write(tmp_path, '{\n  "matchcut_job": 1,\n  "tool": "apply",,\n}')
    with pytest.raises(JobError, match=r"job\.json: not valid JSON at line 3, column 19"):
        load_job(path)


def test_missing_job_file(tmp_path):
    with pytest.raises(JobError, match="no such job file"):
        load_job(tmp_path / "nope.json")


def test_unknown_key_lists_known_keys(tmp_path):
    with pytest.raises(JobError) as info:
        load_job(_write(tmp_path, _job(frame="1001")))
    message = str(info.value)
    assert message.startswith("job.json: unknown key(s) 'frame'")
    for key in ("matchcut_job", "tool", "inputs", "outputs", "frames", "handles", "params", "device", "output_options"):
        assert key in message


def test_bad_range_names_the_field(tmp_path):
    with pytest.raises(JobError, match=r"^job\.json: 'frames': expected a range like 1001-1100, got 'abc'$"):
        load_job(_write(tmp_path, _job(frames="abc")))


def test_unsupported_version_lists_supported(tmp_path):
    with pytest.raises(JobError, match=r"'matchcut_job': version 2 is not supported \(supported: 1\)"):
        load_job(_write(tmp_path, _job(matchcut_job=2)))
    data = _job()
    del data["matchcut_job"]
    with pytest.raises(JobError, match="missing 'matchcut_job'"):
        load_job(_write(tmp_path, data))


@pytest.mark.parametrize(
    ("field", "value", "pattern"),
    [
        ("tool", "", "'tool': expected a tool name"),
        ("inputs", {}, "'inputs': expected an object"),
        ("outputs", {"main": 3}, "'outputs.main': expected a path pattern string"),
        ("handles", -1, "'handles': expected a whole number >= 0"),
        ("params", [1], "'params': expected an object"),
        ("params", {"nonfinite": "ignore"}, "'params.nonfinite': expected one of error, fix"),
        ("nonfinite", "warn", "'nonfinite': expected one of error, fix"),
        ("device", {"provider": "gpu"}, "'device': setting 'device.provider': unknown provider 'gpu'"),
        ("output_options", {"dtype": "int8"}, "'output_options.dtype': expected one of half, float"),
        ("output_options", {"codec": "piz"}, "'output_options': unknown key\\(s\\) codec"),
    ],
)
def test_field_errors_name_the_field(tmp_path, field, value, pattern):
    with pytest.raises(JobError, match=pattern):
        load_job(_write(tmp_path, _job(**{field: value})))


def test_relative_path_with_dotdot_escapes(tmp_path):
    with pytest.raises(PathEscapeError, match=r"'inputs.plate': path '../plates/a.####.exr' leaves its folder"):
        load_job(_write(tmp_path, _job(inputs={"plate": "../plates/a.####.exr"})))


def test_symlinked_folder_out_of_the_job_folder_escapes(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    jobdir = tmp_path / "job"
    jobdir.mkdir()
    os.symlink(outside, jobdir / "out")
    with pytest.raises(PathEscapeError, match="'outputs.main'"):
        load_job(_write(jobdir, _job(outputs={"main": "out/x.####.exr"})))


def test_absolute_paths_are_allowed(tmp_path):
    elsewhere = tmp_path / "show" / "plates" / "a.####.exr"
    jobdir = tmp_path / "job"
    jobdir.mkdir()
    spec = load_job(_write(jobdir, _job(inputs={"plate": str(elsewhere)})))
    assert spec.input_path("plate") == str(elsewhere)


def test_importing_jobs_tools_and_the_commands_stays_light():
    code = ("import sys, matchcut.jobs, matchcut.tools, matchcut.tools.apply, matchcut.cli.run; "
            "print([m for m in ('OpenImageIO', 'PyOpenColorIO', 'onnxruntime', 'torch', 'cv2', 'av') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
