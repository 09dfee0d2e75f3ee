"""A node's status: whether its saved result is current, the one-line text it shows, and how it looks in the
graph (the validity Switch passes the result, or the plate while there is no current result)."""
from __future__ import annotations

import os
from typing import Any, Dict, Tuple

from matchcut_nuke import cache

UP_TO_DATE = "up to date"
STALE = "stale \u2014 press Process"
NOT_PROCESSED = "not processed \u2014 press Process"
CANCELLED = "cancelled \u2014 press Process"
#: Nuke's tile colour (0xRRGGBBAA) of a node with no current result; 0 is Nuke's default colour.
FLAG_COLOUR = 0xCC3333FF


def result_on_disk(result: Dict[str, Any]) -> bool:
    """True when the first file of every output the result names is there (a cleaned cache is no result)."""
    files = result.get("files") or {}
    return bool(files) and all(os.path.exists(path) for path in files.values())


def is_current(saved: Dict[str, Any], key: str) -> bool:
    """True when the ``saved`` state (state.load_state) holds a result made for cache ``key`` and still on disk."""
    return not cache.is_stale(saved["cache_key"], key) and result_on_disk(saved["result"])


def assess_result(saved: Dict[str, Any], key: str) -> Tuple[str, bool, str]:
    """(status text, show the result, graph label) for a node whose job has cache ``key`` now: up to date; the
    last run for this key cancelled or failed; stale (a result made for other inputs, range or settings is never
    shown); or not processed."""
    last_run = saved["extra"].get("last_run") or {}
    if is_current(saved, key):
        first, last = saved["result"].get("first"), saved["result"].get("last")
        return "{} (frames {}-{})".format(UP_TO_DATE, first, last), True, ""
    if last_run.get("key") == key and last_run.get("status") in ("cancelled", "error"):
        if last_run["status"] == "cancelled":
            return CANCELLED, False, "CANCELLED"
        return "error: " + str(last_run.get("message", "")), False, "ERROR"
    if saved["cache_key"]:
        return STALE, False, "STALE"
    return NOT_PROCESSED, False, ""


def first_line(error: Any) -> str:
    """The first line of an exception or message, never empty (an exception may have no message at all)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__ if isinstance(error, BaseException) else "unknown error"


def assess_failure(message: str, waiting: bool) -> Tuple[str, bool, str]:
    """(status text, show the result, graph label) when no job can be planned: ``waiting`` for an input (no flag),
    else an error; the text is the first line of ``message``."""
    return ("waiting: " if waiting else "error: ") + first_line(message), False, "" if waiting else "ERROR"


def choose_look(valid: bool, label: str = "") -> Dict[str, Any]:
    """Knob values that show a node's result (``valid``) or pass the plate through, flagged red and labelled:
    the validity Switch's "which", the node's "tile_color" and "label"."""
    return {"which": 1 if valid else 0, "tile_color": 0 if valid else FLAG_COLOUR, "label": "" if valid else label}
