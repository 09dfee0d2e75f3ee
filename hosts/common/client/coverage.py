"""A coverage result as every host places it: the tool's JSON (``coverage.json``) read and checked, and each
rendered proposal as a placement: on which level above the edit it goes, whether it plays, what it is called
and what its marker says (standard library only; runs in Nuke's, Resolve's and Blender's Python).

The JSON (core: matchcut.tools.coverage) lists ``holes``, each with ``index`` (1, 2, ...), ``track`` (the video
track it is on: ``V1``, or ``V1 'name'``), ``kind`` (gap, offline, short, placeholder), ``record`` [first, last]
(record frames counted from the timeline's start, inclusive), ``why`` and its ``proposals``, best first: ``id``,
``kind`` (extend, slow, punch-in, bridge), ``label``, ``record`` (a slow covers the shot it slows too),
``score`` (0-100), ``score_text``, ``reason`` and ``rendered`` {``pattern`` (``####``), ``first``, ``last``}.

Each rendered proposal carries its ``level`` (1, 2, ...: the coverage track above the edit, as the new timeline
the tool writes beside the edit lays them out: core matchcut.missing_shots.timeline.assign_levels).
"""

import json
import re

#: The track label of a hole: ``V2``, or ``V2 'Video 2'`` for a named track.
_TRACK = re.compile(r"^V(\d+)\b")


class CoverageError(ValueError):
    """The coverage JSON could not be read; the message names the file and what was expected."""


def _record(value, where):
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise CoverageError("{}: expected record [first, last], got {!r}".format(where, value))
    try:
        first, last = int(value[0]), int(value[1])
    except (TypeError, ValueError):
        raise CoverageError("{}: expected whole record frames, got {!r}".format(where, value))
    if last < first:
        raise CoverageError("{}: record {}-{} ends before it starts".format(where, first, last))
    return [first, last]


def read_result(path):
    """The coverage JSON at ``path`` with its holes' and proposals' fields checked (records as [first, last]
    ints, a rendered proposal's pattern and frames); CoverageError naming the file and the field otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise CoverageError("{}: cannot read the coverage result ({})".format(path, exc))
    holes = data.get("holes") if isinstance(data, dict) else None
    if not isinstance(holes, list):
        raise CoverageError("{}: expected a coverage result with 'holes'".format(path))
    checked = []
    for n, hole in enumerate(holes):
        where = "{}: hole {}".format(path, n + 1)
        if not isinstance(hole, dict) or not isinstance(hole.get("proposals", []), list):
            raise CoverageError("{}: expected an object with 'proposals'".format(where))
        proposals = []
        for p in hole.get("proposals") or []:
            there = "{}, proposal {}".format(where, p.get("id") if isinstance(p, dict) else "?")
            if not isinstance(p, dict) or not p.get("id"):
                raise CoverageError("{}: expected an object with an 'id'".format(there))
            rendered = p.get("rendered")
            if rendered is not None:
                if not isinstance(rendered, dict) or "#" not in str(rendered.get("pattern", "")):
                    raise CoverageError("{}: expected 'rendered' with a #### pattern".format(there))
                rendered = dict(rendered, first=int(rendered["first"]), last=int(rendered["last"]))
            proposals.append(dict(p, record=_record(p.get("record"), there), rendered=rendered,
                                  score=float(p.get("score") or 0.0)))
        checked.append(dict(hole, index=int(hole.get("index") or n + 1), record=_record(hole.get("record"), where),
                            proposals=proposals))
    return dict(data, holes=checked)


def track_number(label):
    """The video track number of a hole's track label: ``V2`` or ``V2 'Video 2'`` -> 2; 1 when it has none."""
    found = _TRACK.match(str(label or ""))
    return int(found.group(1)) if found else 1


