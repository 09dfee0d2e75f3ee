"""What a Process run does, decided on plain data: the frames each input renders, the result's frames, the cache
key, the files in the cache folder, the job, how the result Reads are set and what the state records."""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Optional, Tuple

from matchcut_nuke import cache, knobs, timing
from matchcut_nuke.client import jobs, tools


class InputMissing(ValueError):
    """A required input is not connected: the node waits, it has not failed."""


def check_inputs(tool: Dict[str, Any], connected: Iterable[str]) -> None:
    """Raise InputMissing naming the required inputs of ``tool`` not among the ``connected`` input names."""
    names = set(connected)
    missing = [name for name in knobs.required_inputs(tool) if name not in names]
    if missing:
        raise InputMissing("connect the {} input{}".format(" and ".join(missing), "s" if len(missing) > 1 else ""))


def pick_frames(tool: Dict[str, Any], params: Dict[str, Any],
                ranges: Dict[str, Tuple[int, int]]) -> Dict[str, int]:
    """A frameless tool's frame per connected input that names a ``frames_param``: the frame set in that
    parameter (a range text), else for a shot (role shot: the one before the cut) its last frame, for the main
    shot and the rest their first. Raises ValueError naming a text that is no range."""
    chosen = {}
    for spec in tools.input_specs(tool):
        name, param = spec["name"], spec.get("frames_param")
        if param and name in ranges:
            last = spec.get("role") == "shot"
            chosen[name] = timing.pick_frame(params.get(param) or "", ranges[name][1 if last else 0], last=last)
    return chosen


def training_frames(tool: Dict[str, Any], params: Dict[str, Any], ranges: Dict[str, Tuple[int, int]]) -> List[int]:
    """The frames a training node learns from: those its corrected frames knob (the main input's
    ``frames_param``) lists, else every frame the Target (each required per-frame input connected) has where the
    Source has it too: its range, a Read's first..last. Raises ValueError naming a frame the inputs lack, or
    inputs that share none."""
    main = tools.main_input(tool)
    param = tools.input_spec(tool, main).get("frames_param")
    paired = [main] + [i["name"] for i in tools.secondary_inputs(tool)
                       if i.get("required") and i.get("role", "frames") == "frames" and i["name"] in ranges]
    spans = {name: range(ranges[name][0], ranges[name][1] + 1) for name in paired if name in ranges}
    text = (params.get(param) or "") if param else ""
    if not text:
        return tools.paired_frames(tool, spans)
    frames = timing.frame_list(text)
    for name, span in spans.items():
        outside = [f for f in frames if f not in span]
        if outside:
            label = tools.input_spec(tool, name).get("label") or name
            raise ValueError("corrected frame {} is not among the {} input's frames {}-{}".format(
                outside[0], label, span[0], span[-1]))
    return frames


def plan_training(tool: Dict[str, Any], params: Dict[str, Any], ranges: Dict[str, Tuple[int, int]],
                  upstream: str, first: int, last: int) -> Dict[str, Any]:
    """plan_job for a tool that trains (client tools.trains): the corrected frames (``training_frames``) go into
    its frames parameter; each connected input renders those frames only (``runs``: consecutive runs), the
    key covers them and the settings, there are no handles and the result is the model folder; ``corrected``
    is their range text."""
    frames = training_frames(tool, params, ranges)
    param = tools.input_spec(tool, tools.main_input(tool)).get("frames_param")
    if param:
        params = dict(params, **{param: jobs.format_frames(frames)})
    span = (frames[0], frames[-1])
    key = cache.cache_key(tool["name"], upstream, span[0], span[1], params)
    return {"params": params, "renders": {name: span for name in ranges},
            "runs": {name: timing.runs(frames) for name in ranges}, "frames": span, "result": span, "key": key,
            "first": first, "last": last, "handles": 0, "corrected": jobs.format_frames(frames)}


def render_runs(plan: Dict[str, Any], name: str) -> List[Tuple[int, int]]:
    """The (start, end) frame runs input ``name`` is rendered over: a training's corrected frames run by run,
    else its one range."""
    return list((plan.get("runs") or {}).get(name) or [plan["renders"][name]])


