"""The Blender adapter's plain modules (no Blender): strip timing, version folders, jobs, operator plans from
the tools' descriptions, and the modal operator's logic against the real worker. The worker client itself
(finding the worker, questions, events, cancel) is tested in tests/hosts/client."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import fake_tool  # noqa: E402

HOST = Path(__file__).resolve().parents[3] / "hosts" / "blender"
WORKER = str(Path(sys.executable).parent / "matchcut")


def _package():
    """The add-on from the checkout (its __init__ finds the client in hosts/common), as ``mc_blender_plain``."""
    if "mc_blender_plain" in sys.modules:
        return sys.modules["mc_blender_plain"]
    spec = importlib.util.spec_from_file_location("mc_blender_plain", HOST / "__init__.py",
                                                  submodule_search_locations=[str(HOST)])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["mc_blender_plain"] = pkg
    spec.loader.exec_module(pkg)
    return pkg


def _mod(name):
    _package()
    return importlib.import_module("mc_blender_plain." + name)


strips, jobs, tools, monitor = (_mod(n) for n in ("strips", "jobs", "tools", "monitor"))
client_tools, client_jobs, client_worker = (_mod("client." + n) for n in ("tools", "jobs", "worker"))

#: The real tools' names: the add-on's code must not know them (they come from the description).
TOOL_NAMES = {"match", "fill", "retime", "matte", "relight", "continuity", "apply", "learn", "coverage"}


def test_host_code_parses_as_python_39_and_imports_no_bpy_outside_interface():
    for path in HOST.glob("*.py"):
        tree = ast.parse(path.read_text(), feature_version=(3, 9))
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level}
        if path.name != "interface.py":
            assert "bpy" not in names, path.name
    assert "bpy" not in sys.modules
    assert not (HOST / "worker.py").exists() and not (HOST / "events.py").exists()  # the client's, not copies


def test_host_code_names_no_tool():
    # every string in the code that is not a docstring; "matte" is also an output kind (one alpha channel)
    for path in HOST.glob("*.py"):
        tree = ast.parse(path.read_text())
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                 and id(n) not in docs and n.value in TOOL_NAMES - {"matte"}}
        assert not found, (path.name, found)


class FakeEditor:
    def __init__(self, **attrs):
        self.__dict__.update(attrs)


def test_strips_of_picks_strips_or_sequences():
    assert strips.strips_of(FakeEditor(strips=[1])) == [1]  # Blender 4.4+
    assert strips.strips_of(FakeEditor(sequences=[2])) == [2]  # Blender 4.2, 4.3
    assert strips.all_strips_of(FakeEditor(sequences_all=[3])) == [3]


@pytest.mark.parametrize("name, expected", [("plate.1001.exr", ("plate.####.exr", 1001)),
                                            ("sh010_v2.0042.png", ("sh010_v2.####.png", 42)),
                                            ("still.exr", ("still.exr", None)), ("f7.tif", ("f#.tif", 7))])
def test_frame_pattern(name, expected):
    assert strips.frame_pattern(name) == expected


def test_strip_use_with_offsets_handles_and_anim_offset():
    files = ["p.%d.exr" % f for f in range(1001, 1011)]
    use = strips.strip_use(files, 101.0, 103.0, 108.0)  # trimmed 2 at the head, 3 at the tail
    assert use.frames == [1003, 1004, 1005, 1006, 1007] and use.timeline_start == 103
    assert (use.handles_before, use.handles_after) == (2, 3)
    assert strips.handles_for(use, 8) == 2 and strips.handles_for(use, 1) == 1
    assert strips.handles_for(use, 8, before=False) == 3  # a tool that reads handles after the cut only
    # an animation offset skips source frames before the strip's content starts
    use = strips.strip_use(files, 101, 101, 104, anim_offset_start=4)
    assert use.frames == [1005, 1006, 1007] and use.timeline_start == 101
    # held past its content: only frames on disk are used
    use = strips.strip_use(files, 1, -4, 20)
    assert use.frames[0] == 1001 and use.frames[-1] == 1010 and use.timeline_start == 1
    with pytest.raises(ValueError, match="none of its 10"):
        strips.strip_use(files, 1, 30, 40)


def test_movie_use_numbers_from_one():
    use = strips.movie_use(48, 10, 14, 20)
    assert use.frames == [5, 6, 7, 8, 9, 10] and use.timeline_start == 14


def test_free_channel():
    occupied = [(2, 1, 10), (3, 50, 60)]
    assert strips.free_channel(occupied, 1, 5, 8) == 3
    assert strips.free_channel(occupied, 2, 55, 70) == 4
    assert strips.free_channel(occupied, 1, 10, 20) == 2  # end exclusive: touching is free


def test_sequence_files_ignores_temporaries(tmp_path):
    for name in ("o.1001.exr", "o.1002.exr", ".o.1003.exr.tmp-x", "o.1003.exr.tmp", "other.1001.exr"):
        (tmp_path / name).write_bytes(b"")
    found = strips.sequence_files(str(tmp_path / "o.####.exr"))
    assert [f for f, _ in found] == [1001, 1002]


def test_version_folders_never_collide_and_cleanup_is_limited_to_our_own(tmp_path):
    a = jobs.new_version_folder(str(tmp_path), "sh 010/x", "apply")
    b = jobs.new_version_folder(str(tmp_path), "sh 010/x", "apply")
    assert Path(a).name == "sh_010_x_apply_v001" and Path(b).name == "sh_010_x_apply_v002"
    foreign = tmp_path / "plates"
    foreign.mkdir()
    assert not jobs.remove_version_folder(str(foreign)) and foreign.exists()
    assert jobs.remove_version_folder(a) and not Path(a).exists()


@pytest.fixture(scope="module")
def real():
    """The real worker's catalog: its tools' descriptions and the zoo's image models."""
    return tools.load_catalog(WORKER)


