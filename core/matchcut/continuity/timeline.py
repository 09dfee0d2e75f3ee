"""Edit level: the cuts of an OpenTimelineIO timeline (.otio, or EDL / FCP XML through OTIO's adapters)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from matchcut.errors import InputError, SettingError


@dataclass
class Shot:
    """A clip whose media is (or is not) readable: ``pattern`` for open_source and the frames it uses there."""

    name: str
    pattern: str
    first: int
    last: int
    offline: str = ""  # why its media cannot be read; "" when it can


@dataclass
class Cut:
    """Two consecutive shots on a video track: compare the tail of ``a`` with the head of ``b``."""

    a: Shot
    b: Shot

    @property
    def label(self) -> str:
        return f"{self.a.name} / {self.b.name}"


def _path_of(url: str, base: Path, where: str) -> str:
    from matchcut.jobs.spec import resolve_job_path

    parsed = urlparse(url)
    path = unquote(parsed.path) if parsed.scheme == "file" else url
    # Media on the show's storage is absolute; a relative path is the timeline's own and must stay in its folder.
    return path if os.path.isabs(path) else resolve_job_path(path, base, where)


def _shot(clip, base: Path, where: str) -> Shot:
    import opentimelineio as otio

    name = clip.name or "clip"
    ref = clip.media_reference
    rng = clip.source_range or clip.trimmed_range()
    start = int(round(rng.start_time.to_frames()))
    count = max(1, int(round(rng.duration.to_frames())))
    if isinstance(ref, otio.schema.ImageSequenceReference):
        pattern = _path_of(ref.target_url_base.rstrip("/") + "/" + ref.name_prefix + "#" * max(1, ref.frame_zero_padding)
                           + ref.name_suffix, base, f"{where}: clip '{name}'")
        avail = ref.available_range
        zero = int(round(avail.start_time.to_frames())) if avail else 0
        first = ref.start_frame + (start - zero)
    elif isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
        pattern = _path_of(ref.target_url, base, f"{where}: clip '{name}'")
        first = start
    else:
        return Shot(name, "", start, start + count - 1, "no media reference")
    shot = Shot(name, pattern, first, first + count - 1)
    shot.offline = _offline(shot)
    return shot


def _offline(shot: Shot) -> str:
    from matchcut.errors import MatchcutError
    from matchcut.frames import open_source

    try:
        source = open_source(shot.pattern, first_frame=shot.first)
        missing = source.find_missing([shot.first, shot.last])
    except MatchcutError as exc:
        return str(exc)
    return f"frame(s) {', '.join(map(str, missing))} not on disk" if missing else ""


def read_cuts(path: str | os.PathLike) -> tuple[list[Cut], list[Shot]]:
    """Consecutive clip pairs of every video track of a timeline, and every shot whose media is offline.

    Raises SettingError when OpenTimelineIO (or the adapter for the file's format) is missing, InputError
    when the file cannot be read as a timeline.
    """
    try:
        import opentimelineio as otio
    except ImportError:
        raise SettingError("timeline", "reading timelines needs the opentimelineio package (pip install "
                           "opentimelineio; EDL and FCP XML also need opentimelineio-plugins)") from None
    path = Path(path)
    try:
        timeline = otio.adapters.read_from_file(str(path))
    except Exception as exc:  # OTIO raises its own exception types per adapter; they all mean "not readable"
        raise InputError(f"{path}: cannot read as a timeline: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__} "
                         "(.otio, or .edl / .xml with opentimelineio-plugins installed)") from None
    tracks = timeline.video_tracks() if hasattr(timeline, "video_tracks") else []
    cuts, offline = [], []
    for track in tracks:
        clips = [item for item in track if isinstance(item, otio.schema.Clip)]
        shots = [_shot(clip, path.parent, str(path)) for clip in clips]
        offline += [s for s in shots if s.offline]
        cuts += [Cut(a, b) for a, b in zip(shots, shots[1:])]
    return cuts, offline
