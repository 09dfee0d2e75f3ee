"""`matchcut relight`: virtual lights on a plate; the relit plate and, with --passes, the passes for a host.

The command builds the same job a host writes (tool "relight") and runs it; every option is a job parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from matchcut.cli.launch import Compression, Device, Events, absolute, check_device, execute
from matchcut.errors import SettingError


def relight_command(
    input: str = typer.Option(..., "--input", help="Input plate pattern, e.g. plates/sh010.####.exr."),
    output: str = typer.Option(..., "--output", help="Relit plate pattern, e.g. out/sh010_relit.####.exr."),
    light: list[str] = typer.Option([], "--light", help="A light, e.g. \"directional direction=-1,0,0.5 "
                                    "color=1,0.85,0.7 intensity=1\" (types: directional, point, spot, area); repeat."),
    lights: Optional[str] = typer.Option(None, "--lights", help="A JSON file of lights (a list, or {\"lights\": [...]})."),
    passes: Optional[str] = typer.Option(None, "--passes", help="Multi-layer EXR pattern for N, shading, gain, matte "
                                         "and source layers."),
    normals: Optional[str] = typer.Option(None, "--normals", help="A camera-space normals pass to use (CG, Beeble)."),
    normals_convention: str = typer.Option("opengl", "--normals-convention", help="opengl (y up) or directx (y down)."),
    normals_encoding: str = typer.Option("auto", "--normals-encoding", help="signed (-1..1), unit (0..1) or auto."),
    mask: Optional[str] = typer.Option(None, "--mask", help="A matte (A or first channel): where the relight applies."),
    strength: float = typer.Option(1.0, "--strength", help="Multiplies the added light; negative takes light away."),
    ambient: float = typer.Option(0.0, "--ambient", help="The plate's light level, scene-linear (0: estimate it)."),
    dark_floor: float = typer.Option(0.2, "--dark-floor", help="Dark-area protection: the ambient's lowest share."),
    background: str = typer.Option("gradient", "--background", help="Normals elsewhere: gradient or plane."),
    detail: float = typer.Option(0.5, "--detail", help="Background relief from image gradients, 0 to 2."),
    no_faces: bool = typer.Option(False, "--no-faces", help="Do not use the face mesh."),
    no_person: bool = typer.Option(False, "--no-person", help="Do not inflate the person's silhouette."),
    temporal: int = typer.Option(1, "--temporal", help="Frames either side whose face landmarks are averaged."),
    colorspace: str = typer.Option("", "--colorspace", help="The plate's OCIO colour space (default: from the file)."),
    frames: Optional[str] = typer.Option(None, "--frames", help="Frames, e.g. 1001-1100 (default: all on disk)."),
    device: Device = "auto",
    compression: Compression = None,
    events: Events = "text",
) -> None:
    """Add virtual lights to a plate, shaded on normals estimated from faces and people (or supplied)."""
    from matchcut.jobs.spec import VERSION_KEY, job_from_dict
    from matchcut.relight.lights import load_lights_file, parse_light

    def build():
        check_device(device)
        specs = [parse_light(text, i).to_dict() for i, text in enumerate(light, 1)]
        if lights:
            specs += load_lights_file(absolute(lights))
        if not specs:
            raise SettingError("--light", "give at least one light, e.g. --light \"directional direction=-1,0,0.5\"")
        inputs = {"plate": absolute(input)}
        if normals:
            inputs["normals"] = absolute(normals)
        if mask:
            inputs["mask"] = absolute(mask)
        outputs = {"main": absolute(output)}
        if passes:
            outputs["passes"] = absolute(passes)
        params = {"lights": specs, "strength": strength, "ambient": ambient, "dark_floor": dark_floor,
                  "faces": not no_faces, "person": not no_person, "background": background, "detail": detail,
                  "temporal": temporal, "normals_convention": normals_convention,
                  "normals_encoding": normals_encoding, "colorspace": colorspace}
        data = {VERSION_KEY: 1, "tool": "relight", "inputs": inputs, "outputs": outputs, "frames": frames,
                "params": params, "device": {"provider": device}, "output_options": {"compression": compression}}
        return job_from_dict(data, Path.cwd(), where="matchcut relight")

    execute(build, events)


def register(app: typer.Typer) -> None:
    app.command("relight")(relight_command)
