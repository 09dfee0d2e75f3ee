"""Learn Fix in Resolve: the corrected clips laid over the source (or selected with it) are the targets, paired
with the source by record frame; the dialog trains with progress and cancel, then the trained model runs on the
clip and comes back as a new take. Plain decisions on plain values, then host.py and the dialog against the
strict fake with the real worker."""
from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pytest

import fake_resolve as fr
from resolve_world import TIMELINE, item_record, photo, tool_record, write_exr, write_shot
from matchcut_resolve import dialog, host, jobs, scope, settings, training, widgets
from matchcut_resolve.client import tools, worker

#: Small, fast training settings (2 shared cores): a few steps on 32 px crops, one thread.
QUICK = {"steps": 10, "crop": 32, "batch": 2, "eval_every": 5, "threads": 1}
WARM = np.array([1.25, 1.0, 0.8], np.float32)  # the artist's correction: warmer


def _plan(name, path, record_start, duration, source_start=0, **over):
    facts = item_record(name, path, record_start=record_start, duration=duration, source_start=source_start,
                        source_end=source_start + duration, left_offset=source_start, right_offset=0, **over)
    return jobs.plan_source(facts, TIMELINE, 0)


# --- plain: pairs, links, the jobs --------------------------------------------------------------------------

def test_targets_pair_with_the_source_by_record_frame_and_a_still_once(tmp_path):
    plate = _plan("sh030", "/s/sh030.[1001-1010].exr", 86400, 10)
    fix = _plan("sh030_fix", "/f/sh030_fix.[0001-0003].exr", 86402, 3)  # its own numbers: paired by record frame
    assert training.pairs(plate, fix) == [(1003, 1), (1004, 2), (1005, 3)]
    still = _plan("paint", "/f/paint.exr", 86408, 5, clip_frames=1)  # a still lasts 5 frames: its first counts
    assert training.is_still(still) and not training.is_still(fix)
    assert training.pairs(plate, still) == [(1009, 0)]
    outside = _plan("late", "/f/late.[1001-1005].exr", 86420, 5)
    assert training.pairs(plate, outside) == []
    dst, links = training.frame_links(tool_record("learn"), plate, "target", [fix, still, outside], str(tmp_path))
    assert dst == str(tmp_path / "inputs" / "target.####.exr")
    assert links == [("/f/sh030_fix.####.exr", 1, 1, dst, 1003, 1), ("/f/sh030_fix.####.exr", 2, 2, dst, 1004, 1),
                     ("/f/sh030_fix.####.exr", 3, 3, dst, 1005, 1), ("/f/paint.exr", 0, 0, dst, 1009, 1)]
    tiff = _plan("tiff", "/f/other.tif", 86401, 1, clip_frames=1)
    with pytest.raises(jobs.JobFailure, match=r"the Target clips are of different file types \(.exr, .tif\)"):
        training.frame_links(tool_record("learn"), plate, "target", [fix, tiff], str(tmp_path))
    movie = _plan("mov", "/f/fix.mov", 86401, 2, clip_frames=10)
    with pytest.raises(jobs.JobFailure, match="Target clip mov is a movie"):
        training.frame_links(tool_record("learn"), plate, "target", [movie], str(tmp_path))
    assert scope.above([(1, 0, 10), (2, 5, 8), (3, 0, 3), (2, 10, 12), (1, 2, 4)], 1, 2, 10) == [1, 2]


def test_the_training_job_its_folder_and_the_model_run_afterwards(tmp_path):
    learn, apply_tool = tool_record("learn"), tool_record("apply")
    plate = _plan("sh030", "/s/sh030.[1001-1010].exr", 86400, 10)
    fix = _plan("sh030_fix", "/f/sh030_fix.[1003-1005].exr", 86402, 3, source_start=0)
    plan = training.build_training(learn, plate, {"target": [fix]}, dict(QUICK), str(tmp_path), TIMELINE, "cpu")
    assert plan.job["tool"] == "learn" and plan.job["frames"] is None
    assert plan.job["params"] == dict(QUICK, frames="1003-1005", resume=True)
    assert plan.outputs == {"model": os.path.join(plan.folder, "model")} and plan.kinds == {"model": "model"}
    linked = os.path.join(plan.folder, "inputs", "target.####.exr")
    assert plan.job["inputs"] == {"plate": "/s/sh030.####.exr", "target": linked}
    assert os.path.basename(plan.folder).startswith("sh030_learn_") and training.model_folder(plan).endswith("model")
    again = training.build_training(learn, plate, {"target": [fix]}, dict(QUICK), str(tmp_path), TIMELINE, "cpu")
    assert again.folder == plan.folder  # the same settings train in the same folder: a cancel carries on there
    more = training.build_training(learn, plate, {"target": [fix]}, dict(QUICK, steps=20), str(tmp_path), TIMELINE)
    assert more.folder != plan.folder
    fixed = training.build_apply(apply_tool, plate, training.model_folder(plan), str(tmp_path), TIMELINE, "cpu")
    assert fixed.job["tool"] == "apply" and fixed.job["params"] == {"model": training.model_folder(plan)}
    assert fixed.job["frames"] == "1001-1010" and list(fixed.kinds) == ["main"]
    with pytest.raises(jobs.JobFailure, match="Learn Fix: choose the Target clip"):
        training.build_training(learn, plate, {}, {}, str(tmp_path), TIMELINE)
    late = _plan("late", "/f/late.[1001-1005].exr", 86420, 5)
    with pytest.raises(jobs.JobFailure, match="no Target clip overlaps sh030 on the timeline"):
        training.build_training(learn, plate, {"target": [late]}, {}, str(tmp_path), TIMELINE)


