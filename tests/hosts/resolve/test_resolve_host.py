"""The Resolve-facing module against the strict fake, with the real worker: takes, tracks, renders, markers,
mattes, the CDL on the grade, and the dialog."""
from __future__ import annotations

import json
import os
import pathlib

import pytest

import fake_resolve as fr
from resolve_world import make_world, photo, write_exr
from matchcut_resolve import dialog, host, jobs, settings, widgets
from matchcut_resolve.client import tools, worker


def _tools(exe):
    return tools.tools_from(worker.query(exe, ["tools", "--json"]))


def _run(batch):
    texts = []
    while True:
        text = batch.tick()
        if text is None:
            return texts
        texts.append(text)


def _batch(resolve, project, timeline, tool, items, exe, **options):
    options.setdefault("provider", "cpu")
    return host.Batch(resolve, project, timeline, tool, items, options, exe)


def test_item_facts_and_source_plan_follow_the_readme_units(tmp_path):
    resolve, project, timeline, first, second = make_world(tmp_path, clip_fps="48", timeline_fps="24")
    facts = host.item_facts(second)
    assert facts["file_path"].endswith("sh020.[1001-1008].exr") and facts["source_start"] == 2
    assert set(facts) == set(jobs.ITEM_KEYS)
    tl = host.timeline_facts(project, timeline)
    assert tl == {"name": "Edit 1", "fps": "24", "start_frame": 86400, "project": "Show"}
    plan = jobs.plan_source(facts, tl, 0)
    # 48 fps media on a 24 fps timeline: 3 timeline frames use 6 source frames from source frame 2: 1003-1008.
    assert plan.range.frames_text() == "1003-1008" and not plan.needs_render and not plan.warnings
    assert host.previous_item(timeline, second) is first and host.previous_item(timeline, first) is None


@pytest.mark.zoo
def test_result_comes_back_as_a_selected_take_with_handles(tmp_path, worker_env, zoo_model):
    zoo_model("degrain-small")
    resolve, project, timeline, first, second = make_world(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.glob("sh020.*.exr")}
    tool = _tools(worker_env)["apply"]
    batch = _batch(resolve, project, timeline, tool, [second], worker_env, handles=1, placement="take",
                   params={"model": "degrain-small", "strength": 0.5}, output=str(tmp_path / "out"))
    texts = _run(batch)
    assert batch.failures == 0, batch.summary
    assert texts[-1].endswith("done") and batch.states[-1].frames_written == 5
    # Source frames 2..4 with one handle each side: files 1002-1006, the used frames are result frames 1..4.
    assert second.GetTakesCount() == 2 and second.GetSelectedTakeIndex() == 2
    take = second.GetTakeByIndex(2)
    assert (take["startFrame"], take["endFrame"]) == (1, 4)
    mpi = take["mediaPoolItem"]
    assert mpi.GetClipProperty("File Path").endswith("sh020_apply_main.[1002-1006].exr")
    assert mpi.GetClipProperty("FPS") == "24" and "Matchcut apply" in mpi.GetMetadata("Comments")
    bins = project.GetMediaPool().GetRootFolder().GetSubFolderList()
    assert [b.GetName() for b in bins] == ["Matchcut"] and bins[0].GetClipList() == [mpi]
    assert project.GetMediaPool().GetCurrentFolder() is project.GetMediaPool().GetRootFolder()
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("sh020.*.exr")} == before  # never overwritten
    job = json.loads(pathlib.Path(jobs.result_folder(str(tmp_path / "out"), "Show", "Edit 1", "sh020", "apply",
                                                     mpi.GetMetadata("Comments").split("(")[1].split(")")[0]
                                                     .rsplit("_", 1)[1]), "job.json").read_text())
    assert job["frames"] == "1002-1006" and job["params"]["strength"] == 0.5


