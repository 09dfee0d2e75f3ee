"""`matchcut run JOB.json` and `matchcut apply`: run a job file, or build an apply job from options and run it.

With ``--events jsonl`` progress goes to stdout as JSON lines and nothing else is printed there (hosts parse
it); errors are an ``error`` event there and, from app.main, one line on stderr. ``--events text`` shows
progress on stderr. Both commands stop cleanly on SIGINT/SIGTERM (finished frames are kept; run again to
resume).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from matchcut.errors import MatchcutError, SettingError

EVENT_FORMATS = ("text", "jsonl")
DEVICES = ("auto", "cpu", "cuda", "tensorrt")


def _sink(events: str):
    from matchcut.jobs.events import JsonLinesSink, TextSink

    if events not in EVENT_FORMATS:
        raise SettingError("--events", f"unknown format '{events}'", EVENT_FORMATS)
    return JsonLinesSink(sys.stdout) if events == "jsonl" else TextSink(sys.stderr)


def _check_device(device: str | None) -> None:
    if device is not None and device not in DEVICES:
        raise SettingError("--device", f"unknown device '{device}'", DEVICES)


def parse_set(items: list[str]) -> dict[str, object]:
    """``--set name=value`` options as params: values are read as JSON (0.5, 3, true, "x"), else as text."""
    params: dict[str, object] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise SettingError("--set", f"expected name=value, got '{item}'")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params[name.strip()] = value
    return params


def _execute(build, events: str) -> None:
    """Build the job (errors there are reported as events too) and run it with signal handlers installed."""
    from matchcut.jobs.events import error_fields
    from matchcut.jobs.runner import run_job

    sink = _sink(events)
    try:
        try:
            spec = build()
        except MatchcutError as exc:
            sink.emit("error", **error_fields(exc))
            raise
        run_job(spec, sink, install_signal_handlers=True)
    finally:
        sink.close()


def run_command(
    job: Path = typer.Argument(..., help="The job file (JSON, version 1); relative paths in it are relative to its folder."),
    events: str = typer.Option("text", "--events", help="Progress format: text (stderr) or jsonl (stdout, for hosts)."),
    device: Optional[str] = typer.Option(None, "--device", help="Override the job's provider: auto, cpu, cuda or tensorrt."),
) -> None:
    """Run a job file; finished frames are skipped, so running it again resumes."""
    from matchcut.jobs.spec import load_job

    def build():
        _check_device(device)
        spec = load_job(job)
        if device is not None:
            spec.device = dataclasses.replace(spec.device, provider=device)
        return spec

    _execute(build, events)


def apply_command(
    model: str = typer.Option(..., "--model", help="Model id (see `matchcut models list`)."),
    input: str = typer.Option(..., "--input", help="Input plate pattern, e.g. plates/sh010.####.exr."),
    output: str = typer.Option(..., "--output", help="Output pattern, e.g. out/sh010_denoise.####.exr."),
    frames: Optional[str] = typer.Option(None, "--frames", help="Frames, e.g. 1001-1100 (default: all frames on disk)."),
    tile: int = typer.Option(0, "--tile", help="Tile size in pixels; 0 runs whole frames."),
    overlap: Optional[int] = typer.Option(None, "--overlap", help="Tile overlap in pixels (default: the model's receptive field)."),
    set_: list[str] = typer.Option([], "--set", help="A model control, name=value; repeat for more."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or tensorrt."),
    compression: Optional[str] = typer.Option(None, "--compression", help="EXR compression (default: piz for plates)."),
    events: str = typer.Option("text", "--events", help="Progress format: text (stderr) or jsonl (stdout, for hosts)."),
) -> None:
    """Run one image-to-image model over a plate sequence."""
    from matchcut.jobs.spec import VERSION_KEY, job_from_dict

    def build():
        _check_device(device)
        params = {"model": model, "tile": tile, **parse_set(set_)}
        if overlap is not None:
            params["overlap"] = overlap
        data = {
            VERSION_KEY: 1,
            "tool": "apply",
            # Paths typed on the command line are the user's own: make them absolute, so they may be anywhere.
            "inputs": {"plate": str(Path(input).expanduser().absolute())},
            "outputs": {"main": str(Path(output).expanduser().absolute())},
            "frames": frames,
            "params": params,
            "device": {"provider": device},
            "output_options": {"compression": compression},
        }
        return job_from_dict(data, Path.cwd(), where="matchcut apply")

    _execute(build, events)


def register(app: typer.Typer) -> None:
    """Add `run` and `apply` to the matchcut app."""
    app.command("run")(run_command)
    app.command("apply")(apply_command)