def plan_job(tool: Dict[str, Any], params: Dict[str, Any], first: int, last: int, handles: int,
             ranges: Dict[str, Tuple[int, int]], upstream: str) -> Dict[str, Any]:
    """What Process would do for the range ``first..last``: ``params`` (a frameless node's with the compared
    frames filled in), ``renders`` (input -> frames to render), ``frames`` (the job's), ``result`` (the result's
    frames), the cache ``key``, ``first``, ``last`` and ``handles``. ``ranges`` gives each connected input's own
    frames, ``upstream`` the hash of what is connected (cache.join_upstream). The frames rendered and the
    result's follow the tool's timing (handles, after the range only for a tool that numbers its result from
    its first frame; another frame count for one that retimes). A frameless node (a comparison) renders one
    frame per input (``pick_frames``: A's last against B's first) and uses no handles. Raises ValueError with a
    one-line reason (a retime without speed, a reversed range, unreadable frames). A node that trains renders its
    corrected frames only (``plan_training``)."""
    main = tools.main_input(tool)
    if tools.trains(tool):
        return plan_training(tool, params, ranges, upstream, first, last)
    if tool.get("frameless"):
        chosen = pick_frames(tool, params, ranges)
        params = dict(params, **{spec["frames_param"]: str(chosen[spec["name"]])
                                 for spec in tools.input_specs(tool) if spec["name"] in chosen})
        frame = chosen.get(main, ranges[main][0] if main in ranges else first)
        renders = {name: (chosen.get(name, frame),) * 2 for name in ranges}
        other = next((chosen[n] for n in knobs.tool_inputs(tool) if n in chosen and n != main), frame)
        key = cache.cache_key(tool["name"], upstream, other, frame, params)
        return {"params": params, "renders": renders, "frames": (frame, frame), "result": (frame, frame),
                "key": key, "first": first, "last": last, "handles": 0}
    start, end = tools.render_range(tool, first, last, handles, ranges[main])
    result = tools.output_range(tool, params, start, end)
    renders = {name: (start, end) for name in ranges}
    key = cache.cache_key(tool["name"], upstream, first, last, params, {"handles": handles, "render": [start, end]})
    return {"params": params, "renders": renders, "frames": (start, end), "result": result, "key": key,
            "first": first, "last": last, "handles": handles}


def plan_edit(tool: Dict[str, Any], params: Dict[str, Any],
              edits: Dict[str, Tuple[str, Optional[str]]]) -> Dict[str, Any]:
    """plan_job for a tool that stands on an edit (client tools.stands_on_edit: coverage): ``edits`` gives each
    timeline input's file (its knob's path) and the digest of its content (cache.file_digest; None: it cannot be
    read). The key covers the files' content and the settings, not which hole or proposal the node shows; there
    is nothing to render and no frame range. Raises InputMissing for a file knob left empty, ValueError naming a
    file that is not there."""
    for name, (path, digest) in edits.items():
        if not path:
            raise InputMissing("set the {} file (an .otio, .edl or FCP .xml)".format(
                tools.input_spec(tool, name).get("label") or name))
        if digest is None:
            raise ValueError("{}: no such timeline file".format(path))
    upstream = "|".join("{}:{}".format(name, edits[name][1]) for name in sorted(edits))
    files = {name: os.path.abspath(os.path.expanduser(path)) for name, (path, _) in edits.items()}
    key = cache.cache_key(tool["name"], upstream, 0, 0, params, {"edit": files})
    return {"params": params, "renders": {}, "frames": None, "result": None, "key": key, "first": None,
            "last": None, "handles": 0, "edit": files}


def plan_edit_files(tool: Dict[str, Any], folder: str, plan: Dict[str, Any]) -> Dict[str, Any]:
    """plan_files for ``plan_edit``'s plan: the timeline files as they are (nothing rendered), every output in
    the cache ``folder`` (the proposals' folder, the report, the JSON) and the job (no frame range)."""
    inputs = dict(plan["edit"])
    outputs = {name: output_path(tool, folder, name) for name in tools.job_outputs(tool, list(inputs), plan["params"])}
    job = jobs.build_job(tool["name"], inputs, outputs, None, dict(plan["params"]))
    return {"inputs": inputs, "outputs": outputs, "job": job}


