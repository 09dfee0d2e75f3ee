"""Movie files (mp4, mov, mkv, ...) read frame by frame through PyAV; read-only."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from matchcut.errors import FrameReadError
from matchcut.frames.plates import Plate

#: The colour space assumed for decoded movie frames: display-referred, sRGB-encoded Rec.709.
MOVIE_COLORSPACE = "sRGB Encoded Rec.709 (sRGB)"
MOVIE_EXTENSIONS = (".mp4", ".mov", ".m4v", ".mkv", ".avi")

# Open containers kept for sequential reads; a few, because a job may read several movies at once.
_CACHE_SIZE = 4


@dataclass(frozen=True)
class MovieInfo:
    """A movie's first video stream: frame count, frame rate and size in pixels."""

    frame_count: int
    fps: Fraction
    width: int
    height: int


def _av():
    import av

    return av


def _count_frames(container, stream) -> int:
    """Frames in a stream whose header gives no count: count packets (demuxing only, no decoding)."""
    count = 0
    for packet in container.demux(stream):
        if packet.size:
            count += 1
    return count


def _open(path: str):
    if not os.path.isfile(path):
        raise FrameReadError(path, "no such file")
    av = _av()
    try:
        container = av.open(path, mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise FrameReadError(path, f"not a movie PyAV can open: {' '.join(str(exc).split())}") from None
    if not container.streams.video:
        container.close()
        raise FrameReadError(path, "no video stream")
    return container


def movie_info(path: str | os.PathLike) -> MovieInfo:
    """Frame count, frame rate and size of a movie's first video stream."""
    path = os.fspath(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not fps:
            raise FrameReadError(path, "video stream has no frame rate")
        count = stream.frames or _count_frames(container, stream)
        return MovieInfo(int(count), Fraction(fps), int(stream.codec_context.width), int(stream.codec_context.height))
    finally:
        container.close()


class _MovieReader:
    """One open movie decoded forwards; a read behind the current position restarts from the beginning."""

    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()
        self.closed = False
        self.container = None
        self._restart()
        self.mtime = os.path.getmtime(path)

    def _restart(self) -> None:
        # Reopening is simpler and surer than seeking: no decoder state from before survives.
        if self.container is not None:
            self.container.close()
        self.container = _open(self.path)
        stream = self.container.streams.video[0]
        stream.thread_type = "AUTO"
        self.frames = self.container.decode(stream)
        self.next_index = 0
        self.last: tuple[int, np.ndarray] | None = None

    def frame(self, index: int) -> np.ndarray:
        """Decoded frame ``index`` (0-based) as float32 (H, W, 3) RGB in [0, 1]."""
        if self.last is not None and self.last[0] == index:
            return self.last[1]
        if index < self.next_index:
            self._restart()
        av = _av()
        try:
            while self.next_index <= index:
                decoded = next(self.frames, None)
                if decoded is None:
                    raise FrameReadError(self.path, f"frame index {index}: past the end ({self.next_index} frames)")
                current = self.next_index
                self.next_index += 1
                if current == index:
                    rgb = _to_rgb(decoded)
                    self.last = (index, rgb)
                    return rgb
        except av.FFmpegError as exc:
            self._restart()
            raise FrameReadError(self.path, f"frame index {index}: {' '.join(str(exc).split())}") from None
        raise FrameReadError(self.path, f"frame index {index}: could not be decoded")

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.container.close()


def _to_rgb(frame) -> np.ndarray:
    # The frame's own matrix and range (limited or full) decide the YUV -> RGB conversion; unspecified
    # range is taken as limited, as for broadcast video.
    options = {"src_color_range": frame.color_range} if getattr(frame, "color_range", 0) else {}
    # Sources deeper than 8 bits are converted at 16 bits so no precision is lost.
    if any(component.bits > 8 for component in frame.format.components):
        return frame.to_ndarray(format="rgb48le", **options).astype(np.float32) / np.float32(65535.0)
    return frame.to_ndarray(format="rgb24", **options).astype(np.float32) / np.float32(255.0)


_readers: OrderedDict[str, _MovieReader] = OrderedDict()
_readers_lock = threading.Lock()


def _reader(path: str) -> _MovieReader:
    key = os.path.realpath(path)
    with _readers_lock:
        reader = _readers.get(key)
        if reader is not None:
            try:
                stale = os.path.getmtime(key) != reader.mtime
            except OSError:
                stale = True
            if not stale:
                _readers.move_to_end(key)
                return reader
            _readers.pop(key).close()
        reader = _MovieReader(path)
        _readers[key] = reader
        while len(_readers) > _CACHE_SIZE:
            _readers.popitem(last=False)[1].close()
        return reader


def close_movies() -> None:
    """Close every movie kept open for sequential reading."""
    with _readers_lock:
        while _readers:
            _readers.popitem()[1].close()


def read_movie_frame(path: str | os.PathLike, index: int) -> Plate:
    """Frame ``index`` (0-based) of a movie as a Plate: float32 (H, W, 3) R, G, B in [0, 1], sRGB-encoded.

    The container stays open between calls, so reading frames in order decodes each once; reading
    backwards restarts decoding from the start of the movie.
    """
    path = os.fspath(path)
    if index < 0:
        raise FrameReadError(path, f"frame index {index}: indices start at 0")
    while True:
        reader = _reader(path)
        with reader.lock:
            if reader.closed:  # evicted by another thread between lookup and lock; open it again
                continue
            rgb = reader.frame(int(index))
            break
    return Plate(
        pixels=rgb.copy(),
        channels=("R", "G", "B"),
        metadata={"matchcut/movie_index": int(index)},
        colorspace=MOVIE_COLORSPACE,
        source=path,
    )
