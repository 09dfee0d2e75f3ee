"""Render farms: every Matchcut job as a job on the farm a studio already runs, through that farm's own client.

``bundle`` writes an Open Job Description job bundle (``matchcut farm bundle``); ``chunks`` cuts the job's output
frames to the tool's temporal window; ``paths`` maps and checks every path for the workers. The submitters, one
module each, hand the bundle (or the same steps in the farm's own files) to the farm and return its job id:

- ``openjd-local`` (``local``): ``openjd run`` of the bundle on this machine, the whole job to its end;
- ``deadline-cloud`` (``deadline_cloud``): AWS Deadline Cloud, ``deadline.client.api.create_job_from_job_bundle``;
- ``deadline10`` (``deadline10``): Thinkbox Deadline 10's CommandLine plugin, job-info and plugin-info files
  submitted with ``deadlinecommand`` (written, with the command to run, when it is not on PATH);
- ``opencue`` (``cue``): an OpenCue outline built with pyoutline, launched when a Cuebot is configured.

No farm protocol of Matchcut's own: a farm's task runs ``matchcut run JOB --chunk R`` (the whole job planned,
only R's frames made; resume by provenance hash makes a retried task skip what it wrote) and a final
``--finish-only`` for artifacts.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matchcut.errors import SettingError

if TYPE_CHECKING:
    from matchcut.farm.bundle import Bundle

#: Farm name -> "module:function"; each function takes (bundle, priority, log) and returns a Submission.
FARMS = {
    "openjd-local": "matchcut.farm.local:submit",
    "deadline-cloud": "matchcut.farm.deadline_cloud:submit",
    "deadline10": "matchcut.farm.deadline10:submit",
    "opencue": "matchcut.farm.cue:submit",
}


@dataclass
class Submission:
    """What a farm did with a bundle: its ``job_id`` (None when it was not submitted: the farm's client is not on
    this machine, then ``command`` is what to run where it is), the ``files`` written for it and a ``message``."""

    farm: str
    job_id: str | None
    bundle: str
    files: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def submitted(self) -> bool:
        return self.job_id is not None

    def to_dict(self) -> dict:
        return {"farm": self.farm, "job_id": self.job_id, "submitted": self.submitted, "bundle": self.bundle,
                "files": list(self.files), "command": list(self.command), "message": self.message}


def check_farm(name: str | None) -> str:
    """``name`` when it is a known farm; SettingError listing the known ones (no name: say how to give one)."""
    if not name:
        raise SettingError("--to", "no farm given (pass --to, or set MATCHCUT_FARM)", FARMS)
    if name not in FARMS:
        raise SettingError("--to", f"unknown farm '{name}'", FARMS)
    return name


def submit(bundle: Bundle, farm: str, *, priority: int | None = None, log=None) -> Submission:
    """Hand ``bundle`` to ``farm`` (FARMS) through its own client; ``log(line)`` receives the client's messages."""
    module, _, function = FARMS[check_farm(farm)].partition(":")
    if priority is not None and not 0 <= priority <= 100:
        raise SettingError("--priority", f"expected 0 to 100 (50 is every farm's default), got {priority}")
    return getattr(importlib.import_module(module), function)(bundle, priority, log or (lambda line: None))
