"""Frame-range arithmetic: which source frames a timeline item uses (trims, speed, mixed rates, handles).

Resolve's units, as this module takes them (README 2024/2025 and public measurements, docs/hosts/resolve.md):

- ``GetStart()``/``GetDuration()``: record frames, absolute on the timeline (its first frame is
  ``Timeline.GetStartFrame()``, e.g. 86400 for 01:00:00:00 at 24 fps); the end is start + duration.
- ``GetSourceStartFrame()``: the first frame shown, counted from the media's first frame (0-based) in the
  media's own frame rate (sometimes one off; a whole-frame ``GetLeftOffset`` x rate wins then).
  ``GetSourceEndFrame()`` is the exclusive end when the media's rate equals the timeline's and one less when
  they differ, and may read timecode-absolute, so it is only trusted when it fits inside the media and never
  to the frame. A reversed item reads start above end: start is the highest frame, end the exclusive low end.
- ``GetSourceStartTime()``/``GetSourceEndTime()``: seconds from the media's timecode origin, so only their
  difference (the used span, in any rate regime) is taken.
- ``GetLeftOffset()``/``GetRightOffset()``: how far the item could be extended, in timeline frames at the
  item's speed (position / speed), so they give placement, never speed. Speed itself has no getter
  (``GetProperty("Speed")`` answers None): it is the source span over the record duration.

A source frame is turned into a file frame by adding the file number of the media's first frame (1001 for
``plate.[1001-1100].exr``; 1 for a movie, as Matchcut numbers movie frames from 1).
"""

import math
import re
from fractions import Fraction
from typing import List, Optional, Tuple

#: Resolve's NTSC rates as written in its settings and clip properties, and their exact values.
NTSC = {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001), "47.952": Fraction(48000, 1001),
        "59.94": Fraction(60000, 1001), "119.88": Fraction(120000, 1001), "11.988": Fraction(12000, 1001)}

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