def _source(name, frames, first_index=0, timeline_start=1, before=0, after=0, pattern=None):
    use = strips.StripUse(list(frames), first_index, timeline_start, before, after)
    return strips.Source(name, pattern or "/show/%s/%s.####.exr" % (name, name), use, "ACEScg", strip=object())


def _plans(catalog):
    plans, problems = tools.operator_plans(catalog)
    assert problems == []
    return {p.ident: p for p in plans}


def _props(plan):
    return {pid: (kind, opts) for pid, kind, opts in plan.properties}


def _defaults(plan):
    return {pid: opts["default"] for pid, (kind, opts) in _props(plan).items()}


def test_plan_job_is_a_valid_matchcut_job(tmp_path, real):
    from matchcut.jobs.spec import job_from_dict

    plan = _plans(real)["strip_apply_degrain_small"]
    src = _source("sh010", [1003, 1004, 1005], pattern="/show/sh010/plate.####.exr")
    params = dict(tools.params_from(plan.controls, _defaults(plan)), model="degrain-small")
    job, outputs = jobs.plan_job(plan.tool, src, {}, params, str(tmp_path), device="GPU", precision="fp16")
    spec = job_from_dict(job, tmp_path)
    assert spec.frames == [1003, 1004, 1005] and spec.device.provider == "cuda" and spec.device.precision == "fp16"
    assert outputs == {"main": str(tmp_path / "sh010_apply.####.exr")} and job["handles"] == 0
    assert job["params"] == {"model": "degrain-small", "tile": 0, "strength": 1.0}
    with pytest.raises(ValueError, match="absolute"):
        jobs.plan_job(plan.tool, _source("sh010", [1], pattern="plate.####.exr"), {}, params, str(tmp_path))
    path = jobs.write_job(job, str(tmp_path))
    assert json.loads(Path(path).read_text()) == job and [p.name for p in tmp_path.iterdir()] == ["job.json"]


def test_result_placement_lines_up_and_trims_handles():
    use = strips.StripUse([1003, 1004, 1005], 2, 103, 2, 3)
    assert jobs.result_placement(use, [1001, 1002, 1003, 1004, 1005, 1006], False) == (101, 2, 1)
    assert jobs.result_placement(use, [1003, 1004, 1005], False) == (103, 0, 0)
    assert jobs.result_placement(use, list(range(1, 7)), True) == (103, 0, 0)  # retimed: starts at the cut


