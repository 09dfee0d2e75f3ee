"""Which frame of a shot a frameless tool (a comparison) uses: the frame text an artist may type (a frames
knob, '1040-1048'), else the default the node picks from the shot's own range. The frames a job renders and
its result's frames follow the tool's description (client.tools.render_range, output_range)."""
from __future__ import annotations


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
