"""Knob specs from the worker's descriptions (`matchcut tools --json`, `matchcut models info ID --json`), the
inputs and outputs a node wires, and knob values turned into job parameters."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Set, Tuple

from matchcut_nuke import node_status, timing

#: Menu labels of the worker's tools (a tool the worker adds later is listed under its own name).
LABELS = {"match": "Shot Match", "relight": "Relight", "matte": "Matte", "fill": "Fill Frames", "retime": "Retime",
          "continuity": "Continuity Check", "apply": "Model"}
#: Control type -> Nuke knob class name (nuke.Enumeration_Knob etc.).
KNOB_CLASS = {"choice": "Enumeration_Knob", "enum": "Enumeration_Knob", "float": "Double_Knob",
              "int": "Int_Knob", "bool": "Boolean_Knob", "path": "File_Knob", "file": "File_Knob",
              "color": "Color_Knob", "str": "String_Knob", "string": "String_Knob"}
#: Knobs the adapter adds to every node; a tool or model control may not take these names.
ADAPTER_KNOBS = ("matchcut", "matchcut_tool", "matchcut_state", "handles", "output", "mix", "status", "process",
                 "cancel", "regions", "show_regions", "model_controls")
#: Suffix of the Boolean knob that switches an optional control (default None) on; off sends null.
ENABLE_SUFFIX = "_enable"
#: A frameless tool that declares no inputs (continuity) compares two shots: A (reference) and B.
PAIR_INPUTS = ["a", "b"]
#: The output a node shows by default where the first one is not the one a compositor wants: a keyer's
#: premultiplied foreground (like Keylight's final result) rather than the bare matte.
MAIN_OUTPUT = {"matte": "foreground"}
#: A continuity node's outputs: B with the regions drawn, and with a patch region set, B patched and the patch.
CONTINUITY_OUTPUTS = ["regions", "main", "patch"]


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


def tools_by_name(data: Any) -> Dict[str, Dict[str, Any]]:
    """`matchcut tools --json` as {name: tool}; accepts the worker's object form and a list of tools."""
    items = data.values() if isinstance(data, dict) else data
    return {tool["name"]: tool for tool in items}


def tool_inputs(tool: Dict[str, Any]) -> List[str]:
    """The node's inputs in order (Nuke input 0 first): the tool's inputs, optional ones included."""
    inputs = list(tool.get("inputs") or [])
    if not inputs:
        inputs = list(PAIR_INPUTS) if tool.get("frameless") else ["plate"]
    return inputs


def required_inputs(tool: Dict[str, Any]) -> List[str]:
    """The inputs that must be connected before Process."""
    optional = set(tool.get("optional_inputs") or [])
    return [name for name in tool_inputs(tool) if name not in optional]


def passthrough_input(tool: Dict[str, Any]) -> int:
    """The input the node passes through when there is no current result: B for a pair, else the plate."""
    return len(PAIR_INPUTS) - 1 if tool_inputs(tool) == PAIR_INPUTS else 0


def tool_outputs(tool: Dict[str, Any]) -> List[str]:
    """The outputs the node offers, the default one first: relight main, passes; matte foreground, matte, comp."""
    if tool.get("frameless"):
        return list(CONTINUITY_OUTPUTS)
    names = list(tool.get("outputs") or []) or list(tool.get("output_kinds") or {}) or ["main"]
    main = MAIN_OUTPUT.get(tool["name"])
    if main in names:
        names.remove(main)
        names.insert(0, main)
    return names


def job_outputs(tool: Dict[str, Any], connected: List[str], params: Dict[str, Any]) -> List[str]:
    """The frame outputs a job asks for: every output the tool can make with what is connected and set (a
    matte's comp only with a background plate or colour)."""
    if tool.get("frameless"):
        return ["main", "patch"] if params.get("patch") is not None else []
    names = tool_outputs(tool)
    if tool["name"] == "matte" and "background" not in connected and params.get("background_color") is None:
        names = [n for n in names if n != "comp"]
    return names


def model_tool(tool: Dict[str, Any], manifest: Dict[str, Any]) -> Dict[str, Any]:
    """The Model node's description: the apply tool with the chosen model's manifest controls after its own
    (a control named like one of apply's is left out: apply's wins, as in the worker)."""
    own = {c["name"] for c in tool.get("controls", [])}
    extra = [dict(c, model_control=True) for c in manifest.get("controls") or [] if c["name"] not in own]
    return dict(tool, controls=list(tool.get("controls", [])) + extra, model=str(manifest.get("id", "")))