@pytest.mark.zoo
def test_mixed_rates_and_new_track_at_the_same_record_frame(tmp_path, worker_env, zoo_model):
    zoo_model("degrain-small")
    resolve, project, timeline, first, second = make_world(tmp_path, clip_fps="48", timeline_fps="24")
    tool = _tools(worker_env)["apply"]
    batch = _batch(resolve, project, timeline, tool, [second], worker_env, placement="track",
                   params={"model": "degrain-small"}, output=str(tmp_path / "out"))
    _run(batch)
    assert batch.failures == 0, batch.summary
    assert timeline.GetTrackCount("video") == 2
    (placed,) = timeline.GetItemListInTrack("video", 2)
    # 6 source frames at 48 fps on a 24 fps timeline: the result plays 3 timeline frames from the same record frame.
    assert placed.GetStart() == second.GetStart() and placed.GetDuration() == second.GetDuration() == 3
    assert placed.GetMediaPoolItem().GetClipProperty("FPS") == "48"
    assert second.GetTakesCount() == 0


def _braw_world(tmp_path):
    rendered = []

    def renderer(render_settings, render_format):
        # Resolve renders the record range MarkIn..MarkOut, one EXR per timeline frame, named by frame number.
        assert render_format["format"] == "exr" and render_settings["ExportAudio"] is False
        for frame in range(render_settings["MarkIn"], render_settings["MarkOut"] + 1):
            path = pathlib.Path(render_settings["TargetDir"]) / "{}_{:08d}.exr".format(render_settings["CustomName"], frame)
            write_exr(path, photo())
            rendered.append(frame)

    resolve, project, timeline, first, second = make_world(tmp_path, renderer=renderer)
    raw = fr.TimelineItem("A001_C002", fr.media_item("/cards/A001_C002.braw", "24", frames=200), 86407, 3, 50, "24")
    timeline.add_item(1, raw)
    return resolve, project, timeline, raw, rendered


@pytest.mark.zoo
def test_camera_raw_is_rendered_to_exr_first_and_settings_restored(tmp_path, worker_env, zoo_model):
    zoo_model("degrain-small")
    resolve, project, timeline, raw, rendered = _braw_world(tmp_path)
    tool = _tools(worker_env)["apply"]
    batch = _batch(resolve, project, timeline, tool, [raw], worker_env, handles=4,
                   params={"model": "degrain-small"}, output=str(tmp_path / "out"))
    _run(batch)
    assert batch.failures == 0, batch.summary
    assert rendered == [86407, 86408, 86409]
    assert any("no handles" in line for line in batch.summary)
    take = raw.GetTakeByIndex(2)
    assert (take["startFrame"], take["endFrame"]) == (0, 3)
    assert project.GetCurrentRenderFormatAndCodec() == {"format": "mov", "codec": "ProRes422HQ"}
    assert project.GetCurrentRenderMode() == 0 and project._jobs == {}


def test_continuity_becomes_a_marker_at_the_cut_with_custom_data(tmp_path, worker_env):
    resolve, project, timeline, first, second = make_world(tmp_path)
    timeline.AddMarker(4, "Blue", "artist's note", "keep", 1, "")  # an artist's marker sits on the cut already
    tool = _tools(worker_env)["continuity"]
    batch = _batch(resolve, project, timeline, tool, [second], worker_env, inputs={"a": widgets.PREVIOUS},
                   params={"person": False, "refine": False}, output=str(tmp_path / "out"))
    _run(batch)
    assert batch.failures == 0, batch.summary
    markers = timeline.GetMarkers()
    assert markers[4.0]["name"] == "artist's note"  # never replaced
    ours = markers[5.0]  # B's first used frame (1003) shows at record 86404, frame 4; 4 was taken, so 5
    assert ours["color"] == "Red" and ours["name"].startswith("Matchcut continuity: ")
    data = json.loads(ours["customData"])
    assert data["matchcut"] == "continuity" and os.path.isfile(data["report"]) and os.path.isfile(data["json"])
    assert data["frame_a"] == 1005 and data["frame_b"] == 1003  # A's last used frame against B's first
    box = data["regions"][0]["box"]
    assert box[0] <= 55 + 25 and box[0] + box[2] >= 55 and box[1] <= 40 and box[1] + box[3] >= 20  # the red block
    assert "#1" in ours["note"] and data["report"] in ours["note"]
    assert any("marker moved from frame 4 to 5" in line for line in batch.summary)


