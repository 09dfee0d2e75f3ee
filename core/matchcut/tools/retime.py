"""The `retime` tool: a speed change or a frame-rate conversion with new frames made by RIFE."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matchcut.models.manifest import Control
from matchcut.tools.base import WorkItem, job_frames
from matchcut.tools.fill import CUT_CONTROL, DEPTH_CONTROL, InterpolatingTool, ensemble_control, model_control

if TYPE_CHECKING:
    from matchcut.jobs.spec import JobSpec


class RetimeTool(InterpolatingTool):
    """Output frame k (numbered from the first input frame) shows source position first + k * step."""

    name = "retime"
    description = "Change a shot's speed or frame rate; new in-between frames from RIFE, never across a cut."
    controls = (
        Control("speed", "float", None, min=0.01, max=100.0, label="Speed",
                help="1 is as shot, 0.5 half speed (twice the frames), 2 double speed"),
        Control("fps_from", "float", None, min=0.001, label="From fps", help="the plate's frame rate (with To fps)"),
        Control("fps_to", "float", None, min=0.001, label="To fps",
                help="the frame rate to convert to, keeping the shot's duration"),
        model_control("rife-4.25"),
        CUT_CONTROL,
        DEPTH_CONTROL,
        ensemble_control("1"),  # a retime makes every in-between frame: speed first
    )

    def plan(self, job: JobSpec) -> list[WorkItem]:
        """Map each output frame to the one or two source frames and the timestep it needs."""
        from matchcut.errors import SettingError
        from matchcut.retime.timing import retime_sources, retime_step

        settings = self.settings or self.params(job)
        step = retime_step(settings["speed"], settings["fps_from"], settings["fps_to"])
        frames = job_frames(job)
        if frames != list(range(frames[0], frames[-1] + 1)):
            raise SettingError("frames", f"retime needs a contiguous range of frames, got {len(frames)} frame(s) "
                               f"from {frames[0]} to {frames[-1]} with gaps (fill the gaps first)")
        self.sources = retime_sources(frames, step)
        self.notes = {}
        return self._items(job)
