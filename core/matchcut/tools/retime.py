"""The `retime` tool: a speed change or a frame-rate conversion with new frames made by RIFE."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matchcut.models.manifest import Control
from matchcut.tools.base import WorkItem, job_frames
from matchcut.tools.description import Output, Timing
from matchcut.tools.fill import (CUT_CONTROL, DEPTH_CONTROL, QUALITY_CONTROL, InterpolatingTool, ensemble_control,
                                 model_control)

if TYPE_CHECKING:
    from matchcut.jobs.spec import JobSpec
    from matchcut.tools.base import Emit


class RetimeTool(InterpolatingTool):
    """Output frame k (numbered from the first input frame) shows source position first + k * step."""

    name = "retime"
    label = "Retime"
    # interpolating up to the next source frame needs the frame after the last (half speed of N frames is 2N);
    # the output is numbered from its first source frame, so no handles before the range
    timing = Timing(handles=1, handles_before=False, retimes=True)
    output_specs = (Output("main", "plate", label="Result",
                           help="Output pattern; numbering starts at the first input frame.", flag="--output"),)
    gap_note = ""  # set by plan(): source frames missing inside or at the ends of the range
    description = "Change a shot's speed or frame rate; new in-between frames from RIFE, never across a cut."
    controls = (
        Control("speed", "float", None, min=0.01, max=100.0, label="Speed",
                help="1 is as shot, 0.5 half speed (twice the frames), 2 double speed",
                cli_help="0.5 is half speed, 2 double speed."),
        Control("fps_from", "float", None, min=0.001, label="From fps", help="the plate's frame rate (with To fps)",
                cli_help="The plate's frame rate (with --fps-to)."),
        Control("fps_to", "float", None, min=0.001, label="To fps",
                help="the frame rate to convert to, keeping the shot's duration",
                cli_help="The frame rate to convert to."),
        model_control("rife-4.25", "rife-4.25 (any timestep) or rife-hdv3 (halving)."),
        CUT_CONTROL,
        DEPTH_CONTROL,
        ensemble_control("1"),  # a retime makes every in-between frame: speed first
        QUALITY_CONTROL,
    )

    def plan(self, job: JobSpec) -> list[WorkItem]:
        """Map each output frame to the one or two source frames and the timestep it needs."""
        from matchcut.errors import SettingError
        from matchcut.frames import format_frames, open_source
        from matchcut.retime.timing import gaps, retime_sources, retime_step

        settings = self.settings or self.params(job)
        step = retime_step(settings["speed"], settings["fps_from"], settings["fps_to"])
        frames = sorted(job_frames(job))
        # A dropped plate inside the range is bridged, not fatal: its neighbours give the in-betweens.
        missing = set(open_source(job.input_path("plate")).find_missing(frames))
        available = [f for f in frames if f not in missing]
        if not available:
            raise SettingError("frames", f"none of frames {format_frames(frames)} of {job.input_path('plate')} "
                                         "exist on disk")
        self.sources = retime_sources(available, step)
        self.notes = {}
        runs = [f"{a}-{b}" if a != b else str(a) for a, b in gaps(available)]
        outside = [f for f in frames if f < available[0] or f > available[-1]]
        notes = []
        if runs:
            notes.append(f"source frame(s) {', '.join(runs)} missing: in-betweens across a gap come from the "
                         "frames either side of it")
        if outside:
            notes.append(f"source frame(s) {format_frames(outside)} missing at the ends: the output covers "
                         f"{available[0]}-{available[-1]}")
        self.gap_note = "; ".join(notes)
        return self._items(job)

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        super().prepare(job, emit)
        if self.gap_note:
            emit("warning", message=self.gap_note)
