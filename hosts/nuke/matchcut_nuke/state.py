"""Node state serialisation: the knob values as versioned JSON in a hidden knob, readable by any version."""
from __future__ import annotations

import json
from typing import Any, Dict

STATE_VERSION = 1


def dump_state(tool: str, values: Dict[str, Any], cache_key: str = "") -> str:
    """The hidden knob's text: tool, parameter values and the key of the result on disk."""
    return json.dumps({"matchcut_state": STATE_VERSION, "tool": tool, "values": values, "cache_key": cache_key},
                      sort_keys=True, default=str)


def load_state(text: str) -> Dict[str, Any]:
    """The state back; empty or unreadable text gives empty values, unknown keys are kept, never raised on."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    values = data.get("values")
    return {"tool": str(data.get("tool", "")), "values": values if isinstance(values, dict) else {},
            "cache_key": str(data.get("cache_key", ""))}
