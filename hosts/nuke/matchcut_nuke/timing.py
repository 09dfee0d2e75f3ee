"""Which frame of a shot a frameless tool (a comparison) uses: the frame text an artist may type (a frames
knob, '1040-1048'), else the default the node picks from the shot's own range; which frames a training learns
from (its corrected frames knob, '1001,1040,1090'). The frames a job renders and its result's frames follow the
tool's description (client.tools.render_range, output_range)."""
from __future__ import annotations

from typing import List, Tuple


def pick_frame(text: str, default: int, last: bool) -> int:
    """The frame a comparison uses from a range text like '1040-1048' or '1001,1005-1010' (its last frame for a
    shot before the cut, its first for the shot after), or ``default`` for an empty text. Raises ValueError
    naming the text."""
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


def frame_list(text: str) -> List[int]:
    """Every frame of a range text like '1001,1040-1042' or '1001-1009x4' (a step), sorted, no repeats. Raises
    ValueError naming the text."""
    frames = set()
    try:
        for part in (text or "").split(","):
            part = part.strip()
            if not part:
                continue
            span, _, step = part.partition("x")
            if "-" in span[1:]:
                cut = span.index("-", 1)
                first, last = int(span[:cut]), int(span[cut + 1:])
            else:
                first = last = int(span)
            if last < first or (step and int(step) < 1):
                raise ValueError
            frames.update(range(first, last + 1, int(step) if step else 1))
    except ValueError:
        raise ValueError("frames {!r}: expected frames like 1001,1040,1090 or 1001-1010".format(text)) from None
    if not frames:
        raise ValueError("frames {!r}: expected frames like 1001,1040,1090 or 1001-1010".format(text))
    return sorted(frames)


def runs(frames: List[int]) -> List[Tuple[int, int]]:
    """Sorted frame numbers as (first, last) runs of consecutive frames: [1001, 1002, 1040] -> [(1001, 1002),
    (1040, 1040)] (a render of each run renders those frames only)."""
    found: List[Tuple[int, int]] = []
    for frame in sorted(set(int(f) for f in frames)):
        if found and frame == found[-1][1] + 1:
            found[-1] = (found[-1][0], frame)
        else:
            found.append((frame, frame))
    return found
