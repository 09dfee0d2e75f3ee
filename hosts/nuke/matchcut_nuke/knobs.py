"""Knob specs from the worker's descriptions (`matchcut tools --json`, `matchcut models info ID --json`), the
inputs and outputs a node wires (from the description's input and output specs), and knob values turned into
job parameters."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Set, Tuple

from matchcut_nuke import node_status
from matchcut_nuke.client import farm, tools

#: Control type -> Nuke knob class name (nuke.Enumeration_Knob etc.).
KNOB_CLASS = {"choice": "Enumeration_Knob", "enum": "Enumeration_Knob", "float": "Double_Knob",
              "int": "Int_Knob", "bool": "Boolean_Knob", "path": "File_Knob", "file": "File_Knob",
              "color": "Color_Knob", "str": "String_Knob", "string": "String_Knob"}
#: Knobs the adapter adds to every node; a tool or model control may not take these names.
ADAPTER_KNOBS = ("matchcut", "matchcut_tool", "matchcut_state", "handles", "output", "mix", "status", "process",
                 "cancel", "farm", "farm_submit", "regions", "show_regions", "model_controls", "apply_model",
                 "train_note", "hole", "proposal", "proposal_note")
#: Suffix of the Boolean knob that switches an optional control (default None) on; off sends null.
ENABLE_SUFFIX = "_enable"
#: Nuke's own output of a frameless tool (one that compares shots and writes a report): its main input with the
#: report's regions drawn on it (Text2 overlays), offered before the tool's frame outputs.
REGIONS_OUTPUT = "regions"
#: The only output of a node that trains (its result is a model folder, no frames): its Source passed through.
#: Its Apply button makes the Model node that shows the learned fix.
SOURCE_OUTPUT = "source"
#: The only output of a node whose tool stands on an edit (coverage): the chosen proposal of the chosen hole.
PROPOSAL_OUTPUT = "proposal"
#: The knobs of such a node that choose what it shows (a hole, one of its proposals): no new run, a new Read.
CHOICE_KNOBS = ("hole", "proposal")
#: What such a node says on its Matchcut tab (its node help).
EDIT_NOTE = ("Nuke has no timeline: name the edit's file (.otio, .edl, FCP .xml) and the media folders, then "
             "Process finds every hole and renders its proposals (Cancel keeps the frames rendered: Process again "
             "carries on). Hole and Proposal then choose what the node shows, with no new run.")
#: What a node that trains says on its Matchcut tab about the frames it learns from (its node help).
TRAIN_NOTE = ("Corrected frames: empty takes the Target input's frames (its Read's frame range), where the Source "
              "has them too; for a Target with gaps (only 1001, 1040 and 1090 painted) list them: 1001,1040,1090. "
              "Train renders those frames of Source, Target and Mask and trains a model on them (Cancel keeps the "
              "last good checkpoint: Train again carries on). Apply then makes a Model node on the same Source "
              "that runs the trained model on the whole shot; this node is left as it is.")


def knob_specs(controls: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One spec per control: name, knob class, label, default, range, choices, tooltip, optional (unknown
    types: String). Raises ValueError for a control named like one of the adapter's own knobs."""
    specs = []
    for control in controls:
        name = control["name"]
        if name in ADAPTER_KNOBS or name.endswith(ENABLE_SUFFIX):
            raise ValueError("control {!r}: the name is taken by the Nuke adapter's own knobs".format(name))
        kind = str(control.get("type", "str"))
        specs.append({"name": name, "type": kind, "knob": KNOB_CLASS.get(kind, "String_Knob"),
                      "label": control.get("label") or name, "default": control.get("default"),
                      "optional": control.get("default") is None,
                      "min": control.get("min"), "max": control.get("max"),
                      "choices": [str(c) for c in control.get("choices") or []], "tooltip": control.get("help", "")})
    return specs


