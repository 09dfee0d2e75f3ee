"""Plain modules of the Nuke adapter: job building, cache keys, events, state, knob specs (no Nuke needed)."""
import ast
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "hosts" / "nuke"))

from matchcut_nuke import cache, events, jobs, knobs, regions, state, timing  # noqa: E402


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


def test_state_survives_round_trip_and_garbage_and_keeps_unknown_keys():
    text = state.dump_state("match", {"strength": 0.5, "mode": "lut"}, "k1", {"first": 1}, {"future": [1, 2]})
    assert state.load_state(text) == {"tool": "match", "values": {"strength": 0.5, "mode": "lut"}, "cache_key": "k1",
                                      "result": {"first": 1}, "extra": {"future": [1, 2]}}
    assert state.load_state("{not json") == {"tool": "", "values": {}, "cache_key": "", "result": {}, "extra": {}}
    assert state.load_state('["x"]')["values"] == {}
    assert state.merge_values({"old": 5, "strength": 0.5}, {"strength": 0.7}) == {"old": 5, "strength": 0.7}


def test_render_range_handles_and_clamping():
    assert timing.render_range("fill", 1002, 1004, 2) == (1000, 1006)
    assert timing.render_range("fill", 1002, 1004, 2, (1001, 1005)) == (1001, 1005)
    assert timing.render_range("retime", 1002, 1004, 1, (1001, 1010)) == (1002, 1005)  # no head handle
    assert timing.render_range("match", 1001, 1001, 0, (1001, 1001)) == (1001, 1001)
    with pytest.raises(ValueError, match="first <= last"):
        timing.render_range("fill", 5, 1, 0)


@pytest.mark.parametrize("params", [{"speed": 0.5}, {"speed": 2.0}, {"speed": 0.37}, {"fps_from": 24.0, "fps_to": 30.0},
                                    {"fps_from": 30.0, "fps_to": 24.0}])
def test_retime_output_range_matches_the_worker_plan(params):
    from matchcut.retime.timing import retime_sources, retime_step
    step = retime_step(params.get("speed"), params.get("fps_from"), params.get("fps_to"))
    plan = retime_sources(list(range(1001, 1025)), step)
    assert timing.output_range("retime", params, 1001, 1024) == (min(plan), max(plan))
    assert timing.output_range("fill", params, 1001, 1024) == (1001, 1024)
    with pytest.raises(ValueError, match="Speed"):
        timing.output_range("retime", {"speed": None}, 1, 2)


def test_pick_frame_for_continuity():
    assert timing.pick_frame("", 1048, last=True) == 1048
    assert timing.pick_frame("1040-1048", 0, last=True) == 1048 and timing.pick_frame("1001-1008", 0, last=False) == 1001
    assert timing.pick_frame("1001,1005-1010", 0, last=True) == 1010
    with pytest.raises(ValueError, match="abc"):
        timing.pick_frame("abc", 0, last=True)


def test_param_and_restore_values():
    specs = {s["name"]: s for s in knobs.knob_specs([
        {"name": "speed", "type": "float", "default": None, "min": 0.01, "max": 100},
        {"name": "screen_color", "type": "color", "default": None}, {"name": "depth", "type": "int", "default": 5, "min": 1, "max": 8},
        {"name": "ensemble", "type": "choice", "default": "1", "choices": ["1", "2", "4"]}])}
    assert knobs.param_value(specs["speed"], 0.01, enabled=False) is None and knobs.param_value(specs["speed"], 0.5) == 0.5
    assert knobs.param_value(specs["screen_color"], 0.2) == [0.2, 0.2, 0.2]  # Nuke's single-value colour
    assert knobs.param_value(specs["depth"], 4.0) == 4 and knobs.param_value(specs["ensemble"], "2") == "2"
    assert knobs.restore_value(specs["depth"], 9) is None and knobs.restore_value(specs["depth"], 3) == 3
    assert knobs.restore_value(specs["ensemble"], "8") is None and knobs.restore_value(specs["depth"], "x") is None
    assert knobs.knob_default(specs["speed"]) == 0.01 and knobs.knob_default(specs["screen_color"]) == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="mix"):
        knobs.knob_specs([{"name": "mix", "type": "float"}])


def test_regions_from_a_report(tmp_path):
    path = tmp_path / "continuity.json"
    path.write_text(json.dumps({"matchcut_continuity": 1, "comparisons": [{"size_b": [288, 224], "regions": [
        {"id": 1, "box": [32, 155, 41, 43], "score": 0.8669, "category": "disappeared", "on": "set", "area": 900}]}]}))
    found, height = regions.read_regions(str(path))
    assert height == 224 and found[0]["box"] == [32, 155, 41, 43]
    assert regions.region_line(found[0]) == "#1 disappeared 0.87 on set at x 32 y 155 w 41 h 43"
    assert regions.nuke_box([32, 155, 41, 43], 224) == [32, 26, 73, 69]
    with pytest.raises(regions.ReportError, match="nope.json"):
        regions.read_regions(str(tmp_path / "nope.json"))


def test_knob_specs_map_control_types():
    specs = knobs.knob_specs([{"name": "mode", "type": "choice", "choices": ["lut", "cdl"], "default": "lut"},
                              {"name": "strength", "type": "float", "min": 0, "max": 1, "default": 1.0, "help": "mix"},
                              {"name": "weird", "type": "tensor"}])
    assert [s["knob"] for s in specs] == ["Enumeration_Knob", "Double_Knob", "String_Knob"]
    assert specs[0]["choices"] == ["lut", "cdl"] and specs[1]["tooltip"] == "mix" and specs[2]["label"] == "weird"


def test_host_code_parses_with_python_39_grammar():
    for path in (ROOT / "hosts" / "nuke").rglob("*.py"):
        ast.parse(path.read_text(), feature_version=(3, 9))


def test_knob_specs_inputs_and_outputs_from_the_real_worker_tools_json():
    import subprocess
    exe = ROOT / ".venv" / "bin" / "matchcut"
    tools = knobs.tools_by_name(json.loads(subprocess.check_output([str(exe), "tools", "--json"], text=True)))
    specs = {s["name"]: s for s in knobs.knob_specs(tools["apply"]["controls"])}
    assert specs["model"]["knob"] == "String_Knob" and specs["tile"]["knob"] == "Int_Knob" and specs["tile"]["min"] == 0
    assert specs["overlap"]["optional"] and not specs["tile"]["optional"]
    for tool in tools.values():  # no control takes an adapter knob's name
        knobs.knob_specs(tool["controls"])
    assert knobs.tool_outputs(tools["matte"]) == ["foreground", "matte", "comp"]
    assert knobs.tool_outputs(tools["relight"]) == ["main", "passes"] and knobs.tool_outputs(tools["retime"]) == ["main"]
    assert knobs.tool_inputs(tools["continuity"]) == ["a", "b"] and knobs.passthrough_input(tools["continuity"]) == 1
    assert knobs.required_inputs(tools["match"]) == ["plate", "reference"]
    merged = knobs.model_tool(tools["apply"], {"id": "m", "controls": [{"name": "tile", "type": "int"},
                                                                       {"name": "amount", "type": "float", "default": 1.0}]})
    assert [c["name"] for c in merged["controls"]] == ["model", "tile", "overlap", "amount"] and merged["model"] == "m"


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
