"""Coverage from Resolve's Edit page: the timeline through Resolve's own OTIO export (the strict fake writes it
as public readbacks show), the real worker on a small production (matchcut.testing.productions), then the
proposals imported into the Matchcut bin and laid on new tracks above, the best enabled, a marker each; the
original tracks untouched. Plain parts (the export made readable, tracks, clip infos, markers) on plain data."""
from __future__ import annotations

import json
import os
import pathlib

import pytest

import fake_resolve as fr
from matchcut_resolve import dialog, edits, host, widgets
from matchcut_resolve.client import coverage, tools, worker

FAST = {"quality": "preview", "compare": False}


def _tools(exe):
    return tools.tools_from(worker.query(exe, ["tools", "--json"]))


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    from matchcut.testing.productions import make_production

    return make_production(tmp_path_factory.mktemp("production"), size=(96, 160))


def _seq(prod, name, first, last):
    return fr.media_item(str(prod.media / name / "{}.[{:04d}-{:04d}].exr".format(name, first, last)), "24")


def coverage_world(prod, version="21.0.4.5"):
    """The production's edit cut in Resolve (start 86400, 24 fps, V1): sc01_close 1001-1012, a 6-frame gap,
    sc02_wide 1001-1010, the offline sc01_close_tk2 (5 frames), sc01_close 1020-1031 (1024-1026 gone from disk)."""
    timeline = fr.Timeline("Edit 1", "24", 86400)
    project = fr.Project("Show", timeline)
    resolve = fr.Resolve(project, fr.Fusion(), version=version)
    close = _seq(prod, "sc01_close", 1001, 1040)
    items = [fr.TimelineItem("sc01_close", close, 86400, 12, 0, "24"),
             fr.TimelineItem("sc02_wide", _seq(prod, "sc02_wide", 1001, 1010), 86418, 10, 0, "24"),
             fr.TimelineItem("sc01_close_tk2", _seq(prod, "sc01_close_tk2", 1001, 1005), 86428, 5, 0, "24"),
             fr.TimelineItem("sc01_close", close, 86433, 12, 19, "24")]
    for item in items:
        timeline.add_item(1, item)
    timeline.playhead_item = items[0]
    return resolve, project, timeline, items


def _facts(timeline):
    return [(i.GetName(), i.GetStart(), i.GetDuration(), i.GetSourceStartFrame(), i.GetClipEnabled())
            for i in timeline.GetItemListInTrack("video", 1)]


def _run(batch):
    return list(iter(batch.tick, None))


@pytest.mark.zoo
@pytest.mark.slow
def test_the_edit_page_script_lays_every_proposal_above_the_timeline(production, tmp_path, worker_env, zoo_model):
    for model in ("rife-hdv3", "rife-4.25", "waifu2x-photo-2x"):
        zoo_model(model)
    resolve, project, timeline, items = coverage_world(production)
    before = _facts(timeline)
    timeline.SetMarkInOut(0, 20)  # In/Out over the gap only: the tool covers the holes in record frames 0-20
    made = []

    class Scripted(fr.UIDispatcher):
        def __init__(self, ui):
            super().__init__(ui)

            def set_values(win):
                found = win.GetItems()
                assert "mc_scope" not in found and "mc_input_timeline" not in found  # the whole timeline
                found["mc_output"].Text = str(tmp_path / "out")
                found["mc_provider"].CurrentIndex = widgets.PROVIDERS.index("cpu")
                found["p_media"].Text = str(production.media)
                found["p_quality"].CurrentIndex = found["p_quality"].items.index("preview")
                found["p_compare"].Checked = False

            def look(win):
                self.status = win.GetItems()["mc_status"].Text

            self.script = [set_values, fr.click("mc_run"), look, fr.click("mc_close")]
            made.append(self)

    bmd = fr.Bmd()
    bmd.UIDispatcher = Scripted
    assert dialog.main(resolve, resolve.Fusion(), bmd, "coverage") == 0
    status = made[0].status
    assert status.startswith("done"), status
    assert "holes within record frames 0-20 (the timeline's In/Out)" in status
    assert "Coverage (Edit 1): frame" not in status and "hole 1 (gap, 6 frame(s)" in status
    assert _facts(timeline) == before  # the cut as it was: same items, same frames, all enabled

    folder = next((tmp_path / "out" / "Show" / "Edit_1").glob("Edit_1_coverage_*"))
    job = json.loads((folder / "job.json").read_text())
    assert job["params"]["range"] == "0-20" and job["inputs"]["timeline"] == str(folder / "Edit_1.otio")
    data = coverage.read_result(str(folder / "coverage.json"))
    assert [h["kind"] for h in data["holes"]] == ["gap"] and data["holes"][0]["record"] == [12, 17]
    placed = coverage.placements(data)
    assert len(placed) >= 2 and placed[0]["kind"] == "extend"
    assert timeline.GetTrackCount("video") == 1 + coverage.levels(placed)
    assert [timeline.GetTrackName("video", n) for n in range(2, timeline.GetTrackCount("video") + 1)] == [
        "Coverage {}".format(k) for k in range(1, coverage.levels(placed) + 1)]
    pool = project.GetMediaPool()
    (bin_,) = [b for b in pool.GetRootFolder().GetSubFolderList() if b.GetName() == "Matchcut"]
    assert len(bin_.GetClipList()) == len(placed) and pool.GetCurrentFolder() is pool.GetRootFolder()
    for p in placed:
        (item,) = timeline.GetItemListInTrack("video", 1 + p["level"])
        assert item.GetStart() == 86400 + p["record"][0] and item.GetDuration() == p["frames"]
        assert item.GetClipEnabled() is p["enabled"]
        assert item.GetMediaPoolItem().GetClipProperty("File Path").endswith(
            "{0}.[1001-{1}].exr".format(p["id"], p["last"]))
        (marker,) = item.GetMarkers().values()
        assert marker["name"] == coverage.marker_name(p) and marker["color"] == ("Green" if p["enabled"] else "Yellow")
        assert json.loads(marker["customData"])["id"] == p["id"]
    assert timeline.GetItemListInTrack("video", 2)[0].GetClipEnabled() is True  # the best plays