def test_the_dialog_of_a_training_offers_the_clips_above_and_no_scope():
    learn = tool_record("learn")
    own = {s["control"]: s for s in widgets.own_specs(learn, {}, [widgets.PREVIOUS, "V2 fix @86401"])}
    assert "scope" not in own and "handles" not in own and "placement" not in own
    assert own["input_target"]["items"] == [training.ABOVE, training.SELECTED, widgets.NONE, "V2 fix @86401"]
    assert own["input_target"]["index"] == 0 and own["input_mask"]["items"][0] == widgets.NONE
    shown = [s["control"] for s in widgets.tool_specs(learn)]
    assert "steps" in shown and "frames" not in shown and "resume" not in shown  # the adapter fills those
    assert training.paired_inputs(learn) == ["target"] and training.paired_inputs(tool_record("match")) == []
    assert "scope" in {s["control"] for s in widgets.own_specs(tool_record("match"), {}, [])}


# --- host.py and the dialog against the fake, with the real worker -----------------------------------------------

def _world(tmp_path, still=True):
    """sh030 (1001-1006) on V1 from 86400; its corrected frames 1002-1004 on V2 at 86401 and, with ``still``, a
    corrected still of frame 1006 on V3 at 86405; the playhead on sh030."""
    base = photo()
    path = write_shot(tmp_path / "src", "sh030", 1001, 1006, base)
    fixed = write_shot(tmp_path / "fix", "sh030_fix", 1002, 1004, base * WARM)
    timeline = fr.Timeline("Edit 1", "24", 86400)
    project = fr.Project("Show", timeline)
    resolve = fr.Resolve(project, fr.Fusion())
    source = timeline.add_item(1, fr.TimelineItem("sh030", fr.media_item(path, "24"), 86400, 6, 0, "24"))
    timeline.add_item(2, fr.TimelineItem("sh030_fix", fr.media_item(fixed, "24"), 86401, 3, 0, "24"))
    if still:
        write_exr(tmp_path / "fix" / "paint.exr", base * WARM)
        paint = fr.media_item(str(tmp_path / "fix" / "paint.exr"), "24", frames=1)
        timeline.add_item(3, fr.TimelineItem("paint", paint, 86405, 1, 0, "24"))
    timeline.playhead_item = source
    return resolve, project, timeline, source


def _tools(exe):
    return tools.tools_from(worker.query(exe, ["tools", "--json"]))


