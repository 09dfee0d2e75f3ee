"""The one module that imports `nuke`: makes Matchcut Groups and their knobs, reads and writes knob values,
renders inputs, runs the worker behind a ProgressTask, registers nothing itself (init.py and menu.py do) but
holds the callbacks. Every decision that needs no Nuke object is made in the plain modules it calls: knob specs
(knobs, descriptions), the inside of a node (graph), the job (job_plan), the status (node_status), the state."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Set, Tuple

import nuke

from matchcut_nuke import cache, descriptions, graph, job_plan, knobs, node_status, proposals, regions, state
from matchcut_nuke.client import coverage, events, farm, jobs, tools, worker

STATE_KNOB = "matchcut_state"
TOOL_KNOB = "matchcut_tool"
MODEL_CONTROLS_KNOB = "model_controls"
CACHE_ROOT = cache.default_root()

_RUNNING: Dict[str, Any] = {}
_CANCEL_REQUESTS: Set[str] = set()


def saved_state(group: Any) -> Dict[str, Any]:
    """The node's hidden state (state.load_state of the state knob)."""
    return state.load_state(group[STATE_KNOB].value())


def describe_timeout() -> float:
    """How long a first question for the tools may wait: a few seconds in the GUI (an artist is waiting; the
    answer is usually cached), the worker's query timeout on a farm (`nuke -x`, where no menu asked first)."""
    return tools.STARTUP_TIMEOUT if nuke.GUI else worker.QUERY_TIMEOUT


def tool_for(group: Any) -> Dict[str, Any]:
    """The node's tool description; for a model-running node (the Model node), with the chosen model's manifest
    controls. Raises worker.WorkerError (no tools from the worker) or RuntimeError (it lacks this tool)."""
    name = group[TOOL_KNOB].value() or saved_state(group)["tool"]
    tool = descriptions.describe_tool(name, timeout=describe_timeout())
    param = tools.model_param(tool)
    if not param:
        return tool
    model = group[param].value() if group.knob(param) is not None else ""
    return descriptions.describe_tool(name, model or saved_state(group)["values"].get(param) or "")


# --- building a node ----------------------------------------------------------------------------------------

def make_knob(spec: Dict[str, Any], start: Any = None) -> Any:
    """A Nuke knob for one spec (knobs.knob_specs, knobs.adapter_specs, knobs.enable_spec), set to ``start``
    unless it is None."""
    cls = spec["knob"]
    extra = [spec["choices"]] if cls == "Enumeration_Knob" else [spec["text"]] if "text" in spec else []
    knob = getattr(nuke, cls)(spec["name"], spec["label"], *extra)
    if cls in ("Double_Knob", "Int_Knob") and spec.get("min") is not None and spec.get("max") is not None:
        knob.setRange(spec["min"], spec["max"])
    if start is not None:
        knob.setValue(start)
    if spec.get("tooltip"):
        knob.setTooltip(spec["tooltip"])
    if spec.get("hidden"):
        knob.setFlag(nuke.INVISIBLE)
    return knob


def add_control(group: Any, spec: Dict[str, Any], saved: Dict[str, Any]) -> None:
    """Add one control's knob (and, for an optional control, its on/off switch) set from ``saved`` values."""
    value = knobs.restore_value(spec, saved.get(spec["name"]))
    if spec["optional"]:
        group.addKnob(make_knob(knobs.enable_spec(spec), value is not None))
    group.addKnob(make_knob(spec, knobs.start_value(spec, value)))


def remove_control(group: Any, name: str) -> None:
    """Remove a control's knob and its on/off switch, where the node has them."""
    for knob_name in (name, name + knobs.ENABLE_SUFFIX):
        knob = group.knob(knob_name)
        if knob is not None:
            group.removeKnob(knob)


def add_adapter_knobs(group: Any, tool: Dict[str, Any], saved: Dict[str, Any]) -> None:
    """The adapter's own knobs the node lacks (knobs.adapter_specs), set from ``saved`` values."""
    for spec in knobs.adapter_specs(tool, saved):
        if group.knob(spec["name"]) is None:
            group.addKnob(make_knob(spec, spec.get("value")))