def test_shot_match_writes_lut_and_cdl_and_sets_the_cdl_on_the_grade(tmp_path, worker_env):
    resolve, project, timeline, first, second = make_world(tmp_path)
    tool = _tools(worker_env)["match"]
    batch = _batch(resolve, project, timeline, tool, [second], worker_env, inputs={"reference": widgets.PREVIOUS},
                   apply_cdl=True, cdl_node=2, params={"method": "reinhard"}, output=str(tmp_path / "out"))
    _run(batch)
    assert batch.failures == 0, batch.summary
    lut = [line for line in batch.summary if "LUT: " in line][0].split("LUT: ")[1]
    assert lut.endswith("sh020_match.cube") and os.path.isfile(lut)
    cdl = second._cdl
    assert cdl["NodeIndex"] == "2" and len(cdl["Slope"].split()) == 3 and float(cdl["Saturation"]) > 0
    assert second.GetTakesCount() == 2


def test_matte_attaches_as_a_clip_matte(tmp_path, worker_env):
    import numpy as np

    green = np.zeros((48, 64, 3), np.float32)
    green[...] = [0.05, 0.6, 0.08]
    green[14:34, 20:44] = [0.4, 0.35, 0.3]
    resolve, project, timeline, first, second = make_world(tmp_path)
    from resolve_world import write_shot

    path = write_shot(tmp_path / "gs", "gs010", 1001, 1004, green)
    item = fr.TimelineItem("gs010", fr.media_item(path, "24"), 86407, 2, 1, "24")
    timeline.add_item(1, item)
    tool = _tools(worker_env)["matte"]
    batch = _batch(resolve, project, timeline, tool, [item], worker_env, params={"mode": "screen"},
                   output=str(tmp_path / "out"))
    _run(batch)
    assert batch.failures == 0, batch.summary
    mattes = item.GetMediaPoolItem().mattes
    assert [os.path.basename(p) for p in mattes] == ["gs010_matte_matte.1002.exr", "gs010_matte_matte.1003.exr"]
    # What Resolve lists for the clip afterwards (MediaPool.GetClipMatteList) is reported with the frames.
    assert any("matte attached as a clip matte: frames 1002-1003 (2 file(s); the clip lists 2 matte(s))" in line
               for line in batch.summary), batch.summary
    assert item.GetTakesCount() == 2  # the foreground is the take (no background given, so no comp)


def test_bad_inputs_end_in_one_line_each(tmp_path, worker_env, monkeypatch):
    resolve, project, timeline, first, second = make_world(tmp_path)
    tools = _tools(worker_env)
    # Continuity on the first item: there is no previous item to compare with.
    batch = _batch(resolve, project, timeline, tools["continuity"], [first], worker_env, inputs={"a": widgets.PREVIOUS},
                   output=str(tmp_path / "out"))
    _run(batch)
    assert batch.failures == 1 and "no previous item" in batch.summary[0]
    # A retime with neither speed nor a rate change to make.
    batch = _batch(resolve, project, timeline, tools["retime"], [second], worker_env, output=str(tmp_path / "out"))
    _run(batch)
    assert "set a speed" in batch.summary[-1]
    # A title or generator: no media pool item.
    title = fr.TimelineItem("Title", None, 86410, 5, 0, "24")
    with pytest.raises(host.HostError, match="no media pool item"):
        host.item_facts(title)
    # A worker error (an unknown model) comes back as its one line.
    batch = _batch(resolve, project, timeline, tools["apply"], [second], worker_env, params={"model": "no-such-model"},
                   output=str(tmp_path / "out"))
    _run(batch)
    assert batch.failures == 1 and "no-such-model" in batch.summary[-1] and "\n" not in batch.summary[-1]
    # No open timeline; no worker.
    project._timeline = None
    with pytest.raises(host.HostError, match="no timeline"):
        host.context(resolve)
    monkeypatch.setenv("MATCHCUT_WORKER", "")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(worker.WorkerError, match="MATCHCUT_WORKER"):
        worker.find_worker()


