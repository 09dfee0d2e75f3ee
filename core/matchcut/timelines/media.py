"""Where a clip's frames are on this machine, and why not when they cannot be read.

Media references are read as the timeline writes them (``matchcut.paths``: Windows and UNC paths, ``file://``
URLs, the show's mapping rules) and checked at the two frames a clip shows at its ends (the frames either
side of its cuts). A clip with no media reference (an EDL that names only the clip) is looked for beside the
timeline by its name, and a clip named after a file (``ZZ100_501.take_1.0001.exr``) by that file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from matchcut.paths import LocalPath, Mapped, PathMap, local_path

#: Files a clip's name may point to (a clip with no media reference, as an EDL with only "FROM CLIP NAME").
IMAGE_EXTENSIONS = (".exr", ".dpx", ".tif", ".tiff", ".png", ".jpg", ".jpeg")

# A frame number follows a "." or "_" (sh010.1001.exr); "sh020.exr" beside "sh010.exr" is two stills.
_FRAME_NUMBER = re.compile(r"[._](\d+)\.[^.]+$")
# Resolve names a sequence by its frame range: plate.[1001-1100].exr
_BRACKETS = re.compile(r"\[(-?\d+)-(-?\d+)\]")


def bracket_sequence(path: str) -> tuple[str, int] | None:
    """A sequence named by its frame range (``/s/plate.[1001-1100].exr``, as DaVinci Resolve writes it) as a
    ``####`` pattern (padded as the first number is written) and its first frame; None for any other path."""
    cut = max(path.rfind("/"), path.rfind("\\")) + 1
    found = _BRACKETS.search(path[cut:])
    if not found:
        return None
    digits = len(found.group(1).lstrip("-"))
    name = path[cut:]
    return path[:cut] + name[:found.start()] + "#" * digits + name[found.end():], int(found.group(1))


@dataclass
class Media:
    """A clip's media: ``pattern`` for open_source and the frames of it the clip shows at its two ends.

    ``origin``: the frame number of a movie's first frame. ``offline``: why it cannot be read, "" when it can;
    it never repeats the path (messages print ``pattern`` or ``written`` beside it). ``missing``: frames of a
    sequence that are not on disk, ``on_disk`` those that are (for messages that merge several clips).
    """

    pattern: str = ""
    first: int = 0
    last: int = 0
    origin: int = 0
    written: str = ""
    mapped: Mapped | None = None
    offline: str = ""
    missing: tuple[int, ...] = ()
    on_disk: str = ""

    @property
    def where(self) -> str:
        """The file to name in a message: the pattern found, else the path as written."""
        return self.pattern or self.written


def _movie(path: str) -> bool:
    from matchcut.frames.movies import MOVIE_EXTENSIONS

    return os.path.splitext(path)[1].lower() in MOVIE_EXTENSIONS


def _by_name(name: str, base: Path) -> tuple[str, str]:
    """(pattern, "") for the one sequence, still or movie named after a clip next to the timeline, else ("", why).

    A name that is a file name (``ZZ100_501.take_1.0001.exr``, ``Clip_A.mov``) is that file, beside the timeline
    or in a folder named after its stem, and the sequence it is a frame of. Any other name is looked for as
    ``NAME.####.ext`` and ``NAME/NAME.####.ext`` (a sequence) or ``NAME.ext`` (a still), ext an image format:
    an EDL often names a clip and nothing else, and this is where a conform puts its media.
    """
    from matchcut.frames import detect_sequence
    from matchcut.frames.movies import MOVIE_EXTENSIONS

    if not name or name in (".", "..") or "/" in name or "\\" in name:  # a name, not a path out of the folder
        return "", "no media reference, and its name cannot be a file name"
    stem, ext = os.path.splitext(name)
    if ext.lower() in IMAGE_EXTENSIONS + MOVIE_EXTENSIONS:
        for folder in (base, base / stem):
            if (folder / name).is_file():
                numbered = _FRAME_NUMBER.search(name) and not _movie(name)
                seq = detect_sequence(folder / name) if numbered else None
                return (seq.pattern if seq else str(folder / name)), ""
        return "", f"no media reference (the timeline gives only the clip's name), and no {name} in {base}"
    found: set[str] = set()
    for folder in (base, base / name):
        try:
            files = sorted(os.listdir(folder))
        except OSError:
            continue
        for f in files:
            fstem, fext = os.path.splitext(f)
            if fext.lower() not in IMAGE_EXTENSIONS:
                continue
            if fstem == name:
                found.add(str(folder / f))
            elif fstem.startswith(name + ".") and fstem[len(name) + 1:].isdigit():
                seq = detect_sequence(folder / f)
                found.add(seq.pattern if seq else str(folder / f))
    looked = f"{name}.####.ext, {name}/{name}.####.ext or {name}.ext ({', '.join(IMAGE_EXTENSIONS)}) in {base}"
    if len(found) == 1:
        return found.pop(), ""
    if found:
        return "", f"no media reference, and several files are named after the clip: {', '.join(sorted(found))}"
    return "", f"no media reference (the timeline gives only the clip's name) and no {looked}"