def placements(data):
    """Every rendered proposal of ``data`` (``read_result``) as a placement dict, hole by hole, best first:
    ``hole`` (its index), ``hole_kind``, ``hole_why``, ``track`` (the hole's video track number), ``id``,
    ``kind``, ``label``, ``reason``, ``score``, ``score_text``, ``synthetic`` (how many of its frames are made,
    not footage: their headers carry Frame Fill's rebuilt mark), ``rank`` (1 = best), ``enabled`` (the best
    plays, the others wait), ``record`` [first, last] (record frames from the timeline's start), ``frames`` (the
    record frames it covers), ``level`` (1, 2, ...: which coverage track above the edit), ``pattern``,
    ``first`` and ``last`` (its rendered frames)."""
    out = []
    for hole in data.get("holes") or []:
        rendered = [p for p in hole.get("proposals") or [] if p.get("rendered")]
        for rank, p in enumerate(rendered, 1):
            record = p["record"]
            level = int(p.get("level") or rank)
            out.append({"hole": hole["index"], "hole_kind": hole.get("kind", ""), "hole_why": hole.get("why", ""),
                        "track": track_number(hole.get("track")), "id": p["id"], "kind": p.get("kind", ""),
                        "label": p.get("label") or p["id"], "reason": p.get("reason", ""), "score": p["score"],
                        "score_text": p.get("score_text", ""), "synthetic": int(p.get("synthetic_frames") or 0),
                        "rank": rank, "enabled": rank == 1,
                        "record": list(record), "frames": record[1] - record[0] + 1, "level": level,
                        "pattern": p["rendered"]["pattern"], "first": p["rendered"]["first"],
                        "last": p["rendered"]["last"]})
    return out


def levels(placed):
    """How many coverage levels the placements use (0 for none)."""
    return max([p["level"] for p in placed] + [0])


def shown_frames(placement):
    """How many of its rendered frames a placement shows: its record frames, as far as frames were rendered."""
    return min(placement["frames"], placement["last"] - placement["first"] + 1)


def clip_name(placement):
    """The name of a placed proposal (a strip, a clip): ``extend 'sh010' (hole 1)``, as the new timeline's."""
    return "{} (hole {})".format(placement["label"], placement["hole"])


def marker_name(placement):
    """Its marker's name, as the new timeline's: ``best: extend 100/100``, ``slow 73/100``."""
    return "{}{} {:.0f}/100".format("best: " if placement["enabled"] else "", placement["kind"], placement["score"])


def made_line(synthetic, frames):
    """How many of a proposal's frames are made rather than footage: ``4 of 16 frame(s) made`` ("" for none)."""
    return "{} of {} frame(s) made".format(synthetic, frames) if synthetic else ""


def marker_note(placement):
    """Its marker's note: the hole, the option, why it scored so and how many of its frames are made, one line."""
    parts = ["hole {} ({}): {}".format(placement["hole"], placement["hole_kind"], placement["label"])]
    parts += [text for text in (placement["reason"], placement["score_text"],
                                made_line(placement.get("synthetic", 0), placement["frames"])) if text]
    return "; ".join(parts)


def hole_line(hole):
    """One line for a hole: ``hole 2 (short, 6 frames at 00:00:01:04 on V1): 3 proposals, best slow 'sh020' 73/100``
    (``no proposal: why`` when none was made)."""
    where = " at {}".format(hole["record_timecode"]) if hole.get("record_timecode") else ""
    frames = hole["record"][1] - hole["record"][0] + 1
    head = "hole {} ({}, {} frame(s){} on {})".format(hole["index"], hole.get("kind", "hole"), frames, where,
                                                      hole.get("track", "V1"))
    made = [p for p in hole.get("proposals") or [] if p.get("rendered")]
    if not made:
        why = "; ".join("{}: {}".format(n.get("kind"), n.get("why")) for n in hole.get("not_applicable") or [])
        return "{}: no proposal{}".format(head, ": " + why if why else "")
    best = made[0]
    name = best.get("label") or best["id"]
    return "{}: {} proposal(s), best {} {:.0f}/100".format(head, len(made), name, best["score"])


def proposal_menu(data, hole_index):
    """The proposals of hole ``hole_index`` (1-based) as menu entries [(id, text)], best first: ``1: extend
    'sh010' 100/100 (best)``; [] for a hole that is not there or has no rendered proposal."""
    for hole in data.get("holes") or []:
        if hole["index"] == int(hole_index):
            made = [p for p in hole.get("proposals") or [] if p.get("rendered")]
            return [(p["id"], "{}: {} {:.0f}/100{}".format(n, p.get("label") or p["id"], p["score"],
                                                           " (best)" if n == 1 else "")) for n, p in enumerate(made, 1)]
    return []


def find_proposal(data, proposal_id):
    """(hole, proposal) of ``proposal_id``, or (None, None)."""
    for hole in data.get("holes") or []:
        for p in hole.get("proposals") or []:
            if p["id"] == proposal_id:
                return hole, p
    return None, None
