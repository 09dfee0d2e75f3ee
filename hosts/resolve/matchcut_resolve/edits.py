"""A Resolve timeline as the edit a tool that stands on one reads (coverage), and its result back as plain data:
Resolve's own OpenTimelineIO export made readable by the worker, the job and its folder, the In/Out range as
record frames, and the tracks, clips and markers the proposals become.

Resolve names an image sequence by its frame range in brackets (``plate.[1001-1100].exr``, as a clip's "File
Path"); its OTIO export is taken to write the same in a clip's ``target_url`` (see docs/hosts/resolve.md,
"Verified against public sources": not confirmed). The worker reads that form itself
(``matchcut.timelines.media.bracket_sequence``), so the export is passed on as Resolve wrote it.
"""

import hashlib
import json
import os
from typing import Any, Dict, List, Optional, Tuple

from matchcut_resolve import jobs
from matchcut_resolve.client import coverage, tools
from matchcut_resolve.client import jobs as client_jobs

#: The Resolve version whose Timeline.Export first writes OpenTimelineIO (resolve.EXPORT_OTIO).
OTIO_SINCE = "18.5"
#: Marker colours (Timeline.AddMarker's names): each hole's best proposal, the others.
BEST_COLOUR, OTHER_COLOUR = "Green", "Yellow"
#: The name of the n-th track the proposals go on (as the worker's new timeline names them).
TRACK_NAME = "Coverage {}"

def read_export(path: str) -> Any:
    """The OTIO file Resolve exported to ``path`` (parsed JSON); JobFailure naming the file when Resolve wrote
    nothing there or not OpenTimelineIO JSON."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise jobs.JobFailure("{}: Resolve's timeline export cannot be read ({})".format(path, exc))
    if not isinstance(data, dict) or not str(data.get("OTIO_SCHEMA", "")).startswith("Timeline"):
        raise jobs.JobFailure("{}: Resolve's export is not an OpenTimelineIO timeline".format(path))
    return data


def record_range(low: int, high: int, start: int) -> str:
    """The tool's record range from the timeline's In and Out as absolute record frames (host.mark_range) and its
    first frame: ``"120-239"``, counted from the timeline's start as the worker counts record frames."""
    return client_jobs.format_range(int(low) - int(start), int(high) - int(start))


class EditPlan(jobs.JobPlan):
    """A job on the whole timeline: ``edit`` (the readable export, written as ``edit_path`` in the job folder)
    and the result's ``json`` path besides a JobPlan's fields."""

    def __init__(self, job: Dict[str, Any], folder: str, outputs: Dict[str, str], kinds: Dict[str, str],
                 description: Dict[str, Any], edit: Any, edit_path: str) -> None:
        super().__init__(job, folder, outputs, kinds, [], None, {}, description)
        self.edit, self.edit_path = edit, edit_path


