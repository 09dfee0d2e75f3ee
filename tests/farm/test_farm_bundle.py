"""The job bundle: an Open Job Description template `openjd check` passes, chunks cut to the tool's temporal
window, a final step for artifacts, GPU host requirements, and what Deadline Cloud's own client reads of it."""

from __future__ import annotations

import json
import subprocess

import pytest

from farm_shots import OPENJD, write_job
from matchcut.farm.bundle import write_bundle
from matchcut.farm.chunks import chunk_size, range_text, split, temporal_window
from matchcut.paths import PathMap, parse_rule
from matchcut.tools import get_tool


def _template(bundle):
    return json.loads(bundle.template.read_text())


def _openjd_chunks(bundle):
    """The chunks OpenJD's own model makes of the bundle's first step."""
    from openjd.model import (StepParameterSpaceIterator, create_job, decode_job_template,
                              preprocess_job_parameters)

    template = decode_job_template(template=_template(bundle), supported_extensions=["TASK_CHUNKING"])
    values = preprocess_job_parameters(job_template=template, job_parameter_values={k: str(v) for k, v in
                                                                                     bundle.values().items()},
                                       environment_templates=[], job_template_dir=bundle.folder,
                                       current_working_dir=bundle.folder)
    job = create_job(job_template=template, job_parameter_values=values)
    return [task["Frame"].value for task in StepParameterSpaceIterator(space=job.steps[0].parameterSpace)]


def test_temporal_windows_and_chunk_sizes_follow_each_tools_timing():
    assert {name: temporal_window(get_tool(name)) for name in ("apply", "match", "matte", "fill", "retime")} == \
        {"apply": 1, "match": 1, "matte": 1, "fill": 5, "retime": 2}
    assert chunk_size(get_tool("fill"), 10) == (10, "")
    size, note = chunk_size(get_tool("fill"), 2)
    assert size == 5 and note.startswith("chunk size raised from 2 to 5: one output frame of fill reads 5 source frames")
    assert chunk_size(get_tool("retime"), 1)[0] == 2
    with pytest.raises(Exception, match="setting '--chunk': expected a whole number of frames >= 1, got 0"):
        chunk_size(get_tool("apply"), 0)
    assert range_text([1001, 1002, 1003, 1007, 1009, 1010]) == "1001-1003,1007,1009-1010"
    assert split(list(range(1001, 1012)) + [1020], 5) == [(1001, 1005), (1006, 1010), (1011, 1011), (1020, 1020)]


