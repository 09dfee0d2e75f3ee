"""Frame ranges: which frames a node renders for a tool (its range plus handles, clamped to what the input
has) and which frames the result has (a retime makes another number of frames, numbered from the first)."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Tuple

#: Frames of context a temporal tool reads either side by default: fill rebuilds a bad frame from the
#: nearest good ones (a bad first or last frame needs a neighbour outside the range), retime interpolates
#: up to the next source frame (half speed of N frames is 2N frames only with the frame after the last).
DEFAULT_HANDLES = {"fill": 2, "retime": 1}
#: Tools whose output is numbered from its first source frame: handles before the range would shift it.
TAIL_ONLY = ("retime",)
#: As the worker's timing: a timestep this close to a whole frame counts as that frame.
EPSILON = 1e-6


def render_range(tool: str, first: int, last: int, handles: int,
                 available: Optional[Tuple[int, int]] = None) -> Tuple[int, int]:
    """The frames to render for a job: ``first-handles .. last+handles`` (after the range only for a retime),
    clamped to the input's own frames ``available`` so a handle never repeats a held first or last frame
    (fill would take the repeat for a duplicated frame). Raises ValueError for a reversed range."""
    if last < first:
        raise ValueError("frame range {}-{}: expected first <= last".format(first, last))
    if handles < 0:
        raise ValueError("handles {}: expected a whole number >= 0".format(handles))
    start = first if tool in TAIL_ONLY else first - handles
    end = last + handles
    if available is not None:
        low, high = available
        start, end = max(start, min(low, first)), min(end, max(high, last))
    return start, end


def retime_step(params: Dict[str, Any]) -> float:
    """Source frames per output frame from a retime's speed, or fps_from/fps_to (as the worker reads them)."""
    speed, fps_from, fps_to = params.get("speed"), params.get("fps_from"), params.get("fps_to")
    if speed:
        return float(speed)
    if fps_from and fps_to:
        return float(fps_from) / float(fps_to)
    raise ValueError("retime: set Speed, or both From fps and To fps")


def output_range(tool: str, params: Dict[str, Any], start: int, end: int) -> Tuple[int, int]:
    """The frames of the result of a job over ``start..end``: the same for every tool but retime, whose output
    starts at ``start`` and has floor((end - start) / step) + 1 frames (the worker's rule)."""
    if tool != "retime":
        return start, end
    step = retime_step(params)
    count = int(math.floor((end - start) / step + EPSILON)) + 1
    return start, start + count - 1


def source_frame(tool: str, params: Dict[str, Any], start: int, frame: int) -> float:
    """Which source frame (position) an output frame shows: itself, or for a retime start + k * step."""
    if tool != "retime":
        return float(frame)
    return start + (frame - start) * retime_step(params)


def pick_frame(text: str, default: int, last: bool) -> int:
    """The frame a continuity comparison uses from a range text like '1040-1048' or '1001,1005-1010' (the last
    frame of A, the first of B), or ``default`` for an empty text. Raises ValueError naming the text."""
    text = (text or "").strip()
    if not text:
        return int(default)
    frames = []
    try:
        for part in text.split(","):
            part = part.strip().split("x")[0]
            if "-" in part[1:]:
                cut = part.index("-", 1)
                frames += [int(part[:cut]), int(part[cut + 1:])]
            else:
                frames.append(int(part))
    except ValueError:
        raise ValueError("frames {!r}: expected a range like 1040-1048".format(text)) from None
    return max(frames) if last else min(frames)
