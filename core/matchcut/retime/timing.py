"""Which source frames and timesteps each output frame needs, for fill runs and for speed or fps changes."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from matchcut.errors import SettingError

#: Timesteps this close to a source frame copy that frame instead of interpolating.
EPSILON = 1e-6


@dataclass(frozen=True)
class Source:
    """How one output frame is made: ``left`` and ``right`` source frames and ``t`` in [0, 1] between them.

    ``right`` is None when the frame is a copy (or a hold) of ``left``; ``hold`` says the copy stands in for
    a frame that should have been interpolated (no good neighbour on one side).
    """

    left: int
    right: int | None = None
    t: float = 0.0
    hold: bool = False


def fill_sources(frames: list[int], bad: set[int]) -> dict[int, Source]:
    """For every frame of ``frames`` (sorted ints), how to make it: good frames copy themselves; a bad frame
    is interpolated between the nearest good frames on each side at t = (f - left) / (right - left), or
    held from the one good side at the ends of the range. Raises SettingError when every frame is bad."""
    good = [f for f in frames if f not in bad]
    if not good:
        raise SettingError("repair", f"every frame of {frames[0]}-{frames[-1]} is bad; there is nothing to fill from")
    plan: dict[int, Source] = {}
    gi = 0
    for f in frames:
        if f not in bad:
            plan[f] = Source(f)
            continue
        while gi < len(good) and good[gi] < f:
            gi += 1
        left = good[gi - 1] if gi > 0 else None
        right = good[gi] if gi < len(good) else None
        if left is None:
            plan[f] = Source(right, hold=True)
        elif right is None:
            plan[f] = Source(left, hold=True)
        else:
            plan[f] = Source(left, right, (f - left) / (right - left))
    return plan


def retime_step(speed: float | None = None, fps_from: float | None = None, fps_to: float | None = None) -> float:
    """Source frames advanced per output frame: ``speed`` (0.5 = half speed, 2 = double), or fps_from/fps_to
    for a frame-rate change that keeps the shot's duration (24 -> 30 fps: 0.8)."""
    if speed:
        if fps_from or fps_to:
            raise SettingError("speed", "give either a speed or fps_from and fps_to, not both")
        if not speed > 0 or not math.isfinite(speed):
            raise SettingError("speed", f"expected a positive number, got {speed!r}")
        return float(speed)
    if not fps_from or not fps_to:
        raise SettingError("speed", "expected a speed (0.5 is half speed) or both fps_from and fps_to")
    if fps_from <= 0 or fps_to <= 0:
        raise SettingError("fps_to", f"frame rates must be positive, got {fps_from} -> {fps_to}")
    return float(fps_from) / float(fps_to)


def retime_sources(frames: list[int], step: float) -> dict[int, Source]:
    """Output frame -> Source for a retime of the source frames ``frames`` (sorted) by ``step`` source frames
    per output frame. Output numbering starts at the first source frame; the output ends at the last
    position that still lies inside the source range. Gaps in ``frames`` (missing or unreadable plates) are
    bridged: a position between two available frames is interpolated from them at its true time."""
    first, last = frames[0], frames[-1]
    available = sorted(set(frames))
    count = int(math.floor((last - first) / step + EPSILON)) + 1
    plan: dict[int, Source] = {}
    for k in range(count):
        pos = first + k * step
        i = bisect.bisect_right(available, pos + EPSILON) - 1
        left = available[i]
        if pos - left < EPSILON or left >= last:
            plan[first + k] = Source(left)
            continue
        right = available[i + 1]
        t = (pos - left) / (right - left)
        plan[first + k] = Source(right) if t > 1 - EPSILON else Source(left, right, t)
    return plan


def gaps(frames: list[int]) -> list[tuple[int, int]]:
    """The (first, last) runs of frame numbers missing between the first and last of ``frames`` (sorted)."""
    runs = []
    for a, b in zip(frames, frames[1:]):
        if b - a > 1:
            runs.append((a + 1, b - 1))
    return runs


def halving_steps(t: float, depth: int) -> tuple[list[int], float]:
    """The path of midpoints that reaches ``t`` in (0, 1) by recursive halving (for models that only make
    t = 0.5): a list of 0 (take the left half) / 1 (the right half) after the first midpoint, and the
    timestep actually reached (within 2**-depth of ``t``)."""
    lo, hi, path = 0.0, 1.0, []
    mid = 0.5
    for _ in range(max(1, depth) - 1):
        if abs(mid - t) < EPSILON:
            break
        if t < mid:
            hi = mid
            path.append(0)
        else:
            lo = mid
            path.append(1)
        mid = (lo + hi) / 2
    return path, mid
