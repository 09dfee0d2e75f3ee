"""The one module that imports `nuke`: builds Matchcut Groups, renders inputs, runs the worker, reads results."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from typing import Any, Dict, List, Optional

import nuke

from matchcut_nuke import cache, events, jobs, knobs, state, worker

STATE_KNOB = "matchcut_state"
TOOL_KNOB = "matchcut_tool"
# The same cache root as the core's (MATCHCUT_CACHE_DIR, else ~/.cache/matchcut), one folder per host.
CACHE_ROOT = os.path.join(os.environ.get("MATCHCUT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "matchcut"),
                          "nuke")


def worker_json(args: List[str]) -> Any:
    """Run `matchcut ARGS --json` and parse its stdout (the worker's tool and model descriptions)."""
    exe = worker.find_worker()
    if exe is None:
        raise RuntimeError("Matchcut worker not found: set MATCHCUT_WORKER to the matchcut executable")
    return json.loads(subprocess.check_output([exe] + args + ["--json"], text=True))


def make_knob(spec: Dict[str, Any]) -> Any:
    """A Nuke knob for one knob spec (from knobs.knob_specs)."""
    cls = spec["knob"]
    if cls == "Enumeration_Knob":
        knob = nuke.Enumeration_Knob(spec["name"], spec["label"], spec["choices"])
    else:
        knob = getattr(nuke, cls)(spec["name"], spec["label"])
    if cls in ("Double_Knob", "Int_Knob") and spec["min"] is not None and spec["max"] is not None:
        knob.setRange(spec["min"], spec["max"])
    if spec["default"] is not None:
        knob.setValue(spec["default"])
    if spec["tooltip"]:
        knob.setTooltip(spec["tooltip"])
    return knob


def create_node(tool: Dict[str, Any]) -> Any:
    """A Group for ``tool`` (one entry of `matchcut tools --json`): inputs, parameter knobs, status, buttons, mix."""
    group = nuke.nodes.Group(name="Matchcut_" + tool["name"])
    group.begin()
    try:
        inputs = [nuke.nodes.Input(name=name) for name in tool.get("inputs", ["plate"])]
        read = nuke.nodes.Read(name="matchcut_result")
        mix = nuke.nodes.Dissolve(name="matchcut_mix")
        mix.setInput(0, inputs[0])
        mix.setInput(1, read)
        mix["which"].setExpression("parent.mix")
        nuke.nodes.Output().setInput(0, mix)
    finally:
        group.end()
    group.addKnob(nuke.Tab_Knob("matchcut", "Matchcut"))
    hidden = nuke.String_Knob(TOOL_KNOB, "tool")
    hidden.setValue(tool["name"])
    hidden.setFlag(nuke.INVISIBLE)
    group.addKnob(hidden)
    for spec in knobs.knob_specs(tool.get("controls", [])):
        group.addKnob(make_knob(spec))
    mix_knob = nuke.Double_Knob("mix", "mix")
    mix_knob.setValue(1.0)
    group.addKnob(mix_knob)
    group.addKnob(nuke.Text_Knob("status", "status", "not processed"))
    group.addKnob(nuke.PyScript_Knob("process", "Process", "import matchcut_nuke.host as h; h.process(nuke.thisNode())"))
    group.addKnob(nuke.PyScript_Knob("cancel", "Cancel", "import matchcut_nuke.host as h; h.cancel(nuke.thisNode())"))
    saved = nuke.String_Knob(STATE_KNOB, "state")
    saved.setFlag(nuke.INVISIBLE)
    group.addKnob(saved)
    save_state(group, tool)
    return group


def param_values(group: Any, tool: Dict[str, Any]) -> Dict[str, Any]:
    """The node's parameter values, by control name."""
    return {c["name"]: group[c["name"]].value() for c in tool.get("controls", [])}


def save_state(group: Any, tool: Dict[str, Any], key: str = "") -> None:
    """Serialise the values into the hidden knob so a script without the add-on keeps them."""
    group[STATE_KNOB].setValue(state.dump_state(tool["name"], param_values(group, tool), key))


def upstream_hash(node: Any, depth: int = 0) -> str:
    """A hash of everything upstream of ``node``: class, knob scripts and inputs, recursively."""
    digest = hashlib.sha256(node.Class().encode("utf-8"))
    for name, knob in sorted(node.knobs().items()):
        digest.update(name.encode("utf-8") + knob.toScript().encode("utf-8"))
    if depth < 200:
        for index in range(node.inputs()):
            upstream = node.input(index)
            digest.update(upstream_hash(upstream, depth + 1).encode("utf-8") if upstream is not None else b"-")
    return digest.hexdigest()


def set_status(group: Any, text: str) -> None:
    """The node's one-line status."""
    group["status"].setValue(text)


_RUNNING: Dict[str, Any] = {}


def process(group: Any, tool: Optional[Dict[str, Any]] = None, first: Optional[int] = None,
            last: Optional[int] = None, interactive: bool = True) -> bool:
    """Render inputs to EXR, run the worker with progress and cancel, point the internal Read at the result."""
    if tool is None:
        name = group[TOOL_KNOB].value()
        tool = knobs.tools_by_name(worker_json(["tools"]))[name]
    root = nuke.root()
    first = int(root["first_frame"].value()) if first is None else first
    last = int(root["last_frame"].value()) if last is None else last
    params = param_values(group, tool)
    upstream = "".join(upstream_hash(group.input(i)) for i in range(group.inputs()) if group.input(i) is not None)
    key = cache.cache_key(tool["name"], upstream, first, last, params)
    folder = cache.cache_folder(CACHE_ROOT, group.name(), key)
    if not cache.is_stale(state.load_state(group[STATE_KNOB].value())["cache_key"], key):
        set_status(group, "up to date ({})".format(key))
        return True
    set_status(group, "stale: processing")
    os.makedirs(folder, exist_ok=True)
    inputs = {}
    for index, name in enumerate(tool.get("inputs", ["plate"])):
        if group.input(index) is None:
            continue
        path = os.path.join(folder, name + ".####.exr")
        write = nuke.nodes.Write(file=path, file_type="exr")
        write.setInput(0, group.input(index))
        try:
            nuke.execute(write, first, last, 1)
        finally:
            nuke.delete(write)
        inputs[name] = path
    outputs = {name: os.path.join(folder, "out_" + name + ".####.exr") for name in tool.get("outputs", ["plate"])}
    job_path = jobs.write_job(jobs.build_job(tool["name"], inputs, outputs, first, last, params), os.path.join(folder, "job.json"))
    exe = worker.find_worker()
    if exe is None:
        return fail(group, "Matchcut worker not found: set MATCHCUT_WORKER", interactive)
    task = nuke.ProgressTask("Matchcut " + tool["name"])
    proc = worker.start(exe, job_path)
    _RUNNING[group.name()] = proc
    run = events.RunState()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            event = events.parse_line(line)
            if event is not None:
                events.apply_event(run, event)
                task.setProgress(int(run.fraction * 100))
            if task.isCancelled():
                worker.cancel(proc)
                run.status = "cancelled"
                break
        proc.wait()
    finally:
        _RUNNING.pop(group.name(), None)
        del task
    if run.status != "done":
        return fail(group, run.error or ("cancelled" if run.status == "cancelled" else "worker exited without a result"), interactive)
    read = group.node("matchcut_result")
    read["file"].setValue(next(iter(outputs.values())))
    read["first"].setValue(first)
    read["last"].setValue(last)
    save_state(group, tool, key)
    set_status(group, "up to date ({})".format(key))
    if tool["name"] == "continuity":
        note_continuity(group, run.artifacts)
    return True


def fail(group: Any, message: str, interactive: bool) -> bool:
    """Show the worker's one-line error on the node and, in the GUI, in a message."""
    set_status(group, "error: " + message)
    if interactive:
        nuke.message("Matchcut: " + message)
    return False


def cancel(group: Any) -> None:
    """Cancel the node's running job (SIGINT, then wait)."""
    proc = _RUNNING.get(group.name())
    if proc is not None:
        worker.cancel(proc)
        set_status(group, "cancelled")


def note_continuity(group: Any, artifacts: Dict[str, Any]) -> Any:
    """A sticky note next to the node with the continuity report path."""
    text = "Continuity report: {}".format(artifacts.get("report", "(none)"))
    note = nuke.nodes.StickyNote(label=text)
    note.setXYpos(group.xpos() + 120, group.ypos())
    return note


def before_render() -> None:
    """Before-render callback (farm, `nuke -x`): process stale Matchcut nodes upstream, never interactively."""
    for node in nuke.allNodes("Group"):
        if node.knob(TOOL_KNOB) is None:
            continue
        saved = state.load_state(node[STATE_KNOB].value())
        tool = knobs.tools_by_name(worker_json(["tools"])).get(saved["tool"])
        if tool is None:
            continue
        process(node, tool, interactive=False)
