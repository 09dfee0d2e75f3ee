"""Plain modules of the Nuke adapter: plans, cache keys, state, knob specs, the menu and descriptions (no Nuke
needed). The worker client they use (matchcut_nuke.client) is tested in tests/hosts/client."""
import ast
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
HERE = pathlib.Path(__file__).resolve().parent
WORKER = ROOT / ".venv" / "bin" / "matchcut"
sys.path.insert(0, str(ROOT / "hosts" / "nuke"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # tests/hosts: fake_tool

import fake_tool  # noqa: E402
from matchcut_nuke import (cache, descriptions, graph, job_plan, knobs, node_status, regions, state,  # noqa: E402
                           timing)
from matchcut_nuke.client import farm as cfarm, jobs as cjobs, tools as ctools, worker as cworker  # noqa: E402


def describe(name, inputs=(("plate", "main", True),), outputs=(("main", "plate"),), controls=(), primary=("main",),
             frameless=False, handles=0, handles_before=True, retimes=False, label=""):
    """A tool description as `matchcut tools --json` gives it (version 2), from short tuples: inputs
    (name, role, required[, frames_param]), outputs (name, kind[, needs])."""
    input_specs = [{"name": i[0], "role": i[1], "required": i[2], "label": i[0].title(), "help": "", "pick": False,
                    "frames_param": i[3] if len(i) > 3 else "", "flag": ""} for i in inputs]
    output_specs = [{"name": o[0], "kind": o[1], "label": o[0].title(), "help": "", "needs": list(o[2]) if len(o) > 2 else [],
                     "extra": False, "flag": ""} for o in outputs]
    return {"name": name, "label": label or name.title(), "category": "color", "description": "",
            "inputs": [i["name"] for i in input_specs if i["role"] != "edit"],
            "optional_inputs": [i["name"] for i in input_specs if not i["required"] and i["role"] != "edit"],
            "input_specs": input_specs, "outputs": [o["name"] for o in output_specs],
            "output_kinds": {o["name"]: o["kind"] for o in output_specs}, "output_specs": output_specs,
            "primary_outputs": list(primary), "artifacts": [],
            "timing": {"handles": handles, "handles_before": handles_before, "retimes": retimes},
            "frameless": frameless, "controls": [dict({"ui": ""}, **c) for c in controls]}


MATCH = describe("match", inputs=(("plate", "main", True), ("reference", "still", True, "reference_frame"),
                                  ("mask", "frames", False)), controls=[
    {"name": "strength", "type": "float", "default": 1.0, "min": 0, "max": 1},
    {"name": "reference_frame", "type": "int", "default": None, "ui": "host"}], label="Shot Match")
APPLY = describe("apply", controls=[{"name": "model", "type": "string", "default": "", "ui": "model"}],
                 label="Apply Model")
CONTINUITY = describe("continuity", frameless=True, primary=("main",),
                      inputs=(("a", "shot", True, "frames_a"), ("b", "main", True, "frames_b"), ("timeline", "edit", False)),
                      outputs=(("report", "report"), ("json", "json"), ("main", "plate", ["param:patch"]),
                               ("patch", "pass", ["param:patch"])),
                      controls=[{"name": "frames_a", "type": "string", "default": "", "ui": "host"},
                                {"name": "frames_b", "type": "string", "default": "", "ui": "host"},
                                {"name": "patch", "type": "int", "default": None, "ui": "followup"}])
FILL = describe("fill", handles=2, label="Frame Fill")
RETIME = describe("retime", handles=1, handles_before=False, retimes=True,
                  controls=[{"name": "speed", "type": "float", "default": None}])
MATTE = describe("matte", inputs=(("plate", "main", True), ("background", "frames", False)), primary=("comp", "foreground"),
                 outputs=(("foreground", "plate"), ("matte", "matte"), ("comp", "plate", ["input:background", "param:background_color"])),
                 controls=[{"name": "background_color", "type": "color", "default": None}])


make_script = fake_tool.worker_script


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """No session answers, an empty description cache, no worker on PATH unless a test sets MATCHCUT_WORKER."""
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))  # where descriptions.cache_dir is
    monkeypatch.delenv("MATCHCUT_WORKER", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # the shell's tools, no matchcut
    descriptions.refresh_descriptions()
    yield
    descriptions.refresh_descriptions()


@pytest.fixture(scope="module")
def real_tools():
    """The real worker's tools ({name: tool}), asked once."""
    return ctools.tools_from(cworker.query(str(WORKER), ["tools", "--json"]))


def test_plan_files_job_is_read_by_the_worker_spec(tmp_path):
    from matchcut.jobs import spec as spec_module  # the worker's own reader checks the job a node writes
    from matchcut_nuke.client import jobs as cjobs
    plan = job_plan.plan_job(FILL, {}, 1002, 1004, 2, {"plate": (1001, 1010)}, "u")
    files = job_plan.plan_files(FILL, str(tmp_path), plan, ["plate"])
    path = cjobs.write_json_atomic(str(tmp_path / "job.json"), files["job"])
    data = json.loads(pathlib.Path(path).read_text())
    assert data["matchcut_job"] == spec_module.SUPPORTED_VERSIONS[-1] and data["frames"] == "1001-1006"  # clamped to the plate
    spec = spec_module.load_job(path)
    assert spec.tool == "fill" and spec.frames == list(range(1001, 1007)) and spec.handles == 0


def test_cache_key_changes_with_each_input_and_folder_stays_inside(tmp_path):
    base = cache.cache_key("match", "abc", 1, 10, {"strength": 1.0})
    assert base == cache.cache_key("match", "abc", 1, 10, {"strength": 1.0})
    others = {cache.cache_key("match", "abd", 1, 10, {"strength": 1.0}), cache.cache_key("match", "abc", 1, 11, {"strength": 1.0}),
              cache.cache_key("match", "abc", 1, 10, {"strength": 0.5}), cache.cache_key("relight", "abc", 1, 10, {"strength": 1.0})}
    assert base not in others and len(others) == 4
    assert cache.is_stale("", base) and cache.is_stale(next(iter(others)), base) and not cache.is_stale(base, base)
    folder = cache.cache_folder(str(tmp_path), "../../etc", base)
    assert folder.startswith(str(tmp_path) + "/")


def test_state_survives_round_trip_and_garbage_and_keeps_unknown_keys():
    text = state.dump_state("match", {"strength": 0.5, "mode": "lut"}, "k1", {"first": 1}, {"future": [1, 2]})
    assert state.load_state(text) == {"tool": "match", "values": {"strength": 0.5, "mode": "lut"}, "cache_key": "k1",
                                      "result": {"first": 1}, "extra": {"future": [1, 2]}}
    assert state.load_state("{not json") == {"tool": "", "values": {}, "cache_key": "", "result": {}, "extra": {}}
    assert state.load_state('["x"]')["values"] == {}
    assert state.merge_values({"old": 5, "strength": 0.5}, {"strength": 0.7}) == {"old": 5, "strength": 0.7}


def test_pick_frame_for_continuity():
    assert timing.pick_frame("", 1048, last=True) == 1048
    assert timing.pick_frame("1040-1048", 0, last=True) == 1048 and timing.pick_frame("1001-1008", 0, last=False) == 1001
    assert timing.pick_frame("1001,1005-1010", 0, last=True) == 1010
    with pytest.raises(ValueError, match="abc"):
        timing.pick_frame("abc", 0, last=True)


def test_param_and_restore_values():
    specs = {s["name"]: s for s in knobs.knob_specs([
        {"name": "speed", "type": "float", "default": None, "min": 0.01, "max": 100},
        {"name": "screen_color", "type": "color", "default": None}, {"name": "depth", "type": "int", "default": 5, "min": 1, "max": 8},
        {"name": "ensemble", "type": "choice", "default": "1", "choices": ["1", "2", "4"]}])}
    assert knobs.param_value(specs["speed"], 0.01, enabled=False) is None and knobs.param_value(specs["speed"], 0.5) == 0.5
    assert knobs.param_value(specs["screen_color"], 0.2) == [0.2, 0.2, 0.2]  # Nuke's single-value colour
    assert knobs.param_value(specs["depth"], 4.0) == 4 and knobs.param_value(specs["ensemble"], "2") == "2"
    assert knobs.restore_value(specs["depth"], 9) is None and knobs.restore_value(specs["depth"], 3) == 3
    assert knobs.restore_value(specs["ensemble"], "8") is None and knobs.restore_value(specs["depth"], "x") is None
    assert knobs.knob_default(specs["speed"]) == 0.01 and knobs.knob_default(specs["screen_color"]) == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="mix"):
        knobs.knob_specs([{"name": "mix", "type": "float"}])


