"""Plain modules of the Nuke adapter: job building, cache keys, events, state, knob specs (no Nuke needed)."""
import ast
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "hosts" / "nuke"))

from matchcut_nuke import cache, events, jobs, knobs, state  # noqa: E402


def test_build_job_round_trips_through_the_worker_spec(tmp_path):
    from matchcut.jobs import spec as spec_module  # the worker's own reader checks our job
    job = jobs.build_job("apply", {"plate": str(tmp_path / "in.####.exr")}, {"plate": str(tmp_path / "out.####.exr")},
                         1001, 1010, {"model": "degrain-small"}, handles=2)
    path = jobs.write_job(job, str(tmp_path / "job.json"))
    data = json.loads(pathlib.Path(path).read_text())
    assert data["matchcut_job"] == spec_module.SUPPORTED_VERSIONS[-1] and data["frames"] == "1001-1010"
    spec = spec_module.load_job(path)
    assert spec.tool == "apply" and spec.frames == list(range(1001, 1011)) and spec.handles == 2
    assert not list(tmp_path.glob(".job-*"))


def test_build_job_rejects_relative_paths_and_reversed_ranges(tmp_path):
    with pytest.raises(ValueError, match="absolute"):
        jobs.build_job("apply", {"plate": "in.####.exr"}, {}, 1, 2, {})
    with pytest.raises(ValueError, match="first <= last"):
        jobs.build_job("apply", {}, {}, 5, 1, {})


def test_cache_key_changes_with_each_input_and_folder_stays_inside(tmp_path):
    base = cache.cache_key("match", "abc", 1, 10, {"strength": 1.0})
    assert base == cache.cache_key("match", "abc", 1, 10, {"strength": 1.0})
    others = {cache.cache_key("match", "abd", 1, 10, {"strength": 1.0}), cache.cache_key("match", "abc", 1, 11, {"strength": 1.0}),
              cache.cache_key("match", "abc", 1, 10, {"strength": 0.5}), cache.cache_key("relight", "abc", 1, 10, {"strength": 1.0})}
    assert base not in others and len(others) == 4
    assert cache.is_stale("", base) and cache.is_stale(next(iter(others)), base) and not cache.is_stale(base, base)
    folder = cache.cache_folder(str(tmp_path), "../../etc", base)
    assert folder.startswith(str(tmp_path) + "/")


def test_events_fold_progress_artifacts_and_one_line_error():
    run = events.RunState()
    lines = ['{"event": "start", "tool": "match"}', "stray text", "", '{"event": "frame", "fraction": 0.5}',
             '{"event": "warning", "message": "clipped"}', '{"event": "done", "artifacts": {"lut": "/x/a.cube"}}']
    for line in lines:
        event = events.parse_line(line)
        if event:
            events.apply_event(run, event)
    assert run.status == "done" and run.fraction == 1.0 and run.artifacts == {"lut": "/x/a.cube"} and run.warnings == ["clipped"]
    failed = events.apply_event(events.RunState(), {"event": "error", "message": "plate.1001.exr: missing\nmore", "exit_code": 3})
    assert failed.status == "error" and failed.error == "plate.1001.exr: missing"


def test_state_survives_round_trip_and_garbage():
    text = state.dump_state("match", {"strength": 0.5, "mode": "lut"}, "k1")
    assert state.load_state(text) == {"tool": "match", "values": {"strength": 0.5, "mode": "lut"}, "cache_key": "k1"}
    assert state.load_state("{not json") == {"tool": "", "values": {}, "cache_key": ""}
    assert state.load_state('["x"]')["values"] == {}


def test_knob_specs_map_control_types():
    specs = knobs.knob_specs([{"name": "mode", "type": "choice", "choices": ["lut", "cdl"], "default": "lut"},
                              {"name": "strength", "type": "float", "min": 0, "max": 1, "default": 1.0, "help": "mix"},
                              {"name": "weird", "type": "tensor"}])
    assert [s["knob"] for s in specs] == ["Enumeration_Knob", "Double_Knob", "String_Knob"]
    assert specs[0]["choices"] == ["lut", "cdl"] and specs[1]["tooltip"] == "mix" and specs[2]["label"] == "weird"


def test_host_code_parses_with_python_39_grammar():
    for path in (ROOT / "hosts" / "nuke").rglob("*.py"):
        ast.parse(path.read_text(), feature_version=(3, 9))


def test_knob_specs_from_the_real_worker_tools_json():
    import subprocess
    exe = ROOT / ".venv" / "bin" / "matchcut"
    tools = knobs.tools_by_name(json.loads(subprocess.check_output([str(exe), "tools", "--json"], text=True)))
    specs = {s["name"]: s for s in knobs.knob_specs(tools["apply"]["controls"])}
    assert specs["model"]["knob"] == "String_Knob" and specs["tile"]["knob"] == "Int_Knob" and specs["tile"]["min"] == 0


@pytest.mark.zoo
def test_real_worker_runs_a_built_job_and_events_parse(tmp_path, zoo_model):
    import subprocess
    import numpy as np
    import OpenImageIO as oiio
    zoo_model("degrain-small")
    for frame in (1, 2):
        out = oiio.ImageOutput.create(str(tmp_path / f"in.{frame:04d}.exr"))
        out.open(str(tmp_path / f"in.{frame:04d}.exr"), oiio.ImageSpec(64, 64, 3, "float"))
        out.write_image(np.full((64, 64, 3), 0.18, np.float32))
        out.close()
    job = jobs.build_job("apply", {"plate": str(tmp_path / "in.####.exr")}, {"main": str(tmp_path / "out.####.exr")},
                         1, 2, {"model": "degrain-small"})
    path = jobs.write_job(job, str(tmp_path / "job.json"))
    exe = ROOT / ".venv" / "bin" / "matchcut"
    proc = subprocess.run([str(exe), "run", path, "--events", "jsonl"], capture_output=True, text=True)
    run = events.RunState()
    for line in proc.stdout.splitlines():
        event = events.parse_line(line)
        if event:
            events.apply_event(run, event)
    assert run.status == "done", proc.stdout + proc.stderr
    assert (tmp_path / "out.0001.exr").exists() and (tmp_path / "out.0002.exr").exists()
