"""The Blender adapter's plain modules (no Blender): strip timing, jobs, events, tools, the worker."""

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

HOST = Path(__file__).resolve().parents[3] / "hosts" / "blender"
WORKER = str(Path(sys.executable).parent / "matchcut")


def _package():
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


strips, jobs, events, tools, worker, monitor = (_mod(n) for n in ("strips", "jobs", "events", "tools", "worker",
                                                                   "monitor"))


def test_host_code_parses_as_python_39_and_imports_no_bpy_outside_interface():
    for path in HOST.glob("*.py"):
        tree = ast.parse(path.read_text(), feature_version=(3, 9))
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level}
        if path.name != "interface.py":
            assert "bpy" not in names, path.name
    assert "bpy" not in sys.modules


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


def test_format_frames_and_free_channel():
    assert strips.format_frames([1001, 1002, 1003, 1007, 1009, 1010]) == "1001-1003,1007,1009-1010"
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


def test_build_job_is_a_valid_matchcut_job(tmp_path):
    from matchcut.jobs.spec import job_from_dict

    tool = tools.parse_tools(json.loads(subprocess.run([WORKER, "tools", "--json"], capture_output=True,
                                                        text=True).stdout))["apply"]
    outputs = jobs.output_patterns(tool, str(tmp_path), "sh010")
    job = jobs.build_job("apply", {"plate": "/show/sh010/plate.####.exr"}, outputs, [1003, 1004, 1005], 0,
                         {"model": "degrain-small"}, device="GPU", precision="fp16")
    spec = job_from_dict(job, tmp_path)
    assert spec.frames == [1003, 1004, 1005] and spec.device.provider == "cuda" and spec.device.precision == "fp16"
    assert outputs == {"main": str(tmp_path / "sh010_apply.####.exr")}
    with pytest.raises(ValueError, match="absolute"):
        jobs.build_job("apply", {"plate": "plate.####.exr"}, outputs)
    path = jobs.write_job(job, str(tmp_path))
    assert json.loads(Path(path).read_text()) == job and [p.name for p in tmp_path.iterdir()] == ["job.json"]


def test_result_placement_lines_up_and_trims_handles():
    use = strips.StripUse([1003, 1004, 1005], 2, 103, 2, 3)
    assert jobs.result_placement(use, [1001, 1002, 1003, 1004, 1005, 1006], False) == (101, 2, 1)
    assert jobs.result_placement(use, [1003, 1004, 1005], False) == (103, 0, 0)
    assert jobs.result_placement(use, list(range(1, 7)), True) == (103, 0, 0)  # retimed: starts at the cut


def test_read_continuity_labels(tmp_path):
    data = {"matchcut_continuity": 1, "comparisons": [{"regions": [
        {"id": 1, "box": [1, 2, 3, 4], "score": 0.8234, "category": "wardrobe", "on": "person", "area": 12},
        {"id": 2, "box": [1, 2, 3, 4], "score": 0.5, "category": "x" * 80, "on": "set", "area": 12}]}]}
    (tmp_path / "c.json").write_text(json.dumps(data))
    plans = jobs.read_continuity(str(tmp_path / "c.json"))
    assert plans[0][2] == "#1 wardrobe (person) 0.82" and len(plans[1][2]) == 63


def test_job_state_follows_the_events():
    s = events.JobState()
    for line in ['{"event": "start", "total": 4}', "not json", '{"event": "frame", "frame": 1002, "index": 2, "total": 4}',
                 '{"event": "warning", "message": "clipped", "frame": 1002}',
                 '{"event": "done", "frames_written": 4, "artifacts": {"report": "/r"}}']:
        s.feed(line)
    assert s.fraction == 1.0 and s.outcome == "done" and s.artifacts == {"report": "/r"}
    assert s.warnings == ["frame 1002: clipped"]
    s.process_ended(0)
    assert s.outcome == "done"
    s = events.JobState()
    assert s.status_text("apply") == "Matchcut apply: starting"
    s.feed('{"event": "start", "total": 4}')
    assert s.status_text("apply") == "Matchcut apply: 4 frame(s) to do"
    s.feed('{"event": "frame", "frame": 5, "index": 1, "total": 4, "fraction": 0.25}')
    assert s.status_text("apply") == "Matchcut apply: frame 5 (1/4, 25%)"
    s.process_ended(-9)
    assert s.outcome == "error" and "signal 9" in s.message
    s = events.JobState()
    s.feed('{"event": "error", "message": "a.exr: missing\\n frame 3", "exit_code": 4}')
    s.process_ended(4)
    assert s.outcome == "error" and s.message == "a.exr: missing frame 3" and s.exit_code == 4


def test_property_plans_from_controls():
    c = tools.parse_control({"name": "speed", "type": "float", "default": None, "min": 0.01, "max": 100.0,
                             "label": "Speed"}, "t")
    plan = tools.property_plan(c)
    assert [p[0] for p in plan] == ["use_speed", "p_speed"] and plan[1][2]["default"] == 1.0
    choice = tools.parse_control({"name": "m", "type": "choice", "default": "b", "choices": ["a", "b"]}, "t")
    (_, kind, opts), = tools.property_plan(choice)
    assert kind == "enum" and opts["default"] == "b" and [i[0] for i in opts["items"]] == ["a", "b"]
    colour = tools.parse_control({"name": "bg", "type": "color", "default": [0, 1, 0]}, "t")
    assert tools.property_plan(colour)[0][1:] == ("color", {"name": "bg", "description": "bg",
                                                            "default": (0.0, 1.0, 0.0), "size": 3})
    params = tools.params_from([c, choice, colour], {"use_speed": False, "p_speed": 2.0, "p_m": "a",
                                                     "p_bg": (0.1, 0.2, 0.3)})
    assert params == {"m": "a", "bg": [0.1, 0.2, 0.3]}
    assert tools.params_from([c], {"use_speed": True, "p_speed": 2.0}) == {"speed": 2.0}
    with pytest.raises(ValueError, match="unknown type"):
        tools.parse_control({"name": "x", "type": "matrix"}, "tool 'q'")


