"""`matchcut relight`: virtual lights on a plate; the relit plate and, with --passes, the passes for a host.

Every option is one of the tool's inputs, outputs or controls (``matchcut.cli.commands``), except the lights:
--light texts and --lights files become the control lights.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from matchcut.cli.commands import tool_command
from matchcut.cli.launch import absolute
from matchcut.errors import SettingError

LIGHT_OPTIONS = {
    "light": (list[str], typer.Option([], "--light", help="A light, e.g. \"directional direction=-1,0,0.5 "
                                      "color=1,0.85,0.7 intensity=1\" (types: directional, point, spot, area); repeat.")),
    "lights": (Optional[str], typer.Option(None, "--lights", help="A JSON file of lights (a list, or "
                                           "{\"lights\": [...]}).")),
}


def _lights(data: dict[str, Any], extra: dict[str, Any]) -> None:
    from matchcut.relight.lights import load_lights_file, parse_light

    specs = [parse_light(text, i).to_dict() for i, text in enumerate(extra["light"], 1)]
    if extra["lights"]:
        specs += load_lights_file(absolute(extra["lights"]))
    if not specs:
        raise SettingError("--light", "give at least one light, e.g. --light \"directional direction=-1,0,0.5\"")
    data["params"]["lights"] = specs


def register(app: typer.Typer) -> None:
    app.command("relight", help="Add virtual lights to a plate, shaded on normals estimated from faces and people "
                "(or supplied).")(tool_command("relight", extra=LIGHT_OPTIONS, hook=_lights, skip=("lights",)))