def test_read_regions_labels(tmp_path):
    data = {"matchcut_continuity": 1, "comparisons": [{"regions": [
        {"id": 1, "box": [1, 2, 3, 4], "score": 0.8234, "category": "wardrobe", "on": "person", "area": 12},
        {"id": 2, "box": [1, 2, 3, 4], "score": 0.5, "category": "x" * 80, "on": "set", "area": 12}]}]}
    (tmp_path / "c.json").write_text(json.dumps(data))
    plans = jobs.read_regions(str(tmp_path / "c.json"))
    assert plans[0][2] == "#1 wardrobe (person) 0.82" and len(plans[1][2]) == 63
    (tmp_path / "other.json").write_text(json.dumps({"stats": [1, 2]}))
    assert jobs.read_regions(str(tmp_path / "other.json")) is None  # a JSON result with no regions: no markers


def test_property_plans_from_controls():
    speed = {"name": "speed", "type": "float", "default": None, "min": 0.01, "max": 100.0, "label": "Speed"}
    plan = tools.property_plan(speed)
    assert [p[0] for p in plan] == ["use_speed", "p_speed"] and plan[1][2]["default"] == 1.0
    choice = {"name": "m", "type": "choice", "default": "b", "choices": ["a", "b"]}
    (_, kind, opts), = tools.property_plan(choice)
    assert kind == "enum" and opts["default"] == "b" and [i[0] for i in opts["items"]] == ["a", "b"]
    colour = {"name": "bg", "type": "color", "default": [0, 1, 0]}
    assert tools.property_plan(colour)[0][1:] == ("color", {"name": "bg", "description": "bg",
                                                            "default": (0.0, 1.0, 0.0), "size": 3})
    params = tools.params_from([speed, choice, colour], {"use_speed": False, "p_speed": 2.0, "p_m": "a",
                                                         "p_bg": (0.1, 0.2, 0.3)})
    assert params == {"m": "a", "bg": [0.1, 0.2, 0.3]}
    assert tools.params_from([speed], {"use_speed": True, "p_speed": 2.0}) == {"speed": 2.0}
    with pytest.raises(ValueError, match="unknown type"):
        tools.property_plan({"name": "x", "type": "matrix"}, "tool 'q'")


def test_the_real_tools_become_operators_from_their_descriptions(tmp_path, real):
    plans = _plans(real)
    assert {"strip_apply_degrain_small", "image_apply_degrain_small", "strip_match", "image_match",
            "strip_continuity", "strip_fill", "strip_retime", "strip_matte", "strip_relight"} <= set(plans)
    assert plans["strip_match"].label == "Shot Match"
    apply = _props(plans["strip_apply_degrain_small"])
    assert "p_strength" in apply and "p_model" not in apply  # the model's controls; one operator per model
    match = _props(plans["strip_match"])
    assert "in_reference" in match and "in_mask" in match
    assert not {"p_reference_frame", "use_reference_frame", "p_lut", "p_cdl"} & set(match)  # the adapter's
    cont = plans["strip_continuity"]
    assert client_tools.main_input(cont.tool) == "b" and "in_a" in _props(cont) and "in_b" not in _props(cont)
    assert not {"p_frames_a", "p_frames_b", "in_timeline"} & set(_props(cont))
    assert _props(plans["strip_fill"])["handles"][1]["default"] == 2
    assert _props(plans["strip_retime"])["handles"][1]["default"] == 1 and "handles" not in _props(plans["image_fill"])
    assert "handles" not in _props(plans["strip_match"]) and "wire_passes" not in _props(plans["strip_match"])
    relight = _props(plans["strip_relight"])
    assert {"use_light", "light_type", "light_direction", "wire_passes", "p_lights"} <= set(relight)
    # outputs from the description: a matte's comp only over a background, relight's passes only when asked
    matte = plans["strip_matte"].tool
    assert set(jobs.output_patterns(matte, str(tmp_path), "gs")) == {"foreground", "matte"}
    outs = jobs.output_patterns(matte, str(tmp_path), "gs", connected=["plate", "background"])
    assert set(outs) == {"foreground", "matte", "comp"} and outs["matte"].endswith("gs_matte_matte.####.exr")
    relit = plans["strip_relight"].tool
    assert set(jobs.output_patterns(relit, str(tmp_path), "sh")) == {"main"}
    assert set(jobs.output_patterns(relit, str(tmp_path), "sh", passes=True)) == {"main", "passes"}
    c = jobs.output_patterns(cont.tool, str(tmp_path), "b", sequence=False)
    assert c == {"report": str(tmp_path / "report"), "json": str(tmp_path / "continuity.json")}
    assert set(jobs.output_patterns(cont.tool, str(tmp_path), "b", params={"patch": 2})) == {"report", "json",
                                                                                             "main", "patch"}


