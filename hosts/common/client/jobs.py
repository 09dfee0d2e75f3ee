"""Job files for the worker: a version-1 job dict from a host's choices, written atomically.

The worker's reader (matchcut.jobs.spec) checks every field; hosts write absolute paths for plates that live
on the show's storage, so a job never depends on the folder it is written to.
"""

import json
import os
import re
import tempfile

from . import JOB_VERSION

#: The job's output_options every host writes: half-float EXRs, the compression chosen per output kind.
OUTPUT_OPTIONS = {"dtype": "half", "compression": None}


def format_range(first, last):
    """The job's frame range text: "1001-1100" (a single frame is "1001"). ValueError for a reversed range."""
    first, last = int(first), int(last)
    if last < first:
        raise ValueError("frame range {}-{}: expected first <= last".format(first, last))
    return str(first) if first == last else "{}-{}".format(first, last)


def format_frames(frames):
    """Sorted frame numbers as the job's range text, runs collapsed: [1001, 1002, 1003, 1007] -> "1001-1003,1007"."""
    frames = sorted(set(int(f) for f in frames))
    if not frames:
        raise ValueError("no frames")
    parts, start, prev = [], frames[0], frames[0]
    for f in frames[1:] + [None]:
        if f is not None and f == prev + 1:
            prev = f
            continue
        parts.append(format_range(start, prev))
        if f is not None:
            start = prev = f
    return ",".join(parts)


def build_job(tool, inputs, outputs, frames=None, params=None, handles=0, provider="auto", device=None,
              output_options=None):
    """A job dict for ``matchcut run``: ``inputs``/``outputs`` map names to absolute patterns (####),
    ``frames`` a range text or None (every frame on disk; frameless tools), ``device`` a full device table
    (else one from ``provider``). ValueError naming the input or output whose path is relative."""
    if not tool:
        raise ValueError("job: expected a tool name")
    for name, path in list(inputs.items()) + list(outputs.items()):
        if not os.path.isabs(str(path)):
            raise ValueError("job: the path of {!r} must be absolute, got {!r}".format(name, path))
    return {"matchcut_job": JOB_VERSION, "tool": tool, "inputs": dict(inputs), "outputs": dict(outputs),
            "frames": frames, "handles": int(handles), "params": dict(params or {}),
            "device": dict(device or {"provider": provider or "auto"}),
            "output_options": dict(output_options or OUTPUT_OPTIONS)}


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` atomically (a temporary file in the same folder, then os.replace)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".matchcut-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True, default=str)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def frame_path(pattern, frame):
    """The file of one frame of a ``####`` pattern (the last run of hashes gives the padding)."""
    end = pattern.rfind("#") + 1
    if end == 0:
        return pattern
    start = end - 1
    while start > 0 and pattern[start - 1] == "#":
        start -= 1
    return pattern[:start] + str(int(frame)).zfill(end - start) + pattern[end:]


def hashes(last_frame):
    """The ``####`` run for a sequence whose frames go up to ``last_frame`` (at least four digits)."""
    return "#" * max(4, len(str(abs(int(last_frame)))))


def safe_name(text, limit=80):
    """A file-name-safe version of a clip, node or strip name (letters, digits, ``-``, ``_``, ``.``; never empty,
    never a path)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._")
    return cleaned[:limit] or "untitled"
