"""What a Process run does, decided on plain data: the frames each input renders, the result's frames, the cache
key, the files in the cache folder, the job, how the result Reads are set and what the state records."""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Tuple

from matchcut_nuke import cache, jobs, knobs, timing


class InputMissing(ValueError):
    """A required input is not connected: the node waits, it has not failed."""


def check_inputs(tool: Dict[str, Any], connected: Iterable[str]) -> None:
    """Raise InputMissing naming the required inputs of ``tool`` not among the ``connected`` input names."""
    names = set(connected)
    missing = [name for name in knobs.required_inputs(tool) if name not in names]
    if missing:
        raise InputMissing("connect the {} input{}".format(" and ".join(missing), "s" if len(missing) > 1 else ""))


def plan_job(tool: Dict[str, Any], params: Dict[str, Any], first: int, last: int, handles: int,
             ranges: Dict[str, Tuple[int, int]], upstream: str) -> Dict[str, Any]:
    """What Process would do for the range ``first..last``: ``params`` (a continuity node's with the compared
    frames filled in), ``renders`` (input -> frames to render), ``frames`` (the job's), ``result`` (the result's
    frames), the cache ``key``, ``first``, ``last`` and ``handles``. ``ranges`` gives each connected input's own
    frames, ``upstream`` the hash of what is connected (cache.join_upstream). A continuity node compares A's
    last frame with B's first (or the frames set) and uses no handles. Raises ValueError with a one-line reason
    (a retime without speed, a reversed range, unreadable frames)."""
    if tool.get("frameless"):
        fa = timing.pick_frame(params.get("frames_a") or "", ranges["a"][1], last=True)
        fb = timing.pick_frame(params.get("frames_b") or "", ranges["b"][0], last=False)
        params = dict(params, frames_a=str(fa), frames_b=str(fb))
        renders = {"a": (fa, fa), "b": (fb, fb)}
        for name in ranges:
            renders.setdefault(name, (fb, fb))
        key = cache.cache_key(tool["name"], upstream, fa, fb, params)
        return {"params": params, "renders": renders, "frames": (fb, fb), "result": (fb, fb), "key": key,
                "first": first, "last": last, "handles": 0}
    plate = ranges[knobs.tool_inputs(tool)[0]]
    start, end = timing.render_range(tool["name"], first, last, handles, plate)
    result = timing.output_range(tool["name"], params, start, end)
    renders = {name: (start, end) for name in ranges}
    key = cache.cache_key(tool["name"], upstream, first, last, params, {"handles": handles, "render": [start, end]})
    return {"params": params, "renders": renders, "frames": (start, end), "result": result, "key": key,
            "first": first, "last": last, "handles": handles}


def plan_files(tool: Dict[str, Any], folder: str, plan: Dict[str, Any], connected: List[str]) -> Dict[str, Any]:
    """The files of a run in the cache ``folder`` (absolute): ``inputs`` (input -> EXR pattern to render to),
    ``outputs`` (output -> pattern or, for continuity, the report folder and JSON) and the ``job`` dict over the
    plan's frames (handles 0: the rendered frames already include them)."""
    inputs = {name: os.path.join(folder, name + ".####.exr") for name in connected}
    outputs = {name: os.path.join(folder, "out_" + name + ".####.exr")
               for name in knobs.job_outputs(tool, connected, plan["params"])}
    if tool.get("frameless"):
        outputs.update(report=os.path.join(folder, "report"), json=os.path.join(folder, "continuity.json"))
    start, end = plan["frames"]
    job = jobs.build_job(tool["name"], inputs, outputs, start, end, plan["params"])
    return {"inputs": inputs, "outputs": outputs, "job": job}


def read_settings(outputs: Dict[str, str], plan: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Output -> the knob values of its result Read: the files and, as first/last/origfirst/origlast, the
    result's frames (a retime's differ from the input's)."""
    first, last = plan["result"]
    return {name: {"file": path, "first": first, "last": last, "origfirst": first, "origlast": last}
            for name, path in outputs.items()}


def result_files(tool: Dict[str, Any], outputs: Dict[str, str], plan: Dict[str, Any],
                 wired: Iterable[str]) -> Dict[str, str]:
    """Output -> its first file, for the ``wired`` outputs (those a Read shows), plus a continuity node's JSON:
    while these are on disk the result is."""
    frame = plan["frames"][0] if tool.get("frameless") else plan["result"][0]
    files = {name: jobs.frame_path(outputs[name], frame) for name in wired}
    if tool.get("frameless"):
        files["json"] = outputs["json"]
    return files


def describe_result(plan: Dict[str, Any], files: Dict[str, str], outputs: Dict[str, str],
                    artifacts: Dict[str, Any]) -> Dict[str, Any]:
    """The result the state records: its frames, first files (``result_files``), output patterns and the
    worker's artifacts."""
    return {"first": plan["result"][0], "last": plan["result"][1], "files": files, "outputs": dict(outputs),
            "artifacts": artifacts}
