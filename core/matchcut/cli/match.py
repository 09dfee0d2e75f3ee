"""`matchcut match`: make IN look like REF, and export the grade as a 3D LUT and an ASC CDL.

The command builds the same job a host writes (tool "match") and runs it; every option is a job parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from matchcut.cli.launch import Compression, Device, Events, absolute, check_device, execute



def match_command(
    reference: str = typer.Option(..., "--reference", help="The hero shot: a still, a sequence or a movie."),
    input: str = typer.Option(..., "--input", help="The shot to correct, e.g. plates/sh020.####.exr."),
    output: str = typer.Option(..., "--output", help="Output pattern, e.g. out/sh020_match.####.exr."),
    frames: Optional[str] = typer.Option(None, "--frames", help="Frames, e.g. 1001-1100 (default: all on disk)."),
    method: str = typer.Option("mkl", "--method", help="reinhard, mkl or histogram."),
    regional: bool = typer.Option(False, "--regional", help="Separate fits for the person and the set."),
    local: bool = typer.Option(False, "--local", help="Also match light that changed across the frame."),
    strength: float = typer.Option(1.0, "--strength", help="Mix, 0 to 1."),
    mask: Optional[str] = typer.Option(None, "--mask", help="A matte sequence limiting where the correction applies."),
    keyframes: str = typer.Option("12", "--keyframes", help="Fit every N frames, or on frames like 1001,1010."),
    smoothing: float = typer.Option(1.0, "--smoothing", help="Temporal smoothing over keyframes (0: none)."),
    reference_frame: Optional[int] = typer.Option(None, "--reference-frame", help="Reference frame to match (default: middle)."),
    colorspace: str = typer.Option("", "--colorspace", help="The plate's OCIO colour space (default: from the file)."),
    lut: Optional[str] = typer.Option(None, "--lut", help="Write the grade as a 3D LUT (.cube)."),
    lut_size: int = typer.Option(33, "--lut-size", help="17, 33 or 65 points per axis."),
    cdl: Optional[str] = typer.Option(None, "--cdl", help="Write the grade as an ASC CDL (.cc or .cdl) when it fits one."),
    cdl_tolerance: float = typer.Option(1.0, "--cdl-tolerance", help="Largest mean CIEDE2000 a CDL may miss by."),
    device: Device = "auto",
    compression: Compression = None,
    events: Events = "text",
) -> None:
    """Match a shot's light and colour to a reference; write the corrected frames, and the LUT/CDL if asked."""
    from matchcut.jobs.spec import VERSION_KEY, job_from_dict

    def build():
        check_device(device)
        inputs = {"plate": absolute(input), "reference": absolute(reference)}
        if mask:
            inputs["mask"] = absolute(mask)
        params = {"method": method, "regional": regional, "local": local, "strength": strength,
                  "keyframes": keyframes, "smoothing": smoothing, "reference_frame": reference_frame,
                  "colorspace": colorspace, "lut": absolute(lut) or "", "lut_size": str(lut_size),
                  "cdl": absolute(cdl) or "", "cdl_tolerance": cdl_tolerance}
        data = {VERSION_KEY: 1, "tool": "match", "inputs": inputs, "outputs": {"main": absolute(output)},
                "frames": frames, "params": params, "device": {"provider": device},
                "output_options": {"compression": compression}}
        return job_from_dict(data, Path.cwd(), where="matchcut match")

    execute(build, events)


def register(app: typer.Typer) -> None:
    app.command("match")(match_command)
