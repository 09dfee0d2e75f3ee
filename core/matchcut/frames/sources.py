"""open_source(spec) -> FrameSource: one interface over image sequences, single stills and movies."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable

from matchcut.errors import FrameReadError, MissingFramesError
from matchcut.frames.movies import MOVIE_EXTENSIONS, movie_info, read_movie_frame
from matchcut.frames.patterns import SequencePattern, parse_pattern
from matchcut.frames.plates import Plate, read_plate


class FrameSource(ABC):
    """Frames by number from one input: ``spec`` as given, ``frames`` available (sorted), ``read(frame)``."""

    spec: str
    frames: list[int]

    @abstractmethod
    def read(self, frame: int, nonfinite: str = "error") -> Plate:
        """Frame ``frame`` as a Plate (see read_plate for ``nonfinite``)."""

    @abstractmethod
    def path_for(self, frame: int) -> str:
        """Where ``frame`` comes from, for provenance: a file path, or ``movie.mp4#index`` for a movie."""

    def find_missing(self, frames: Iterable[int]) -> list[int]:
        """Those of ``frames`` this source cannot supply, sorted and unique."""
        have = set(self.frames)
        return sorted({int(f) for f in frames} - have)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, {len(self.frames)} frame(s))"


class SequenceSource(FrameSource):
    """An image sequence (``plate.####.exr``); ``frames`` are those on disk when it was opened."""

    def __init__(self, spec: str, pattern: SequencePattern):
        self.spec = spec
        self.pattern = pattern
        self.frames = pattern.frames_on_disk()

    def path_for(self, frame: int) -> str:
        return str(self.pattern.path_for(frame))

    def read(self, frame: int, nonfinite: str = "error") -> Plate:
        path = self.pattern.path_for(frame)
        if not path.is_file():
            raise MissingFramesError(self.spec, [int(frame)])
        return read_plate(path, nonfinite=nonfinite, frame=int(frame))

    def find_missing(self, frames: Iterable[int]) -> list[int]:
        # Look again: frames may have been rendered since the source was opened.
        self.frames = self.pattern.frames_on_disk()
        return super().find_missing(frames)


class StillSource(FrameSource):
    """One image. ``frames`` is ``[first_frame]``, but ``read`` answers any frame with the same image,
    so a reference still can stand beside every frame of a shot; ``find_missing`` reports nothing."""

    def __init__(self, spec: str, first_frame: int):
        self.spec = spec
        self.frames = [int(first_frame)]

    def path_for(self, frame: int) -> str:
        return self.spec

    def read(self, frame: int, nonfinite: str = "error") -> Plate:
        return read_plate(self.spec, nonfinite=nonfinite, frame=int(frame))

    def find_missing(self, frames: Iterable[int]) -> list[int]:
        return []


class MovieSource(FrameSource):
    """A movie; frame ``first_frame + i`` is the movie's frame index ``i``."""

    def __init__(self, spec: str, first_frame: int):
        self.spec = spec
        self.first_frame = int(first_frame)
        self.info = movie_info(spec)
        self.frames = list(range(self.first_frame, self.first_frame + self.info.frame_count))

    def index_of(self, frame: int) -> int:
        """The movie's 0-based frame index for a frame number; MissingFramesError outside the movie."""
        index = int(frame) - self.first_frame
        if not 0 <= index < self.info.frame_count:
            raise MissingFramesError(self.spec, [int(frame)])
        return index

    def path_for(self, frame: int) -> str:
        return f"{self.spec}#{self.index_of(frame)}"

    def read(self, frame: int, nonfinite: str = "error") -> Plate:
        # Decoded 8/16-bit video is always finite, so ``nonfinite`` has nothing to do here.
        return read_movie_frame(self.spec, self.index_of(frame))


def open_source(spec: str | os.PathLike, *, first_frame: int = 1) -> FrameSource:
    """Open a sequence pattern, a single still or a movie as a FrameSource.

    Movies (.mp4 .mov .m4v .mkv .avi) number their frames from ``first_frame``; a still has the one
    frame ``first_frame`` but reads for any frame; a sequence has the frames on disk (possibly none:
    find_missing then reports every wanted frame). Raises SequencePatternError for a bad pattern and
    FrameReadError for a still or movie that does not exist.
    """
    spec = os.fspath(spec)
    if os.path.splitext(spec)[1].lower() in MOVIE_EXTENSIONS:
        return MovieSource(spec, first_frame)
    pattern = parse_pattern(spec)
    if pattern.is_sequence:
        return SequenceSource(spec, pattern)
    if not os.path.isfile(spec):
        raise FrameReadError(spec, "no such file" if not os.path.exists(spec) else "not a file")
    return StillSource(spec, first_frame)
