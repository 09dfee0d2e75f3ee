"""What the runner and a tool exchange: the work item a tool plans, how it reports, and the methods the runner calls.

They live with the jobs, not with the tools, so the runner types its tool without importing ``matchcut.tools``
(the registry is looked up by whoever starts a job: the CLI, a bench, a test).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec
    from matchcut.provenance import Provenance

#: ``emit(event, **fields)``: how a tool reports, e.g. ``emit("warning", message="...", frame=1001)``.
Emit = Callable[..., None]


@dataclass
class WorkItem:
    """One output frame: the source frames it reads per input name and the file it writes per output name."""

    frame: int
    reads: dict[str, list[int]]
    outputs: dict[str, Path]


class RunnableTool(Protocol):
    """The part of a tool the runner uses (``matchcut.tools.base.Tool`` implements it; a test may bring its own)."""

    name: str
    #: True when the result is not frames (a report): plan() may return no items, finish() does the work.
    #: A tool may also have a ``stop`` attribute: the runner sets it to its cancel event before prepare().
    frameless: bool

    def check(self, job: JobSpec) -> None: ...

    def plan(self, job: JobSpec) -> list[WorkItem]: ...

    def prepare(self, job: JobSpec, emit: Emit) -> None: ...

    def process(self, item: WorkItem, plates: dict[str, list[Plate]]) -> dict[str, Plate]: ...

    def finish(self, job: JobSpec, emit: Emit) -> dict[str, str]: ...

    def provenance(self, job: JobSpec) -> Provenance: ...

    def kind_of(self, output: str) -> str: ...
