"""Regions from a frameless tool's JSON report (continuity's: what changed between shot A and shot B), as lines
for the node and boxes for Text overlays."""
from __future__ import annotations

from typing import Any, Dict, List

from matchcut_nuke.client.regions import first_regions, region_label, region_line


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
    found, height = first_regions(artifacts["json"]) if artifacts.get("json") else ([], 0)
    lines = [region_line(r) for r in found]
    overlays = [{"name": OVERLAY_PREFIX + str(r["id"]), "box": nuke_box(r["box"], height),
                 "message": region_label(r)} for r in found]
    note = "{} report: {}".format(label, artifacts.get("report", "(none)"))
    return {"lines": lines, "text": "\n".join(lines) if lines else "no regions flagged", "overlays": overlays,
            "note": "\n".join([note] + lines)}