def without_taken_controls(tool: Dict[str, Any]) -> Dict[str, Any]:
    """``tool`` (with a model's controls joined, client tools.with_model_controls) less the model controls named
    like one of the adapter's own knobs: a learned model's "mix" is the node's own Mix (both blend the plate and
    the result), so the model keeps its default and the node's knob does the blending. A tool's own control of
    such a name is still an error (``knob_specs``)."""
    kept = [c for c in tool.get("controls") or [] if not (c.get("model_control") and c["name"] in ADAPTER_KNOBS)]
    return dict(tool, controls=kept)


def tool_inputs(tool: Dict[str, Any]) -> List[str]:
    """The node's inputs in order (Nuke input 0 first): the tool's inputs as it declares them, optional ones
    included, command-line-only ones (an edit file) left out. The declared order, not main-first: a saved
    script's wiring stays (a comparison's reference shot A is input 0, the shot B it checks input 1)."""
    return [i["name"] for i in tool.get("input_specs") or [] if i.get("role") != "edit"]


def required_inputs(tool: Dict[str, Any]) -> List[str]:
    """The inputs that must be connected before Process, in the node's order."""
    required = set(tools.required_inputs(tool))
    return [name for name in tool_inputs(tool) if name in required]


def passthrough_input(tool: Dict[str, Any]) -> int:
    """The input the node passes through when there is no current result: the tool's main input."""
    return tool_inputs(tool).index(tools.main_input(tool))


def draws_regions(tool: Dict[str, Any]) -> bool:
    """True for a frameless tool that writes a report with regions (a JSON output: continuity's): its node draws
    them on its main input."""
    return bool(tool.get("frameless")) and not tools.stands_on_edit(tool) and any(
        tools.output_kind(tool, o["name"]) == "json" for o in tools.output_specs(tool))


def process_label(tool: Dict[str, Any]) -> str:
    """The label of the button that runs the node's job: Train for a tool that trains, else Process."""
    return "Train" if tools.trains(tool) else "Process"


def tool_outputs(tool: Dict[str, Any]) -> List[str]:
    """The outputs the node offers (a Read each), the default one first: of the frame outputs a job makes with
    nothing but the main input, the one the tool names primary (a keyer's premultiplied foreground rather than
    the bare matte), then those, then the ones that need more (a comp needs a background); a report tool's
    "regions" overlay first. A report, JSON or model output has no Read: a tool that trains offers its Source
    passed through ("source"), another with none of those one empty "main" Read, so the menu is never empty; a tool
    that stands on an edit, the chosen proposal ("proposal")."""
    if tools.stands_on_edit(tool):
        return [PROPOSAL_OUTPUT]
    frames = tools.frame_outputs(tool, [o["name"] for o in tools.output_specs(tool)])
    plain = tools.frame_outputs(tool, tools.job_outputs(tool, [tools.main_input(tool)], {}))
    names = tools.output_order(tool, plain) + [n for n in frames if n not in plain]
    if draws_regions(tool):
        names = [REGIONS_OUTPUT] + [n for n in names if n != REGIONS_OUTPUT]
    if not names and tools.trains(tool):
        return [SOURCE_OUTPUT]
    return names or ["main"]


def param_value(spec: Dict[str, Any], raw: Any, enabled: bool = True) -> Any:
    """A knob's value as the job parameter its control expects: None for an optional control switched off,
    int/float/bool/str, a colour as [r, g, b] (a Color_Knob gives one float while its channels are equal)."""
    if spec["optional"] and not enabled:
        return None
    kind = spec["type"]
    if kind == "int":
        return int(round(float(raw)))
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return bool(raw)
    if kind == "color":
        values = list(raw) if isinstance(raw, (list, tuple)) else [raw, raw, raw]
        return [float(v) for v in values[:3]]
    if kind in ("choice", "enum"):
        return str(raw)
    return "" if raw is None else str(raw)


def knob_default(spec: Dict[str, Any]) -> Any:
    """The value a new knob starts at (an optional control's knob starts at its minimum, or 0, and off)."""
    if spec["default"] is not None:
        return spec["default"]
    if spec["type"] == "color":
        return [0.0, 0.0, 0.0]
    if spec["type"] in ("int", "float"):
        return spec["min"] if spec["min"] is not None else 0
    return "" if spec["type"] not in ("bool",) else False


