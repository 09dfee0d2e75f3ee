"""Worker events: parse `matchcut run --events jsonl` lines into progress, warnings, artifacts and the error."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional


class RunState:
    """What the worker said so far: fraction done, warnings, artifacts, final status and one-line error."""

    def __init__(self) -> None:
        self.fraction = 0.0
        self.warnings: List[str] = []
        self.artifacts: Dict[str, Any] = {}
        self.status = "running"
        self.error: Optional[str] = None


def parse_line(line: str) -> Optional[Dict[str, Any]]:
    """One JSON event dict, or None for a blank or non-JSON line (stray worker output is not an event)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "event" in event else None


def apply_event(state: RunState, event: Dict[str, Any]) -> RunState:
    """Fold one event (start, frame, warning, done, error, cancelled) into ``state``."""
    kind = event.get("event")
    if kind == "frame" and "fraction" in event:
        state.fraction = max(0.0, min(1.0, float(event["fraction"])))
    elif kind == "warning":
        state.warnings.append(str(event.get("message", "")))
    elif kind == "done":
        state.status, state.fraction = "done", 1.0
        state.artifacts = dict(event.get("artifacts") or {})
    elif kind == "error":
        state.status = "error"
        state.error = str(event.get("message", "unknown error")).splitlines()[0] if event.get("message") else "unknown error"
    elif kind == "cancelled":
        state.status = "cancelled"
    return state


def progress_percent(state: RunState) -> int:
    """The progress bar's value, 0 to 100."""
    return int(state.fraction * 100)


def progress_message(event: Dict[str, Any]) -> Optional[str]:
    """The progress dialog's line for a frame event ('frame 1002 (2 of 3)'); None for other events."""
    if event.get("event") != "frame":
        return None
    return "frame {} ({} of {})".format(event.get("frame"), event.get("index"), event.get("total"))