def test_the_adapter_fills_frames_and_artifact_paths(tmp_path, real):
    plans = _plans(real)
    plate = _source("plate", range(1003, 1008), 2, 103, 2, 3)
    ref = _source("ref", range(1001, 1012))
    match = plans["strip_match"]
    job, _ = jobs.plan_job(match.tool, plate, {"reference": ref}, {}, str(tmp_path))
    assert job["params"] == {"reference_frame": 1006}  # the LUT and the CDL only when asked for
    assert {"write_lut", "write_cdl"} <= set(_props(match))
    wanted = tools.wanted_artifacts(match.tool, {"write_lut": True, "write_cdl": False})
    job, _ = jobs.plan_job(match.tool, plate, {"reference": ref}, {}, str(tmp_path), artifacts=wanted)
    assert job["params"] == {"reference_frame": 1006, "lut": str(tmp_path / "plate_match.cube")}
    assert job["inputs"] == {"plate": plate.pattern, "reference": ref.pattern} and job["frames"] == "1003-1007"
    still = strips.Source("ref", "/show/ref.exr", strips.StripUse([None], 0, 1, 0, 0), "sRGB")
    job, _ = jobs.plan_job(match.tool, plate, {"reference": still}, {"reference_frame": 7}, str(tmp_path))
    assert job["params"]["reference_frame"] == 7  # what is set stays; a still has no frame to give
    cont = plans["strip_continuity"]
    job, outputs = jobs.plan_job(cont.tool, _source("b", range(1001, 1004)), {"a": _source("a", range(1, 4))}, {},
                                 str(tmp_path))
    assert job["params"] == {"frames_a": "1-3", "frames_b": "1001-1003"} and job["frames"] is None
    assert set(job["inputs"]) == {"a", "b"} and set(outputs) == {"report", "json"}
    fill = plans["strip_fill"]
    assert jobs.plan_job(fill.tool, plate, {}, {}, str(tmp_path), handles=8)[0]["handles"] == 2
    retime = plans["strip_retime"]  # handles after the cut only: the source has 3 there
    assert jobs.plan_job(retime.tool, plate, {}, {"speed": 0.5}, str(tmp_path), handles=8)[0]["handles"] == 3


