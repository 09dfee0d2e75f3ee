"""The decisions host.py leaves to plain modules, on plain values: which items a run covers (scope), renders to
EXR (renders), where results go and the summary lines (results), and a batch's per-item choices (batch)."""
from __future__ import annotations

import json
import os
from fractions import Fraction

import pytest

from resolve_world import TIMELINE, item_record as _item, tool_record as _tool
from matchcut_resolve import batch, jobs, media, renders, results, scope, timing, widgets
from matchcut_resolve.client import events
from matchcut_resolve.errors import HostError


def test_track_labels_and_the_previous_item():
    assert scope.track_index(["video", 2]) == 2 and scope.track_index(("audio", 1)) == 1
    assert scope.track_index(None) is None and scope.track_index(["video"]) is None
    assert scope.item_label(1, "sh010", 86400) == "V1 sh010 @86400"
    # The last item starting before the cut; the first of two that start together; none before the first.
    assert scope.previous_index([86400, 86404, 86410], 86410) == 1
    assert scope.previous_index([86404, 86400, 86404], 86410) == 0
    assert scope.previous_index([86400, 86404], 86400) is None and scope.previous_index([], 5) is None


def test_selection_keeps_video_items_with_media_by_track_then_frame():
    records = [{"pair": ["video", 2], "media": True, "start": 86400},
               {"pair": ["video", 2], "media": False, "start": 86404},   # a title
               {"pair": ["audio", 1], "media": True, "start": 86400},    # audio
               {"pair": ["video", 1], "media": True, "start": 86404},
               {"pair": ["video", 1], "media": True, "start": 86400},
               {"pair": None, "media": True, "start": 86500}]            # no GetTrackTypeAndIndex: sorts first
    assert scope.selected_order(records) == [5, 4, 3, 0]
    same = [{"pair": ["video", 1], "media": True, "start": 10}, {"pair": ["video", 1], "media": True, "start": 10}]
    assert scope.selected_order(same) == [0, 1]  # ties keep the selection's order
    with pytest.raises(HostError, match="select one or more video clips"):
        scope.selected_order([{"pair": ["audio", 1], "media": True, "start": 0}])


def test_mark_range_reads_relative_and_absolute_marks():
    assert scope.mark_range({"video": {"in": 2, "out": 5}}, 86400, 86420) == (86402, 86405)
    assert scope.mark_range({"audio": {"in": 5.0, "out": 6.4}}, 86400, 86420) == (86405, 86406)
    assert scope.mark_range({"video": {"in": 86402, "out": 86405}}, 86400, 86420) == (86402, 86405)
    assert scope.mark_range({"video": {"in": 3, "out": 7}}, 0, 100) == (3, 7)  # a timeline starting at 0
    with pytest.raises(HostError, match="set In and Out"):
        scope.mark_range({"video": {"in": 2}}, 86400, 86420)
    with pytest.raises(HostError, match=r"Out \(2\) is before In \(6\)"):
        scope.mark_range({"video": {"in": 6, "out": 2}}, 86400, 86420)


def test_marks_and_clip_colours_choose_items():
    spans = [(86400, 86404), (86404, 86407), (86407, 86410)]
    assert scope.within_marks(spans, 86402, 86405, 1) == [0, 1]
    assert scope.within_marks(spans, 86404, 86404, 1) == [1]  # ends are exclusive, Out inclusive
    assert scope.within_marks(spans, 86403, 86403, 1) == [0]
    with pytest.raises(HostError, match="no item on track V3 between In and Out"):
        scope.within_marks(spans, 86440, 86450, 3)
    assert scope.with_colour(["Orange", "", "Orange", "Teal"], "Orange") == [0, 2]
    with pytest.raises(HostError, match="clip colour first"):
        scope.with_colour(["Orange"], "")
    assert "valid: current, selected, in-out, clip-colour" in str(scope.unknown_scope("everything"))


