"""Sequence patterns (plate.####.exr, %04d, @@@@, $F4) and single files: paths per frame, frames on disk."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from matchcut.errors import SequencePatternError

_FORMS = (
    "accepted frame tokens: '####' or '#' (one digit each, Nuke), '%04d' or '%d', "
    "'@@@@' (one digit each), '$F4' or '$F' (Houdini); a path without a token is a single file"
)

# One regex finds every candidate token so that two tokens, or a malformed one, can be reported.
_TOKEN = re.compile(r"#+|@+|%0\d+d|%d|\$F\d*|%[^%]*?[a-zA-Z%]|%")


def _format_number(frame: int, padding: int) -> str:
    # printf semantics, as Nuke and Houdini use: the sign counts towards the width (-5 with 4 -> "-005").
    return f"{frame:0{padding}d}"


@dataclass(frozen=True)
class SequencePattern:
    """A path with at most one frame token, parsed by parse_pattern.

    ``pattern`` is the text as given; ``padding`` the minimum digits of a frame number (0 for a single
    file). A frame number on disk belongs to the pattern only when it is exactly how ``path_for`` would
    write it: ``####`` matches ``1001`` and ``10000`` but not ``01001``; ``%d`` matches ``7`` not ``007``.
    """

    pattern: str
    padding: int = 0
    _head: str = field(default="", repr=False)
    _tail: str = field(default="", repr=False)

    @property
    def is_sequence(self) -> bool:
        return self.padding > 0

    @property
    def folder(self) -> Path:
        """The folder the files live in."""
        return Path(os.path.dirname(self.pattern) or ".")

    def path_for(self, frame: int) -> Path:
        """The file of ``frame``; a single file's path whatever the frame."""
        if not self.is_sequence:
            return Path(self.pattern)
        return Path(self._head + _format_number(int(frame), self.padding) + self._tail)

    def frames_on_disk(self) -> list[int]:
        """Frames whose files exist, sorted; one scan of the folder. A single file gives ``[]``."""
        if not self.is_sequence:
            return []
        folder = self.folder
        name_head = os.path.basename(self._head)
        regex = re.compile(re.escape(name_head) + r"(-?\d+)" + re.escape(self._tail) + r"\Z")
        frames = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    match = regex.match(entry.name)
                    if not match:
                        continue
                    number = int(match.group(1))
                    if _format_number(number, self.padding) == match.group(1) and entry.is_file():
                        frames.append(number)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(frames)

    def find_missing(self, frames: Iterable[int]) -> list[int]:
        """Those of ``frames`` with no file on disk, sorted and unique."""
        wanted = sorted({int(f) for f in frames})
        if not self.is_sequence:
            return [] if Path(self.pattern).is_file() else wanted
        present = set(self.frames_on_disk())
        return [f for f in wanted if f not in present]

    def __str__(self) -> str:
        return self.pattern


def parse_pattern(text: str | os.PathLike) -> SequencePattern:
    """Parse a sequence pattern or a single file path.

    Tokens (in the file name only): ``####``/``#`` (one digit each), ``%04d``/``%d``, ``@@@@`` (one digit
    each), ``$F4``/``$F``. No token means a single file. Raises SequencePatternError for two tokens, a
    token in a folder name, or a malformed token such as ``%4d``.
    """
    pattern = os.fspath(text)
    if not isinstance(pattern, str) or not pattern:
        raise SequencePatternError(f"empty sequence pattern; {_FORMS}")
    tokens = list(_TOKEN.finditer(pattern))
    if not tokens:
        return SequencePattern(pattern)
    if len(tokens) > 1:
        found = ", ".join(repr(t.group(0)) for t in tokens)
        raise SequencePatternError(f"pattern {pattern!r} has {len(tokens)} frame tokens ({found}); use one. {_FORMS}")
    token = tokens[0]
    text_token = token.group(0)
    if token.start() < len(os.path.dirname(pattern)):
        raise SequencePatternError(f"pattern {pattern!r}: frame token {text_token!r} must be in the file name, not a folder")
    if text_token[0] in "#@":
        padding = len(text_token)
    elif text_token == "%d" or text_token == "$F":
        padding = 1
    elif text_token.startswith("%0") and text_token.endswith("d"):
        padding = int(text_token[2:-1])
    elif text_token.startswith("$F"):
        padding = int(text_token[2:])
    else:
        raise SequencePatternError(f"pattern {pattern!r}: malformed frame token {text_token!r}; {_FORMS}")
    if padding < 1 or padding > 32:
        raise SequencePatternError(f"pattern {pattern!r}: padding of {text_token!r} must be 1 to 32 digits")
    return SequencePattern(pattern, padding, pattern[: token.start()], pattern[token.end():])


_DIGITS = re.compile(r"(\d+)(?!.*\d)")


def detect_sequence(path: str | os.PathLike) -> SequencePattern | None:
    """The ``####``-style pattern of the sequence a real file such as ``plate.1001.exr`` belongs to.

    Looks at the last number in the file name and at siblings that differ only there. Returns None when
    the name has no number or no sibling shares the pattern.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    match = _DIGITS.search(name)
    if not match:
        return None
    head, tail = name[: match.start()], name[match.end():]
    sibling = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + r"\Z")
    try:
        numbers = [m.group(1) for m in map(sibling.match, os.listdir(folder or ".")) if m]
    except OSError:
        return None
    if not numbers:
        return None
    # Zero-padded numbers fix the padding; otherwise the shortest number bounds it.
    padded = [n for n in numbers if len(n) > 1 and n.startswith("0")]
    padding = len(padded[0]) if padded else min(len(n) for n in numbers)
    candidate = SequencePattern(
        os.path.join(folder, head + "#" * padding + tail),
        padding,
        os.path.join(folder, head),
        tail,
    )
    frames = candidate.frames_on_disk()
    if len(frames) < 2 or int(match.group(1)) not in frames:
        return None
    return candidate
