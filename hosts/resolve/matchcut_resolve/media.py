"""Media paths: Resolve's clip paths as Matchcut patterns, what Matchcut can read, sequences found on disk."""

import os
import re
from typing import Dict, List, Optional, Tuple

#: Extensions Matchcut reads itself (OpenImageIO stills and sequences, PyAV movies); anything else, camera raw
#: included (.braw, .r3d, .ari, .crm, .dng, .mxf ...), is rendered to EXR by Resolve first.
READABLE = (".exr", ".dpx", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".tga", ".bmp", ".hdr", ".cin", ".sgi",
            ".mp4", ".mov", ".m4v", ".mkv", ".avi")
MOVIES = (".mp4", ".mov", ".m4v", ".mkv", ".avi")

# Resolve writes an image sequence's path with its frame range in brackets: plate.[1001-1100].exr
_BRACKETS = re.compile(r"\[(-?\d+)-(-?\d+)\]")
_PRINTF = re.compile(r"%0?(\d*)d")


class ClipPath:
    """A media path as Matchcut reads it: ``pattern`` (``####`` for a sequence, else the file itself), the first
    and last file frame of a sequence (None for a movie or still) and whether Matchcut can read it."""

    def __init__(self, pattern: str, first: Optional[int], last: Optional[int]) -> None:
        self.pattern, self.first, self.last = pattern, first, last

    @property
    def is_sequence(self) -> bool:
        return self.first is not None

    @property
    def extension(self) -> str:
        return os.path.splitext(self.pattern)[1].lower()

    @property
    def readable(self) -> bool:
        """True when Matchcut can read the media as it is (no render needed)."""
        return self.extension in READABLE

    @property
    def is_movie(self) -> bool:
        return self.extension in MOVIES


def clip_path(path: str, start: object = None, end: object = None) -> ClipPath:
    """Parse a MediaPoolItem's "File Path" (with its "Start"/"End" properties for printf-style paths).

    ``/s/plate.[1001-1100].exr`` -> ``/s/plate.####.exr``, 1001, 1100; ``/s/plate.%04d.exr`` with Start 1001
    and End 1100 likewise; ``/s/a.mov`` -> itself, None, None. Raises ValueError for an empty path.
    """
    if not path:
        raise ValueError("clip has no file path (a generator, title or compound clip?): expected media on disk")
    match = _BRACKETS.search(os.path.basename(path))
    if match:
        first_text, last_text = match.group(1), match.group(2)
        digits = first_text.lstrip("-")
        # Resolve writes the numbers as the files are named: a leading zero or equal widths mean padding.
        padded = digits.startswith("0") or len(digits) == len(last_text.lstrip("-"))
        token = "#" * len(digits) if padded and len(digits) > 1 else "%d"
        name = os.path.basename(path)
        head = path[: len(path) - len(name)]
        pattern = head + name[: match.start()] + token + name[match.end():]
        return ClipPath(pattern, int(first_text), int(last_text))
    match = _PRINTF.search(os.path.basename(path))
    if match:
        width = int(match.group(1) or 0)
        token = "#" * width if width > 1 else "%d"
        head = path[: len(path) - len(os.path.basename(path))]
        name = os.path.basename(path)
        first = _int_or_none(start)
        last = _int_or_none(end)
        return ClipPath(head + name[: match.start()] + token + name[match.end():], first, last)
    return ClipPath(path, None, None)


def _int_or_none(value: object) -> Optional[int]:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def first_file_frame(clip: ClipPath, start: object = None) -> int:
    """The file frame number of the media's first frame: a sequence's first number, 1 for a movie (Matchcut
    numbers movie frames from 1), else Resolve's "Start" property (0 when it says nothing)."""
    if clip.is_sequence:
        return int(clip.first)  # type: ignore[arg-type]
    if clip.is_movie:
        return 1
    value = _int_or_none(start)
    return value if value is not None else 0


def printf_path(pattern: str) -> str:
    """``plate.####.exr`` -> ``plate.%04d.exr`` (ImportMedia's clipInfo form); ``%d`` stays."""
    match = re.search(r"#+", os.path.basename(pattern))
    if not match:
        return pattern
    head = pattern[: len(pattern) - len(os.path.basename(pattern))]
    name = os.path.basename(pattern)
    return head + name[: match.start()] + "%0{}d".format(len(match.group(0))) + name[match.end():]


