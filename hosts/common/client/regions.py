"""What a continuity report's JSON flags, as every host shows it: the regions of each comparison and one line
or a short label per region (standard library only; runs in Nuke's, Resolve's and Blender's Python).

A region (``matchcut_continuity`` JSON) has ``id``, ``category`` (appeared, disappeared, moved, changed, ...),
``score`` (0 to 1), ``box`` [x, y, w, h] in B's pixels (top-left origin), ``on`` (person, set or unknown) and,
for a move, ``origin``: the box where the prop was.
"""

import json
from typing import Any, Dict, List, Optional, Tuple


class ReportError(Exception):
    """The report's JSON could not be read; the message names the file and what was expected."""


def _box(value: Any) -> Optional[List[int]]:
    if isinstance(value, (list, tuple)) and len(value) == 4:
        try:
            return [int(v) for v in value]
        except (TypeError, ValueError):
            return None
    return None


def region_of(raw: Dict[str, Any]) -> Dict[str, Any]:
    """One region of the JSON with its fields checked: id (int), category, score (float), box, on, origin."""
    return {"id": int(raw.get("id") or 0), "category": str(raw.get("category") or "change"),
            "score": float(raw.get("score") or 0.0), "box": _box(raw.get("box")) or [0, 0, 0, 0],
            "on": str(raw.get("on") or "unknown"), "origin": _box(raw.get("origin"))}


def read_report(path: str) -> List[Dict[str, Any]]:
    """The comparisons of a report's JSON, each as it is with its ``regions`` checked (``region_of``);
    ReportError naming the file when it cannot be read or lists no ``comparisons``."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ReportError("{}: cannot read the report ({})".format(path, exc)) from None
    comparisons = data.get("comparisons") if isinstance(data, dict) else None
    if not isinstance(comparisons, list):
        raise ReportError("{}: expected a report with 'comparisons'".format(path))
    out = []
    for comparison in comparisons:
        if isinstance(comparison, dict):
            out.append(dict(comparison, regions=[region_of(r) for r in comparison.get("regions") or []
                                                 if isinstance(r, dict)]))
    return out


def first_regions(path: str) -> Tuple[List[Dict[str, Any]], int]:
    """The regions of a report's first comparison and B's height in pixels (0 when it has none)."""
    comparisons = read_report(path)
    if not comparisons:
        return [], 0
    first = comparisons[0]
    size = first.get("size_b") or [0, 0]
    return first["regions"], int(size[1]) if len(size) == 2 else 0


def region_line(region: Dict[str, Any]) -> str:
    """One region as a line: ``#2 moved 0.61 on set at x 10 y 20, 30x40 px, from x 80 y 22``."""
    x, y, w, h = region["box"]
    line = "#{} {} {:.2f} on {} at x {} y {}, {}x{} px".format(region["id"], region["category"], region["score"],
                                                                region["on"], x, y, w, h)
    if region.get("origin"):
        line += ", from x {} y {}".format(region["origin"][0], region["origin"][1])
    return line


def region_label(region: Dict[str, Any], limit: int = 63) -> str:
    """A short label for a marker or an overlay (at most ``limit`` characters): ``#3 wardrobe (person) 0.82``."""
    return "#{} {} ({}) {:.2f}".format(region["id"], region["category"], region["on"], region["score"])[:limit]
