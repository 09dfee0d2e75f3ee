"""The client's side of a tool that trains (learn): step events, the progress line, what hosts derive from the
description (the model output, the corrected frames, the resume switch, the tool that runs the model), and a
real training followed through the client, then its model folder run by the model-running tool."""
from __future__ import annotations

import json

import pytest

STEPS = ['{"event": "start", "job": "learn", "frames": [], "total": 0}',
         '{"event": "step", "step": 1, "steps": 1000, "loss": 0.05, "fraction": 0.001}',
         '{"event": "step", "step": 300, "steps": 1000, "loss": 0.01234, "fraction": 0.3, "psnr": 31.24, '
         '"psnr_before": 27.91, "best_step": 300, "preview": "/m/preview.png"}',
         '{"event": "step", "step": 400, "steps": 1000, "loss": 0.011, "fraction": 0.4, "psnr": 30.9, '
         '"psnr_before": 27.91, "best_step": 300}']


def test_step_events_fold_into_the_state_and_the_progress_line(client):
    events = client["events"]
    state = events.JobState()
    state.feed(STEPS[0])
    state.feed(STEPS[1])
    assert state.status == "running" and state.step == 1 and state.psnr is None
    assert events.progress_text(state, "Learn Fix") == "Learn Fix: step 1/1000, loss 0.05"
    state.feed(STEPS[2])
    assert events.progress_text(state, "Learn Fix") == \
        "Learn Fix: step 300/1000, loss 0.0123, held-out 31.2 dB (untouched 27.9 dB)"
    assert (state.fraction, state.best_psnr, state.preview) == (0.3, 31.24, "/m/preview.png")
    state.feed(STEPS[3])  # a measure that is not the best: the best stays, the last is shown
    assert (state.psnr, state.best_psnr, state.best_step, state.preview) == (30.9, 31.24, 300, "/m/preview.png")
    summary = events.training_summary(state)
    assert summary["step"] == 400 and summary["best_psnr"] == 31.24
    assert events.result_line(summary) == "held-out 31.2 dB (untouched 27.9 dB), best at step 300 of 400"
    state.feed('{"event": "done", "artifacts": {"model": "/m/learned-m.toml"}}')
    assert events.progress_text(state, "Learn Fix") == \
        "Learn Fix: done, held-out 31.2 dB (untouched 27.9 dB), best at step 300 of 400"
    stopped = events.JobState()
    for line in STEPS[:3] + ['{"event": "cancelled", "frames_written": 0}']:
        stopped.feed(line)
    assert events.progress_text(stopped, "Learn Fix") == ("Learn Fix: cancelled at step 300/1000; the last good "
                                                          "checkpoint is kept, running it again carries on from it")
    # a job of frames keeps its own lines; a training that never beat the untouched frames says so
    assert events.training_summary(events.JobState()) is None and events.result_line(None) == ""
    flat = dict(summary, best_psnr=None, best_step=0)
    assert events.result_line(flat).endswith("no better than untouched, the model changes nothing")
    assert events.result_line(dict(summary, best_psnr=None)) == \
        "held-out 30.9 dB at the last measure (untouched 27.9 dB)"  # resumed: the best came before


def test_follow_reports_every_step_to_the_host(client, script):
    worker = client["worker"]
    body = "\n".join("echo '{}'; sleep 0.2".format(line) for line in STEPS)
    run = worker.JobRun(script(body), "/nowhere/job.json")
    seen = []
    state = worker.follow(run, lambda s: seen.append(s.step))
    steps = [s for i, s in enumerate(seen) if s is not None and (i == 0 or seen[i - 1] != s)]
    assert steps == [1, 300, 400] and state.status == "error"  # each step once; no final event: an error


def test_hosts_derive_a_training_from_its_description(client, real_worker):
    tools = client["tools"]
    described = tools.load_descriptions(real_worker)[0]
    learn = described["learn"]
    assert tools.trains(learn) and not tools.trains(described["apply"]) and not tools.trains(described["continuity"])
    assert tools.model_outputs(learn) == ["model"] and tools.frame_outputs(learn, ["model"]) == []
    assert tools.frame_outputs(described["continuity"], ["report", "json", "main"]) == ["main"]
    assert tools.host_switches(learn) == {"resume": True} and tools.host_switches(described["match"]) == {}
    assert {"frames", "resume"} <= set(tools.host_params(learn)) and "steps" not in tools.host_params(learn)
    runner = tools.model_runner(described)
    assert runner == "apply" and tools.run_model_params(described[runner], "/m") == {"model": "/m"}
    with pytest.raises(tools.DescriptionError, match="runs no chosen model"):
        tools.run_model_params(learn, "/m")
    assert tools.paired_frames(learn, {"plate": range(1001, 1011), "target": [1003, 1005, 1020]}) == [1003, 1005]
    with pytest.raises(ValueError, match=r"Learn Fix: Source \(frames 1001-1002\), Target \(frames 1005\) share "
                                         r"no frame: the corrected frames must carry the frame numbers"):
        tools.paired_frames(learn, {"plate": [1001, 1002], "target": [1005]})


def test_a_real_training_runs_through_the_client_and_its_folder_runs_as_a_model(client, real_worker, plates, tmp_path):
    import numpy as np
    import OpenImageIO as oiio

    jobs, tools, worker = client["jobs"], client["tools"], client["worker"]
    described = tools.load_descriptions(real_worker)[0]
    learn = described["learn"]
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    for f in (1001, 1002, 1003):  # the artist's correction: warmer
        pixels = oiio.ImageBuf(str(plates / "sh010.{}.exr".format(f))).get_pixels(oiio.FLOAT)
        out = oiio.ImageOutput.create(str(fixed / "sh010.{}.exr".format(f)))
        out.open(str(fixed / "sh010.{}.exr".format(f)), oiio.ImageSpec(32, 24, 3, "half"))
        out.write_image(np.ascontiguousarray(pixels * np.array([1.25, 1.0, 0.8], np.float32)))
        out.close()
    folder = tmp_path / "learn"
    params = dict({"frames": "1001-1003", "steps": 6, "crop": 16, "batch": 2, "eval_every": 3, "threads": 1},
                  **tools.host_switches(learn))
    job = jobs.build_job("learn", {"plate": str(plates / "sh010.####.exr"), "target": str(fixed / "sh010.####.exr")},
                         {"model": str(folder / "model")}, None, params, provider="cpu")
    seen = []
    state = worker.follow(worker.JobRun(real_worker, jobs.write_json_atomic(str(folder / "job.json"), job)),
                          lambda s: seen.append(events_line(client, s)))
    assert state.status == "done", state.error
    assert state.step == 6 and state.psnr_before is not None and tools.model_ready(str(folder / "model"))
    assert any(line.startswith("Learn Fix: step 3/6, loss ") and "held-out" in line for line in seen), seen
    assert not tools.model_ready(str(tmp_path)) and not tools.model_ready(str(tmp_path / "none"))
    runner = described[tools.model_runner(described)]
    run = jobs.build_job(runner["name"], {"plate": str(plates / "sh010.####.exr")},
                         {"main": str(tmp_path / "out" / "sh010_fix.####.exr")}, "1001-1003",
                         tools.run_model_params(runner, str(folder / "model")), provider="cpu")
    done = worker.JobRun(real_worker, jobs.write_json_atomic(str(tmp_path / "out" / "job.json"), run)).wait(120)
    assert done.status == "done" and done.frames_written == 3, done.error
    assert json.loads((folder / "job.json").read_text())["params"]["resume"] is True


def events_line(client, state):
    return client["events"].progress_text(state, "Learn Fix")
