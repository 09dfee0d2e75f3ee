"""What a tool says about itself to the hosts and the CLI: its inputs, outputs, artifacts, timing and UI hints.

`matchcut tools --json` is ``describe_all()``; every adapter builds its menus, knobs, dialogs and jobs from it,
so a tool added to the registry appears in Nuke, Resolve and Blender with no host edit. The format has its own
version (``DESCRIPTION_VERSION``): an adapter that reads another version says which side to update.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: The version of `matchcut tools --json`; bump it when a field changes meaning or goes away (adding one does not).
DESCRIPTION_VERSION = 2

#: How an input is read. main: the shot the host's current clip, strip or node gives (output frames follow it);
#: frames: read frame by frame beside the main plate (a matte, a pass, a background; a still is held);
#: still: one frame of it is read (its frame goes to ``frames_param``); shot: another shot with frames of its own
#: (its range goes to ``frames_param``); edit: a timeline file (.otio, .edl, .xml), which a host writes from its own
#: timeline for a tool that stands on one (coverage; the record frames it covers, its In/Out, go to ``frames_param``).
INPUT_ROLES = ("main", "frames", "still", "shot", "edit")
#: What an output is: frames (plate, matte: one alpha channel, pass: extra layers), a report folder, a JSON file,
#: a model folder (an .onnx and its manifest, as `learn` writes: Apply Model runs it by that folder) or an edit folder
#: (rendered clips and a new timeline beside the original, as `coverage` writes: hosts import its timeline).
OUTPUT_KINDS = ("plate", "matte", "pass", "report", "json", "model", "edit")
#: Which menu a tool belongs in: colour work (Resolve's Color page), editorial (the Edit page), any model.
CATEGORIES = ("color", "edit", "model")
#: Control UI hints. host: the adapter fills it (an input's frames, an artifact's path), no widget;
#: model: an installed model's id (offer the model menu; that model's own controls join the tool's);
#: lights: relight's light list (hosts may offer a light editor); colorspace: an OCIO colour space name;
#: followup: set after a first run, from its report (continuity's patch region).
UI_HINTS = ("", "host", "model", "lights", "colorspace", "followup")


@dataclass(frozen=True)
class Input:
    """One input a job wires. ``pick``: hosts fill it from another selected clip or strip without being asked;
    ``frames_param``: the control that receives the frame (role still), the range (role shot) or the record frames
    (role edit) that are used."""

    name: str
    role: str = "frames"
    required: bool = False
    label: str = ""
    help: str = ""
    pick: bool = False
    frames_param: str = ""
    flag: str = ""  # the command line option; empty: --<name> ("--input" for the main plate)


@dataclass(frozen=True)
class Output:
    """One output a job may ask for. ``needs``: it is made only when one of these is given ("input:background",
    "param:patch"); ``extra``: more work than the main result (relight's passes), asked for only on request."""

    name: str
    kind: str = "plate"
    label: str = ""
    help: str = ""
    needs: tuple[str, ...] = ()
    extra: bool = False
    flag: str = ""  # the command line option; empty: --<name>


@dataclass(frozen=True)
class Artifact:
    """A file a tool writes once after its frames (a LUT, a CDL): the control that names its path, its suffix."""

    name: str
    param: str
    suffix: str
    label: str = ""


@dataclass(frozen=True)
class Timing:
    """Frames a tool reads around the ones it writes, and whether it changes the frame count.

    handles: default frames of context either side (fill rebuilds a bad first frame from the one before it);
    handles_before: False when the output is numbered from its first source frame (retime), so handles before
    the range would shift it; retimes: the output has another number of frames (speed or rate params).
    """

    handles: int = 0
    handles_before: bool = True
    retimes: bool = False


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively: the description is what JSON gives back, in process or not."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def describe(tool: Any) -> dict[str, Any]:
    # ``tool``: a matchcut.tools.base.Tool (not imported: base imports this module)
    """One tool as plain data (see the module docstring); controls as the Control dataclass's fields."""
    inputs = [asdict(i) for i in tool.input_specs]
    return _plain({
        "name": tool.name, "label": tool.label or tool.name.replace("_", " ").title(),
        "category": tool.category, "description": tool.description,
        # the plain name lists older adapters read, and the runner checks
        "inputs": [i["name"] for i in inputs if i["role"] != "edit"],
        "optional_inputs": [i["name"] for i in inputs if not i["required"] and i["role"] != "edit"],
        "input_specs": inputs,
        "outputs": [o.name for o in tool.output_specs],
        "output_kinds": {o.name: o.kind for o in tool.output_specs},
        "output_specs": [asdict(o) for o in tool.output_specs],
        "primary_outputs": list(tool.primary_outputs),
        "artifacts": [asdict(a) for a in tool.artifacts],
        "timing": asdict(tool.timing),
        "frameless": tool.frameless,
        "controls": [asdict(c) for c in tool.controls],
    })


def describe_all(names: list[str] | None = None) -> dict[str, Any]:
    """`matchcut tools --json`: the format version, this worker's version and every tool by name."""
    import matchcut
    from matchcut.tools import TOOLS, get_tool

    return {"matchcut_tools": DESCRIPTION_VERSION, "matchcut": matchcut.__version__,
            "tools": {name: describe(get_tool(name)) for name in (names or list(TOOLS))}}


def check_description(tool: type) -> None:
    """Raise ValueError naming the tool and field when its description is inconsistent (run by the tests over
    every registered tool, so a new tool cannot ship a description the hosts misread)."""
    where = f"tool '{tool.name}'"
    names = {c.name for c in tool.controls}
    for i in tool.input_specs:
        if i.role not in INPUT_ROLES:
            raise ValueError(f"{where}: input {i.name!r} has role {i.role!r}; expected one of {INPUT_ROLES}")
        if i.frames_param and i.frames_param not in names:
            raise ValueError(f"{where}: input {i.name!r} names frames_param {i.frames_param!r}, not a control")
    if sum(i.role == "main" for i in tool.input_specs) > 1:
        raise ValueError(f"{where}: more than one main input")
    outputs = {o.name for o in tool.output_specs}
    for o in tool.output_specs:
        if o.kind not in OUTPUT_KINDS:
            raise ValueError(f"{where}: output {o.name!r} has kind {o.kind!r}; expected one of {OUTPUT_KINDS}")
        for need in o.needs:
            kind, _, what = need.partition(":")
            known = {i.name for i in tool.input_specs} if kind == "input" else names if kind == "param" else set()
            if what not in known:
                raise ValueError(f"{where}: output {o.name!r} needs {need!r}, not one of its inputs or controls")
    for name in tool.primary_outputs:
        if name not in outputs:
            raise ValueError(f"{where}: primary output {name!r} is not an output")
    for a in tool.artifacts:
        if a.param not in names:
            raise ValueError(f"{where}: artifact {a.name!r} names param {a.param!r}, not a control")
    if tool.category not in CATEGORIES:
        raise ValueError(f"{where}: category {tool.category!r}; expected one of {CATEGORIES}")
    for c in tool.controls:
        if c.ui not in UI_HINTS:
            raise ValueError(f"{where}: control {c.name!r} has ui hint {c.ui!r}; expected one of {UI_HINTS}")