def model_choices(models: Any) -> List[str]:
    """Model ids for the Model node's menu from `matchcut models list --json`: image-to-image models first,
    then studio models with other tasks (the worker's apply tool refuses fixed-size ones with a clear error)."""
    entries = models.get("models", []) if isinstance(models, dict) else list(models)
    builtin_tasks = ("segmentation", "face-detection", "face-landmarks", "interpolation")
    first = [m["id"] for m in entries if m.get("task") == "image-to-image"]
    rest = [m["id"] for m in entries if m.get("task") not in builtin_tasks and m["id"] not in first]
    return first + rest


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

#: The adapter's knobs whose values the hidden state keeps beside the controls'.
SAVED_ADAPTER_KNOBS = ("handles", "output", "mix", "show_regions")
#: Knobs whose change (besides every control and its switch) re-saves the state and re-checks staleness.
WATCHED_KNOBS = frozenset(("handles", "inputChange", "output", "mix", "show_regions"))


def node_name(tool: Dict[str, Any]) -> str:
    """The name a new node asks for: Matchcut_<tool>, Matchcut_Model for apply."""
    return "Matchcut_" + ("Model" if tool["name"] == "apply" else tool["name"])


def offer_models(specs: List[Dict[str, Any]], installed: List[str], wanted: Optional[str]) -> List[Dict[str, Any]]:
    """``specs`` with the "model" control made a menu of the ``installed`` model ids (plus ``wanted`` when it is
    not installed, so a saved id is not lost), defaulting to ``wanted``, else the first installed id."""
    choices = list(installed)
    if wanted and wanted not in choices:
        choices.append(wanted)
    return [dict(spec, knob="Enumeration_Knob", type="choice", choices=choices or [""],
                 default=wanted or (choices[0] if choices else "")) if spec["name"] == "model" else spec
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
    the regions knobs (frameless only), status, the Process and Cancel buttons, the hidden state and, on the
    Model node, the hidden list of the model's controls. ``text`` is a Text/PyScript knob's third argument."""
    names = tool_outputs(tool)
    specs: List[Dict[str, Any]] = [
        {"name": "matchcut", "knob": "Tab_Knob", "label": "Matchcut"},
        {"name": "matchcut_tool", "knob": "String_Knob", "label": "tool", "value": tool["name"], "hidden": True}]
    if not tool.get("frameless"):
        specs.append({"name": "handles", "knob": "Int_Knob", "label": "handles",
                      "value": int(saved.get("handles", timing.DEFAULT_HANDLES.get(tool["name"], 0)) or 0),
                      "tooltip": "frames rendered and processed before and after the range (retime: after only)"})
    specs += [{"name": "output", "knob": "Enumeration_Knob", "label": "output", "choices": names,
               "value": saved.get("output") if saved.get("output") in names else names[0]},
              {"name": "mix", "knob": "Double_Knob", "label": "mix", "min": 0, "max": 1,
               "value": float(saved.get("mix", 1.0))}]
    if tool.get("frameless"):
        specs += [{"name": "show_regions", "knob": "Boolean_Knob", "label": "draw regions",
                   "value": bool(saved.get("show_regions", True))},
                  {"name": "regions", "knob": "Text_Knob", "label": "regions", "text": ""}]
    specs += [{"name": "status", "knob": "Text_Knob", "label": "status", "text": node_status.NOT_PROCESSED},
              {"name": "process", "knob": "PyScript_Knob", "label": "Process",
               "text": "import matchcut_nuke.host as h; h.process(nuke.thisNode())"},
              {"name": "cancel", "knob": "PyScript_Knob", "label": "Cancel",
               "text": "import matchcut_nuke.host as h; h.cancel(nuke.thisNode())"},
              {"name": "matchcut_state", "knob": "String_Knob", "label": "state", "hidden": True}]
    if tool["name"] == "apply":
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
    """The knob names whose change re-saves a node's state and re-checks staleness."""
    names = {spec["name"] for spec in knob_specs(tool.get("controls", []))}
    return names | {n + ENABLE_SUFFIX for n in names} | set(WATCHED_KNOBS)


def encode_control_names(tool: Dict[str, Any]) -> str:
    """The Model node's hidden list of its model's control names, as JSON."""
    return json.dumps([c["name"] for c in tool.get("controls", []) if c.get("model_control")])


def decode_control_names(text: str) -> List[str]:
    """The names ``encode_control_names`` wrote; none for empty or unreadable text."""
    try:
        return json.loads(text or "[]")
    except ValueError:
        return []