def test_a_tool_no_adapter_knows_becomes_an_operator_with_no_blender_edit(tmp_path):
    catalog = tools.Catalog(client_tools.tools_from(fake_tool.described()), {}, "")
    plans = _plans(catalog)
    plan = plans["strip_grain"]
    assert plan.label == "Match Grain" and plan.target == "STRIP" and "image_grain" in plans
    props = _props(plan)
    assert props["p_amount"] == ("float", {"name": "Amount", "description": "grain strength", "default": 1.0,
                                           "min": 0.0, "max": 4.0})
    assert props["use_seed"][0] == "bool" and props["use_seed"][1]["default"] is False
    assert props["p_seed"][0] == "int" and props["p_seed"][1]["min"] == 0
    assert props["p_response"][0] == "enum" and [i[0] for i in props["p_response"][1]["items"]] == ["film", "digital"]
    assert not {"p_reference_frame", "use_reference_frame", "p_report"} & set(props)  # the adapter fills those
    assert {"in_reference", "in_mask", "wire_passes", "to_compositor"} <= set(props)
    assert props["handles"][0] == "int" and props["handles"][1]["default"] == 1
    assert "handles" not in _props(plans["image_grain"]) and "image" in _props(plans["image_grain"])
    # the reference comes from the other selected strip (the tool picks it); the mask only when named
    plate = _source("sh010", range(1003, 1008), 2, 103, 2, 3)
    ref, other = _source("ref", range(1001, 1012)), _source("other", range(1, 5))
    others = tools.assign_inputs(plan.tool, {}, [ref, other], "STRIP", "sh010")
    assert others == {"reference": ref}
    assert tools.assign_inputs(plan.tool, {"mask": other}, [ref], "STRIP") == {"reference": ref, "mask": other}
    with pytest.raises(ValueError, match="Match Grain needs a reference: select that strip too, then make 'sh010'"):
        tools.assign_inputs(plan.tool, {}, [], "STRIP", "sh010")
    with pytest.raises(ValueError, match="needs the reference image"):
        tools.assign_inputs(plan.tool, {}, [ref], "IMAGE")  # images are named, never picked
    values = _defaults(plan)
    params = tools.params_from(plan.controls, values)
    assert params == {"amount": 1.0, "response": "film"}  # the seed only when switched on
    assert tools.params_from(plan.controls, dict(values, use_seed=True, p_seed=7))["seed"] == 7
    job, outputs = jobs.plan_job(plan.tool, plate, others, params, str(tmp_path), handles=values["handles"])
    assert set(outputs) == {"main"} and outputs["main"] == str(tmp_path / "sh010_grain.####.exr")
    assert job["tool"] == "grain" and job["handles"] == 1 and job["frames"] == "1003-1007"
    assert job["inputs"] == {"plate": plate.pattern, "reference": ref.pattern}
    assert job["params"] == {"amount": 1.0, "response": "film", "reference_frame": 1006}
    assert props["write_report"] == ("bool", {"name": "Write Grain report", "default": False,
                                              "description": "Also write the Grain report (.json) into the "
                                                             "result's version folder"})
    job, _ = jobs.plan_job(plan.tool, plate, others, params, str(tmp_path),
                           artifacts=tools.wanted_artifacts(plan.tool, dict(values, write_report=True)))
    assert job["params"]["report"] == str(tmp_path / "sh010_grain.json")  # in the version folder
    _, outputs = jobs.plan_job(plan.tool, plate, others, params, str(tmp_path), passes=True)
    assert set(outputs) == {"main", "grain"} and outputs["grain"].endswith("sh010_grain_grain.####.exr")
    assert client_tools.primary_output(plan.tool, list(outputs)) == "main"


_script = fake_tool.worker_script


def test_a_worker_of_a_newer_description_version_says_update_the_adapter(tmp_path):
    answer = json.dumps({"matchcut_tools": 99, "matchcut": "9.0", "tools": {}})
    exe = _script(tmp_path, "echo '%s'" % answer)
    with pytest.raises(client_worker.WorkerError) as caught:
        tools.load_catalog(exe, str(tmp_path / "cache"))
    message = str(caught.value)
    assert message.endswith("update the adapter") and "version 99" in message and "\n" not in message


def test_descriptions_are_cached_and_a_hung_worker_only_costs_its_models(tmp_path, real):
    (tmp_path / "tools.json").write_text(json.dumps(fake_tool.described()))
    log = tmp_path / "calls.log"
    exe = _script(tmp_path, 'echo "$@" >> %s\ncase "$1" in tools) cat %s;; *) sleep 30;; esac'
                  % (log, tmp_path / "tools.json"))
    cache = tools.cache_folder({"MATCHCUT_CACHE_DIR": str(tmp_path / "c")})
    assert cache == str(tmp_path / "c" / "blender")
    start = time.monotonic()
    catalog = tools.load_catalog(exe, cache, timeout=1.0)  # tools answered, then `models list` hangs
    assert time.monotonic() - start < 5 and "grain" in catalog.tools and catalog.models == {}
    assert "no answer in 1 s" in catalog.note and "no model operators" in catalog.note
    again = tools.load_catalog(exe, cache, timeout=1.0)
    assert again.tools == catalog.tools and log.read_text().count("tools --json") == 1  # not asked again
    plans = _plans(again)
    assert "strip_grain" in plans and not [p for p in plans if p.startswith("strip_apply")]


def test_cache_folder_follows_the_core_then_the_extension():
    assert tools.cache_folder({"MATCHCUT_CACHE_DIR": "/c"}, "/ext/cache") == os.path.join("/c", "blender")
    assert tools.cache_folder({}, "/ext/cache") == "/ext/cache"
    assert tools.cache_folder({}).endswith(os.path.join("matchcut-blender", "cache"))