def test_scopes_pick_items_by_in_out_marks_and_clip_colour(tmp_path):
    resolve, project, timeline, first, second = make_world(tmp_path)
    assert host.scoped_items(timeline, second, "current") == [second]
    with pytest.raises(host.HostError, match="In and Out"):
        host.scoped_items(timeline, second, "in-out")
    # GetMarkInOut counts from the timeline's start, Out inclusive: 2..5 is 86402..86405 (sh010 ends at 86404).
    assert timeline.SetMarkInOut(2, 5)
    assert host.mark_range(timeline) == (86402, 86405)
    assert host.scoped_items(timeline, second, "in-out") == [first, second]
    assert timeline.SetMarkInOut(4, 6)
    assert host.scoped_items(timeline, second, "in-out") == [second]
    assert timeline.SetMarkInOut(3, 3)  # Out on sh010's last frame only
    assert host.scoped_items(timeline, second, "in-out") == [first]
    # Marks on the audio only count too; a build answering absolute frames is read as absolute.
    timeline.ClearMarkInOut()
    assert timeline.SetMarkInOut(5, 6, "audio")
    assert host.mark_range(timeline) == (86405, 86406)
    timeline._marks = {"video": {"in": 86402, "out": 86405}}
    assert host.mark_range(timeline) == (86402, 86405)
    timeline._marks = {"video": {"in": 6, "out": 2}}
    with pytest.raises(host.HostError, match=r"Out \(2\) is before In \(6\)"):
        host.mark_range(timeline)
    timeline._marks = {"video": {"in": 40, "out": 50}}
    with pytest.raises(host.HostError, match="no item on track V1 between In and Out"):
        host.scoped_items(timeline, second, "in-out")
    with pytest.raises(host.HostError, match="clip colour"):
        host.scoped_items(timeline, second, "clip-colour")
    first._colour = second._colour = "Orange"
    assert host.scoped_items(timeline, second, "clip-colour") == [first, second]


def test_scope_selected_reads_the_timeline_selection_from_21_0_4(tmp_path):
    resolve, project, timeline, first, second = make_world(tmp_path)
    with pytest.raises(host.HostError, match="select one or more video clips"):
        host.scoped_items(timeline, second, "selected")
    upper = timeline.add_item(2, fr.TimelineItem("sh010_v2", first.GetMediaPoolItem(), 86400, 2, 0, "24"))
    title = timeline.add_item(2, fr.TimelineItem("Title", None, 86404, 3, 0, "24"))
    # Selected in any order; titles and generators (no media) are left out; V1 before V2, then by record frame.
    timeline.selected = [upper, title, second, first]
    assert host.scoped_items(timeline, second, "selected") == [first, second, upper]
    assert "selected" in widgets.SCOPES


def test_scopes_name_the_resolve_version_they_need(tmp_path):
    timeline = fr.Timeline("Old", "24", 86400, version=(19, 0, 3))
    item = timeline.add_item(1, fr.TimelineItem("a", fr.media_item("/s/a.[1001-1010].exr"), 86400, 5, 0, "24"))
    assert not hasattr(timeline, "GetMarkInOut") and not hasattr(timeline, "GetSelectedClips")
    with pytest.raises(host.HostError, match="19.1 or later"):
        host.scoped_items(timeline, item, "in-out")
    with pytest.raises(host.HostError, match="21.0.4 or later"):
        host.scoped_items(timeline, item, "selected")
    assert host.scoped_items(timeline, item, "current") == [item]
    with pytest.raises(host.HostError, match="unknown scope"):
        host.scoped_items(timeline, item, "everything")


def test_item_facts_of_reversed_and_timecoded_items_through_the_fake(tmp_path):
    resolve, project, timeline, first, second = make_world(tmp_path)
    tl = host.timeline_facts(project, timeline)
    # Reversed at 100 %: GetSourceStartFrame 7 (the first frame shown, the highest), GetSourceEndFrame 4.
    back = fr.TimelineItem("back", second.GetMediaPoolItem(), 86410, 3, 7, "24", speed=-1.0)
    assert (back.GetSourceStartFrame(), back.GetSourceEndFrame()) == (7, 4)
    plan = jobs.plan_source(host.item_facts(back), tl, 0)
    assert plan.range.frames_text() == "1006-1008" and plan.range.reversed
    assert any("plays in reverse" in w for w in plan.warnings)
    # A 48 fps camera movie with a time-of-day start timecode on the 24 fps timeline: the seconds readers are
    # timecode-absolute and GetSourceEndFrame reads one less at mixed rates; the range still comes out right.
    movie = fr.media_item("/cards/A002_C007.mov", "48", frames=4000, start_tc_frames=48 * 15527)
    cam = fr.TimelineItem("A002_C007", movie, 86420, 10, 300, "24")
    assert cam.GetSourceStartTime() > 15000 and cam.GetSourceEndFrame() == 319
    plan = jobs.plan_source(host.item_facts(cam), tl, 2)
    assert plan.range.frames_text() == "297-324" and (plan.range.first_used, plan.range.last_used) == (300, 319)
    assert not plan.warnings and not plan.needs_render
    assert cam.GetProperty("Speed") is None  # no speed getter: speed comes from the span


