"""Cache keys: a hash of the upstream hash, frame range and parameters that says when a result is stale."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, List, Mapping, Optional


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


#: Knobs that change how a node looks in the graph, never its pixels: moving a node must not make results stale.
UI_KNOBS = frozenset(("xpos", "ypos", "selected", "tile_color", "gl_color", "note_font", "note_font_size",
                      "note_font_color", "label", "icon", "hide_input", "postage_stamp", "postage_stamp_frame",
                      "bookmark", "dope_sheet", "indicators", "cached", "name", "help", "onCreate", "onDestroy",
                      "knobChanged", "updateUI", "autolabel", "panel", "status", "regions", "process", "cancel",
                      "apply_model", "train_note"))


def default_root(environ: Optional[Mapping[str, str]] = None) -> str:
    """The Nuke adapter's cache root: the core's (MATCHCUT_CACHE_DIR, else the platform's cache folder) plus
    "nuke"; ``environ`` defaults to os.environ."""
    from matchcut_nuke.client import folders

    return folders.host_cache("nuke", os.environ if environ is None else environ)


def node_digest(node_class: str, knob_scripts: Dict[str, str], input_digests: List[Optional[str]]) -> str:
    """One node's upstream hash (hex) from its class, its knobs' scripts by name (UI_KNOBS already left out) and
    the hashes of its inputs in order (None for an input not connected)."""
    digest = hashlib.sha256(node_class.encode("utf-8"))
    for name, script in sorted(knob_scripts.items()):
        digest.update(name.encode("utf-8") + script.encode("utf-8"))
    for upstream in input_digests:
        digest.update(upstream.encode("utf-8") if upstream is not None else b"-")
    return digest.hexdigest()


def file_digest(path: str) -> Optional[str]:
    """The SHA-256 (hex) of a file's bytes (a timeline file: a new export of the edit makes the result stale), or
    None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def join_upstream(digests: Dict[str, str]) -> str:
    """The upstream part of a cache key: each connected input's name and hash, in name order."""
    return "|".join(name + ":" + digests[name] for name in sorted(digests))