def test_light_from_properties():
    values = {"light_type": "spot", "light_color": (1, 0.5, 0.25), "light_intensity": 2, "light_direction": (0, 0, 1),
              "light_position": (0.1, 0.2, 0.9), "light_cone": 30, "light_softness": 0.2, "light_size": 1}
    assert tools.light_from(values) == {"type": "spot", "color": [1.0, 0.5, 0.25], "intensity": 2.0,
                                        "position": [0.1, 0.2, 0.9], "cone": 30.0, "softness": 0.2}
    assert tools.pass_socket_name("N") == "normals" and tools.pass_socket_name("matte") == "matte"


def _frames(folder, n, size=256):
    import OpenImageIO as oiio

    folder.mkdir()
    for f in range(1, n + 1):
        out = oiio.ImageOutput.create(str(folder / f"p.{f:04d}.exr"))
        out.open(str(folder / f"p.{f:04d}.exr"), oiio.ImageSpec(size, size, 3, "half"))
        out.write_image(np.full((size, size, 3), f / n, np.float32))
        out.close()


# --- the modal operator's logic (monitor.JobMonitor) against the real worker ---------------------------------

def _monitored_job(tmp_path, n=40, size=256, drop=None):
    """A real ``matchcut run`` of degrain-small on ``n`` frames into a version folder, under a JobMonitor."""
    _frames(tmp_path / "src", n, size)
    if drop:
        (tmp_path / "src" / f"p.{drop:04d}.exr").unlink()
    folder = jobs.new_version_folder(str(tmp_path / "results"), "sh010", "apply")
    job = client_jobs.build_job("apply", {"plate": str(tmp_path / "src" / "p.####.exr")},
                                {"main": os.path.join(folder, "sh010_apply.####.exr")},
                                client_jobs.format_range(1, n), {"model": "degrain-small"})
    run = client_worker.JobRun(WORKER, jobs.write_job(job, folder))
    return monitor.JobMonitor(run, "apply", folder), folder


def _timers_until(mon, condition, limit=240):
    """Feed TIMER events (as Blender's timer would) until ``condition(step)``; returns the steps."""
    steps = []
    deadline = time.time() + limit
    while time.time() < deadline:
        steps.append(mon.handle("TIMER"))
        if condition(steps[-1]):
            return steps
        time.sleep(0.05)
    raise AssertionError(f"no such step within {limit} s; last {steps[-1]}")


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.zoo
def test_monitor_shows_progress_and_esc_stops_the_worker_leaving_nothing(tmp_path):
    mon, folder = _monitored_job(tmp_path)
    first = mon.begin()
    assert first == ("RUNNING_MODAL", 0, "Matchcut apply: starting the worker...", False, None)
    steps = _timers_until(mon, lambda s: mon.state.index >= 1)
    shown = [s for s in steps if s.percent]
    assert shown and shown[-1].status.startswith("Matchcut apply: frame ") and "/40, " in shown[-1].status
    assert all(s.reply == "PASS_THROUGH" and not s.ended for s in steps)  # timers are Blender's too
    assert mon.handle("MOUSEMOVE") == ("PASS_THROUGH", None, None, False, None)  # the artist keeps working
    esc = mon.handle("ESC")
    assert esc == ("RUNNING_MODAL", None, "Matchcut apply: cancelling", False, None) and mon.phase == "cancelling"
    assert mon.handle("ESC", "RELEASE").reply == "RUNNING_MODAL"  # the key's release is ours too, and no-op
    end = _timers_until(mon, lambda s: s.ended)[-1]
    assert end.ended and end.outcome == "cancelled"  # so the operator adds no strip
    process = mon.run.process
    assert process.returncode is not None and _gone(process.pid)  # the worker has stopped
    assert not os.path.exists(folder)  # no partial output: the frames it finished went with the folder
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == [f"p.{f:04d}.exr" for f in range(1, 41)]
    assert mon.handle("TIMER") == ("PASS_THROUGH", None, None, True, "cancelled")  # ended stays ended


@pytest.mark.zoo
def test_monitor_runs_to_done_and_keeps_the_result(tmp_path):
    mon, folder = _monitored_job(tmp_path, n=3, size=32)
    steps = []
    end = mon.wait(on_step=steps.append, interval=0.05)  # background mode's loop: the same steps, no timer
    assert end == ("PASS_THROUGH", 100, None, True, "done")
    percents = [s.percent for s in steps if s.percent is not None]
    assert percents == sorted(percents) and percents[-1] == 100
    assert sorted(p.name for p in Path(folder).glob("*.exr")) == [f"sh010_apply.{f:04d}.exr" for f in (1, 2, 3)]