def test_resolves_export_becomes_an_edit_the_worker_reads_with_gaps_only_where_the_cut_has_none(
        production, tmp_path):
    from matchcut.timelines import Clip, Gap, read_edit

    resolve, project, timeline, items = coverage_world(production)
    exported = tmp_path / "export" / "Edit 1.otio"
    exported.parent.mkdir()
    host.export_timeline(resolve, timeline, str(exported))
    assert "sc01_close.[1001-1040].exr" in exported.read_text()  # Resolve's own bracket form
    edit = edits.read_export(str(exported))  # as Resolve wrote it: the worker reads the bracket form
    readable = tmp_path / "Edit 1.otio"
    readable.write_text(json.dumps(edit))
    read = read_edit(str(readable))
    (track,) = read.tracks
    assert [(type(i).__name__, i.record) for i in track.items] == [
        ("Clip", (0, 11)), ("Gap", (12, 17)), ("Clip", (18, 27)), ("Clip", (28, 32)), ("Clip", (33, 44))]
    clips = [i for i in track.items if isinstance(i, Clip)]
    assert [(c.name, c.source, bool(c.media.offline)) for c in clips] == [
        ("sc01_close", (1001, 1012), False), ("sc02_wide", (1001, 1010), False),
        ("sc01_close_tk2", (1001, 1005), True), ("sc01_close", (1020, 1031), False)]
    assert clips[0].media.pattern.endswith("sc01_close.####.exr") and isinstance(track.items[1], Gap)


def test_a_resolve_without_the_otio_export_says_which_version_it_needs(production, tmp_path, worker_env):
    resolve, project, timeline, items = coverage_world(production, version="18.1.4")
    batch = host.EditBatch(resolve, project, timeline, _tools(worker_env)["coverage"],
                           {"output": str(tmp_path / "out"), "params": {}}, worker_env)
    _run(batch)
    assert batch.outcome() == "1 item(s) failed"
    assert batch.summary == ["Edit 1: error: Edit 1: exporting the timeline needs Resolve 18.5 or later "
                             "(Timeline.Export with resolve.EXPORT_OTIO)"]
    assert timeline.GetTrackCount("video") == 1


@pytest.mark.zoo
@pytest.mark.slow
def test_cancel_keeps_the_timeline_and_the_frames_and_run_again_resumes(production, tmp_path, worker_env, zoo_model):
    for model in ("rife-hdv3", "rife-4.25", "waifu2x-photo-2x"):
        zoo_model(model)
    resolve, project, timeline, items = coverage_world(production)
    timeline.SetMarkInOut(0, 20)
    tool = _tools(worker_env)["coverage"]
    options = {"output": str(tmp_path / "out"), "provider": "cpu",
               "params": dict(FAST, media=str(production.media))}
    batch = host.EditBatch(resolve, project, timeline, tool, options, worker_env)
    for _ in iter(batch.tick, None):
        if batch.run is not None and batch.run.state.index >= 2:
            batch.cancel()
            break
    _run(batch)
    assert batch.outcome() == "cancelled" and any("cancelled" in line for line in batch.summary), batch.summary
    assert timeline.GetTrackCount("video") == 1  # nothing placed
    kept = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("hole1-*.exr")}
    assert kept
    again = host.EditBatch(resolve, project, timeline, tool, options, worker_env)
    _run(again)
    assert again.outcome() == "done", again.summary
    assert timeline.GetTrackCount("video") > 1
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # the frames made before the cancel stay


