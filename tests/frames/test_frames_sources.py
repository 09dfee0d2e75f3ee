"""open_source over sequences, stills and movies; the light import of matchcut.frames."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from matchcut.errors import FrameReadError, MissingFramesError, PixelValueError, SequencePatternError
from matchcut.frames import FrameSource, open_source, write_plate


def test_sequence_source(tmp_path):
    for frame in (1001, 1002, 1004):
        write_plate(tmp_path / f"sh.{frame:04d}.exr", np.full((2, 3, 3), frame, np.float32), dtype="float")
    source = open_source(str(tmp_path / "sh.####.exr"))
    assert isinstance(source, FrameSource)
    assert source.frames == [1001, 1002, 1004]
    assert source.find_missing(range(1001, 1006)) == [1003, 1005]
    assert source.path_for(1002) == str(tmp_path / "sh.1002.exr")
    plate = source.read(1004)
    assert plate.source == str(tmp_path / "sh.1004.exr")
    np.testing.assert_array_equal(plate.pixels, 1004)
    with pytest.raises(MissingFramesError, match=r"sh\.####\.exr: missing frame\(s\) 1003"):
        source.read(1003)
    write_plate(tmp_path / "sh.1003.exr", np.zeros((2, 3, 3), np.float32))
    assert source.find_missing(range(1001, 1005)) == []  # rendered since it was opened


def test_sequence_source_reads_nonfinite_policy(tmp_path):
    pixels = np.ones((2, 2, 3), np.float32)
    pixels[0, 0, 0] = np.nan
    write_plate(tmp_path / "n.0001.exr", pixels, dtype="float")
    source = open_source(str(tmp_path / "n.%04d.exr"))
    with pytest.raises(PixelValueError, match="frame 1: 1 pixel"):
        source.read(1)
    assert source.read(1, nonfinite="fix").metadata["matchcut/nonfinite"] == 1


def test_still_source_answers_any_frame(tmp_path):
    path = write_plate(tmp_path / "ref.png", np.full((4, 4, 3), 0.5, np.float32), dtype="uint8")
    source = open_source(str(path), first_frame=1001)
    assert source.frames == [1001]
    assert source.find_missing(range(1001, 1010)) == []
    assert source.path_for(1050) == str(path)
    np.testing.assert_allclose(source.read(1050).pixels, 128 / 255, atol=1e-6)
    with pytest.raises(FrameReadError, match="no such file"):
        open_source(str(tmp_path / "nope.exr"))


def test_movie_source(tmp_path, movies):
    path = movies.encode(tmp_path / "clip.mkv", codec="mpeg4")  # Matroska stores no frame count
    source = open_source(str(path), first_frame=1001)
    assert source.frames == list(range(1001, 1001 + movies.frames))
    assert source.find_missing([1000, 1001, 1001 + movies.frames]) == [1000, 1001 + movies.frames]
    assert source.path_for(1003) == f"{path}#2"
    plate = source.read(1003)
    assert abs(float(plate.pixels[:, -20:].mean()) - movies.level(2) / 255) < 8 / 255
    with pytest.raises(MissingFramesError, match="1000"):
        source.read(1000)


def test_bad_specs(tmp_path):
    with pytest.raises(SequencePatternError):
        open_source(str(tmp_path / "a.##.%04d.exr"))
    with pytest.raises(FrameReadError, match="no such file"):
        open_source(str(tmp_path / "missing.mov"))
    empty = open_source(str(tmp_path / "none.####.exr"))
    assert empty.frames == [] and empty.find_missing([1, 2]) == [1, 2]


def test_import_is_light():
    code = (
        "import sys, matchcut.frames\n"
        "heavy = [m for m in ('OpenImageIO', 'av', 'cv2', 'torch', 'onnxruntime', 'PyOpenColorIO') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
