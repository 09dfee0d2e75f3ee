"""The worker's tools as Blender operator plans: which operators there are, their properties and their inputs.

Everything comes from the tools' descriptions (``matchcut tools --json``, read and checked by the client's
``tools`` module) and the installed models' manifests, so a tool the worker gains appears with no add-on edit.
A property plan is (identifier, kind, options): kind is one of bool, int, float, string, enum, color, vector,
and options are the keyword arguments Blender's property function takes (name, description, default, min,
max, items, size). A control whose default is empty (an optional number) gets a ``use_<name>`` switch beside
it: the job gets the value only when the switch is on. Controls the adapter fills itself (an input's frames,
an artifact's path) get no property.
"""

import os
import tempfile
from collections import namedtuple

from .client import farm as farms
from .client import tools as described
from .client import worker as workers

#: What the worker offers: ``tools`` {name: description}, ``models`` {model id: manifest} for the tools that
#: run a model, ``note`` (one line, or ""): why some of it may be stale or missing.
Catalog = namedtuple("Catalog", "tools models note")

#: One operator: ``ident`` (``strip_match``; bl_idname is ``matchcut.<ident>``), ``label``, ``description``,
#: ``tool`` (the description, a model's controls joined), ``model`` (a model id, or ""), ``target`` (STRIP or
#: IMAGE), ``properties`` (property plans), ``controls`` (the controls whose values are the job's params).
OperatorPlan = namedtuple("OperatorPlan", "ident label description tool model target properties controls")

TARGETS = ("STRIP", "IMAGE")
#: The add-on's own folder (where an installed add-on's record, client.tools.RECORD, is).
ADDON_FOLDER = os.path.dirname(os.path.abspath(__file__))
CONTROL_TYPES = ("float", "int", "bool", "choice", "color", "string")


# --- the catalog: the worker's descriptions, cached -------------------------------------------------------

def cache_folder(env=None, extension_folder=""):
    """Where the add-on keeps the worker's descriptions: ``$MATCHCUT_CACHE_DIR/blender`` when set, else the
    extension's user folder (``extension_folder``), else (a legacy add-on) the temp folder's
    ``matchcut-blender/cache``, as the results of an unsaved file."""
    env = os.environ if env is None else env
    if env.get("MATCHCUT_CACHE_DIR"):
        return os.path.join(os.path.expanduser(env["MATCHCUT_CACHE_DIR"]), "blender")
    if extension_folder:
        return extension_folder
    return os.path.join(tempfile.gettempdir(), "matchcut-blender", "cache")


def load_catalog(exe, cache_dir=None, refresh=False, timeout=described.STARTUP_TIMEOUT):
    """The worker's tools and the manifests of the models its model-running tools offer, as a Catalog.

    The descriptions come from the cache when the worker has not changed (start-up never waits on it); the
    models are asked each time (they are installed without the worker changing), each question within
    ``timeout`` s. Raises WorkerError (one line: a missing worker, one of another version) when there are no
    descriptions at all.
    """
    answer, note = described.load_answer(exe, cache_dir, timeout=timeout, refresh=refresh)
    tools = described.tools_from(answer)
    models = {}
    if any(described.model_param(t) for t in tools.values()) and not note:
        try:
            listed = workers.query(exe, ["models", "list", "--json"], timeout=timeout)
            for model_id in described.image_models(listed):
                models[model_id] = workers.query(exe, ["models", "info", model_id, "--json"], timeout=timeout)
        except workers.WorkerError as exc:
            note = "{} (no model operators)".format(exc)
    # installed by `matchcut hosts install blender` from another Matchcut than this worker: one line saying so
    mismatch = described.version_mismatch(described.installed_record(ADDON_FOLDER), answer, "blender")
    return Catalog(tools, models, "; ".join(n for n in (mismatch, note) if n))


def preset_worker(folder=None):
    """The worker path `matchcut hosts install blender` wrote into the add-on's record (the preferences' default
    Worker), or "" (built from a checkout, or no record)."""
    record = described.installed_record(folder or ADDON_FOLDER)
    return str(record.get("worker") or "") if record else ""


# --- properties from controls -----------------------------------------------------------------------------

def _switch(control):
    return ("use_" + control["name"], "bool",
            {"name": "Set " + _label(control), "default": False,
             "description": "Send %s to the worker (off: the tool's own choice)" % _label(control)})


def _label(control):
    return str(control.get("label") or control["name"])


