"""Finding the frames a fill must rebuild: missing, unreadable, black or flash frames, exact duplicates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from matchcut.color import REC709_LUMA
from matchcut.errors import MatchcutError, ShapeMismatchError

#: Display-referred mean luminance below which a frame counts as black (when its neighbours are not).
BLACK_LEVEL = 0.02
#: Default: a frame whose display-referred mean luminance is this far from both neighbours is a flash.
FLASH_THRESHOLD = 0.15
#: Longest run of consecutive frames taken for one flash (a strobe, a lightning strike, a photographer's
#: flash over two or three frames). Longer runs are a lighting change the artist must judge: list them.
MAX_FLASH_RUN = 3


@dataclass(frozen=True)
class FrameStats:
    """What detection needs of one readable frame: size, display-referred mean luminance, a pixel digest."""

    width: int
    height: int
    luma: float
    digest: str


def frame_stats(plate) -> FrameStats:
    """Stats of a Plate: mean Rec.709 luminance of its sRGB-encoded display values (via matchcut.color, so
    a flash reads the same in a log, linear or display plate) and a sha256 of all its pixels and channels."""
    from matchcut import color

    rgb = plate.pixels[..., :3] if plate.nchannels >= 3 else np.repeat(plate.pixels[..., :1], 3, axis=2)
    step = max(1, int(np.sqrt(plate.width * plate.height / 65536)))
    small = np.ascontiguousarray(rgb[::step, ::step])
    display = color.convert(small, color.plate_colorspace(plate), color.SRGB_DISPLAY)
    luma = float((np.clip(display, 0, 1).reshape(-1, 3) @ REC709_LUMA).mean())
    digest = hashlib.sha256(np.ascontiguousarray(plate.pixels).tobytes() + repr(plate.channels).encode()).hexdigest()
    return FrameStats(plate.width, plate.height, luma, digest)


def scan(source, frames: list[int], nonfinite: str = "error") -> tuple[dict[int, FrameStats], dict[int, str]]:
    """Read every frame of ``frames`` from a FrameSource once. Returns (stats of readable frames,
    frame -> reason for frames that are missing or cannot be read)."""
    missing = set(source.find_missing(frames))
    stats: dict[int, FrameStats] = {}
    reasons: dict[int, str] = {}
    for f in frames:
        if f in missing:
            reasons[f] = "missing file"
            continue
        try:
            stats[f] = frame_stats(source.read(f, nonfinite=nonfinite))
        except MatchcutError as exc:
            detail = " ".join(str(exc).split())
            reasons[f] = f"unreadable ({detail[:160]})"
    return stats, reasons


def find_defects(stats: dict[int, FrameStats], frames: list[int], *,
                 flash_threshold: float = FLASH_THRESHOLD) -> dict[int, str]:
    """Frame -> reason for readable frames that look damaged: exact duplicates of the previous readable
    frame, black frames (next to a frame that is not black), and flash frames: mean luminance more than
    ``flash_threshold`` from both nearest readable frames that are neither black nor duplicates (from the
    two such frames on the one side at the ends of the range), worst first; then flashes of two to
    MAX_FLASH_RUN frames: every frame of the run that far from the frames just before and after it, and those
    two frames close to each other (the light comes back: a lasting change is not a flash). Runs at the very
    ends of the range, and longer runs, are not judged: list those frames explicitly. Frames missing from
    ``stats`` (missing or unreadable) are ignored."""
    readable = [f for f in frames if f in stats]
    reasons: dict[int, str] = {}
    for i, f in enumerate(readable[1:], start=1):
        if stats[readable[i - 1]].digest == stats[f].digest:
            reasons[f] = f"exact duplicate of frame {readable[i - 1]}"
    for i, f in enumerate(readable):
        s = stats[f]
        around = [stats[n] for n in readable[max(0, i - 1):i + 2] if n != f]
        if f not in reasons and s.luma < BLACK_LEVEL and any(n.luma >= BLACK_LEVEL for n in around):
            reasons[f] = f"black frame (mean luminance {s.luma:.3f})"
    clean = [f for f in readable if f not in reasons]
    # Greedy, worst first: a flash must not make its neighbour (at the end of the range) look like one too.
    while True:
        worst, score, shown = None, flash_threshold, ""
        for i, f in enumerate(clean):
            # At the ends of the range the two nearest frames on the one side stand in for both sides.
            near = (i - 1, i + 1) if 0 < i < len(clean) - 1 else ((i + 1, i + 2) if i == 0 else (i - 1, i - 2))
            neighbours = [stats[clean[j]] for j in near if 0 <= j < len(clean)]
            gap = min((abs(stats[f].luma - n.luma) for n in neighbours), default=0.0)
            if gap > score:
                worst, score, shown = f, gap, ", ".join(f"{n.luma:.3f}" for n in neighbours)
        if worst is None:
            break
        reasons[worst] = f"flash frame (mean luminance {stats[worst].luma:.3f}, neighbours {shown})"
        clean.remove(worst)
    reasons.update(_flash_runs(stats, clean, flash_threshold))
    return reasons


def _flash_runs(stats: dict[int, FrameStats], clean: list[int], threshold: float) -> dict[int, str]:
    """Frame -> reason for runs of 2..MAX_FLASH_RUN frames of ``clean`` that are flashes, worst first."""
    reasons: dict[int, str] = {}
    while True:
        best, best_gap = None, threshold
        for n in range(2, MAX_FLASH_RUN + 1):
            for i in range(1, len(clean) - n):
                run, before, after = clean[i:i + n], stats[clean[i - 1]].luma, stats[clean[i + n]].luma
                gap = min(min(abs(stats[f].luma - before), abs(stats[f].luma - after)) for f in run)
                # The frames around must agree closely, relative to the jump: the light came back.
                if gap > best_gap and abs(before - after) < 0.5 * gap:
                    best, best_gap = (run, before, after), gap
        if best is None:
            return reasons
        run, before, after = best
        shown = ", ".join(f"{stats[f].luma:.3f}" for f in run)
        for f in run:
            reasons[f] = (f"flash frame, one of {len(run)} ({run[0]}-{run[-1]}: mean luminance {shown}; "
                          f"frames around {before:.3f}, {after:.3f})")
            clean.remove(f)


def check_sizes(stats: dict[int, FrameStats], where: str) -> None:
    """Raise ShapeMismatchError naming two frames when the readable frames are not all one size."""
    first = None
    for f, s in sorted(stats.items()):
        if first is None:
            first = (f, s)
        elif (s.width, s.height) != (first[1].width, first[1].height):
            raise ShapeMismatchError(f"{where}: frame {f} is {s.width}x{s.height}, frame {first[0]} is "
                                     f"{first[1].width}x{first[1].height}; fill and retime need one size")