def test_real_tools_description_parses_and_names_the_inputs():
    data = worker.query(WORKER, ["tools", "--json"])
    parsed = tools.parse_tools(data)
    assert "apply" in parsed and tools.runnable(parsed["apply"])
    if "match" in parsed:
        assert tools.secondary_inputs(parsed["match"])[0] == "reference"
    if "continuity" in parsed:
        assert tools.main_input(parsed["continuity"]) == "b" and tools.secondary_inputs(parsed["continuity"]) == ["a"]
    if "matte" in parsed:  # written as channel A alone: Blender reads it into alpha
        assert tools.alpha_only(parsed["matte"], "matte") and not tools.alpha_only(parsed["matte"], "foreground")
    if "relight" in parsed:
        assert "passes" not in tools.output_names(parsed["relight"], passes=False)
        assert "passes" in tools.output_names(parsed["relight"], passes=True)
    assert tools.image_models(worker.query(WORKER, ["models", "list", "--json"])) == ["degrain-small"]


def test_light_from_properties():
    values = {"light_type": "spot", "light_color": (1, 0.5, 0.25), "light_intensity": 2, "light_direction": (0, 0, 1),
              "light_position": (0.1, 0.2, 0.9), "light_cone": 30, "light_softness": 0.2, "light_size": 1}
    assert tools.light_from(values) == {"type": "spot", "color": [1.0, 0.5, 0.25], "intensity": 2.0,
                                        "position": [0.1, 0.2, 0.9], "cone": 30.0, "softness": 0.2}
    assert tools.pass_socket_name("N") == "normals" and tools.pass_socket_name("matte") == "matte"


def test_find_worker(tmp_path, monkeypatch):
    monkeypatch.delenv("MATCHCUT_WORKER", raising=False)
    assert worker.find_worker(WORKER) == WORKER
    assert worker.find_worker(str(Path(WORKER).parent.parent)) == WORKER  # a venv folder
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(worker.WorkerError, match="no Matchcut worker found .*preferences"):
        worker.find_worker(str(tmp_path / "nowhere"))
    monkeypatch.setenv("MATCHCUT_WORKER", WORKER)
    assert worker.find_worker("") == WORKER


def test_query_reports_the_workers_error_line(tmp_path):
    with pytest.raises(worker.WorkerError, match="models info no-such-model"):
        worker.query(WORKER, ["models", "info", "no-such-model", "--json"])


def _frames(folder, n, size=256):
    import OpenImageIO as oiio

    folder.mkdir()
    for f in range(1, n + 1):
        out = oiio.ImageOutput.create(str(folder / f"p.{f:04d}.exr"))
        out.open(str(folder / f"p.{f:04d}.exr"), oiio.ImageSpec(size, size, 3, "half"))
        out.write_image(np.full((size, size, 3), f / n, np.float32))
        out.close()


@pytest.mark.zoo
def test_job_run_reads_progress_and_cancels_cleanly(tmp_path):
    _frames(tmp_path / "src", 40)
    out = tmp_path / "out"
    out.mkdir()
    job = jobs.build_job("apply", {"plate": str(tmp_path / "src" / "p.####.exr")},
                         {"main": str(out / "r.####.exr")}, list(range(1, 41)), 0, {"model": "degrain-small"})
    run = worker.JobRun(WORKER, jobs.write_job(job, str(out)))
    deadline = time.time() + 120
    while run.state.index < 1 and time.time() < deadline:
        run.poll(timeout=0.2)
    assert run.state.total == 40 and 0 < run.state.fraction < 1
    state = run.cancel()
    assert state.outcome == "cancelled" and state.finished
    written = sorted(p.name for p in out.iterdir() if p.name != "job.json")
    assert all(n.startswith("r.") and n.endswith(".exr") for n in written)  # whole frames only, no temporaries
    assert 0 < len(written) < 40


# --- the modal operator's logic (monitor.JobMonitor) against the real worker ---------------------------------

def _monitored_job(tmp_path, n=40, size=256, drop=None):
    """A real ``matchcut run`` of degrain-small on ``n`` frames into a version folder, under a JobMonitor."""
    _frames(tmp_path / "src", n, size)
    if drop:
        (tmp_path / "src" / f"p.{drop:04d}.exr").unlink()
    folder = jobs.new_version_folder(str(tmp_path / "results"), "sh010", "apply")
    job = jobs.build_job("apply", {"plate": str(tmp_path / "src" / "p.####.exr")},
                         jobs.output_patterns(tools.ToolSpec("apply", "", ["plate"], ["main"], {}, False, []),
                                              folder, "sh010"),
                         list(range(1, n + 1)), 0, {"model": "degrain-small"})
    return monitor.JobMonitor(worker.JobRun(WORKER, jobs.write_job(job, folder)), "apply", folder), folder


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
    assert first == ("RUNNING_MODAL", 0, "Matchcut apply: starting", False, None)
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
    assert end.outcome == "error" and "missing frame(s) 3" in mon.state.message
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
