"""Fakes the host tests share: a tool no adapter has heard of, registered in the core for a test (every host
must offer it from its description alone: menus, knobs, dialogs, operators, jobs, with no host edit), and
shell scripts standing in for a broken or slow worker."""
from __future__ import annotations

from matchcut.models.manifest import Control
from matchcut.tools.base import Tool
from matchcut.tools.description import Artifact, Input, Output, Timing


class GrainTool(Tool):
    name = "grain"
    label = "Match Grain"
    category = "color"
    description = "Match a plate's grain to a reference plate's (a test tool: it is never run)."
    controls = (
        Control("amount", "float", 1.0, min=0.0, max=4.0, label="Amount", help="grain strength"),
        Control("seed", "int", None, min=0, label="Seed", help="empty: a new seed per frame"),
        Control("response", "choice", "film", choices=("film", "digital"), label="Response"),
        Control("report", "string", "", label="Grain report", help="write the measured grain here"),
        Control("reference_frame", "int", None, label="Reference frame", ui="host"),
    )
    input_specs = (
        Input("plate", "main", required=True, label="Plate", flag="--input"),
        Input("reference", "still", required=True, label="Grain reference", pick=True, frames_param="reference_frame"),
        Input("mask", "frames", label="Mask"),
    )
    output_specs = (
        Output("main", "plate", label="Grained", flag="--output"),
        Output("grain", "pass", label="Grain alone", extra=True),
    )
    artifacts = (Artifact("report", "report", ".json", "Grain report"),)
    timing = Timing(handles=1)


def described() -> dict:
    """`matchcut tools --json` as the worker would answer with GrainTool registered (in this process)."""
    from matchcut.tools import TOOLS
    from matchcut.tools.description import describe_all

    TOOLS["grain"] = f"{__name__}:GrainTool"
    try:
        return describe_all()
    finally:
        del TOOLS["grain"]


def worker_script(folder, body: str, name: str = "matchcut") -> str:
    """An executable shell script standing in for the worker (one that hangs, dies, prints garbage or answers
    a description of another version): ``folder/bin/name`` running ``body``."""
    import pathlib
    import stat

    path = pathlib.Path(folder) / "bin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)
