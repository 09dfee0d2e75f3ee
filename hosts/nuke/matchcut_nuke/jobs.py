"""Job building for the worker: a version-1 Matchcut job dict and its atomic write."""
from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, Optional

JOB_VERSION = 1


def format_range(first: int, last: int) -> str:
    """The job's frame range string, e.g. "1001-1100" (a single frame is "1001")."""
    if last < first:
        raise ValueError("frame range {}-{}: expected first <= last".format(first, last))
    return str(first) if first == last else "{}-{}".format(first, last)


def build_job(tool: str, inputs: Dict[str, str], outputs: Dict[str, str], first: int, last: int,
              params: Dict[str, Any], handles: int = 0, device: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A job dict for `matchcut run`: tool name, absolute input/output patterns (####), frames, handles, params."""
    if not tool:
        raise ValueError("job: expected a tool name")
    for name, path in list(inputs.items()) + list(outputs.items()):
        if not os.path.isabs(path):
            raise ValueError("job: path of {!r} must be absolute, got {!r}".format(name, path))
    return {"matchcut_job": JOB_VERSION, "tool": tool, "inputs": dict(inputs), "outputs": dict(outputs),
            "frames": format_range(first, last), "handles": int(handles), "params": dict(params),
            "device": dict(device or {"provider": "auto"}), "output_options": {"dtype": "half", "compression": None}}


def write_job(job: Dict[str, Any], path: str) -> str:
    """Write ``job`` as JSON to ``path`` atomically (temporary file in the same folder, then os.replace)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".job-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(job, handle, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def frame_path(pattern: str, frame: int) -> str:
    """The file of one frame of a ``####`` pattern (the last run of hashes gives the padding)."""
    end = pattern.rfind("#") + 1
    if end == 0:
        return pattern
    start = end - 1
    while start > 0 and pattern[start - 1] == "#":
        start -= 1
    return pattern[:start] + str(frame).zfill(end - start) + pattern[end:]
