"""`matchcut run JOB.json` and `matchcut apply`: run a job file, or build an apply job from options and run it.

apply's options are the tool's input, output and controls (``matchcut.cli.commands``) and --set for the
model's own controls.

With ``--events jsonl`` progress goes to stdout as JSON lines and nothing else is printed there (hosts parse
it); errors are an ``error`` event there and, from app.main, one line on stderr. ``--events text`` shows
progress on stderr. Both commands stop cleanly on SIGINT/SIGTERM (finished frames are kept; run again to
resume).

On a farm each task runs the same job file: ``--chunk 1001-1010`` plans the whole job and makes only the
output frames of that chunk (reading the neighbours they need; artifacts are left to the final task), and
``--finish-only`` writes the artifacts once every frame is made (``matchcut farm`` writes both tasks).
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
    chunk: Optional[str] = typer.Option(None, "--chunk", help="A farm task: make only these output frames (e.g. "
                                        "1001-1010) of the whole job's plan; artifacts are left to --finish-only."),
    finish_only: bool = typer.Option(False, "--finish-only", help="A farm's final task: once every frame is made, "
                                     "write the artifacts (a LUT, a CDL, a report)."),
) -> None:
    """Run a job file; finished frames are skipped, so running it again resumes."""
    from matchcut.jobs.spec import load_job

    frames = chunk_frames(chunk)

    def build():
        check_device(device)
        spec = load_job(job)
        if device is not None:
            spec.device = dataclasses.replace(spec.device, provider=device)
        return spec

    execute(build, events, chunk=frames, finish_only=finish_only)


def chunk_frames(text: str | None) -> list[int] | None:
    """``--chunk``'s frames (a range like 1001-1010), or None; SettingError names the option."""
    from matchcut.errors import FrameRangeError, SettingError
    from matchcut.frames.ranges import parse_frames

    if text is None:
        return None
    try:
        return parse_frames(text)
    except FrameRangeError:
        raise SettingError("--chunk", f"expected output frames like 1001-1010, got {text!r}") from None


def _set(data: dict[str, Any], extra: dict[str, Any]) -> None:
    data["params"].update(parse_set(extra["set"]))
    model = data["params"].get("model")
    if model and Path(model).exists():  # a model folder (`matchcut learn`'s): the job names it wherever it runs
        data["params"]["model"] = str(Path(model).resolve())


SET_OPTION = {"set": (list[str], typer.Option([], "--set", help="A model control, name=value; repeat for more."))}


def register(app: typer.Typer) -> None:
    """Add `run` and `apply` to the matchcut app."""
    app.command("run")(run_command)
    app.command("apply", help="Run one image-to-image model over a plate sequence.")(
        tool_command("apply", extra=SET_OPTION, hook=_set, required=("model",)))