def make_nodes(specs: List[Dict[str, Any]], known: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Make and wire the nodes of ``specs`` (graph.internal_nodes, graph.overlay_nodes) in the current context;
    ``known`` names nodes that exist already. Returns name -> node, the known ones included."""
    made = dict(known or {})
    for spec in specs:
        node = getattr(nuke.nodes, spec["class"])(**spec["knobs"])
        for index, source in spec.get("inputs", {}).items():
            node.setInput(index, made[source])
        for name, value in spec.get("values", {}).items():
            node[name].setValue(value)
        for name, expression in spec.get("expressions", {}).items():
            node[name].setExpression(expression)
        made[spec["knobs"].get("name", spec["class"])] = node
    return made


def build_internals(group: Any, tool: Dict[str, Any]) -> None:
    """The node's inside (graph.internal_nodes)."""
    group.begin()
    try:
        make_nodes(graph.internal_nodes(tool))
    finally:
        group.end()


def create_node(tool: Dict[str, Any], model: str = "") -> Any:
    """A Group for ``tool`` (one entry of `matchcut tools --json`); for a model-running tool (the Model node),
    with the chosen ``model``'s controls."""
    group = nuke.nodes.Group()
    group.setName(knobs.node_name(tool), True)
    build_internals(group, tool)
    param = tools.model_param(tool)
    saved = {param: model} if model and param else {}
    if param:
        tool = descriptions.pick_model(tool, model)
    add_adapter_knobs(group, tool, saved)
    for spec in descriptions.tool_specs(tool, saved):
        add_control(group, spec, saved)
    finish_node(group, tool)
    return group


def finish_node(group: Any, tool: Dict[str, Any]) -> None:
    """After a node's knobs were made: the Model node's list of its model's controls, the saved state, the status."""
    if tools.model_param(tool):
        group[MODEL_CONTROLS_KNOB].setValue(knobs.encode_control_names(tool))
    save_state(group, tool)
    refresh_status(group, tool)


def rebuild_model_controls(group: Any, tool: Dict[str, Any]) -> Dict[str, Any]:
    """After the Model node's model changed (``tool``: its description with the new model's controls): drop the
    old model's knobs, add the new manifest's controls (values saved for them earlier come back)."""
    saved = saved_state(group)
    for name in knobs.decode_control_names(group[MODEL_CONTROLS_KNOB].value()):
        remove_control(group, name)
    for spec in knobs.knob_specs([c for c in tool["controls"] if c.get("model_control")]):
        remove_control(group, spec["name"])
        add_control(group, spec, saved["values"])
    group[MODEL_CONTROLS_KNOB].setValue(knobs.encode_control_names(tool))
    save_state(group, tool)
    return tool


def restore_node(group: Any) -> Optional[Dict[str, Any]]:
    """Bring a node made by another version (or one whose knobs are missing) up to this version: add the
    knobs it lacks and replace the ones of another kind, with values from the hidden state knob; values and
    keys this version does not know stay in the state. Returns the tool, or None when the worker is missing
    (the node then keeps what the script saved)."""
    saved = saved_state(group) if group.knob(STATE_KNOB) is not None else state.load_state("")
    try:
        tool = tool_for(group)
    except Exception as exc:  # a machine without the worker still opens the script
        if group.knob("status") is not None:
            set_status(group, "error: " + node_status.first_line(exc))
        return None
    values = dict(saved["values"])
    if any(group.node(name) is None for name in graph.internal_names(tool)):
        for node in group.nodes():
            nuke.delete(node)
        build_internals(group, tool)
    add_adapter_knobs(group, tool, values)
    for spec in descriptions.tool_specs(tool, values):
        knob = group.knob(spec["name"])
        if knob is not None and knobs.knob_fits(
                spec, knob.Class(), list(knob.values()) if knob.Class() == "Enumeration_Knob" else [],
                group.knob(spec["name"] + knobs.ENABLE_SUFFIX) is not None):
            continue
        if knob is not None and spec["name"] not in values:
            values[spec["name"]] = knob.value()  # another version's knob: its value is the best guess
        remove_control(group, spec["name"])
        add_control(group, spec, values)
    finish_node(group, tool)
    return tool


# --- reading knobs, state and the upstream graph -------------------------------------------------------------

def read_controls(group: Any, tool: Dict[str, Any]) -> Dict[str, Tuple[Any, bool]]:
    """Control name -> (its knob's value, its on/off switch, True where it has none); controls without a knob
    are left out."""
    readings = {}
    for spec in knobs.knob_specs(tool.get("controls", [])):
        knob = group.knob(spec["name"])
        if knob is not None:
            enable = group.knob(spec["name"] + knobs.ENABLE_SUFFIX)
            readings[spec["name"]] = (knob.value(), enable.value() if enable is not None else True)
    return readings


def param_values(group: Any, tool: Dict[str, Any]) -> Dict[str, Any]:
    """The job parameters of the node's knobs (knobs.job_params)."""
    return knobs.job_params(tool, read_controls(group, tool))


def save_state(group: Any, tool: Dict[str, Any], key: Optional[str] = None, result: Optional[Dict[str, Any]] = None,
               last_run: Optional[Dict[str, Any]] = None) -> None:
    """Serialise the knob values into the hidden knob so a script without the add-on keeps them, with the cache
    key, result and last run where given (state.update_state)."""
    adapter = {name: group[name].value() for name in knobs.saved_adapter_knobs(tool) if group.knob(name) is not None}
    values = knobs.saved_values(tool, read_controls(group, tool), adapter)
    group[STATE_KNOB].setValue(state.update_state(group[STATE_KNOB].value(), tool["name"], values, key, result,
                                                  last_run))


def upstream_hash(node: Any, memo: Optional[Dict[int, str]] = None) -> str:
    """A hash of everything upstream of ``node`` (cache.node_digest of each node); each node is hashed once, so a
    graph that branches and joins stays linear to hash."""
    memo = {} if memo is None else memo
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = "cycle"
    scripts = {name: knob.toScript() for name, knob in node.knobs().items() if name not in cache.UI_KNOBS}
    inputs: List[Optional[str]] = []
    for index in range(node.inputs()):
        upstream = node.input(index)
        inputs.append(upstream_hash(upstream, memo) if upstream is not None else None)
    memo[id(node)] = cache.node_digest(node.Class(), scripts, inputs)
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
    """job_plan.plan_job for the node over ``first..last`` (default: the script's range), plus ``connected``
    (input name -> node). Raises ValueError with a one-line reason (job_plan.InputMissing for an input)."""
    params = param_values(group, tool)
    if tools.stands_on_edit(tool):  # coverage: timeline files named on the node, no input, no frame range
        paths = {name: group[name].value() if group.knob(name) is not None else "" for name in tools.edit_inputs(tool)}
        edits = {name: (path, cache.file_digest(os.path.expanduser(path)) if path else None)
                 for name, path in paths.items()}
        return dict(job_plan.plan_edit(tool, params, edits), connected={})
    root = nuke.root()
    first = int(root["first_frame"].value()) if first is None else int(first)
    last = int(root["last_frame"].value()) if last is None else int(last)
    connected = connected_inputs(group, tool)
    job_plan.check_inputs(tool, connected)
    memo: Dict[int, str] = {}
    upstream = cache.join_upstream({name: upstream_hash(connected[name], memo) for name in sorted(connected)})
    handles = int(group["handles"].value()) if group.knob("handles") is not None and not tool.get("frameless") else 0
    ranges = {name: (node.firstFrame(), node.lastFrame()) for name, node in connected.items()}
    return dict(job_plan.plan_job(tool, params, first, last, handles, ranges, upstream), connected=connected)


# --- status -------------------------------------------------------------------------------------------------

def set_status(group: Any, text: str) -> None:
    """The node's one-line status."""
    group["status"].setValue(text)


def show_result(group: Any, valid: bool, flag: str = "") -> None:
    """Wire the result through (valid) or pass the plate through, flagging the node in the graph."""
    look = node_status.choose_look(valid, flag)
    group.node("matchcut_valid")["which"].setValue(look["which"])
    group["tile_color"].setValue(look["tile_color"])
    group["label"].setValue(look["label"])


def refresh_status(group: Any, tool: Optional[Dict[str, Any]] = None) -> str:
    """Compare the cache key now with the one the result was made with (node_status.assess_result): a result made
    for other inputs, range or settings is never shown. Returns the status text."""
    if group.name() in _RUNNING:
        return group["status"].value()
    try:
        tool = tool or tool_for(group)
        key = plan_job(group, tool)["key"]
    except (ValueError, RuntimeError, worker.WorkerError) as exc:
        text, valid, flag = node_status.assess_failure(str(exc), isinstance(exc, job_plan.InputMissing))
    else:
        text, valid, flag = node_status.assess_result(saved_state(group), key)
    show_result(group, valid, flag)
    read = group.node(graph.READ_PREFIX + knobs.PROPOSAL_OUTPUT) if valid and tools.stands_on_edit(tool) else None
    if read is not None and not read["file"].value():
        choose_proposal(group, tool)  # a result the farm finished, or a script opened: show the chosen proposal
    if tool is not None and tools.trains(tool):
        text = node_status.name_button(text, knobs.process_label(tool))
        if valid:  # a trained node shows its figures under its name
            group["label"].setValue(node_status.training_label(saved_state(group)["result"].get("training") or {}))
    set_status(group, text)
    return text


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


def run_worker(group: Any, tool: Dict[str, Any], exe: str, job_path: str) -> events.JobState:
    """Run the job out of process (client JobRun) behind a ProgressTask; the dialog's cancel or the Cancel button
    stops it (the client's cancel: asked first, killed after its grace). The final state's error is one line,
    with the worker's last stderr lines when it died."""
    label = tool.get("label") or tool["name"]
    task = nuke.ProgressTask("Matchcut " + label)
    task.setMessage(events.progress_text(events.JobState(), label))
    try:
        run = worker.JobRun(exe, job_path)
    except OSError as exc:  # not executable, gone since it was found
        failed = events.JobState()
        failed.status, failed.error = "error", "cannot start the Matchcut worker {}: {}".format(exe, exc)
        return failed
    _RUNNING[group.name()] = run
    _CANCEL_REQUESTS.discard(group.name())
    training = tools.trains(tool)
    set_status(group, "training" if training else "processing")

    def on_event(now: events.JobState) -> None:
        task.setProgress(int(now.fraction * 100))
        task.setMessage(events.progress_text(now, label))
        if training and now.step is not None:  # the node itself shows the step, the loss and the held-out dB
            set_status(group, "training: " + events.training_line(now))
            group["label"].setValue(node_status.training_label(events.training_summary(now)))

    try:
        return worker.follow(run, on_event, lambda: task.isCancelled() or group.name() in _CANCEL_REQUESTS)
    finally:
        _RUNNING.pop(group.name(), None)
        _CANCEL_REQUESTS.discard(group.name())
        del task


def process(group: Any, first: Optional[int] = None, last: Optional[int] = None,
            interactive: Optional[bool] = None) -> bool:
    """Render inputs to EXR, run the worker with progress and cancel, wire the result Reads; True when the node
    shows a current result."""
    interactive = bool(nuke.GUI) if interactive is None else interactive
    try:
        tool = tool_for(group)
        plan = plan_job(group, tool, first, last)
    except (ValueError, RuntimeError, worker.WorkerError) as exc:
        return fail(group, None, "", str(exc), interactive)
    if node_status.is_current(saved_state(group), plan["key"]):
        refresh_status(group, tool)
        return True
    try:
        exe = worker.find_worker()
    except worker.WorkerError as exc:
        return fail(group, tool, plan["key"], str(exc), interactive)
    files, job_path = write_job(group, tool, plan)
    run = run_worker(group, tool, exe, job_path)
    if run.status == "cancelled":
        unwire(group)
        figures = events.training_summary(run)
        said = node_status.cancelled_training(figures) if figures else ""
        save_state(group, tool, last_run={"key": plan["key"], "status": "cancelled", "message": said})
        refresh_status(group, tool)
        return False
    if run.status != "done":
        unwire(group)
        return fail(group, tool, plan["key"], run.error or "the worker exited without a result", interactive)
    for warning in run.warnings:
        nuke.tprint("Matchcut {}: {}".format(group.name(), warning))
    outputs = files["outputs"]
    if tools.stands_on_edit(tool):
        return finish_edit(group, tool, plan, outputs, run.artifacts, interactive)
    empty = [f for f in job_plan.model_folders(tool, outputs).values() if not tools.model_ready(f)]
    if empty:
        return fail(group, tool, plan["key"], "the worker reported success but wrote no model in " + empty[0],
                    interactive)
    wired = wire_result(group, outputs, plan)
    save_state(group, tool, plan["key"], job_plan.describe_result(
        plan, job_plan.result_files(tool, outputs, plan, wired), outputs, run.artifacts,
        job_plan.model_folders(tool, outputs), events.training_summary(run)))
    if knobs.draws_regions(tool):
        note_regions(group, tool, run.artifacts)
    refresh_status(group, tool)
    return True


def write_job(group: Any, tool: Dict[str, Any], plan: Dict[str, Any]) -> Tuple[Dict[str, Any], str]:
    """Render the node's inputs into its cache folder for ``plan`` and write the job file there, as Process and
    the Farm button both need; returns (the planned files, the job file's path)."""
    folder = cache.cache_folder(CACHE_ROOT, group.name(), plan["key"])
    os.makedirs(folder, exist_ok=True)
    if tools.stands_on_edit(tool):  # the timeline files are read as they are: nothing to render
        files = job_plan.plan_edit_files(tool, folder, plan)
        return files, jobs.write_json_atomic(os.path.join(folder, "job.json"), files["job"])
    files = job_plan.plan_files(tool, folder, plan, list(plan["connected"]))
    set_status(group, "rendering inputs")
    for name, node in plan["connected"].items():
        for start, end in job_plan.render_runs(plan, name):  # a training's corrected frames only
            render_input(node, files["inputs"][name], start, end)
    return files, jobs.write_json_atomic(os.path.join(folder, "job.json"), files["job"])


def send_to_farm(group: Any, first: Optional[int] = None, last: Optional[int] = None,
                 interactive: Optional[bool] = None) -> Optional[str]:
    """The Farm button: render the inputs as Process does, then submit the job to the node's farm (the farm knob)
    through the worker instead of running it here. The node shows the farm's job id until every file of the
    result is written, then the result. Returns the line shown, or None when it was not sent (the node says why:
    a path the farm cannot see, a farm client missing here, with what to run where it is)."""
    interactive = bool(nuke.GUI) if interactive is None else interactive
    try:
        tool = tool_for(group)
        plan = plan_job(group, tool, first, last)
        exe = worker.find_worker()
    except (ValueError, RuntimeError, worker.WorkerError) as exc:
        fail(group, None, "", str(exc), interactive)
        return None
    files, job_path = write_job(group, tool, plan)
    chosen = group["farm"].value() if group.knob("farm") is not None else farm.default_farm()
    set_status(group, "sending to " + chosen)
    try:
        answer = farm.submit(exe, job_path, chosen)
    except (ValueError, worker.WorkerError) as exc:
        fail(group, tool, plan["key"], str(exc), interactive)
        return None
    line = farm.result_line(answer)
    if not answer["submitted"]:  # the farm's client is not on this machine: the files and what to run
        fail(group, tool, plan["key"], line, interactive)
        return None
    outputs = files["outputs"]
    if tools.stands_on_edit(tool):  # the proposal is shown once the farm wrote the result (refresh_status)
        result = job_plan.edit_result(outputs, {}, result_json(tool, outputs, {}), {})
    else:
        wired = wire_result(group, outputs, plan)
        result = job_plan.describe_result(plan, job_plan.result_files(tool, outputs, plan, wired), outputs, {},
                                          job_plan.model_folders(tool, outputs))
    save_state(group, tool, plan["key"], result, last_run={"key": plan["key"], "status": "farm", "message": line})
    refresh_status(group, tool)
    if interactive:
        nuke.message("Matchcut: " + line)
    return line


def wire_result(group: Any, outputs: Dict[str, str], plan: Dict[str, Any]) -> List[str]:
    """Point each output's Read at its files over the result's frames (job_plan.read_settings); returns the
    outputs that have a Read."""
    wired = []
    for name, settings in job_plan.read_settings(outputs, plan).items():
        read = group.node(graph.READ_PREFIX + name)
        if read is not None:
            for knob_name, value in settings.items():
                read[knob_name].setValue(value)
            wired.append(name)
    return wired


def result_json(tool: Dict[str, Any], outputs: Dict[str, str], artifacts: Dict[str, Any]) -> str:
    """The result JSON of a tool that stands on an edit: as the done event names it, else its planned output."""
    planned = next((path for name, path in outputs.items() if tools.output_kind(tool, name) == "json"), "")
    return str(artifacts.get("json") or planned)


def finish_edit(group: Any, tool: Dict[str, Any], plan: Dict[str, Any], outputs: Dict[str, str],
                artifacts: Dict[str, Any], interactive: bool) -> bool:
    """After a coverage run: its result read, the Hole and Proposal knobs' menu filled, the chosen proposal's Read
    wired, the result recorded (the JSON is its file). True when the node shows a current result."""
    path = result_json(tool, outputs, artifacts)
    try:
        data = coverage.read_result(path)
    except coverage.CoverageError as exc:
        return fail(group, tool, plan["key"], str(exc), interactive)
    read = show_proposal(group, data)
    save_state(group, tool, plan["key"], job_plan.edit_result(outputs, artifacts, path, read))
    refresh_status(group, tool)
    nuke.tprint("Matchcut {}: {}".format(group.name(), data.get("summary") or ""))
    return True


def show_proposal(group: Any, data: Dict[str, Any]) -> Dict[str, Any]:
    """Show the proposal the Hole and Proposal knobs choose in ``data`` (proposals.choose): the Proposal menu
    of that hole, its Read, the note. A knob is set only where its value changes (knobChanged runs on each).
    Returns the Read's values."""
    choice = proposals.choose(data, group["hole"].value(), group["proposal"].value())
    if int(group["hole"].value()) != choice["hole"]:
        group["hole"].setValue(choice["hole"])
    menu = group["proposal"]
    if list(menu.values()) != (choice["menu"] or [""]):
        menu.setValues(choice["menu"] or [""])
    if choice["text"] and menu.value() != choice["text"]:
        menu.setValue(choice["text"])
    values = proposals.read_values(choice["proposal"])
    read = group.node(graph.READ_PREFIX + knobs.PROPOSAL_OUTPUT)
    for name, value in values.items():
        if read[name].value() != value:
            read[name].setValue(value)
    group["proposal_note"].setValue(proposals.note(choice, len(data.get("holes") or [])))
    return values


def choose_proposal(group: Any, tool: Dict[str, Any]) -> None:
    """The Hole or Proposal knob changed (or a current result has no Read yet): show that choice from the saved
    result, no new run; the state records the frames shown. A result no longer on disk shows nothing."""
    saved = saved_state(group)
    path = (saved["result"].get("files") or {}).get("json")
    try:
        data = coverage.read_result(path) if path else None
    except coverage.CoverageError as exc:
        set_status(group, "error: " + node_status.first_line(exc))
        return
    if data is None:
        return
    read = show_proposal(group, data)
    shown = job_plan.edit_result({}, {}, path, read)
    save_state(group, tool, result=dict(saved["result"], first=shown["first"], last=shown["last"]))


def unwire(group: Any) -> None:
    """No result Read points anywhere (after a cancel or an error: a half-made result is never shown)."""
    for node in group.nodes():
        if node.Class() == "Read" and node.name().startswith(graph.READ_PREFIX):
            node["file"].setValue("")


def fail(group: Any, tool: Optional[Dict[str, Any]], key: str, message: str, interactive: bool) -> bool:
    """Show the worker's one-line error on the node and, in the GUI, in a message."""
    message = message.splitlines()[0] if message else "unknown error"
    if tool is not None:
        save_state(group, tool, last_run={"key": key, "status": "error", "message": message})
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


def apply_model(group: Any, interactive: Optional[bool] = None) -> Optional[Any]:
    """The Apply button of a node that trains: a new Model node (the tool that runs a chosen model) wired to the
    same Source, its model the folder this node trained, placed beside it. Nothing is replaced: the training
    node stays as it is. Returns the Model node, or None when there is no trained model yet (the node says why)."""
    interactive = bool(nuke.GUI) if interactive is None else interactive
    try:
        tool = tool_for(group)
        key = plan_job(group, tool)["key"]
        saved = saved_state(group)
        folder = job_plan.trained_folder(saved["result"])
        if folder is None or not node_status.is_current(saved, key):
            raise ValueError("no trained model for these inputs and settings yet: press Train first")
        runner = tools.model_runner(descriptions.load_tools(describe_timeout()))
        if runner is None:
            raise RuntimeError("the worker has no tool that runs a chosen model")
        model_node = create_node(descriptions.describe_tool(runner), folder)
    except (ValueError, RuntimeError, worker.WorkerError) as exc:
        message = node_status.first_line(exc)
        set_status(group, "error: " + message)
        if interactive:
            nuke.message("Matchcut: " + message)
        return None
    source = group.input(knobs.passthrough_input(tool))
    if source is not None:
        model_node.setInput(knobs.passthrough_input(tool_for(model_node)), source)
    model_node.setXYpos(group.xpos() + 150, group.ypos() + 80)
    refresh_status(model_node)
    return model_node


def note_regions(group: Any, tool: Dict[str, Any], artifacts: Dict[str, Any]) -> Any:
    """A frameless tool's report (regions.summarise_report, e.g. continuity's) on the node: a Text2 overlay per
    region on the main input (the 'regions' output), the lines on the Regions knob, and a sticky note next to
    the node."""
    report = regions.summarise_report(artifacts, tool.get("label") or tool["name"])
    group["regions"].setValue(report["text"])
    group.begin()
    try:
        for node in group.nodes():
            if node.Class() == "Text2" and node.name().startswith(regions.OVERLAY_PREFIX):
                nuke.delete(node)
        chain = group.node(graph.REGIONS_NODE)
        overlays = graph.overlay_nodes(report["overlays"], "upstream")
        made = make_nodes(overlays, {"upstream": chain.input(0)})
        chain.setInput(0, made[overlays[-1]["knobs"]["name"] if overlays else "upstream"])
    finally:
        group.end()
    note = nuke.nodes.StickyNote(label=report["note"])
    note.setXYpos(group.xpos() + 120, group.ypos())
    return note


# --- the menu -----------------------------------------------------------------------------------------------

MENU = "Matchcut"


def _creator(tool: Dict[str, Any]) -> Any:
    return lambda: create_node(tool)


def build_menu(refresh: bool = False, timeout: Optional[float] = None) -> str:
    """The Matchcut menu of the Nodes toolbar: a command per tool the worker describes, by label (from the cache
    at start-up: Nuke never waits on the worker more than a few seconds), then "Refresh tools". A missing,
    hung or mismatched worker gives the menu with Refresh tools only and a one-line message in the script
    editor; the message ("" when all is well) is returned."""
    menu = nuke.menu("Nodes").addMenu(MENU)
    menu.clearMenu()
    entries, message = descriptions.menu_entries(refresh, timeout)
    for label, tool in entries:
        menu.addCommand(label, _creator(tool))
    menu.addSeparator()
    menu.addCommand(descriptions.REFRESH_LABEL, refresh_menu)
    if message:
        nuke.tprint("Matchcut: " + message)
    return message


def refresh_menu() -> str:
    """Refresh tools: forget the session's answers, ask the worker again (it gets longer than at start-up: the
    artist asked), rebuild the menu and bring the Matchcut nodes up to the answer (knobs a node lacks because
    the worker was missing when the script was opened). A failure shows in a message too."""
    descriptions.refresh_descriptions()
    message = build_menu(refresh=True, timeout=descriptions.REFRESH_TIMEOUT)
    if message and nuke.GUI:
        nuke.message("Matchcut: " + message)
    if descriptions.tools_loaded():
        for node in nuke.allNodes("Group", recurseGroups=True):
            if is_matchcut(node) and node.knob(STATE_KNOB) is not None:
                restore_node(node)
    return message


# --- callbacks ----------------------------------------------------------------------------------------------

def is_matchcut(node: Any) -> bool:
    """True for a Matchcut node (it has the hidden tool knob)."""
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
        tool = tool_for(node)
        if name in knobs.CHOICE_KNOBS and tools.stands_on_edit(tool):  # another hole or proposal: no new run
            choose_proposal(node, tool)
            refresh_status(node, tool)
            return
        if name == tools.model_param(tool) and node.knob(MODEL_CONTROLS_KNOB) is not None:
            tool = rebuild_model_controls(node, tool)
    except Exception as exc:
        set_status(node, "error: " + node_status.first_line(exc))
        return
    if name in knobs.watched_knobs(tool):
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
