"""The nodes inside a Matchcut Group as plain specs, in creation order, for the host to make and wire.

A spec: ``class`` (a nuke.nodes class), ``knobs`` (given at creation, ``name`` among them where the node is found
by name), ``inputs`` (input index -> the name of a node made earlier, or of one the host already has), ``values``
(set after creation) and ``expressions``.

Inside a node: Input per tool input -> one Read per output (continuity: B with region overlays, and the patch
Reads; a node that trains: none, its Source) -> Switch `matchcut_output` (the Output knob) -> Dissolve
`matchcut_mix` with the plate (Mix) -> Switch `matchcut_valid` (0 passes the plate through while there is no
current result) -> Output.
"""
from __future__ import annotations

from typing import Any, Dict, List

from matchcut_nuke import knobs
from matchcut_nuke.client import tools

#: The nodes a node made by this version has; one missing means the inside is rebuilt.
INTERNAL_NODES = ("matchcut_output", "matchcut_mix", "matchcut_valid")
#: Those of a node whose tool stands on an edit (coverage): no input to pass through or mix with.
EDIT_NODES = ("matchcut_valid",)
#: Name prefix of the Read that shows an output.
READ_PREFIX = "matchcut_read_"
#: The node a continuity node's region overlays are chained into (its "regions" output).
REGIONS_NODE = "matchcut_regions"


def internal_names(tool: Dict[str, Any]) -> tuple:
    """The names of the nodes ``internal_nodes`` makes that say the inside is this version's."""
    return EDIT_NODES if tools.stands_on_edit(tool) else INTERNAL_NODES


def edit_nodes() -> List[Dict[str, Any]]:
    """The inside of a node whose tool stands on an edit: the Read of the chosen proposal (black outside its
    frames), the validity Switch (0: nothing, black, while there is no current result) and the Output."""
    read = READ_PREFIX + knobs.PROPOSAL_OUTPUT
    return [{"class": "Read", "knobs": {"name": read}, "values": {"before": "black", "after": "black"}},
            {"class": "Switch", "knobs": {"name": "matchcut_valid"}, "inputs": {1: read}, "values": {"which": 0}},
            {"class": "Output", "knobs": {}, "inputs": {0: "matchcut_valid"}}]


def internal_nodes(tool: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The specs of the nodes inside a Group for ``tool``: its Inputs, a Read per output (a NoOp that the region
    overlays join for a continuity node's "regions"; the pass-through input itself for a training node's
    "source"; Reads are black outside the result, never a held frame), the output Switch, the Mix Dissolve with
    the pass-through input, the validity Switch (0: the plate) and the Output; for a tool that stands on an edit,
    ``edit_nodes``."""
    if tools.stands_on_edit(tool):
        return edit_nodes()
    inputs = knobs.tool_inputs(tool)
    through = inputs[knobs.passthrough_input(tool)]
    specs: List[Dict[str, Any]] = [{"class": "Input", "knobs": {"name": name}} for name in inputs]
    sources = []
    for name in knobs.tool_outputs(tool):
        if name == knobs.SOURCE_OUTPUT and tools.trains(tool):
            sources.append(through)
        elif knobs.draws_regions(tool) and name == knobs.REGIONS_OUTPUT:
            specs.append({"class": "NoOp", "knobs": {"name": REGIONS_NODE}, "inputs": {0: through}})
            sources.append(REGIONS_NODE)
        else:
            specs.append({"class": "Read", "knobs": {"name": READ_PREFIX + name},
                          "values": {"before": "black", "after": "black"}})
            sources.append(READ_PREFIX + name)
    specs += [{"class": "Switch", "knobs": {"name": "matchcut_output"}, "inputs": dict(enumerate(sources)),
               "expressions": {"which": "parent.output"}},
              {"class": "Dissolve", "knobs": {"name": "matchcut_mix"}, "inputs": {0: through, 1: "matchcut_output"},
               "expressions": {"which": "parent.mix"}},
              {"class": "Switch", "knobs": {"name": "matchcut_valid"}, "inputs": {0: through, 1: "matchcut_mix"},
               "values": {"which": 0}},
              {"class": "Output", "knobs": {}, "inputs": {0: "matchcut_valid"}}]
    return specs


def overlay_nodes(overlays: List[Dict[str, Any]], upstream: str) -> List[Dict[str, Any]]:
    """Text2 specs for region ``overlays`` (regions.summarise_report: name, message, box), chained from the node
    named ``upstream``, each switched off while the Group's "draw regions" is off."""
    specs = []
    for overlay in overlays:
        specs.append({"class": "Text2", "knobs": {"name": overlay["name"], "message": overlay["message"]},
                      "inputs": {0: upstream}, "values": {"box": overlay["box"]},
                      "expressions": {"disable": "!parent.show_regions"}})
        upstream = overlay["name"]
    return specs
