"""The worker's tool and model descriptions (``matchcut tools --json``, ``models info --json``) as operator plans.

Operators are built from these at registration, so a tool the worker gains appears without new add-on code.
A property plan is (identifier, kind, options): kind is one of bool, int, float, string, enum, color, and
options are the keyword arguments Blender's property function takes (name, description, default, min, max,
items). A control whose default is empty (an optional number) gets a ``use_<name>`` switch beside it: the
job gets the value only when the switch is on.
"""

from collections import namedtuple

#: Tools that read frames around the ones they write: jobs get handles from the strip's unused frames.
TEMPORAL = ("retime", "fill")
#: Tools whose output frame count differs from the input's: the result strip is not trimmed to the source.
RETIMING = ("retime",)
#: Two-shot tools: the input filled from the other selected strip (the reference) and the one from the active.
TWO_SHOT = {"continuity": ("a", "b")}
#: Inputs every tool reads from the active strip or image.
MAIN_INPUT = "plate"
#: Secondary inputs filled from the other selected strips (in this order); the others (match's mask, matte's
#: garbage, holdout, clean_plate) only when the artist names a strip or image for them.
AUTO_INPUTS = ("reference", "a", "background")
#: Secondary inputs a tool cannot run without.
REQUIRED_INPUTS = ("reference", "a")
#: The output that becomes the new strip or image, first found; every other output is loaded as a pass.
PRIMARY_OUTPUTS = ("main", "comp")

ToolSpec = namedtuple("ToolSpec", "name description inputs outputs output_kinds frameless controls")
Control = namedtuple("Control", "name type default min max choices label help")


def parse_tools(data):
    """``matchcut tools --json`` -> {name: ToolSpec}; ValueError naming the tool and field that is malformed."""
    if not isinstance(data, dict):
        raise ValueError("the tools description is not a JSON object")
    tools = {}
    for name, entry in sorted(data.items()):
        if not isinstance(entry, dict):
            raise ValueError("tool %r: expected an object" % name)
        controls = [parse_control(c, "tool %r" % name) for c in entry.get("controls") or []]
        tools[name] = ToolSpec(
            name=str(entry.get("name") or name), description=str(entry.get("description") or ""),
            inputs=list(entry.get("inputs") or []), outputs=list(entry.get("outputs") or []),
            output_kinds=dict(entry.get("output_kinds") or {}), frameless=bool(entry.get("frameless")),
            controls=controls)
    return tools


def parse_control(entry, where):
    """One control of a tool or a model manifest -> Control."""
    if not isinstance(entry, dict) or not entry.get("name"):
        raise ValueError("%s: a control without a name: %r" % (where, entry))
    ctype = entry.get("type", "string")
    if ctype not in ("float", "int", "bool", "choice", "color", "string"):
        raise ValueError("%s: control %r has unknown type %r" % (where, entry["name"], ctype))
    return Control(str(entry["name"]), ctype, entry.get("default"), entry.get("min"), entry.get("max"),
                   list(entry.get("choices") or []), str(entry.get("label") or entry["name"]),
                   str(entry.get("help") or ""))


def image_models(models_list):
    """``matchcut models list --json`` -> ids of the models ``apply`` runs (task image-to-image), sorted."""
    models = models_list.get("models", []) if isinstance(models_list, dict) else []
    return sorted(m["id"] for m in models if isinstance(m, dict) and m.get("task") == "image-to-image")


def property_plan(control):
    """The Blender properties for one control: a list of (identifier, kind, options).

    ``identifier`` is the control's name (prefixed ``p_`` so it never clashes with an operator's own
    attributes); an optional number adds ``use_<name>``.
    """
    ident = "p_" + control.name
    opts = {"name": control.label, "description": control.help or control.label}
    plan = []
    if control.type == "bool":
        opts["default"] = bool(control.default)
        kind = "bool"
    elif control.type in ("int", "float"):
        kind = control.type
        cast = int if kind == "int" else float
        if control.min is not None:
            opts["min"] = cast(control.min)
        if control.max is not None:
            opts["max"] = cast(control.max)
        if control.default is None:
            plan.append(("use_" + control.name, "bool",
                         {"name": "Set " + control.label, "default": False,
                          "description": "Send %s to the worker (off: the tool's own choice)" % control.label}))
            start = opts.get("min", cast(0))
            if kind == "float" and "min" in opts and "max" in opts and opts["min"] <= 1.0 <= opts["max"]:
                start = 1.0
            opts["default"] = start
        else:
            opts["default"] = cast(control.default)
    elif control.type == "choice":
        kind = "enum"
        choices = [str(c) for c in control.choices] or [str(control.default or "")]
        opts["items"] = [(c, c, "") for c in choices]
        opts["default"] = str(control.default) if control.default in choices else choices[0]
    elif control.type == "color":
        kind = "color"
        if control.default is None:  # empty: the tool picks (matte's screen colour from the frame border)
            plan.append(("use_" + control.name, "bool",
                         {"name": "Set " + control.label, "default": False,
                          "description": "Send %s to the worker (off: the tool's own choice)" % control.label}))
        default = list(control.default or [0.0, 0.0, 0.0])
        opts["default"] = tuple(float(x) for x in default)
        opts["size"] = len(default)
    else:
        kind = "string"
        opts["default"] = "" if control.default is None else str(control.default)
    plan.append((ident, kind, opts))
    return plan