def frame_path(pattern: str, frame: int) -> str:
    """The file of ``frame`` in a ``####`` or ``%d`` pattern."""
    name = os.path.basename(pattern)
    head = pattern[: len(pattern) - len(name)]
    match = re.search(r"#+", name)
    if match:
        return head + name[: match.start()] + "{:0{}d}".format(frame, len(match.group(0))) + name[match.end():]
    match = _PRINTF.search(name)
    if match:
        return head + name[: match.start()] + "{:0{}d}".format(frame, int(match.group(1) or 0)) + name[match.end():]
    return pattern


def frame_files(pattern: str, first: int, last: int) -> List[str]:
    """The files of frames first..last of ``pattern`` that exist, in frame order."""
    return [p for p in (frame_path(pattern, f) for f in range(int(first), int(last) + 1)) if os.path.isfile(p)]


def frames_on_disk(pattern: str) -> List[int]:
    """The frame numbers of ``pattern`` (``####`` or ``%d``) that exist, sorted; [] for a missing folder."""
    name = os.path.basename(pattern)
    folder = os.path.dirname(pattern) or "."
    match = re.search(r"#+", name) or _PRINTF.search(name)
    if not match:
        return []
    width = len(match.group(0)) if match.group(0).startswith("#") else int(match.group(1) or 0)
    digits = r"(-?\d{%d,})" % max(width, 1)
    regex = re.compile("^" + re.escape(name[: match.start()]) + digits + re.escape(name[match.end():]) + "$")
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    frames = []
    for entry in names:
        found = regex.match(entry)
        # Only names exactly as the pattern writes them: #### takes 1001 and 10000, not 01001.
        if found and os.path.basename(frame_path(pattern, int(found.group(1)))) == entry:
            frames.append(int(found.group(1)))
    return sorted(frames)


def find_rendered_sequence(folder: str, name: str, extension: str = ".exr") -> Optional[Tuple[str, int, int]]:
    """The image sequence Resolve rendered into ``folder`` under the custom name ``name`` (Resolve adds the
    frame number itself, with a separator of its choosing): (``####`` pattern, first, last), or None."""
    regex = re.compile("^" + re.escape(name) + r"([._]?)(\d+)" + re.escape(extension) + "$", re.IGNORECASE)
    found: Dict[Tuple[str, int], List[int]] = {}
    try:
        entries = os.listdir(folder)
    except OSError:
        return None
    for entry in entries:
        match = regex.match(entry)
        if match:
            found.setdefault((match.group(1), len(match.group(2))), []).append(int(match.group(2)))
    if not found:
        return None
    (sep, width), frames = max(found.items(), key=lambda kv: len(kv[1]))
    pattern = os.path.join(folder, name + sep + "#" * width + extension)
    return pattern, min(frames), max(frames)


def import_clip_info(pattern: str, first: int, last: int) -> Dict[str, object]:
    """MediaPool.ImportMedia's clipInfo for a sequence: {"FilePath": "...%04d.exr", "StartIndex", "EndIndex"}."""
    return {"FilePath": printf_path(pattern), "StartIndex": int(first), "EndIndex": int(last)}


def link_sequence(src_pattern: str, src_first: int, src_last: int, dst_pattern: str, dst_first: int,
                  count: int) -> List[str]:
    """Renumber frames without copying pixels: ``dst_first + k`` links to ``src_first + k`` (held on the last
    source frame past its end), as a tool reads every input at the plate's frame numbers. A symbolic link,
    else a hard link, else a copy; an existing file that is not already the same link is left alone.
    Returns the files made."""
    import shutil

    made = []
    folder = os.path.dirname(dst_pattern)
    if folder:
        os.makedirs(folder, exist_ok=True)
    for k in range(count):
        src = frame_path(src_pattern, min(src_first + k, src_last))
        dst = frame_path(dst_pattern, dst_first + k)
        if not os.path.isfile(src):
            continue  # the worker names the missing frame itself
        if os.path.lexists(dst):
            if os.path.realpath(dst) == os.path.realpath(src) or (os.path.isfile(dst) and os.path.samefile(dst, src)):
                continue
            raise OSError("{}: exists and is not a link to {}; remove it or choose another output folder".format(
                dst, src))
        tmp = dst + ".tmp-link"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        try:
            os.symlink(src, tmp)
        except (OSError, NotImplementedError, AttributeError):
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
        made.append(dst)
    return made
