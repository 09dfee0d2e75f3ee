"""Knob specs from the worker's tool controls (`matchcut tools --json`): which Nuke knob class per control."""
from __future__ import annotations

from typing import Any, Dict, List

#: Control type -> Nuke knob class name (nuke.Enumeration_Knob etc.).
KNOB_CLASS = {"choice": "Enumeration_Knob", "enum": "Enumeration_Knob", "float": "Double_Knob",
              "int": "Int_Knob", "bool": "Boolean_Knob", "path": "File_Knob", "file": "File_Knob",
              "color": "Color_Knob", "str": "String_Knob", "string": "String_Knob"}


def knob_specs(controls: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One spec per control: name, knob class, label, default, range, choices, tooltip (unknown types: String)."""
    specs = []
    for control in controls:
        kind = str(control.get("type", "str"))
        specs.append({"name": control["name"], "knob": KNOB_CLASS.get(kind, "String_Knob"),
                      "label": control.get("label") or control["name"], "default": control.get("default"),
                      "min": control.get("min"), "max": control.get("max"),
                      "choices": [str(c) for c in control.get("choices") or []], "tooltip": control.get("help", "")})
    return specs


def tools_by_name(data: Any) -> Dict[str, Dict[str, Any]]:
    """`matchcut tools --json` as {name: tool}; accepts the worker's object form and a list of tools."""
    items = data.values() if isinstance(data, dict) else data
    return {tool["name"]: tool for tool in items}
