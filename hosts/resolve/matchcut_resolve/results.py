"""Results back into Resolve, as plain data: what each output becomes, the CDL for SetCDL, continuity markers."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from typing import Any, Dict, List, Optional

from matchcut_resolve import timing

#: Timeline.AddMarker's colours (README).
MARKER_COLOURS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender", "Sky",
                  "Mint", "Lemon", "Sand", "Cocoa", "Cream")
#: Longest customData string written on a marker (regions are dropped from the end beyond it).
CUSTOM_DATA_LIMIT = 8000


def primary_output(kinds: Dict[str, str]) -> Optional[str]:
    """The output that becomes the take (or the new track): comp, else main, else the first plate output."""
    plates = [name for name, kind in kinds.items() if kind == "plate"]
    for preferred in ("comp", "main"):
        if preferred in plates:
            return preferred
    return plates[0] if plates else None


def actions(kinds: Dict[str, str], placement: str) -> Dict[str, str]:
    """Output name -> what happens to it: "take" or "track" (the primary plate), "matte" (a clip matte on the
    source's media pool item), "import" (into the Matchcut bin only), or "markers"/"artifact" (frameless)."""
    primary = primary_output(kinds)
    out = {}
    for name, kind in kinds.items():
        if name == primary:
            out[name] = placement
        elif kind == "matte":
            out[name] = "matte"
        elif kind == "json":
            out[name] = "markers"
        elif kind == "report":
            out[name] = "artifact"
        else:
            out[name] = "import"
    return out


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


def cdl_not_fitting(message: Optional[str]) -> bool:
    """True when a shot-match job failed only because its correction is not close enough to a CDL (the LUT is
    still good): the adapter runs the job again without the CDL."""
    return bool(message) and "setting 'cdl'" in message and "not close enough to a CDL" in message  # type: ignore[operator]


def _region_line(region: Dict[str, Any]) -> str:
    box = region.get("box") or []
    where = " at x {} y {}, {}x{} px".format(*box) if len(box) == 4 else ""
    on = region.get("on")
    on_text = " on {}".format(on) if on and on != "unknown" else ""
    pair = " (with #{})".format(region["pair"]) if region.get("pair") is not None else ""
    return "#{} {}{}{}{} (score {:.2f})".format(region.get("id"), region.get("category", "change"), pair, on_text,
                                             where, float(region.get("score") or 0.0))


def continuity_markers(data: Dict[str, Any], b_range: timing.SourceRange, report: str, json_path: str,
                       a_name: str = "A", b_name: str = "B") -> List[Dict[str, Any]]:
    """One marker per compared cut of a continuity JSON (matchcut_continuity 1): at B's compared frame, mapped
    to the timeline (frameId relative to its start); the note lists the regions, customData carries the
    report and JSON paths and the regions as JSON. Red when regions were flagged, green when none."""
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
            note = "{} vs {}: ".format(a_name, b_name) + "; ".join(_region_line(r) for r in regions)
        else:
            name = "Matchcut continuity: no differences"
            note = "{} vs {}: nothing flagged at this sensitivity".format(a_name, b_name)
        note += ". Report: {}".format(report)
        payload = {"matchcut": "continuity", "report": report, "json": json_path, "label": comparison.get("label"),
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
