"""Real Blender: cancel, a killed worker, errors, the Image Editor, temporal tools, preferences."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.blender, pytest.mark.zoo]

# Runs in Blender beside the operator: waits for the worker's first frame on disk, then signals the worker
# (found as a child process of Blender running `matchcut run`). It never touches bpy.
KILLER = '''
import glob, signal, threading, time
def _kill_worker_after_first_frame(root, sig):
    deadline = time.time() + 120
    while time.time() < deadline and not glob.glob(os.path.join(root, "*", "*.exr")):
        time.sleep(0.01)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % pid).read()
            cmd = open("/proc/%s/cmdline" % pid).read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and "run" in cmd.split("\\0"):
            os.kill(int(pid), sig)
            result["signalled"] = int(pid)
root = bpy.path.abspath("//matchcut")
threading.Thread(target=_kill_worker_after_first_frame, args=(root, SIGNAL), daemon=True).start()
'''


@pytest.mark.parametrize("sig, outcome", [("SIGINT", "cancelled"), ("SIGKILL", "error: the Matchcut worker was stopped by signal 9")])
def test_a_worker_stopped_mid_job_leaves_no_strip_and_no_files(run_blender, flat_sequence, tmp_path, sig, outcome):
    folder, files = flat_sequence(count=40, size=(256, 256))
    import textwrap

    setup = textwrap.dedent(f'''
        import signal
        SIGNAL = signal.{sig}
        scene = bpy.context.scene
        src = add_sequence("sh020", {str(folder)!r}, {files!r}, channel=1, start=1)
        scene.sequence_editor.active_strip = src
    ''')
    run = textwrap.dedent('''
        try:
            result["op"] = sorted(bpy.ops.matchcut.strip_apply_degrain_small())
        except RuntimeError as exc:
            result["error"] = str(exc)
        result["strips"] = [s.name for s in compat.strips_of(scene.sequence_editor)]
        result["last"] = bpy.context.window_manager.matchcut_last_result
    ''')
    res = run_blender(setup + KILLER + run)
    assert "signalled" in res, res
    assert res["strips"] == ["sh020"]
    assert res["last"].startswith(outcome)
    if sig == "SIGINT":
        assert res["op"] == ["CANCELLED"]
    else:
        assert "stopped by signal 9" in res["error"]
    leftovers = [p for p in (tmp_path / "matchcut").rglob("*")] if (tmp_path / "matchcut").exists() else []
    assert leftovers == []
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)  # the source is untouched


def test_a_missing_source_frame_is_reported_by_name(run_blender, flat_sequence, tmp_path):
    folder, files = flat_sequence()
    (folder / "plate.1004.exr").unlink()
    res = run_blender(f'''
        scene = bpy.context.scene
        src = add_sequence("sh030", {str(folder)!r}, {files!r}, channel=1, start=1)
        scene.sequence_editor.active_strip = src
        try:
            result["op"] = sorted(bpy.ops.matchcut.strip_apply_degrain_small())
        except RuntimeError as exc:
            result["error"] = str(exc)
        result["strips"] = len(compat.strips_of(scene.sequence_editor))
    ''')
    # the worker's one-line error, as Blender's report: the sequence and the missing frame
    assert "plate/plate.####.exr: missing frame(s) 1004" in res["error"], res
    assert len(res["error"].strip().splitlines()) == 1 and "Traceback" not in res["error"]
    assert res["strips"] == 1
    assert not list((tmp_path / "matchcut").rglob("*.exr"))


def test_no_active_strip_and_a_missing_reference_are_reported(run_blender, flat_sequence):
    folder, files = flat_sequence(count=3)
    res = run_blender(f'''
        scene = bpy.context.scene
        scene.sequence_editor_create()
        errors = []
        for call in (lambda: bpy.ops.matchcut.strip_apply_degrain_small(), lambda: bpy.ops.matchcut.strip_match()):
            try:
                call()
            except RuntimeError as exc:
                errors.append(str(exc))
            src = add_sequence("sh040", {str(folder)!r}, {files!r}, channel=1, start=1) if not errors[1:] and len(errors) == 1 else src
            scene.sequence_editor.active_strip = src
        result["errors"] = errors
    ''')
    assert "no active strip" in res["errors"][0]
    assert "needs a reference" in res["errors"][1]


def test_image_editor_apply_loads_the_result_as_a_new_image(run_blender, tmp_path, exr):
    still = tmp_path / "still.exr"
    exr(still, np.full((24, 32, 3), 0.25, np.float32))
    res = run_blender(f'''
        img = bpy.data.images.load({str(still)!r})
        before = set(bpy.data.images.keys())
        result["op"] = sorted(bpy.ops.matchcut.image_apply_degrain_small(image=img.name, p_strength=0.0))
        new = [bpy.data.images[k] for k in bpy.data.images.keys() if k not in before]
        result["new"] = [(i.name, bpy.path.abspath(i.filepath), list(i.size)) for i in new]
        result["value"] = pixel(bpy.path.abspath(new[0].filepath))[0]
    ''')
    assert res["op"] == ["FINISHED"]
    (name, path, size), = res["new"]
    assert size == [32, 24] and Path(path).name == "still_apply.exr"
    assert res["value"] == pytest.approx(0.25, abs=1e-3)
    assert json.loads((Path(path).parent / "job.json").read_text())["frames"] is None


def test_retime_half_speed_starts_where_the_source_starts(run_blender, flat_sequence):
    folder, files = flat_sequence(count=4, size=(32, 32))
    res = run_blender(f'''
        scene = bpy.context.scene
        src = add_sequence("sh050", {str(folder)!r}, {files!r}, channel=2, start=10)
        scene.sequence_editor.active_strip = src
        result["op"] = sorted(bpy.ops.matchcut.strip_retime(use_speed=True, p_speed=0.5))
        new = scene.sequence_editor.active_strip
        result["new"] = [new.channel, new.frame_final_start, new.frame_final_end, len(new.elements),
                         bpy.path.abspath(new.directory)]
    ''')
    assert res["op"] == ["FINISHED"]
    channel, start, end, n, folder_out = res["new"]
    assert channel == 3 and start == 10
    job = json.loads((Path(folder_out) / "job.json").read_text())
    assert job["params"]["speed"] == 0.5 and job["frames"] == "1001-1004"
    assert n == end - start and n >= 7  # twice the frames (the last one may be held or dropped)


def test_fill_gets_handles_from_the_frames_the_edit_does_not_show(run_blender, flat_sequence):
    folder, files = flat_sequence(count=10, size=(32, 32))
    res = run_blender(f'''
        scene = bpy.context.scene
        src = add_sequence("sh060", {str(folder)!r}, {files!r}, channel=1, start=1)
        src.frame_offset_start = 3   # shows 1004-1008; three frames before and two after are on disk
        src.frame_offset_end = 2
        scene.sequence_editor.active_strip = src
        result["op"] = sorted(bpy.ops.matchcut.strip_fill(handles=4))
        new = scene.sequence_editor.active_strip
        result["new"] = [new.channel, new.frame_final_start, new.frame_final_end, bpy.path.abspath(new.directory)]
        result["src"] = [src.frame_final_start, src.frame_final_end]
    ''')
    assert res["op"] == ["FINISHED"]
    job = json.loads((Path(res["new"][3]) / "job.json").read_text())
    assert job["frames"] == "1004-1008" and job["handles"] == 2
    assert res["new"][:3] == [2] + res["src"]


def test_send_to_farm_submits_the_job_and_reports_the_farms_job_id_adding_no_strip(run_blender, flat_sequence):
    folder, files = flat_sequence(count=4, size=(32, 32))
    res = run_blender(f'''
        scene = bpy.context.scene
        src = add_sequence("sh070", {str(folder)!r}, {files!r}, channel=2, start=10)
        scene.sequence_editor.active_strip = src
        farm = bpy.ops.matchcut.strip_retime.get_rna_type().properties["farm"]
        result["farms"], result["default"] = [i.identifier for i in farm.enum_items], farm.default
        result["op"] = sorted(bpy.ops.matchcut.strip_retime("INVOKE_DEFAULT", use_speed=True, p_speed=0.5,
                                                            send_to_farm=True, farm="openjd-local"))
        result["strips"] = [s.name for s in compat.strips_of(scene.sequence_editor)]
        result["last"] = bpy.context.window_manager.matchcut_last_result
    ''', env={"MATCHCUT_FARM": "deadline10"})
    assert res["farms"] == ["openjd-local", "deadline-cloud", "deadline10", "opencue"]
    assert res["default"] == "deadline10"  # the studio's farm, $MATCHCUT_FARM
    assert res["op"] == ["FINISHED"] and res["strips"] == ["sh070"]  # the farm writes the result, nothing is added
    assert res["last"].startswith("farm: openjd-local: job openjd-local:"), res["last"]
    bundle = Path(res["last"].split("job openjd-local:")[1])
    written = sorted(p.name for p in bundle.parent.glob("*.exr"))
    assert bundle.name == "job_farm" and len(written) >= 7  # half speed: the farm made twice the frames


def test_operators_come_from_the_worker_and_the_doctor_reports(run_blender):
    import subprocess
    import sys

    worker = Path(sys.executable).parent / "matchcut"
    tools = json.loads(subprocess.run([str(worker), "tools", "--json"], capture_output=True, text=True).stdout)
    res = run_blender('''
        result["ops"] = sorted(dir(bpy.ops.matchcut))
        result["doctor"] = sorted(bpy.ops.matchcut.doctor())
        p = bpy.context.preferences.addons["matchcut_blender"].preferences
        result["report"] = p.doctor_report
        props = bpy.ops.matchcut.strip_retime.get_rna_type().properties
        result["retime_props"] = {k: [props[k].type, getattr(props[k], "default", None)] for k in props.keys()
                                  if k.startswith(("p_", "use_"))}
    ''')
    assert tools["matchcut_tools"] == 2
    for name, entry in tools["tools"].items():  # every tool with a main input; a model-running one per model
        if any(i["role"] == "main" for i in entry["input_specs"]) and not any(c["ui"] == "model"
                                                                              for c in entry["controls"]):
            assert f"strip_{name}" in res["ops"] and f"image_{name}" in res["ops"]
    assert "strip_apply_degrain_small" in res["ops"] and "strip_continuity" in res["ops"]
    assert res["doctor"] == ["FINISHED"] and "Matchcut 0.1.0" in res["report"]
    assert res["retime_props"]["use_speed"] == ["BOOLEAN", False]
    assert res["retime_props"]["p_model"][0] == "ENUM"
    assert res["retime_props"]["p_depth"] == ["INT", 5]


def test_the_extension_zip_installs_and_registers(run_blender, tmp_path):
    import subprocess

    root = Path(__file__).resolve().parents[3]
    subprocess.run(["make", "-s", "blender-extension"], cwd=root, check=True, capture_output=True)
    zips = sorted((root / "build" / "blender").glob("matchcut-*.zip"))
    import zipfile

    names = zipfile.ZipFile(zips[-1]).namelist()
    assert {"client/__init__.py", "client/worker.py", "client/events.py", "client/jobs.py", "client/tools.py",
            "interface.py", "blender_manifest.toml"} <= set(names)
    assert "worker.py" not in names and "events.py" not in names  # the client's, not copies of it
    res = run_blender(f'''
        addon_utils.disable("matchcut_blender")
        bpy.ops.extensions.package_install_files(filepath={str(zips[-1])!r}, repo="user_default",
                                                 enable_on_install=True)
        result["enabled"] = [a.module for a in bpy.context.preferences.addons if "matchcut" in a.module]
        result["ops"] = sorted(dir(bpy.ops.matchcut))
    ''', env={"BLENDER_USER_RESOURCES": str(tmp_path / "user")})
    assert "bl_ext.user_default.matchcut" in res["enabled"]
    assert "strip_apply_degrain_small" in res["ops"]


def test_a_worker_of_another_version_says_which_side_to_update_and_registers_no_tools(run_blender, tmp_path):
    worker = tmp_path / "bin" / "matchcut"
    worker.parent.mkdir()
    worker.write_text("#!/bin/sh\necho '%s'\n" % json.dumps({"matchcut_tools": 99, "matchcut": "9.0", "tools": {}}))
    worker.chmod(0o755)
    res = run_blender('''
        from matchcut_blender import interface
        result["error"] = interface._state["error"]
        result["ops"] = [o for o in dir(bpy.ops.matchcut) if o.startswith(("strip_", "image_"))]
        try:
            bpy.ops.matchcut.reload_tools()
        except RuntimeError as exc:
            result["reload"] = str(exc)
    ''', env={"MATCHCUT_WORKER": str(worker)})
    assert res["error"] == ("the Matchcut worker 9.0 describes its tools in version 99, this adapter reads "
                            "version 2: update the adapter")
    assert res["ops"] == [] and res["error"] in res["reload"]
    assert "Traceback" not in res["reload"] and len(res["reload"].strip().splitlines()) == 1


# The modal path in real Blender. Background Blender has no event loop: bpy.ops(..., "INVOKE_DEFAULT") calls
# execute (it has no event), and no timer ever fires. So a registered subclass of the tool operator starts the
# modal path from execute (start_modal: the job, Blender's timer, modal handler and progress), and the script
# hands the operator instance Blender keeps the events a window would: TIMER ticks, Esc.
MODAL = '''
import time
from matchcut_blender import interface
Tool = bpy.types.MATCHCUT_OT_strip_apply_degrain_small
class Probe(Tool):
    bl_idname = "matchcut.modal_probe"
    __annotations__ = dict(Tool.__annotations__)
    def execute(self, context):
        Probe.op = self
        return self.start_modal(context)
bpy.utils.register_class(Probe)
shown = []
_show = interface.show_step
def recording_show(context, step):
    shown.append([step.percent, step.status])
    _show(context, step)  # the real window-manager progress and status-bar calls
interface.show_step = recording_show
class Event:
    def __init__(self, type, value="PRESS"):
        self.type, self.value = type, value
def ticks(op, until, limit=120):
    deadline = time.time() + limit
    while time.time() < deadline:
        reply = op.modal(bpy.context, Event("TIMER"))
        if until(reply):
            return sorted(reply)
        time.sleep(0.05)
    return "no end"
'''


@pytest.mark.parametrize("how", ["esc", "blender_cancels", "file_loaded", "finish"])
def test_the_modal_operator_follows_the_worker_and_esc_adds_nothing(run_blender, flat_sequence, tmp_path, how):
    folder, files = flat_sequence(count=40 if how != "finish" else 3, size=(256, 256) if how != "finish" else (24, 32))
    import textwrap

    res = run_blender(MODAL + textwrap.dedent(f'''
        scene = bpy.context.scene
        src = add_sequence("sh080", {str(folder)!r}, {files!r}, channel=1, start=1)
        scene.sequence_editor.active_strip = src
        result["start"] = sorted(bpy.ops.matchcut.modal_probe(p_strength=0.0))
        op = Probe.op
        result["running"] = len(interface._state["running"])
        how = {how!r}
        if how == "finish":
            result["end"] = ticks(op, lambda r: r != {{"PASS_THROUGH"}})
        else:
            ticks(op, lambda r: op._monitor.state.index >= 1)
            if how == "esc":
                result["esc"] = sorted(op.modal(bpy.context, Event("ESC")))
                result["end"] = ticks(op, lambda r: r != {{"PASS_THROUGH"}})
            elif how == "blender_cancels":
                op.cancel(bpy.context)
                result["end"] = "cancel() returns nothing"
            else:  # opening a file: Blender ends every modal operator through its cancel()
                monitor = op._monitor
                del op
                Probe.op = None
                bpy.ops.wm.open_mainfile(filepath=bpy.data.filepath)
                result["outcome"] = monitor.state.status
                result["worker"] = [monitor.run.process.returncode,
                                    os.path.exists("/proc/%d" % monitor.run.process.pid)]
                result["running_after"] = len(interface._state["running"])
                bpy.utils.unregister_class(Probe)
        result["shown"] = shown
        if how != "file_loaded":
            process = op._monitor.run.process
            result["worker"] = [process.returncode, os.path.exists("/proc/%d" % process.pid)]
            result["outcome"] = op._monitor.state.status
            result["timer_left"] = op._timer is not None
            result["running_after"] = len(interface._state["running"])
            result["strips"] = [(s.name, s.channel) for s in compat.strips_of(scene.sequence_editor)]
            result["last"] = bpy.context.window_manager.matchcut_last_result
            del op
            Probe.op = None
            bpy.utils.unregister_class(Probe)  # bpy 4.2 segfaults at exit with a script's operator class registered
    '''))
    assert res["start"] == ["RUNNING_MODAL"] and res["running"] == 1, res
    assert res["worker"][0] is not None and res["worker"][1] is False  # the worker process has ended
    assert not res.get("timer_left") and res["running_after"] == 0
    percents = [p for p, _ in res["shown"] if p is not None]
    assert percents[0] == 0 and percents == sorted(percents)
    statuses = [t for _, t in res["shown"] if t]
    assert statuses[0] == "Matchcut apply: starting the worker..."
    # a frame's line (a 3-frame job may end between two timer ticks: its end is the 100 above)
    assert how == "finish" or any(t.startswith("Matchcut apply: frame ") for t in statuses)
    results = tmp_path / "matchcut"
    if how == "finish":
        assert res["end"] == ["FINISHED"] and res["outcome"] == "done" and percents[-1] == 100
        assert res["strips"] == [["sh080", 1], ["sh080 degrain-small", 2]] and res["last"].startswith("done: strip")
        (version,) = results.iterdir()
        assert sorted(p.name for p in version.glob("*.exr")) == [f"sh080_apply.{f}.exr" for f in (1001, 1002, 1003)]
        return
    assert res["outcome"] == "cancelled"
    if how == "file_loaded":  # the file on disk was saved before the job: no strip was added to it either
        assert not results.exists() or list(results.rglob("*")) == []
        return
    assert res["last"] == "cancelled"
    if how == "esc":
        assert res["esc"] == ["RUNNING_MODAL"] and res["end"] == ["CANCELLED"]
        assert "Matchcut apply: cancelling" in statuses
    assert res["strips"] == [["sh080", 1]]  # no strip added
    assert not results.exists() or list(results.rglob("*")) == []  # no partial output
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)


def test_background_blender_runs_invoke_default_as_execute_and_strips_of_matches_the_version(run_blender):
    # What the docs say of background mode, checked: Blender has no event there, so INVOKE_DEFAULT (a menu
    # click's call) goes to execute, even with the window Blender keeps in the context; the tool operators'
    # synchronous path is what runs on a farm.
    res = run_blender('''
        calls = []
        class Probe(bpy.types.Operator):
            bl_idname = "matchcut.invoke_probe"
            bl_label = "probe"
            def invoke(self, context, event):
                calls.append("invoke")
                return {"FINISHED"}
            def execute(self, context):
                calls.append("execute")
                return {"FINISHED"}
        bpy.utils.register_class(Probe)
        bpy.ops.matchcut.invoke_probe("INVOKE_DEFAULT")
        with bpy.context.temp_override(window=bpy.context.window_manager.windows[0]):
            bpy.ops.matchcut.invoke_probe("INVOKE_DEFAULT")
        bpy.utils.unregister_class(Probe)
        result["calls"] = calls
        result["background"] = bpy.app.background
        result["version"] = list(bpy.app.version)
        editor = bpy.context.scene.sequence_editor_create()
        result["collection"] = "strips" if compat.strips_of(editor) == getattr(editor, "strips", None) else "sequences"
    ''')
    assert res["background"] and res["calls"] == ["execute", "execute"]
    assert res["version"] >= [4, 2, 0]
    assert res["collection"] == ("strips" if res["version"] >= [4, 4, 0] else "sequences")
