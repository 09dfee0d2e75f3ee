"""host.py against the strict fake `nuke` (tests/hosts/nuke/fake_nuke.py, whose names and signatures follow the
Nuke Python API reference and the types-nuke 13.2 stubs: nuke.nodes, Knob classes, execute(node, start, end,
incr), ProgressTask, addOnCreate/addKnobChanged/addUpdateUI/addBeforeRender, thisNode/thisKnob), with the real
worker (.venv/bin/matchcut) running real jobs on tiny EXRs. Rendering is the fake's part: nuke.execute copies the
upstream Read's frames to the Write's path, frame by frame, as a Write of a Read would."""
import json
import pathlib
import runpy
import shutil
import stat
import sys
import time

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
WORKER = ROOT / ".venv" / "bin" / "matchcut"
sys.path.insert(0, str(ROOT / "hosts" / "nuke"))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests/hosts: fake_tool

import fake_nuke  # noqa: E402
import fake_tool  # noqa: E402
from matchcut_nuke.client import jobs as cjobs, tools as ctools  # noqa: E402


def write_exr(path, pixels):
    import OpenImageIO as oiio
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    out = oiio.ImageOutput.create(str(path))
    out.open(str(path), oiio.ImageSpec(pixels.shape[1], pixels.shape[0], pixels.shape[2], "float"))
    out.write_image(pixels)
    out.close()


def read_exr(path):
    import OpenImageIO as oiio
    image = oiio.ImageInput.open(str(path))
    try:
        return image.read_image(oiio.FLOAT)
    finally:
        image.close()


@pytest.fixture(scope="module")
def descriptions():
    """The real worker's `matchcut tools --json`, asked once (each host reload would ask again)."""
    import subprocess
    return json.loads(subprocess.check_output([str(WORKER), "tools", "--json"], text=True))


@pytest.fixture
def bare_host(monkeypatch, tmp_path):
    """host.py on the fake `nuke`, a fresh session: no tools asked yet, an empty description cache."""
    monkeypatch.setitem(sys.modules, "nuke", fake_nuke)
    sys.modules.pop("matchcut_nuke.host", None)
    import matchcut_nuke.host as host
    fake_nuke.reset()
    fake_nuke.execute_hook = render_from_read
    monkeypatch.setattr(host, "CACHE_ROOT", str(tmp_path / "cache"))
    # the descriptions' cache (not MATCHCUT_CACHE_DIR: the worker finds its models there)
    monkeypatch.setattr(host.descriptions, "cache_dir", lambda: str(tmp_path / "descriptions"))
    monkeypatch.setenv("MATCHCUT_WORKER", str(WORKER))
    host.descriptions.refresh_descriptions()
    yield host, fake_nuke
    host.descriptions.refresh_descriptions()


def start_nuke():
    """What Nuke runs at start: init.py (the callbacks a farm needs too), then menu.py (GUI: the menu)."""
    for script in ("init.py", "menu.py"):
        runpy.run_path(str(ROOT / "hosts" / "nuke" / script))


@pytest.fixture
def host(bare_host, descriptions):
    host, nuke = bare_host
    host.descriptions._SESSION.update(tools=tools(descriptions), note="")  # the worker's real tools, asked once
    start_nuke()
    return host, nuke


def render_from_read(write, start, end):
    """What nuke.execute(Write) does for a Write fed by a Read: one file per frame at the Write's pattern."""
    frame_path = cjobs.frame_path
    source = write.input(0)
    for frame in range(start, end + 1):
        shutil.copyfile(frame_path(source["file"].value(), frame), frame_path(write["file"].value(), frame))


