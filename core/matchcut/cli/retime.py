"""`matchcut fill` and `matchcut retime`: build the job a host writes (tools "fill" and "retime") and run it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from matchcut.cli.launch import Compression, Device, Events, absolute, check_device, execute



def _job(tool: str, input: str, output: str, frames: str | None, params: dict, device: str,
         compression: str | None, dtype: str | None):
    from matchcut.jobs.spec import VERSION_KEY, job_from_dict

    check_device(device)
    if dtype is None:
        # Float EXR keeps copied frames' exact values; other formats take their usual depth ("half" means that).
        dtype = "float" if output.lower().endswith(".exr") else "half"
    data = {VERSION_KEY: 1, "tool": tool, "inputs": {"plate": absolute(input)},
            "outputs": {"main": absolute(output)}, "frames": frames, "params": params,
            "device": {"provider": device}, "output_options": {"compression": compression, "dtype": dtype}}
    return job_from_dict(data, Path.cwd(), where=f"matchcut {tool}")


def fill_command(
    input: str = typer.Option(..., "--input", help="Input plate pattern, e.g. plates/sh010.####.exr."),
    output: str = typer.Option(..., "--output", help="Output pattern for the complete sequence."),
    frames: Optional[str] = typer.Option(None, "--frames", help="Frames to cover (default: first to last on disk)."),
    repair: str = typer.Option("auto", "--repair", help="auto, or frames to rebuild like 1005,1010-1012."),
    model: str = typer.Option("rife-hdv3", "--model", help="rife-hdv3 (best here, halving) or rife-4.25 (any timestep)."),
    flash_threshold: float = typer.Option(0.15, "--flash-threshold", help="auto: luminance jump that marks a flash."),
    cut_threshold: float = typer.Option(0.5, "--cut-threshold", help="Histogram distance that marks a scene cut."),
    depth: int = typer.Option(5, "--depth", help="rife-hdv3: halvings to reach a timestep (within 2^-depth)."),
    ensemble: str = typer.Option("4", "--ensemble", help="1, 2 or 4 runs on mirrored frames, averaged (better, slower)."),
    device: Device = "auto",
    dtype: Optional[str] = typer.Option(None, "--dtype", help="EXR samples: float (the default: good frames keep "
                                        "their exact values) or half. Other formats keep their usual depth."),
    compression: Compression = None,
    events: Events = "text",
) -> None:
    """Rebuild bad frames from their neighbours and write the complete sequence; good frames are copied."""
    params = {"repair": repair, "model": model, "flash_threshold": flash_threshold, "cut_threshold": cut_threshold,
              "depth": depth, "ensemble": ensemble}
    execute(lambda: _job("fill", input, output, frames, params, device, compression, dtype), events)


def retime_command(
    input: str = typer.Option(..., "--input", help="Input plate pattern, e.g. plates/sh010.####.exr."),
    output: str = typer.Option(..., "--output", help="Output pattern; numbering starts at the first input frame."),
    frames: Optional[str] = typer.Option(None, "--frames", help="Source frames (default: all on disk)."),
    speed: Optional[float] = typer.Option(None, "--speed", help="0.5 is half speed, 2 double speed."),
    fps_from: Optional[float] = typer.Option(None, "--fps-from", help="The plate's frame rate (with --fps-to)."),
    fps_to: Optional[float] = typer.Option(None, "--fps-to", help="The frame rate to convert to."),
    model: str = typer.Option("rife-4.25", "--model", help="rife-4.25 (any timestep) or rife-hdv3 (halving)."),
    cut_threshold: float = typer.Option(0.5, "--cut-threshold", help="Histogram distance that marks a scene cut."),
    depth: int = typer.Option(5, "--depth", help="rife-hdv3: halvings to reach a timestep (within 2^-depth)."),
    ensemble: str = typer.Option("1", "--ensemble", help="1, 2 or 4 runs on mirrored frames, averaged (better, slower)."),
    device: Device = "auto",
    dtype: Optional[str] = typer.Option(None, "--dtype", help="EXR samples: float (the default) or half. "
                                        "Other formats keep their usual depth."),
    compression: Compression = None,
    events: Events = "text",
) -> None:
    """Change speed (--speed) or frame rate (--fps-from/--fps-to) with new frames between existing ones."""
    params = {"speed": speed, "fps_from": fps_from, "fps_to": fps_to, "model": model, "cut_threshold": cut_threshold,
              "depth": depth, "ensemble": ensemble}
    execute(lambda: _job("retime", input, output, frames, params, device, compression, dtype), events)


def register(app: typer.Typer) -> None:
    """Add `fill` and `retime` to the matchcut app."""
    app.command("fill")(fill_command)
    app.command("retime")(retime_command)
