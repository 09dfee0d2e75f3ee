"""`matchcut matte`: pull a matte (screen key or person), clean the foreground and comp a new background.

The command builds the same job a host writes (tool "matte") and runs it; every option is a job parameter
or one of the job's inputs/outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from matchcut.cli.launch import Compression, Device, Events, absolute, check_device, execute


def parse_color(text: str | None) -> list[float] | None:
    """``"r,g,b"`` (three numbers) as a list of floats, else None (the text is a path)."""
    if not text:
        return None
    parts = text.replace(" ", "").split(",")
    if len(parts) != 3:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError:
        return None


def matte_command(
    input: str = typer.Option(..., "--input", help="The shot, e.g. plates/sh010.####.exr."),
    output: str = typer.Option(..., "--output", help="Matte pattern (single-channel EXR), e.g. out/sh010_matte.####.exr."),
    mode: str = typer.Option("auto", "--mode", help="auto, screen or person."),
    background: Optional[str] = typer.Option(None, "--background", help="A background plate (pattern or still) or a flat colour r,g,b."),
    comp: Optional[str] = typer.Option(None, "--comp", help="Write the comp over the background here."),
    foreground: Optional[str] = typer.Option(None, "--foreground", help="Write the premultiplied foreground RGBA here."),
    garbage: Optional[str] = typer.Option(None, "--garbage", help="A garbage matte: where it is white, never foreground."),
    holdout: Optional[str] = typer.Option(None, "--holdout", help="A holdout matte: where it is white, always foreground."),
    clean_plate: Optional[str] = typer.Option(None, "--clean-plate", help="The screen without the subject (screen mode)."),
    frames: Optional[str] = typer.Option(None, "--frames", help="Frames, e.g. 1001-1100 (default: all on disk)."),
    screen_color: Optional[str] = typer.Option(None, "--screen-color", help="The screen colour r,g,b (default: automatic)."),
    uneven: bool = typer.Option(True, "--uneven/--even", help="Key against a surface fitted to an uneven screen."),
    black_point: float = typer.Option(0.0, "--black-point", help="Matte black point, 0 to 1."),
    white_point: float = typer.Option(1.0, "--white-point", help="Matte white point, 0 to 1."),
    softness: float = typer.Option(0.0, "--softness", help="Edge softness (blur sigma, pixels)."),
    despill: str = typer.Option("average", "--despill", help="average, limit or none."),
    despill_amount: float = typer.Option(1.0, "--despill-amount", help="0 to 1."),
    refine: str = typer.Option("guided", "--refine", help="Person edge: none, guided or closed-form."),
    temporal: float = typer.Option(0.6, "--temporal", help="Person temporal smoothing, 0 to 0.95."),
    decontaminate: bool = typer.Option(True, "--decontaminate/--no-decontaminate", help="Estimate edge colours."),
    light_wrap: float = typer.Option(0.0, "--light-wrap", help="Light wrap amount, 0 to 2."),
    light_wrap_size: float = typer.Option(0.0, "--light-wrap-size", help="Light wrap blur, pixels (0: automatic)."),
    match: bool = typer.Option(False, "--match", help="Grade the foreground toward the background (shot match)."),
    match_method: str = typer.Option("mkl", "--match-method", help="reinhard, mkl or histogram."),
    match_strength: float = typer.Option(1.0, "--match-strength", help="0 to 1."),
    background_fit: str = typer.Option("fill", "--background-fit", help="A background of another size: fill, fit or stretch."),
    colorspace: str = typer.Option("", "--colorspace", help="The plate's OCIO colour space (default: from the file)."),
    device: Device = "auto",
    compression: Compression = None,
    events: Events = "text",
) -> None:
    """Pull a matte and write it, the premultiplied foreground and (with a background) the comp."""
    from matchcut.errors import SettingError
    from matchcut.jobs.spec import VERSION_KEY, job_from_dict

    def build():
        check_device(device)
        inputs = {"plate": absolute(input)}
        background_color = parse_color(background)
        if background and background_color is None:
            inputs["background"] = absolute(background)
        for name, path in (("garbage", garbage), ("holdout", holdout), ("clean_plate", clean_plate)):
            if path:
                inputs[name] = absolute(path)
        color = None
        if screen_color:
            color = parse_color(screen_color)
            if color is None:
                raise SettingError("screen_color", f"expected three numbers r,g,b, got {screen_color!r}")
        outputs = {"matte": absolute(output)}
        if foreground:
            outputs["foreground"] = absolute(foreground)
        if comp:
            outputs["comp"] = absolute(comp)
        params = {"mode": mode, "screen_color": color, "uneven": uneven, "black_point": black_point,
                  "white_point": white_point, "softness": softness, "despill": despill,
                  "despill_amount": despill_amount, "refine": refine, "temporal": temporal,
                  "decontaminate": decontaminate, "light_wrap": light_wrap, "light_wrap_size": light_wrap_size,
                  "match": match, "match_method": match_method, "match_strength": match_strength,
                  "background_color": background_color, "background_fit": background_fit, "colorspace": colorspace}
        data = {VERSION_KEY: 1, "tool": "matte", "inputs": inputs, "outputs": outputs, "frames": frames,
                "params": params, "device": {"provider": device}, "output_options": {"compression": compression}}
        return job_from_dict(data, Path.cwd(), where="matchcut matte")

    execute(build, events)


def register(app: typer.Typer) -> None:
    app.command("matte")(matte_command)