def test_nuke_box_turns_a_top_left_box_bottom_left():
    assert regions.nuke_box([32, 155, 41, 43], 224) == [32, 26, 73, 69]


def test_knob_specs_map_control_types():
    specs = knobs.knob_specs([{"name": "mode", "type": "choice", "choices": ["lut", "cdl"], "default": "lut"},
                              {"name": "strength", "type": "float", "min": 0, "max": 1, "default": 1.0, "help": "mix"},
                              {"name": "weird", "type": "tensor"}])
    assert [s["knob"] for s in specs] == ["Enumeration_Knob", "Double_Knob", "String_Knob"]
    assert specs[0]["choices"] == ["lut", "cdl"] and specs[1]["tooltip"] == "mix" and specs[2]["label"] == "weird"


def test_host_code_parses_with_python_39_grammar():
    for path in (ROOT / "hosts" / "nuke").rglob("*.py"):
        ast.parse(path.read_text(), feature_version=(3, 9))


def test_knob_specs_inputs_and_outputs_from_the_real_worker_tools_json(real_tools):
    tools = real_tools
    specs = {s["name"]: s for s in knobs.knob_specs(tools["apply"]["controls"])}
    assert specs["model"]["knob"] == "String_Knob" and specs["tile"]["knob"] == "Int_Knob" and specs["tile"]["min"] == 0
    assert specs["overlap"]["optional"] and not specs["tile"]["optional"]
    for tool in tools.values():  # no control takes an adapter knob's name
        knobs.knob_specs(tool["controls"])
    assert knobs.tool_outputs(tools["matte"]) == ["foreground", "matte", "comp"]
    assert knobs.tool_outputs(tools["relight"]) == ["main", "passes"] and knobs.tool_outputs(tools["retime"]) == ["main"]
    assert knobs.tool_outputs(tools["continuity"]) == ["regions", "main", "patch"]
    assert knobs.tool_inputs(tools["continuity"]) == ["a", "b"] and knobs.passthrough_input(tools["continuity"]) == 1
    assert knobs.required_inputs(tools["match"]) == ["plate", "reference"]
    assert knobs.tool_inputs(tools["match"]) == ["plate", "reference", "mask"] and knobs.passthrough_input(tools["match"]) == 0
    assert knobs.node_name(tools["apply"]) == "Matchcut_Model" and knobs.node_name(tools["match"]) == "Matchcut_match"
    handles = {name: {s["name"]: s for s in knobs.adapter_specs(t, {})}.get("handles", {}).get("value")
               for name, t in tools.items()}
    assert handles["fill"] == 2 and handles["retime"] == 1 and handles["match"] == 0 and handles["continuity"] is None
    merged = ctools.with_model_controls(tools["apply"], {"id": "m", "controls": [
        {"name": "tile", "type": "int"}, {"name": "amount", "type": "float", "default": 1.0}]})
    assert [c["name"] for c in merged["controls"]] == ["model", "tile", "overlap", "amount"] and merged["model"] == "m"


def test_matte_asks_its_comp_only_with_a_background_plate_or_colour(real_tools, tmp_path):
    matte = real_tools["matte"]
    for connected, params, outputs in ((["plate"], {"background_color": None}, ["foreground", "matte"]),
                                       (["plate"], {"background_color": [0, 0, 1]}, ["foreground", "matte", "comp"]),
                                       (["plate", "background"], {}, ["foreground", "matte", "comp"])):
        plan = job_plan.plan_job(matte, params, 1, 2, 0, {name: (1, 2) for name in connected}, "u")
        assert list(job_plan.plan_files(matte, str(tmp_path), plan, connected)["outputs"]) == outputs


# --- a tool no adapter knows, start-up and the worker's versions ------------------------------------------

def test_a_tool_no_adapter_knows_appears_from_its_description_alone(tmp_path, monkeypatch, fresh):
    answer = tmp_path / "tools.json"
    answer.write_text(json.dumps(fake_tool.described()))
    monkeypatch.setenv("MATCHCUT_WORKER", make_script(tmp_path, "cat {}".format(answer)))
    entries, message = descriptions.menu_entries()
    assert message == "" and "Match Grain" in [label for label, _ in entries]
    assert [label for label, _ in entries] == sorted((label for label, _ in entries), key=str.lower)
    grain = dict(entries)["Match Grain"]
    specs = {s["name"]: s for s in descriptions.tool_specs(grain)}
    amount = specs["amount"]
    assert amount["knob"] == "Double_Knob" and amount["default"] == 1.0 and (amount["min"], amount["max"]) == (0.0, 4.0)
    assert specs["seed"]["knob"] == "Int_Knob" and specs["seed"]["optional"]
    assert knobs.enable_spec(specs["seed"])["name"] == "seed_enable"
    assert specs["response"]["knob"] == "Enumeration_Knob" and specs["response"]["choices"] == ["film", "digital"]
    assert knobs.tool_inputs(grain) == ["plate", "reference", "mask"]
    assert knobs.required_inputs(grain) == ["plate", "reference"]
    assert knobs.tool_outputs(grain) == ["main", "grain"] and knobs.node_name(grain) == "Matchcut_grain"
    adapter = {s["name"]: s for s in knobs.adapter_specs(grain, {})}
    assert adapter["handles"]["value"] == 1 and adapter["output"]["choices"] == ["main", "grain"]
    with pytest.raises(job_plan.InputMissing, match="connect the reference input"):
        job_plan.check_inputs(grain, ["plate"])
    params = knobs.job_params(grain, {"amount": (2.0, True), "seed": (7, False), "response": ("digital", True)})
    assert params == {"amount": 2.0, "seed": None, "response": "digital"}
    plan = job_plan.plan_job(grain, params, 1001, 1003, 1, {"plate": (1000, 1010), "reference": (1001, 1001)}, "u")
    assert plan["frames"] == plan["result"] == (1000, 1004) and plan["renders"]["reference"] == (1000, 1004)
    files = job_plan.plan_files(grain, str(tmp_path / "run"), plan, ["plate", "reference"])
    assert list(files["outputs"]) == ["main", "grain"] and files["job"]["tool"] == "grain"
    assert files["job"]["frames"] == "1000-1004" and set(files["job"]["inputs"]) == {"plate", "reference"}
    nodes = [s["knobs"].get("name") for s in graph.internal_nodes(grain)]
    assert nodes[:3] == ["plate", "reference", "mask"] and {"matchcut_read_main", "matchcut_read_grain"} <= set(nodes)


