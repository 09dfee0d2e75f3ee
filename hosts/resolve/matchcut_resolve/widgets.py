"""Dialog specs: UIManager widgets from the tool's description (its controls, inputs and artifacts) and a
chosen model's controls, and their values back as params.

A spec is plain data (``id``, ``widget``, ``label``, ``props``, ``control``, ``type``); the Resolve-facing
module turns it into ``ui.<widget>(props)``. Every tool the worker describes gets a dialog with no adapter
change.
"""

import json
from typing import Any, Dict, List, Optional

from matchcut_resolve import results, training
from matchcut_resolve.client import farm, tools

#: Widget IDs: the adapter's own fields start with "mc_", a tool or model control's with "p_".
PARAM_PREFIX = "p_"
OWN_PREFIX = "mc_"
BIG = 1e9
#: Control UI hints that get no widget: the adapter fills "host" ones (an input's frames, an artifact's path);
#: a "followup" is set from a first run's report, which the dialog does not offer.
NO_WIDGET_HINTS = ("host", "followup")

PLACEMENTS = ("take", "track")
SCOPES = ("current", "selected", "in-out", "clip-colour")
PROVIDERS = ("auto", "cpu", "cuda", "tensorrt")
#: An extra input's choices besides the item labels: the item before the cut on its track, and none.
PREVIOUS = "(previous item)"
NONE = "(none)"


def label(tool: Dict[str, Any]) -> str:
    """The tool's name for the artist (its description's label): "Shot Match"."""
    return str(tool.get("label") or tool.get("name") or "tool")


def adapter_params(tool: Dict[str, Any]) -> List[str]:
    """The tool's parameters that get no widget: those the adapter fills (tools.host_params) and follow-ups."""
    names = set(tools.host_params(tool))
    names.update(c["name"] for c in tool.get("controls") or [] if c.get("ui") in NO_WIDGET_HINTS)
    return sorted(names)


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def control_spec(control: Dict[str, Any], value: Any = None, choices: Optional[List[str]] = None) -> Dict[str, Any]:
    """The widget spec of one control; ``value`` (a saved value) overrides the default."""
    kind = str(control.get("type", "string"))
    name = str(control["name"])
    default = control.get("default") if value is None else value
    label = str(control.get("label") or name)
    spec = {"id": PARAM_PREFIX + name, "control": name, "type": kind, "label": label,
            "tooltip": str(control.get("help") or "")}
    low, high = _number(control.get("min")), _number(control.get("max"))
    options = [str(c) for c in (choices if choices is not None else control.get("choices") or [])]
    if options:
        current = str(default) if default is not None else options[0]
        spec.update(widget="ComboBox", items=options, props={"ID": spec["id"]},
                    index=options.index(current) if current in options else 0)
    elif kind == "bool":
        spec.update(widget="CheckBox", props={"ID": spec["id"], "Text": label, "Checked": bool(default)})
    elif kind in ("int", "float") and default is not None:
        props = {"ID": spec["id"], "Minimum": low if low is not None else -BIG,
                 "Maximum": high if high is not None else BIG, "Value": default}
        if kind == "int":
            props = {k: (int(v) if k != "ID" else v) for k, v in props.items()}
            spec.update(widget="SpinBox", props=props)
        else:
            span = (high - low) if low is not None and high is not None else 1.0
            props.update(Decimals=3, SingleStep=round(span / 100.0, 4) or 0.01)
            spec.update(widget="DoubleSpinBox", props=props)
    else:
        # Text for strings, and for numbers or colours that may stay unset (empty: the tool decides).
        if kind == "color" and isinstance(default, (list, tuple)):
            text = " ".join(str(v) for v in default)
        elif default is None:
            text = ""
        elif isinstance(default, (dict, list)):
            text = json.dumps(default)
        else:
            text = str(default)
        hint = {"color": "r g b (scene-linear); empty: automatic", "int": "empty: automatic",
                "float": "empty: automatic"}.get(kind, "")
        spec.update(widget="LineEdit", props={"ID": spec["id"], "Text": text, "PlaceholderText": hint})
    return spec


