"""The base of every tool: a tool turns a job into work items and processes one item at a time.

The runner (``matchcut.jobs.runner``) owns threads, reading, writing, events, cancel and resume; a tool only
plans (which source frames each output frame needs), prepares (loads models) and processes plates. What the
runner calls is ``matchcut.jobs.protocol.RunnableTool``; ``Tool`` implements it with defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from matchcut.errors import JobError, ShapeMismatchError
from matchcut.jobs.protocol import Emit, WorkItem
from matchcut.models.manifest import Control
from matchcut.provenance import Provenance
from matchcut.tools.description import Artifact, Input, Output, Timing, describe

if TYPE_CHECKING:
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec

OUTPUT_KINDS = ("plate", "matte", "pass")

__all__ = ["Emit", "OUTPUT_KINDS", "Tool", "WorkItem", "job_frames", "mask_weight"]


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

    What a tool says about itself (``matchcut.tools.description``) is declared once here: ``input_specs``,
    ``output_specs``, ``artifacts``, ``timing``, ``controls``. The plain name lists the runner checks
    (``inputs``/``optional_inputs``/``outputs``/``output_kinds``) are derived from them unless a tool sets one
    itself (None: any; such a tool checks its own in ``check``).
    """

    name: str = ""
    #: The menu label hosts show ("Shot Match").
    label: str = ""
    #: One line for `matchcut tools` and the hosts' menus.
    description: str = ""
    #: Which menu it belongs in (description.CATEGORIES).
    category: str = "color"
    #: The job parameters (``job.params``) as controls: hosts build their UI from these; ``params()`` checks them.
    controls: tuple[Control, ...] = ()
    #: True for tools whose result is not frames (a report): plan() may return no items, finish() does the work.
    frameless: bool = False
    input_specs: tuple[Input, ...] = (Input("plate", "main", required=True, label="Plate",
                                            help="Input plate pattern, e.g. plates/sh010.####.exr.", flag="--input"),)
    output_specs: tuple[Output, ...] = (Output("main", "plate", label="Result",
                                               help="Output pattern, e.g. out/sh010_fix.####.exr.", flag="--output"),)
    #: The output a host shows as the result: the first of these the job makes.
    primary_outputs: tuple[str, ...] = ("main",)
    artifacts: tuple[Artifact, ...] = ()
    timing: Timing = Timing()
    inputs: tuple[str, ...] | None = ("plate",)
    #: Inputs a job may add (a matte, a normals pass); hosts wire them when the artist connects one.
    optional_inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] | None = ("main",)
    output_kinds: dict[str, str] = {"main": "plate"}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        ins = [i for i in cls.input_specs if i.role != "edit"]
        if "inputs" not in own:
            cls.inputs = tuple(i.name for i in ins if i.required)
        if "optional_inputs" not in own:
            cls.optional_inputs = tuple(i.name for i in ins if not i.required)
        if "outputs" not in own:
            cls.outputs = tuple(o.name for o in cls.output_specs)
        if "output_kinds" not in own:
            cls.output_kinds = {o.name: o.kind for o in cls.output_specs}

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
        from matchcut.tools.controls import resolve_controls

        return resolve_controls(job.params, self.controls, f"tool '{self.name}'")

    def describe(self) -> dict:
        """What hosts need to build a UI and a job, as plain data (``matchcut.tools.description.describe``)."""
        return describe(self)

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
        params = dict(job.params)
        if job.nonfinite != "error":  # only when set, as when it was a param: earlier outputs keep their hash
            params["nonfinite"] = job.nonfinite
        return Provenance(tool=self.name, params=params)

    def kind_of(self, output: str) -> str:
        """The kind ("plate", "matte", "pass") of an output name; "plate" when the tool does not say."""
        return self.output_kinds.get(output, "plate")
