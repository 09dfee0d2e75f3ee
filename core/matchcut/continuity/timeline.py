"""Edit level: the cuts of an OpenTimelineIO timeline (.otio, or EDL / FCP XML through OTIO's adapters)."""

from __future__ import annotations

import os
import re
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


#: Files a clip's name may point to (a clip with no media reference, as an EDL with only "FROM CLIP NAME").
IMAGE_EXTENSIONS = (".exr", ".dpx", ".tif", ".tiff", ".png", ".jpg", ".jpeg")


_FRAME_NUMBER = re.compile(r"[._](\d+)\.[^.]+$")


def _path_of(url: str, base: Path, where: str) -> str:
    from matchcut.jobs.spec import resolve_job_path

    parsed = urlparse(url)
    path = unquote(parsed.path) if parsed.scheme == "file" else url
    # Media on the show's storage is absolute; a relative path is the timeline's own and must stay in its folder.
    return path if os.path.isabs(path) else resolve_job_path(path, base, where)


def _frames(t) -> int:
    return int(round(t.to_frames()))


def _by_name(name: str, base: Path) -> tuple[str, str]:
    """(pattern, "") for the one sequence or still named after a clip next to the timeline, else ("", why).

    Looked for: ``NAME.####.ext`` and ``NAME/NAME.####.ext`` (a sequence), ``NAME.ext`` (a still), ext an
    image format. An EDL often names a clip and nothing else; this is where a conform puts its media.
    """
    from matchcut.frames import detect_sequence

    if not name or name in (".", "..") or "/" in name or "\\" in name:  # a name, not a path out of the folder
        return "", "no media reference, and its name cannot be a file name"
    found: set[str] = set()
    for folder in (base, base / name):
        try:
            files = sorted(os.listdir(folder))
        except OSError:
            continue
        for f in files:
            stem, ext = os.path.splitext(f)
            if ext.lower() not in IMAGE_EXTENSIONS:
                continue
            if stem == name:
                found.add(str(folder / f))
            elif stem.startswith(name + ".") and stem[len(name) + 1:].isdigit():
                seq = detect_sequence(folder / f)
                found.add(seq.pattern if seq else str(folder / f))
    looked = f"{name}.####.ext, {name}/{name}.####.ext or {name}.ext ({', '.join(IMAGE_EXTENSIONS)}) in {base}"
    if len(found) == 1:
        return found.pop(), ""
    if found:
        return "", f"no media reference, and several files are named after the clip: {', '.join(sorted(found))}"
    return "", f"no media reference (the timeline gives only the clip's name) and no {looked}"


def _shot(clip, base: Path, where: str) -> Shot:
    """Where a clip's frames are, mapping its source range through its media's available range.

    A file reference that is one frame of a sequence (FCP XML points at the first frame) stands for the whole
    sequence, its file's number being the start of the media's available range. Media found by the clip's
    name has no available range: the source frames are the frame numbers (the usual 1001 = 00:00:41:17 at 24).
    """
    import opentimelineio as otio

    from matchcut.frames import detect_sequence, parse_pattern

    name = clip.name or "clip"
    here = f"{where}: clip '{name}'"
    ref = clip.media_reference
    rng = clip.source_range or clip.trimmed_range()
    start, count = _frames(rng.start_time), max(1, _frames(rng.duration))
    avail = getattr(ref, "available_range", None)
    zero = _frames(avail.start_time) if avail else None
    if isinstance(ref, otio.schema.ImageSequenceReference):
        pattern = _path_of(ref.target_url_base.rstrip("/") + "/" + ref.name_prefix + "#" * max(1, ref.frame_zero_padding)
                           + ref.name_suffix, base, here)
        first = ref.start_frame + (start - (zero or 0))
    elif isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
        pattern, first = _path_of(ref.target_url, base, here), start
        # A frame number follows a "." or "_" (sh010.1001.exr); "sh020.exr" beside "sh010.exr" is two stills.
        number = _FRAME_NUMBER.search(os.path.basename(pattern))
        seq = None if parse_pattern(pattern).is_sequence or not number else detect_sequence(pattern)
        if seq is not None:
            frame = int(number.group(1))
            pattern, first = seq.pattern, (frame + start - zero) if zero is not None else start
    elif isinstance(ref, otio.schema.GeneratorReference):
        return Shot(name, "", start, start + count - 1, f"generated ({ref.generator_kind or 'a generator'}), not media")
    else:
        pattern, why = _by_name(name, base)
        if not pattern:
            return Shot(name, "", start, start + count - 1, why)
        first = start
    shot = Shot(name, pattern, first, first + count - 1)
    shot.offline = _offline(shot)
    return shot


def _offline(shot: Shot) -> str:
    from matchcut.errors import MatchcutError
    from matchcut.frames import format_frames, open_source

    try:
        source = open_source(shot.pattern, first_frame=shot.first)
        missing = source.find_missing([shot.first, shot.last])  # the frames either side of its cuts
    except MatchcutError as exc:
        return str(exc)
    if not missing:
        return ""
    have = f"on disk: {format_frames(source.frames)}" if source.frames else "none on disk"
    return f"frame(s) {format_frames(missing)} not on disk ({have})"


def read_cuts(path: str | os.PathLike, *, rate: float = 24.0) -> tuple[list[Cut], list[Shot]]:
    """Consecutive clip pairs of every video track of a timeline, and every shot whose media is offline.

    ``rate``: frames per second of an EDL's timecodes (an EDL does not say; .otio and FCP XML carry theirs).
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
        extra = {"rate": rate} if path.suffix.lower() == ".edl" else {}
        timeline = otio.adapters.read_from_file(str(path), **extra)
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
