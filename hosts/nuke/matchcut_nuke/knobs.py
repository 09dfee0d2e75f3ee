"""Knob specs from the worker's descriptions (`matchcut tools --json`, `matchcut models info ID --json`), the
inputs and outputs a node wires, and knob values turned into job parameters."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

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