@pytest.mark.zoo
def test_monitor_reports_the_workers_error_and_removes_the_folder(tmp_path):
    mon, folder = _monitored_job(tmp_path, n=4, size=32, drop=3)
    end = _timers_until(mon, lambda s: s.ended)[-1]
    assert end.outcome == "error" and "missing frame(s) 3" in mon.state.error
    assert not os.path.exists(folder)


@pytest.mark.zoo
def test_monitor_kills_a_worker_that_ignores_the_request_to_stop(tmp_path):
    mon, folder = _monitored_job(tmp_path)
    now = [0.0]
    mon._clock = lambda: now[0]
    _timers_until(mon, lambda s: mon.state.index >= 1)
    mon.run.request_cancel = lambda: setattr(mon.run.state, "cancel_requested", True)  # deaf to SIGINT
    mon.handle("ESC")
    assert mon.run.process.poll() is None  # still running: nothing was sent
    assert monitor.CANCEL_GRACE == client_worker.CANCEL_GRACE  # one grace for every host
    now[0] = monitor.CANCEL_GRACE + 1  # the grace period is over
    end = _timers_until(mon, lambda s: s.ended)[-1]
    assert end.outcome == "cancelled" and mon.run.process.returncode == -signal.SIGKILL
    assert not os.path.exists(folder)


@pytest.mark.zoo
def test_monitor_abort_stops_the_worker_at_once(tmp_path):
    # Blender cancelling the operator (a file loaded, the add-on disabled) ends the job without more events
    mon, folder = _monitored_job(tmp_path)
    _timers_until(mon, lambda s: mon.state.index >= 1)
    end = mon.abort()
    assert end.ended and end.outcome == "cancelled" and _gone(mon.run.process.pid)
    assert not os.path.exists(folder) and mon.abort() == end


# --- a tool that stands on an edit (coverage): the strips as an edit, its operator and job ---------------------

edit = _mod("edit")


def _image_strip(name, folder, numbers, channel, start, shown=None, offset=0, mute=False):
    files = ["%s.%04d.exr" % (name, n) for n in numbers]
    first, end = start + offset, start + offset + (shown or len(files))
    return {"name": name, "type": "IMAGE", "channel": channel, "frame_start": start, "frame_final_start": first,
            "frame_final_end": end, "anim_offset_start": 0, "mute": mute, "directory": str(folder), "files": files}