def property_plan(control, where="tool"):
    """The Blender properties for one control: a list of (identifier, kind, options).

    ``identifier`` is the control's name prefixed ``p_`` (so it never clashes with an operator's own
    attributes); an optional number or colour adds ``use_<name>``. ValueError for a control type this add-on
    does not know (``where`` names the tool).
    """
    ctype = control.get("type", "string")
    if ctype not in CONTROL_TYPES:
        raise ValueError("%s: control %r has unknown type %r" % (where, control.get("name"), ctype))
    default = control.get("default")
    opts = {"name": _label(control), "description": str(control.get("help") or _label(control))}
    plan = []
    if ctype == "bool":
        opts["default"] = bool(default)
        kind = "bool"
    elif ctype in ("int", "float"):
        kind = ctype
        cast = int if kind == "int" else float
        if control.get("min") is not None:
            opts["min"] = cast(control["min"])
        if control.get("max") is not None:
            opts["max"] = cast(control["max"])
        if default is None:
            plan.append(_switch(control))
            start = opts.get("min", cast(0))
            if kind == "float" and "min" in opts and "max" in opts and opts["min"] <= 1.0 <= opts["max"]:
                start = 1.0
            opts["default"] = start
        else:
            opts["default"] = cast(default)
    elif ctype == "choice":
        kind = "enum"
        choices = [str(c) for c in control.get("choices") or []] or [str(default or "")]
        opts["items"] = [(c, c, "") for c in choices]
        opts["default"] = str(default) if str(default) in choices else choices[0]
    elif ctype == "color":
        kind = "color"
        if default is None:  # empty: the tool picks (a screen colour from the frame border)
            plan.append(_switch(control))
        value = list(default or [0.0, 0.0, 0.0])
        opts["default"] = tuple(float(x) for x in value)
        opts["size"] = len(value)
    else:
        kind = "string"
        opts["default"] = "" if default is None else str(default)
    plan.append(("p_" + control["name"], kind, opts))
    return plan


def params_from(controls, values):
    """The job's params from operator values: ``values`` maps identifiers (``p_x``, ``use_x``) to values.

    Optional numbers are left out unless switched on; empty strings are left out (the tool's default).
    """
    params = {}
    for c in controls:
        name, ctype, default = c["name"], c.get("type", "string"), c.get("default")
        ident = "p_" + name
        if ident not in values:
            continue
        if ctype in ("int", "float", "color") and default is None and not values.get("use_" + name):
            continue
        value = values[ident]
        if ctype == "string" and value == "" and not default:
            continue
        if ctype == "color":
            value = [float(x) for x in value]
        elif ctype == "int":
            value = int(value)
        elif ctype == "float":
            value = float(value)
        elif ctype == "choice" and isinstance(default, (int, float)) and not isinstance(default, bool):
            value = type(default)(value)  # a numeric choice goes back as a number
        params[name] = value
    return params


def job_controls(tool):
    """The controls an operator shows and sends: all but those the adapter fills and the model choice (each
    model gets an operator of its own)."""
    skip = set(described.host_params(tool)) | {described.model_param(tool)}
    return [c for c in described.controls(tool) if c["name"] not in skip]


def light_param(tool):
    """The control that takes a light list (ui ``lights``), or None: such a tool gets LIGHT_PROPERTIES."""
    found = described.controls(tool, "lights")
    return found[0]["name"] if found else None


def artifact_switch(artifact):
    """The operator property that asks for one of the tool's artifacts (a LUT, a CDL): ``write_<name>``."""
    return "write_" + artifact["name"]


def wanted_artifacts(tool, values):
    """The names of the artifacts whose switch is on in ``values`` (operator values by identifier)."""
    return [a["name"] for a in tool.get("artifacts") or [] if values.get(artifact_switch(a))]


def frame_output_names(tool):
    """Every output of the tool that is frames (not a report folder or a JSON file)."""
    return described.frame_outputs(tool, [o["name"] for o in described.output_specs(tool)])


#: The key light an operator offers for tools with a ``lights`` control: (identifier, kind, options).
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
    """The key light from operator values (LIGHT_PROPERTIES identifiers) as a light object of a light list."""
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


# --- operator plans ---------------------------------------------------------------------------------------

def runnable(tool, target="STRIP"):
    """Whether an operator can fill the tool's inputs: it has a main input (the active strip or image), or it
    stands on an edit (coverage) and the operator is the Sequencer's (its strips are the edit)."""
    if described.stands_on_edit(tool):
        return target == "STRIP"
    return any(i.get("role") == "main" for i in tool.get("input_specs") or [])