def _unreadable(pattern: str, frames: list[int]) -> str:
    """"" when the files of ``frames`` open as images, else which one does not and why (headers only)."""
    from matchcut.errors import FrameReadError
    from matchcut.frames import parse_pattern, read_metadata

    seq = parse_pattern(pattern)
    files = [str(seq.path_for(f)) for f in frames] if seq.is_sequence else [pattern]
    for file in dict.fromkeys(files):
        try:
            read_metadata(file)
        except FrameReadError as exc:
            return f"{os.path.basename(file)}: cannot read: {exc.detail}" if seq.is_sequence else \
                f"cannot read: {exc.detail}"
    return ""


def missing_frames(pattern: str, missing, on_disk: str) -> str:
    """Why frames of a sequence or movie cannot be read: ``frame(s) 1042, 1045 not on disk (on disk: 1001-1004)``."""
    from matchcut.frames import format_frames

    frames = format_frames(missing)
    if _movie(pattern):
        return f"frame(s) {frames} not in the movie ({'the movie has ' + on_disk if on_disk else 'it has none'})"
    return f"frame(s) {frames} not on disk ({'on disk: ' + on_disk if on_disk else 'none on disk'})"


def check_media(media: Media, cache: dict | None = None) -> Media:
    """``media`` with ``offline`` filled in: its end frames on disk and readable, else why not."""
    from matchcut.errors import FrameReadError, MatchcutError
    from matchcut.frames import format_frames, open_source

    key = (media.pattern, media.first, media.last, media.origin)
    if cache is not None and key in cache:
        media.offline, media.missing, media.on_disk = cache[key]
        return media
    ends = sorted({media.first, media.last})
    try:
        source = open_source(media.pattern, first_frame=media.origin)
        missing = source.find_missing(ends)
        if missing:
            media.missing, media.on_disk = tuple(missing), format_frames(source.frames)
            media.offline = missing_frames(media.pattern, missing, media.on_disk)
        elif not _movie(media.pattern):
            media.offline = _unreadable(media.pattern, ends)
    except FrameReadError as exc:
        media.offline = exc.detail if os.path.basename(exc.path) == os.path.basename(media.pattern) else str(exc)
    except MatchcutError as exc:
        media.offline = str(exc)
    if cache is not None:
        cache[key] = (media.offline, media.missing, media.on_disk)
    return media


def _frames(t) -> int:
    return int(round(t.to_frames()))


def locate(item, source: tuple[int, int], base: Path, paths: PathMap | None, where: str,
           cache: dict | None = None) -> Media:
    """The media of OpenTimelineIO clip ``item`` whose source frames ``source`` (first, last) the edit shows.

    A file reference that is one frame of a sequence (FCP XML points at the first frame) stands for the whole
    sequence, its file's number being the start of the media's available range. Media found by the clip's
    name, or a reference without an available range (EDL), has the source timecode's frames as its frame
    numbers (the usual 1001 = 00:00:41:17 at 24 fps).
    """
    import opentimelineio as otio

    from matchcut.frames import detect_sequence, parse_pattern

    name = item.name or "clip"
    here = f"{where}: clip '{name}'"
    ref = item.media_reference
    start, last = source
    avail = getattr(ref, "available_range", None)
    zero = _frames(avail.start_time) if avail else None

    def found(lp: LocalPath, pattern: str, first: int, origin: int = 0) -> Media:
        media = Media(pattern, first, first + (last - start), origin, lp.written, lp.mapped)
        return check_media(media, cache)

    if isinstance(ref, otio.schema.ImageSequenceReference):
        # Map the folder, then add the file name: a "#" in a URL would read as its fragment.
        folder = local_path(ref.target_url_base, base, paths, where=here)
        name_part = ref.name_prefix + "#" * max(1, ref.frame_zero_padding) + ref.name_suffix
        if folder.problem:
            return Media(written=folder.written.rstrip("/\\") + "/" + name_part, mapped=folder.mapped,
                         offline=folder.problem)
        lp = LocalPath(os.path.join(folder.path, name_part), folder.written, folder.mapped)
        return found(lp, lp.path, ref.start_frame + (start - (zero or 0)))
    if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
        lp = local_path(ref.target_url, base, paths, where=here)
        if lp.problem:
            return Media(written=lp.written, mapped=lp.mapped, offline=lp.problem)
        pattern, first = lp.path, start
        bracketed = bracket_sequence(pattern)
        if bracketed is not None:
            pattern, frame = bracketed
            return found(lp, pattern, (frame + start - zero) if zero is not None else start)
        number = _FRAME_NUMBER.search(os.path.basename(pattern))
        if _movie(pattern):
            return found(lp, pattern, start, zero if zero is not None else 0)
        seq = None if parse_pattern(pattern).is_sequence or not number else detect_sequence(pattern)
        if seq is not None:
            frame = int(number.group(1))
            pattern, first = seq.pattern, (frame + start - zero) if zero is not None else start
        return found(lp, pattern, first)
    pattern, why = _by_name(name, base)
    if not pattern:
        return Media(offline=why)
    lp = LocalPath(pattern, "")
    return found(lp, pattern, start, zero if zero is not None and _movie(pattern) else 0)