def build_job(tool: Dict[str, Any], edit: Any, params: Dict[str, Any], root: str, timeline: Dict[str, Any],
              provider: str = "auto") -> EditPlan:
    """The job for ``tool`` (one that stands on an edit: client tools.stands_on_edit) on the timeline ``edit``
    (the readable export). Its folder is named by the timeline and a key of the edit and every parameter, so the
    same timeline and settings reuse it (and a cancelled run resumes there); the edit is written there as
    ``<timeline>.otio`` (the tool names its new timeline after it), the proposals go to ``coverage/``, the
    report to ``report/`` and the JSON hosts read to ``<tool>.json``."""
    name = tool["name"]
    inputs = tools.edit_inputs(tool)
    if not inputs:
        raise jobs.JobFailure("{}: the tool reads no timeline file".format(name))
    blob = json.dumps({"tool": name, "edit": edit, "params": params}, sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
    stem = client_jobs.safe_name(timeline.get("name") or "timeline")
    folder = jobs.result_folder(root, str(timeline.get("project") or ""), str(timeline.get("name") or ""), stem,
                                name, key)
    edit_path = os.path.join(folder, stem + ".otio")
    kinds = {out: tools.output_kind(tool, out) for out in tools.job_outputs(tool, inputs, params)}
    outputs = {}
    for out, kind in kinds.items():
        if kind == "json":
            outputs[out] = os.path.join(folder, "{}.json".format(name))
        elif kind == "report":
            outputs[out] = os.path.join(folder, "report")
        else:  # the proposals' folder (kind edit)
            outputs[out] = os.path.join(folder, name if kind == tools.EDIT_KIND else out)
    try:
        job = client_jobs.build_job(name, {inputs[0]: edit_path}, outputs, None, params, provider=provider)
    except ValueError as exc:
        raise jobs.JobFailure(str(exc))
    return EditPlan(job, folder, outputs, kinds, tool, edit, edit_path)


def result_path(plan: EditPlan, artifacts: Dict[str, Any]) -> str:
    """The result JSON of a finished job: as the done event names it, else the planned one."""
    json_out = next((n for n, k in plan.kinds.items() if k == "json"), None)
    return str(artifacts.get("json") or (plan.outputs.get(json_out) if json_out else ""))


def track_plan(placed: List[Dict[str, Any]], video_tracks: int) -> List[Tuple[int, str]]:
    """The video tracks to add above the ``video_tracks`` there are: (index, name) per coverage level."""
    return [(video_tracks + level, TRACK_NAME.format(level)) for level in range(1, coverage.levels(placed) + 1)]


def clip_info(placement: Dict[str, Any], video_tracks: int, timeline_start: int) -> Dict[str, Any]:
    """MediaPool.AppendToTimeline's clipInfo (less its mediaPoolItem) for one placement: the rendered frames it
    shows (startFrame 0-based, endFrame exclusive), on its level's new track, at its record frame (absolute)."""
    return {"startFrame": 0, "endFrame": coverage.shown_frames(placement), "mediaType": 1,
            "trackIndex": video_tracks + placement["level"],
            "recordFrame": int(timeline_start) + placement["record"][0]}


def marker(placement: Dict[str, Any], report: str, tool: str) -> Dict[str, Any]:
    """The marker on a placed proposal's clip (TimelineItem.AddMarker), at its first frame: named with its kind
    and score, the note saying the hole, the option and why; custom data a JSON object with the tool that made
    it (``matchcut``), its id, hole and the report's path."""
    custom = json.dumps({"matchcut": tool, "id": placement["id"], "hole": placement["hole"],
                         "score": placement["score"], "report": report}, sort_keys=True)
    return {"frame": 0, "color": BEST_COLOUR if placement["enabled"] else OTHER_COLOUR,
            "name": coverage.marker_name(placement), "note": coverage.marker_note(placement), "duration": 1,
            "custom_data": custom}


def import_note(placement: Dict[str, Any], timeline: str, tool: str) -> str:
    """The Comments of an imported proposal: what made it, what it is and which hole of which timeline it fills."""
    return "Matchcut {}: {} for hole {} of {} ({})".format(tool, placement["label"], placement["hole"], timeline,
                                                           placement["id"])


def summary_lines(data: Dict[str, Any], placed: List[Dict[str, Any]], tracks: List[Tuple[int, str]],
                  plan: EditPlan, artifacts: Dict[str, Any], disabled: Optional[bool]) -> List[str]:
    """The dialog's summary of a placed result: the tool's summary, a line per hole, where the proposals went
    (``disabled`` False: this Resolve could not switch the waiting ones off), the report and the new timeline."""
    lines = [str(data.get("summary") or "{} hole(s)".format(len(data.get("holes") or [])))]
    lines += [coverage.hole_line(hole) for hole in data.get("holes") or []]
    if placed:
        first, last = tracks[0][0], tracks[-1][0]
        where = "V{}".format(first) if first == last else "V{}-V{}".format(first, last)
        lines.append("{} proposal(s) on new track(s) {}; each hole's best plays{}".format(
            len(placed), where, ", the others are disabled" if disabled is not False else
            " (this Resolve has no TimelineItem.SetClipEnabled: disable the others by hand)"))
    if artifacts.get("report"):
        lines.append("report: {}".format(artifacts["report"]))
    if artifacts.get("timeline"):
        lines.append("new timeline (import it to see every proposal as the worker laid them out): {}".format(
            artifacts["timeline"]))
    return lines
