"""Running a command's job: shared options, path handling, events, the tool lookup and the run itself.

Every tool command (``matchcut.cli.commands``) and `matchcut run` build the job a host would write and run it
here, so the CLI and the hosts share one path. Options every tool command has are defined once, as Annotated
aliases.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from matchcut.errors import MatchcutError, SettingError

EVENT_FORMATS = ("text", "jsonl")
DEVICES = ("auto", "cpu", "cuda", "tensorrt")


def sink_for(events: str):
    from matchcut.jobs.events import JsonLinesSink, TextSink

    if events not in EVENT_FORMATS:
        raise SettingError("--events", f"unknown format '{events}'", EVENT_FORMATS)
    return JsonLinesSink(sys.stdout) if events == "jsonl" else TextSink(sys.stderr)


def check_device(device: str | None) -> None:
    if device is not None and device not in DEVICES:
        raise SettingError("--device", f"unknown device '{device}'", DEVICES)


def parse_set(items: list[str]) -> dict[str, object]:
    """``--set name=value`` options as params: values are read as JSON (0.5, 3, true, "x"), else as text."""
    params: dict[str, object] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise SettingError("--set", f"expected name=value, got '{item}'")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params[name.strip()] = value
    return params


def execute(build, events: str, **options) -> None:
    """Build the job and look its tool up (errors there are reported as events too), then run it with signal
    handlers installed; ``options`` go to ``run_job`` (a farm task's ``chunk``, ``finish_only``)."""
    from matchcut.jobs.events import error_fields
    from matchcut.jobs.runner import run_job
    from matchcut.tools import get_tool

    sink = sink_for(events)
    # With jsonl, stdout carries events only (hosts parse every line): a library's own print() during the job
    # (onnxruntime's provider fallback, pymatting's solver notes) goes to stderr. The sink keeps the real stdout.
    quiet = contextlib.redirect_stdout(sys.stderr) if events == "jsonl" else contextlib.nullcontext()
    try:
        with quiet:
            try:
                spec = build()
                tool = get_tool(spec.tool)
            except MatchcutError as exc:
                sink.emit("error", **error_fields(exc))
                raise
            run_job(tool, spec, sink, install_signal_handlers=True, **options)
    finally:
        sink.close()


Device = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or tensorrt.")]
Events = Annotated[str, typer.Option("--events", help="Progress format: text (stderr) or jsonl (stdout, for hosts).")]
Compression = Annotated[Optional[str], typer.Option("--compression", help="EXR compression (default: piz for plates, "
                                                    "zip for mattes and passes).")]


def absolute(path: str | None) -> str | None:
    """A path typed on the command line, made absolute: the user's own paths may be anywhere (job files' may not)."""
    return str(Path(path).expanduser().absolute()) if path else None
