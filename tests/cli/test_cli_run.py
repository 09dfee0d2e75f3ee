"""`matchcut run` and `matchcut apply`: CliRunner runs, JSON-lines output, exit codes, SIGINT and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from matchcut.cli import run as run_cli
from matchcut.errors import JobCancelled, JobError
from matchcut.frames import read_metadata, read_plate, write_plate
from matchcut.models.manifest import ModelManifest, RuntimeInfo, TensorSpec, sha256_file, write_manifest

MIX = np.array([[0.5, 0.25, 0.0], [0.0, 1.0, 0.1], [0.2, 0.0, 0.7]], np.float32)  # (out, in)
MIX_BIAS = np.array([0.1, 0.0, -0.05], np.float32)


def conv_chain(folder, model_id, layers):
    """Write an ONNX chain of convolutions (``layers``: (weights (out, in, k, k), bias)) and its manifest."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    nodes, inits, src = [], [], "x"
    for i, (w, b) in enumerate(layers):
        pad = w.shape[-1] // 2
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Conv", [src, f"w{i}", f"b{i}"], [f"c{i}"], pads=[pad] * 4))
        src = f"c{i}"
    nodes.append(helper.make_node("Identity", [src], ["y"]))
    shape = ["N", 3, "H", "W"]
    graph = helper.make_graph(nodes, model_id, [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, folder / f"{model_id}.onnx")
    tensor = dict(layout="NCHW", channels=("R", "G", "B"), range=(0.0, 1.0))
    write_manifest(ModelManifest(
        id=model_id, version="1", task="image-to-image", file=f"{model_id}.onnx",
        sha256=sha256_file(folder / f"{model_id}.onnx"), licence="Apache-2.0",
        runtime=RuntimeInfo(receptive_field=sum(w.shape[-1] // 2 for w, _ in layers)),
        inputs=(TensorSpec("x", **tensor),), outputs=(TensorSpec("y", **tensor),),
    ), folder / f"{model_id}.toml")


def slow_layers():
    """Enough convolutions at 16 channels that a 160x160 frame takes a noticeable fraction of a second."""
    rng = np.random.default_rng(1)
    sizes = [3, 16, 16, 16, 16, 16, 16, 3]
    return [(rng.normal(0, 0.1, (o, i, 3, 3)).astype(np.float32), np.zeros(o, np.float32))
            for i, o in zip(sizes[:-1], sizes[1:])]


@pytest.fixture
def env(tmp_path, monkeypatch):
    models = tmp_path / "models"
    conv_chain(models, "mix", [(MIX[:, :, None, None].copy(), MIX_BIAS)])
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(models))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    return models


@pytest.fixture
def app():
    app = typer.Typer()
    run_cli.register(app)
    return app


def _pixels(frame, size=(5, 7)):
    return np.random.default_rng(frame).random((*size, 3), dtype=np.float32)


def _plates(folder, frames, size=(5, 7)):
    for f in frames:
        write_plate(folder / "plates" / f"p.{f:04d}.exr", _pixels(f, size), dtype="float")


def _job_file(folder, model="mix", frames="1001-1003"):
    path = folder / "job.json"
    path.write_text(json.dumps({
        "matchcut_job": 1, "tool": "apply", "inputs": {"plate": "plates/p.####.exr"},
        "outputs": {"main": "out/o.####.exr"}, "frames": frames, "params": {"model": model},
        "device": {"provider": "cpu"}, "output_options": {"dtype": "float"},
    }))
    return path


def _events(text):
    return [json.loads(line) for line in text.splitlines()]


def test_run_jsonl_prints_only_events_on_stdout(tmp_path, env, app):
    _plates(tmp_path, range(1001, 1004))
    result = CliRunner().invoke(app, ["run", str(_job_file(tmp_path)), "--events", "jsonl", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    events = _events(result.stdout)
    assert [e["event"] for e in events] == ["start", "frame", "frame", "frame", "done"]
    assert events[-1]["frames_written"] == 3
    for f in range(1001, 1004):
        expected = _pixels(f) @ MIX.T + MIX_BIAS
        np.testing.assert_allclose(read_plate(tmp_path / "out" / f"o.{f:04d}.exr").pixels, expected, atol=1e-5)


def test_jsonl_stdout_stays_events_only_when_libraries_print(tmp_path, env):
    """In a real process with --device auto: where onnxruntime lists a GPU provider it cannot load (this CPU
    machine), it print()s "EP Error ... Falling back" while creating the session; that must go to stderr."""
    _plates(tmp_path, range(1001, 1003))
    job = _job_file(tmp_path, frames="1001-1002")
    proc = subprocess.run([sys.executable, "-m", "matchcut", "run", str(job), "--events", "jsonl", "--device", "auto"],
                          capture_output=True, text=True, env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    kinds = [e["event"] for e in _events(proc.stdout)]  # every line parses as an event
    # A CPU fallback is reported as a warning event (on a machine with a working GPU there is none).
    assert [k for k in kinds if k != "warning"] == ["start", "frame", "frame", "done"]


def test_run_text_shows_progress_on_stderr(tmp_path, env, app):
    _plates(tmp_path, range(1001, 1003))
    result = CliRunner().invoke(app, ["run", str(_job_file(tmp_path, frames="1001-1002"))])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "frame 1002 [2/2]" in result.stderr and "done: 2 written, 0 skipped" in result.stderr


def test_run_error_is_an_event_and_an_exception(tmp_path, env, app):
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"matchcut_job": 1, "tool": "apply", "inputs": {"plate": "p.####.exr"},
                               "outputs": {"main": "o.####.exr"}, "speed": 2}))
    result = CliRunner().invoke(app, ["run", str(job), "--events", "jsonl"])
    assert isinstance(result.exception, JobError)
    (event,) = _events(result.stdout)
    assert event["event"] == "error" and event["type"] == "JobError" and event["exit_code"] == 8
    assert "unknown key(s) 'speed'" in event["message"]


def test_apply_builds_a_job_from_options(tmp_path, env, app, monkeypatch):
    _plates(tmp_path, range(1001, 1005))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    args = ["apply", "--model", "mix", "--input", "../plates/p.####.exr", "--output", "../elsewhere/o.####.exr",
            "--frames", "1002-1003", "--tile", "4", "--overlap", "1", "--device", "cpu",
            "--compression", "zip", "--events", "jsonl"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert _events(result.stdout)[-1]["frames_written"] == 2
    out = tmp_path / "elsewhere"  # command-line paths are the user's own: they may leave the cwd
    assert sorted(p.name for p in out.iterdir()) == ["o.1002.exr", "o.1003.exr"]
    meta = read_metadata(out / "o.1002.exr")
    assert meta["compression"] == "zip"
    assert json.loads(meta["matchcut/params"])["tile"] == 4
    # apply writes half floats by default: compare within half precision.
    np.testing.assert_allclose(read_plate(out / "o.1003.exr").pixels, _pixels(1003) @ MIX.T + MIX_BIAS, rtol=2e-3)


def test_apply_set_parses_values_and_rejects_unknown_controls(tmp_path, env, app):
    assert run_cli.parse_set(["strength=0.5", "on=true", "name=soft", "n=3"]) == {
        "strength": 0.5, "on": True, "name": "soft", "n": 3}
    _plates(tmp_path, [1001])
    args = ["apply", "--model", "mix", "--input", str(tmp_path / "plates/p.####.exr"), "--output",
            str(tmp_path / "out/o.####.exr"), "--set", "strength=0.5", "--events", "jsonl"]
    result = CliRunner().invoke(app, args)
    assert "model 'mix' has no control 'strength'" in str(result.exception)
    assert _events(result.stdout)[-1]["type"] == "SettingError"
    assert not (tmp_path / "out").exists()


def test_main_prints_one_line_and_exits_with_the_error_code(tmp_path, env, capsys):
    from matchcut.cli.app import main

    job = _job_file(tmp_path, frames="abc")
    with pytest.raises(SystemExit) as info:
        main(["run", str(job), "--events", "jsonl"])
    assert info.value.code == 8
    captured = capsys.readouterr()
    assert captured.err.strip() == "matchcut: error: job.json: 'frames': expected a range like 1001-1100, got 'abc'"
    assert _events(captured.out)[0]["event"] == "error"


def test_sigint_stops_a_running_job_which_then_resumes(tmp_path, env, app):
    conv_chain(env, "slow", slow_layers())
    frames = range(1001, 1011)
    _plates(tmp_path, frames, size=(160, 160))
    job = _job_file(tmp_path, model="slow", frames="1001-1010")
    environ = {**os.environ, "MATCHCUT_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "matchcut", "run", str(job), "--events", "jsonl"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if json.loads(line)["event"] == "frame":
                proc.send_signal(signal.SIGINT)
                break
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    events = _events("".join(lines) + out)
    assert proc.returncode == JobCancelled.exit_code, err
    assert events[-1]["event"] == "cancelled"
    assert "matchcut: error: job cancelled" in err
    written = sorted((tmp_path / "out").iterdir())
    assert all(not p.name.startswith(".") for p in written)  # no temporary file left behind
    assert events[-1]["frames_written"] == len(written) and 1 <= len(written) < 10

    result = CliRunner().invoke(app, ["run", str(job), "--events", "jsonl"])
    assert result.exit_code == 0, result.output
    done = _events(result.stdout)[-1]
    assert (done["frames_skipped"], done["frames_written"]) == (len(written), 10 - len(written))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"o.{f:04d}.exr" for f in frames]


def test_run_chunk_makes_only_its_frames_of_the_whole_plan_and_finish_only_checks_them(tmp_path, env, app):
    from matchcut.errors import SettingError

    _plates(tmp_path, range(1001, 1005))
    job = _job_file(tmp_path, frames="1001-1004")
    result = CliRunner().invoke(app, ["run", str(job), "--chunk", "1003-1004", "--events", "jsonl"])
    assert result.exit_code == 0, result.output
    events = _events(result.stdout)
    assert events[0]["frames"] == [1003, 1004] and [e["frame"] for e in events if e["event"] == "frame"] == [1003, 1004]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.exr")) == ["o.1003.exr", "o.1004.exr"]
    result = CliRunner().invoke(app, ["run", str(job), "--finish-only"])
    assert isinstance(result.exception, JobError) and "frame(s) 1001-1002 are not made yet" in str(result.exception)
    assert CliRunner().invoke(app, ["run", str(job), "--chunk", "1001-1002"]).exit_code == 0
    assert CliRunner().invoke(app, ["run", str(job), "--finish-only"]).exit_code == 0
    result = CliRunner().invoke(app, ["run", str(job), "--chunk", "first ten"])
    assert isinstance(result.exception, SettingError)
    assert str(result.exception) == "setting '--chunk': expected output frames like 1001-1010, got 'first ten'"
