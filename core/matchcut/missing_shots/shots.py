"""The shots either side of a hole, as coverage builds from them: what of its media each shows, and its handles.

A *side* is a run of a clip's picture that meets the hole: the outgoing side ends on the frame before the hole,
the incoming side starts on the frame after it. For a clip whose media lacks frames (a "short" hole), the clip's
own frames before and after the missing run are the sides. Handles are the media's frames past what the edit
uses: the outgoing side's after its last frame, the incoming side's before its first, on disk without a break and
without a scene cut (a take's handles may run into the next take on the same roll: those are another shot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from matchcut.retime.cuts import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from matchcut.frames import FrameSource, Plate
    from matchcut.missing_shots.holes import Hole
    from matchcut.timelines import Clip

#: The two sides of a hole.
OUTGOING, INCOMING = "outgoing", "incoming"


@dataclass
class Side:
    """A clip's picture next to a hole. ``record``: its record frames (first, last) on the track; ``frames``: the
    media frame numbers it shows, one per record frame (a speed change repeats or skips some); ``pattern`` and
    ``origin`` open the media (open_source); ``where``: OUTGOING or INCOMING."""

    where: str
    clip: Clip
    pattern: str
    origin: int
    record: tuple[int, int]
    frames: list[int]
    _source: FrameSource | None = field(default=None, repr=False, compare=False)
    _edge: Plate | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.clip.name

    @property
    def edge_frame(self) -> int:
        """The media frame that meets the hole: the outgoing side's last, the incoming side's first."""
        return self.frames[-1] if self.where == OUTGOING else self.frames[0]

    @property
    def edge_plate(self) -> Plate:
        """The edge frame, read once (its size, colour space and picture serve every proposal of the side)."""
        if self._edge is None:
            self._edge = self.source.read(self.edge_frame)
        return self._edge

    @property
    def source(self) -> FrameSource:
        from matchcut.frames import open_source

        if self._source is None:
            self._source = open_source(self.pattern, first_frame=self.origin)
        return self._source


def _media_frames(clip: Clip, first: int, last: int) -> list[int]:
    """The media frame numbers clip shows at record frames first..last (its speed applied, as the edit plays it)."""
    base = clip.media.first
    return [base + int((r - clip.record[0]) * clip.speed + 1e-6) for r in range(first, last + 1)]


def _readable(clip: Clip | None) -> bool:
    """A clip with media to read: online, or with only some of its frames missing (they are trimmed off)."""
    return bool(clip is not None and not clip.generated and clip.media.pattern
                and (not clip.media.offline or clip.media.missing))


def _on_disk(side: Side) -> Side | None:
    """``side`` trimmed to the frames on disk next to the hole (a clip whose media is partly missing keeps the run
    that meets the hole); None when the frame that meets the hole is missing too."""
    from matchcut.errors import MatchcutError

    try:
        have = set(side.source.frames)
    except MatchcutError:
        return None
    order = range(len(side.frames) - 1, -1, -1) if side.where == OUTGOING else range(len(side.frames))
    keep = []
    for i in order:
        if side.frames[i] not in have:
            break
        keep.append(i)
    if not keep:
        return None
    lo, hi = min(keep), max(keep)
    side.frames = side.frames[lo:hi + 1]
    side.record = (side.record[0] + lo, side.record[0] + hi)
    return side


def sides_of(hole: Hole) -> dict[str, Side]:
    """The outgoing and incoming sides of ``hole`` that can be read (either may be missing: the edit's start or
    end, a gap before it, offline media, a generator)."""
    out: dict[str, Side] = {}
    r0, r1 = hole.record
    if hole.kind == "short" and hole.clip is not None:
        clip = hole.clip
        if clip.record[0] < r0:
            out[OUTGOING] = Side(OUTGOING, clip, clip.media.pattern, clip.media.origin, (clip.record[0], r0 - 1),
                                 _media_frames(clip, clip.record[0], r0 - 1))
        if clip.record[1] > r1:
            out[INCOMING] = Side(INCOMING, clip, clip.media.pattern, clip.media.origin, (r1 + 1, clip.record[1]),
                                 _media_frames(clip, r1 + 1, clip.record[1]))
    before, after = hole.before, hole.after
    if OUTGOING not in out and _readable(before) and before.record[1] == r0 - 1:
        out[OUTGOING] = Side(OUTGOING, before, before.media.pattern, before.media.origin, before.record,
                             _media_frames(before, *before.record))
    if INCOMING not in out and _readable(after) and after.record[0] == r1 + 1:
        out[INCOMING] = Side(INCOMING, after, after.media.pattern, after.media.origin, after.record,
                             _media_frames(after, *after.record))
    return {where: side for where, side in ((w, _on_disk(s)) for w, s in out.items()) if side is not None}


def why_no_side(hole: Hole, where: str) -> str:
    """Why ``hole`` has no readable side ``where``, in words for the report."""
    clip = hole.before if where == OUTGOING else hole.after
    if clip is None:
        return f"nothing {'before' if where == OUTGOING else 'after'} the hole on {hole.track}"
    if clip.generated:
        return f"{clip.describe()} is a {clip.generator}"
    if clip.media.offline and not clip.media.missing:
        return f"{clip.describe()}: {clip.media.offline}"
    meets = clip.record[1] == hole.record[0] - 1 if where == OUTGOING else clip.record[0] == hole.record[1] + 1
    if not meets:
        return f"{clip.describe()} does not meet the hole"
    return f"{clip.describe()}: its frame next to the hole is not on disk"


def thumbnail(plate, size: int = 128) -> np.ndarray:
    """A plate as a small display-sRGB image (h, w, 3) float32 in [0, 1], its longer side about ``size`` px."""
    from matchcut import color

    step = max(1, int(max(plate.width, plate.height) / size))
    rgb = np.ascontiguousarray(plate.pixels[::step, ::step, :3], dtype=np.float32)
    return np.clip(color.convert(rgb, color.plate_colorspace(plate), color.SRGB_DISPLAY), 0.0, 1.0)


def handles(side: Side, wanted: int, cut_threshold: float = DEFAULT_THRESHOLD) -> tuple[list[int], str]:
    """Up to ``wanted`` media frames past what ``side`` shows, nearest first (outgoing: after its last frame;
    incoming: before its first), and why there are not more ("" when ``wanted`` were found): the media ends, a
    frame is missing, or the media cuts to another shot."""
    from matchcut.retime.cuts import cut_distance

    step = 1 if side.where == OUTGOING else -1
    have = set(side.source.frames)
    found: list[int] = []
    previous = side.edge_frame
    thumb = None
    while len(found) < wanted:
        frame = previous + step
        if frame not in have:
            ends = (frame > max(have)) if step > 0 else (frame < min(have)) if have else True
            why = "the media ends there" if ends else f"frame {frame} is missing"
            return found, f"{len(found)} frame(s) {'after' if step > 0 else 'before'} it ({why})"
        if thumb is None:
            thumb = thumbnail(side.source.read(previous))
        nxt = thumbnail(side.source.read(frame))
        distance = cut_distance(thumb, nxt)
        if distance > cut_threshold:
            return found, (f"{len(found)} frame(s) {'after' if step > 0 else 'before'} it (the media cuts to another "
                           f"shot at frame {frame})")
        found.append(frame)
        previous, thumb = frame, nxt
    return found, ""
