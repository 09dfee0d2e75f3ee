"""`matchcut continuity`: flag continuity differences between two shots or across an edit; patch one from A.

Every option is one of the tool's inputs, outputs or controls (``matchcut.cli.commands``), except --map: its
rules (repeatable) become the control path_map. --patch-output defaults to NAME_patch beside --output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from matchcut.cli.commands import tool_command
from matchcut.cli.launch import absolute
from matchcut.errors import SettingError

MAP_OPTIONS = {
    "map": (list[str], typer.Option([], "--map", help="Map a timeline's media paths, FROM=TO, e.g. "
                                    "'S:\\show=/mnt/show' (Windows paths match in any case and slash); repeat; "
                                    "the longest FROM wins; --map-file and $MATCHCUT_PATH_MAP add more.")),
}


def _hook(data: dict[str, Any], extra: dict[str, Any]) -> None:
    from matchcut.paths import parse_rule

    for rule in extra["map"]:
        parse_rule(rule, "--map")  # a bad rule stops here, named as the user typed it
    params = data["params"]
    if extra["map"]:
        params["path_map"] = "\n".join(extra["map"])
    if params.get("path_map_file"):
        params["path_map_file"] = absolute(params["path_map_file"])  # the user's own file, like an input
    _patch(data, extra)


def _patch(data: dict[str, Any], extra: dict[str, Any]) -> None:
    outputs = data["outputs"]
    if (data["params"]["patch"] is None) != ("main" not in outputs):
        raise SettingError("--patch", "--patch REGION and --output PATTERN go together")
    if "main" in outputs:
        out = Path(outputs["main"])
        head, dot, rest = out.name.partition(".")  # sh020_fix.####.exr -> sh020_fix_patch.####.exr
        outputs.setdefault("patch", str(out.with_name(f"{head}_patch{dot}{rest}")))
    elif "patch" in outputs:
        raise SettingError("--patch-output", "goes with --patch REGION and --output PATTERN")


def register(app: typer.Typer) -> None:
    app.command("continuity", help="Compare the tail of A with the head of B (or every cut of a timeline) and write "
                "a report; --patch fixes one region.")(
        tool_command("continuity", extra=MAP_OPTIONS, hook=_hook, skip=("path_map",),
                     required=("report",)))