def test_the_strips_become_an_edit_the_worker_reads_with_gaps_only_where_no_strip_is(tmp_path):
    from matchcut.missing_shots.holes import find_holes
    from matchcut.timelines import read_edit

    for name, numbers in (("sh010", range(1001, 1021)), ("sh020", range(1001, 1011)), ("sh030", range(1, 31))):
        (tmp_path / name).mkdir()
        for n in numbers:
            write_exr_plain(tmp_path / name / ("%s.%04d.exr" % (name, n)))
    strips_facts = [
        _image_strip("sh010", tmp_path / "sh010", range(1001, 1021), 1, 11, shown=10, offset=2),  # 13-22: 1003-1012
        _image_strip("sh020", tmp_path / "sh020", range(1001, 1011), 1, 29),  # a gap of 6 frames before it: 23-28
        {"name": "slug", "type": "COLOR", "channel": 1, "frame_start": 39, "frame_final_start": 39,
         "frame_final_end": 44},
        {"name": "music", "type": "SOUND", "channel": 4, "frame_start": 1, "frame_final_start": 1,
         "frame_final_end": 90},
        {"name": "shot", "type": "SCENE", "channel": 5, "frame_start": 1, "frame_final_start": 1,
         "frame_final_end": 9},
        _image_strip("sh030", tmp_path / "sh030", range(1, 31), 3, 20, shown=5, mute=True),
        {"name": "mov", "type": "MOVIE", "channel": 2, "frame_start": 30, "frame_final_start": 33,
         "frame_final_end": 38, "filepath": str(tmp_path / "nowhere.mov"), "frame_duration": 50},
    ]
    doc, origin, notes = edit.edit_document("Scene", 24.0, strips_facts, {1: {"name": "Channel 1", "mute": False}})
    assert origin == 13 and notes == ["scene strip 'shot' on channel 5 is left out (Matchcut reads image-sequence, "
                                      "movie, colour and text strips)"]
    path = tmp_path / "Scene.otio"
    path.write_text(json.dumps(doc))
    read = read_edit(str(path))
    assert read.rate == 24.0 and len(read.tracks) == 3  # channels 1-3: channel 3 is V3
    items = [(type(i).__name__, getattr(i, "name", ""), i.record) for i in read.tracks[0].items]
    assert items == [("Clip", "sh010", (0, 9)), ("Gap", "", (10, 15)), ("Clip", "sh020", (16, 25)),
                     ("Clip", "slug", (26, 30))]
    sh010 = read.tracks[0].items[0]
    assert sh010.source == (1003, 1012) and not sh010.media.offline and sh010.media.pattern.endswith("sh010.####.exr")
    assert [(type(i).__name__, i.record) for i in read.tracks[1].items] == [("Gap", (0, 19)), ("Clip", (20, 24))]
    assert read.tracks[1].items[1].media.offline  # a movie that is not there
    assert [i.record for i in read.tracks[2].items] == [(0, 6), (7, 11)]  # a gap, then the muted strip: disabled
    holes = find_holes(read, None)
    assert [(h.track, h.kind, h.record) for h in holes] == [
        ("V1 'Channel 1'", "gap", (10, 15)), ("V1 'Channel 1'", "placeholder", (26, 30)), ("V2", "offline", (20, 24))]
    assert holes[0].before.name == "sh010" and holes[0].after.name == "sh020"
    assert edit.record_range(20, 40, origin) == "7-27" and edit.record_range(1, 30, origin) == "0-17"
    with pytest.raises(ValueError, match="before the first strip"):
        edit.record_range(1, 5, origin)
    with pytest.raises(ValueError, match="nothing to cover"):
        edit.edit_document("Scene", 24.0, [strips_facts[3]])


def write_exr_plain(path):
    import OpenImageIO as oiio

    out = oiio.ImageOutput.create(str(path))
    out.open(str(path), oiio.ImageSpec(8, 6, 3, "half"))
    out.write_image(np.full((6, 8, 3), 0.25, np.float32))
    out.close()


def test_coverage_gets_a_sequencer_operator_and_a_job_of_its_own_folder(tmp_path, real):
    from matchcut.jobs.spec import job_from_dict

    plans = _plans(real)
    cover = plans["strip_coverage"]
    assert "image_coverage" not in plans and cover.label == "Coverage"
    props = _props(cover)
    assert {"p_media", "p_max_slowdown", "p_quality", "send_to_farm"} <= set(props)
    assert not {"p_range", "in_timeline", "handles", "wire_passes"} & set(props)  # the adapter fills the range
    assert cover.description.startswith("On the Sequencer's strips (the preview range when set)")
    assert client_tools.record_range_param(cover.tool) == "range"
    doc = {"OTIO_SCHEMA": "Timeline.1", "name": "Scene", "tracks": {"OTIO_SCHEMA": "Stack.1", "children": []}}
    params = {"media": "/show/media", "range": "0-20"}
    job, outputs, folder, edit_path = jobs.plan_edit(cover.tool, doc, params, str(tmp_path), "Scene", device="CPU")
    spec = job_from_dict(job, tmp_path)
    assert spec.tool == "coverage" and spec.frames is None and spec.device.provider == "cpu"
    assert job["inputs"] == {"timeline": edit_path} and edit_path == os.path.join(folder, "Scene.otio")
    assert outputs == {"out": os.path.join(folder, "out"), "report": os.path.join(folder, "report"),
                       "json": os.path.join(folder, "coverage.json")}
    assert os.path.basename(folder).startswith("Scene_coverage_") and os.path.isfile(os.path.join(folder,
                                                                                                  jobs.OWNER_FILE))
    assert jobs.plan_edit(cover.tool, doc, params, str(tmp_path), "Scene")[2] == folder  # the same: it resumes
    assert jobs.plan_edit(cover.tool, doc, dict(params, range="0-30"), str(tmp_path), "Scene")[2] != folder
    jobs.write_edit(doc, edit_path)
    assert json.loads(Path(edit_path).read_text()) == doc