def test_start_up_with_a_hung_worker_gives_a_one_line_error_in_a_few_seconds(tmp_path, monkeypatch, fresh):
    monkeypatch.setenv("MATCHCUT_WORKER", make_script(tmp_path, "sleep 30"))
    start = time.monotonic()
    entries, message = descriptions.menu_entries()
    assert time.monotonic() - start < ctools.STARTUP_TIMEOUT + 3
    assert entries == [] and "no answer in 5 s" in message and "Refresh tools" in message and "\n" not in message
    start = time.monotonic()  # the failure is kept: a node callback does not wait again
    with pytest.raises(cworker.WorkerError, match="no answer"):
        descriptions.describe_tool("match")
    assert time.monotonic() - start < 1


@pytest.mark.parametrize("answer, says", [
    ({"matchcut_tools": 99, "matchcut": "9.0", "tools": {}}, "update the adapter"),
    ({"matchcut_tools": 1, "matchcut": "0.0.9", "tools": {}}, "update the worker environment"),
    ({"match": {"name": "match"}}, "older than this adapter"),  # the first format had no version at all
])
def test_a_worker_of_another_version_says_which_side_to_update(tmp_path, monkeypatch, fresh, answer, says):
    monkeypatch.setenv("MATCHCUT_WORKER", make_script(tmp_path, "echo '{}'".format(json.dumps(answer))))
    entries, message = descriptions.menu_entries()
    assert entries == [] and says in message and "\n" not in message


def test_descriptions_are_cached_on_disk_per_worker_and_refresh_asks_again(tmp_path, monkeypatch, fresh):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("MATCHCUT_WORKER", make_script(tmp_path, 'echo "$@" >> {}\nexec {} "$@"'.format(log, WORKER)))
    first, _ = descriptions.menu_entries()
    descriptions.refresh_descriptions()  # a new Nuke session: the disk cache answers
    again, _ = descriptions.menu_entries()
    assert [label for label, _ in again] == [label for label, _ in first] and "Shot Match" in dict(first)
    assert log.read_text().count("tools --json") == 1
    assert list((tmp_path / "cache" / "nuke").glob("tools-*.json"))
    descriptions.menu_entries(refresh=True)
    assert log.read_text().count("tools --json") == 2


PROBE = """
import json, os, runpy, sys
sys.path.insert(0, sys.argv[1])
import matchcut_nuke.client.tools as t
from matchcut_nuke import descriptions
entries, message = descriptions.menu_entries()
sys.path.append(sys.argv[2])  # then Nuke (the fake) runs the folder's init.py and menu.py
import fake_nuke
sys.modules["nuke"] = fake_nuke
runpy.run_path(os.path.join(sys.argv[1], "init.py"))
runpy.run_path(os.path.join(sys.argv[1], "menu.py"))
print(json.dumps({"labels": [label for label, _ in entries], "message": message, "client": t.__file__,
                  "menu": fake_nuke.menu("Nodes").items["Matchcut"]._commands(),
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("matchcut", "numpy"))}))
"""