def test_render_settings_codec_and_restore():
    assert renders.exr_codec({"RGB float": "RGBFloat", "RGB half (no compression)": "RGBHalf"}) == "RGBHalf"
    assert renders.exr_codec({"RGB float": "RGBFloat"}) == "RGBFloat"
    with pytest.raises(HostError, match="no EXR render format"):
        renders.exr_codec({})
    assert renders.render_settings(86404, 86407, "/r", "sh020_render") == {
        "SelectAllFrames": False, "MarkIn": 86404, "MarkOut": 86406, "TargetDir": "/r", "CustomName": "sh020_render",
        "ExportVideo": True, "ExportAudio": False}
    assert renders.render_name("A001 C007/x") == "A001_C007_x_render"
    assert renders.render_folder("/out", "My Show", "../sh 010") == os.path.join("/out", "My_Show", "_renders", "sh_010")
    assert renders.job_status({"JobStatus": "Rendering", "CompletionPercentage": 42}) == ("Rendering", 42.0)
    assert renders.job_status(None) == ("", 0.0)
    assert not renders.render_stopped("Rendering", False) and renders.render_stopped("Failed", False)
    assert renders.render_stopped("Rendering", True) and renders.render_stopped("Cancelled", False)
    assert renders.failure_text("sh020", "Failed") == "sh020: the render to EXR failed"
    assert renders.failure_text("sh020", "") == "sh020: the render to EXR stopped"
    assert renders.progress_text("sh020", 41.6) == "rendering sh020 to EXR (42 %)"
    assert renders.restored_settings({"format": {"format": "mov", "codec": "ProRes422HQ"}, "mode": 0}) == \
        (("mov", "ProRes422HQ"), 0)
    assert renders.restored_settings({"format": {"format": "mov"}, "mode": None}) == (None, None)
    assert renders.restored_settings({}) == (None, None)


def test_result_frame_rate_and_take_range():
    assert [results.fps_text(v) for v in ("24", 23.976, Fraction(30000, 1001), 12.5, 50)] == \
        ["24", "23.976", "29.97", "12.5", "50"]
    apply, retime = _tool("apply"), _tool("retime")
    assert results.placement_of(retime, {"placement": "take"}) == "track"  # a tool that retimes: always a track
    assert results.placement_of(apply, {}) == "take" and results.placement_of(apply, {"placement": "track"}) == "track"
    with_handles = jobs.plan_source(_item(), TIMELINE, 2).range  # files 1009-1032, used 1011-1030
    assert results.result_timing("take", apply, {}, 24, with_handles, 1009, 1032) == (24, 2, 22)
    # A result that does not cover the job's range is placed whole.
    assert results.result_timing("take", apply, {}, 24, with_handles, 1009, 1020) == (24, 0, 12)
    slow = jobs.plan_source(_item(source_end=20, right_offset=None, left_offset=None), TIMELINE, 0).range
    assert slow.speed == 0.5
    assert results.result_timing("track", apply, {}, 24, slow, 1011, 1020) == (12.0, 0, 10)
    assert results.result_timing("take", apply, {}, 24, slow, 1011, 1020) == (24, 0, 10)
    assert results.result_timing("track", retime, {"fps_to": 25.0}, 24, with_handles, 1000, 1049)[0] == 25.0
    assert results.result_timing("track", apply, {"fps_to": 25.0}, 24, with_handles, 1000, 1049)[0] == 24


def test_placement_steps_follow_the_frames_on_disk(tmp_path):
    plate = jobs.plan_source(_item(), TIMELINE, 0)  # files 1011-1030
    plan = jobs.build_job(_tool("matte"), plate, {}, {}, str(tmp_path), TIMELINE)
    assert [s["text"] for s in results.placement_steps(plan, {}, "take")] == \
        ["foreground: no frames written", "matte: no frames written"]
    for name in ("matte", "foreground"):
        os.makedirs(os.path.dirname(plan.outputs[name]), exist_ok=True)
        for frame in range(1011, 1031):
            open(media.frame_path(plan.outputs[name], frame), "w").close()
    steps = results.placement_steps(plan, {}, "take")
    assert steps[1] == {"action": "matte", "name": "matte", "pattern": plan.outputs["matte"], "first": 1011,
                        "last": 1030}
    take = steps[0]
    assert (take["action"], take["first"], take["last"], take["fps"], take["start"], take["end"]) == \
        ("take", 1011, 1030, Fraction(24), 0, 20)
    assert take["note"] == "Matchcut matte ({}) from sh020".format(os.path.basename(plan.folder))
    assert media.frame_files(plan.outputs["matte"], 1029, 1032) == \
        [media.frame_path(plan.outputs["matte"], 1029), media.frame_path(plan.outputs["matte"], 1030)]
    report = jobs.build_job(_tool("continuity"), plate, {"a": plate}, {}, str(tmp_path), TIMELINE)
    steps = results.placement_steps(report, {"report": "/r/index.html"}, "take")
    assert steps == [{"action": "note", "text": "report: /r/index.html"}, {"action": "markers", "name": "json"}]