def parse_fps(text: object) -> Fraction:
    """A frame rate from Resolve's text ("24", "23.976", "29.97 DF", 25.0) as an exact Fraction (NTSC as n/1001).

    Raises ValueError for text that holds no positive rate.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(float(text))
    match = _NUMBER.match(str(text or ""))
    if not match:
        raise ValueError("frame rate {!r}: expected a number such as 24 or 23.976".format(text))
    number = match.group(1)
    trimmed = number.rstrip("0").rstrip(".") if "." in number else number
    for name, exact in NTSC.items():
        if trimmed == name or (len(trimmed) >= 5 and abs(float(trimmed) - float(exact)) < 0.0006):
            return exact
    value = Fraction(trimmed).limit_denominator(1001)
    if value <= 0:
        raise ValueError("frame rate {!r}: expected a positive number".format(text))
    return value


class ItemTiming:
    """What Resolve reports about one timeline item and its media (see the module docstring for units).

    ``source_start``/``source_end`` (GetSourceStartFrame/GetSourceEndFrame), ``source_span_seconds``
    (GetSourceEndTime - GetSourceStartTime) and the offsets may be None where the Resolve version lacks them.
    """

    def __init__(self, record_start: int, duration: int, timeline_fps: object, clip_fps: object,
                 clip_frames: Optional[int] = None, first_file_frame: int = 0,
                 source_start: Optional[float] = None, source_end: Optional[float] = None,
                 source_span_seconds: Optional[float] = None, left_offset: Optional[float] = None,
                 right_offset: Optional[float] = None, timeline_start: int = 0) -> None:
        if int(duration) <= 0:
            raise ValueError("timeline item duration {!r}: expected at least one frame".format(duration))
        self.record_start = int(record_start)
        self.duration = int(duration)
        self.timeline_fps = parse_fps(timeline_fps)
        self.clip_fps = parse_fps(clip_fps)
        self.clip_frames = int(clip_frames) if clip_frames else None
        self.first_file_frame = int(first_file_frame)
        self.source_start = source_start
        self.source_end = source_end
        self.source_span_seconds = source_span_seconds
        self.left_offset = left_offset
        self.right_offset = right_offset
        self.timeline_start = int(timeline_start)

    @property
    def ratio(self) -> Fraction:
        """Source frames per timeline frame at 100 % speed (2 for a 50p clip on a 25p timeline)."""
        return self.clip_fps / self.timeline_fps

    def to_dict(self) -> dict:
        """Plain data (JSON-ready; rates as text) for a facts file or a log."""
        return {"record_start": self.record_start, "duration": self.duration,
                "timeline_fps": str(float(self.timeline_fps)), "clip_fps": str(float(self.clip_fps)),
                "clip_frames": self.clip_frames, "first_file_frame": self.first_file_frame,
                "source_start": self.source_start, "source_end": self.source_end,
                "source_span_seconds": self.source_span_seconds, "left_offset": self.left_offset,
                "right_offset": self.right_offset, "timeline_start": self.timeline_start}

    @classmethod
    def from_dict(cls, data: dict) -> "ItemTiming":
        """The inverse of to_dict (unknown keys are ignored)."""
        keys = ("record_start", "duration", "timeline_fps", "clip_fps", "clip_frames", "first_file_frame",
                "source_start", "source_end", "source_span_seconds", "left_offset", "right_offset", "timeline_start")
        return cls(**{k: data[k] for k in keys if k in data})


class SourceRange:
    """The source frames one item uses, with handles, and the mapping between record and file frames.

    ``first_used``/``last_used``: the used source frames (0-based media frames, inclusive); ``first``/``last``
    the same widened by the handles and clamped to the media; ``file_first``/``file_last`` the file frame
    numbers a job reads; ``step`` source frames per timeline frame (ratio x speed, negative when reversed).
    """

    def __init__(self, timing: ItemTiming, first_used: int, last_used: int, first: int, last: int,
                 step: Fraction, warnings: List[str]) -> None:
        self.timing = timing
        self.first_used, self.last_used, self.first, self.last = first_used, last_used, first, last
        self.step = step
        self.warnings = warnings

    @property
    def speed(self) -> float:
        """The item's speed (1.0 as shot, 0.5 slow motion, negative reversed), independent of the frame rates."""
        return float(self.step / self.timing.ratio)

    @property
    def reversed(self) -> bool:
        return self.step < 0

    @property
    def file_first(self) -> int:
        return self.timing.first_file_frame + self.first

    @property
    def file_last(self) -> int:
        return self.timing.first_file_frame + self.last

    @property
    def head(self) -> int:
        """Handle frames actually available before the first used frame."""
        return self.first_used - self.first

    @property
    def tail(self) -> int:
        """Handle frames actually available after the last used frame."""
        return self.last - self.last_used

    @property
    def used_count(self) -> int:
        return self.last_used - self.first_used + 1

    def frames_text(self) -> str:
        """The job's frame range, "1001-1100" (a single frame is "1001")."""
        if self.file_first == self.file_last:
            return str(self.file_first)
        return "{}-{}".format(self.file_first, self.file_last)

    def take_range(self) -> Tuple[int, int]:
        """(startFrame, endFrame) of the used frames inside a result that covers first..last: 0-based media
        frames of the result, end exclusive (as MediaPool.AppendToTimeline counts; used for AddTake too)."""
        return self.head, self.head + self.used_count

    def file_frame_at(self, record_frame: int) -> int:
        """The file frame shown at ``record_frame`` (absolute timeline frame; clamped to the item)."""
        k = min(max(int(record_frame) - self.timing.record_start, 0), self.timing.duration - 1)
        if self.reversed:
            media = self.last_used - int(math.floor(k * -self.step + Fraction(1, 10 ** 6)))
        else:
            media = self.first_used + int(math.floor(k * self.step + Fraction(1, 10 ** 6)))
        media = min(max(media, self.first_used), self.last_used)
        return self.timing.first_file_frame + media

    def record_frame_of(self, file_frame: int) -> int:
        """The first record frame (absolute) that shows ``file_frame``; frames outside the used range map to
        the item's first or last frame."""
        media = int(file_frame) - self.timing.first_file_frame
        offset = (self.last_used - media) if self.reversed else (media - self.first_used)
        k = int(math.ceil(Fraction(offset) / abs(self.step) - Fraction(1, 10 ** 6)))
        k = min(max(k, 0), self.timing.duration - 1)
        return self.timing.record_start + k

    def marker_frame_of(self, file_frame: int) -> int:
        """The marker frameId (relative to the timeline's start, as Timeline.AddMarker takes it) of a file frame."""
        return self.record_frame_of(file_frame) - self.timing.timeline_start


def _frames_fit(t: ItemTiming) -> bool:
    """Whether GetSourceStartFrame/GetSourceEndFrame can be differenced (both read, apart, inside the media)."""
    return (t.source_start is not None and t.source_end is not None and t.source_end != t.source_start
            and (t.clip_frames is None or abs(t.source_end - t.source_start) <= t.clip_frames + 1))


