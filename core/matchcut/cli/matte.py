"""`matchcut matte`: pull a matte (screen key or person), clean the foreground and comp a new background.

Every option is one of the tool's inputs, outputs or controls (``matchcut.cli.commands``); --background takes
a plate or a flat colour r,g,b (the control background_color).
"""

from __future__ import annotations

from typing import Any

import typer

from matchcut.cli.commands import parse_color, tool_command


def _background(data: dict[str, Any], extra: dict[str, Any]) -> None:
    color = parse_color(data["inputs"].get("background"))
    if color is not None:
        data["params"]["background_color"] = color
        del data["inputs"]["background"]


def register(app: typer.Typer) -> None:
    app.command("matte", help="Pull a matte and write it, the premultiplied foreground and (with a background) the "
                "comp.")(tool_command("matte", hook=_background, skip=("background_color",)))
