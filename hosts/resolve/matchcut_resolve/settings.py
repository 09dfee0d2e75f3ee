"""Saved dialog values per tool and the default output folder (a JSON file under the Matchcut cache root)."""

import json
import os
from typing import Any, Dict, Optional

from matchcut_resolve.client.jobs import write_json_atomic

SETTINGS_VERSION = 1


def cache_root(env: Optional[Dict[str, str]] = None) -> str:
    """The same cache root as the core ($MATCHCUT_CACHE_DIR, else the platform's cache folder), Resolve's
    folder in it."""
    from matchcut_resolve.client import folders

    return folders.host_cache("resolve", os.environ if env is None else env)


def default_output(env: Optional[Dict[str, str]] = None) -> str:
    """Where results go when the dialog's output folder is empty: $MATCHCUT_RESOLVE_OUTPUT, else the cache root."""
    env = os.environ if env is None else env
    return env.get("MATCHCUT_RESOLVE_OUTPUT") or os.path.join(cache_root(env), "results")


def settings_path(env: Optional[Dict[str, str]] = None) -> str:
    return os.path.join(cache_root(env), "settings.json")


def load(path: str) -> Dict[str, Dict[str, Any]]:
    """{tool: {field: value}}; a missing, unreadable or foreign file gives {} (never raises)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("matchcut_resolve_settings") != SETTINGS_VERSION:
        return {}
    tools = data.get("tools")
    return {k: v for k, v in tools.items() if isinstance(v, dict)} if isinstance(tools, dict) else {}


def save(path: str, tool: str, values: Dict[str, Any]) -> None:
    """Store one tool's values (others kept), atomically."""
    tools = load(path)
    tools[tool] = dict(values)
    write_json_atomic(path, {"matchcut_resolve_settings": SETTINGS_VERSION, "tools": tools})
