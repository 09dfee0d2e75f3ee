"""Learn Fix in Blender: the active strip is the source, the other selected strip its corrected frames (or an
Image Editor image and the image named as Target); the operator trains, then runs the learned fix on the
source, and the result comes back as a new strip above (a new image). Plain planning first, then real
Blender (bpy in .venv-blender) with the real worker."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

HOST = Path(__file__).resolve().parents[3] / "hosts" / "blender"
WORKER = str(Path(sys.executable).parent / "matchcut")
#: Small, fast training settings (2 shared cores), as operator properties.
QUICK = "p_steps=10, p_crop=16, p_batch=2, p_eval_every=5, p_threads=1"
WARM = np.array([1.25, 1.0, 0.8], np.float32)  # the artist's correction: warmer


def _mod(name):
    """A module of the add-on from the checkout, as package ``mc_blender_plain`` (test_blender_plain's)."""
    if "mc_blender_plain" not in sys.modules:
        spec = importlib.util.spec_from_file_location("mc_blender_plain", HOST / "__init__.py",
                                                      submodule_search_locations=[str(HOST)])
        pkg = importlib.util.module_from_spec(spec)
        sys.modules["mc_blender_plain"] = pkg
        spec.loader.exec_module(pkg)
    return importlib.import_module("mc_blender_plain." + name)


strips, jobs, tools, client_tools = (_mod(n) for n in ("strips", "jobs", "tools", "client.tools"))


@pytest.fixture(scope="module")
def real():
    return tools.load_catalog(WORKER)


def _source(name, frames, timeline_start=1, pattern=None):
    use = strips.StripUse(list(frames), 0, timeline_start, 0, 0)
    return strips.Source(name, pattern or "/show/%s/%s.####.exr" % (name, name), use, "ACEScg", strip=object())


# --- plain ---------------------------------------------------------------------------------------------------

def test_the_learn_operator_takes_the_other_selected_strip_as_its_target(real):
    plans = {p.ident: p for p in tools.operator_plans(real)[0]}
    strip, image = plans["strip_learn"], plans["image_learn"]
    names = [pid for pid, _, _ in strip.properties]
    assert "p_steps" in names and "p_frames" not in names and "p_resume" not in names  # the adapter fills those
    target = {pid: opts for pid, _, opts in strip.properties}["in_target"]
    assert target["description"].startswith("Empty: the other selected strip")
    assert "then runs the learned fix on the active strip" in strip.description
    assert "the image named in Target" in image.description
    learn = real.tools["learn"]
    fix = _source("fix", [1002, 1003, 1004])
    assert tools.assign_inputs(learn, {}, [fix], "STRIP", "sh010") == {"target": fix}
    with pytest.raises(ValueError, match="Learn Fix needs a target: select that strip too"):
        tools.assign_inputs(learn, {}, [], "STRIP", "sh010")


def test_corrected_frames_pair_by_number_and_a_still_by_where_it_starts(real, tmp_path):
    learn = real.tools["learn"]
    main = _source("sh010", range(1001, 1007), timeline_start=101)
    fix = _source("fix", [1002, 1003, 1004, 1100])
    assert jobs.corrected_frames(learn, main, {"target": fix}) == [1002, 1003, 1004]
    still = strips.Source("paint", "/show/paint.exr", strips.StripUse([None], 0, 104, 0, 0), "sRGB")
    assert jobs.corrected_frames(learn, main, {"target": still}) == [1004]  # shown at timeline frame 104
    late = strips.Source("paint", "/show/paint.exr", strips.StripUse([None], 0, 300, 0, 0), "sRGB")
    with pytest.raises(ValueError, match=r"Learn Fix: Source \(frames 1001-1006\), Target \(frames none\) share no"):
        jobs.corrected_frames(learn, main, {"target": late})
    image = strips.Source("src", "/show/src.exr", strips.StripUse([None], 0, 1, 0, 0), "ACEScg")
    assert jobs.corrected_frames(learn, image, {"target": still}) is None  # two stills: one pair, no frames
    job, outputs, folder = jobs.plan_training(learn, main, {"target": _source("fix", [1002, 1003])},
                                              {"steps": 10}, str(tmp_path))
    assert Path(folder).name.startswith("sh010_learn_") and (Path(folder) / jobs.OWNER_FILE).is_file()
    assert outputs == {"model": str(Path(folder) / "model")} and job["frames"] is None
    assert job["params"] == {"steps": 10, "frames": "1002-1003", "resume": True}
    again = jobs.plan_training(learn, main, {"target": _source("fix", [1002, 1003])}, {"steps": 10}, str(tmp_path))
    assert again[2] == folder  # the same strips and settings train in the same folder: a cancel carries on
    other = jobs.plan_training(learn, main, {"target": _source("fix", [1002])}, {"steps": 10}, str(tmp_path))
    assert other[2] != folder
    runner = real.tools[client_tools.model_runner(real.tools)]
    run, run_outputs = jobs.plan_model_run(runner, main, outputs["model"], str(tmp_path / "v1"))
    assert run["params"] == {"model": outputs["model"]} and run["frames"] == "1001-1006"
    assert run_outputs == {"main": str(tmp_path / "v1" / "sh010_apply.####.exr")}


# --- real Blender ------------------------------------------------------------------------------------------------

def _shots(tmp_path, exr, frames=range(1001, 1007), fixed=(1002, 1003, 1004), size=(24, 32)):
    """A textured plate and the artist's warmer correction of some of its frames (same numbers)."""
    rng = np.random.default_rng(3)
    base = (0.05 + 0.6 * rng.random(size + (3,))).astype(np.float32)
    src, fix = tmp_path / "plate", tmp_path / "fix"
    src.mkdir()
    fix.mkdir()
    for f in frames:
        exr(src / f"plate.{f}.exr", base)
    for f in fixed:
        exr(fix / f"fix.{f}.exr", base * WARM)
    return (src, [f"plate.{f}.exr" for f in frames]), (fix, [f"fix.{f}.exr" for f in fixed]), base


@pytest.mark.blender
def test_strip_learn_trains_on_the_selected_strip_and_adds_the_fix_as_a_strip_above(run_blender, tmp_path, exr):
    (src, src_files), (fix, fix_files), base = _shots(tmp_path, exr)
    res = run_blender(f'''
        scene = bpy.context.scene
        s = add_sequence("sh010", {str(src)!r}, {src_files!r}, channel=1, start=1)
        t = add_sequence("fix", {str(fix)!r}, {fix_files!r}, channel=2, start=2)
        s.select = t.select = True
        scene.sequence_editor.active_strip = s
        result["op"] = sorted(bpy.ops.matchcut.strip_learn({QUICK}))
        new = scene.sequence_editor.active_strip
        result["strips"] = [(x.name, x.channel, x.frame_final_start, x.frame_final_end)
                            for x in compat.strips_of(scene.sequence_editor)]
        result["dir"] = bpy.path.abspath(new.directory)
        result["last"] = bpy.context.window_manager.matchcut_last_result
        result["value"] = pixel(os.path.join(result["dir"], new.elements[5].filename))
    ''')
    assert res["op"] == ["FINISHED"], res
    assert res["strips"] == [["sh010", 1, 1, 7], ["fix", 2, 2, 5], ["sh010 learn", 3, 1, 7]]
    assert res["last"].startswith("done: model ") and "(held-out " in res["last"]
    model = Path(res["last"].split("done: model ")[1].split(" (")[0])
    assert model.name.startswith("sh010_learn_") and client_tools.model_ready(str(model / "model"))
    job = json.loads((model / "job.json").read_text())
    assert job["params"]["frames"] == "1002-1004" and job["params"]["resume"] is True and job["tool"] == "learn"
    written = sorted(p.name for p in Path(res["dir"]).glob("*.exr"))
    assert written == [f"sh010_apply.{f}.exr" for f in range(1001, 1007)]
    assert Path(res["dir"]).name == "sh010_learn_v001"
    assert json.loads((Path(res["dir"]) / "job.json").read_text())["params"] == {"model": str(model / "model")}
    assert sorted(p.name for p in src.iterdir()) == src_files  # the source is untouched


@pytest.mark.blender
def test_image_learn_trains_on_two_images_and_loads_the_fix_as_a_new_image(run_blender, tmp_path, exr):
    # one pair: its right 20 % is held out, so the image is wide enough for a crop there
    (src, _), (fix, _), base = _shots(tmp_path, exr, frames=[1003], fixed=[1003], size=(48, 128))
    res = run_blender(f'''
        a = bpy.data.images.load({str(src / "plate.1003.exr")!r})
        b = bpy.data.images.load({str(fix / "fix.1003.exr")!r})
        before = set(bpy.data.images.keys())
        result["op"] = sorted(bpy.ops.matchcut.image_learn(image=a.name, in_target=b.name, {QUICK}))
        new = [bpy.data.images[k] for k in bpy.data.images.keys() if k not in before]
        result["new"] = [(i.name, bpy.path.abspath(i.filepath)) for i in new]
        result["last"] = bpy.context.window_manager.matchcut_last_result
    ''')
    assert res["op"] == ["FINISHED"], res
    (name, path), = res["new"]
    assert Path(path).name == "plate.1003_apply.exr" and Path(path).is_file()
    assert res["last"].startswith("done: model ") and "image '" in res["last"]


MODAL = '''
import time
from matchcut_blender import interface
Tool = bpy.types.MATCHCUT_OT_strip_learn
class Probe(Tool):
    bl_idname = "matchcut.learn_probe"
    __annotations__ = dict(Tool.__annotations__)
    def execute(self, context):
        Probe.op = self
        return self.start_modal(context)
bpy.utils.register_class(Probe)
class Event:
    def __init__(self, type, value="PRESS"):
        self.type, self.value = type, value
def ticks(op, until, limit=180):
    deadline = time.time() + limit
    while time.time() < deadline:
        reply = op.modal(bpy.context, Event("TIMER"))
        if until(reply):
            return sorted(reply)
        time.sleep(0.05)
    return "no end"
'''


@pytest.mark.blender
def test_esc_keeps_the_checkpoint_and_learning_again_carries_on(run_blender, tmp_path, exr):
    (src, src_files), (fix, fix_files), base = _shots(tmp_path, exr)
    res = run_blender(MODAL + textwrap.dedent(f'''
        scene = bpy.context.scene
        s = add_sequence("sh010", {str(src)!r}, {src_files!r}, channel=1, start=1)
        t = add_sequence("fix", {str(fix)!r}, {fix_files!r}, channel=2, start=2)
        s.select = t.select = True
        scene.sequence_editor.active_strip = s
        settings = dict(p_steps=60, p_crop=16, p_batch=2, p_eval_every=5, p_threads=1)
        result["start"] = sorted(bpy.ops.matchcut.learn_probe(**settings))
        op = Probe.op
        ticks(op, lambda r: (op._monitor.state.step or 0) >= 3)
        result["esc"] = sorted(op.modal(bpy.context, Event("ESC")))
        result["end"] = ticks(op, lambda r: r != {{"PASS_THROUGH"}})
        result["stopped"] = op._monitor.state.step
        result["last"] = bpy.context.window_manager.matchcut_last_result
        result["strips"] = len(compat.strips_of(scene.sequence_editor))
        result["again"] = sorted(bpy.ops.matchcut.learn_probe(**settings))
        op = Probe.op
        # the training's end starts the model's run: the operator stays modal (RUNNING_MODAL) until that ends
        result["again_end"] = ticks(op, lambda r: r not in ({{"PASS_THROUGH"}}, {{"RUNNING_MODAL"}}))
        result["resumed"] = [line for line in op._trained.infos if "resumed at step" in line]
        result["after"] = bpy.context.window_manager.matchcut_last_result
        result["strips_after"] = len(compat.strips_of(scene.sequence_editor))
        del op
        Probe.op = None
        bpy.utils.unregister_class(Probe)
    '''))
    assert res["start"] == ["RUNNING_MODAL"] and res["esc"] == ["RUNNING_MODAL"], res
    assert res["end"] == ["CANCELLED"] and res["strips"] == 2 and 3 <= res["stopped"] < 60
    assert res["last"].startswith("cancelled: Matchcut learn: cancelled at step {}/60; the last good checkpoint is "
                                  "kept".format(res["stopped"]))
    folder = Path(res["last"].split(" in ")[-1])
    assert folder.name.startswith("sh010_learn_")
    assert res["again_end"] == ["FINISHED"] and res["strips_after"] == 3
    assert res["resumed"] and res["resumed"][0].startswith("resumed at step {} of 60".format(res["stopped"]))
    assert res["after"].startswith("done: model {} (".format(folder))
    versions = sorted(p.name for p in (tmp_path / "matchcut").iterdir() if "_v" in p.name)
    assert versions == ["sh010_learn_v001"]  # the cancelled training made no result folder