def test_the_assembled_folder_runs_with_the_standard_library_alone(tmp_path):
    out = tmp_path / "nuke_path"
    subprocess.run([str(WORKER), "hosts", "build", "nuke", "--out", str(out)], check=True, capture_output=True)
    assert (out / "matchcut_nuke" / "client" / "worker.py").is_file() and (out / "menu.py").is_file()
    env = dict(os.environ, MATCHCUT_WORKER=str(WORKER), MATCHCUT_CACHE_DIR=str(tmp_path / "cache"))
    # -I -S: no site-packages, no PYTHONPATH, no current folder: the standard library and the built folder only
    done = subprocess.run([sys.executable, "-I", "-S", "-c", PROBE, str(out), str(HERE)], capture_output=True,
                          text=True, env=env, cwd=str(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["message"] == "" and "Shot Match" in found["labels"] and found["modules"] == []
    assert found["client"].startswith(str(out)) and found["menu"] == found["labels"] + ["Refresh tools"]


# --- decisions moved out of host.py: each on plain data ----------------------------------------------------

def test_node_digest_is_the_upstream_hash_of_class_knob_scripts_and_inputs():
    base = cache.node_digest("Read", {"file": "'a.exr'", "first": "1"}, [None])
    assert base == cache.node_digest("Read", {"first": "1", "file": "'a.exr'"}, [None])  # knob order does not count
    others = {cache.node_digest("Blur", {"file": "'a.exr'", "first": "1"}, [None]),
              cache.node_digest("Read", {"file": "'b.exr'", "first": "1"}, [None]),
              cache.node_digest("Read", {"file": "'a.exr'", "first": "1"}, ["abc"]),
              cache.node_digest("Read", {"file": "'a.exr'", "first": "1"}, [])}
    assert base not in others and len(others) == 4 and len(base) == 64
    assert cache.join_upstream({"reference": "r1", "plate": "p1"}) == "plate:p1|reference:r1"
    assert "xpos" in cache.UI_KNOBS and "file" not in cache.UI_KNOBS


def test_default_cache_root_follows_the_core(tmp_path):
    assert cache.default_root({"MATCHCUT_CACHE_DIR": str(tmp_path)}) == str(tmp_path / "nuke")
    assert cache.default_root({}).endswith("/.cache/matchcut/nuke")


def test_job_params_and_saved_values_from_knob_readings():
    tool = ctools.with_model_controls(APPLY, {"id": "m", "controls": [{"name": "amount", "type": "int", "default": 2}]})
    readings = {"model": ("m", True), "amount": (2.0, True)}
    assert knobs.job_params(tool, readings) == {"model": "m"}  # a model control at its default is not sent
    assert knobs.job_params(tool, dict(readings, amount=(3.0, True))) == {"model": "m", "amount": 3}
    assert knobs.job_params(MATCH, {"strength": (0.5, True), "reference_frame": (1010, False)}) == \
        {"strength": 0.5, "reference_frame": None}
    assert knobs.job_params(MATCH, {}) == {}  # a control without a knob is left out
    assert knobs.saved_values(tool, readings, {"mix": 0.5}) == {"model": "m", "amount": 2, "mix": 0.5}


def test_start_value_enable_spec_and_knob_fits():
    specs = {s["name"]: s for s in knobs.knob_specs(MATCH["controls"] + [
        {"name": "mode", "type": "choice", "choices": ["lut", "cdl"], "default": "lut"}])}
    assert knobs.start_value(specs["strength"]) == 1.0 and knobs.start_value(specs["strength"], 0.3) == 0.3
    assert knobs.start_value(specs["mode"], "gone") is None and knobs.start_value(specs["mode"]) == "lut"
    assert knobs.start_value(specs["reference_frame"]) == 0  # optional: its minimum, or 0, and switched off
    enable = knobs.enable_spec(specs["reference_frame"])
    assert enable["name"] == "reference_frame_enable" and enable["knob"] == "Boolean_Knob"
    assert knobs.knob_fits(specs["mode"], "Enumeration_Knob", ["lut", "cdl"], False)
    assert not knobs.knob_fits(specs["mode"], "Enumeration_Knob", ["lut"], False)  # another menu
    assert not knobs.knob_fits(specs["mode"], "String_Knob", [], False)
    assert knobs.knob_fits(specs["reference_frame"], "Int_Knob", [], True)
    assert not knobs.knob_fits(specs["reference_frame"], "Int_Knob", [], False)  # its switch is missing


def test_adapter_specs_per_tool_and_from_saved_values():
    names = [s["name"] for s in knobs.adapter_specs(MATCH, {})]
    assert names == ["matchcut", "matchcut_tool", "handles", "output", "mix", "status", "process", "cancel",
                     "farm", "farm_submit", "matchcut_state"]
    fill = {s["name"]: s for s in knobs.adapter_specs(FILL, {})}
    assert fill["handles"]["value"] == 2 and "before and after" in fill["handles"]["tooltip"]
    assert "after (this tool" in {s["name"]: s for s in knobs.adapter_specs(RETIME, {})}["handles"]["tooltip"]
    assert fill["handles"]["value"] == 2 and fill["output"]["value"] == "main" and fill["mix"]["value"] == 1.0
    assert fill["matchcut_tool"]["hidden"] and fill["status"]["text"] == node_status.NOT_PROCESSED
    saved = {s["name"]: s for s in knobs.adapter_specs(MATTE, {"handles": 3, "output": "comp", "mix": 0.5})}
    assert saved["handles"]["value"] == 3 and saved["output"]["value"] == "comp" and saved["mix"]["value"] == 0.5
    assert {s["name"]: s for s in knobs.adapter_specs(MATTE, {"output": "gone"})}["output"]["value"] == "foreground"
    cont = {s["name"]: s for s in knobs.adapter_specs(CONTINUITY, {"show_regions": False})}
    assert "handles" not in cont and cont["show_regions"]["value"] is False and "regions" in cont
    assert [s["name"] for s in knobs.adapter_specs(APPLY, {})][-1] == "model_controls"
    # the farm menu starts at the saved farm, else $MATCHCUT_FARM's (client.farm.default_farm)
    farm = {s["name"]: s for s in knobs.adapter_specs(FILL, {"farm": "opencue"})}["farm"]
    assert farm["knob"] == "Enumeration_Knob" and farm["choices"] == list(cfarm.FARMS) and farm["value"] == "opencue"
    assert {s["name"]: s for s in knobs.adapter_specs(FILL, {"farm": "gone"})}["farm"]["value"] == cfarm.default_farm()
    assert "farm" in knobs.SAVED_ADAPTER_KNOBS and "farm" not in knobs.watched_knobs(FILL)  # no result changes
    assert set(knobs.ADAPTER_KNOBS) >= {s["name"] for s in knobs.adapter_specs(APPLY, {}) if s["knob"] != "Tab_Knob"}


def test_model_menu_node_name_watched_knobs_and_control_names():
    specs = knobs.offer_models(knobs.knob_specs(APPLY["controls"]), ["a", "b"], "gone", "model")
    assert specs[0]["knob"] == "Enumeration_Knob" and specs[0]["choices"] == ["a", "b", "gone"] and specs[0]["default"] == "gone"
    assert knobs.offer_models(knobs.knob_specs(APPLY["controls"]), ["a"], None, "model")[0]["default"] == "a"
    assert knobs.offer_models(knobs.knob_specs(APPLY["controls"]), [], None, "model")[0]["choices"] == [""]
    assert knobs.node_name(APPLY) == "Matchcut_Model" and knobs.node_name(MATCH) == "Matchcut_match"
    watched = knobs.watched_knobs(MATCH)
    assert {"strength", "reference_frame_enable", "handles", "inputChange"} <= watched and "xpos" not in watched
    tool = ctools.with_model_controls(APPLY, {"id": "m", "controls": [{"name": "amount", "type": "int", "default": 2}]})
    assert knobs.decode_control_names(knobs.encode_control_names(tool)) == ["amount"]
    assert knobs.decode_control_names("{broken") == [] and knobs.decode_control_names("") == []


def test_update_state_keeps_unknown_values_and_replaces_only_what_is_given():
    text = state.dump_state("match", {"old": 5, "strength": 0.5}, "k1", {"first": 1}, {"future": 1})
    after = state.load_state(state.update_state(text, "match", {"strength": 0.7}))
    assert after == {"tool": "match", "values": {"old": 5, "strength": 0.7}, "cache_key": "k1", "result": {"first": 1},
                     "extra": {"future": 1}}
    run = {"key": "k2", "status": "cancelled", "message": ""}
    after = state.load_state(state.update_state(text, "match", {}, "k2", {"first": 2}, last_run=run))
    assert after["cache_key"] == "k2" and after["result"] == {"first": 2} and after["extra"] == {"future": 1, "last_run": run}
    assert state.load_state(state.update_state("", "fill", {"handles": 2}))["values"] == {"handles": 2}


def test_status_up_to_date_stale_cancelled_error_and_not_processed(tmp_path):
    first = tmp_path / "out.0001.exr"
    first.write_bytes(b"x")
    result = {"first": 1, "last": 3, "files": {"main": str(first)}}
    saved = state.load_state(state.dump_state("match", {}, "k1", result))
    assert node_status.assess_result(saved, "k1") == ("up to date (frames 1-3)", True, "")
    assert node_status.assess_result(saved, "k2") == (node_status.STALE, False, "STALE")
    first.unlink()  # a cleaned cache is no result
    assert not node_status.is_current(saved, "k1") and node_status.assess_result(saved, "k1")[0] == node_status.STALE
    cancelled = state.load_state(state.dump_state("match", {}, "", {}, {"last_run": {"key": "k3", "status": "cancelled"}}))
    assert node_status.assess_result(cancelled, "k3") == (node_status.CANCELLED, False, "CANCELLED")
    assert node_status.assess_result(cancelled, "k4") == (node_status.NOT_PROCESSED, False, "")
    failed = state.load_state(state.dump_state("match", {}, "", {}, {"last_run": {"key": "k3", "status": "error",
                                                                                   "message": "boom"}}))
    assert node_status.assess_result(failed, "k3") == ("error: boom", False, "ERROR")
    assert node_status.assess_failure("connect the plate input\nmore", True) == ("waiting: connect the plate input", False, "")
    assert node_status.assess_failure("bad", False) == ("error: bad", False, "ERROR")
    assert node_status.choose_look(True, "STALE") == {"which": 1, "tile_color": 0, "label": ""}
    assert node_status.choose_look(False, "STALE") == {"which": 0, "tile_color": node_status.FLAG_COLOUR, "label": "STALE"}


def test_a_job_on_the_farm_shows_its_job_id_until_every_frame_of_the_result_is_written(tmp_path):
    pattern = str(tmp_path / "out_main.####.exr")
    result = {"first": 1, "last": 3, "files": {"main": cjobs.frame_path(pattern, 1)}, "outputs": {"main": pattern},
              "artifacts": {}}
    last_run = {"key": "k1", "status": "farm", "message": "deadline-cloud: job job-7"}
    saved = state.load_state(state.dump_state("fill", {}, "k1", result, {"last_run": last_run}))
    on_farm = ("on the farm: deadline-cloud: job job-7", False, "FARM")
    assert node_status.assess_result(saved, "k1") == on_farm and not node_status.is_current(saved, "k1")
    for frame in (1, 3):  # the first and the last chunk done, the middle one still running
        pathlib.Path(cjobs.frame_path(pattern, frame)).write_bytes(b"x")
    assert node_status.assess_result(saved, "k1") == on_farm and not node_status.result_complete(saved["result"])
    pathlib.Path(cjobs.frame_path(pattern, 2)).write_bytes(b"x")
    assert node_status.assess_result(saved, "k1") == ("up to date (frames 1-3)", True, "")
    assert node_status.assess_result(saved, "k2") == (node_status.STALE, False, "STALE")  # changed since it was sent


def test_check_inputs_names_the_missing_required_ones():
    job_plan.check_inputs(MATCH, ["plate", "reference"])  # mask is optional
    with pytest.raises(job_plan.InputMissing, match="connect the plate and reference inputs"):
        job_plan.check_inputs(MATCH, [])
    with pytest.raises(job_plan.InputMissing, match="connect the reference input$"):
        job_plan.check_inputs(MATCH, ["plate"])


def test_plan_job_ranges_handles_retime_and_cache_key():
    fill = job_plan.plan_job(FILL, {}, 1002, 1004, 2, {"plate": (1001, 1005)}, "plate:h")
    assert fill["renders"] == {"plate": (1001, 1005)} and fill["frames"] == fill["result"] == (1001, 1005)
    assert (fill["first"], fill["last"], fill["handles"]) == (1002, 1004, 2)
    # the key a node made before the tools described their timing: a saved result stays up to date
    assert fill["key"] == cache.cache_key("fill", "plate:h", 1002, 1004, {}, {"handles": 2, "render": [1001, 1005]})
    retime = job_plan.plan_job(RETIME, {"speed": 0.5}, 1002, 1004, 1, {"plate": (1001, 1010)}, "plate:h")
    assert retime["frames"] == (1002, 1005) and retime["result"] == (1002, 1008)  # no head handle
    keys = {job_plan.plan_job(FILL, {}, 1002, 1004, h, {"plate": (990, 1100)}, u)["key"]
            for h, u in ((2, "plate:h"), (1, "plate:h"), (2, "plate:other"))}
    assert len(keys) == 3 and fill["key"] not in keys  # the plate's own range changed the rendered range
    with pytest.raises(ValueError, match="Speed"):
        job_plan.plan_job(RETIME, {}, 1, 2, 0, {"plate": (1, 2)}, "")


def test_plan_job_for_continuity_compares_a_last_with_b_first():
    plan = job_plan.plan_job(CONTINUITY, {"frames_a": "", "patch": None}, 1, 1, 5, {"a": (1001, 1003), "b": (1010, 1011)}, "u")
    assert plan["renders"] == {"a": (1003, 1003), "b": (1010, 1010)} and plan["frames"] == plan["result"] == (1010, 1010)
    assert plan["params"]["frames_a"] == "1003" and plan["params"]["frames_b"] == "1010" and plan["handles"] == 0
    chosen = job_plan.plan_job(CONTINUITY, {"frames_a": "1001-1002"}, 1, 1, 0, {"a": (1001, 1003), "b": (1010, 1011)}, "u")
    assert chosen["renders"]["a"] == (1002, 1002) and chosen["key"] != plan["key"]
    assert plan["key"] == cache.cache_key("continuity", "u", 1003, 1010, dict(plan["params"]))  # as before
    bad = {"frames_b": "abc"}
    with pytest.raises(ValueError, match="abc"):
        job_plan.plan_job(CONTINUITY, bad, 1, 1, 0, {"a": (1, 3), "b": (10, 11)}, "u")


def test_plan_files_read_settings_and_result(tmp_path):
    folder = str(tmp_path / "cache" / "Matchcut_matte" / "k")
    matte = MATTE
    plan = job_plan.plan_job(matte, {"background_color": None}, 1001, 1002, 0, {"plate": (1001, 1002)}, "u")
    files = job_plan.plan_files(matte, folder, plan, ["plate"])
    assert files["inputs"] == {"plate": folder + "/plate.####.exr"}
    assert list(files["outputs"]) == ["foreground", "matte"]  # no comp without a background
    assert files["job"]["frames"] == "1001-1002" and files["job"]["handles"] == 0 and files["job"]["outputs"] == files["outputs"]
    settings = job_plan.read_settings(files["outputs"], plan)
    assert settings["matte"] == {"file": folder + "/out_matte.####.exr", "first": 1001, "last": 1002,
                                 "origfirst": 1001, "origlast": 1002}
    first = job_plan.result_files(matte, files["outputs"], plan, ["matte"])
    assert first == {"matte": folder + "/out_matte.1001.exr"}
    result = job_plan.describe_result(plan, first, files["outputs"], {"lut": "x"})
    assert result == {"first": 1001, "last": 1002, "files": first, "outputs": files["outputs"], "artifacts": {"lut": "x"}}
    cont = job_plan.plan_job(CONTINUITY, {"patch": None}, 1, 1, 0, {"a": (1, 3), "b": (10, 11)}, "u")
    cfiles = job_plan.plan_files(CONTINUITY, folder, cont, ["a", "b"])
    assert cfiles["outputs"] == {"report": folder + "/report", "json": folder + "/continuity.json"}
    patched = job_plan.plan_job(CONTINUITY, {"patch": 2}, 1, 1, 0, {"a": (1, 3), "b": (10, 11)}, "u")
    assert list(job_plan.plan_files(CONTINUITY, folder, patched, ["a", "b"])["outputs"]) == ["report", "json", "main", "patch"]
    assert job_plan.result_files(CONTINUITY, cfiles["outputs"], cont, []) == {"json": folder + "/continuity.json"}


def test_summarise_report_gives_lines_overlays_and_note(tmp_path):
    path = tmp_path / "continuity.json"
    path.write_text(json.dumps({"comparisons": [{"size_b": [288, 224], "regions": [
        {"id": 1, "box": [32, 155, 41, 43], "score": 0.8669, "category": "disappeared", "on": "set"},
        {"id": 2, "box": [0, 0, 10, 10], "score": 0.5, "category": "moved", "on": ""}]}]}))
    report = regions.summarise_report({"json": str(path), "report": "/r/report"}, "Continuity")
    assert report["lines"] == ["#1 disappeared 0.87 on set at x 32 y 155, 41x43 px", "#2 moved 0.50 on unknown at x 0 y 0, 10x10 px"]
    assert report["text"] == "\n".join(report["lines"])
    assert report["overlays"][0] == {"name": "matchcut_region_1", "message": "#1 disappeared (set) 0.87", "box": [32, 26, 73, 69]}
    assert report["note"] == "Continuity report: /r/report\n" + report["text"]
    empty = regions.summarise_report({}, "Continuity")
    assert empty["text"] == "no regions flagged" and empty["overlays"] == [] and empty["note"] == "Continuity report: (none)"


def test_internal_nodes_wire_inputs_outputs_mix_and_validity():
    specs = graph.internal_nodes(describe("matte", inputs=(("plate", "main", True), ("background", "frames", False)),
                                          outputs=(("matte", "matte"), ("foreground", "plate")), primary=("foreground",)))
    by_name = {s["knobs"].get("name", s["class"]): s for s in specs}
    made = set()
    for spec in specs:  # every input names a node made before it
        assert set(spec.get("inputs", {}).values()) <= made
        made.add(spec["knobs"].get("name", spec["class"]))
    assert [s["knobs"]["name"] for s in specs[:2]] == ["plate", "background"]
    assert by_name["matchcut_output"]["inputs"] == {0: "matchcut_read_foreground", 1: "matchcut_read_matte"}
    assert by_name["matchcut_read_matte"]["values"] == {"before": "black", "after": "black"}
    assert by_name["matchcut_mix"]["inputs"] == {0: "plate", 1: "matchcut_output"}
    assert by_name["matchcut_valid"]["values"] == {"which": 0} and by_name["Output"]["inputs"] == {0: "matchcut_valid"}
    assert set(graph.INTERNAL_NODES) <= set(by_name)
    cont = {s["knobs"].get("name", s["class"]): s for s in graph.internal_nodes(CONTINUITY)}
    assert cont["matchcut_regions"]["class"] == "NoOp" and cont["matchcut_regions"]["inputs"] == {0: "b"}
    assert cont["matchcut_valid"]["inputs"][0] == "b" and "matchcut_read_main" in cont


def test_overlay_nodes_chain_from_upstream():
    overlays = [{"name": "matchcut_region_1", "message": "#1", "box": [0, 0, 1, 1]},
                {"name": "matchcut_region_2", "message": "#2", "box": [1, 1, 2, 2]}]
    specs = graph.overlay_nodes(overlays, "up")
    assert [s["inputs"][0] for s in specs] == ["up", "matchcut_region_1"]
    assert specs[1]["values"] == {"box": [1, 1, 2, 2]} and specs[0]["expressions"] == {"disable": "!parent.show_regions"}
    assert graph.overlay_nodes([], "up") == []


def test_descriptions_describe_tools_models_and_menus(monkeypatch):
    monkeypatch.setattr(descriptions, "_SESSION", {"tools": {"apply": APPLY, "match": MATCH}, "note": ""})
    monkeypatch.setattr(descriptions, "_MODELS", {
        ("models", "list"): {"models": [{"id": "sharpen", "task": "image-to-image"}, {"id": "seg", "task": "segmentation"}]},
        ("models", "info", "sharpen"): {"id": "sharpen", "controls": [{"name": "amount", "type": "int", "default": 2}]}})
    assert descriptions.describe_tool("match") is MATCH
    with pytest.raises(RuntimeError, match="no tool 'fill' \\(it has apply, match\\)"):
        descriptions.describe_tool("fill")
    model = descriptions.describe_tool("apply", "sharpen")
    assert [c["name"] for c in model["controls"]] == ["model", "amount"] and model["model"] == "sharpen"
    assert descriptions.describe_tool("match", "sharpen") is MATCH  # a tool that runs no chosen model
    assert descriptions.installed_models() == ["sharpen"]
    assert descriptions.tool_specs(APPLY)[0]["choices"] == ["sharpen"]
    assert descriptions.tool_specs(APPLY, {"model": "gone"})[0]["choices"] == ["sharpen", "gone"]
    assert descriptions.pick_model(APPLY)["model"] == "sharpen" and descriptions.pick_model(MATCH) is MATCH
    assert descriptions.menu_entries() == ([("Apply Model", APPLY), ("Shot Match", MATCH)], "")
    descriptions.refresh_descriptions()
    assert descriptions._SESSION == {} and descriptions._MODELS == {}


def test_descriptions_without_a_worker(fresh):
    entries, message = descriptions.menu_entries()
    assert entries == [] and "MATCHCUT_WORKER" in message and "\n" not in message
    with pytest.raises(cworker.WorkerError, match="MATCHCUT_WORKER"):
        descriptions.describe_tool("match")
    assert descriptions.installed_models() == []
    assert descriptions.model_manifest("studio-gone") == {"id": "studio-gone", "controls": []}


def test_a_models_question_that_hangs_is_waited_for_once(tmp_path, monkeypatch, fresh):
    monkeypatch.setenv("MATCHCUT_WORKER", make_script(tmp_path, "sleep 30"))
    monkeypatch.setattr(descriptions, "MODELS_TIMEOUT", 0.5)
    assert descriptions.installed_models() == []
    start = time.monotonic()
    assert descriptions.installed_models() == [] and time.monotonic() - start < 0.5


def test_first_line_of_an_error_is_never_empty():
    from matchcut_nuke import node_status

    assert node_status.first_line(RuntimeError("worker failed\ntraceback...")) == "worker failed"
    assert node_status.first_line(KeyError()) == "KeyError"
    assert node_status.first_line("") == "unknown error"
    assert node_status.assess_failure("", waiting=False)[0] == "error: unknown error"


# --- a tool that trains (learn): the node, its frames, its status -------------------------------------------

LEARN = describe("learn", frameless=True, primary=(), label="Learn Fix",
                 inputs=(("plate", "main", True, "frames"), ("target", "frames", True), ("mask", "frames", False)),
                 outputs=(("model", "model"),),
                 controls=[{"name": "frames", "type": "string", "default": "", "ui": "host"},
                           {"name": "steps", "type": "int", "default": 1000, "min": 1, "max": 200000},
                           {"name": "resume", "type": "bool", "default": False}])


def test_a_training_node_passes_its_source_has_train_and_apply_and_no_resume_knob(real_tools):
    for learn in (LEARN, real_tools["learn"]):
        assert knobs.tool_outputs(learn) == [knobs.SOURCE_OUTPUT] and not knobs.draws_regions(learn)
        adapter = {s["name"]: s for s in knobs.adapter_specs(learn, {})}
        assert adapter["process"]["label"] == "Train" and adapter["apply_model"]["label"] == "Apply"
        assert "apply_model(nuke.thisNode())" in adapter["apply_model"]["text"] and "handles" not in adapter
        assert "regions" not in adapter and "show_regions" not in adapter
        assert adapter["status"]["text"] == "not processed \u2014 press Train"
        assert "Target input's frames" in adapter["train_note"]["text"] and "1001,1040,1090" in knobs.TRAIN_NOTE
        assert set(knobs.ADAPTER_KNOBS) >= {s["name"] for s in adapter.values() if s["knob"] != "Tab_Knob"}
        names = [s["name"] for s in descriptions.tool_specs(learn)]
        assert "frames" in names and "steps" in names and "resume" not in names  # the adapter always resumes
        inside = graph.internal_nodes(learn)
        switch = next(s for s in inside if s["knobs"].get("name") == "matchcut_output")
        assert switch["inputs"] == {0: "plate"} and not [s for s in inside if s["class"] in ("Read", "NoOp")]
    assert knobs.draws_regions(CONTINUITY) and knobs.tool_outputs(CONTINUITY)[0] == knobs.REGIONS_OUTPUT
    assert knobs.process_label(MATCH) == "Process"
    assert "apply_model" not in {s["name"] for s in knobs.adapter_specs(MATCH, {})}


def test_frame_lists_and_runs():
    assert timing.frame_list("1001, 1040-1042,1090") == [1001, 1040, 1041, 1042, 1090]
    assert timing.frame_list("1001-1009x4") == [1001, 1005, 1009] and timing.frame_list("7,7") == [7]
    for bad in ("", "a", "5-1", "1-9x0"):
        with pytest.raises(ValueError, match="expected frames like 1001,1040,1090"):
            timing.frame_list(bad)
    assert timing.runs([1003, 1001, 1002, 1040, 1042]) == [(1001, 1003), (1040, 1040), (1042, 1042)]


def test_a_training_learns_from_the_targets_frames_or_the_listed_ones_and_renders_only_those():
    ranges = {"plate": (1001, 1010), "target": (1003, 1005)}
    plan = job_plan.plan_job(LEARN, {"frames": "", "steps": 5}, 1, 1, 0, ranges, "u")
    assert plan["params"]["frames"] == "1003-1005" and plan["frames"] == plan["result"] == (1003, 1005)
    assert job_plan.render_runs(plan, "plate") == job_plan.render_runs(plan, "target") == [(1003, 1005)]
    assert plan["handles"] == 0 and plan["key"] == cache.cache_key("learn", "u", 1003, 1005, plan["params"])
    listed = job_plan.plan_job(LEARN, {"frames": "1001,1004-1005", "steps": 5}, 1, 1, 0,
                               {"plate": (1001, 1010), "target": (1001, 1005), "mask": (1001, 1005)}, "u")
    assert job_plan.render_runs(listed, "mask") == [(1001, 1001), (1004, 1005)] and listed["key"] != plan["key"]
    assert listed["corrected"] == "1001,1004-1005" and plan["corrected"] == "1003-1005"
    assert job_plan.render_runs(job_plan.plan_job(FILL, {}, 1, 3, 0, {"plate": (1, 3)}, "u"), "plate") == [(1, 3)]
    with pytest.raises(ValueError, match=r"Plate \(frames 1001-1010\), Target \(frames 2003-2005\) share no frame"):
        job_plan.plan_job(LEARN, {"frames": ""}, 1, 1, 0, {"plate": (1001, 1010), "target": (2003, 2005)}, "u")
    with pytest.raises(ValueError, match="corrected frame 1006 is not among the Target input's frames 1003-1005"):
        job_plan.plan_job(LEARN, {"frames": "1004,1006"}, 1, 1, 0, ranges, "u")


def test_a_training_job_resumes_in_its_own_model_folder_and_is_read_by_the_worker(tmp_path):
    from matchcut.jobs.spec import load_job

    folder = str(tmp_path / "cache" / "Matchcut_learn" / "k")
    plan = job_plan.plan_job(LEARN, {"frames": "", "steps": 5}, 1, 1, 0, {"plate": (1, 3), "target": (2, 3)}, "u")
    files = job_plan.plan_files(LEARN, folder, plan, ["plate", "target"])
    assert files["outputs"] == {"model": folder + "/model"} and files["job"]["frames"] is None
    assert files["job"]["params"] == {"frames": "2-3", "steps": 5, "resume": True} and "resume" not in plan["params"]
    path = cjobs.write_json_atomic(os.path.join(folder, "job.json"), files["job"])
    assert load_job(path).tool == "learn"
    models = job_plan.model_folders(LEARN, files["outputs"])
    figures = {"step": 5, "steps": 5, "loss": 0.01, "psnr": 30.0, "psnr_before": 25.0, "best_psnr": 30.0,
               "best_step": 5, "preview": ""}
    result = job_plan.describe_result(plan, job_plan.result_files(LEARN, files["outputs"], plan, []),
                                      files["outputs"], {}, models, figures)
    assert result["files"] == {} and result["models"] == {"model": folder + "/model"}
    assert job_plan.trained_folder(result) == folder + "/model" and job_plan.trained_folder({}) is None
    saved = state.load_state(state.dump_state("learn", {}, plan["key"], result))
    os.makedirs(folder + "/model/.learn")  # a training's start (its checkpoint) is no model yet
    assert not node_status.is_current(saved, plan["key"]) and not node_status.result_complete(result)
    for name in ("learned-model.onnx", "learned-model.toml"):
        pathlib.Path(folder, "model", name).write_bytes(b"x")
    assert node_status.is_current(saved, plan["key"]) and node_status.result_complete(result)
    text, valid, flag = node_status.assess_result(saved, plan["key"])
    assert (valid, flag) == (True, "")
    assert text == "trained (frames 2-3): held-out 30.0 dB (untouched 25.0 dB), best at step 5 of 5"
    gaps = state.load_state(state.dump_state("learn", {}, plan["key"], dict(result, corrected="2,5")))
    assert node_status.assess_result(gaps, plan["key"])[0].startswith("trained (frames 2,5): held-out 30.0 dB")
    assert node_status.training_label(figures) == "step 5/5\nloss 0.01\n30.0 dB (was 25.0)"


def test_a_cancelled_training_says_where_it_stopped_and_that_train_carries_on():
    said = node_status.cancelled_training({"step": 12, "steps": 60})
    saved = state.load_state(state.dump_state("learn", {}, "", {}, {"last_run": {"key": "k", "status": "cancelled",
                                                                                 "message": said}}))
    text, valid, flag = node_status.assess_result(saved, "k")
    assert text == node_status.CANCELLED + " (stopped at step 12/60; the last good checkpoint is kept: Train carries " \
                                           "on from it)" and (valid, flag) == (False, "CANCELLED")
    assert node_status.name_button(text, "Train").startswith("cancelled \u2014 press Train (stopped at step 12/60")
    assert node_status.name_button(node_status.STALE, "Process") == node_status.STALE


# --- a tool that stands on an edit (coverage): no inputs, a timeline file, a hole and its proposal shown ------

def _coverage_result(tmp_path):
    def proposal(pid, kind, score, record):
        return {"id": pid, "kind": kind, "label": kind + " 'sh010'", "record": record, "score": score,
                "synthetic_frames": 10 if kind == "slow" else 0,
                "score_text": "{:.0f}: fits".format(score), "reason": "why " + kind,
                "rendered": {"pattern": str(tmp_path / pid / (pid + ".####.exr")), "first": 1001,
                             "last": 1000 + record[1] - record[0] + 1}}
    data = {"summary": "2 hole(s), 2 proposal(s)", "holes": [
        {"index": 1, "track": "V1", "kind": "gap", "record": [12, 17], "why": "a gap of 6 frames",
         "proposals": [proposal("hole1-1-extend", "extend", 100.0, [12, 17]),
                       proposal("hole1-2-slow", "slow", 73.3, [12, 27])]},
        {"index": 2, "track": "V1", "kind": "offline", "record": [30, 34], "why": "offline", "proposals": [],
         "not_applicable": [{"kind": "extend", "why": "no handles"}]}]}
    path = tmp_path / "coverage.json"
    path.write_text(json.dumps(data))
    from matchcut_nuke.client import coverage as ccoverage

    return ccoverage.read_result(str(path))


def test_a_coverage_node_chooses_a_hole_and_one_of_its_proposals(tmp_path):
    from matchcut_nuke import proposals

    data = _coverage_result(tmp_path)
    best = proposals.choose(data, 1, "")
    assert best["menu"] == ["1: extend 'sh010' 100/100 (best)", "2: slow 'sh010' 73/100"]
    assert best["text"] == best["menu"][0] and best["proposal"]["id"] == "hole1-1-extend"
    pattern = str(tmp_path / "hole1-1-extend" / "hole1-1-extend.####.exr")
    assert proposals.read_values(best["proposal"]) == {"file": pattern, "first": 1001, "last": 1006,
                                                       "origfirst": 1001, "origlast": 1006}
    slow = proposals.choose(data, 1, "2: slow 'sh010' 73/100")
    assert slow["proposal"]["id"] == "hole1-2-slow"
    assert proposals.note(slow, 2).splitlines() == [
        "hole 1 (gap, 6 frame(s) on V1): 2 proposal(s), best extend 'sh010' 100/100 of 2", "a gap of 6 frames",
        "slow 'sh010': why slow", "73: fits", "10 of 16 frame(s) made (their headers say so: matchcut/frame synthetic)",
        "record frames 12-27 of the edit; frames 1001-1016 here"]
    empty = proposals.choose(data, 9, "2: slow 'sh010' 73/100")  # clamped to the last hole, which has none
    assert (empty["hole"], empty["menu"], empty["text"], empty["proposal"]) == (2, [], "", None)
    assert proposals.read_values(None) == proposals.NO_READ
    assert proposals.note(empty, 2).startswith("hole 2 (offline, 5 frame(s) on V1): no proposal: extend: no handles")
    assert proposals.choose(data, "x", "")["hole"] == 1
    assert proposals.note(proposals.choose({"holes": []}, 1, ""), 0) == "no hole in the edit: every frame shows a shot"


def test_a_coverage_node_has_a_timeline_knob_no_input_and_a_read_of_the_proposal(real_tools, tmp_path):
    from matchcut.jobs import spec as spec_module

    tool = real_tools["coverage"]
    assert knobs.tool_inputs(tool) == [] and knobs.tool_outputs(tool) == ["proposal"] and not knobs.draws_regions(tool)
    specs = {s["name"]: s for s in knobs.adapter_specs(tool, {"timeline": "/e/edit.otio", "hole": 2})}
    assert specs["timeline"]["knob"] == "File_Knob" and specs["timeline"]["value"] == "/e/edit.otio"
    assert specs["hole"]["value"] == 2 and specs["proposal"]["knob"] == "Enumeration_Knob"
    assert not {"handles", "output", "mix", "regions"} & set(specs) and {"process", "cancel", "farm"} <= set(specs)
    assert "timeline" in knobs.watched_knobs(tool) and "hole" not in knobs.watched_knobs(tool)
    assert set(knobs.saved_adapter_knobs(tool)) >= {"timeline", "hole", "proposal"}
    nodes = graph.internal_nodes(tool)
    assert [n["class"] for n in nodes] == ["Read", "Switch", "Output"]
    assert graph.internal_names(tool) == ("matchcut_valid",)
    assert nodes[1]["inputs"] == {1: "matchcut_read_proposal"}  # 0, nothing: black until there is a result
    timeline = tmp_path / "edit.otio"
    timeline.write_text("{}")
    params = {"media": "/m", "quality": "preview"}
    plan = job_plan.plan_edit(tool, params, {"timeline": (str(timeline), cache.file_digest(str(timeline)))})
    files = job_plan.plan_edit_files(tool, str(tmp_path / "cache"), plan)
    assert files["job"]["inputs"] == {"timeline": str(timeline)} and files["job"]["frames"] is None
    assert files["outputs"] == {"out": str(tmp_path / "cache" / "out"), "report": str(tmp_path / "cache" / "report"),
                                "json": str(tmp_path / "cache" / "coverage.json")}
    spec_module.job_from_dict(files["job"], tmp_path)  # the worker's own reader takes it
    timeline.write_text('{"changed": 1}')  # a new export of the edit: stale
    again = job_plan.plan_edit(tool, params, {"timeline": (str(timeline), cache.file_digest(str(timeline)))})
    assert again["key"] != plan["key"]
    with pytest.raises(job_plan.InputMissing, match="set the Timeline file"):
        job_plan.plan_edit(tool, params, {"timeline": ("", None)})
    with pytest.raises(ValueError, match="nowhere.otio: no such timeline file"):
        job_plan.plan_edit(tool, params, {"timeline": ("/nowhere.otio", None)})


def test_an_edits_result_is_up_to_date_while_its_json_is_there_and_complete_once_the_farm_wrote_it(tmp_path):
    path = tmp_path / "coverage.json"
    outputs = {"out": str(tmp_path / "out"), "json": str(path)}
    result = job_plan.edit_result(outputs, {}, str(path), {"file": "", "first": 1, "last": 1})
    assert result["first"] is None and result["files"] == {"json": str(path)}
    saved = state.load_state(state.dump_state("coverage", {}, "k1", result,
                                              {"last_run": {"key": "k1", "status": "farm", "message": "job 7"}}))
    assert node_status.assess_result(saved, "k1") == ("on the farm: job 7", False, "FARM")
    (tmp_path / "out").mkdir()
    path.write_text("{}")
    assert node_status.result_complete(result) and node_status.assess_result(saved, "k1") == ("up to date", True, "")
    shown = job_plan.edit_result(outputs, {}, str(path), {"file": "/p.####.exr", "first": 1001, "last": 1006})
    saved = state.load_state(state.dump_state("coverage", {}, "k1", shown))
    assert node_status.assess_result(saved, "k1") == ("up to date (frames 1001-1006)", True, "")