def params_from(controls, values):
    """The job's params from operator values: ``values`` maps identifiers (``p_x``, ``use_x``) to values.

    Optional numbers are left out unless switched on; empty strings are left out (the tool's default).
    """
    params = {}
    for c in controls:
        ident = "p_" + c.name
        if ident not in values:
            continue
        if c.type in ("int", "float", "color") and c.default is None and not values.get("use_" + c.name):
            continue
        value = values[ident]
        if c.type == "string" and value == "" and not c.default:
            continue
        if c.type == "color":
            value = [float(x) for x in value]
        elif c.type == "int":
            value = int(value)
        elif c.type == "float":
            value = float(value)
        elif c.type == "choice" and isinstance(c.default, (int, float)) and not isinstance(c.default, bool):
            value = type(c.default)(value)  # a numeric choice (match's lut_size) goes back as a number
        params[c.name] = value
    return params


def secondary_inputs(tool):
    """The inputs of a tool other than the main plate, in order: these come from other selected strips."""
    if tool.name in TWO_SHOT:
        return [TWO_SHOT[tool.name][0]]
    return [name for name in tool.inputs if name != MAIN_INPUT]


def output_names(tool, passes=True):
    """Every output a job asks the tool for: its declared outputs, else the names it describes kinds for.

    Outputs of kind ``pass`` (relight's multi-layer passes) are extra work: only with ``passes``.
    """
    names = list(tool.outputs) or [n for n in tool.output_kinds if tool.name not in TWO_SHOT] or ["main"]
    return [n for n in names if passes or tool.output_kinds.get(n) != "pass"]


#: The key light an operator offers for tools with a ``lights`` control (relight): (identifier, kind, options).
LIGHT_PROPERTIES = (
    ("light_type", "enum", {"name": "Light", "default": "directional",
                            "items": [(t, t.capitalize(), "") for t in ("directional", "point", "spot", "area")]}),
    ("light_direction", "vector", {"name": "Direction", "default": (-1.0, 0.0, 0.5), "size": 3,
                                   "description": "Directional: from the subject towards the light (camera space, "
                                                  "x right, y up, z to camera)"}),
    ("light_position", "vector", {"name": "Position", "default": (-0.6, 0.3, 0.8), "size": 3,
                                  "description": "Point, spot, area: in frame widths from the frame's centre"}),
    ("light_color", "color", {"name": "Colour", "default": (1.0, 1.0, 1.0), "size": 3}),
    ("light_intensity", "float", {"name": "Intensity", "default": 1.0, "min": 0.0, "max": 100.0}),
    ("light_cone", "float", {"name": "Cone (deg)", "default": 40.0, "min": 1.0, "max": 179.0}),
    ("light_softness", "float", {"name": "Softness", "default": 0.3, "min": 0.0, "max": 1.0}),
    ("light_size", "float", {"name": "Size", "default": 0.3, "min": 0.001, "max": 10.0}),
)


def light_from(values):
    """The key light from operator values (LIGHT_PROPERTIES identifiers) as a relight light object."""
    kind = values["light_type"]
    light = {"type": kind, "color": [float(x) for x in values["light_color"]],
             "intensity": float(values["light_intensity"])}
    if kind == "directional":
        light["direction"] = [float(x) for x in values["light_direction"]]
    else:
        light["position"] = [float(x) for x in values["light_position"]]
    if kind == "spot":
        light["cone"] = float(values["light_cone"])
        light["softness"] = float(values["light_softness"])
    if kind == "area":
        light["size"] = float(values["light_size"])
    return light


def pass_socket_name(layer):
    """A multi-layer pass's layer as the node group's output name (``N`` is the normals)."""
    return {"N": "normals"}.get(layer, layer)


def alpha_only(tool, name):
    """Whether an output is one alpha channel (the worker writes a ``matte`` output as channel A alone):
    Blender reads such a file into the image's alpha, so nodes take its Alpha socket."""
    return tool.output_kinds.get(name) == "matte"


def primary_output(tool, names):
    """Which of ``names`` becomes the new strip or image (None: they are all passes)."""
    return next((n for n in PRIMARY_OUTPUTS if n in names), None)


def required_inputs(tool):
    """The secondary inputs the artist must give (a reference); the rest are optional."""
    return [n for n in secondary_inputs(tool) if n in REQUIRED_INPUTS]


def main_input(tool):
    """The input the active strip or image fills."""
    return TWO_SHOT[tool.name][1] if tool.name in TWO_SHOT else MAIN_INPUT


def runnable(tool):
    """Whether a host can run the tool on a strip: it reads the main plate or is a known two-shot tool."""
    return MAIN_INPUT in tool.inputs or tool.name in TWO_SHOT
