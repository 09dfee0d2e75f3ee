"""Node state serialisation: the knob values as versioned JSON in a hidden knob, readable by any version.

A node made by another Matchcut version may carry values this version has no knob for, and keys this version
does not know: both are kept and written back unchanged, so a script that goes back keeps them too.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

STATE_VERSION = 1
KNOWN_KEYS = ("matchcut_state", "tool", "values", "cache_key", "result")


def dump_state(tool: str, values: Dict[str, Any], cache_key: str = "", result: Optional[Dict[str, Any]] = None,
               extra: Optional[Dict[str, Any]] = None) -> str:
    """The hidden knob's text: tool, values, the key and files of the result on disk, and unknown keys kept."""
    data = dict(extra or {})
    data.update({"matchcut_state": STATE_VERSION, "tool": tool, "values": values, "cache_key": cache_key,
                 "result": dict(result or {})})
    return json.dumps(data, sort_keys=True, default=str)


def load_state(text: str) -> Dict[str, Any]:
    """The state back; empty or unreadable text gives empty values, never raises; keys this version does not
    know come back under "extra"."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    values = data.get("values")
    result = data.get("result")
    return {"tool": str(data.get("tool", "")), "values": values if isinstance(values, dict) else {},
            "cache_key": str(data.get("cache_key", "")), "result": result if isinstance(result, dict) else {},
            "extra": {k: v for k, v in data.items() if k not in KNOWN_KEYS}}


def merge_values(saved: Dict[str, Any], current: Dict[str, Any]) -> Dict[str, Any]:
    """The values to save: the node's current knob values over the saved ones, so a value this version has
    no knob for (another version's control) stays in the state."""
    merged = dict(saved)
    merged.update(current)
    return merged


def update_state(text: str, tool: str, values: Dict[str, Any], cache_key: Optional[str] = None,
                 result: Optional[Dict[str, Any]] = None, last_run: Optional[Dict[str, Any]] = None) -> str:
    """The hidden knob's new text from its current ``text``: the node's current ``values`` over the saved ones,
    and the cache key, result and last run ({key, status, message}) replaced where given, kept where None;
    keys another version wrote are kept."""
    saved = load_state(text)
    extra = saved["extra"] if last_run is None else dict(saved["extra"], last_run=last_run)
    return dump_state(tool, merge_values(saved["values"], values), saved["cache_key"] if cache_key is None else cache_key,
                      saved["result"] if result is None else result, extra)