def test_the_dialog_trains_on_the_clips_above_and_the_fix_comes_back_as_a_take(tmp_path, worker_env):
    resolve, project, timeline, source = _world(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "src").glob("*.exr")}
    made = []

    class Scripted(fr.UIDispatcher):
        def __init__(self, ui):
            super().__init__(ui)

            def set_values(win):
                items = win.GetItems()
                self.choices = list(items["mc_input_target"].items)
                self.fields = set(items)
                for name, value in QUICK.items():
                    items["p_" + name].Value = value
                items["mc_provider"].CurrentIndex = widgets.PROVIDERS.index("cpu")
                items["mc_output"].Text = str(tmp_path / "out")

            def look(win):
                self.status = win.GetItems()["mc_status"].Text

            self.seen = []
            self.when = [(lambda win: self.seen.append(win.GetItems()["mc_status"].Text) and False, None)]
            self.script = [set_values, fr.click("mc_run"), look, fr.click("mc_close")]
            made.append(self)

    bmd = fr.Bmd()
    bmd.UIDispatcher = Scripted
    assert dialog.main(resolve, resolve.Fusion(), bmd, "learn") == 0
    disp = made[0]
    assert disp.windows[0].props["WindowTitle"] == "Matchcut: Learn Fix" and "mc_scope" not in disp.fields
    assert disp.choices[:2] == [training.ABOVE, training.SELECTED]
    assert disp.status.startswith("done"), disp.status
    assert any("Learn Fix: step 10/10, loss " in text for text in disp.seen), disp.seen[-5:]
    assert any("Apply Model: frame " in text for text in disp.seen)
    line = next(t for t in disp.status.splitlines() if "model trained on frames" in t)
    assert line.startswith("sh030: model trained on frames 1002-1004,1006: ") and "held-out" in line
    # the model ran on the whole clip: a new take, selected; take 1 stays the original
    assert source.GetTakesCount() == 2 and source.GetSelectedTakeIndex() == 2
    take = source.GetTakeByIndex(2)
    assert take["mediaPoolItem"].GetClipProperty("File Path").endswith("sh030_apply_main.[1001-1006].exr")
    assert (take["startFrame"], take["endFrame"]) == (0, 6)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "src").glob("*.exr")} == before  # never overwritten
    folder = pathlib.Path(line.split(": ", 2)[2].split(" (")[0]).parent
    job = json.loads((folder / "job.json").read_text())
    assert job["params"]["frames"] == "1002-1004,1006" and job["params"]["resume"] is True
    linked = folder / "inputs" / "target.1006.exr"
    assert linked.is_file() and os.path.samefile(linked, tmp_path / "fix" / "paint.exr")
    assert tools.model_ready(str(folder / "model"))
    assert settings.load(settings.settings_path())["learn"]["input_target"] == training.ABOVE


def test_cancel_keeps_the_checkpoint_and_run_again_carries_on(tmp_path, worker_env):
    resolve, project, timeline, source = _world(tmp_path, still=False)
    tool = _tools(worker_env)["learn"]
    options = dict(inputs={"target": training.ABOVE}, params=dict(QUICK, steps=60), output=str(tmp_path / "out"),
                   provider="cpu")
    run = host.Batch(resolve, project, timeline, tool, [source], options, worker_env)
    for _ in iter(run.tick, None):
        if run.run is not None and (run.run.state.step or 0) >= 5:
            run.cancel()
            break
    while run.tick() is not None:
        pass
    stopped = run.states[-1].step
    assert run.states[-1].status == "cancelled" and 5 <= stopped < 60
    assert "sh030: cancelled at step {}/60 (the last good checkpoint is kept; Run carries on from it)".format(
        stopped) in run.summary and source.GetTakesCount() == 0 and run.outcome() == "cancelled"
    again = host.Batch(resolve, project, timeline, tool, [source], options, worker_env)
    while again.tick() is not None:
        pass
    assert again.failures == 0, again.summary
    assert any("resumed at step {} of 60".format(stopped) in line for line in again.states[0].infos)
    assert source.GetTakesCount() == 2 and [s.status for s in again.states] == ["done", "done"]


def test_no_clip_above_and_the_selected_clips_need_naming(tmp_path, worker_env):
    resolve, project, timeline, source = _world(tmp_path, still=False)
    alone = fr.TimelineItem("sh040", source.GetMediaPoolItem(), 86410, 4, 0, "24")
    timeline.add_item(1, alone)
    with pytest.raises(host.HostError, match="no clip on a track above sh040"):
        host.target_items(timeline, alone, training.ABOVE)
    timeline.selected = [source]
    with pytest.raises(host.HostError, match="select the clips with the corrected frames as well as sh030"):
        host.target_items(timeline, source, training.SELECTED)
    fix = timeline.GetItemListInTrack("video", 2)[0]
    timeline.selected = [source, fix]
    assert host.target_items(timeline, source, training.SELECTED) == [fix]
    assert host.target_items(timeline, source, training.ABOVE) == [fix]
    assert host.target_items(timeline, source, "V2 sh030_fix @86401") == [fix]
    with pytest.raises(host.HostError, match="no item V9 gone @1 on the timeline"):
        host.target_items(timeline, source, "V9 gone @1")
    tool = _tools(worker_env)["learn"]
    run = host.Batch(resolve, project, timeline, tool, [alone], dict(inputs={"target": training.ABOVE},
                                                                     output=str(tmp_path / "out")), worker_env)
    while run.tick() is not None:
        pass
    assert run.failures == 1 and run.summary == ["sh040: error: no clip on a track above sh040: lay the corrected "
                                                 "frames over it, or choose the clips another way"]
