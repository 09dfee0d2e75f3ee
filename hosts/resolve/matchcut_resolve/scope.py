"""Which timeline items a run covers, decided on plain values host.py read from Resolve.

A pair is GetTrackTypeAndIndex's answer (["video", 2]; None where the version lacks it); frames are record
frames (absolute on the timeline), ends exclusive as GetEnd() gives them.
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

from matchcut_resolve.errors import HostError
from matchcut_resolve.widgets import SCOPES


def track_index(pair: Any) -> Any:
    """The index of a GetTrackTypeAndIndex answer, or None when the answer is not a (type, index) pair."""
    return pair[1] if isinstance(pair, (list, tuple)) and len(pair) == 2 else None


def item_label(track: int, name: str, start: int) -> str:
    """How the dialog lists an item as an input choice: "V1 sh010 @86400"."""
    return "V{} {} @{}".format(track, name, start)


def previous_index(starts: Sequence[int], start: int) -> Optional[int]:
    """The index of the item that starts last before ``start`` (the shot before the cut), or None."""
    best = None
    for index, other in enumerate(starts):
        if other < start and (best is None or other > starts[best]):
            best = index
    return best


def selected_order(records: List[Dict[str, Any]]) -> List[int]:
    """Indices of the selected items a run covers, by track then record frame: records hold ``pair``, ``media``
    (whether the item has a media pool item) and ``start``. Audio items and items without media (titles,
    generators) are left out; an item whose track cannot be read sorts first."""
    chosen = []
    for index, record in enumerate(records):
        pair = record["pair"]
        if track_index(pair) is not None and pair[0] != "video":
            continue
        if not record["media"]:
            continue
        track = track_index(pair)
        chosen.append((int(track) if track is not None else 0, record["start"], index))
    if not chosen:
        raise HostError("scope selected: select one or more video clips on the timeline first")
    return [index for _, _, index in sorted(chosen, key=lambda entry: (entry[0], entry[1]))]


def mark_range(marks: Dict[str, Any], start: int, end: int) -> Tuple[int, int]:
    """The In and Out of Timeline.GetMarkInOut() as absolute record frames, Out inclusive.

    ``marks`` is {"video": {"in", "out"}, "audio": {...}}, a key left out when not set; the values are frames
    from the timeline's start (``start``, its first frame; ``end``, GetEndFrame), as marker frames are (public
    scripts read them so, see docs/hosts/resolve.md). A value that only fits the timeline as an absolute frame
    is taken as one, so a build that answers absolute frames still selects the right items."""
    pair = marks.get("video") or marks.get("audio") or {}
    if "in" not in pair or "out" not in pair:
        raise HostError("scope in-out: set In and Out on the timeline first")
    start, end = int(start), int(end)

    def absolute(value: Any) -> int:
        frame = int(round(float(value)))
        if start > 0 and start + frame > end and start <= frame <= end:
            return frame
        return start + frame

    low, high = absolute(pair["in"]), absolute(pair["out"])
    if high < low:
        raise HostError("scope in-out: Out ({}) is before In ({})".format(pair["out"], pair["in"]))
    return low, high


def within_marks(spans: List[Tuple[int, int]], low: int, high: int, track: int) -> List[int]:
    """Indices of the (start, end) spans on track ``track`` that overlap low..high (both inclusive)."""
    chosen = [index for index, (start, end) in enumerate(spans) if start <= high and end > low]
    if not chosen:
        raise HostError("scope in-out: no item on track V{} between In and Out".format(track))
    return chosen


def with_colour(colours: List[Any], colour: Any) -> List[int]:
    """Indices of the items whose clip colour is ``colour`` (the current item's, which must be set)."""
    if not colour:
        raise HostError("scope clip-colour: give the current item a clip colour first")
    return [index for index, other in enumerate(colours) if other == colour]


def unknown_scope(scope: str) -> HostError:
    """The error for a scope the adapter does not know."""
    return HostError("unknown scope {!r} (valid: {})".format(scope, ", ".join(SCOPES)))


def above(spans: List[Tuple[int, int, int]], track: int, start: int, end: int) -> List[int]:
    """Indices of the (track, start, end) spans on a track above ``track`` that overlap start..end (ends
    exclusive, as GetEnd() gives them), lowest track first then by record frame: the clips laid over a clip."""
    chosen = [(t, s, index) for index, (t, s, e) in enumerate(spans) if t > track and s < end and e > start]
    return [index for _, _, index in sorted(chosen)]
