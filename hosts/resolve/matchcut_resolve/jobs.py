"""Jobs from timeline items: item facts -> source ranges -> a version-1 Matchcut job, its folder and files.

Item facts are plain dicts, the same whether the Studio adapter read them through Python or a free-version Lua
stub wrote them to a file (keys in ITEM_KEYS; timeline facts: name, fps, start_frame, project).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from typing import Any, Dict, List, Optional, Tuple

from matchcut_resolve import media, timing

JOB_VERSION = 1
ITEM_KEYS = ("name", "file_path", "clip_start", "clip_end", "clip_fps", "clip_frames", "record_start", "duration",
             "source_start", "source_end", "source_start_time", "source_end_time", "left_offset", "right_offset",
             "track", "unique_id")
#: Inputs a tool reads once (a still or one chosen frame), not frame by frame alongside the plate.
SINGLE_FRAME_INPUTS = {"match": ("reference",)}


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


def safe_name(text: str) -> str:
    """A file-name-safe version of a clip, timeline or project name (never empty, never a path)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._")
    return cleaned[:80] or "untitled"


def job_key(tool: str, params: Dict[str, Any], inputs: Dict[str, str], frames: str) -> str:
    """12 hex digits that change with the tool, any parameter, input or frame range: the result folder's
    name, so the same settings reuse (and resume) the same result."""
    blob = json.dumps({"tool": tool, "params": params, "inputs": inputs, "frames": frames}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def result_folder(root: str, project: str, timeline: str, item: str, tool: str, key: str) -> str:
    """``root/<project>/<timeline>/<item>_<tool>_<key>``; names are sanitised so none can leave ``root``."""
    root = os.path.abspath(root)
    path = os.path.join(root, safe_name(project), safe_name(timeline), "{}_{}_{}".format(safe_name(item), tool, key))
    if not path.startswith(root + os.sep):
        raise JobFailure("result folder for {!r} leaves {}".format(item, root))
    return path


def output_names(tool: Dict[str, Any], inputs: Dict[str, str]) -> Dict[str, str]:
    """Output name -> kind (plate, matte, pass, report, json) for a tool's job; a comp only with a background."""
    if tool.get("frameless"):
        return {"report": "report", "json": "json"}
    kinds = dict(tool.get("output_kinds") or {}) or {name: "plate" for name in tool.get("outputs") or ["main"]}
    if tool.get("name") == "matte" and "background" not in inputs:
        kinds.pop("comp", None)
    return kinds


class JobPlan:
    """A job ready to write: the job dict, its folder and path, output patterns and kinds, input links."""

    def __init__(self, job: Dict[str, Any], folder: str, outputs: Dict[str, str], kinds: Dict[str, str],
                 links: List[Tuple[str, int, int, str, int, int]], plate: Optional[SourcePlan],
                 extras: Dict[str, SourcePlan]) -> None:
        self.job, self.folder, self.outputs, self.kinds, self.links = job, folder, outputs, kinds, links
        self.plate, self.extras = plate, extras
        self.job_path = os.path.join(folder, "job.json")

    @property
    def tool(self) -> str:
        return self.job["tool"]


def build_job(tool: Dict[str, Any], plate: Optional[SourcePlan], extras: Dict[str, SourcePlan],
              params: Dict[str, Any], root: str, timeline: Dict[str, Any], provider: str = "auto") -> JobPlan:
    """The job for ``tool`` on ``plate`` (None for frameless tools that take a and b) with extra inputs.

    ``timeline``: the timeline facts (its name and project name the folder). Per-frame extra inputs are renumbered to the plate's frames
    through links in the job folder; match gets its LUT and CDL paths and the reference's middle used frame;
    continuity compares the tail of A's used range with the head of B's; a retime without speed or rates
    converts the clip's rate to the timeline's.
    """
    name = tool["name"]
    params = dict(params)
    inputs: Dict[str, str] = {}
    frames = None
    links: List[Tuple[str, int, int, str, int, int]] = []
    if name == "continuity":
        if "a" not in extras or plate is None:
            raise JobFailure("continuity: needs two items, A (the earlier shot) and B (the current item)")
        inputs = {"a": extras["a"].pattern, "b": plate.pattern}
        params["frames_a"] = _used_text(extras["a"].range)
        params["frames_b"] = _used_text(plate.range)
    else:
        if plate is None:
            raise JobFailure("{}: needs a timeline item with media".format(name))
        inputs["plate"] = plate.pattern
        frames = plate.range.frames_text()
        single = SINGLE_FRAME_INPUTS.get(name, ())
        for input_name, extra in extras.items():
            if input_name in single:
                inputs[input_name] = extra.pattern
                if name == "match" and params.get("reference_frame") in (None, ""):
                    rng = extra.range
                    params["reference_frame"] = rng.timing.first_file_frame + (rng.first_used + rng.last_used) // 2
                continue
            inputs[input_name] = "pending"  # replaced by the linked pattern below, once the folder is known
        if name == "retime" and not any(params.get(k) not in (None, "") for k in ("speed", "fps_from", "fps_to")):
            t = plate.range.timing
            if t.clip_fps == t.timeline_fps:
                raise JobFailure("retime: set a speed (the clip's rate already matches the timeline's)")
            params["fps_from"], params["fps_to"] = float(t.clip_fps), float(t.timeline_fps)
    key_inputs = {k: (v if v != "pending" else extras[k].pattern + "@" + extras[k].range.frames_text())
                  for k, v in inputs.items()}
    key = job_key(name, params, key_inputs, frames or "")
    owner = plate.name if plate is not None else "shot"
    folder = result_folder(root, str(timeline.get("project") or ""), str(timeline.get("name") or ""), owner, name, key)
    stem = safe_name(owner)
    for input_name, value in list(inputs.items()):
        if value == "pending":
            extra, rng = extras[input_name], plate.range  # type: ignore[union-attr]
            if media.clip_path(extra.pattern).is_movie:
                raise JobFailure("{}: input {} ({}) must be an image sequence or a still to follow the plate frame "
                                 "by frame (the Studio scripts render movies to EXR first)".format(name, input_name,
                                                                                                 extra.name))
            dst = os.path.join(folder, "inputs", "{}.{}{}".format(input_name, "#" * _width(rng.file_last),
                                                                 os.path.splitext(extra.pattern)[1]))
            links.append((extra.pattern, extra.range.file_first, extra.range.file_last, dst, rng.file_first,
                          rng.file_last - rng.file_first + 1))
            inputs[input_name] = dst
    kinds = output_names(tool, inputs)
    outputs = {}
    for out, kind in kinds.items():
        if kind == "report":
            outputs[out] = os.path.join(folder, "report")
        elif kind == "json":
            outputs[out] = os.path.join(folder, "{}_{}.json".format(stem, name))
        else:
            width = _width(plate.range.file_last) if plate is not None else 4
            outputs[out] = os.path.join(folder, "{}_{}_{}.{}.exr".format(stem, name, out, "#" * width))
    if name == "match":
        params.setdefault("lut", os.path.join(folder, "{}_match.cube".format(stem)))
        params.setdefault("cdl", os.path.join(folder, "{}_match.cc".format(stem)))
    job = {"matchcut_job": JOB_VERSION, "tool": name, "inputs": inputs, "outputs": outputs, "frames": frames,
           "handles": 0, "params": params, "device": {"provider": provider or "auto"},
           "output_options": {"dtype": "half", "compression": None}}
    return JobPlan(job, folder, {k: v for k, v in outputs.items()}, kinds, links, plate, extras)


def _used_text(rng: timing.SourceRange) -> str:
    first = rng.timing.first_file_frame + rng.first_used
    last = rng.timing.first_file_frame + rng.last_used
    return str(first) if first == last else "{}-{}".format(first, last)


def _width(last_frame: int) -> int:
    return max(4, len(str(abs(int(last_frame)))))


def write_job(plan: JobPlan) -> str:
    """Make the job folder, the input links, and write job.json atomically; returns the job path."""
    os.makedirs(plan.folder, exist_ok=True)
    for src, src_first, src_last, dst, dst_first, count in plan.links:
        media.link_sequence(src, src_first, src_last, dst, dst_first, count)
    write_json_atomic(plan.job_path, plan.job)
    return plan.job_path


def write_json_atomic(path: str, data: Any) -> str:
    """Write ``data`` as JSON to ``path`` atomically (temporary file in the same folder, then os.replace)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".matchcut-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True, default=str)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