def test_summary_lines_and_the_cdl_node():
    step = {"name": "comp", "action": "take", "first": 1011, "last": 1030}
    assert results.placed_line(step, 2) == "comp added as take 2"
    assert results.placed_line(dict(step, action="track"), 86410) == "comp placed on a new track at record frame 86410"
    assert results.placed_line(dict(step, action="import")) == "comp imported into the Matchcut bin"
    assert results.placed_line(dict(step, name="matte", action="matte"), (20, None)) == \
        "matte attached as a clip matte: frames 1011-1030 (20 file(s))"
    assert results.placed_line(dict(step, name="matte", action="matte"), (20, 1)).endswith("; the clip lists 1 matte(s))")
    match, apply = _tool("match"), _tool("apply")
    assert results.artifact_lines(match, {"lut": "/a.cube", "cdl": "/a.cc", "report": "/r"}) == \
        ["LUT: /a.cube", "CDL: /a.cc"]
    assert results.artifact_lines(match, {}) == [] and results.artifact_lines(apply, {"lut": "/a.cube"}) == []
    assert results.cdl_node(match, {"apply_cdl": True, "cdl_node": 3}, {"cdl": "/a.cc"}) == 3
    assert results.cdl_node(match, {"apply_cdl": True}, {"cdl": "/a.cc"}) == 1
    assert results.cdl_node(match, {"apply_cdl": True}, {}) is None
    assert results.cdl_node(match, {}, {"cdl": "/a.cc"}) is None and results.cdl_node(apply, {"apply_cdl": True},
                                                                                       {"cdl": "/a.cc"}) is None
    assert results.cdl_file(match, {"cdl": "/a.cc"}) == "/a.cc" and results.cdl_file(apply, {"cdl": "/a.cc"}) is None
    assert results.cdl_line(2) == "CDL set on node 2 of the grade"


def test_markers_find_a_free_frame_on_the_item(tmp_path):
    marker = {"frame": 10, "name": "Matchcut continuity: 1 region(s)"}
    assert results.marker_slot([], marker, 29) == (10, [])
    assert results.marker_slot([10.0, 11.0], marker, 29) == (12, ["marker moved from frame 10 to 12 (a marker was there)"])
    assert results.marker_slot([10.0, 11.0], marker, 11) == \
        (None, ["no free frame for the marker 'Matchcut continuity: 1 region(s)'"])
    assert results.marker_limit(86430, 86400) == 29
    plate = jobs.plan_source(_item(), TIMELINE, 0)
    shot_a = jobs.plan_source(_item("sh010", record_start=86390), TIMELINE, 0)
    plan = jobs.build_job(_tool("continuity"), plate, {"a": shot_a}, {}, str(tmp_path), TIMELINE)
    os.makedirs(plan.folder, exist_ok=True)
    data = {"matchcut_continuity": 1, "comparisons": [
        {"label": "A / B", "a": {"frame": 1030}, "b": {"frame": 1013}, "regions": [{"id": 1}, {"id": 2}]}]}
    with open(plan.outputs["json"], "w") as handle:
        json.dump(data, handle)
    markers, line = results.continuity_plan(plan, {"report": "/r/index.html"}, {"a": shot_a})
    assert [m["frame"] for m in markers] == [12] and markers[0]["note"].startswith("sh010 vs sh020: ")
    assert line == "1 continuity marker(s), 2 region(s); report /r/index.html"
    markers, _ = results.continuity_plan(plan, {}, {})
    assert markers[0]["note"].startswith("A vs sh020: ")
    with open(plan.outputs["json"], "w") as handle:
        json.dump({"some_other_tool": 1}, handle)  # another tool's JSON output: no markers, its path noted
    assert results.continuity_plan(plan, {}, {}) == ([], "JSON: " + plan.outputs["json"])


