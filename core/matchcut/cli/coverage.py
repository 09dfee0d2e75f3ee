"""`matchcut coverage`: the holes of an edit and real coverage for each, from the production's footage.

Every option is one of the coverage tool's inputs, outputs or controls (``matchcut.cli.commands``), except --media
and --map: repeatable, they become the controls media and path_map (one folder or rule a line).
"""

from __future__ import annotations

from typing import Any

import typer

from matchcut.cli.commands import tool_command
from matchcut.cli.continuity import MAP_OPTIONS
from matchcut.cli.launch import absolute

OPTIONS = {
    "media": (list[str], typer.Option([], "--media", help="A folder of the production's footage (other takes, wider "
                                      "set-ups); repeat for more. Searched three levels down.")),
    **MAP_OPTIONS,
}


def _hook(data: dict[str, Any], extra: dict[str, Any]) -> None:
    from matchcut.paths import parse_rule

    params = data["params"]
    if extra["media"]:
        params["media"] = "\n".join(absolute(m) for m in extra["media"])
    for rule in extra["map"]:
        parse_rule(rule, "--map")
    if extra["map"]:
        params["path_map"] = "\n".join(extra["map"])
    if params.get("path_map_file"):
        params["path_map_file"] = absolute(params["path_map_file"])


def register(app: typer.Typer) -> None:
    """Add `coverage` to the matchcut app."""
    app.command("coverage", help="Find the holes in an edit (gaps, offline, too-short and placeholder clips) and "
                "render proposals for each from the footage in --media: extend, slow, punch-in, bridge; a new "
                "timeline with them on tracks above, and a report.")(
        tool_command("coverage", extra=OPTIONS, hook=_hook, skip=("media", "path_map"), required=("out",)))