def tool_specs(tool: Dict[str, Any], saved: Optional[Dict[str, Any]] = None,
               models: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """Widget specs for a tool's controls (less those the adapter fills in), a chosen model's among them
    (``tools.with_model_controls``).

    ``models``: the choices for the tool's model control (ui hint "model"); ``saved``: last values.
    """
    saved = saved or {}
    skip = adapter_params(tool)
    model = tools.model_param(tool)
    specs = []
    for control in tool.get("controls", []):
        if control["name"] in skip:
            continue
        choices = models if control["name"] == model and models else None
        specs.append(control_spec(control, saved.get(control["name"]), choices))
    return specs


def extra_inputs(tool: Dict[str, Any]) -> List[str]:
    """Inputs besides the main one the dialog asks for as timeline items (a reference, shot A, a mask...)."""
    return [spec["name"] for spec in tools.secondary_inputs(tool)]


def neighbour_inputs(tool: Dict[str, Any]) -> List[str]:
    """Inputs the item before the cut fills unless the artist says otherwise: those the tool needs and hosts
    pick from another clip (a shot match's reference, continuity's A)."""
    required = tools.required_inputs(tool)
    return [name for name in tools.picked_inputs(tool) if name in required]


def own_specs(tool: Dict[str, Any], saved: Optional[Dict[str, Any]] = None,
              items: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """The adapter's own fields: which items, handles, where the result goes, device, output folder, the farm
    Send to farm uses, the further inputs (a timeline item each; ``items``: the choices, PREVIOUS among them) and, for a tool that
    writes a CDL, the CDL on the grade. A tool that trains works on the current clip (no Items field); its
    target is the clips above it by default, or the selected clips, or one clip (training.CHOICES). A tool that
    stands on an edit (coverage) works on the whole timeline, or its In..Out: no Items field either."""
    saved = saved or {}
    fields = [
        {"name": "scope", "type": "choice", "default": "current", "choices": list(SCOPES), "label": "Items",
         "help": "current: the item under the playhead; selected: the video items selected on the timeline "
                 "(Resolve 21.0.4 and later); in-out: every item between the timeline's In and Out on its track; "
                 "clip-colour: every item of the current item's clip colour on its track"},
        {"name": "handles", "type": "int", "default": 0, "min": 0, "max": 1000, "label": "Handles (frames)",
         "help": "extra timeline frames before and after each item (clamped to the media)"},
        {"name": "placement", "type": "choice", "default": "take", "choices": list(PLACEMENTS),
         "label": "Result as", "help": "take: a new take on the item (toggle original/result); track: a new "
                                       "track above at the same record frame"},
        {"name": "provider", "type": "choice", "default": "auto", "choices": list(PROVIDERS), "label": "Device"},
        {"name": "output", "type": "string", "default": "", "label": "Output folder",
         "help": "where results are written (empty: the default under MATCHCUT_CACHE_DIR/resolve)"},
        {"name": "farm", "type": "choice", "default": farm.default_farm(), "choices": list(farm.FARMS),
         "label": "Farm", "help": "where Send to farm sends the job instead of running it here (default: "
                                  "$MATCHCUT_FARM); the output folder must be on storage the farm sees"},
    ]
    if tool.get("frameless"):
        fields = [f for f in fields if f["name"] not in ("handles", "placement")]
    if tools.trains(tool) or tools.stands_on_edit(tool):  # one source clip, the current one; or the timeline
        fields = [f for f in fields if f["name"] != "scope"]
    if results.cdl_artifact(tool) is not None:
        fields.append({"name": "apply_cdl", "type": "bool", "default": False, "label": "Apply CDL to the grade",
                       "help": "set the CDL on a node of the item's grade (SetCDL) to refine it"})
        fields.append({"name": "cdl_node", "type": "int", "default": 1, "min": 1, "max": 999, "label": "CDL node"})
    specs = []
    for field in fields:
        spec = control_spec(field, saved.get(field["name"]))
        spec["id"] = OWN_PREFIX + field["name"]
        spec["props"]["ID"] = spec["id"]
        specs.append(spec)
    choices = [NONE] + list(items or [])
    neighbours = neighbour_inputs(tool)
    paired = training.paired_inputs(tool)
    for input_spec in tools.secondary_inputs(tool):
        input_name = input_spec["name"]
        first = PREVIOUS if input_name in neighbours and PREVIOUS in choices else NONE
        offered = choices
        if input_name in paired:  # a training's corrected frames: the clips laid over the source, by default
            offered = list(training.CHOICES) + [c for c in choices if c != PREVIOUS]
            first = training.ABOVE
        field = {"name": "input_" + input_name, "type": "choice", "choices": offered,
                 "label": input_spec.get("label") or input_name.replace("_", " ").capitalize(),
                 "help": input_spec.get("help") or "", "default": saved.get("input_" + input_name, first)}
        spec = control_spec(field, None, offered)
        spec["id"] = OWN_PREFIX + field["name"]
        spec["props"]["ID"] = spec["id"]
        spec["input"] = input_name
        specs.append(spec)
    return specs


def parse_value(spec: Dict[str, Any], raw: Any) -> Any:
    """A widget's raw value (Text, Value, Checked or CurrentText) as the control's typed value.

    Raises ValueError naming the field for text that is not what the control expects.
    """
    kind = spec["type"]
    if spec["widget"] == "ComboBox":
        return str(raw)
    if spec["widget"] == "CheckBox":
        return bool(raw)
    if spec["widget"] in ("SpinBox", "DoubleSpinBox"):
        return int(raw) if kind == "int" else float(raw)
    text = str(raw if raw is not None else "").strip()
    if kind == "string":
        return text
    if not text:
        return None
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "color":
            parts = [float(p) for p in text.replace(",", " ").split()]
            if len(parts) != 3:
                raise ValueError
            return parts
    except ValueError:
        expected = {"int": "a whole number", "float": "a number", "color": "three numbers, r g b"}[kind]
        raise ValueError("{}: expected {} or nothing, got {!r}".format(spec["label"], expected, text))
    return text


def params_from_values(specs: List[Dict[str, Any]], values: Dict[str, Any]) -> Dict[str, Any]:
    """{control: typed value} for the specs whose raw values are in ``values`` (by widget id); unset
    optional values (None) are left out so the tool's default applies."""
    params = {}
    for spec in specs:
        if spec["id"] not in values:
            continue
        value = parse_value(spec, values[spec["id"]])
        if value is not None:
            params[spec["control"]] = value
    return params
