"""Jobs: the JSON job spec, progress events and the runner that executes a tool over frames."""

from __future__ import annotations

from matchcut.jobs.events import EventSink, JsonLinesSink, ListSink, NullSink, TextSink
from matchcut.jobs.runner import JobResult, run_job
from matchcut.jobs.spec import JobSpec, job_from_dict, load_job, save_job

__all__ = [
    "EventSink", "JobResult", "JobSpec", "JsonLinesSink", "ListSink", "NullSink", "TextSink",
    "job_from_dict", "load_job", "run_job", "save_job",
]
