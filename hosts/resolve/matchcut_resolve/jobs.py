"""Jobs from timeline items: item facts -> source ranges -> a version-1 Matchcut job, its folder and files.

Item facts are plain dicts, the same whether the Studio adapter read them through Python or a free-version Lua
stub wrote them to a file (keys in ITEM_KEYS; timeline facts: name, fps, start_frame, project).
"""

import hashlib
import json
import os
from typing import Any, Dict, List, Optional, Tuple

from matchcut_resolve import media, timing
from matchcut_resolve.client import jobs as client_jobs
from matchcut_resolve.client import tools

ITEM_KEYS = ("name", "file_path", "clip_start", "clip_end", "clip_fps", "clip_frames", "record_start", "duration",
             "source_start", "source_end", "source_start_time", "source_end_time", "left_offset", "right_offset",
             "track", "unique_id")
#: Input roles read as they are (one frame of a still, another shot's own range), not frame by frame beside
#: the plate: they are passed as the media's own pattern, never linked or rendered for being a movie.
OWN_FRAMES_ROLES = ("still", "shot")
#: The worker's rate parameters of a tool that retimes (its protocol, matchcut_resolve.client.tools.retime_step).
RETIME_PARAMS = ("speed", "fps_from", "fps_to")


class JobFailure(ValueError):
    """A job that cannot be built from the items and settings; the message is one line for the artist."""


def _num(value: Any) -> Optional[float]:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class SourcePlan:
    """One timeline item as a Matchcut input: the pattern to read, its source range, its frame rate, and
    whether Resolve must render it to EXR first (camera raw and other media Matchcut cannot read)."""

    def __init__(self, name: str, pattern: str, rng: timing.SourceRange, fps: Any, needs_render: bool,
                 rendered: bool = False, facts: Optional[Dict[str, Any]] = None) -> None:
        self.name, self.pattern, self.range, self.fps = name, pattern, rng, fps
        self.needs_render, self.rendered = needs_render, rendered
        self.facts = facts or {}

    @property
    def warnings(self) -> List[str]:
        return list(self.range.warnings)


def plan_source(item: Dict[str, Any], timeline: Dict[str, Any], handles: int = 0) -> SourcePlan:
    """The source plan of one item (facts as in ITEM_KEYS). Raises JobFailure with the item's name."""
    name = str(item.get("name") or "item")
    try:
        clip = media.clip_path(str(item.get("file_path") or ""), item.get("clip_start"), item.get("clip_end"))
        frames = _num(item.get("clip_frames"))
        if frames is None and clip.is_sequence:
            frames = clip.last - clip.first + 1  # type: ignore[operator]
        span = None
        start_time, end_time = _num(item.get("source_start_time")), _num(item.get("source_end_time"))
        if start_time is not None and end_time is not None:
            span = end_time - start_time
        t = timing.ItemTiming(
            record_start=int(_num(item.get("record_start")) or 0), duration=int(_num(item.get("duration")) or 0),
            timeline_fps=timeline.get("fps"), clip_fps=item.get("clip_fps") or timeline.get("fps"),
            clip_frames=int(frames) if frames else None,
            first_file_frame=media.first_file_frame(clip, item.get("clip_start")),
            source_start=_num(item.get("source_start")), source_end=_num(item.get("source_end")),
            source_span_seconds=span, left_offset=_num(item.get("left_offset")),
            right_offset=_num(item.get("right_offset")), timeline_start=int(_num(timeline.get("start_frame")) or 0))
        rng = timing.source_range(t, handles)
    except ValueError as exc:
        raise JobFailure("{}: {}".format(name, exc))
    needs_render = not clip.readable
    if needs_render and handles:
        rng.warnings.append("{} is rendered by Resolve over its record range: no handles".format(name))
    return SourcePlan(name, clip.pattern, rng, t.clip_fps, needs_render, facts=item)


