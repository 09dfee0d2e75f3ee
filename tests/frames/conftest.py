"""Fixtures for tests/frames: tiny movies encoded with PyAV."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

FRAMES = 12
WIDTH, HEIGHT = 64, 48


def level(index: int) -> int:
    """The grey level (0-255) of the right half of frame ``index``: distinct per frame, inside video range."""
    return 20 + 18 * index


def encode_movie(path, codec: str = "libx264", frames: int = FRAMES):
    """Encode a tiny movie: frame i has a red left half and a grey right half of level(i)."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "0", "preset": "ultrafast"}
        for index in range(frames):
            rgb = np.full((HEIGHT, WIDTH, 3), level(index), np.uint8)
            rgb[:, : WIDTH // 2, 0] = 200
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def movies():
    """Helpers to make test movies; closes Matchcut's cached movie readers afterwards."""
    from matchcut.frames.movies import close_movies

    yield SimpleNamespace(encode=encode_movie, level=level, frames=FRAMES, width=WIDTH, height=HEIGHT)
    close_movies()