def plate_read(nuke, folder, name, frames, pixels):
    """Tiny EXR frames on disk and a Read node for them (first/last as Nuke sets them from the files)."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        write_exr(folder / f"{name}.{frame:04d}.exr", pixels(frame))
    return nuke.nodes.Read(name=name + "_read", file=str(folder / f"{name}.####.exr"), first=frames[0], last=frames[-1])


def moving_square(frame, h=48, w=64):
    image = np.zeros((h, w, 3), np.float32) + [0.1, 0.7, 0.1]
    image[12:36, 10 + 3 * (frame - 1001):30 + 3 * (frame - 1001)] = [0.6, 0.4, 0.3]
    return image


def grey(value):
    """A textured plate around ``value`` (a colour match needs picture content, not a flat colour)."""
    def pixels(frame):
        rng = np.random.default_rng(frame)
        ramp = np.linspace(0.5, 1.5, 64, dtype=np.float32)[None, :, None] * [1.0, 0.8, 0.6]
        return (value * ramp * (1 + 0.2 * rng.random((48, 64, 3)))).astype(np.float32)
    return pixels


def frames_on_disk(folder, prefix):
    return sorted(int(p.name.split(".")[-2]) for p in pathlib.Path(folder).glob(prefix + ".*.exr"))


def tools(descriptions):
    return ctools.tools_from(descriptions)


def fake_worker(tmp_path, lines, code=0, sleep=0.0):
    """A stand-in worker: prints ``lines`` (with ``sleep`` between) and, on SIGINT, a cancelled event and 130."""
    script = tmp_path / "fake_matchcut"
    body = "\n".join(f"print({line!r}, flush=True); time.sleep({sleep})" for line in lines)
    script.write_text(f"#!{sys.executable}\nimport signal, sys, time\n"
                      "signal.signal(signal.SIGINT, lambda *a: (print('{\"event\": \"cancelled\"}', flush=True), sys.exit(130)))\n"
                      f"{body}\nsys.exit({code})\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


# --- the node -------------------------------------------------------------------------------------------------

def test_create_node_builds_knobs_internals_and_hidden_state(host, descriptions):
    host, nuke = host
    group = host.create_node(tools(descriptions)["match"])
    assert group.name() == "Matchcut_match"
    assert isinstance(group["method"], nuke.Enumeration_Knob) and group["method"].value() == "mkl"
    assert isinstance(group["strength"], nuke.Double_Knob) and group["strength"].value() == 1.0
    # an optional control (default null) has an on/off switch and is sent as null while off
    assert group["reference_frame_enable"].value() is False and host.param_values(group, tools(descriptions)["match"])["reference_frame"] is None
    assert group.node("matchcut_mix")["which"]._expr == "parent.mix" and group["mix"].value() == 1.0
    assert group.node("matchcut_output")["which"]._expr == "parent.output" and group["output"].values() == ["main"]
    assert group.node("matchcut_valid")["which"].value() == 0  # nothing processed: the plate passes through
    assert group["status"].value() == "waiting: connect the plate and reference inputs"
    saved = json.loads(group[host.STATE_KNOB].value())
    assert saved["tool"] == "match" and saved["values"]["strength"] == 1.0 and saved["cache_key"] == ""
    assert group[host.STATE_KNOB].getFlag(nuke.INVISIBLE)


def test_process_renders_runs_the_real_worker_reads_result_and_caches(host, tmp_path, descriptions):
    host, nuke = host
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1003)
    group = host.create_node(tools(descriptions)["match"])
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", range(1001, 1004), grey(0.2)))
    group.setInput(1, plate_read(nuke, tmp_path / "src", "ref", range(1001, 1004), grey(0.4)))
    assert host.process(group, interactive=False), group["status"].value()
    assert [c[2:] for c in nuke.calls if c[0] == "execute"] == [(1001, 1003, 1), (1001, 1003, 1)]
    read = group.node("matchcut_read_main")
    assert read["file"].value().endswith("out_main.####.exr") and (read["first"].value(), read["last"].value()) == (1001, 1003)
    assert frames_on_disk(pathlib.Path(read["file"].value()).parent, "out_main") == [1001, 1002, 1003]
    assert group["status"].value() == "up to date (frames 1001-1003)" and group.node("matchcut_valid")["which"].value() == 1
    assert any(c[0] == "progress" for c in nuke.calls)
    nuke.calls.clear()
    assert host.process(group, interactive=False) and not [c for c in nuke.calls if c[0] == "execute"]  # cached


def test_process_shows_worker_one_line_error(host, tmp_path, monkeypatch, descriptions):
    host, nuke = host
    monkeypatch.setenv("MATCHCUT_WORKER", fake_worker(tmp_path, ['{"event": "error", "message": "plate.1001.exr: missing", "exit_code": 3}'], 3))
    group = host.create_node(tools(descriptions)["fill"])
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1], grey(0.2)))
    assert not host.process(group, 1, 1, interactive=True)
    assert group["status"].value() == "error: plate.1001.exr: missing" and ("message", "Matchcut: plate.1001.exr: missing") in nuke.calls
    assert group.node("matchcut_valid")["which"].value() == 0 and group["label"].value() == "ERROR"


def test_a_worker_that_dies_mid_job_says_so_with_its_last_stderr_lines(host, tmp_path, monkeypatch, descriptions):
    host, nuke = host
    lines = ["loading CUDA...", '{"event": "start", "total": 3}', '{"event": "frame", "frame": 1, "index": 1, "total": 3}']
    script = fake_worker(tmp_path, lines)
    text = pathlib.Path(script).read_text().replace("sys.exit(0)", "sys.stderr.write('CUDA error: out of memory\\n'); "
                                                                   "sys.stderr.flush(); os.kill(os.getpid(), 9)")
    pathlib.Path(script).write_text(text.replace("import signal,", "import os, signal,"))
    monkeypatch.setenv("MATCHCUT_WORKER", script)
    group = host.create_node(tools(descriptions)["fill"])
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1, 2, 3], grey(0.2)))
    assert not host.process(group, 1, 3, interactive=False)
    status = group["status"].value()
    assert status.startswith("error: the Matchcut worker was stopped by signal 9") and "CUDA error: out of memory" in status
    assert "\n" not in status and "loading CUDA" not in status  # stray stdout is shown only when stderr is empty
    assert group.node("matchcut_read_main")["file"].value() == "" and group["label"].value() == "ERROR"
    assert json.loads(group[host.STATE_KNOB].value())["cache_key"] == ""  # no result recorded


def test_no_worker_gives_the_one_line_error_naming_the_setting(host, tmp_path, monkeypatch, descriptions):
    host, nuke = host
    monkeypatch.setenv("MATCHCUT_WORKER", str(tmp_path / "nowhere" / "matchcut"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    group = host.create_node(tools(descriptions)["fill"])
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1], grey(0.2)))
    assert not host.process(group, 1, 1, interactive=False)
    assert group["status"].value().startswith("error: no Matchcut worker found") and "MATCHCUT_WORKER" in group["status"].value()


# --- 1. handles and retime numbering ----------------------------------------------------------------------

@pytest.mark.zoo
def test_retime_renders_tail_handle_and_reads_back_the_longer_result(host, tmp_path, descriptions, zoo_model):
    host, nuke = host
    zoo_model("rife-4.25")
    nuke.root()["first_frame"].setValue(1002)
    nuke.root()["last_frame"].setValue(1004)
    group = host.create_node(tools(descriptions)["retime"])
    assert group["handles"].value() == 1
    group["speed_enable"].setValue(True)
    group["speed"].setValue(0.5)
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", range(1001, 1006), moving_square))
    assert host.process(group, interactive=False), group["status"].value()
    # output starts where the input does: no head handle; the tail handle lets 1004 -> 1005 be interpolated
    assert [c[2:] for c in nuke.calls if c[0] == "execute"] == [(1002, 1005, 1)]
    read = group.node("matchcut_read_main")
    job = json.loads((pathlib.Path(read["file"].value()).parent / "job.json").read_text())
    assert job["frames"] == "1002-1005" and job["handles"] == 0 and job["params"]["speed"] == 0.5
    # 3 source steps at half speed: floor(3 / 0.5) + 1 = 7 frames, numbered 1002..1008
    assert [read[k].value() for k in ("first", "last", "origfirst", "origlast")] == [1002, 1008, 1002, 1008]
    assert frames_on_disk(pathlib.Path(read["file"].value()).parent, "out_main") == list(range(1002, 1009))
    assert read["before"].value() == "black" and read["after"].value() == "black"


@pytest.mark.zoo
def test_fill_renders_handles_both_sides_clamped_to_the_plate(host, tmp_path, descriptions, zoo_model):
    host, nuke = host
    zoo_model("rife-hdv3")
    nuke.root()["first_frame"].setValue(1002)
    nuke.root()["last_frame"].setValue(1004)
    group = host.create_node(tools(descriptions)["fill"])
    assert group["handles"].value() == 2
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", range(1001, 1006), moving_square))
    assert host.process(group, interactive=False), group["status"].value()
    # 1002-2 = 1000 is not on the plate (Nuke would hold 1001 and fill would take it for a duplicate): clamped
    assert [c[2:] for c in nuke.calls if c[0] == "execute"] == [(1001, 1005, 1)]
    read = group.node("matchcut_read_main")
    job = json.loads((pathlib.Path(read["file"].value()).parent / "job.json").read_text())
    assert job["frames"] == "1001-1005" and job["handles"] == 0
    assert (read["first"].value(), read["last"].value()) == (1001, 1005)
    assert frames_on_disk(pathlib.Path(read["file"].value()).parent, "out_main") == list(range(1001, 1006))


# --- 2. several outputs -----------------------------------------------------------------------------------

def test_matte_wires_every_output_with_foreground_first(host, tmp_path, descriptions):
    host, nuke = host
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1002)
    group = host.create_node(tools(descriptions)["matte"])
    assert group["output"].values() == ["foreground", "matte", "comp"] and group["output"].value() == "foreground"
    group["mode"].setValue("screen")
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1001, 1002], moving_square))
    group.setInput(1, plate_read(nuke, tmp_path / "src", "bg", [1001, 1002], grey(0.3)))
    assert host.process(group, interactive=False), group["status"].value()
    select = group.node("matchcut_output")
    for index, name in enumerate(["foreground", "matte", "comp"]):
        read = group.node("matchcut_read_" + name)
        assert select.input(index) is read and read["file"].value().endswith(f"out_{name}.####.exr")
        assert frames_on_disk(pathlib.Path(read["file"].value()).parent, "out_" + name) == [1001, 1002]
    matte = read_exr(pathlib.Path(group.node("matchcut_read_matte")["file"].value().replace("####", "1001")))
    assert matte.shape[:2] == (48, 64) and matte[24, 20, 0] > 0.9 and matte[2, 60, 0] < 0.1  # subject 1, screen 0
    group["output"].setValue("comp")
    assert group["output"].getValue() == 2.0  # the Switch's `parent.output` expression picks input 2


@pytest.mark.zoo
def test_relight_wires_main_and_passes(host, tmp_path, descriptions, zoo_model):
    host, nuke = host
    zoo_model("face-detection")
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1002)
    group = host.create_node(tools(descriptions)["relight"])
    assert group["output"].values() == ["main", "passes"] and group["output"].value() == "main"
    group["lights"].setValue(json.dumps([{"type": "directional", "direction": [-1, 0, 0.5], "intensity": 1}]))
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1001, 1002], moving_square))
    assert host.process(group, interactive=False), group["status"].value()
    for name in ("main", "passes"):
        read = group.node("matchcut_read_" + name)
        assert frames_on_disk(pathlib.Path(read["file"].value()).parent, "out_" + name) == [1001, 1002]
    assert read_exr(pathlib.Path(group.node("matchcut_read_passes")["file"].value().replace("####", "1001"))).shape[2] > 3


# --- 3. the Model node --------------------------------------------------------------------------------------

STUDIO = {"id": "studio-sharpen", "task": "image-to-image", "controls": [
    {"name": "amount", "type": "int", "default": 2, "min": 0, "max": 8, "label": "Amount", "help": "passes"}]}


@pytest.mark.zoo
def test_model_node_builds_knobs_from_the_manifest_and_switches_models(host, tmp_path, descriptions, zoo_model):
    host, nuke = host
    zoo_model("degrain-small")
    nuke.root()["first_frame"].setValue(1)
    nuke.root()["last_frame"].setValue(2)
    host.descriptions._MODELS[("models", "info", "studio-sharpen")] = STUDIO
    real_list = host.descriptions.ask_models(["models", "list"])
    host.descriptions._MODELS[("models", "list")] = {"models": real_list["models"] + [STUDIO]}
    apply = tools(descriptions)["apply"]
    group = host.create_node(apply, model="degrain-small")
    nuke.run_callbacks("onCreate", group)  # what a script load does: nothing changes for a current node
    assert group.name() == "Matchcut_Model" and group["model"].value() == "degrain-small"
    assert "studio-sharpen" in group["model"].values() and "face-detection" not in group["model"].values()
    assert isinstance(group["strength"], nuke.Double_Knob) and group["strength"].value() == 1.0 and group["strength"]._range == (0.0, 1.0)
    assert json.loads(group[host.MODEL_CONTROLS_KNOB].value()) == ["strength"]
    tool = host.tool_for(group)
    assert "strength" not in host.param_values(group, tool)  # the manifest's default is not sent
    group["strength"].setValue(0.5)
    assert host.param_values(group, tool) == {"model": "degrain-small", "tile": 0, "overlap": None, "strength": 0.5}
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1, 2], grey(0.3)))
    assert host.process(group, interactive=False), group["status"].value()
    job = json.loads((pathlib.Path(group.node("matchcut_read_main")["file"].value()).parent / "job.json").read_text())
    assert job["tool"] == "apply" and job["params"]["strength"] == 0.5
    group["model"].setValue("studio-sharpen")
    nuke.run_callbacks("knobChanged", group, group["model"])
    assert group.knob("strength") is None and isinstance(group["amount"], nuke.Int_Knob) and group["amount"].value() == 2
    assert json.loads(group[host.STATE_KNOB].value())["values"]["strength"] == 0.5  # kept for the way back
    assert group["status"].value() == host.node_status.STALE
    group["model"].setValue("degrain-small")
    nuke.run_callbacks("knobChanged", group, group["model"])
    assert group["strength"].value() == 0.5 and group.knob("amount") is None
    assert group["status"].value() == "up to date (frames 1-2)"


# --- 4. restoring from the state knob ---------------------------------------------------------------------

def test_on_create_restores_missing_and_changed_knobs_from_state_and_keeps_unknown_keys(host, descriptions):
    host, nuke = host
    match = tools(descriptions)["match"]
    group = host.create_node(match)
    group["strength"].setValue(0.3)
    group["method"].setValue("reinhard")
    group["reference_frame_enable"].setValue(True)
    group["reference_frame"].setValue(1010)
    group["handles"].setValue(3)
    host.save_state(group, match)
    # another version's node: strength and the switch gone, method a String knob, keys this version lacks
    saved = json.loads(group[host.STATE_KNOB].value())
    saved["values"]["old_control"] = 5
    saved["future_section"] = {"from": "Matchcut 9"}
    group[host.STATE_KNOB].setValue(json.dumps(saved))
    for name in ("strength", "reference_frame_enable", "handles"):
        group.removeKnob(group[name])
    group.removeKnob(group["method"])
    stray = nuke.String_Knob("method", "method")
    stray.setValue("reinhard")
    group.addKnob(stray)
    nuke.run_callbacks("onCreate", group)
    assert group["strength"].value() == 0.3 and group["handles"].value() == 3
    assert isinstance(group["method"], nuke.Enumeration_Knob) and group["method"].value() == "reinhard"
    assert group["reference_frame_enable"].value() is True and group["reference_frame"].value() == 1010
    after = json.loads(group[host.STATE_KNOB].value())
    assert after["values"]["old_control"] == 5 and after["future_section"] == {"from": "Matchcut 9"}
    assert after["values"]["strength"] == 0.3 and after["values"]["reference_frame"] == 1010


def test_restore_keeps_an_uninstalled_model_id_and_a_state_that_does_not_fit(host, descriptions):
    host, nuke = host
    host.descriptions._MODELS[("models", "list")] = {"models": []}
    group = host.create_node(tools(descriptions)["apply"], model="studio-gone")
    assert group["model"].value() == "studio-gone"
    saved = json.loads(group[host.STATE_KNOB].value())
    saved["values"]["tile"] = "not a number"
    group[host.STATE_KNOB].setValue(json.dumps(saved))
    group.removeKnob(group["tile"])
    nuke.run_callbacks("knobChanged", group, nuke.Knob("showPanel"))  # opening the panel restores too
    assert group["tile"].value() == 0 and group["model"].value() == "studio-gone"


# --- 5. stale -----------------------------------------------------------------------------------------------

def test_upstream_range_and_param_changes_make_the_result_stale_and_pass_the_plate(host, tmp_path, descriptions):
    host, nuke = host
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1002)
    match = tools(descriptions)["match"]
    group = host.create_node(match)
    plate = plate_read(nuke, tmp_path / "src", "plate", [1001, 1002], grey(0.2))
    group.setInput(0, plate)
    group.setInput(1, plate_read(nuke, tmp_path / "src", "ref", [1001, 1002], grey(0.4)))
    assert host.process(group, interactive=False)
    valid = group.node("matchcut_valid")["which"]
    assert valid.value() == 1 and group["tile_color"].value() == 0
    plate.setXYpos(500, 500)  # moving a node changes no pixel
    nuke.run_callbacks("updateUI", group)
    assert group["status"].value() == "up to date (frames 1001-1002)"
    plate["file"].setValue(str(tmp_path / "src" / "ref.####.exr"))  # an upstream edit
    nuke.run_callbacks("updateUI", group)
    assert group["status"].value() == host.node_status.STALE == "stale \u2014 press Process"
    assert valid.value() == 0 and group["label"].value() == "STALE" and group["tile_color"].value() == host.node_status.FLAG_COLOUR
    plate["file"].setValue(str(tmp_path / "src" / "plate.####.exr"))  # undo: the result fits again
    nuke.run_callbacks("updateUI", group)
    assert valid.value() == 1 and group["label"].value() == ""
    group["strength"].setValue(0.5)
    nuke.run_callbacks("knobChanged", group, group["strength"])
    assert group["status"].value() == host.node_status.STALE and valid.value() == 0
    assert json.loads(group[host.STATE_KNOB].value())["values"]["strength"] == 0.5
    group["strength"].setValue(1.0)
    nuke.root()["last_frame"].setValue(1003)
    nuke.run_callbacks("updateUI", group)
    assert group["status"].value() == host.node_status.STALE


def test_before_render_processes_stale_nodes_upstream_of_the_write(host, tmp_path, descriptions):
    host, nuke = host
    # init.py registered onCreate and beforeRender (they must run on a farm); menu.py the GUI ones and the menu
    assert [c[3] for c in nuke._callbacks["onCreate"]] == ["Group"] and len(nuke._callbacks["beforeRender"]) == 1
    assert [c[3] for c in nuke._callbacks["knobChanged"] + nuke._callbacks["updateUI"]] == ["Group", "Group"]
    assert nuke.menu("Nodes").items["Matchcut"]._commands() == ["Apply Model", "Continuity", "Coverage",
                                                                "Frame Fill", "Learn Fix", "Matte", "Relight",
                                                                "Retime", "Shot Match", "Refresh tools"]
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1002)
    group = host.create_node(tools(descriptions)["match"])
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1001, 1002], grey(0.2)))
    group.setInput(1, plate_read(nuke, tmp_path / "src", "ref", [1001, 1002], grey(0.4)))
    unrelated = host.create_node(tools(descriptions)["fill"])
    final = nuke.nodes.Write(name="final", file=str(tmp_path / "comp.####.exr"))
    final.setInput(0, group)
    nuke.run_callbacks("beforeRender", final)
    assert group["status"].value() == "up to date (frames 1001-1002)"
    assert unrelated["status"].value() == "waiting: connect the plate input"
    assert not [c for c in nuke.calls if c[0] == "message"]  # never interactive on a farm


def test_farm_button_sends_the_job_to_the_chosen_farm_and_the_node_shows_its_result(host, tmp_path, descriptions):
    host, nuke = host
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1003)
    group = host.create_node(tools(descriptions)["match"])
    assert group["farm"].values() == ["openjd-local", "deadline-cloud", "deadline10", "opencue"]
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", range(1001, 1004), grey(0.2)))
    group.setInput(1, plate_read(nuke, tmp_path / "src", "ref", range(1001, 1004), grey(0.4)))
    group["farm"].setValue("openjd-local")  # Open Job Description on this machine: the real worker, chunked
    line = host.send_to_farm(group, interactive=True)
    read = group.node("matchcut_read_main")
    folder = pathlib.Path(read["file"].value()).parent
    assert line == "openjd-local: job openjd-local:{}".format(folder / "job_farm")
    assert ("message", "Matchcut: " + line) in nuke.calls and [c[2:] for c in nuke.calls if c[0] == "execute"] == \
        [(1001, 1003, 1), (1001, 1003, 1)]
    assert frames_on_disk(folder, "out_main") == [1001, 1002, 1003] and (folder / "job_farm" / "template.json").is_file()
    assert group["status"].value() == "up to date (frames 1001-1003)" and group.node("matchcut_valid")["which"].value() == 1
    assert json.loads(group[host.STATE_KNOB].value())["values"]["farm"] == "openjd-local"


def test_farm_button_shows_the_job_id_until_the_farm_wrote_every_frame(host, tmp_path, monkeypatch, descriptions):
    host, nuke = host
    answer = {"farm": "deadline-cloud", "submitted": True, "job_id": "job-5d1f", "message": "submitted", "notes": []}
    monkeypatch.setenv("MATCHCUT_WORKER", fake_worker(tmp_path, [json.dumps(answer)]))
    nuke.root()["first_frame"].setValue(1)
    nuke.root()["last_frame"].setValue(3)
    group = host.create_node(tools(descriptions)["fill"])
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1, 2, 3], grey(0.2)))
    group["farm"].setValue("deadline-cloud")
    assert host.send_to_farm(group, interactive=False) == "deadline-cloud: job job-5d1f"
    assert group["status"].value() == "on the farm: deadline-cloud: job job-5d1f" and group["label"].value() == "FARM"
    read = group.node("matchcut_read_main")
    assert read["file"].value().endswith("out_main.####.exr")  # the Read waits for the farm's files
    assert group.node("matchcut_valid")["which"].value() == 0  # the plate passes through meanwhile
    for frame in (1, 2, 3):  # the farm's tasks write the frames
        shutil.copyfile(cjobs.frame_path(str(tmp_path / "src" / "plate.####.exr"), frame),
                        cjobs.frame_path(read["file"].value(), frame))
    assert host.refresh_status(group) == "up to date (frames 1-3)" and group.node("matchcut_valid")["which"].value() == 1
    refused = tmp_path / "refuse"
    refused.write_text("#!/bin/sh\necho \"matchcut: error: job.json: 'inputs.plate': /tmp/x is in a temporary folder\" >&2\nexit 3\n")
    refused.chmod(refused.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("MATCHCUT_WORKER", str(refused))
    group["handles"].setValue(1)  # another job: sent again
    assert host.send_to_farm(group, interactive=False) is None
    assert "is in a temporary folder" in group["status"].value() and group["label"].value() == "ERROR"
    written = {"farm": "deadline10", "submitted": False, "job_id": None, "notes": [],
               "message": "deadlinecommand is not on PATH; on a machine with Deadline run: deadlinecommand ..."}
    monkeypatch.setenv("MATCHCUT_WORKER", fake_worker(tmp_path, [json.dumps(written)]))
    assert host.send_to_farm(group, interactive=False) is None  # not sent: the node says what to run
    assert group["status"].value() == "error: deadline10: not submitted: " + written["message"]


def test_init_never_raises_without_nuke(monkeypatch):
    monkeypatch.setitem(sys.modules, "nuke", None)  # import nuke fails as on a machine without Nuke
    runpy.run_path(str(ROOT / "hosts" / "nuke" / "init.py"))
    runpy.run_path(str(ROOT / "hosts" / "nuke" / "menu.py"))


# --- 6. continuity ------------------------------------------------------------------------------------------

def test_continuity_regions_become_text_overlays_node_lines_and_a_sticky_note(host, tmp_path, descriptions):
    from matchcut.testing.planted import make_pair
    host, nuke = host
    pair = make_pair("astronaut", seed=0, size=(224, 288), changes=("paste", "recolour"))
    group = host.create_node(tools(descriptions)["continuity"])
    assert group["output"].values() == ["regions", "main", "patch"] and group["output"].value() == "regions"
    group["person"].setValue(False)
    group.setInput(0, plate_read(nuke, tmp_path / "src", "a", [1001, 1002, 1003], lambda f: pair.a))
    group.setInput(1, plate_read(nuke, tmp_path / "src", "b", [1010, 1011], lambda f: pair.b))
    assert host.process(group, interactive=False), group["status"].value()
    # A's last frame against B's first: one frame of each rendered
    assert [c[2:4] for c in nuke.calls if c[0] == "execute"] == [(1003, 1003), (1010, 1010)]
    saved = json.loads(group[host.STATE_KNOB].value())
    report = json.loads(pathlib.Path(saved["result"]["artifacts"]["json"]).read_text())
    found = report["comparisons"][0]["regions"]
    assert len(found) >= 1 and report["comparisons"][0]["b"]["frame"] == 1010
    texts = [n for n in group.nodes() if n.Class() == "Text2"]
    assert [t.name() for t in texts] == ["matchcut_region_{}".format(r["id"]) for r in found]
    x, y, w, h = found[0]["box"]
    assert texts[0]["box"].value() == [x, 224 - (y + h), x + w, 224 - y]
    assert texts[0]["message"].value() == "#{} {} ({}) {:.2f}".format(found[0]["id"], found[0]["category"],
                                                                    found[0]["on"], found[0]["score"])
    assert texts[0]["disable"]._expr == "!parent.show_regions"
    assert group.node("matchcut_regions").input(0) is texts[-1] and texts[0].input(0).Class() == "Input"
    lines = group["regions"].value().splitlines()
    assert len(lines) == len(found) and lines[0].startswith("#{} {}".format(found[0]["id"], found[0]["category"]))
    note = [n for n in nuke.allNodes("StickyNote")][0]
    assert note["label"].value().startswith("Continuity report: " + saved["result"]["artifacts"]["report"])
    assert note["label"].value().endswith(lines[-1]) and note.xpos() == group.xpos() + 120
    assert group["status"].value() == "up to date (frames 1010-1010)"


# --- 7. cancel ----------------------------------------------------------------------------------------------

def test_cancel_stops_the_real_worker_after_its_first_frame_and_leaves_no_partial_file(host, tmp_path, descriptions):
    host, nuke = host
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1120)
    group = host.create_node(tools(descriptions)["match"])
    frames = range(1001, 1121)
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", frames, grey(0.2)))
    group.setInput(1, plate_read(nuke, tmp_path / "src", "ref", frames, grey(0.4)))
    nuke.cancel_after_progress = 1  # the artist presses Cancel in the progress dialog after the first frame
    assert not host.process(group, interactive=False)
    assert group["status"].value() == host.node_status.CANCELLED and group["label"].value() == "CANCELLED"
    assert group.node("matchcut_valid")["which"].value() == 0
    assert group.node("matchcut_read_main")["file"].value() == ""  # no result Read wired
    folder = next((tmp_path / "cache" / group.name()).iterdir())
    written = frames_on_disk(folder, "out_main")
    assert 1 <= len(written) < len(frames)  # it stopped early
    leftovers = [p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(".exr") and p.name != "job.json"]
    assert leftovers == [] and not [p for p in folder.iterdir() if ".tmp" in p.name]
    for frame in written:  # every file there is whole
        assert read_exr(folder / f"out_main.{frame:04d}.exr").shape == (48, 64, 3)
    assert json.loads(group[host.STATE_KNOB].value())["cache_key"] == ""
    nuke.cancel_after_progress = None
    assert host.process(group, interactive=False)  # Process again resumes and finishes
    assert frames_on_disk(folder, "out_main") == list(frames)


def test_cancel_button_signals_the_worker_which_exits_cleanly(host, tmp_path, monkeypatch, descriptions):
    host, nuke = host
    lines = ['{"event": "start", "total": 50}'] + [f'{{"event": "frame", "frame": {f}, "fraction": {f / 50}}}' for f in range(1, 51)]
    monkeypatch.setenv("MATCHCUT_WORKER", fake_worker(tmp_path, lines, sleep=0.2))
    group = host.create_node(tools(descriptions)["fill"])
    group.setInput(0, plate_read(nuke, tmp_path / "src", "plate", [1], grey(0.2)))
    procs = []
    original = nuke.ProgressTask.setProgress

    def press_cancel(task, value):  # the artist presses the node's Cancel button while the job runs
        original(task, value)
        procs.append(host._RUNNING[group.name()])
        host.cancel(group)
        assert group["status"].value() == "cancelling"

    monkeypatch.setattr(nuke.ProgressTask, "setProgress", press_cancel)
    assert not host.process(group, 1, 1, interactive=False)
    assert procs and procs[0].process.returncode == 130  # the worker's SIGINT handler ran: a clean exit, not a kill
    assert group["status"].value() == host.node_status.CANCELLED and group.name() not in host._RUNNING


# --- 8. start-up, the menu and a tool no adapter knows -------------------------------------------------------

def script_worker(tmp_path, body):
    return fake_tool.worker_script(tmp_path, body)


def test_start_up_with_a_hung_worker_gives_the_menu_and_one_line_in_a_few_seconds(bare_host, tmp_path, monkeypatch):
    host, nuke = bare_host
    monkeypatch.setenv("MATCHCUT_WORKER", script_worker(tmp_path, "sleep 30"))
    start = time.monotonic()
    start_nuke()
    assert time.monotonic() - start < 8  # the client's start-up timeout is 5 s
    printed = [c[1] for c in nuke.calls if c[0] == "tprint"]
    assert len(printed) == 1 and "no answer in 5 s" in printed[0] and "\n" not in printed[0]
    assert nuke.menu("Nodes").items["Matchcut"]._commands() == ["Refresh tools"]
    assert len(nuke._callbacks["knobChanged"]) == 1 and len(nuke._callbacks["beforeRender"]) == 1
    # the worker is fixed: Refresh tools asks again and the menu fills
    monkeypatch.setenv("MATCHCUT_WORKER", str(WORKER))
    nuke.menu("Nodes").items["Matchcut"].items["Refresh tools"]()
    assert "Shot Match" in nuke.menu("Nodes").items["Matchcut"]._commands()
    assert not [c for c in nuke.calls if c[0] == "message"]


def test_a_worker_describing_version_99_says_update_the_adapter_in_the_menu(bare_host, tmp_path, monkeypatch):
    host, nuke = bare_host
    answer = json.dumps({"matchcut_tools": 99, "matchcut": "9.0", "tools": {}})
    monkeypatch.setenv("MATCHCUT_WORKER", script_worker(tmp_path, "echo '{}'".format(answer)))
    start_nuke()
    printed = [c[1] for c in nuke.calls if c[0] == "tprint"]
    assert len(printed) == 1 and printed[0].startswith("Matchcut: the Matchcut worker 9.0 describes its tools in version 99")
    assert "update the adapter" in printed[0]
    assert nuke.menu("Nodes").items["Matchcut"]._commands() == ["Refresh tools"]
    nuke.menu("Nodes").items["Matchcut"].items["Refresh tools"]()  # asked by the artist: a message too
    assert [c[1] for c in nuke.calls if c[0] == "message"][-1].endswith("update the adapter (Matchcut > Refresh tools asks again)")


def test_a_node_loaded_without_a_worker_gets_its_knobs_after_refresh(bare_host, tmp_path, monkeypatch, descriptions):
    host, nuke = bare_host
    host.descriptions._SESSION.update(tools=tools(descriptions), note="")
    group = host.create_node(tools(descriptions)["match"])
    group.removeKnob(group["strength"])  # as a script opened where the worker was missing keeps it
    host.descriptions.refresh_descriptions()
    monkeypatch.setenv("MATCHCUT_WORKER", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    start_nuke()
    nuke.run_callbacks("updateUI", group)
    assert group["status"].value().startswith("error: no Matchcut worker found")
    monkeypatch.setenv("MATCHCUT_WORKER", str(WORKER))
    nuke.menu("Nodes").items["Matchcut"].items["Refresh tools"]()
    assert group["strength"].value() == 1.0 and group["status"].value() == "waiting: connect the plate and reference inputs"


def test_a_tool_no_adapter_knows_appears_in_the_menu_and_makes_its_node(bare_host, tmp_path, monkeypatch):
    host, nuke = bare_host
    answer = tmp_path / "tools.json"
    answer.write_text(json.dumps(fake_tool.described()))
    monkeypatch.setenv("MATCHCUT_WORKER", script_worker(tmp_path, "cat {}".format(answer)))
    start_nuke()
    menu = nuke.menu("Nodes").items["Matchcut"]
    assert "Match Grain" in menu._commands() and not [c for c in nuke.calls if c[0] == "tprint"]
    group = menu.items["Match Grain"]()
    assert group.name() == "Matchcut_grain" and group[host.TOOL_KNOB].value() == "grain"
    assert isinstance(group["amount"], nuke.Double_Knob) and group["amount"].value() == 1.0
    assert isinstance(group["seed"], nuke.Int_Knob) and group["seed_enable"].value() is False
    assert isinstance(group["response"], nuke.Enumeration_Knob) and group["response"].values() == ["film", "digital"]
    assert [n.name() for n in group.nodes() if n.Class() == "Input"] == ["plate", "reference", "mask"]
    assert group["output"].values() == ["main", "grain"] and group["handles"].value() == 1
    assert group["status"].value() == "waiting: connect the plate and reference inputs"


def test_fake_rejects_wrong_api(host):
    host, nuke = host
    with pytest.raises(TypeError):
        nuke.Enumeration_Knob("m", "m", "lut cdl")
    with pytest.raises(AttributeError):
        nuke.nodes.NoSuchNode()
    with pytest.raises(KeyError):
        nuke.nodes.Read()["filename"]
    with pytest.raises(ValueError):
        nuke.nodes.Read()["before"].setValue("freeze")
    with pytest.raises(ValueError):
        nuke.ProgressTask("x").setProgress(0.5)


# --- 9. learn a fix: Train on the corrected frames, Apply makes a Model node -------------------------------------

def corrected(frame):
    """The artist's fix of ``grey(0.3)``'s frame: warmer (red up, blue down), as a grade would do it."""
    return grey(0.3)(frame) * np.array([1.25, 1.0, 0.8], np.float32)


def learn_node(host, nuke, tmp_path, descriptions, steps=20, targets=(1002, 1003, 1004)):
    """A Learn Fix node on a 6-frame Source (1001-1006) and a Target Read holding the corrected ``targets``."""
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1006)
    group = host.create_node(tools(descriptions)["learn"])
    for name, value in (("steps", steps), ("crop", 32), ("batch", 2), ("eval_every", 10), ("threads", 1)):
        group[name].setValue(value)
    source = plate_read(nuke, tmp_path / "src", "plate", list(range(1001, 1007)), grey(0.3))
    target = plate_read(nuke, tmp_path / "fix", "fix", list(targets), corrected)
    group.setInput(0, source)
    group.setInput(1, target)
    return group, source


def test_learn_trains_on_targets_frames_shows_its_figures_and_apply_makes_a_model_node(host, tmp_path, descriptions):
    host, nuke = host
    group, source = learn_node(host, nuke, tmp_path, descriptions)
    assert group.name() == "Matchcut_learn" and group["process"].label() == "Train" and group.knob("resume") is None
    assert group["output"].values() == ["source"] and group.knob("apply_model") is not None
    assert host.apply_model(group, interactive=False) is None  # nothing trained yet: the node says so
    assert group["status"].value() == "error: no trained model for these inputs and settings yet: press Train first"
    assert host.process(group, interactive=False), group["status"].value()
    # only the corrected frames of Source and Target were rendered
    assert [c[2:4] for c in nuke.calls if c[0] == "execute"] == [(1002, 1004), (1002, 1004)]
    folder = next((tmp_path / "cache" / group.name()).iterdir())
    job = json.loads((folder / "job.json").read_text())
    assert job["params"]["frames"] == "1002-1004" and job["params"]["resume"] is True and job["frames"] is None
    saved = json.loads(group[host.STATE_KNOB].value())
    figures = saved["result"]["training"]
    assert figures["step"] == 20 and figures["psnr"] is not None and figures["loss"] > 0
    assert group["status"].value().startswith("trained (frames 1002-1004): held-out ")
    assert group["label"].value().startswith("step 20/20\nloss ") and " dB" in group["label"].value()
    assert group.node("matchcut_valid")["which"].value() == 1 and group["tile_color"].value() == 0
    model_folder = saved["result"]["models"]["model"]
    assert model_folder == str(folder / "model") and sorted(p.suffix for p in (folder / "model").glob("learned-*")) \
        == [".onnx", ".toml"]
    # Apply: a new Model node on the same Source, running the trained folder; the Learn node stays as it is
    model = host.apply_model(group, interactive=False)
    assert model is not None, group["status"].value()
    assert model.name() == "Matchcut_Model" and model["model"].value() == model_folder
    assert model.input(0) is source and group.input(0) is source and json.loads(group[host.STATE_KNOB].value()) == saved
    assert model.xpos() == group.xpos() + 150 and model["status"].value() == host.node_status.NOT_PROCESSED
    assert host.process(model, interactive=False), model["status"].value()
    out = pathlib.Path(model.node("matchcut_read_main")["file"].value())
    assert frames_on_disk(out.parent, "out_main") == list(range(1001, 1007))
    result = read_exr(cjobs.frame_path(str(out), 1006))  # a frame nobody corrected: the fix carries over
    assert result.shape == (48, 64, 3)
    if figures["best_step"]:  # the training beat doing nothing on the held-out part: so does the shot's frame
        goal = corrected(1006)
        assert np.abs(result - goal).mean() < np.abs(grey(0.3)(1006) - goal).mean()


def test_learn_cancel_keeps_the_checkpoint_and_train_again_carries_on(host, tmp_path, descriptions, monkeypatch):
    host, nuke = host
    group, _ = learn_node(host, nuke, tmp_path, descriptions, steps=60)
    states = []
    original = host.run_worker
    monkeypatch.setattr(host, "run_worker", lambda *a: states.append(original(*a)) or states[-1])
    nuke.cancel_after_progress = 20  # the artist presses Cancel in the progress dialog at step 12 of 60
    assert not host.process(group, interactive=False)
    stopped = states[-1].step
    assert states[-1].status == "cancelled" and 12 <= stopped < 60
    assert group["status"].value() == ("cancelled \u2014 press Train (stopped at step {}/60; the last good checkpoint "
                                       "is kept: Train carries on from it)".format(stopped))
    assert group["label"].value() == "CANCELLED" and group.node("matchcut_valid")["which"].value() == 0
    folder = next((tmp_path / "cache" / group.name()).iterdir())
    assert (folder / "model" / ".learn" / "checkpoint.pt").is_file() and not list((folder / "model").glob("*.toml"))
    nuke.cancel_after_progress = None
    assert host.process(group, interactive=False), group["status"].value()
    assert any("resumed at step {} of 60".format(stopped) in line for line in states[-1].infos), states[-1].infos
    assert group["status"].value().startswith("trained (frames 1002-1004)")


def test_learn_node_shows_the_step_loss_and_psnr_while_it_trains(host, tmp_path, monkeypatch, descriptions):
    host, nuke = host
    lines = ['{"event": "start", "total": 0}'] + [
        '{{"event": "step", "step": {0}, "steps": 4, "fraction": {1}, "loss": 0.05{2}}}'.format(
            s, s / 4, ', "psnr": 31.24, "psnr_before": 27.91, "best_step": {}'.format(s) if s % 2 == 0 else "")
        for s in range(1, 5)] + ['{"event": "done", "artifacts": {}}']
    monkeypatch.setenv("MATCHCUT_WORKER", fake_worker(tmp_path, lines, sleep=0.3))  # one poll sees each step
    group, _ = learn_node(host, nuke, tmp_path, descriptions)
    seen = []
    monkeypatch.setattr(nuke.ProgressTask, "setMessage", lambda task, text: seen.append(text))
    original = host.set_status
    monkeypatch.setattr(host, "set_status", lambda g, text: (seen.append(text), original(g, text)))
    host.process(group, interactive=False)
    assert "Learn Fix: step 1/4, loss 0.05" in seen
    assert "Learn Fix: step 2/4, loss 0.05, held-out 31.2 dB (untouched 27.9 dB)" in seen
    assert "training: step 4/4, loss 0.05, held-out 31.2 dB (untouched 27.9 dB)" in seen
    # the fake wrote no model: the node says so rather than showing a result
    assert group["status"].value().startswith("error: the worker reported success but wrote no model in ")
    assert group["label"].value() == "ERROR"


# --- a tool that stands on an edit: the Coverage node -------------------------------------------------------

@pytest.mark.zoo
@pytest.mark.slow
def test_coverage_node_renders_every_hole_once_and_shows_the_chosen_proposal(host, tmp_path, zoo_model):
    from matchcut.testing.productions import make_production

    host, nuke = host
    for model in ("rife-hdv3", "rife-4.25", "waifu2x-photo-2x"):
        zoo_model(model)
    prod = make_production(tmp_path / "production", size=(96, 160))
    group = nuke.menu("Nodes").items["Matchcut"].items["Coverage"]()  # the menu's command makes the node
    assert group.name() == "Matchcut_coverage" and group.inputs() == 0
    assert group["status"].value().startswith("waiting: set the Timeline file")
    group["timeline"].setValue(str(prod.timeline))
    group["media"].setValue(str(prod.media))
    group["quality"].setValue("preview")
    group["compare"].setValue(False)
    group["range"].setValue("0-33")  # Nuke has no In/Out: the record frames typed in (holes 1 and 2)
    assert host.process(group, interactive=False), group["status"].value()
    assert not [c for c in nuke.calls if c[0] == "execute"]  # nothing to render: the edit's file is read as it is
    folder = next((tmp_path / "cache" / group.name()).iterdir())
    data = json.loads((folder / "coverage.json").read_text())
    assert [h["index"] for h in data["holes"]] == [1, 2]
    first = data["holes"][0]["proposals"]
    read = group.node("matchcut_read_proposal")
    assert read["file"].value() == first[0]["rendered"]["pattern"]
    assert (read["first"].value(), read["last"].value()) == (1001, first[0]["rendered"]["last"])
    assert group["proposal"].values()[0].endswith("(best)") and len(group["proposal"].values()) == len(first)
    assert group["status"].value() == "up to date (frames 1001-{})".format(first[0]["rendered"]["last"])
    assert group.node("matchcut_valid")["which"].value() == 1 and "hole 1 (gap" in group["proposal_note"].value()
    nuke.calls.clear()
    group["proposal"].setValue(1)  # another of the hole's proposals: its Read, no new run
    nuke.run_callbacks("knobChanged", group, group["proposal"])
    assert read["file"].value() == first[1]["rendered"]["pattern"]
    group["hole"].setValue(2)  # another hole: its menu and its best
    nuke.run_callbacks("knobChanged", group, group["hole"])
    second = data["holes"][1]["proposals"]
    assert read["file"].value() == second[0]["rendered"]["pattern"]
    assert group["proposal"].values()[0] == "1: {} {:.0f}/100 (best)".format(second[0]["label"], second[0]["score"])
    assert not [c for c in nuke.calls if c[0] in ("progress", "execute")]
    saved = json.loads(group[host.STATE_KNOB].value())
    assert saved["values"]["hole"] == 2 and saved["values"]["timeline"] == str(prod.timeline)
    assert group["status"].value().startswith("up to date")
    prod.timeline.write_text(prod.timeline.read_text().replace("coverage demo", "coverage demo v2"))
    host.refresh_status(group)  # a new export of the edit: stale, nothing shown
    assert group["status"].value() == host.node_status.STALE and group.node("matchcut_valid")["which"].value() == 0
