"""Renders to EXR of media Matchcut cannot read, as plain data: the codec, the render settings, the folder and
name, what a job status means, and which of the artist's settings to put back."""

import os
from typing import Any, Dict, Optional, Tuple

from matchcut_resolve.client.jobs import safe_name
from matchcut_resolve.errors import HostError


def exr_codec(codecs: Dict[str, str]) -> str:
    """The codec of Project.GetRenderCodecs("exr") ({description: codec}) to render with: a half-float one,
    else the first offered."""
    for description, codec in (codecs or {}).items():
        if "half" in description.lower():
            return codec
    if not codecs:
        raise HostError("this Resolve offers no EXR render format")
    return next(iter(codecs.values()))


def render_settings(start: int, end: int, folder: str, name: str) -> Dict[str, Any]:
    """Project.SetRenderSettings' map for an item's record range (``end`` exclusive, as GetEnd gives it; MarkOut is
    inclusive), video only, to ``folder`` under the custom name ``name``."""
    return {"SelectAllFrames": False, "MarkIn": int(start), "MarkOut": int(end) - 1, "TargetDir": folder,
            "CustomName": name, "ExportVideo": True, "ExportAudio": False}


def render_name(item_name: str) -> str:
    """The custom name an item's render is written under (Resolve adds the frame numbers)."""
    return safe_name(item_name) + "_render"


def render_folder(root: str, project: str, item_name: str) -> str:
    """Where an item's render goes: ``root/<project>/_renders/<item>``."""
    return os.path.join(root, safe_name(project), "_renders", safe_name(item_name))


def job_status(status: Optional[Dict[str, Any]]) -> Tuple[str, float]:
    """(JobStatus, percentage) of Project.GetRenderJobStatus' map: "Rendering", "Complete", "Failed" ..."""
    status = status or {}
    return str(status.get("JobStatus", "")), float(status.get("CompletionPercentage") or 0)


def render_stopped(status: str, cancelled: bool) -> bool:
    """Whether a render that is not complete has ended without frames (it failed, or the run was cancelled)."""
    return status in ("Failed", "Cancelled") or cancelled


def failure_text(item_name: str, status: str) -> str:
    return "{}: the render to EXR {}".format(item_name, status.lower() or "stopped")


def progress_text(item_name: str, percent: float) -> str:
    return "rendering {} to EXR ({:.0f} %)".format(item_name, percent)


def restored_settings(saved: Dict[str, Any]) -> Tuple[Optional[Tuple[str, str]], Optional[int]]:
    """((format, codec) or None, render mode or None): what of the artist's saved render settings
    (GetCurrentRenderFormatAndCodec, GetCurrentRenderMode) can be set back."""
    fmt = saved.get("format") or {}
    pair = (fmt["format"], fmt["codec"]) if fmt.get("format") and fmt.get("codec") else None
    return pair, (saved["mode"] if saved.get("mode") in (0, 1) else None)
