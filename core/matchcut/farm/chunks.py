"""A job's output frames cut into farm chunks, each at least as long as the tool's temporal window.

Every chunk plans the whole job (``matchcut run JOB --chunk R``), so any chunk size gives the frames of a run
in one piece; the window only keeps a chunk from spending more on reading neighbours than on its own frames:
one output frame of fill reads up to its handles either side (2 + 1 + 2 = 5 frames), of retime the frame
after it (2), of the other tools its own frame (1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from matchcut.errors import SettingError

if TYPE_CHECKING:
    from matchcut.jobs.spec import JobSpec
    from matchcut.tools.base import Tool

#: Frames per chunk when none is asked for, per tool (docs/benchmarks.md, "farm": what one chunk's start-up,
#: model load and whole-job plan cost against the frames it makes). Shot match repeats every keyframe fit in
#: each chunk (7 s a chunk there against 142 ms a frame) and fill the whole shot's defect scan and RIFE's load,
#: so theirs are long; apply and retime start in about a second. Other tools get DEFAULT_CHUNK.
DEFAULT_CHUNKS = {"apply": 10, "match": 100, "fill": 50, "retime": 10}
DEFAULT_CHUNK = 10


@dataclass(frozen=True)
class ChunkPlan:
    """The output ``frames`` the chunks cover, ``size`` frames per chunk (``asked``: what was asked, None for the
    default), the tool's ``window``, and ``note``: why the size differs from the one asked ("" when it does not)."""

    frames: list[int]
    size: int
    window: int
    asked: int | None = None
    note: str = ""


def temporal_window(tool: Tool) -> int:
    """Source frames one output frame reads around itself: its own, plus the tool's handles on each side it
    reads them (``Timing.handles_before`` False: after the frame only)."""
    timing = tool.timing
    return 1 + timing.handles * (2 if timing.handles_before else 1)


def chunk_size(tool: Tool, asked: int | None) -> tuple[int, str]:
    """Frames per chunk for ``tool``: ``asked`` (else the tool's default), raised to the temporal window, with
    the note that says so. SettingError for a size below 1."""
    if asked is not None and (isinstance(asked, bool) or not isinstance(asked, int) or asked < 1):
        raise SettingError("--chunk", f"expected a whole number of frames >= 1, got {asked!r}")
    window = temporal_window(tool)
    size = asked if asked is not None else DEFAULT_CHUNKS.get(tool.name, DEFAULT_CHUNK)
    if size >= window:
        return size, ""
    return window, (f"chunk size raised from {size} to {window}: one output frame of {tool.name} reads {window} "
                    "source frames (its temporal window), so a smaller chunk would read more than it writes")


def output_frames(tool: Tool, spec: JobSpec) -> list[int]:
    """The output frames a job's chunks cover, without reading pixels: none for a frameless tool (it runs in one
    piece); for a tool that retimes, the frames its plan makes (a listing of the plate's frames on disk); for the
    others the job's frames with handles (``job_frames``), or, with no frames given, every frame from the first to
    the last on disk (fill rebuilds the missing ones between). A chunk whose frames the plan does not make has
    nothing to do, so a cover wider than the plan costs a task start, never a frame."""
    from matchcut.tools.base import job_frames

    if tool.frameless:
        return []
    if tool.timing.retimes:
        tool.check(spec)
        return sorted(item.frame for item in tool.plan(spec))
    frames = job_frames(spec)
    if spec.frames is None:
        return list(range(min(frames), max(frames) + 1))
    return sorted(frames)


def plan_chunks(tool: Tool, spec: JobSpec, asked: int | None = None) -> ChunkPlan:
    """The job's output frames and the chunk size for them (``chunk_size``, ``output_frames``)."""
    size, note = chunk_size(tool, asked)
    return ChunkPlan(output_frames(tool, spec), size, temporal_window(tool), asked, note)


def contiguous_runs(frames: list[int]) -> list[tuple[int, int]]:
    """Sorted frames as runs of consecutive frames: [1001, 1002, 1003, 1007] -> [(1001, 1003), (1007, 1007)]."""
    runs: list[tuple[int, int]] = []
    for f in sorted(set(frames)):
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return runs


def range_text(frames: list[int]) -> str:
    """Frames as the range expression every farm reads (OpenJD, Deadline, OpenCue): ``1001-1100`` or
    ``1001-1003,1007``; no step syntax (OpenJD writes steps as ``:2``, Matchcut as ``x2``)."""
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in contiguous_runs(frames))


def split(frames: list[int], size: int) -> list[tuple[int, int]]:
    """Chunks of at most ``size`` consecutive frames (first, last), never across a gap: how Deadline and OpenCue
    cut a frame list; OpenJD's CONTIGUOUS chunks spread a run's frames evenly over as many chunks."""
    chunks = []
    for first, last in contiguous_runs(frames):
        for start in range(first, last + 1, size):
            chunks.append((start, min(start + size - 1, last)))
    return chunks