def restore_value(spec: Dict[str, Any], saved: Any) -> Optional[Any]:
    """A saved value (from the hidden state knob) in the form the knob takes now, or None when it does not fit
    (another type, a choice that no longer exists, out of range): then the knob keeps its default."""
    try:
        if saved is None:
            return None
        kind = spec["type"]
        if kind in ("choice", "enum"):
            return str(saved) if str(saved) in spec["choices"] else None
        if kind == "color":
            return [float(v) for v in saved][:3] if isinstance(saved, (list, tuple)) and len(saved) >= 3 else None
        if kind == "bool":
            return saved if isinstance(saved, bool) else None
        if kind in ("int", "float"):
            if isinstance(saved, bool) or not isinstance(saved, (int, float)):
                return None
            value = int(saved) if kind == "int" else float(saved)
            if (spec["min"] is not None and value < spec["min"]) or (spec["max"] is not None and value > spec["max"]):
                return None
            return value
        return str(saved)
    except (TypeError, ValueError):
        return None


# --- knobs the adapter adds and what it reads back ---------------------------------------------------------

#: The adapter's knobs whose values the hidden state keeps beside the controls' (and a timeline file's knob).
SAVED_ADAPTER_KNOBS = ("handles", "output", "mix", "show_regions", "farm", "hole", "proposal")
#: Knobs whose change (besides every control and its switch) re-saves the state and re-checks staleness.
WATCHED_KNOBS = frozenset(("handles", "inputChange", "output", "mix", "show_regions"))


def saved_adapter_knobs(tool: Dict[str, Any]) -> Tuple[str, ...]:
    """SAVED_ADAPTER_KNOBS and the knob of each timeline file the tool reads (client tools.edit_inputs)."""
    return SAVED_ADAPTER_KNOBS + tuple(tools.edit_inputs(tool))


def node_name(tool: Dict[str, Any]) -> str:
    """The name a new node asks for: Matchcut_<tool>; Matchcut_Model for a tool that runs a chosen model (its
    own controls come from that model)."""
    return "Matchcut_" + ("Model" if tools.model_param(tool) else tool["name"])


def offer_models(specs: List[Dict[str, Any]], installed: List[str], wanted: Optional[str],
                 param: str) -> List[Dict[str, Any]]:
    """``specs`` with the ``param`` control (the model id) made a menu of the ``installed`` model ids (plus
    ``wanted`` when it is not installed, so a saved id is not lost), defaulting to ``wanted``, else the first
    installed id."""
    choices = list(installed)
    if wanted and wanted not in choices:
        choices.append(wanted)
    return [dict(spec, knob="Enumeration_Knob", type="choice", choices=choices or [""],
                 default=wanted or (choices[0] if choices else "")) if spec["name"] == param else spec
            for spec in specs]


def start_value(spec: Dict[str, Any], value: Any = None) -> Any:
    """The value a new control knob is set to: ``value``, else the spec's default; None (leave the knob as made)
    when there is none or a menu does not offer it."""
    start = knob_default(spec) if value is None else value
    if start is None or (spec["knob"] == "Enumeration_Knob" and start not in spec["choices"]):
        return None
    return start


def enable_spec(spec: Dict[str, Any]) -> Dict[str, Any]:
    """The spec of an optional control's on/off Boolean knob (off sends null: the worker decides)."""
    return {"name": spec["name"] + ENABLE_SUFFIX, "knob": "Boolean_Knob", "label": "use " + spec["label"],
            "tooltip": "off: the worker's own choice for {} (sent as null)".format(spec["label"])}