def _span(t: ItemTiming, warnings: List[str]) -> Fraction:
    """Source frames the item consumes (negative when reversed), from the most trustworthy reading."""
    nominal = t.duration * t.ratio
    if t.source_span_seconds is not None and t.source_span_seconds != 0:
        span = Fraction(t.source_span_seconds).limit_denominator(10 ** 6) * t.clip_fps
        # A reversed item reads GetSourceStartFrame above GetSourceEndFrame (measured on 21.0.4); the frames
        # decide the direction whatever order the seconds come in.
        if _frames_fit(t) and (t.source_end < t.source_start) != (span < 0):
            span = -span
    elif _frames_fit(t):
        span = Fraction(t.source_end).limit_denominator(1000) - Fraction(t.source_start).limit_denominator(1000)
    elif t.left_offset is not None and t.right_offset is not None and t.clip_frames:
        # The offsets and the duration together cover the whole media at the item's speed.
        total = Fraction(t.left_offset).limit_denominator(1000) + t.duration + \
            Fraction(t.right_offset).limit_denominator(1000)
        span = t.duration * Fraction(t.clip_frames) / total
    else:
        warnings.append("the item's speed could not be read; assumed 100 %")
        return nominal
    # GetSourceEndFrame and the offsets can be a frame out (exclusive vs inclusive ends): snap to 100 %.
    if abs(abs(span) - nominal) <= 1:
        span = nominal if span > 0 else -nominal
    return span


def _start(t: ItemTiming, step: Fraction, warnings: List[str]) -> Fraction:
    """The first used source frame (0-based; for a reversed item, the highest)."""
    from_offset = None
    if t.left_offset is not None:
        from_offset = Fraction(t.left_offset).limit_denominator(1000) * abs(step)
    if t.source_start is None:
        if from_offset is None:
            warnings.append("neither GetSourceStartFrame nor GetLeftOffset is available; assumed the media's "
                            "first frame")
            return Fraction(0)
        return from_offset
    start = Fraction(t.source_start).limit_denominator(1000)
    if from_offset is not None and step > 0 and 0 < abs(start - from_offset) <= 1 and \
            from_offset.denominator == 1:
        # A known off-by-one of GetSourceStartFrame (one public note on 21.1): the whole-frame offset wins.
        warnings.append("GetSourceStartFrame ({}) and GetLeftOffset x {} ({}) disagree by one frame; used the "
                        "offset".format(t.source_start, float(abs(step)), from_offset))
        return from_offset
    return start


def source_range(timing: ItemTiming, handles: int = 0) -> SourceRange:
    """The used source frames of ``timing`` plus ``handles`` (timeline frames, turned into source frames at
    the item's rate and speed), clamped to the media's frames."""
    if handles < 0:
        raise ValueError("handles {!r}: expected a whole number >= 0".format(handles))
    warnings: List[str] = []
    span = _span(timing, warnings)
    step = span / timing.duration
    start = _start(timing, step, warnings)
    count = int(math.ceil(abs(span) - Fraction(1, 10 ** 6)))
    count = max(count, 1)
    if step > 0:
        first_used = int(math.floor(start + Fraction(1, 10 ** 6)))
        last_used = first_used + count - 1
    else:
        # Reversed: GetSourceStartFrame is the first frame shown, the highest, and GetSourceEndFrame the
        # exclusive end below the lowest (public live readbacks, docs/hosts/resolve.md). The result holds the
        # frames in source order; how a take plays on a reversed item is unconfirmed, hence the warning.
        last_used = int(math.floor(start + Fraction(1, 10 ** 6)))
        first_used = last_used - count + 1
        warnings.append("the item plays in reverse: Matchcut processes source frames {}-{} forwards; check the "
                        "direction of the result in Resolve".format(first_used + timing.first_file_frame,
                                                                    last_used + timing.first_file_frame))
    extra = int(math.ceil(handles * abs(step) - Fraction(1, 10 ** 6))) if handles else 0
    first, last = first_used - extra, last_used + extra
    lowest, highest = 0, (timing.clip_frames - 1 if timing.clip_frames else None)
    if first_used < lowest or (highest is not None and last_used > highest):
        warnings.append("the item uses source frames {}-{} beyond the media's 0-{}; clamped".format(
            first_used, last_used, highest if highest is not None else "?"))
        first_used = max(first_used, lowest)
        last_used = min(last_used, highest) if highest is not None else last_used
    if first < lowest or (highest is not None and last > highest):
        if handles:
            warnings.append("handles clamped to the media: {} frame(s) before, {} after (asked {} each)".format(
                first_used - max(first, lowest), (min(last, highest) if highest is not None else last) - last_used,
                extra))
        first = max(first, lowest)
        last = min(last, highest) if highest is not None else last
    return SourceRange(timing, first_used, last_used, first, last, step, warnings)
