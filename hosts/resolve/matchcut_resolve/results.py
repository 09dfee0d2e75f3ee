"""Results back into Resolve, as plain data: what each output becomes and the numbers it is placed with, the CDL
for SetCDL, continuity markers and where they go, and the summary lines the dialog shows."""

import json
import os
import xml.etree.ElementTree as ElementTree
from typing import Any, Dict, List, Optional, Tuple

from matchcut_resolve import media, timing
from matchcut_resolve.client import tools
from matchcut_resolve.client.regions import region_line, region_of

#: The media pool bin results are imported into.
BIN_NAME = "Matchcut"

#: Timeline.AddMarker's colours (README).
MARKER_COLOURS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender", "Sky",
                  "Mint", "Lemon", "Sand", "Cocoa", "Cream")
#: Longest customData string written on a marker (regions are dropped from the end beyond it).
CUSTOM_DATA_LIMIT = 8000


def actions(tool: Dict[str, Any], kinds: Dict[str, str], placement: str) -> Dict[str, str]:
    """Output name -> what happens to it: "take" or "track" (the tool's primary output of those asked for),
    "matte" (a clip matte on the source's media pool item), "import" (into the Matchcut bin only), or
    "markers"/"artifact" (a JSON file, a report folder or a trained model's folder: its path in the summary)."""
    primary = tools.primary_output(tool, list(kinds))
    out = {}
    for name, kind in kinds.items():
        if name == primary:
            out[name] = placement
        elif kind == "matte":
            out[name] = "matte"
        elif kind == "json":
            out[name] = "markers"
        elif kind in ("report", tools.MODEL_KIND):
            out[name] = "artifact"
        else:
            out[name] = "import"
    return out


