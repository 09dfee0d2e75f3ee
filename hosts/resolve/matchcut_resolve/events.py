"""Worker events: `matchcut run --events jsonl` lines folded into progress, messages, artifacts and the error."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional


class RunState:
    """What the worker said so far: fraction done, frames, messages, artifacts, final status, one-line error."""

    def __init__(self) -> None:
        self.fraction = 0.0
        self.frame: Optional[int] = None
        self.total = 0
        self.index = 0
        self.infos: List[str] = []
        self.warnings: List[str] = []
        self.artifacts: Dict[str, Any] = {}
        self.status = "waiting"
        self.error: Optional[str] = None
        self.exit_code: Optional[int] = None
        self.frames_written = 0
        self.frames_skipped = 0

    @property
    def finished(self) -> bool:
        return self.status in ("done", "error", "cancelled")


def parse_line(line: str) -> Optional[Dict[str, Any]]:
    """One event dict, or None for a blank or non-JSON line (stray worker output is not an event)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def _one_line(text: Any) -> str:
    return " ".join(str(text).split()) if text is not None else ""


def apply_event(state: RunState, event: Dict[str, Any]) -> RunState:
    """Fold one event (start, frame, info, warning, done, error, cancelled) into ``state``."""
    kind = event.get("event")
    if kind == "start":
        state.status = "running"
        state.total = int(event.get("total") or 0)
    elif kind == "frame":
        state.status = "running"
        if event.get("fraction") is not None:
            state.fraction = max(0.0, min(1.0, float(event["fraction"])))
        state.frame = event.get("frame")
        state.index = int(event.get("index") or state.index)
        state.total = int(event.get("total") or state.total)
    elif kind == "info":
        state.infos.append(_one_line(event.get("message")))
    elif kind == "warning":
        where = " (frame {})".format(event["frame"]) if event.get("frame") is not None else ""
        state.warnings.append(_one_line(event.get("message")) + where)
    elif kind == "done":
        state.status, state.fraction = "done", 1.0
        state.artifacts = dict(event.get("artifacts") or {})
        state.frames_written = int(event.get("frames_written") or 0)
        state.frames_skipped = int(event.get("frames_skipped") or 0)
    elif kind == "error":
        state.status = "error"
        state.error = _one_line(event.get("message")) or "unknown error"
        state.exit_code = int(event.get("exit_code") or 1)
    elif kind == "cancelled":
        state.status = "cancelled"
    return state


def finish(state: RunState, returncode: Optional[int], stray: List[str]) -> RunState:
    """After the worker exited: a run that ended without done/error/cancelled is an error, with the last
    non-event line the worker printed (its one-line CLI error) as the message."""
    if state.finished:
        return state
    state.status = "error"
    state.exit_code = returncode if returncode else 1
    lines = [s.strip() for s in stray if s.strip()]
    state.error = lines[-1] if lines else "the worker exited (code {}) without a result".format(returncode)
    return state


def progress_text(state: RunState, tool: str) -> str:
    """The dialog's progress label: "relight: frame 1012 (12/48, 25 %)", "done", or the error."""
    if state.status == "waiting":
        return "{}: starting the worker...".format(tool)
    if state.status == "running":
        if state.frame is None:
            return "{}: preparing...".format(tool)
        return "{}: frame {} ({}/{}, {:.0f} %)".format(tool, state.frame, state.index, state.total,
                                                      100 * state.fraction)
    if state.status == "done":
        extra = " ({} warning(s))".format(len(state.warnings)) if state.warnings else ""
        return "{}: done{}".format(tool, extra)
    if state.status == "cancelled":
        return "{}: cancelled; finished frames are kept, Run resumes".format(tool)
    return "{}: error: {}".format(tool, state.error)