def rendered_source(plan: SourcePlan, pattern: str, first: int, last: int) -> SourcePlan:
    """The plan of an item after Resolve rendered its record range to ``pattern`` (first..last): one file per
    timeline frame, at the timeline's rate, no handles."""
    t0 = plan.range.timing
    count = last - first + 1
    t = timing.ItemTiming(record_start=t0.record_start, duration=t0.duration, timeline_fps=t0.timeline_fps,
                          clip_fps=t0.timeline_fps, clip_frames=count, first_file_frame=first, source_start=0,
                          source_end=t0.duration, timeline_start=t0.timeline_start)
    rng = timing.source_range(t, 0)
    rng.warnings[:0] = plan.warnings
    if count != t0.duration:
        rng.warnings.append("Resolve rendered {} frame(s) for a {}-frame item".format(count, t0.duration))
    return SourcePlan(plan.name, pattern, rng, t0.timeline_fps, False, rendered=True, facts=plan.facts)


def job_key(tool: str, params: Dict[str, Any], inputs: Dict[str, str], frames: str) -> str:
    """12 hex digits that change with the tool, any parameter, input or frame range: the result folder's
    name, so the same settings reuse (and resume) the same result."""
    blob = json.dumps({"tool": tool, "params": params, "inputs": inputs, "frames": frames}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def result_folder(root: str, project: str, timeline: str, item: str, tool: str, key: str) -> str:
    """``root/<project>/<timeline>/<item>_<tool>_<key>``; names are sanitised so none can leave ``root``."""
    safe = client_jobs.safe_name
    root = os.path.abspath(root)
    path = os.path.join(root, safe(project), safe(timeline), "{}_{}_{}".format(safe(item), tool, key))
    if not path.startswith(root + os.sep):
        raise JobFailure("result folder for {!r} leaves {}".format(item, root))
    return path


def output_names(tool: Dict[str, Any], inputs: Dict[str, str], params: Dict[str, Any]) -> Dict[str, str]:
    """Output name -> kind (plate, matte, pass, report, json, model) for a tool's job: the outputs whose ``needs`` the
    wired inputs or set parameters meet (a matte's comp only with a background), extra ones included."""
    return {name: tools.output_kind(tool, name) for name in tools.job_outputs(tool, list(inputs), params)}


class JobPlan:
    """A job ready to write: the job dict, its folder and path, output patterns and kinds, input links, and the
    tool's description (``description``) it was built from."""

    def __init__(self, job: Dict[str, Any], folder: str, outputs: Dict[str, str], kinds: Dict[str, str],
                 links: List[Tuple[str, int, int, str, int, int]], plate: Optional[SourcePlan],
                 extras: Dict[str, SourcePlan], description: Optional[Dict[str, Any]] = None) -> None:
        self.job, self.folder, self.outputs, self.kinds, self.links = job, folder, outputs, kinds, links
        self.plate, self.extras = plate, extras
        self.description = description or {"name": job["tool"]}
        self.job_path = os.path.join(folder, "job.json")

    @property
    def tool(self) -> str:
        return self.job["tool"]


def _unset(value: Any) -> bool:
    return value is None or value == ""


def _frames_for(role: str, rng: timing.SourceRange) -> Any:
    """What an input's ``frames_param`` receives: a still's one frame (the middle of the frames the item uses),
    another shot's or the main plate's used range."""
    if role == "still":
        return rng.timing.first_file_frame + (rng.first_used + rng.last_used) // 2
    return _used_text(rng)


def build_job(tool: Dict[str, Any], plate: Optional[SourcePlan], extras: Dict[str, SourcePlan],
              params: Dict[str, Any], root: str, timeline: Dict[str, Any], provider: str = "auto") -> JobPlan:
    """The job for ``tool`` (its description) on ``plate`` (the current item: the tool's main input) with the
    further inputs ``extras`` (input name -> plan).

    ``timeline``: the timeline facts (its name and project name the folder). By the inputs' roles: per-frame
    inputs are renumbered to the plate's frames through links in the job folder; a still or another shot is read
    as it is, its ``frames_param`` (a still's middle used frame, a shot's used range; the main input's too) set
    when not given. The tool's artifacts get paths in the folder; a tool that retimes, with none of its rate
    parameters set, converts the clip's rate to the timeline's.
    """
    name = tool["name"]
    params = dict(params)
    main = tools.main_input(tool)
    if plate is None:
        raise JobFailure("{}: needs a timeline item with media".format(name))
    for input_name in tools.required_inputs(tool):
        if input_name != main and input_name not in extras:
            raise JobFailure("{}: needs an item as {} besides the current item".format(
                name, tools.input_spec(tool, input_name).get("label") or input_name))
    inputs: Dict[str, str] = {main: plate.pattern}
    frames = None if tool.get("frameless") else plate.range.frames_text()
    links: List[Tuple[str, int, int, str, int, int]] = []
    wired = [(main, plate)] + [(k, v) for k, v in extras.items() if k != main]
    for input_name, source in wired:
        spec = tools.input_spec(tool, input_name)
        role = spec.get("role", "frames")
        param = spec.get("frames_param")
        if param and _unset(params.get(param)):
            params[param] = _frames_for(role, source.range)
        if input_name == main:
            continue
        # a per-frame input is linked below, once the folder is known
        inputs[input_name] = source.pattern if role in OWN_FRAMES_ROLES else PENDING
    if tools.timing(tool)["retimes"] and all(_unset(params.get(k)) for k in RETIME_PARAMS):
        t = plate.range.timing
        if t.clip_fps == t.timeline_fps:
            raise JobFailure("{}: set a speed (the clip's rate already matches the timeline's)".format(name))
        params["fps_from"], params["fps_to"] = float(t.clip_fps), float(t.timeline_fps)
    key_inputs = {k: (v if v != PENDING else extras[k].pattern + "@" + extras[k].range.frames_text())
                  for k, v in inputs.items()}
    key = job_key(name, params, key_inputs, frames or "")
    folder = result_folder(root, str(timeline.get("project") or ""), str(timeline.get("name") or ""), plate.name,
                           name, key)
    stem = client_jobs.safe_name(plate.name)
    for input_name, value in list(inputs.items()):
        if value == PENDING:
            extra, rng = extras[input_name], plate.range
            if media.clip_path(extra.pattern).is_movie:
                raise JobFailure("{}: input {} ({}) must be an image sequence or a still to follow the plate frame "
                                 "by frame (the Studio scripts render movies to EXR first)".format(name, input_name,
                                                                                                 extra.name))
            dst = os.path.join(folder, "inputs", "{}.{}{}".format(input_name, client_jobs.hashes(rng.file_last),
                                                                 os.path.splitext(extra.pattern)[1]))
            links.append((extra.pattern, extra.range.file_first, extra.range.file_last, dst, rng.file_first,
                          rng.file_last - rng.file_first + 1))
            inputs[input_name] = dst
    kinds = output_names(tool, inputs, params)
    outputs = {}
    for out, kind in kinds.items():
        if kind == "report":
            outputs[out] = os.path.join(folder, "report")
        elif kind == tools.MODEL_KIND:  # a trained model's folder (training.build_training makes such jobs)
            outputs[out] = os.path.join(folder, out)
        elif kind == "json":
            outputs[out] = os.path.join(folder, "{}_{}.json".format(stem, name))
        else:
            outputs[out] = os.path.join(folder, "{}_{}_{}.{}.exr".format(stem, name, out,
                                                                         client_jobs.hashes(plate.range.file_last)))
    for param, path in tools.artifact_params(tool, folder, stem).items():
        if _unset(params.get(param)):
            params[param] = path
    try:
        job = client_jobs.build_job(name, inputs, outputs, frames, params, provider=provider)
    except ValueError as exc:
        raise JobFailure(str(exc))
    return JobPlan(job, folder, dict(outputs), kinds, links, plate, extras, tool)


#: An input's placeholder until its link in the job folder is known.
PENDING = "pending"


def _used_text(rng: timing.SourceRange) -> str:
    first = rng.timing.first_file_frame + rng.first_used
    last = rng.timing.first_file_frame + rng.last_used
    return client_jobs.format_range(first, last)


def write_job(plan: JobPlan) -> str:
    """Make the job folder, the input links, and write job.json atomically; returns the job path."""
    os.makedirs(plan.folder, exist_ok=True)
    for src, src_first, src_last, dst, dst_first, count in plan.links:
        media.link_sequence(src, src_first, src_last, dst, dst_first, count)
    client_jobs.write_json_atomic(plan.job_path, plan.job)
    return plan.job_path
