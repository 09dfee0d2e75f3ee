"""`matchcut continuity`: flag continuity differences between two shots or across an edit; patch one from A.

The command builds the same job a host writes (tool "continuity") and runs it; every option is a job parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from matchcut.cli.launch import Device, Events, absolute, check_device, execute
from matchcut.errors import SettingError



def continuity_command(
    a: Optional[str] = typer.Option(None, "--a", help="Shot A, the reference (e.g. the wide): a sequence, still or movie."),
    b: Optional[str] = typer.Option(None, "--b", help="Shot B, compared with A (e.g. the close-up)."),
    timeline: Optional[str] = typer.Option(None, "--timeline", help="An .otio, .edl or FCP .xml: compare every cut."),
    report: str = typer.Option(..., "--report", help="Folder for the HTML report (index.html) and continuity.json."),
    json_path: Optional[str] = typer.Option(None, "--json", help="Also write the JSON here (for hosts)."),
    frames_a: str = typer.Option("", "--frames-a", help="Frames of A; the last is compared (default: A's last frame)."),
    frames_b: str = typer.Option("", "--frames-b", help="Frames of B; the first is compared (default: B's first frame)."),
    sensitivity: float = typer.Option(0.5, "--sensitivity", help="0 to 1; 1 flags the faintest differences."),
    min_area: float = typer.Option(0.001, "--min-area", help="Smallest region, a fraction of the frame."),
    no_person: bool = typer.Option(False, "--no-person", help="Do not look for a person (wardrobe/hair vs set)."),
    patch: Optional[int] = typer.Option(None, "--patch", help="Rebuild this region (its number in the report) from A."),
    output: Optional[str] = typer.Option(None, "--output", help="With --patch: B patched, e.g. out/sh020_fix.####.exr."),
    patch_output: Optional[str] = typer.Option(None, "--patch-output",
                                               help="With --patch: the RGBA patch alone (default: NAME_patch beside --output)."),
    feather: float = typer.Option(0.0, "--feather", help="Patch matte softness in px (0: 4 % of the region)."),
    edl_rate: float = typer.Option(24.0, "--edl-rate", help="Frames per second of an EDL's timecodes (EDLs do not say)."),
    device: Device = "auto",
    events: Events = "text",
) -> None:
    """Compare the tail of A with the head of B (or every cut of a timeline) and write a report; --patch fixes one region."""
    from matchcut.jobs.spec import VERSION_KEY, job_from_dict

    def build():
        check_device(device)
        if timeline and (a or b):
            raise SettingError("--timeline", "give either --timeline or --a and --b, not both")
        if not timeline and not (a and b):
            raise SettingError("--a/--b", "give both shots (--a and --b), or --timeline")
        if (patch is None) != (output is None):
            raise SettingError("--patch", "--patch REGION and --output PATTERN go together")
        inputs = {"timeline": absolute(timeline)} if timeline else {"a": absolute(a), "b": absolute(b)}
        outputs = {"report": absolute(report)}
        if json_path:
            outputs["json"] = absolute(json_path)
        if output:
            out = Path(absolute(output))
            head, dot, rest = out.name.partition(".")  # sh020_fix.####.exr -> sh020_fix_patch.####.exr
            outputs["main"] = str(out)
            outputs["patch"] = absolute(patch_output) or str(out.with_name(f"{head}_patch{dot}{rest}"))
        params = {"frames_a": frames_a, "frames_b": frames_b, "sensitivity": sensitivity, "min_area": min_area,
                  "person": not no_person, "patch": patch, "feather": feather, "edl_rate": edl_rate}
        data = {VERSION_KEY: 1, "tool": "continuity", "inputs": inputs, "outputs": outputs, "params": params,
                "device": {"provider": device}}
        return job_from_dict(data, Path.cwd(), where="matchcut continuity")

    execute(build, events)


def register(app: typer.Typer) -> None:
    app.command("continuity")(continuity_command)
