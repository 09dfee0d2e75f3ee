"""`matchcut continuity`: flag continuity differences between two shots or across an edit; patch one from A.

Every option is one of the tool's inputs, outputs or controls (``matchcut.cli.commands``); --patch-output
defaults to NAME_patch beside --output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from matchcut.cli.commands import tool_command
from matchcut.errors import SettingError


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
                "a report; --patch fixes one region.")(tool_command("continuity", hook=_patch, required=("report",)))
