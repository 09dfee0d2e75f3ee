"""The one module that imports `nuke`: builds Matchcut Groups, renders inputs, runs the worker, reads results.

Inside a node: Input per tool input -> one Read per output (continuity: B with region overlays, and the patch
Reads) -> Switch `matchcut_output` (the Output knob) -> Dissolve `matchcut_mix` with the plate (Mix) ->
Switch `matchcut_valid` (0 passes the plate through while there is no current result) -> Output.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from typing import Any, Dict, List, Optional, Set, Tuple

import nuke

from matchcut_nuke import cache, events, jobs, knobs, regions, state, timing, worker

STATE_KNOB = "matchcut_state"
TOOL_KNOB = "matchcut_tool"
MODEL_CONTROLS_KNOB = "model_controls"
# The same cache root as the core's (MATCHCUT_CACHE_DIR, else ~/.cache/matchcut), one folder per host.
CACHE_ROOT = os.path.join(os.environ.get("MATCHCUT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "matchcut"),
                          "nuke")
UP_TO_DATE = "up to date"
STALE = "stale \u2014 press Process"
NOT_PROCESSED = "not processed \u2014 press Process"
CANCELLED = "cancelled \u2014 press Process"
#: Nuke's tile colour (0xRRGGBBAA) of a node with no current result; 0 is Nuke's default colour.
FLAG_COLOUR = 0xCC3333FF
#: Knobs that change how a node looks in the graph, never its pixels: moving a node must not make results stale.
UI_KNOBS = frozenset(("xpos", "ypos", "selected", "tile_color", "gl_color", "note_font", "note_font_size",
                      "note_font_color", "label", "icon", "hide_input", "postage_stamp", "postage_stamp_frame",
                      "bookmark", "dope_sheet", "indicators", "cached", "name", "help", "onCreate", "onDestroy",
                      "knobChanged", "updateUI", "autolabel", "panel", "status", "regions", "process", "cancel"))
INTERNAL_NODES = ("matchcut_output", "matchcut_mix", "matchcut_valid")

_DESCRIPTIONS: Dict[Tuple[str, ...], Any] = {}


class InputMissing(ValueError):
    """A required input is not connected: the node waits, it has not failed."""

_RUNNING: Dict[str, Any] = {}
_CANCEL_REQUESTS: Set[str] = set()


# --- the worker's descriptions ------------------------------------------------------------------------------

def worker_json(args: List[str]) -> Any:
    """Run `matchcut ARGS --json` and parse its stdout, once per session (tools and models do not change while
    Nuke runs; `refresh_descriptions` forgets them)."""
    key = tuple(args)
    if key not in _DESCRIPTIONS:
        exe = worker.find_worker()
        if exe is None:
            raise RuntimeError("Matchcut worker not found: set MATCHCUT_WORKER to the matchcut executable")
        _DESCRIPTIONS[key] = json.loads(subprocess.check_output([exe] + args + ["--json"], text=True))
    return _DESCRIPTIONS[key]


def refresh_descriptions() -> None:
    """Forget the cached tool and model descriptions (after installing a model)."""
    _DESCRIPTIONS.clear()


def tool_for(group: Any) -> Dict[str, Any]:
    """The node's tool description; for a Model node, apply with the chosen model's manifest controls."""
    name = group[TOOL_KNOB].value() or state.load_state(group[STATE_KNOB].value())["tool"]
    tools = knobs.tools_by_name(worker_json(["tools"]))
    if name not in tools:
        raise RuntimeError("the worker has no tool '{}' (it has {})".format(name, ", ".join(sorted(tools))))
    tool = tools[name]
    if name == "apply":
        model = group["model"].value() if group.knob("model") is not None else ""
        if not model:
            model = state.load_state(group[STATE_KNOB].value())["values"].get("model") or ""
        if model:
            tool = knobs.model_tool(tool, model_manifest(model))
    return tool


def model_manifest(model: str) -> Dict[str, Any]:
    """`matchcut models info MODEL --json`; an uninstalled model gives no controls rather than an error, so a
    script opened where the model is missing still opens (Process then shows the worker's error)."""
    try:
        return worker_json(["models", "info", model])
    except (subprocess.CalledProcessError, ValueError):
        return {"id": model, "controls": []}


def installed_models() -> List[str]:
    """Model ids for the Model node's menu."""
    try:
        return knobs.model_choices(worker_json(["models", "list"]))
    except (subprocess.CalledProcessError, ValueError, RuntimeError):
        return []


# --- building a node ----------------------------------------------------------------------------------------

def make_knob(spec: Dict[str, Any], value: Any = None) -> Any:
    """A Nuke knob for one knob spec (from knobs.knob_specs), set to ``value`` or the spec's default."""
    cls = spec["knob"]
    if cls == "Enumeration_Knob":
        knob = nuke.Enumeration_Knob(spec["name"], spec["label"], spec["choices"])
    else:
        knob = getattr(nuke, cls)(spec["name"], spec["label"])
    if cls in ("Double_Knob", "Int_Knob") and spec["min"] is not None and spec["max"] is not None:
        knob.setRange(spec["min"], spec["max"])
    start = knobs.knob_default(spec) if value is None else value
    if start is not None and not (cls == "Enumeration_Knob" and start not in spec["choices"]):
        knob.setValue(start)
    if spec["tooltip"]:
        knob.setTooltip(spec["tooltip"])
    return knob


def tool_specs(tool: Dict[str, Any], saved: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    """The knob specs of a tool; the Model node's model id is a menu of installed models (plus the saved id
    when it is not installed here, so the value is not lost)."""
    specs = knobs.knob_specs(tool.get("controls", []))
    if tool["name"] == "apply":
        for spec in specs:
            if spec["name"] == "model":
                choices = installed_models()
                wanted = (saved or {}).get("model") or tool.get("model")
                if wanted and wanted not in choices:
                    choices.append(wanted)
                spec.update(knob="Enumeration_Knob", type="choice", choices=choices or [""],
                            default=wanted or (choices[0] if choices else ""))
    return specs


def add_control(group: Any, spec: Dict[str, Any], saved: Dict[str, Any]) -> None:
    """Add one control's knob (and, for an optional control, its on/off switch) set from ``saved`` values."""
    value = knobs.restore_value(spec, saved.get(spec["name"]))
    if spec["optional"]:
        enable = nuke.Boolean_Knob(spec["name"] + knobs.ENABLE_SUFFIX, "use " + spec["label"])
        enable.setValue(value is not None)
        enable.setTooltip("off: the worker's own choice for {} (sent as null)".format(spec["label"]))
        group.addKnob(enable)
    group.addKnob(make_knob(spec, value))


def build_internals(group: Any, tool: Dict[str, Any]) -> None:
    """The node's inside: inputs, a Read per output through a Switch, Mix with the plate, the validity Switch."""
    group.begin()
    try:
        inputs = [nuke.nodes.Input(name=name) for name in knobs.tool_inputs(tool)]
        through = inputs[knobs.passthrough_input(tool)]
        select = nuke.nodes.Switch(name="matchcut_output")
        for index, name in enumerate(knobs.tool_outputs(tool)):
            if tool.get("frameless") and name == "regions":
                source = nuke.nodes.NoOp(name="matchcut_regions")
                source.setInput(0, through)
            else:
                source = nuke.nodes.Read(name="matchcut_read_" + name)
                source["before"].setValue("black")  # outside the result: black, never a held result frame
                source["after"].setValue("black")
            select.setInput(index, source)
        select["which"].setExpression("parent.output")
        mix = nuke.nodes.Dissolve(name="matchcut_mix")
        mix.setInput(0, through)
        mix.setInput(1, select)
        mix["which"].setExpression("parent.mix")
        valid = nuke.nodes.Switch(name="matchcut_valid")
        valid.setInput(0, through)
        valid.setInput(1, mix)
        valid["which"].setValue(0)
        nuke.nodes.Output().setInput(0, valid)
    finally:
        group.end()


def add_adapter_knobs(group: Any, tool: Dict[str, Any], saved: Dict[str, Any]) -> None:
    """The adapter's own knobs that are missing: handles, output, mix, regions, status, buttons, hidden state."""
    def missing(name: str) -> bool:
        return group.knob(name) is None

    if missing("matchcut"):
        group.addKnob(nuke.Tab_Knob("matchcut", "Matchcut"))
    if missing(TOOL_KNOB):
        hidden = nuke.String_Knob(TOOL_KNOB, "tool")
        hidden.setValue(tool["name"])
        hidden.setFlag(nuke.INVISIBLE)
        group.addKnob(hidden)
    if not tool.get("frameless") and missing("handles"):
        handles = nuke.Int_Knob("handles", "handles")
        handles.setValue(int(saved.get("handles", timing.DEFAULT_HANDLES.get(tool["name"], 0)) or 0))
        handles.setTooltip("frames rendered and processed before and after the range (retime: after only)")
        group.addKnob(handles)
    if missing("output"):
        names = knobs.tool_outputs(tool)
        output = nuke.Enumeration_Knob("output", "output", names)
        output.setValue(saved.get("output") if saved.get("output") in names else names[0])
        group.addKnob(output)
    if missing("mix"):
        mix = nuke.Double_Knob("mix", "mix")
        mix.setRange(0, 1)
        mix.setValue(float(saved.get("mix", 1.0)))
        group.addKnob(mix)
    if tool.get("frameless"):
        if missing("show_regions"):
            show = nuke.Boolean_Knob("show_regions", "draw regions")
            show.setValue(bool(saved.get("show_regions", True)))
            group.addKnob(show)
        if missing("regions"):
            group.addKnob(nuke.Text_Knob("regions", "regions", ""))
    if missing("status"):
        group.addKnob(nuke.Text_Knob("status", "status", NOT_PROCESSED))
    if missing("process"):
        group.addKnob(nuke.PyScript_Knob("process", "Process", "import matchcut_nuke.host as h; h.process(nuke.thisNode())"))
    if missing("cancel"):
        group.addKnob(nuke.PyScript_Knob("cancel", "Cancel", "import matchcut_nuke.host as h; h.cancel(nuke.thisNode())"))
    if missing(STATE_KNOB):
        saved_knob = nuke.String_Knob(STATE_KNOB, "state")
        saved_knob.setFlag(nuke.INVISIBLE)
        group.addKnob(saved_knob)
    if tool["name"] == "apply" and missing(MODEL_CONTROLS_KNOB):
        listed = nuke.String_Knob(MODEL_CONTROLS_KNOB, "model controls")
        listed.setFlag(nuke.INVISIBLE)
        group.addKnob(listed)


def create_node(tool: Dict[str, Any], model: str = "") -> Any:
    """A Group for ``tool`` (one entry of `matchcut tools --json`); for apply (the Model node), with the chosen
    ``model``'s controls."""
    group = nuke.nodes.Group()
    group.setName("Matchcut_" + ("Model" if tool["name"] == "apply" else tool["name"]), True)
    build_internals(group, tool)
    saved = {"model": model} if model else {}
    if tool["name"] == "apply":
        specs = tool_specs(tool, saved)
        model = model or next(s["default"] for s in specs if s["name"] == "model")
        if model:
            tool = knobs.model_tool(tool, model_manifest(model))
    add_adapter_knobs(group, tool, saved)
    for spec in tool_specs(tool, saved):
        add_control(group, spec, saved)
    if tool["name"] == "apply":
        group[MODEL_CONTROLS_KNOB].setValue(json.dumps(model_control_names(tool)))
    save_state(group, tool)
    refresh_status(group, tool)
    return group


def model_control_names(tool: Dict[str, Any]) -> List[str]:
    return [c["name"] for c in tool.get("controls", []) if c.get("model_control")]


def remove_control(group: Any, name: str) -> None:
    for knob_name in (name, name + knobs.ENABLE_SUFFIX):
        knob = group.knob(knob_name)
        if knob is not None:
            group.removeKnob(knob)


def rebuild_model_controls(group: Any) -> Dict[str, Any]:
    """After the Model node's model changed: drop the old model's knobs, add the new manifest's controls (values
    saved for them earlier come back)."""
    saved = state.load_state(group[STATE_KNOB].value())
    try:
        old = json.loads(group[MODEL_CONTROLS_KNOB].value() or "[]")
    except ValueError:
        old = []
    for name in old:
        remove_control(group, name)
    tool = tool_for(group)
    for spec in knobs.knob_specs([c for c in tool["controls"] if c.get("model_control")]):
        remove_control(group, spec["name"])
        add_control(group, spec, saved["values"])
    group[MODEL_CONTROLS_KNOB].setValue(json.dumps(model_control_names(tool)))
    save_state(group, tool)
    return tool


def restore_node(group: Any) -> Optional[Dict[str, Any]]:
    """Bring a node made by another version (or one whose knobs are missing) up to this version: add the
    knobs it lacks and replace the ones of another kind, with values from the hidden state knob; values and
    keys this version does not know stay in the state. Returns the tool, or None when the worker is missing
    (the node then keeps what the script saved)."""
    saved = state.load_state(group[STATE_KNOB].value()) if group.knob(STATE_KNOB) is not None else state.load_state("")
    try:
        tool = tool_for(group)
    except Exception as exc:  # a machine without the worker still opens the script
        if group.knob("status") is not None:
            set_status(group, "error: " + str(exc).splitlines()[0])
        return None
    values = dict(saved["values"])
    if any(group.node(name) is None for name in INTERNAL_NODES):
        for node in group.nodes():
            nuke.delete(node)
        build_internals(group, tool)
    add_adapter_knobs(group, tool, values)
    for spec in tool_specs(tool, values):
        knob = group.knob(spec["name"])
        fits = knob is not None and knob.Class() == spec["knob"] and (
            spec["knob"] != "Enumeration_Knob" or list(knob.values()) == spec["choices"])
        fits = fits and (group.knob(spec["name"] + knobs.ENABLE_SUFFIX) is not None) == spec["optional"]
        if fits:
            continue
        if knob is not None and spec["name"] not in values:
            values[spec["name"]] = knob.value()  # another version's knob: its value is the best guess
        remove_control(group, spec["name"])
        add_control(group, spec, values)
    if tool["name"] == "apply":
        group[MODEL_CONTROLS_KNOB].setValue(json.dumps(model_control_names(tool)))
    save_state(group, tool)
    refresh_status(group, tool)
    return tool


# --- values, state and the cache key ----------------------------------------------------------------------

def param_values(group: Any, tool: Dict[str, Any]) -> Dict[str, Any]:
    """The job parameters: every control's value by name (None for an optional control switched off); a
    model control is sent only when it differs from the manifest's default."""
    params = {}
    for spec, control in zip(knobs.knob_specs(tool.get("controls", [])), tool.get("controls", [])):
        knob = group.knob(spec["name"])
        if knob is None:
            continue
        enable = group.knob(spec["name"] + knobs.ENABLE_SUFFIX)
        value = knobs.param_value(spec, knob.value(), enable.value() if enable is not None else True)
        if control.get("model_control") and value == control.get("default"):
            continue
        params[spec["name"]] = value
    return params


def node_values(group: Any, tool: Dict[str, Any]) -> Dict[str, Any]:
    """What the hidden state keeps: every control's value (model controls too) and the adapter's settings."""
    values = {}
    for spec in knobs.knob_specs(tool.get("controls", [])):
        knob = group.knob(spec["name"])
        if knob is not None:
            enable = group.knob(spec["name"] + knobs.ENABLE_SUFFIX)
            values[spec["name"]] = knobs.param_value(spec, knob.value(), enable.value() if enable is not None else True)
    for name in ("handles", "output", "mix", "show_regions"):
        if group.knob(name) is not None:
            values[name] = group[name].value()
    return values


def save_state(group: Any, tool: Dict[str, Any], key: Optional[str] = None, result: Optional[Dict[str, Any]] = None) -> None:
    """Serialise the values into the hidden knob so a script without the add-on keeps them; values and keys
    another version wrote are kept."""
    saved = state.load_state(group[STATE_KNOB].value())
    group[STATE_KNOB].setValue(state.dump_state(
        tool["name"], state.merge_values(saved["values"], node_values(group, tool)),
        saved["cache_key"] if key is None else key, saved["result"] if result is None else result, saved["extra"]))


def upstream_hash(node: Any, memo: Optional[Dict[int, str]] = None) -> str:
    """A hash of everything upstream of ``node``: class, knob scripts (not layout knobs) and inputs; each node is
    hashed once, so a graph that branches and joins stays linear to hash."""
    memo = {} if memo is None else memo
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = "cycle"
    digest = hashlib.sha256(node.Class().encode("utf-8"))
    for name, knob in sorted(node.knobs().items()):
        if name not in UI_KNOBS:
            digest.update(name.encode("utf-8") + knob.toScript().encode("utf-8"))
    for index in range(node.inputs()):
        upstream = node.input(index)
        digest.update(upstream_hash(upstream, memo).encode("utf-8") if upstream is not None else b"-")
    memo[id(node)] = digest.hexdigest()
    return memo[id(node)]


def connected_inputs(group: Any, tool: Dict[str, Any]) -> Dict[str, Any]:
    """Input name -> the node connected to it."""
    found = {}
    for index, name in enumerate(knobs.tool_inputs(tool)):
        node = group.input(index)
        if node is not None:
            found[name] = node
    return found


def plan_job(group: Any, tool: Dict[str, Any], first: Optional[int] = None, last: Optional[int] = None) -> Dict[str, Any]:
    """What Process would do now: the params, the frames to render per input, the result's frames and the
    cache key. Raises ValueError with a one-line reason (an input not connected, a retime without speed)."""
    root = nuke.root()
    first = int(root["first_frame"].value()) if first is None else int(first)
    last = int(root["last_frame"].value()) if last is None else int(last)
    params = param_values(group, tool)
    connected = connected_inputs(group, tool)
    missing = [name for name in knobs.required_inputs(tool) if name not in connected]
    if missing:
        raise InputMissing("connect the {} input{}".format(" and ".join(missing), "s" if len(missing) > 1 else ""))
    memo: Dict[int, str] = {}
    upstream = "|".join(name + ":" + upstream_hash(node, memo) for name, node in sorted(connected.items()))
    if tool.get("frameless"):
        fa = timing.pick_frame(params.get("frames_a") or "", connected["a"].lastFrame(), last=True)
        fb = timing.pick_frame(params.get("frames_b") or "", connected["b"].firstFrame(), last=False)
        params = dict(params, frames_a=str(fa), frames_b=str(fb))
        renders = {"a": (fa, fa), "b": (fb, fb)}
        for name in connected:
            renders.setdefault(name, (fb, fb))
        key = cache.cache_key(tool["name"], upstream, fa, fb, params)
        return {"params": params, "renders": renders, "frames": (fb, fb), "result": (fb, fb), "key": key,
                "connected": connected, "first": first, "last": last, "handles": 0}
    handles = int(group["handles"].value()) if group.knob("handles") is not None else 0
    plate = connected[knobs.tool_inputs(tool)[0]]
    start, end = timing.render_range(tool["name"], first, last, handles, (plate.firstFrame(), plate.lastFrame()))
    result = timing.output_range(tool["name"], params, start, end)
    renders = {name: (start, end) for name in connected}
    key = cache.cache_key(tool["name"], upstream, first, last, params, {"handles": handles, "render": [start, end]})
    return {"params": params, "renders": renders, "frames": (start, end), "result": result, "key": key,
            "connected": connected, "first": first, "last": last, "handles": handles}


# --- status -------------------------------------------------------------------------------------------------

def set_status(group: Any, text: str) -> None:
    """The node's one-line status."""
    group["status"].setValue(text)


def show_result(group: Any, valid: bool, flag: str = "") -> None:
    """Wire the result through (valid) or pass the plate through, flagging the node in the graph."""
    group.node("matchcut_valid")["which"].setValue(1 if valid else 0)
    group["tile_color"].setValue(0 if valid else FLAG_COLOUR)
    group["label"].setValue("" if valid else flag)


def refresh_status(group: Any, tool: Optional[Dict[str, Any]] = None) -> str:
    """Compare the cache key now with the one the result was made with; a result made for other inputs,
    range or settings is never shown: the node passes the plate through and says 'stale — press Process'."""
    if group.name() in _RUNNING:
        return group["status"].value()
    try:
        tool = tool or tool_for(group)
        plan = plan_job(group, tool)
    except (ValueError, RuntimeError) as exc:
        waiting = isinstance(exc, InputMissing)
        message = ("waiting: " if waiting else "error: ") + str(exc).splitlines()[0]
        show_result(group, False, "" if waiting else "ERROR")
        set_status(group, message)
        return message
    saved = state.load_state(group[STATE_KNOB].value())
    last_run = saved["extra"].get("last_run") or {}
    if not cache.is_stale(saved["cache_key"], plan["key"]) and result_on_disk(saved["result"]):
        first, last = saved["result"].get("first"), saved["result"].get("last")
        text = "{} (frames {}-{})".format(UP_TO_DATE, first, last)
        show_result(group, True)
    elif last_run.get("key") == plan["key"] and last_run.get("status") in ("cancelled", "error"):
        text = CANCELLED if last_run["status"] == "cancelled" else "error: " + str(last_run.get("message", ""))
        show_result(group, False, "CANCELLED" if last_run["status"] == "cancelled" else "ERROR")
    elif saved["cache_key"]:
        text = STALE
        show_result(group, False, "STALE")
    else:
        text = NOT_PROCESSED
        show_result(group, False, "")
    set_status(group, text)
    return text


def result_on_disk(result: Dict[str, Any]) -> bool:
    """True when the first file of every output the result names is there (a cleaned cache is no result)."""
    files = result.get("files") or {}
    return bool(files) and all(os.path.exists(path) for path in files.values())


def record_run(group: Any, tool: Dict[str, Any], key: str, status: str, message: str = "") -> None:
    saved = state.load_state(group[STATE_KNOB].value())
    extra = dict(saved["extra"], last_run={"key": key, "status": status, "message": message})
    group[STATE_KNOB].setValue(state.dump_state(tool["name"], state.merge_values(saved["values"], node_values(group, tool)),
                                                saved["cache_key"], saved["result"], extra))


# --- processing ---------------------------------------------------------------------------------------------

def render_input(node: Any, path: str, start: int, end: int) -> None:
    """Render ``node`` to EXR (all of RGBA) over start..end through a temporary Write at the script's top level
    (a button's script runs inside the Group, where the upstream node cannot be connected)."""
    root = nuke.root()
    root.begin()
    try:
        write = nuke.nodes.Write(file=path, file_type="exr", channels="rgba")
    finally:
        root.end()
    write.setInput(0, node)
    try:
        nuke.execute(write, start, end, 1)
    finally:
        nuke.delete(write)


def process(group: Any, first: Optional[int] = None, last: Optional[int] = None,
            interactive: Optional[bool] = None) -> bool:
    """Render inputs to EXR, run the worker with progress and cancel, wire the result Reads; True when the node
    shows a current result."""
    interactive = bool(nuke.GUI) if interactive is None else interactive
    try:
        tool = tool_for(group)
        plan = plan_job(group, tool, first, last)
    except (ValueError, RuntimeError) as exc:
        return fail(group, None, "", str(exc), interactive)
    saved = state.load_state(group[STATE_KNOB].value())
    if not cache.is_stale(saved["cache_key"], plan["key"]) and result_on_disk(saved["result"]):
        refresh_status(group, tool)
        return True
    exe = worker.find_worker()
    if exe is None:
        return fail(group, tool, plan["key"], "Matchcut worker not found: set MATCHCUT_WORKER", interactive)
    folder = cache.cache_folder(CACHE_ROOT, group.name(), plan["key"])
    os.makedirs(folder, exist_ok=True)
    set_status(group, "rendering inputs")
    inputs = {}
    for name, node in plan["connected"].items():
        path = os.path.join(folder, name + ".####.exr")
        start, end = plan["renders"][name]
        render_input(node, path, start, end)
        inputs[name] = path
    outputs = {name: os.path.join(folder, "out_" + name + ".####.exr")
               for name in knobs.job_outputs(tool, list(plan["connected"]), plan["params"])}
    if tool.get("frameless"):
        outputs.update(report=os.path.join(folder, "report"), json=os.path.join(folder, "continuity.json"))
    start, end = plan["frames"]
    job = jobs.build_job(tool["name"], inputs, outputs, start, end, plan["params"])
    job_path = jobs.write_job(job, os.path.join(folder, "job.json"))
    task = nuke.ProgressTask("Matchcut " + tool["name"])
    task.setMessage("starting the worker")
    proc = worker.start(exe, job_path)
    _RUNNING[group.name()] = proc
    _CANCEL_REQUESTS.discard(group.name())
    set_status(group, "processing")

    def on_event(run: events.RunState, event: Dict[str, Any]) -> None:
        task.setProgress(int(run.fraction * 100))
        if event.get("event") == "frame":
            task.setMessage("frame {} ({} of {})".format(event.get("frame"), event.get("index"), event.get("total")))

    try:
        run = worker.follow(proc, on_event, lambda: task.isCancelled() or group.name() in _CANCEL_REQUESTS)
    finally:
        _RUNNING.pop(group.name(), None)
        _CANCEL_REQUESTS.discard(group.name())
        del task
    if run.status == "cancelled":
        unwire(group)
        record_run(group, tool, plan["key"], "cancelled")
        refresh_status(group, tool)
        return False
    if run.status != "done":
        unwire(group)
        return fail(group, tool, plan["key"], run.error or "the worker exited without a result", interactive)
    files = wire_result(group, tool, outputs, plan)
    save_state(group, tool, plan["key"], {"first": plan["result"][0], "last": plan["result"][1], "files": files,
                                           "outputs": {n: p for n, p in outputs.items()}, "artifacts": run.artifacts})
    if tool.get("frameless"):
        note_continuity(group, run.artifacts)
    refresh_status(group, tool)
    return True


def wire_result(group: Any, tool: Dict[str, Any], outputs: Dict[str, str], plan: Dict[str, Any]) -> Dict[str, str]:
    """Point each output's Read at its files over the result's frames (a retime's differ from the input's);
    returns output -> the first file, which says the result is still on disk."""
    first, last = plan["result"]
    files = {}
    for name, path in outputs.items():
        read = group.node("matchcut_read_" + name)
        if read is None:
            continue
        read["file"].setValue(path)
        for knob_name, value in (("first", first), ("last", last), ("origfirst", first), ("origlast", last)):
            read[knob_name].setValue(value)
        frame = first if not tool.get("frameless") else plan["frames"][0]
        files[name] = jobs.frame_path(path, frame)
    if tool.get("frameless"):
        files["json"] = outputs["json"]
    return files


def unwire(group: Any) -> None:
    """No result Read points anywhere (after a cancel or an error: a half-made result is never shown)."""
    for node in group.nodes():
        if node.Class() == "Read" and node.name().startswith("matchcut_read_"):
            node["file"].setValue("")


def fail(group: Any, tool: Optional[Dict[str, Any]], key: str, message: str, interactive: bool) -> bool:
    """Show the worker's one-line error on the node and, in the GUI, in a message."""
    message = message.splitlines()[0] if message else "unknown error"
    if tool is not None:
        record_run(group, tool, key, "error", message)
    show_result(group, False, "ERROR")
    set_status(group, "error: " + message)
    if interactive:
        nuke.message("Matchcut: " + message)
    return False


def cancel(group: Any) -> None:
    """Cancel the node's running job: the progress loop sends SIGINT and the node says cancelled."""
    if group.name() in _RUNNING:
        _CANCEL_REQUESTS.add(group.name())
        set_status(group, "cancelling")


# --- continuity ---------------------------------------------------------------------------------------------

def note_continuity(group: Any, artifacts: Dict[str, Any]) -> Any:
    """Regions from the worker's JSON report: a Text2 overlay per region on B (the 'regions' output), a line per
    region on the node's Regions knob, and a sticky note next to the node with the report path and the lines."""
    found, height = regions.read_regions(artifacts["json"]) if artifacts.get("json") else ([], 0)
    lines = [regions.region_line(r) for r in found]
    group["regions"].setValue("\n".join(lines) if lines else "no regions flagged")
    group.begin()
    try:
        for node in group.nodes():
            if node.Class() == "Text2" and node.name().startswith("matchcut_region_"):
                nuke.delete(node)
        chain = group.node("matchcut_regions")
        upstream = chain.input(0)
        for region in found:
            text = nuke.nodes.Text2(name="matchcut_region_{}".format(region["id"]),
                                    message="#{} {} {:.2f}".format(region["id"], region["category"], region["score"]))
            text["box"].setValue(regions.nuke_box(region["box"], height))
            text["disable"].setExpression("!parent.show_regions")
            text.setInput(0, upstream)
            upstream = text
        chain.setInput(0, upstream)
    finally:
        group.end()
    label = "Continuity report: {}".format(artifacts.get("report", "(none)"))
    note = nuke.nodes.StickyNote(label="\n".join([label] + lines))
    note.setXYpos(group.xpos() + 120, group.ypos())
    return note


# --- callbacks ----------------------------------------------------------------------------------------------

def is_matchcut(node: Any) -> bool:
    return node is not None and node.knob(TOOL_KNOB) is not None


def on_create() -> None:
    """onCreate (every mode, script load included): bring a loaded node's knobs up to this version."""
    node = nuke.thisNode()
    if is_matchcut(node) and node.knob(STATE_KNOB) is not None:
        restore_node(node)


def knob_changed() -> None:
    """knobChanged for Groups: panel opened -> restore; model changed -> its controls; a control, the handles or an
    input changed -> save the state and re-check staleness."""
    node, knob = nuke.thisNode(), nuke.thisKnob()
    if not is_matchcut(node) or knob is None:
        return
    name = knob.name()
    if name == "showPanel":
        restore_node(node)
        return
    try:
        tool = rebuild_model_controls(node) if (name == "model" and node.knob(MODEL_CONTROLS_KNOB) is not None) \
            else tool_for(node)
    except Exception as exc:
        set_status(node, "error: " + str(exc).splitlines()[0])
        return
    watched = {spec["name"] for spec in knobs.knob_specs(tool.get("controls", []))}
    watched |= {n + knobs.ENABLE_SUFFIX for n in watched} | {"handles", "inputChange", "output", "mix", "show_regions"}
    if name in watched:
        save_state(node, tool)
        refresh_status(node, tool)


def update_ui() -> None:
    """updateUI (GUI idle, after any change): an upstream edit makes the node stale at once."""
    node = nuke.thisNode()
    if is_matchcut(node):
        try:
            refresh_status(node)
        except Exception as exc:  # a callback must never break the UI
            nuke.tprint("Matchcut: {}".format(exc))


def upstream_matchcut_nodes(node: Any, seen: Optional[set] = None) -> List[Any]:
    """Matchcut nodes upstream of ``node``, the furthest first (an upstream result feeds the next)."""
    seen = set() if seen is None else seen
    found: List[Any] = []
    for index in range(node.inputs()):
        upstream = node.input(index)
        if upstream is None or id(upstream) in seen:
            continue
        seen.add(id(upstream))
        found.extend(upstream_matchcut_nodes(upstream, seen))
        if is_matchcut(upstream):
            found.append(upstream)
    return found


def before_render() -> None:
    """Before-render callback (farm, `nuke -x`): process the stale Matchcut nodes upstream of the Write being
    rendered, never interactively; an up-to-date node uses its cache. A failure stops the render with the
    worker's message rather than rendering the plate."""
    for node in upstream_matchcut_nodes(nuke.thisNode()):
        if not process(node, interactive=False):
            raise RuntimeError("Matchcut {}: {}".format(node.name(), node["status"].value()))
