"""Cache keys: a hash of the upstream hash, frame range and parameters that says when a result is stale."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, Optional


def cache_key(tool: str, upstream_hash: str, first: int, last: int, params: Dict[str, Any],
              extra: Optional[Dict[str, Any]] = None) -> str:
    """A 16-hex-digit key; any change of upstream image, range, tool, a parameter or ``extra`` (the handles,
    the rendered range) changes it."""
    blob = json.dumps({"tool": tool, "upstream": upstream_hash, "range": [first, last], "params": params,
                       "extra": extra or {}}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def cache_folder(root: str, node_name: str, key: str) -> str:
    """The folder for one node's result under ``root``; the node name may not escape ``root``."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in node_name) or "node"
    path = os.path.join(os.path.abspath(root), safe, key)
    if not path.startswith(os.path.abspath(root) + os.sep):
        raise ValueError("cache folder for {!r} escapes {!r}".format(node_name, root))
    return path


def is_stale(stored_key: str, current_key: str) -> bool:
    """True when the result on disk was made for other inputs or settings (or none was made)."""
    return not stored_key or stored_key != current_key
