"""`matchcut run JOB.json` and `matchcut apply`: run a job file, or build an apply job from options and run it.

apply's options are the tool's input, output and controls (``matchcut.cli.commands``) and --set for the
model's own controls.

With ``--events jsonl`` progress goes to stdout as JSON lines and nothing else is printed there (hosts parse
it); errors are an ``error`` event there and, from app.main, one line on stderr. ``--events text`` shows
progress on stderr. Both commands stop cleanly on SIGINT/SIGTERM (finished frames are kept; run again to
resume).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

import typer

from matchcut.cli.commands import tool_command
from matchcut.cli.launch import Events, check_device, execute, parse_set


def run_command(
    job: Path = typer.Argument(..., help="The job file (JSON, version 1); relative paths in it are relative to its folder."),
    events: Events = "text",
    device: Optional[str] = typer.Option(None, "--device", help="Override the job's provider: auto, cpu, cuda or tensorrt."),
) -> None:
    """Run a job file; finished frames are skipped, so running it again resumes."""
    from matchcut.jobs.spec import load_job

    def build():
        check_device(device)
        spec = load_job(job)
        if device is not None:
            spec.device = dataclasses.replace(spec.device, provider=device)
        return spec

    execute(build, events)


def _set(data: dict[str, Any], extra: dict[str, Any]) -> None:
    data["params"].update(parse_set(extra["set"]))


SET_OPTION = {"set": (list[str], typer.Option([], "--set", help="A model control, name=value; repeat for more."))}


def register(app: typer.Typer) -> None:
    """Add `run` and `apply` to the matchcut app."""
    app.command("run")(run_command)
    app.command("apply", help="Run one image-to-image model over a plate sequence.")(
        tool_command("apply", extra=SET_OPTION, hook=_set, required=("model",)))
