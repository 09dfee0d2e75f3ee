"""Movies through PyAV: tiny movies encoded in the test (see the ``movies`` fixture), read back frame by frame."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from matchcut.errors import FrameReadError
from matchcut.frames.movies import MOVIE_COLORSPACE, movie_info, read_movie_frame


@pytest.fixture
def movie(tmp_path, movies):
    return movies.encode(tmp_path / "tiny.mp4")


def check_frame(movies, plate, index: int) -> None:
    assert plate.pixels.shape == (movies.height, movies.width, 3)
    assert plate.pixels.dtype == np.float32
    assert plate.channels == ("R", "G", "B")
    assert plate.colorspace == MOVIE_COLORSPACE
    assert 0.0 <= plate.pixels.min() and plate.pixels.max() <= 1.0
    half = movies.width // 2
    right = plate.pixels[:, half + 4 :, :]
    assert abs(float(right.mean()) - movies.level(index) / 255) < 4 / 255, index
    assert abs(float(plate.pixels[:, : half - 4, 0].mean()) - 200 / 255) < 6 / 255


def test_movie_info(movie, movies):
    info = movie_info(movie)
    assert info.frame_count == movies.frames
    assert info.fps == Fraction(24)
    assert (info.width, info.height) == (movies.width, movies.height)


def test_read_in_order_and_out_of_order(movie, movies):
    for index in range(movies.frames):
        check_frame(movies, read_movie_frame(movie, index), index)
    for index in (7, 2, 2, 11, 0):  # backwards jumps restart decoding; repeats come from the cache
        check_frame(movies, read_movie_frame(movie, index), index)


def test_mpeg4_codec(tmp_path, movies):
    path = movies.encode(tmp_path / "mpeg4.mov", codec="mpeg4", frames=4)
    assert movie_info(path).frame_count == 4
    plate = read_movie_frame(path, 3)
    assert abs(float(plate.pixels[:, movies.width // 2 + 4 :].mean()) - movies.level(3) / 255) < 8 / 255


def test_movie_errors(movie, movies, tmp_path):
    with pytest.raises(FrameReadError, match=rf"{movie}: cannot read: frame index {movies.frames}: past the end"):
        read_movie_frame(movie, movies.frames)
    with pytest.raises(FrameReadError, match="indices start at 0"):
        read_movie_frame(movie, -1)
    with pytest.raises(FrameReadError, match="no such file"):
        movie_info(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a movie" * 10)
    with pytest.raises(FrameReadError, match=str(junk)):
        read_movie_frame(junk, 0)
    check_frame(movies, read_movie_frame(movie, 5), 5)  # still readable after errors
