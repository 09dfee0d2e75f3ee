"""`matchcut learn`: every option is one of the learn tool's inputs, outputs or controls (``matchcut.cli.commands``)."""

from __future__ import annotations

import typer

from matchcut.cli.commands import tool_command


def register(app: typer.Typer) -> None:
    """Add `learn` to the matchcut app."""
    app.command("learn", help="Learn a fix from frames the artist corrected (--input and --target pairs) as a model "
                "in --model FOLDER; then `matchcut apply --model FOLDER` runs it on the whole shot.")(
        tool_command("learn", required=("model",)))