def adapter_specs(tool: Dict[str, Any], saved: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The adapter's own knobs of a node for ``tool``, in panel order, their start ``value`` taken from ``saved``
    values (None: left as made): the tab, hidden tool name, handles (not for a frameless tool), output, mix,
    the regions knobs (frameless only), status, the Process and Cancel buttons, the farm menu and its Farm
    button (the job goes to the farm instead of running here), the hidden state and, on the Model node, the
    hidden list of the model's controls; a node that trains has Train for Process, then Apply (a Model node
    on its Source running the trained model) and its note (TRAIN_NOTE); a node whose tool stands on an edit
    has its timeline file, hole and proposal knobs (``edit_specs``) for handles, output and mix. ``text`` is a
    Text/PyScript knob's third argument."""
    names = tool_outputs(tool)
    specs: List[Dict[str, Any]] = [
        {"name": "matchcut", "knob": "Tab_Knob", "label": "Matchcut"},
        {"name": "matchcut_tool", "knob": "String_Knob", "label": "tool", "value": tool["name"], "hidden": True}]
    if tools.stands_on_edit(tool):
        return specs + edit_specs(tool, saved) + _button_specs(tool, saved)
    if not tool.get("frameless"):
        where = "before and after" if tools.timing(tool)["handles_before"] else \
            "after (this tool numbers its result from the first frame)"
        specs.append({"name": "handles", "knob": "Int_Knob", "label": "handles",
                      "value": int(saved.get("handles", tools.default_handles(tool)) or 0),
                      "tooltip": "frames rendered and processed {} the range".format(where)})
    specs += [{"name": "output", "knob": "Enumeration_Knob", "label": "output", "choices": names,
               "value": saved.get("output") if saved.get("output") in names else names[0]},
              {"name": "mix", "knob": "Double_Knob", "label": "mix", "min": 0, "max": 1,
               "value": float(saved.get("mix", 1.0))}]
    if draws_regions(tool):
        specs += [{"name": "show_regions", "knob": "Boolean_Knob", "label": "draw regions",
                   "value": bool(saved.get("show_regions", True))},
                  {"name": "regions", "knob": "Text_Knob", "label": "regions", "text": ""}]
    return specs + _button_specs(tool, saved)