def cdl_artifact(tool: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The tool's artifact that is an ASC CDL (suffix .cc or .cdl), or None: its file can be set on the grade."""
    for artifact in tool.get("artifacts") or []:
        if str(artifact.get("suffix", "")).lower() in (".cc", ".cdl") or artifact.get("name") == "cdl":
            return artifact
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_cdl(path: str, node_index: int = 1) -> Dict[str, str]:
    """The first ColorCorrection of an ASC CDL file (.cc or .cdl) as TimelineItem.SetCDL's map:
    {"NodeIndex": "1", "Slope": "r g b", "Offset": "r g b", "Power": "r g b", "Saturation": "s"}.

    Raises ValueError naming the file for a file that is not a CDL or lacks a value.
    """
    if int(node_index) < 1:
        raise ValueError("CDL node {!r}: node indices start at 1".format(node_index))
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as exc:
        raise ValueError("{}: cannot read the CDL: {}".format(path, exc))
    found: Dict[str, str] = {}
    for element in root.iter():
        name = _local(element.tag)
        if name in ("Slope", "Offset", "Power", "Saturation") and name not in found and element.text:
            found[name] = " ".join(element.text.split())
    missing = [k for k in ("Slope", "Offset", "Power") if k not in found]
    if missing:
        raise ValueError("{}: not an ASC CDL (no {})".format(path, ", ".join(missing)))
    for key in ("Slope", "Offset", "Power"):
        values = found[key].split()
        if len(values) != 3:
            raise ValueError("{}: {} has {} value(s), expected 3".format(path, key, len(values)))
        [float(v) for v in values]
    found.setdefault("Saturation", "1.0")
    float(found["Saturation"])
    return {"NodeIndex": str(int(node_index)), "Slope": found["Slope"], "Offset": found["Offset"],
            "Power": found["Power"], "Saturation": found["Saturation"]}


def cdl_not_fitting(message: Optional[str], param: str) -> bool:
    """True when a job failed only because its correction is not close enough to a CDL (the CDL artifact's
    parameter ``param`` is named; the other artifacts are still good): the adapter runs it again without it."""
    return bool(message) and "setting '{}'".format(param) in message and \
        "not close enough to a CDL" in message  # type: ignore[operator]


def continuity_markers(data: Dict[str, Any], b_range: timing.SourceRange, report: str, json_path: str,
                       a_name: str = "A", b_name: str = "B", tool: str = "") -> List[Dict[str, Any]]:
    """One marker per compared cut of a continuity JSON (matchcut_continuity 1): at B's compared frame, mapped
    to the timeline (frameId relative to its start); the note lists the regions, customData carries the
    report and JSON paths and the regions as JSON (``"matchcut"``: the tool that wrote it). Red when regions
    were flagged, green when none."""
    if not isinstance(data, dict) or data.get("matchcut_continuity") != 1:
        raise ValueError("{}: not a Matchcut continuity JSON (matchcut_continuity 1)".format(json_path))
    markers = []
    for comparison in data.get("comparisons", []):
        regions = list(comparison.get("regions") or [])
        b_frame = (comparison.get("b") or {}).get("frame")
        frame = b_range.marker_frame_of(int(b_frame)) if b_frame is not None else \
            b_range.timing.record_start - b_range.timing.timeline_start
        if regions:
            name = "Matchcut continuity: {} region(s)".format(len(regions))
            note = "{} vs {}: ".format(a_name, b_name) + "; ".join(region_line(region_of(r)) for r in regions)
        else:
            name = "Matchcut continuity: no differences"
            note = "{} vs {}: nothing flagged at this sensitivity".format(a_name, b_name)
        note += ". Report: {}".format(report)
        payload = {"matchcut": tool, "report": report, "json": json_path, "label": comparison.get("label"),
                   "frame_a": (comparison.get("a") or {}).get("frame"), "frame_b": b_frame, "regions": regions}
        custom = json.dumps(payload, sort_keys=True)
        while len(custom) > CUSTOM_DATA_LIMIT and payload["regions"]:
            payload["regions"] = payload["regions"][:-1]
            payload["regions_truncated"] = True
            custom = json.dumps(payload, sort_keys=True)
        markers.append({"frame": frame, "color": "Red" if regions else "Green", "name": name, "note": note,
                        "duration": 1, "custom_data": custom})
    return markers


def free_frame(taken: List[float], frame: int, last: int) -> Optional[int]:
    """The first frame >= ``frame`` and <= ``last`` without a marker (Resolve keeps one marker per frame and
    an artist's marker is never replaced), or None when the item has no free frame left."""
    used = {int(round(float(f))) for f in taken}
    for candidate in range(int(frame), int(last) + 1):
        if candidate not in used:
            return candidate
    return None


def marker_slot(taken: List[float], marker: Dict[str, Any], last: int) -> Tuple[Optional[int], List[str]]:
    """(frame to add ``marker`` at or None, notes): its own frame, else the next free one up to ``last``
    (relative frames; ``taken``, the frames of Timeline.GetMarkers()), with a note when it moved or found none."""
    frame = free_frame(taken, marker["frame"], last)
    if frame is None:
        return None, ["no free frame for the marker {!r}".format(marker["name"])]
    if frame != marker["frame"]:
        return frame, ["marker moved from frame {} to {} (a marker was there)".format(marker["frame"], frame)]
    return frame, []


def marker_limit(item_end: int, timeline_start: int) -> int:
    """The last marker frame (relative to the timeline's start) on an item ending at ``item_end`` (exclusive)."""
    return int(item_end) - 1 - int(timeline_start)


def _of_kind(plan: Any, artifacts: Dict[str, Any], kind: str) -> Optional[str]:
    """The file of the job's first output of ``kind``: as the done event names it, else the planned path."""
    for name, found in plan.kinds.items():
        if found == kind:
            return str(artifacts.get(name) or plan.outputs.get(name))
    return None


def continuity_plan(plan: Any, artifacts: Dict[str, Any], extras: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], str]:
    """(markers, summary line) of a finished job whose JSON output is a continuity JSON (a jobs.JobPlan;
    ``extras``, its further input plans: the first names the other shot): its JSON read from disk."""
    others = tools.secondary_inputs(plan.description) if plan.description.get("input_specs") else []
    named = [extras[i["name"]].name for i in others if i["name"] in extras]
    a_name = named[0] if named else (others[0].get("label") or others[0]["name"]) if others else "A"
    path = _of_kind(plan, artifacts, "json")
    with open(str(path), encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or data.get("matchcut_continuity") != 1:
        return [], "JSON: {}".format(path)  # another tool's JSON: no markers, its path in the summary
    report = str(_of_kind(plan, artifacts, "report"))
    markers = continuity_markers(data, plan.plate.range, report, str(path), a_name, plan.plate.name, plan.tool)
    regions = sum(len(c.get("regions") or []) for c in data.get("comparisons", []))
    return markers, "{} continuity marker(s), {} region(s); report {}".format(len(markers), regions, report)


def fps_text(fps: Any) -> str:
    """A clip FPS property value: "24", "23.976", "29.97", "12.5"."""
    return "{:.3f}".format(float(fps)).rstrip("0").rstrip(".")


def placement_of(tool: Dict[str, Any], options: Dict[str, Any]) -> str:
    """Where the primary result goes: "take" or "track" (a tool that retimes always goes on a track: its length
    changes)."""
    return "track" if tools.timing(tool)["retimes"] else options.get("placement", "take")


def result_timing(action: str, tool: Dict[str, Any], params: Dict[str, Any], plate_fps: Any,
                  rng: timing.SourceRange, first: int, last: int) -> Tuple[Any, int, int]:
    """(frame rate, startFrame, endFrame) a result covering file frames first..last is imported and placed
    with: the plate's rate (a retiming tool's target rate), the used frames inside it when it covers the job's
    range, else all of it; on a track, an item's constant speed change is played back as the item shows it."""
    fps = plate_fps
    if tools.timing(tool)["retimes"] and params.get("fps_to"):
        fps = params["fps_to"]
    same_frames = (first, last) == (rng.file_first, rng.file_last)
    if action == "track" and same_frames and abs(rng.speed) != 1.0:
        fps = float(plate_fps) * abs(rng.speed)
    start, end = rng.take_range() if same_frames else (0, last - first + 1)
    return fps, start, end


def placement_steps(plan: Any, artifacts: Dict[str, Any], placement: str) -> List[Dict[str, Any]]:
    """What to do with each output of a finished job (a jobs.JobPlan), in order: {"action": "note", "text"},
    {"action": "markers"}, {"action": "matte", "name", "pattern", "first", "last"}, or "take"/"track"/"import"
    with the frame rate, start and end (result_timing) and the Comments note of the imported clip."""
    steps: List[Dict[str, Any]] = []
    plate = plan.plate
    rng = plate.range if plate is not None else None
    for name, action in actions(plan.description, plan.kinds, placement).items():
        pattern = plan.outputs[name]
        if action == "markers":
            steps.append({"action": "markers", "name": name})
            continue
        if action == "artifact":
            what = plan.kinds.get(name, "report")
            where = (artifacts.get("report") or pattern) if what == "report" else pattern
            steps.append({"action": "note", "text": "{}: {}".format(what, where)})
            continue
        frames = media.frames_on_disk(pattern)
        if not frames or rng is None:
            steps.append({"action": "note", "text": "{}: no frames written".format(name)})
            continue
        step = {"action": action, "name": name, "pattern": pattern, "first": frames[0], "last": frames[-1]}
        if action != "matte":
            fps, start, end = result_timing(action, plan.description, plan.job["params"], plate.fps, rng,
                                            frames[0], frames[-1])
            note = "Matchcut {} ({}) from {}".format(plan.tool, os.path.basename(plan.folder), plate.name)
            step.update(fps=fps, start=start, end=end, note=note)
        steps.append(step)
    return steps


def placed_line(step: Dict[str, Any], where: Any = None) -> str:
    """The summary line of a placed step: ``where`` is the take index (take), the record frame (track), or for a
    matte (files passed, mattes the clip lists or None)."""
    name, action = step["name"], step["action"]
    if action == "take":
        return "{} added as take {}".format(name, where)
    if action == "track":
        return "{} placed on a new track at record frame {}".format(name, where)
    if action == "matte":
        passed, listed = where
        return "{} attached as a clip matte: frames {}-{} ({} file(s){})".format(
            name, step["first"], step["last"], passed, "" if listed is None else "; the clip lists {} matte(s)".format(listed))
    return "{} imported into the {} bin".format(name, BIN_NAME)


def artifact_lines(tool: Dict[str, Any], artifacts: Dict[str, Any]) -> List[str]:
    """The summary lines of the tool's artifacts a job wrote (a LUT, a CDL): "LUT: /path"."""
    names = [a["name"] for a in tool.get("artifacts") or []]
    return ["{}: {}".format(name.upper(), artifacts[name]) for name in names if artifacts.get(name)]


def cdl_line(node: int) -> str:
    return "CDL set on node {} of the grade".format(node)


def cdl_file(tool: Dict[str, Any], artifacts: Dict[str, Any]) -> Optional[str]:
    """The CDL file a job wrote (its tool's CDL artifact, as the done event names it), or None."""
    artifact = cdl_artifact(tool)
    return str(artifacts[artifact["name"]]) if artifact and artifacts.get(artifact["name"]) else None


def cdl_node(tool: Dict[str, Any], options: Dict[str, Any], artifacts: Dict[str, Any]) -> Optional[int]:
    """The grade node a job's CDL is set on, or None when the artist did not ask for it (or no CDL came)."""
    if options.get("apply_cdl") and cdl_file(tool, artifacts):
        return int(options.get("cdl_node") or 1)
    return None
