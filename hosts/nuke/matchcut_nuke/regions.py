"""Regions from a frameless tool's JSON report (continuity's: what changed between shot A and shot B), as lines
for the node and boxes for Text overlays."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple


class ReportError(ValueError):
    """The report's JSON could not be read; the message names the file and what was expected."""


def read_regions(path: str) -> Tuple[List[Dict[str, Any]], int]:
    """The regions of the first comparison in a report's JSON (`continuity.json`: id, category, score, box
    [x, y, w, h] in B's pixels, top-left origin, on) and B's height; ReportError names the file when it is not
    a report."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ReportError("{}: cannot read the report ({})".format(path, exc)) from None
    comparisons = data.get("comparisons") if isinstance(data, dict) else None
    if not isinstance(comparisons, list):
        raise ReportError("{}: expected a report with 'comparisons'".format(path))
    if not comparisons:
        return [], 0
    first = comparisons[0]
    height = int((first.get("size_b") or [0, 0])[1])
    regions = []
    for region in first.get("regions") or []:
        box = [int(v) for v in region.get("box", [0, 0, 0, 0])]
        regions.append({"id": int(region["id"]), "category": str(region.get("category", "")),
                        "score": float(region.get("score", 0.0)), "box": box, "on": str(region.get("on", ""))})
    return regions, height


def region_line(region: Dict[str, Any]) -> str:
    """One region as a line: '#2 moved 0.61 on set at x 10 y 20 w 30 h 40'."""
    x, y, w, h = region["box"]
    return "#{} {} {:.2f} on {} at x {} y {} w {} h {}".format(region["id"], region["category"], region["score"],
                                                              region["on"] or "unknown", x, y, w, h)


def nuke_box(box: List[int], height: int) -> List[int]:
    """A top-left (x, y, w, h) box as Nuke's bottom-left (x, y, r, t), for a Text2 node's box knob."""
    x, y, w, h = box
    return [x, height - (y + h), x + w, height - y]


#: Name prefix of the Text2 overlay nodes a frameless tool's node makes inside itself.
OVERLAY_PREFIX = "matchcut_region_"


def summarise_report(artifacts: Dict[str, Any], label: str) -> Dict[str, Any]:
    """What a frameless tool's node (labelled ``label``) shows from the worker's ``artifacts`` ("json": the
    report's JSON, "report": its folder): ``lines`` (one per region), ``text`` for the Regions knob,
    ``overlays`` (a Text2 per region: name, message, Nuke ``box``) and the sticky ``note``. Raises ReportError
    when the JSON cannot be read."""
    found, height = read_regions(artifacts["json"]) if artifacts.get("json") else ([], 0)
    lines = [region_line(r) for r in found]
    overlays = [{"name": OVERLAY_PREFIX + str(r["id"]), "box": nuke_box(r["box"], height),
                 "message": "#{} {} {:.2f}".format(r["id"], r["category"], r["score"])} for r in found]
    note = "{} report: {}".format(label, artifacts.get("report", "(none)"))
    return {"lines": lines, "text": "\n".join(lines) if lines else "no regions flagged", "overlays": overlays,
            "note": "\n".join([note] + lines)}
