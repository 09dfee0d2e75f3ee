"""The Resolve adapter builds everything from the worker's description: a tool no adapter knows (the test
registry's "grain", "Match Grain") gets its dialog, job, results and scripts with no Resolve edit; a worker of
another description version, one that prints garbage or dies mid-job, ends in one line for the artist."""
from __future__ import annotations

import json
import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import fake_tool  # noqa: E402

import fake_resolve as fr  # noqa: E402
from resolve_world import TIMELINE, item_record as _item, make_world, tool_record as _tool  # noqa: E402
from matchcut_resolve import batch, dialog, freerun, host, jobs, results, widgets  # noqa: E402
from matchcut_resolve.client import tools  # noqa: E402
from matchcut_resolve.errors import HostError  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def described():
    return fake_tool.described()


@pytest.fixture
def grain(described):
    return tools.tools_from(described)["grain"]


@pytest.fixture
def private(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MATCHCUT_RESOLVE_OUTPUT", raising=False)


_script = fake_tool.worker_script


def _answering(tmp_path, answer):
    """A worker whose `tools --json` answers ``answer`` (and that runs nothing)."""
    (tmp_path / "answer.json").write_text(json.dumps(answer))
    return _script(tmp_path, 'cat "{}"'.format(tmp_path / "answer.json"))


def test_an_unknown_tool_gets_its_dialog_specs_from_its_description(grain):
    specs = {s["control"]: s for s in widgets.tool_specs(grain)}
    assert {k: s["widget"] for k, s in specs.items()} == {"amount": "DoubleSpinBox", "seed": "LineEdit",
                                                          "response": "ComboBox"}
    assert specs["amount"]["label"] == "Amount" and specs["response"]["items"] == ["film", "digital"]
    # reference_frame (the adapter fills the reference's frame) and report (an artifact's path): no widget
    assert widgets.adapter_params(grain) == ["reference_frame", "report"]
    own = {s["control"]: s for s in widgets.own_specs(grain, {}, [widgets.PREVIOUS, "V1 sh010 @86400"])}
    reference = own["input_reference"]
    assert reference["widget"] == "ComboBox" and reference["label"] == "Grain reference"
    assert reference["items"] == [widgets.NONE, widgets.PREVIOUS, "V1 sh010 @86400"]
    assert reference["items"][reference["index"]] == widgets.PREVIOUS  # needed and picked: the shot before the cut
    assert own["input_mask"]["items"][own["input_mask"]["index"]] == widgets.NONE
    assert "apply_cdl" not in own and {"handles", "placement"} <= set(own)  # a .json artifact is not a CDL


def test_an_unknown_tool_opens_its_dialog_from_the_workers_answer(tmp_path, described, private, monkeypatch):
    resolve, project, timeline, first, second = make_world(tmp_path)
    monkeypatch.setenv("MATCHCUT_WORKER", _answering(tmp_path, described))
    made = []

    class Closing(fr.UIDispatcher):
        def __init__(self, ui):
            super().__init__(ui)
            self.script = [fr.click("mc_close")]
            made.append(self)

    bmd = fr.Bmd()
    bmd.UIDispatcher = Closing
    assert dialog.main(resolve, resolve.Fusion(), bmd, "grain") == 0
    window = made[0].windows[0]
    assert window.props["WindowTitle"] == "Matchcut: Match Grain"
    items = window.GetItems()
    assert {"p_amount", "p_seed", "p_response", "mc_input_reference", "mc_input_mask", "mc_handles"} <= set(items)
    assert "p_reference_frame" not in items and "p_report" not in items
    assert items["mc_input_reference"].CurrentText == widgets.PREVIOUS
    assert "V1 sh010 @86400" in items["mc_input_reference"].items


def test_an_unknown_tool_makes_its_job_and_results(grain, tmp_path):
    plate = jobs.plan_source(_item(), TIMELINE, 0)  # files 1011-1030
    reference = jobs.plan_source(_item("sh010", "/s/sh010.[1001-1050].exr", record_start=86390, source_start=5,
                                       source_end=25), TIMELINE, 0)
    mask = jobs.plan_source(_item("mk", "/s/mk.[0001-0200].exr", source_start=0, source_end=20), TIMELINE, 0)
    with pytest.raises(jobs.JobFailure, match="grain: needs an item as Grain reference"):
        jobs.build_job(grain, plate, {"mask": mask}, {}, str(tmp_path), TIMELINE)
    plan = jobs.build_job(grain, plate, {"reference": reference, "mask": mask}, {"amount": 2.0}, str(tmp_path),
                          TIMELINE)
    job = plan.job
    assert job["tool"] == "grain" and job["frames"] == "1011-1030"
    assert job["inputs"]["plate"] == "/s/sh020.####.exr" and job["inputs"]["reference"] == "/s/sh010.####.exr"
    assert job["inputs"]["mask"] == os.path.join(plan.folder, "inputs", "mask.####.exr")  # linked frame by frame
    assert job["params"]["reference_frame"] == 1001 + (5 + 24) // 2 and job["params"]["amount"] == 2.0
    assert job["params"]["report"] == os.path.join(plan.folder, "sh020_grain.json")  # the artifact's path
    assert plan.kinds == {"main": "plate", "grain": "pass"}
    assert job["outputs"]["main"].endswith("sh020_grain_main.####.exr")
    assert results.actions(grain, plan.kinds, "take") == {"main": "take", "grain": "import"}
    assert results.placement_of(grain, {}) == "take" and results.cdl_node(grain, {"apply_cdl": True}, {}) is None
    assert results.artifact_lines(grain, {"report": "/r/grain.json"}) == ["REPORT: /r/grain.json"]
    movie = jobs.plan_source(_item("ref", "/s/ref.mov", clip_frames=100), TIMELINE, 0)
    assert not batch.needs_render(grain, "reference", movie) and batch.needs_render(grain, "mask", movie)
    with pytest.raises(HostError, match="Match Grain: choose Grain reference"):
        batch.check_inputs(grain, {})
    facts = {"tool": "grain", "timeline": TIMELINE, "item": _item(),
             "previous": _item("sh010", "/s/sh010.[1001-1050].exr")}
    free = freerun.plan_from_facts(facts, grain, {"seed": 7}, str(tmp_path))
    assert free.job["inputs"]["reference"] == "/s/sh010.####.exr" and "mask" not in free.job["inputs"]
    assert free.job["params"]["seed"] == 7 and free.job["params"]["response"] == "film"


def test_the_installer_writes_scripts_for_an_unknown_tool(described, tmp_path):
    from matchcut.installs import resolve as resolve_install

    dest = tmp_path / "Scripts"
    files = resolve_install.plan_install(ROOT / "hosts" / "resolve", dest, worker="/env/bin/matchcut",
                                   python="/env/bin/python", description=described)
    for rel in ("Utility/Matchcut/Match Grain.py", "Color/Matchcut/Match Grain.py"):
        text = files[dest.joinpath(*rel.split("/"))].decode("utf-8")
        assert "TOOL = 'grain'" in text and text.startswith("# Matchcut: Match Grain.")
    lua = files[dest / "Utility" / "Matchcut (free)" / "Match Grain.lua"].decode("utf-8")
    assert "local TOOL = [==[grain]==]" in lua and "[==[/env/bin/python]==]" in lua
    assert dest / "Edit" / "Matchcut" / "Match Grain.py" not in files  # a colour tool: not on the Edit page


def test_a_worker_of_another_description_version_is_one_line_naming_the_side_to_update(tmp_path, private,
                                                                                        monkeypatch, capsys):
    resolve, project, timeline, first, second = make_world(tmp_path)
    monkeypatch.setenv("MATCHCUT_WORKER", _answering(tmp_path, {"matchcut_tools": 99, "matchcut": "9.0", "tools": {}}))
    assert dialog.main(resolve, resolve.Fusion(), fr.Bmd(), "match") == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("Matchcut: ") and out[0].endswith("update the adapter"), out
    assert "version 99" in out[0] and "9.0" in out[0]
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"tool": "match", "timeline": TIMELINE, "item": _item()}))
    assert freerun.main([str(facts)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("matchcut-result-status: error") and lines[1].endswith("update the adapter")


def test_a_worker_that_prints_garbage_and_dies_mid_job_is_one_summary_line(tmp_path, private):
    resolve, project, timeline, first, second = make_world(tmp_path)
    exe = _script(tmp_path, 'echo "loading CUDA..."\necho \'{"event": "start", "total": 3}\'\n'
                  'echo \'{"event": "frame", "frame": 1003, "index": 1, "total": 3}\'\nsleep 0.5\n'
                  'echo "Segmentation fault in libfoo" >&2\nexit 139')
    run = host.Batch(resolve, project, timeline, _tool("apply"), [second], {"params": {"model": "m"},
                                                                           "output": str(tmp_path / "out")}, exe)
    texts = list(iter(run.tick, None))
    assert any("Apply Model: frame 1003" in t for t in texts), texts  # the garbage line was skipped
    assert run.states[-1].stray == ["loading CUDA..."] and run.failures == 1 and run.outcome() == "1 item(s) failed"
    line = run.summary[-1]
    assert line.startswith("sh020: error: the Matchcut worker exited with status 139 before the job finished")
    assert line.endswith("Segmentation fault in libfoo") and "\n" not in line
    assert second.GetTakesCount() == 0 and timeline.GetTrackCount("video") == 1
    leftovers = [p.name for p in (tmp_path / "out").rglob("*") if p.name.startswith(".")]
    assert leftovers == [] and len(list((tmp_path / "out").rglob("job.json"))) == 1
