"""Jobs: the JSON job spec, progress events, what a tool gives the runner, and the runner that executes it."""

from __future__ import annotations

from matchcut.jobs.events import EventSink, JsonLinesSink, ListSink, NullSink, TextSink
from matchcut.jobs.protocol import Emit, RunnableTool, WorkItem
from matchcut.jobs.runner import JobResult, run_job
from matchcut.jobs.spec import JobSpec, job_from_dict, load_job, save_job

__all__ = [
    "Emit", "EventSink", "JobResult", "JobSpec", "JsonLinesSink", "ListSink", "NullSink", "RunnableTool",
    "TextSink", "WorkItem", "job_from_dict", "load_job", "run_job", "save_job",
]