# --- plain ----------------------------------------------------------------------------------------------

def test_an_export_that_is_not_a_timeline_is_named(tmp_path):
    path = tmp_path / "x.otio"
    path.write_text('{"OTIO_SCHEMA": "Clip.2"}')
    with pytest.raises(edits.jobs.JobFailure, match="x.otio: Resolve's export is not an OpenTimelineIO timeline"):
        edits.read_export(str(path))
    with pytest.raises(edits.jobs.JobFailure, match="nothing.otio: Resolve's timeline export cannot be read"):
        edits.read_export(str(tmp_path / "nothing.otio"))


def test_tracks_clip_infos_and_markers_of_the_placements():
    placed = [{"id": "hole1-1-extend", "hole": 1, "hole_kind": "gap", "kind": "extend", "label": "extend 'a'",
               "reason": "its handles", "score": 100.0, "score_text": "", "enabled": True, "record": [12, 17],
               "frames": 6, "level": 1, "first": 1001, "last": 1006},
              {"id": "hole1-2-slow", "hole": 1, "hole_kind": "gap", "kind": "slow", "label": "slow 'b'",
               "reason": "", "score": 73.3, "score_text": "73: slowed", "enabled": False, "record": [12, 27],
               "frames": 16, "level": 2, "first": 1001, "last": 1010}]
    assert edits.track_plan(placed, 3) == [(4, "Coverage 1"), (5, "Coverage 2")] and edits.track_plan([], 3) == []
    assert edits.clip_info(placed[0], 3, 86400) == {"startFrame": 0, "endFrame": 6, "mediaType": 1,
                                                    "trackIndex": 4, "recordFrame": 86412}
    assert edits.clip_info(placed[1], 3, 86400)["endFrame"] == 10  # only the frames that were rendered
    best = edits.marker(placed[0], "/r/index.html", "coverage")
    other = edits.marker(placed[1], "/r/index.html", "coverage")
    assert (best["color"], best["name"], best["frame"]) == ("Green", "best: extend 100/100", 0)
    assert (other["color"], other["name"], other["note"]) == ("Yellow", "slow 73/100",
                                                              "hole 1 (gap): slow 'b'; 73: slowed")
    assert json.loads(other["custom_data"]) == {"matchcut": "coverage", "id": "hole1-2-slow", "hole": 1,
                                                "score": 73.3, "report": "/r/index.html"}
    assert edits.record_range(86400, 86520, 86400) == "0-120"


def test_the_job_is_named_by_the_edit_and_the_settings(tmp_path):
    from resolve_world import tool_record

    tool = tool_record("coverage")
    facts = {"name": "Edit 1", "project": "Show", "fps": "24", "start_frame": 86400}
    edit = {"OTIO_SCHEMA": "Timeline.1", "name": "Edit 1"}
    plan = edits.build_job(tool, edit, {"media": "/m"}, str(tmp_path), facts, "cpu")
    assert plan.job["inputs"] == {"timeline": os.path.join(plan.folder, "Edit_1.otio")}
    assert plan.job["outputs"] == {"out": os.path.join(plan.folder, "coverage"),
                                   "report": os.path.join(plan.folder, "report"),
                                   "json": os.path.join(plan.folder, "coverage.json")}
    assert plan.job["frames"] is None and plan.job["device"] == {"provider": "cpu"}
    assert pathlib.Path(plan.folder).parent == tmp_path / "Show" / "Edit_1"
    same = edits.build_job(tool, edit, {"media": "/m"}, str(tmp_path), facts, "cpu")
    other = edits.build_job(tool, dict(edit, name="Edit 2"), {"media": "/m"}, str(tmp_path), facts, "cpu")
    assert same.folder == plan.folder and other.folder != plan.folder
    assert edits.build_job(tool, edit, {"media": "/n"}, str(tmp_path), facts, "cpu").folder != plan.folder


def test_the_free_versions_stub_says_coverage_needs_the_studio_scripts():
    from matchcut_resolve import freerun
    from resolve_world import TIMELINE, item_record, tool_record

    says = "Coverage: works on the whole timeline, which only the Studio scripts export .*Edit > Matchcut > Coverage"
    with pytest.raises(edits.jobs.JobFailure, match=says):
        freerun.plan_from_facts({"timeline": TIMELINE, "item": item_record()}, tool_record("coverage"), {})