def test_cancel_stops_the_worker_and_run_again_resumes(tmp_path, worker_env):
    import numpy as np

    resolve, project, timeline, first, second = make_world(tmp_path)
    from resolve_world import write_shot

    big = np.tile(photo(), (2, 2, 1))
    path = write_shot(tmp_path / "long", "lg010", 1001, 1016, big)
    item = fr.TimelineItem("lg010", fr.media_item(path, "24"), 86410, 16, 0, "24")
    timeline.add_item(1, item)
    tool = _tools(worker_env)["match"]
    options = dict(inputs={"reference": widgets.PREVIOUS}, params={"method": "mkl", "keyframes": "1"},
                   output=str(tmp_path / "out"))
    batch = _batch(resolve, project, timeline, tool, [item], worker_env, **options)
    for text in iter(batch.tick, None):
        if batch.run is not None and batch.run.state.index >= 1:
            batch.cancel()
            break
    _run(batch)
    assert any("cancelled" in line for line in batch.summary), batch.summary
    assert item.GetTakesCount() == 0
    again = _batch(resolve, project, timeline, tool, [item], worker_env, **options)
    _run(again)
    assert again.failures == 0 and item.GetTakesCount() == 2
    assert again.states[-1].frames_skipped >= 1  # the frames finished before the cancel are not made again


@pytest.mark.zoo
def test_dialog_runs_the_tool_and_remembers_the_values(tmp_path, worker_env, zoo_model):
    zoo_model("degrain-small")
    resolve, project, timeline, first, second = make_world(tmp_path)
    bmd = fr.Bmd()
    original = fr.UIDispatcher

    class Scripted(original):
        def __init__(self, ui):
            super().__init__(ui)

            def set_values(win):
                items = win.GetItems()
                items["p_strength"].Value = 0.25
                items["mc_handles"].Value = 1
                items["mc_provider"].CurrentIndex = widgets.PROVIDERS.index("cpu")
                items["mc_output"].Text = str(tmp_path / "out")

            self.script = [set_values, fr.click("mc_run"), self.check, fr.click("mc_close")]

        def check(self, win):
            self.status = win.GetItems()["mc_status"].Text
            self.run_enabled = win.GetItems()["mc_run"].Enabled

    made = []
    bmd.UIDispatcher = lambda ui: made.append(Scripted(ui)) or made[-1]
    assert dialog.main(resolve, resolve.Fusion(), bmd, "apply") == 0
    disp = made[0]
    assert disp.status.startswith("done"), disp.status
    assert disp.run_enabled and disp.ticks > 0
    assert second.GetTakesCount() == 2
    saved = settings.load(settings.settings_path())["apply"]
    assert saved["strength"] == 0.25 and saved["handles"] == 1 and saved["model"] == "degrain-small"
    window = disp.windows[0]
    assert window.props["WindowTitle"] == "Matchcut: Apply Model"
    assert {"p_model", "p_tile", "p_strength", "mc_scope", "mc_placement"} <= set(window.GetItems())


