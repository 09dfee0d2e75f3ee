"""Which source frames and timesteps each output frame needs, for fill runs and for speed or fps changes."""

from __future__ import annotations

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
    """Output frame -> Source for a retime of the contiguous source range ``frames`` (sorted) by ``step``
    source frames per output frame. Output numbering starts at the first source frame; the output ends at
    the last position that still lies inside the source range."""
    first, last = frames[0], frames[-1]
    count = int(math.floor((last - first) / step + EPSILON)) + 1
    plan: dict[int, Source] = {}
    for k in range(count):
        pos = first + k * step
        left = int(math.floor(pos + EPSILON))
        t = pos - left
        if t < EPSILON or left >= last:
            plan[first + k] = Source(min(left, last))
        elif t > 1 - EPSILON:
            plan[first + k] = Source(left + 1)
        else:
            plan[first + k] = Source(left, left + 1, t)
    return plan


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