def edit_specs(tool: Dict[str, Any], saved: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A node whose tool stands on an edit (coverage): a file knob per timeline file it reads (named like the
    input), the hole (1, 2, ...) and the proposal of it the node shows (a menu filled from the result), a note
    on what they are. ValueError when a timeline input is named like one of the tool's controls."""
    controls = {c["name"] for c in tool.get("controls") or []}
    specs = []
    for name in tools.edit_inputs(tool):
        if name in controls or name in ADAPTER_KNOBS:
            raise ValueError("input {!r}: the name is taken by a control or the Nuke adapter's own knobs".format(name))
        spec = tools.input_spec(tool, name)
        specs.append({"name": name, "knob": "File_Knob", "label": spec.get("label") or name,
                      "value": str(saved.get(name) or ""), "tooltip": spec.get("help", "")})
    hole = saved.get("hole")
    specs += [{"name": "hole", "knob": "Int_Knob", "label": "hole",
               "value": int(hole) if isinstance(hole, int) and not isinstance(hole, bool) and hole > 0 else 1,
               "tooltip": "which hole of the edit the node shows (1: the first, in record order)"},
              {"name": "proposal", "knob": "Enumeration_Knob", "label": "proposal",
               "choices": [str(saved["proposal"])] if saved.get("proposal") else [""],
               "tooltip": "which of the hole's proposals the node shows, best first (filled by Process)"},
              {"name": "proposal_note", "knob": "Text_Knob", "label": "", "text": EDIT_NOTE}]
    return specs


def _button_specs(tool: Dict[str, Any], saved: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The status, Process (Train) and Cancel, a training's Apply and note, the farm menu and button, the state."""
    specs: List[Dict[str, Any]] = []
    button = process_label(tool)
    specs += [{"name": "status", "knob": "Text_Knob", "label": "status",
               "text": node_status.name_button(node_status.NOT_PROCESSED, button)},
              {"name": "process", "knob": "PyScript_Knob", "label": button,
               "text": "import matchcut_nuke.host as h; h.process(nuke.thisNode())"},
              {"name": "cancel", "knob": "PyScript_Knob", "label": "Cancel",
               "text": "import matchcut_nuke.host as h; h.cancel(nuke.thisNode())"}]
    if tools.trains(tool):
        specs += [{"name": "apply_model", "knob": "PyScript_Knob", "label": "Apply",
                   "text": "import matchcut_nuke.host as h; h.apply_model(nuke.thisNode())",
                   "tooltip": "make a Model node on the same Source, running the model this node trained (a new "
                              "node: nothing is replaced)"},
                  {"name": "train_note", "knob": "Text_Knob", "label": "", "text": TRAIN_NOTE}]
    specs += [{"name": "farm", "knob": "Enumeration_Knob", "label": "farm", "choices": list(farm.FARMS),
               "value": saved.get("farm") if saved.get("farm") in farm.FARMS else farm.default_farm(),
               "tooltip": "the render farm the Farm button sends this node's job to (default: $MATCHCUT_FARM)"},
              {"name": "farm_submit", "knob": "PyScript_Knob", "label": "Farm",
               "text": "import matchcut_nuke.host as h; h.send_to_farm(nuke.thisNode())",
               "tooltip": "render the inputs and send the job to the farm instead of processing here; the "
                          "status shows the farm's job id and the result once every frame is written"},
              {"name": "matchcut_state", "knob": "String_Knob", "label": "state", "hidden": True}]
    if tools.model_param(tool):
        specs.append({"name": "model_controls", "knob": "String_Knob", "label": "model controls", "hidden": True})
    return specs


def knob_fits(spec: Dict[str, Any], knob_class: str, choices: List[str], has_switch: bool) -> bool:
    """True when a node's existing knob is the one ``spec`` makes: the same class, for a menu the same items
    (``choices``), and an on/off switch (``has_switch``) exactly when the control is optional."""
    return (knob_class == spec["knob"] and (spec["knob"] != "Enumeration_Knob" or choices == spec["choices"])
            and has_switch == spec["optional"])


def job_params(tool: Dict[str, Any], readings: Dict[str, Tuple[Any, bool]]) -> Dict[str, Any]:
    """The job parameters from ``readings`` (control name -> (raw knob value, switch on), controls without a knob
    left out): every control's value (None for an optional one switched off); a model control only when it
    differs from the manifest's default."""
    params = {}
    for spec, control in zip(knob_specs(tool.get("controls", [])), tool.get("controls", [])):
        if spec["name"] not in readings:
            continue
        value = param_value(spec, *readings[spec["name"]])
        if control.get("model_control") and value == control.get("default"):
            continue
        params[spec["name"]] = value
    return params


def saved_values(tool: Dict[str, Any], readings: Dict[str, Tuple[Any, bool]],
                 adapter: Dict[str, Any]) -> Dict[str, Any]:
    """What the hidden state keeps: every read control's value (model controls too, see ``job_params`` for
    ``readings``), then the ``adapter`` knob values (SAVED_ADAPTER_KNOBS that the node has)."""
    values = {spec["name"]: param_value(spec, *readings[spec["name"]])
              for spec in knob_specs(tool.get("controls", [])) if spec["name"] in readings}
    values.update(adapter)
    return values


def watched_knobs(tool: Dict[str, Any]) -> Set[str]:
    """The knob names whose change re-saves a node's state and re-checks staleness (a timeline file's too)."""
    names = {spec["name"] for spec in knob_specs(tool.get("controls", []))}
    return names | {n + ENABLE_SUFFIX for n in names} | set(WATCHED_KNOBS) | set(tools.edit_inputs(tool))


def encode_control_names(tool: Dict[str, Any]) -> str:
    """The Model node's hidden list of its model's control names, as JSON."""
    return json.dumps([c["name"] for c in tool.get("controls", []) if c.get("model_control")])


def decode_control_names(text: str) -> List[str]:
    """The names ``encode_control_names`` wrote; none for empty or unreadable text."""
    try:
        return json.loads(text or "[]")
    except ValueError:
        return []
