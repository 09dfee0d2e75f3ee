"""What the tools say about themselves (`matchcut tools --json`): consistent, and enough for a host."""

from __future__ import annotations

import pytest

from matchcut.tools import TOOLS, get_tool
from matchcut.tools.base import Tool
from matchcut.tools.description import Input, Output, Timing, check_description, describe, describe_all


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_every_registered_tool_has_a_consistent_description(name):
    tool = get_tool(name)
    check_description(type(tool))
    d = describe(tool)
    assert d["label"] and d["category"] and d["description"]
    mains = [i for i in d["input_specs"] if i["role"] == "main"]
    edits = [i for i in d["input_specs"] if i["role"] == "edit" and i["required"]]
    # a tool works on the host's current shot, or (coverage) on a whole edit the host writes out for it
    assert (len(mains) == 1 and mains[0]["required"]) or (not mains and len(edits) == 1)
    assert set(d["primary_outputs"]) <= set(d["outputs"])


def test_descriptions_carry_roles_timing_artifacts_and_hints():
    tools = describe_all()["tools"]
    match = {i["name"]: i for i in tools["match"]["input_specs"]}
    assert match["reference"]["role"] == "still" and match["reference"]["frames_param"] == "reference_frame"
    assert [a["suffix"] for a in tools["match"]["artifacts"]] == [".cube", ".cc"]
    cont = {i["name"]: i for i in tools["continuity"]["input_specs"]}
    assert cont["a"]["role"] == "shot" and cont["b"]["role"] == "main" and cont["timeline"]["role"] == "edit"
    assert "timeline" not in tools["continuity"]["inputs"]  # hosts never wire the edit input
    assert tools["fill"]["timing"] == {"handles": 2, "handles_before": True, "retimes": False}
    assert tools["retime"]["timing"] == {"handles": 1, "handles_before": False, "retimes": True}
    comp = {o["name"]: o for o in tools["matte"]["output_specs"]}["comp"]
    assert comp["needs"] == ["input:background", "param:background_color"]
    assert {c["name"]: c["ui"] for c in tools["apply"]["controls"]}["model"] == "model"


def test_plain_name_lists_are_derived_from_the_specs():
    class Probe(Tool):
        name = "probe"
        input_specs = (Input("plate", "main", required=True), Input("matte", "frames"), Input("edl", "edit"))
        output_specs = (Output("main"), Output("alpha", "matte"))
        timing = Timing(handles=3)

    assert Probe.inputs == ("plate",) and Probe.optional_inputs == ("matte",)
    assert Probe.outputs == ("main", "alpha") and Probe.output_kinds == {"main": "plate", "alpha": "matte"}
    check_description(Probe)


def test_an_inconsistent_description_is_named():
    class Bad(Tool):
        name = "bad"
        output_specs = (Output("main", needs=("param:nothing",)),)

    with pytest.raises(ValueError, match="tool 'bad': output 'main' needs 'param:nothing'"):
        check_description(Bad)