def test_batch_choices_on_plain_values(monkeypatch, tmp_path):
    assert batch.progress_prefix("apply", 2, 5, "sh020") == "apply 2/5 (sh020): "
    assert batch.error_line("sh020", OSError("a\n  broken   line")) == "sh020: error: a broken line"
    assert batch.handles_of(_tool("apply"), {"handles": "4"}) == 4 and batch.handles_of(_tool("apply"), {}) == 0
    assert batch.handles_of(_tool("continuity"), {"handles": 4}) == 0
    monkeypatch.setenv("MATCHCUT_RESOLVE_OUTPUT", str(tmp_path / "res"))
    assert batch.output_root({}) == str(tmp_path / "res") and batch.output_root({"output": "/o"}) == "/o"
    match = _tool("match")
    options = {"inputs": {"reference": widgets.PREVIOUS, "mask": widgets.NONE}}
    assert batch.input_choices(match, options) == {"reference": widgets.PREVIOUS}
    assert batch.input_choices(match, {"inputs": {"mask": "V2 m @86400"}}) == {"mask": "V2 m @86400"}
    assert batch.input_choices(match, {}) == {}
    assert str(batch.missing_input("a", widgets.PREVIOUS)) == "input a: there is no previous item on the track"
    assert str(batch.missing_input("mask", "V2 m @1")) == "input mask: no item V2 m @1"
    movie = jobs.plan_source(_item("bg", "/s/bg.mov", clip_frames=100), TIMELINE, 0)
    seq = jobs.plan_source(_item("bg", "/s/bg.[1001-1100].exr"), TIMELINE, 0)
    raw = jobs.plan_source(_item("bg", "/c/A001.braw", clip_frames=200), TIMELINE, 0)
    matte, cont = _tool("matte"), _tool("continuity")
    assert batch.needs_render(matte, "background", movie)  # a per-frame input must be a sequence
    # a still (one frame of it) and another shot (its own frames) are read as they are
    assert not batch.needs_render(match, "reference", movie) and not batch.needs_render(cont, "a", movie)
    assert not batch.needs_render(matte, "background", seq) and batch.needs_render(match, "reference", raw)
    batch.check_inputs(cont, {"a": seq})
    batch.check_inputs(_tool("apply"), {})
    batch.check_inputs(matte, {})  # its further inputs are optional
    with pytest.raises(HostError, match=r"Continuity: choose A \(the previous item, or another\)"):
        batch.check_inputs(cont, {})
    with pytest.raises(HostError, match="Shot Match: choose Reference"):
        batch.check_inputs(match, {"mask": seq})


def test_the_plain_batch_settles_states_and_ticks():
    run = batch.Batch(_tool("apply"), {}, "/no/worker")
    assert run.tick() is None
    run._work = iter(["one", "two"])
    assert [run.tick(), run.tick(), run.tick()] == ["one", "two", None]
    state = events.JobState()
    state.status, state.warnings = "done", ["worker warning"]
    assert run.settle("sh020", ["plate warning"], state)
    assert run.summary == ["sh020: warning: plate warning", "sh020: warning: worker warning"]
    state.status, state.warnings = "cancelled", []
    assert not run.settle("sh030", [], state)
    assert run.summary[-1] == "sh030: cancelled (finished frames are kept; Run resumes)"
    state.status, state.error = "error", "plate.1001.exr: cannot read"
    with pytest.raises(HostError, match="cannot read"):
        run.settle("sh040", [], state)
    state.error = ""
    with pytest.raises(HostError, match="the worker failed"):
        run.settle("sh040", [], state)
    run.fail("sh050", ValueError("bad\nvalue"))
    run.note("sh060", ["comp added as take 2"])
    assert run.failures == 1 and run.summary[-2:] == ["sh050: error: bad value", "sh060: comp added as take 2"]
    run.cancel()
    assert run.cancelled and run.run is None


def _state(status):
    state = events.JobState()
    state.status = status
    return state


def test_the_summary_says_cancelled_only_when_the_cancel_stopped_something():
    run = batch.Batch({"name": "match"}, {}, "matchcut")
    assert run.outcome() == "done"
    run.cancelled, run.states = True, [_state("done")]
    assert run.outcome() == "done (Cancel came after the last frame)"  # every result was placed
    run.states.append(_state("cancelled"))
    assert run.outcome() == "cancelled"
    run.states, run.skipped = [_state("done")], 2
    assert run.outcome() == "cancelled"
    late = batch.Batch({"name": "match"}, {}, "matchcut")
    late.failures = 1
    assert late.outcome() == "1 item(s) failed"
