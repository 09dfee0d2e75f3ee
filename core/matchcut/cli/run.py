"""`matchcut run JOB.json` and `matchcut apply`: run a job file, or build an apply job from options and run it.

With ``--events jsonl`` progress goes to stdout as JSON lines and nothing else is printed there (hosts parse
it); errors are an ``error`` event there and, from app.main, one line on stderr. ``--events text`` shows
progress on stderr. Both commands stop cleanly on SIGINT/SIGTERM (finished frames are kept; run again to
resume).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import typer

from matchcut.cli.launch import Compression, Device, Events, absolute, check_device, execute, parse_set


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


def apply_command(
    model: str = typer.Option(..., "--model", help="Model id (see `matchcut models list`)."),
    input: str = typer.Option(..., "--input", help="Input plate pattern, e.g. plates/sh010.####.exr."),
    output: str = typer.Option(..., "--output", help="Output pattern, e.g. out/sh010_denoise.####.exr."),
    frames: Optional[str] = typer.Option(None, "--frames", help="Frames, e.g. 1001-1100 (default: all frames on disk)."),
    tile: int = typer.Option(0, "--tile", help="Tile size in pixels; 0 runs whole frames."),
    overlap: Optional[int] = typer.Option(None, "--overlap", help="Tile overlap in pixels (default: the model's receptive field)."),
    set_: list[str] = typer.Option([], "--set", help="A model control, name=value; repeat for more."),
    device: Device = "auto",
    compression: Compression = None,
    events: Events = "text",
) -> None:
    """Run one image-to-image model over a plate sequence."""
    from matchcut.jobs.spec import VERSION_KEY, job_from_dict

    def build():
        check_device(device)
        params = {"model": model, "tile": tile, **parse_set(set_)}
        if overlap is not None:
            params["overlap"] = overlap
        data = {
            VERSION_KEY: 1,
            "tool": "apply",
            "inputs": {"plate": absolute(input)},
            "outputs": {"main": absolute(output)},
            "frames": frames,
            "params": params,
            "device": {"provider": device},
            "output_options": {"compression": compression},
        }
        return job_from_dict(data, Path.cwd(), where="matchcut apply")

    execute(build, events)


def register(app: typer.Typer) -> None:
    """Add `run` and `apply` to the matchcut app."""
    app.command("run")(run_command)
    app.command("apply")(apply_command)
