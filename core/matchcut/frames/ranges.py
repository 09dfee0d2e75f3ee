"""Frame range strings ("1001-1100", "1001-1100x2", "1001,1005-1010") to sorted frame lists and back."""

from __future__ import annotations

import re
from collections.abc import Iterable

from matchcut.errors import FrameRangeError

#: The most frames one range string may name; guards against "1-999999999" eating memory.
MAX_FRAMES = 10_000_000

_FORMS = "expected forms: '1001', '1001-1100', '1001-1100x2', '-5--1', or a comma-separated list of these"
_ITEM = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*(?:x\s*(\d+)\s*)?)?$")


def parse_frames(text: str) -> list[int]:
    """Frames named by a range string, sorted and unique.

    Items are separated by commas; each is a frame (``1001``), an inclusive range (``1001-1100``) or a
    range with a step (``1001-1100x2``). Frames may be negative (``-5--1``); whitespace around numbers,
    dashes and commas is ignored. Raises FrameRangeError naming the text and the expected forms.
    """
    if not isinstance(text, str) or not text.strip():
        raise FrameRangeError(f"frame range {text!r} is empty; {_FORMS}")
    frames: set[int] = set()
    for item in text.split(","):
        match = _ITEM.match(item)
        if not match:
            raise FrameRangeError(f"frame range {text!r}: cannot parse {item.strip()!r}; {_FORMS}")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        step = int(match.group(3)) if match.group(3) is not None else 1
        if last < first:
            raise FrameRangeError(f"frame range {text!r}: {item.strip()!r} ends before it starts; {_FORMS}")
        if step < 1:
            raise FrameRangeError(f"frame range {text!r}: step in {item.strip()!r} must be 1 or more")
        if (last - first) // step + 1 + len(frames) > MAX_FRAMES:
            raise FrameRangeError(f"frame range {text!r} names more than {MAX_FRAMES} frames")
        frames.update(range(first, last + 1, step))
    return sorted(frames)


def format_frames(frames: Iterable[int]) -> str:
    """A compact range string for frames, e.g. ``"1001-1010, 1012, 1020-1030x2"``; ``""`` for none.

    Runs of three or more evenly stepped frames become ``first-last`` or ``first-lastxstep``; the result
    parses back to the same sorted, unique frames with parse_frames.
    """
    values = sorted({int(f) for f in frames})
    parts: list[str] = []
    i = 0
    while i < len(values):
        start = values[i]
        if i + 1 < len(values):
            step = values[i + 1] - start
            j = i + 1
            while j + 1 < len(values) and values[j + 1] - values[j] == step:
                j += 1
            # A two-frame run only reads better as a range when the frames are adjacent.
            if j - i >= 2 or step == 1:
                end = values[j]
                parts.append(f"{start}-{end}" if step == 1 else f"{start}-{end}x{step}")
                i = j + 1
                continue
        parts.append(str(start))
        i += 1
    return ", ".join(parts)