def test_a_match_bundle_has_chunks_a_finish_step_and_the_workers_environment(shot, tmp_path):
    bundle = write_bundle(write_job(shot, tmp_path, "match"), tmp_path / "b", chunk=5, allow_local=True)
    assert sorted(p.name for p in bundle.folder.iterdir()) == ["job.json", "parameter_values.json", "template.json"]
    checked = subprocess.run([str(OPENJD), "check", str(bundle.template)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    template = _template(bundle)
    assert template["specificationVersion"] == "jobtemplate-2023-09" and template["extensions"] == ["TASK_CHUNKING"]
    params = {p["name"]: p for p in template["parameterDefinitions"]}
    assert params["JobFile"]["default"] == "job.json" and params["Frames"]["default"] == "1001-1012"
    assert params["ChunkSize"]["default"] == 5 and params["ChunkSize"]["minValue"] == 1
    chunks, finish = template["steps"]
    space = chunks["parameterSpace"]["taskParameterDefinitions"][0]
    assert space == {"name": "Frame", "type": "CHUNK[INT]", "range": "{{Param.Frames}}",
                     "chunks": {"defaultTaskCount": "{{Param.ChunkSize}}", "rangeConstraint": "CONTIGUOUS"}}
    run = chunks["script"]["actions"]["onRun"]
    assert run == {"command": "{{Param.Matchcut}}",
                   "args": ["run", "{{Param.JobFile}}", "--chunk", "{{Task.Param.Frame}}", "--events", "jsonl"]}
    assert finish["name"] == "Finish" and finish["dependencies"] == [{"dependsOn": "Frames"}]
    assert finish["script"]["actions"]["onRun"]["args"] == ["run", "{{Param.JobFile}}", "--finish-only", "--events",
                                                            "jsonl"]
    environment = template["jobEnvironments"][0]
    assert environment["script"]["actions"]["onEnter"] == {"command": "{{Param.Matchcut}}", "args": ["--version"]}
    assert environment["variables"] == {"MATCHCUT_WORKER": "{{Param.Matchcut}}"}
    assert "hostRequirements" not in chunks  # the job runs on the CPU
    values = json.loads(bundle.parameter_values.read_text())["parameterValues"]
    assert values == [{"name": "JobFile", "value": str(tmp_path / "b" / "job.json")},
                      {"name": "Matchcut", "value": bundle.worker}, {"name": "Frames", "value": "1001-1012"},
                      {"name": "ChunkSize", "value": 5}]
    assert json.loads(bundle.job.read_text())["params"]["lut"] == str(tmp_path / "out" / "match.cube")
    assert _openjd_chunks(bundle) == ["1001-1004", "1005-1008", "1009-1012"]


def test_deadline_clouds_own_client_reads_the_bundle(shot, tmp_path):
    from deadline.client.job_bundle.parameters import read_job_bundle_parameters

    bundle = write_bundle(write_job(shot, tmp_path, "retime"), tmp_path / "b", allow_local=True)
    read = {p["name"]: p["value"] for p in read_job_bundle_parameters(str(bundle.folder))}
    assert read == {"JobFile": str(bundle.job), "Matchcut": bundle.worker, "Frames": "1001-1023", "ChunkSize": 10}


def test_gpu_workers_are_asked_for_unless_the_job_runs_on_the_cpu(shot, tmp_path):
    gpu = write_bundle(write_job(shot, tmp_path / "a", "retime", device="auto"), tmp_path / "a" / "b", allow_local=True)
    assert _template(gpu)["steps"][0]["hostRequirements"] == {"amounts": [{"name": "amount.worker.gpu", "min": 1}]}
    off = write_bundle(write_job(shot, tmp_path / "c", "retime", device="cuda"), tmp_path / "c" / "b",
                       allow_local=True, gpu=False)
    assert "hostRequirements" not in _template(off)["steps"][0]


def test_chunks_cover_the_plan_a_retime_makes_and_fill_raises_a_small_chunk(shot, tmp_path):
    retime = write_bundle(write_job(shot, tmp_path / "r", "retime"), tmp_path / "r" / "b", chunk=1, allow_local=True)
    # half speed of 12 frames numbered from the first: 23 output frames, chunks of at least the window (2)
    assert retime.frames == "1001-1023" and retime.plan.size == 2 and retime.plan.window == 2
    assert _template(retime)["parameterDefinitions"][3]["minValue"] == 2 and retime.notes[0].startswith("chunk size raised")
    # every frame from the first to the last on disk: fill rebuilds the missing 1008 inside the range
    fill = write_bundle(write_job(shot, tmp_path / "f", "fill", frames=None), tmp_path / "f" / "b", chunk=2,
                        allow_local=True)
    assert fill.frames == "1001-1012" and fill.plan.size == 5
    assert not fill.finish and [s["name"] for s in _template(fill)["steps"]] == ["Frames"]
    assert write_bundle(write_job(shot, tmp_path / "m", "match", artifacts=False), tmp_path / "m" / "b",
                        allow_local=True).finish is False


def test_a_frameless_job_is_one_task_and_paths_are_mapped_for_the_workers(shot, tmp_path):
    job = tmp_path / "cut.json"
    job.write_text(json.dumps({"matchcut_job": 1, "tool": "continuity",
                               "inputs": {"a": str(shot / "plates" / "p.####.exr"), "b": str(shot / "ref.exr")},
                               "outputs": {"report": str(tmp_path / "report")}, "device": {"provider": "cpu"}}))
    rules = PathMap([parse_rule(f"{shot}=/mnt/show/sh010"), parse_rule(f"{tmp_path}=/mnt/show/work")])
    bundle = write_bundle(job, tmp_path / "b", paths=rules, worker="matchcut")
    template = _template(bundle)
    assert [s["name"] for s in template["steps"]] == ["Run"] and "parameterSpace" not in template["steps"][0]
    assert [p["name"] for p in template["parameterDefinitions"]] == ["JobFile", "Matchcut"]
    assert template["steps"][0]["script"]["actions"]["onRun"]["args"] == ["run", "{{Param.JobFile}}", "--events",
                                                                          "jsonl"]
    data = json.loads(bundle.job.read_text())
    assert data["inputs"] == {"a": "/mnt/show/sh010/plates/p.####.exr", "b": "/mnt/show/sh010/ref.exr"}
    assert data["outputs"] == {"report": "/mnt/show/work/report"}
    assert bundle.job_file == "/mnt/show/work/b/job.json" and bundle.worker == "matchcut"  # a bare name: the workers' PATH