def edit_result(outputs: Dict[str, str], artifacts: Dict[str, Any], json_path: str,
                read: Dict[str, Any]) -> Dict[str, Any]:
    """The result the state records for a node whose tool stands on an edit: the shown proposal's frames (its
    Read's ``read`` values, first/last None when it shows none), the result JSON as its one file (while it is on
    disk the result is), the outputs and the worker's artifacts."""
    shown = bool(read.get("file"))
    return {"first": read.get("first") if shown else None, "last": read.get("last") if shown else None,
            "files": {"json": json_path},
            "outputs": dict(outputs), "artifacts": artifacts}


def output_path(tool: Dict[str, Any], folder: str, name: str) -> str:
    """Where output ``name`` goes in the cache ``folder``: frames as out_<name>.####.exr, a report, a trained
    model or an edit's proposals in a folder of its own, a JSON file as <tool>.json (its name when the tool has
    another)."""
    kind = tools.output_kind(tool, name)
    if kind in ("report", tools.MODEL_KIND, tools.EDIT_KIND):
        return os.path.join(folder, name)
    if kind == "json":
        return os.path.join(folder, (tool["name"] if name == "json" else name) + ".json")
    return os.path.join(folder, "out_" + name + ".####.exr")


def plan_files(tool: Dict[str, Any], folder: str, plan: Dict[str, Any], connected: List[str]) -> Dict[str, Any]:
    """The files of a run in the cache ``folder`` (absolute): ``inputs`` (input -> EXR pattern to render to),
    ``outputs`` (every output the tool makes with what is ``connected`` and set: output -> ``output_path``) and
    the ``job`` dict over the plan's frames (handles 0: the rendered frames already include them; a training's
    job has no range, its frames parameter lists them, and the switches the adapter sets, tools.host_switches)."""
    inputs = {name: os.path.join(folder, name + ".####.exr") for name in connected}
    outputs = {name: output_path(tool, folder, name) for name in tools.job_outputs(tool, connected, plan["params"])}
    start, end = plan["frames"]
    frames = None if tools.trains(tool) else jobs.format_range(start, end)
    job = jobs.build_job(tool["name"], inputs, outputs, frames, dict(plan["params"], **tools.host_switches(tool)))
    return {"inputs": inputs, "outputs": outputs, "job": job}


def read_settings(outputs: Dict[str, str], plan: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Output -> the knob values of its result Read: the files and, as first/last/origfirst/origlast, the
    result's frames (a retime's differ from the input's)."""
    first, last = plan["result"]
    return {name: {"file": path, "first": first, "last": last, "origfirst": first, "origlast": last}
            for name, path in outputs.items()}


def result_files(tool: Dict[str, Any], outputs: Dict[str, str], plan: Dict[str, Any],
                 wired: Iterable[str]) -> Dict[str, str]:
    """Output -> its first file, for the ``wired`` outputs (those a Read shows), plus the JSON outputs (a
    comparison's report data): while these are on disk the result is."""
    files = {name: jobs.frame_path(outputs[name], plan["result"][0]) for name in wired}
    files.update({name: path for name, path in outputs.items() if tools.output_kind(tool, name) == "json"})
    return files


def model_folders(tool: Dict[str, Any], outputs: Dict[str, str]) -> Dict[str, str]:
    """Output -> folder, for the outputs that are a trained model (client tools.model_outputs)."""
    return {name: outputs[name] for name in tools.model_outputs(tool, list(outputs))}


def describe_result(plan: Dict[str, Any], files: Dict[str, str], outputs: Dict[str, str],
                    artifacts: Dict[str, Any], models: Optional[Dict[str, str]] = None,
                    training: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The result the state records: its frames, first files (``result_files``), output patterns and the
    worker's artifacts; a training's model folders (``model_folders``) and figures (client
    events.training_summary; ``training`` present, None when no step was reported)."""
    result = {"first": plan["result"][0], "last": plan["result"][1], "files": files, "outputs": dict(outputs),
              "artifacts": artifacts}
    if models:
        result.update(models=dict(models), training=training, corrected=plan.get("corrected", ""))
    return result


def trained_folder(result: Dict[str, Any]) -> Optional[str]:
    """The model folder a training node's result names (its first), or None."""
    models = result.get("models") or {}
    return models[sorted(models)[0]] if models else None
