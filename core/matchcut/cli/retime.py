"""`matchcut fill` and `matchcut retime`: every option is one of the tool's inputs, outputs or controls, and
--dtype (``matchcut.cli.commands``)."""

from __future__ import annotations

from typing import Any, Optional

import typer

from matchcut.cli.commands import tool_command


def _dtype_option(help: str) -> dict[str, tuple[Any, Any]]:
    return {"dtype": (Optional[str], typer.Option(None, "--dtype", help=help))}


def _dtype(data: dict[str, Any], extra: dict[str, Any]) -> None:
    # Float EXR keeps copied frames' exact values; other formats take their usual depth ("half" means that).
    dtype = extra["dtype"] or ("float" if data["outputs"]["main"].lower().endswith(".exr") else "half")
    data["output_options"]["dtype"] = dtype


def register(app: typer.Typer) -> None:
    """Add `fill` and `retime` to the matchcut app."""
    fill = tool_command("fill", hook=_dtype, frames_help="Frames to cover (default: first to last on disk).",
                        extra=_dtype_option("EXR samples: float (the default: good frames keep their exact values) "
                                            "or half. Other formats keep their usual depth."))
    retime = tool_command("retime", hook=_dtype, frames_help="Source frames (default: all on disk).",
                          extra=_dtype_option("EXR samples: float (the default) or half. Other formats keep their "
                                              "usual depth."))
    app.command("fill", help="Rebuild bad frames from their neighbours and write the complete sequence; good frames "
                "are copied.")(fill)
    app.command("retime", help="Change speed (--speed) or frame rate (--fps-from/--fps-to) with new frames between "
                "existing ones.")(retime)