def test_send_to_farm_submits_each_item_and_shows_the_farms_job_id(tmp_path, worker_env, monkeypatch):
    monkeypatch.delenv("MATCHCUT_FARM", raising=False)
    resolve, project, timeline, first, second = make_world(tmp_path)
    bmd = fr.Bmd()
    original = fr.UIDispatcher

    class Scripted(original):
        def __init__(self, ui):
            super().__init__(ui)

            def set_values(win):
                items = win.GetItems()
                assert items["mc_farm"].CurrentText == "openjd-local"  # $MATCHCUT_FARM unset: this machine
                items["mc_input_reference"].CurrentIndex = 1  # the previous item
                items["mc_provider"].CurrentIndex = widgets.PROVIDERS.index("cpu")
                items["mc_output"].Text = str(tmp_path / "out")

            self.script = [set_values, fr.click("mc_send"), self.check, fr.click("mc_close")]

        def check(self, win):
            self.status = win.GetItems()["mc_status"].Text

    made = []
    bmd.UIDispatcher = lambda ui: made.append(Scripted(ui)) or made[-1]
    assert dialog.main(resolve, resolve.Fusion(), bmd, "match") == 0
    status = made[0].status
    assert status.startswith("done"), status
    assert "sh020: openjd-local: job openjd-local:" in status and "sh020: results: " in status
    assert second.GetTakesCount() == 0  # nothing placed: the farm writes the results
    results = status.split("sh020: results: ")[1].split("\n")[0]
    assert len(list(pathlib.Path(results).parent.glob("*.exr"))) == 3
    assert settings.load(settings.settings_path())["match"]["farm"] == "openjd-local"


def test_every_worker_tool_gets_a_dialog_without_adapter_code(tmp_path, worker_env):
    resolve, project, timeline, first, second = make_world(tmp_path)
    ui, disp = host.dispatcher(resolve.Fusion(), fr.Bmd(), resolve)
    for name, tool in _tools(worker_env).items():
        if name == "apply":
            continue
        disp.script = [fr.click("mc_close")]
        assert dialog.run_dialog(resolve, ui, disp, tool, worker_env) is None
        items = disp.windows[-1].GetItems()
        controls = [c["name"] for c in tool["controls"] if c["name"] not in widgets.adapter_params(tool)]
        assert controls and all("p_" + c in items for c in controls), name
        assert not any("p_" + c in items for c in tools.host_params(tool)), name
        for extra in widgets.extra_inputs(tool):
            assert "mc_input_" + extra in items


def test_the_fake_is_strict():
    timeline = fr.Timeline("t")
    with pytest.raises(AttributeError):
        timeline.GetCurrentItem()  # the README's name is GetCurrentVideoItem
    with pytest.raises(ValueError):
        timeline.AddMarker(1, "Orange", "n", "x", 1, "")  # not one of the marker colours
    with pytest.raises(TypeError):
        timeline.AddMarker(1, "Red", "n", "x", 1, {"not": "a string"})
    pool = fr.Project("p", timeline).GetMediaPool()
    with pytest.raises(ValueError):
        pool.ImportMedia([{"Path": "x.%04d.exr", "StartIndex": 1, "EndIndex": 2}])
    with pytest.raises(ValueError):
        pool.AppendToTimeline([{"mediaPoolItem": None, "start": 0}])
    item = fr.TimelineItem("x", fr.media_item("/a.[1001-1010].exr"), 86400, 5, 0, "24")
    with pytest.raises(ValueError):
        item.SetCDL({"NodeIndex": 1, "Slope": "1 1 1"})
    with pytest.raises(TypeError):
        item.AddTake("not a media pool item", 0, 5)
    with pytest.raises(ValueError):
        fr.UIManager().LineEdit({"ID": "x", "Txt": "typo"})
    with pytest.raises(ValueError):
        fr.Project("p", timeline).SetRenderSettings({"MarkIn": 1, "Markout": 2})


def test_the_picker_lists_every_worker_tool_and_opens_the_chosen_one(tmp_path, worker_env):
    resolve, project, timeline, first, second = make_world(tmp_path)
    made = []

    class Scripted(fr.UIDispatcher):
        def __init__(self, ui):
            super().__init__(ui)

            def choose(win):
                combo = win.GetItems()["mc_tool"]
                self.listed = list(combo.items)
                combo.CurrentIndex = combo.items.index("Retime")

            self.script = [choose, fr.click("mc_open"), fr.click("mc_close")]
            made.append(self)

    bmd = fr.Bmd()
    bmd.UIDispatcher = Scripted
    assert dialog.main(resolve, resolve.Fusion(), bmd, None) == 0
    disp = made[0]
    assert set(disp.listed) == {tool["label"] for tool in _tools(worker_env).values()}
    assert [w.props["WindowTitle"] for w in disp.windows] == ["Matchcut", "Matchcut: Retime"]


