"""Plain modules of the Resolve adapter: media paths, jobs, dialog specs, results, settings, free-run (the
worker's events are the client's: tests/hosts/client)."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from resolve_world import TIMELINE, item_record as _item, tool_record as _tool, write_shot
from matchcut_resolve import freerun, jobs, media, results, settings, timing, widgets
from matchcut_resolve.client import farm as cfarm
from matchcut_resolve.client import jobs as client_jobs
from matchcut_resolve.client import tools


@pytest.mark.parametrize("path,start,end,pattern,first,last", [
    ("/s/plate.[1001-1100].exr", None, None, "/s/plate.####.exr", 1001, 1100),
    ("/s/plate_[0001-0100].dpx", None, None, "/s/plate_####.dpx", 1, 100),
    ("/s/plate.[1-100].exr", None, None, "/s/plate.%d.exr", 1, 100),
    ("/s/plate.[998-1002].exr", None, None, "/s/plate.%d.exr", 998, 1002),
    ("/s/plate.%04d.exr", "1001", "1010", "/s/plate.####.exr", 1001, 1010),
    ("/s/[v2] shot/a.mov", None, None, "/s/[v2] shot/a.mov", None, None),
    ("/cards/A001.braw", "0", "99", "/cards/A001.braw", None, None),
])
def test_clip_paths_become_matchcut_patterns(path, start, end, pattern, first, last):
    clip = media.clip_path(path, start, end)
    assert (clip.pattern, clip.first, clip.last) == (pattern, first, last)


def test_readability_decides_the_render_and_first_file_frames():
    assert media.clip_path("/s/a.[1001-1002].exr").readable
    assert media.clip_path("/s/a.mov").readable and media.clip_path("/s/a.mov").is_movie
    for raw in ("/c/A.braw", "/c/A.R3D", "/c/A.ari", "/c/A.mxf", "/c/A.dng", "/c/A.crm"):
        assert not media.clip_path(raw).readable, raw
    assert media.first_file_frame(media.clip_path("/s/a.[1001-1002].exr")) == 1001
    assert media.first_file_frame(media.clip_path("/s/a.mov"), "0") == 1  # Matchcut numbers movie frames from 1
    with pytest.raises(ValueError, match="no file path"):
        media.clip_path("")


def test_sequences_on_disk_printf_and_rendered_names(tmp_path):
    for name in ("r_00086400.exr", "r_00086401.exr", "r_00086402.exr", "other_00086400.exr", "r_00086403.exr.tmp"):
        (tmp_path / name).write_bytes(b"x")
    found = media.find_rendered_sequence(str(tmp_path), "r")
    assert found == (str(tmp_path / "r_########.exr"), 86400, 86402)
    assert media.frames_on_disk(found[0]) == [86400, 86401, 86402]
    assert media.find_rendered_sequence(str(tmp_path), "missing") is None
    # Resolve appends the frame number (the record timecode as a frame count) to CustomName; the separator and
    # padding are not documented, so a dot, an underscore or nothing between them is found alike.
    for sep in (".", ""):
        folder = tmp_path / ("sep" + (sep or "none"))
        folder.mkdir()
        for frame in (86407, 86408):
            (folder / "sh010_render{}{:08d}.exr".format(sep, frame)).write_bytes(b"x")
        assert media.find_rendered_sequence(str(folder), "sh010_render") == (
            str(folder / "sh010_render{}########.exr".format(sep)), 86407, 86408)
    (tmp_path / "p.1001.exr").write_bytes(b"x")
    (tmp_path / "p.01002.exr").write_bytes(b"x")  # not how #### writes 1002
    assert media.frames_on_disk(str(tmp_path / "p.####.exr")) == [1001]
    assert media.printf_path("/o/sh.####.exr") == "/o/sh.%04d.exr"
    assert media.import_clip_info("/o/sh.####.exr", 1002, 1006) == {"FilePath": "/o/sh.%04d.exr", "StartIndex": 1002,
                                                                    "EndIndex": 1006}


def test_link_sequence_renumbers_and_holds_the_last_frame(tmp_path):
    write_shot(tmp_path / "bg", "bg", 1, 3)
    made = media.link_sequence(str(tmp_path / "bg" / "bg.####.exr"), 1, 3, str(tmp_path / "in" / "bg.####.exr"), 1001, 5)
    assert [os.path.basename(p) for p in made] == ["bg.{}.exr".format(f) for f in range(1001, 1006)]
    assert os.path.realpath(tmp_path / "in" / "bg.1005.exr") == os.path.realpath(tmp_path / "bg" / "bg.0003.exr")
    assert media.link_sequence(str(tmp_path / "bg" / "bg.####.exr"), 1, 3, str(tmp_path / "in" / "bg.####.exr"),
                               1001, 5) == []  # already linked: nothing to do
    (tmp_path / "in" / "bg.1006.exr").write_bytes(b"artist's file")
    with pytest.raises(OSError, match="exists"):
        media.link_sequence(str(tmp_path / "bg" / "bg.####.exr"), 1, 3, str(tmp_path / "in" / "bg.####.exr"), 1006, 1)


def test_build_job_is_read_by_the_worker_spec(tmp_path):
    from matchcut.jobs.spec import load_job  # the worker's own reader checks the adapter's job

    plate = jobs.plan_source(_item(), TIMELINE, 4)
    plan = jobs.build_job(_tool("apply"), plate, {}, {"model": "degrain-small"}, str(tmp_path), TIMELINE)
    path = jobs.write_job(plan)
    spec = load_job(path)
    assert spec.tool == "apply" and spec.frames[0] == 1007 and spec.frames[-1] == 1034
    assert spec.outputs["main"].endswith("sh020_apply_main.####.exr")
    assert pathlib.Path(plan.folder).parent == tmp_path / "Show" / "Edit_1"
    assert not list(pathlib.Path(plan.folder).glob(".matchcut-*"))
    again = jobs.build_job(_tool("apply"), plate, {}, {"model": "degrain-small"}, str(tmp_path), TIMELINE)
    other = jobs.build_job(_tool("apply"), plate, {}, {"model": "degrain-small", "tile": 256}, str(tmp_path), TIMELINE)
    assert again.folder == plan.folder != other.folder  # same settings resume in the same folder


def test_per_tool_job_rules(tmp_path):
    plate = jobs.plan_source(_item(), TIMELINE, 0)
    previous = jobs.plan_source(_item("sh010", "/s/sh010.[1001-1050].exr", record_start=86390, source_start=5,
                                      source_end=25), TIMELINE, 0)
    match = jobs.build_job(_tool("match"), plate, {"reference": previous}, {}, str(tmp_path), TIMELINE)
    assert match.job["params"]["reference_frame"] == 1001 + (5 + 24) // 2
    assert match.job["params"]["lut"].endswith("sh020_match.cube") and match.job["params"]["cdl"].endswith(".cc")
    cont = jobs.build_job(_tool("continuity"), plate, {"a": previous}, {}, str(tmp_path), TIMELINE)
    assert cont.job["inputs"] == {"a": "/s/sh010.####.exr", "b": "/s/sh020.####.exr"} and cont.job["frames"] is None
    assert cont.job["params"]["frames_a"] == "1006-1025" and cont.job["params"]["frames_b"] == "1011-1030"
    assert set(cont.outputs) == {"report", "json"}
    with pytest.raises(jobs.JobFailure, match="continuity: needs an item as A besides the current item"):
        jobs.build_job(_tool("continuity"), plate, {}, {}, str(tmp_path), TIMELINE)
    mixed = jobs.plan_source(_item(clip_fps="30", source_end=35), TIMELINE, 0)
    retime = jobs.build_job(_tool("retime"), mixed, {}, {}, str(tmp_path), TIMELINE)
    assert (retime.job["params"]["fps_from"], retime.job["params"]["fps_to"]) == (30.0, 24.0)
    with pytest.raises(jobs.JobFailure, match="set a speed"):
        jobs.build_job(_tool("retime"), plate, {}, {}, str(tmp_path), TIMELINE)
    matte = _tool("matte")
    assert set(jobs.build_job(matte, plate, {}, {}, str(tmp_path), TIMELINE).outputs) == {"matte", "foreground"}
    # a comp needs a background: a clip, or a flat colour (the description's needs)
    flat = jobs.build_job(matte, plate, {}, {"background_color": [0.1, 0.2, 0.3]}, str(tmp_path), TIMELINE)
    assert set(flat.outputs) == {"matte", "foreground", "comp"}
    movie = jobs.plan_source(_item("bg", "/s/bg.mov", clip_frames=100), TIMELINE, 0)
    with pytest.raises(jobs.JobFailure, match="image sequence"):
        jobs.build_job(matte, plate, {"background": movie}, {}, str(tmp_path), TIMELINE)
    bg = jobs.plan_source(_item("bg", "/s/bg.[0001-0200].exr", source_start=0, source_end=20), TIMELINE, 0)
    with_bg = jobs.build_job(matte, plate, {"background": bg}, {}, str(tmp_path), TIMELINE)
    assert set(with_bg.outputs) == {"matte", "foreground", "comp"}
    assert with_bg.links == [("/s/bg.####.exr", 1, 20, os.path.join(with_bg.folder, "inputs", "background.####.exr"),
                              1011, 20)]
    still = jobs.plan_source(_item("bg", "/s/bg_plate.exr", clip_frames=1, source_start=0, source_end=1, duration=1),
                             TIMELINE, 0)
    with_still = jobs.build_job(matte, plate, {"background": still}, {}, str(tmp_path), TIMELINE)
    assert with_still.links[0][0] == "/s/bg_plate.exr" and with_still.links[0][4:] == (1011, 20)
    assert client_jobs.safe_name("../../etc/passwd") == "etc_passwd" and client_jobs.safe_name("") == "untitled"
    assert jobs.result_folder(str(tmp_path), "..", "..", "..", "apply", "k").startswith(str(tmp_path) + os.sep)


def test_bad_items_are_refused_with_the_item_name():
    with pytest.raises(jobs.JobFailure, match="sh099: clip has no file path"):
        jobs.plan_source(_item("sh099", ""), TIMELINE, 0)
    with pytest.raises(jobs.JobFailure, match="sh099: .*duration"):
        jobs.plan_source(_item("sh099", duration=0), TIMELINE, 0)
    with pytest.raises(jobs.JobFailure, match="frame rate"):
        jobs.plan_source(_item("sh099", clip_fps="n/a"), TIMELINE, 0)
    raw = jobs.plan_source(_item("A001", "/c/A001.braw", clip_frames=200), TIMELINE, 8)
    assert raw.needs_render and any("no handles" in w for w in raw.warnings)


def test_widget_specs_from_controls_and_values_back():
    tool = {"name": "x", "controls": [
        {"name": "method", "type": "choice", "default": "mkl", "choices": ["reinhard", "mkl"], "label": "Method"},
        {"name": "strength", "type": "float", "default": 1.0, "min": 0.0, "max": 1.0, "label": "Strength"},
        {"name": "regional", "type": "bool", "default": False},
        {"name": "reference_frame", "type": "int", "default": None, "label": "Reference frame"},
        {"name": "screen_color", "type": "color", "default": None},
        {"name": "lut", "type": "string", "default": "", "ui": "host"}]}
    specs = widgets.tool_specs(tool, saved={"strength": 0.4})
    kinds = {s["control"]: s["widget"] for s in specs}
    assert kinds == {"method": "ComboBox", "strength": "DoubleSpinBox", "regional": "CheckBox",
                     "reference_frame": "LineEdit", "screen_color": "LineEdit"}  # lut: the adapter writes it
    by = {s["control"]: s for s in specs}
    assert by["strength"]["props"]["Value"] == 0.4 and by["method"]["index"] == 1
    raw = {"p_method": "reinhard", "p_strength": 0.25, "p_regional": True, "p_reference_frame": "",
           "p_screen_color": "0.1 0.8 0.2"}
    assert widgets.params_from_values(specs, raw) == {"method": "reinhard", "strength": 0.25, "regional": True,
                                                      "screen_color": [0.1, 0.8, 0.2]}
    with pytest.raises(ValueError, match="Reference frame: expected a whole number"):
        widgets.params_from_values(specs, dict(raw, p_reference_frame="ten"))
    with pytest.raises(ValueError, match="three numbers"):
        widgets.params_from_values(specs, dict(raw, p_screen_color="1 2"))


def test_the_description_decides_which_controls_and_inputs_get_widgets():
    # What the adapter fills (an input's frames, an artifact's path) and follow-ups get no widget.
    match = {s["control"] for s in widgets.tool_specs(_tool("match"))}
    assert {"method", "strength", "cdl_tolerance"} <= match and not match & {"reference_frame", "lut", "cdl"}
    cont = {s["control"] for s in widgets.tool_specs(_tool("continuity"))}
    assert "sensitivity" in cont and not cont & {"frames_a", "frames_b", "patch"}
    # A model-running tool offers the worker's models, then the chosen model's own controls after its own.
    apply = tools.with_model_controls(_tool("apply"), {"id": "degrain-small", "controls": [
        {"name": "strength", "type": "float", "default": 1.0}, {"name": "tile", "type": "int", "default": 64}]})
    specs = widgets.tool_specs(apply, None, ["degrain-small"])
    assert specs[0]["widget"] == "ComboBox" and specs[0]["items"] == ["degrain-small"]
    assert [s["control"] for s in specs] == ["model", "tile", "overlap", "strength"]  # the tool's tile wins
    # The adapter's own fields; a further input per secondary input, the needed, picked ones on the item
    # before the cut; the CDL fields for a tool with a CDL artifact.
    own = widgets.own_specs(_tool("continuity"), {}, [widgets.PREVIOUS, "V1 sh010 @86400"])
    assert [s["control"] for s in own] == ["scope", "provider", "output", "farm", "input_a"]
    assert {s["id"] for s in own} == {"mc_scope", "mc_provider", "mc_output", "mc_farm", "mc_input_a"}
    farm = own[3]  # where Send to farm sends the job: $MATCHCUT_FARM's farm first
    assert farm["widget"] == "ComboBox" and farm["items"] == list(cfarm.FARMS)
    assert farm["items"][farm["index"]] == cfarm.default_farm()
    assert own[-1]["items"][own[-1]["index"]] == widgets.PREVIOUS
    own = {s["control"]: s for s in widgets.own_specs(_tool("matte"), {}, [widgets.PREVIOUS])}
    assert own["input_background"]["items"][own["input_background"]["index"]] == widgets.NONE
    assert own["input_clean_plate"]["label"] == "Clean plate" and "apply_cdl" not in own
    own = {s["control"]: s for s in widgets.own_specs(_tool("match"), {"input_reference": widgets.NONE},
                                                       [widgets.PREVIOUS])}
    assert {"apply_cdl", "cdl_node", "input_reference", "input_mask"} <= set(own)
    assert own["input_reference"]["items"][own["input_reference"]["index"]] == widgets.NONE  # the saved choice
    assert widgets.neighbour_inputs(_tool("match")) == ["reference"] and widgets.neighbour_inputs(_tool("matte")) == []


def test_cdl_for_set_cdl_and_the_no_fit_retry(tmp_path):
    cc = tmp_path / "g.cc"
    cc.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<ColorCorrection id="matchcut"><SOPNode>'
                  "<Slope>0.95 1.0 1.05</Slope><Offset>0.003 0.0009 -0.0001</Offset><Power>1.0 1.0 0.99</Power>"
                  "</SOPNode><SatNode><Saturation>1.004</Saturation></SatNode></ColorCorrection>")
    assert results.read_cdl(str(cc), 2) == {"NodeIndex": "2", "Slope": "0.95 1.0 1.05", "Offset": "0.003 0.0009 -0.0001",
                                            "Power": "1.0 1.0 0.99", "Saturation": "1.004"}
    cdl = tmp_path / "g.cdl"
    cdl.write_text('<ColorDecisionList xmlns="urn:ASC:CDL:v1.01"><ColorDecision>' + cc.read_text().split("\n", 1)[1]
                   + "</ColorDecision></ColorDecisionList>")
    assert results.read_cdl(str(cdl))["Slope"] == "0.95 1.0 1.05"
    bad = tmp_path / "bad.cc"
    bad.write_text("<ColorCorrection><SOPNode><Slope>1 1</Slope><Offset>0 0 0</Offset><Power>1 1 1</Power>"
                   "</SOPNode></ColorCorrection>")
    with pytest.raises(ValueError, match="Slope has 2 value"):
        results.read_cdl(str(bad))
    with pytest.raises(ValueError, match="not an ASC CDL"):
        (tmp_path / "x.cc").write_text("<a/>")
        results.read_cdl(str(tmp_path / "x.cc"))
    message = ("setting 'cdl': /x/g.cc: the correction is not close enough to a CDL (mean CIEDE2000 3.10 > 1.0); "
               "write the 3D LUT (--lut) instead, or raise cdl_tolerance")
    assert results.cdl_not_fitting(message, "cdl") and not results.cdl_not_fitting(message, "grade")
    assert not results.cdl_not_fitting("plate.1001.exr: cannot read", "cdl")
    assert not results.cdl_not_fitting(None, "cdl")
    assert results.cdl_artifact(_tool("match"))["param"] == "cdl" and results.cdl_artifact(_tool("apply")) is None


def test_actions_markers_and_free_frames():
    assert results.actions(_tool("apply"), {"main": "plate"}, "take") == {"main": "take"}
    assert results.actions(_tool("matte"), {"matte": "matte", "foreground": "plate", "comp": "plate"}, "track") == \
        {"matte": "matte", "foreground": "import", "comp": "track"}
    assert results.actions(_tool("matte"), {"foreground": "plate", "matte": "matte"}, "take") == \
        {"matte": "matte", "foreground": "take"}
    assert results.actions(_tool("relight"), {"main": "plate", "passes": "pass"}, "take") == \
        {"main": "take", "passes": "import"}
    assert results.actions(_tool("continuity"), {"report": "report", "json": "json"}, "take") == \
        {"report": "artifact", "json": "markers"}
    assert results.free_frame([4.0, 5.0], 4, 10) == 6 and results.free_frame([4.0], 4, 4) is None
    rng = timing.source_range(timing.ItemTiming(record_start=86410, duration=20, timeline_fps=24, clip_fps=24,
                                                clip_frames=100, first_file_frame=1001, source_start=10, source_end=30,
                                                timeline_start=86400))
    data = {"matchcut_continuity": 1, "comparisons": [
        {"label": "A / B", "a": {"frame": 1050}, "b": {"frame": 1011},
         "regions": [{"id": 1, "box": [10, 20, 30, 40], "score": 0.9, "category": "moved", "on": "person",
                      "origin": [50, 20, 30, 40]},
                     {"id": 2, "box": [50, 60, 30, 40], "score": 0.8, "category": "changed", "on": "set"}]},
        {"label": "C / D", "a": {"frame": 1}, "b": {"frame": 1015}, "regions": []}]}
    first, second = results.continuity_markers(data, rng, "/r/index.html", "/r/c.json", "sh010", "sh020")
    assert first["frame"] == 10 and first["color"] == "Red" and second["frame"] == 14 and second["color"] == "Green"
    assert "#1 moved 0.90 on person at x 10 y 20, 30x40 px, from x 50 y 20; #2 changed 0.80" in first["note"]
    assert json.loads(first["custom_data"])["regions"][1]["id"] == 2
    big = dict(data, comparisons=[dict(data["comparisons"][0], regions=data["comparisons"][0]["regions"] * 200)])
    custom = json.loads(results.continuity_markers(big, rng, "/r", "/j")[0]["custom_data"])
    assert custom["regions_truncated"] and len(json.dumps(custom)) <= results.CUSTOM_DATA_LIMIT
    with pytest.raises(ValueError, match="not a Matchcut continuity JSON"):
        results.continuity_markers({"comparisons": []}, rng, "/r", "/j")


def test_settings_round_trip_and_survive_garbage(tmp_path):
    path = str(tmp_path / "s" / "settings.json")
    assert settings.load(path) == {}
    settings.save(path, "relight", {"strength": 0.5})
    settings.save(path, "match", {"method": "mkl"})
    assert settings.load(path) == {"relight": {"strength": 0.5}, "match": {"method": "mkl"}}
    pathlib.Path(path).write_text("{not json")
    assert settings.load(path) == {}
    env = {"MATCHCUT_CACHE_DIR": str(tmp_path / "c")}
    assert settings.settings_path(env) == str(tmp_path / "c" / "resolve" / "settings.json")
    assert settings.default_output(dict(env, MATCHCUT_RESOLVE_OUTPUT="/shows/out")) == "/shows/out"


def _facts(tmp_path, tool, previous=True):
    path_b = write_shot(tmp_path / "plates", "sh020", 1001, 1006)
    path_a = write_shot(tmp_path / "plates", "sh010", 1001, 1006)
    facts = {"tool": tool, "timeline": TIMELINE, "output": str(tmp_path / "out"),
             "item": _item("sh020", path_b, clip_frames=6, duration=3, source_start=1, source_end=4, left_offset=1,
                           right_offset=2),
             "previous": _item("sh010", path_a, clip_frames=6, duration=3, source_start=2, source_end=5,
                               record_start=86407, left_offset=2, right_offset=1) if previous else None}
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    return path


def _freerun(facts_path, env):
    adapter = pathlib.Path(__file__).resolve().parents[3] / "hosts" / "resolve"
    return subprocess.run([sys.executable, "-m", "matchcut_resolve.freerun", str(facts_path)], cwd=str(adapter),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=dict(os.environ, **env), timeout=300)


def test_freerun_runs_a_real_job_from_a_facts_file(tmp_path, worker_env):
    done = _freerun(_facts(tmp_path, "continuity"), {})
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0 and result["status"] == "done", result
    assert os.path.isfile(result["artifacts"]["report"]) and os.path.isfile(result["artifacts"]["json"])
    data = json.loads(pathlib.Path(result["artifacts"]["json"]).read_text())
    assert data["comparisons"][0]["a"]["frame"] == 1005 and data["comparisons"][0]["b"]["frame"] == 1002


def test_freerun_bad_input_is_one_result_line(tmp_path, worker_env):
    done = _freerun(_facts(tmp_path, "continuity", previous=False), {})
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 1 and result["status"] == "error" and "previous item" in result["message"]
    facts = json.loads(_facts(tmp_path, "relight").read_text())
    facts["item"]["file_path"] = "/cards/A001.braw"
    (tmp_path / "raw.json").write_text(json.dumps(facts))
    result = json.loads(_freerun(tmp_path / "raw.json", {}).stdout.strip().splitlines()[-1])
    assert result["status"] == "error" and "cannot render" in result["message"]
    result = json.loads(_freerun(tmp_path / "raw.json", {"MATCHCUT_WORKER": "", "PATH": str(tmp_path)})
                        .stdout.strip().splitlines()[-1])
    assert "MATCHCUT_WORKER" in result["message"]
    facts = json.loads(_facts(tmp_path, "apply").read_text())
    plan = freerun.plan_from_facts(facts, _tool("apply"), {"handles": 1}, str(tmp_path / "o"), ["degrain-small"])
    assert plan.job["params"] == {"model": "degrain-small", "tile": 0} and plan.job["frames"] == "1001-1005"
    with pytest.raises(jobs.JobFailure, match="no model installed"):
        freerun.plan_from_facts(facts, _tool("apply"), {}, str(tmp_path / "o"), [])
    # shot match takes the previous item as its reference, its middle used frame as the reference frame
    plan = freerun.plan_from_facts(json.loads(_facts(tmp_path, "match").read_text()), _tool("match"), {},
                                   str(tmp_path / "o"))
    assert plan.job["inputs"]["reference"].endswith("sh010.####.exr") and plan.job["params"]["reference_frame"] == 1004
    assert plan.job["params"]["cdl"].endswith("sh020_match.cc")


def test_the_adapter_and_its_client_parse_as_python_36_reads_them():
    """Resolve runs scripts on Python 3.6 up to 3.14: no grammar newer than 3.6's, and no ``from __future__ import
    annotations`` (3.7+; 3.6 stops at it with "future feature annotations is not defined")."""
    import ast

    root = pathlib.Path(__file__).resolve().parents[3] / "hosts"
    files = [*(root / "resolve").rglob("*.py"), *(root / "common" / "client").rglob("*.py")]
    assert len(files) > 20
    for path in files:
        tree = ast.parse(path.read_text(), feature_version=(3, 6))
        futures = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "__future__"
                   for a in n.names]
        assert "annotations" not in futures, path