def operator_plan(tool, target, manifest=None):
    """The operator for one tool (with ``manifest``: one model of a model-running tool) on strips or images."""
    model = str(manifest.get("id", "")) if manifest else ""
    if manifest:
        tool = described.with_model_controls(tool, manifest)
    name = tool["name"]
    base = name if not model else "%s_%s" % (name, model)
    ident = ("strip_" if target == "STRIP" else "image_") + "".join(
        ch if ch.isalnum() else "_" for ch in base.lower())
    label = str(tool.get("label") or name)
    label = label if not model else "%s: %s" % (label, model)
    controls = job_controls(tool)
    properties = []
    for control in controls:
        for plan in property_plan(control, "tool %r" % name):
            if plan[0] not in [p[0] for p in properties]:
                properties.append(plan)
    word = "strip" if target == "STRIP" else "image"
    for spec in described.secondary_inputs(tool):
        if target == "STRIP" and (spec.get("pick") or spec.get("required")):
            hint = "Empty: the other selected strip"
        elif spec.get("required"):
            hint = "Required: the %s's name" % word
        else:
            hint = "The %s's name (empty: none)" % word
        help_text = str(spec.get("help") or "")
        properties.append(("in_" + spec["name"], "string", {
            "name": "%s %s" % (spec.get("label") or spec["name"].capitalize(), word), "default": "",
            "description": ("%s. %s" % (hint, help_text) if help_text else hint)[:250]}))
    for artifact in tool.get("artifacts") or []:  # written on request only (a CDL may not fit the grade)
        what = artifact.get("label") or artifact["name"]
        properties.append((artifact_switch(artifact), "bool", {
            "name": "Write %s" % what, "default": False,
            "description": "Also write the %s (%s) into the result's version folder" % (what, artifact["suffix"])}))
    if described.default_handles(tool) and target == "STRIP":
        properties.append(("handles", "int", {
            "name": "Handles", "default": described.default_handles(tool), "min": 0, "max": 48,
            "description": "Frames beyond the cut the tool may read, where the source has them"}))
    if len(frame_output_names(tool)) > 1:
        properties.append(("wire_passes", "bool", {
            "name": "Passes into a node group", "default": False,
            "description": "Load the passes into a compositor node group the artist can edit"}))
        properties.append(("to_compositor", "bool", {
            "name": "Add to the compositor", "default": False,
            "description": "Also put that node group in the scene's compositor, beside the artist's nodes, with a "
                           "Viewer (the composite chain is kept)"}))
    if light_param(tool):
        properties.append(("use_light", "bool", {"name": "Key light", "default": True,
                                                  "description": "Add the light below (when Lights is empty)"}))
        properties += list(LIGHT_PROPERTIES)
    if target == "IMAGE":
        properties.append(("image", "string", {"name": "Image", "default": "",
                                                "description": "Empty: the Image Editor's image"}))
    properties += farm_properties()
    properties.append(("synchronous", "bool", {"name": "Wait", "default": False, "options": {"SKIP_SAVE", "HIDDEN"},
                                               "description": "Run without the modal progress (scripts)"}))
    doc = "%s (on the active %s; the result is added beside it)" % (str(tool.get("description") or label)
                                                                   .rstrip("."), word)
    if described.stands_on_edit(tool):  # the scene's strips are its edit: no active strip, nothing replaced
        doc = "On the Sequencer's strips (the preview range when set): proposals come back as strips above each " \
              "hole, muted but the best. %s" % (tool.get("description") or label)
    if described.trains(tool):  # trains on the pair, then runs what it learned on the active one (said first:
        other = "the other selected strip" if target == "STRIP" else "the image named in Target"  # 250 chars)
        doc = "Trains on the active %s and %s (its corrected frames), then runs the learned fix on the active " \
              "%s; the result is added beside it. %s" % (word, other, word, tool.get("description") or label)
    return OperatorPlan(ident, label, doc[:250], tool, model, target, properties, controls)


def farm_properties():
    """The operator's farm option: send the job to a render farm instead of running it here, and which farm
    (default $MATCHCUT_FARM)."""
    return [("send_to_farm", "bool", {
                "name": "Send to farm", "default": False,
                "description": "Write the job and submit it to the farm below instead of running it here; the "
                               "farm's job id is reported and the results land in the results folder"}),
            ("farm", "enum", {"name": "Farm", "default": farms.default_farm(),
                              "items": [(name, name, "") for name in farms.FARMS],
                              "description": "The render farm (default: $MATCHCUT_FARM)"})]


def operator_plans(catalog):
    """Every operator the catalog gives, strips first: (plans, problems). A tool with no main input (command
    line only) is left out, one that stands on an edit gets a Sequencer operator only; one this add-on cannot
    show (an unknown control type) is a problem (one line)."""
    plans, problems = [], []
    for target in TARGETS:
        for name, tool in sorted(catalog.tools.items()):
            if not runnable(tool, target):
                continue
            try:
                if described.model_param(tool):
                    plans += [operator_plan(tool, target, catalog.models[m]) for m in sorted(catalog.models)]
                else:
                    plans.append(operator_plan(tool, target))
            except (ValueError, KeyError) as exc:
                if target == TARGETS[0]:
                    problems.append("tool %s left out: %s" % (name, exc))
    return plans, problems


def assign_inputs(tool, chosen, spare, target="STRIP", active=""):
    """Which source fills each secondary input: {input name: source}.

    ``chosen``: the sources the artist named ({name: source}); ``spare``: the other selected strips, in
    order, taken by the inputs the tool picks (a reference, shot A, a background) and by the inputs it needs (a
    training's target); ``active``: the active strip's name, for the message. ValueError names a required
    input that got none.
    """
    named = [s for s in chosen.values() if s is not None]
    spare = [s for s in spare if not any(s == n for n in named)]
    out = {}
    for spec in described.secondary_inputs(tool):
        name = spec["name"]
        if chosen.get(name) is not None:
            out[name] = chosen[name]
        elif (spec.get("pick") or spec.get("required")) and spare and target == "STRIP":
            out[name] = spare.pop(0)
        elif spec.get("required"):
            label = tool.get("label") or tool["name"]
            if target == "STRIP":
                raise ValueError("%s needs a %s: select that strip too, then make '%s' active"
                                 % (label, name, active or "the shot's strip"))
            raise ValueError("%s needs the %s image: name it in the operator's in_%s property" % (label, name, name))
    return out
