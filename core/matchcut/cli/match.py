"""`matchcut match`: make IN look like REF, and export the grade as a 3D LUT and an ASC CDL.

Every option is one of the tool's inputs, outputs or controls (``matchcut.cli.commands``).
"""

from __future__ import annotations

import typer

from matchcut.cli.commands import tool_command


def register(app: typer.Typer) -> None:
    app.command("match", help="Match a shot's light and colour to a reference; write the corrected frames, and the "
                "LUT/CDL if asked.")(tool_command("match"))
