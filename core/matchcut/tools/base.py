"""The tool protocol: a tool turns a job into work items and processes one item at a time.

The runner (``matchcut.jobs.runner``) owns threads, reading, writing, events, cancel and resume; a tool only
plans (which source frames each output frame needs), prepares (loads models) and processes plates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matchcut.errors import JobError, ShapeMismatchError
from matchcut.models.manifest import Control
from matchcut.provenance import Provenance

if TYPE_CHECKING:
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec

#: ``emit(event, **fields)``: how a tool reports, e.g. ``emit("warning", message="...", frame=1001)``.
Emit = Callable[..., None]

OUTPUT_KINDS = ("plate", "matte", "pass")


@dataclass
class WorkItem:
    """One output frame: the source frames it reads per input name and the file it writes per output name."""

    frame: int
    reads: dict[str, list[int]]
    outputs: dict[str, Path]


def job_frames(job: JobSpec) -> list[int]:
    """The output frames of a job: its ``frames`` widened by ``handles`` before and after.

    With ``frames`` omitted, every frame of the first input on disk (handles cannot add frames the plate does
    not have, so they are not added then).
    """
    if job.frames is None:
        from matchcut.frames import open_source

        first = next(iter(job.inputs))
        frames = list(open_source(job.input_path(first)).frames)
        if not frames:
            raise JobError(f"{job.where}: 'inputs.{first}'", f"no frames on disk for {job.input_path(first)}")
        return frames
    frames = list(job.frames)
    if job.handles:
        head = range(frames[0] - job.handles, frames[0])
        tail = range(frames[-1] + 1, frames[-1] + job.handles + 1)
        frames = [*head, *frames, *tail]
    return frames


def mask_weight(mask: Plate, plate: Plate):
    """A matte input as a per-pixel weight: (H, W) float32 in [0, 1] from its A channel (else its first).

    Raises ShapeMismatchError naming both files when the matte's size is not the plate's.
    """
    import numpy as np

    if (mask.width, mask.height) != (plate.width, plate.height):
        raise ShapeMismatchError(f"{mask.source}: the mask is {mask.width}x{mask.height}, the plate "
                                 f"{plate.source} is {plate.width}x{plate.height}")
    name = "A" if "A" in mask.channels else mask.channels[0]
    return np.clip(mask.channel(name), 0.0, 1.0).astype(np.float32)


class Tool:
    """Base of every tool. Subclasses set ``name`` and implement ``process``; the rest has defaults.

    ``inputs``/``outputs``: the names a job must give (None: any). ``output_kinds``: output name ->
    "plate" | "matte" | "pass", which picks the EXR compression when the job does not set one.
    """

    name: str = ""
    #: One line for `matchcut tools` and the hosts' menus.
    description: str = ""
    #: The job parameters (``job.params``) as controls: hosts build their UI from these; ``params()`` checks them.
    controls: tuple[Control, ...] = ()
    #: True for tools whose result is not frames (a report): plan() may return no items, finish() does the work.
    frameless: bool = False
    inputs: tuple[str, ...] | None = None
    #: Inputs a job may add (a matte, a normals pass); hosts wire them when the artist connects one.
    optional_inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] | None = None
    output_kinds: dict[str, str] = {"main": "plate"}

    def check(self, job: JobSpec) -> None:
        """Validate the job for this tool before any work (input/output names; subclasses add parameters)."""
        for key, wanted, optional, given in (("inputs", self.inputs, self.optional_inputs, job.inputs),
                                             ("outputs", self.outputs, (), job.outputs)):
            if wanted is None:
                continue
            missing = [n for n in wanted if n not in given]
            unknown = [n for n in given if n not in wanted and n not in optional]
            if missing or unknown:
                bad = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
                expected = ", ".join(wanted) + (f", and optionally {', '.join(optional)}" if optional else "")
                raise JobError(f"{job.where}: '{key}'", f"tool '{self.name}' {bad} (expected: {expected})")

    def params(self, job: JobSpec) -> dict:
        """The job's parameters checked against ``controls``, defaults filled in (SettingError names a bad one)."""
        from matchcut.jobs.spec import RUNNER_PARAMS
        from matchcut.tools.controls import resolve_controls

        return resolve_controls(job.params, self.controls, f"tool '{self.name}'", ignore=RUNNER_PARAMS)

    def describe(self) -> dict:
        """What hosts need to build a UI and a job: names, inputs, outputs and the controls, as plain data."""
        from dataclasses import asdict

        return {"name": self.name, "description": self.description,
                "inputs": [*(self.inputs or []), *self.optional_inputs], "optional_inputs": list(self.optional_inputs),
                "outputs": list(self.outputs or []), "output_kinds": dict(self.output_kinds),
                "frameless": self.frameless, "controls": [asdict(c) for c in self.controls]}

    def plan(self, job: JobSpec) -> list[WorkItem]:
        """Default 1:1 plan: output frame f reads frame f of every input and writes each output pattern at f."""
        from matchcut.frames import parse_pattern

        outputs = {name: parse_pattern(job.output_path(name)) for name in job.outputs}
        return [
            WorkItem(
                frame=f,
                reads={name: [f] for name in job.inputs},
                outputs={name: Path(p.path_for(f)) for name, p in outputs.items()},
            )
            for f in job_frames(job)
        ]

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        """Load models and fit parameters once before the first item; report with ``emit("warning", message=...)``."""

    def process(self, item: WorkItem, plates: dict[str, list[Plate]]) -> dict[str, Plate]:
        """Make the item's outputs: ``plates`` maps each input name to one Plate per frame in ``item.reads``."""
        raise NotImplementedError(f"tool '{self.name}' does not implement process()")

    def finish(self, job: JobSpec, emit: Emit) -> dict[str, str]:
        """After the last item (not after a cancel): write what is not frames (a LUT, a CDL, a report).

        Returns artifact name -> path; the runner reports them in the ``done`` event and in ``JobResult``.
        """
        return {}

    def provenance(self, job: JobSpec) -> Provenance:
        """What the outputs record (without per-frame sources); its hash decides whether a frame is stale."""
        return Provenance(tool=self.name, params=dict(job.params))

    def kind_of(self, output: str) -> str:
        """The kind ("plate", "matte", "pass") of an output name; "plate" when the tool does not say."""
        return self.output_kinds.get(output, "plate")