def test_cancel_in_the_dialog_stops_the_run_and_keeps_the_timeline(tmp_path, worker_env):
    # A long shot, so the Cancel (sent once the first frame shows) lands while the worker is still busy.
    resolve, project, timeline, first, second = make_world(tmp_path, duration=190, b_last=1200)
    made = []

    class Scripted(fr.UIDispatcher):
        def __init__(self, ui):
            super().__init__(ui)

            def set_values(win):
                items = win.GetItems()
                items["mc_output"].Text = str(tmp_path / "out")
                items["mc_provider"].CurrentIndex = widgets.PROVIDERS.index("cpu")

            def look(win):
                self.status = win.GetItems()["mc_status"].Text
                self.run_enabled = win.GetItems()["mc_run"].Enabled

            self.script = [set_values, fr.click("mc_run"), look, fr.click("mc_close")]
            self.when = [(lambda win: "frame 1" in win.GetItems()["mc_status"].Text, fr.click("mc_cancel"))]
            made.append(self)

    bmd = fr.Bmd()
    bmd.UIDispatcher = Scripted
    assert dialog.main(resolve, resolve.Fusion(), bmd, "match") == 0
    disp = made[0]
    assert disp.status.startswith("cancelled"), disp.status
    assert disp.run_enabled and second.GetTakesCount() == 0 and timeline.GetTrackCount("video") == 1
    finished = sorted((tmp_path / "out").rglob("*.exr"))
    assert 0 < len(finished) < 190  # stopped mid-shot; the frames it finished are kept for a resume


def test_the_fake_delivers_a_timer_only_on_the_generic_timeout(tmp_path):
    ui = fr.UIManager()
    disp = fr.UIDispatcher(ui)
    disp.AddWindow({"ID": "w"}, ui.VGroup([ui.Label({"ID": "l"})]))
    timer = ui.Timer({"ID": "Poll", "Interval": 100})
    disp.On.Poll.Timeout = lambda ev: timer.Stop()  # the per-ID route public scripts found silent
    timer.Start()
    with pytest.raises(RuntimeError, match="disp.On.Timeout"):
        disp.RunLoop()
    seen = []
    disp.On.Timeout = lambda ev: seen.append(ev["who"]) or timer.Stop()
    disp.RunLoop()
    assert seen == ["Poll"]


def test_dialog_ticks_once_per_timeout_whichever_routes_fire(tmp_path, worker_env, monkeypatch):
    resolve, project, timeline, first, second = make_world(tmp_path)
    ticks = []
    real_tick = host.Batch.tick
    monkeypatch.setattr(host.Batch, "tick", lambda self: ticks.append(1) or real_tick(self))
    made = []

    class BothRoutes(fr.UIDispatcher):
        """A build that fires the generic and the per-ID route for each timeout, and another timer's event."""

        def __init__(self, ui):
            super().__init__(ui)
            self.timeouts = 0
            events = self.On

            def fire_both(who):
                self.timeouts += 1
                fired = fr._DispatcherEvents.fire_timeout(events, who)
                events.__getattr__(who).fire("Timeout", {"who": who})
                fr._DispatcherEvents.fire_timeout(events, "SomeoneElsesTimer")
                return fired

            object.__setattr__(events, "fire_timeout", fire_both)

            def set_values(win):
                items = win.GetItems()
                items["mc_output"].Text = str(tmp_path / "out")
                items["mc_provider"].CurrentIndex = widgets.PROVIDERS.index("cpu")

            def look(win):
                self.status = win.GetItems()["mc_status"].Text

            self.script = [set_values, fr.click("mc_run"), look, fr.click("mc_close")]
            made.append(self)

    bmd = fr.Bmd()
    bmd.UIDispatcher = BothRoutes
    assert dialog.main(resolve, resolve.Fusion(), bmd, "match") == 0
    disp = made[0]
    assert disp.status.startswith("done"), disp.status
    assert disp.timeouts > 0 and len(ticks) == disp.timeouts  # one batch step per timeout, not two or three
    assert second.GetTakesCount() == 2
