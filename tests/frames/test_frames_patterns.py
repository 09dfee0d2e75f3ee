"""Sequence patterns: every token style, padding rules, negative frames, frames on disk, missing frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from matchcut.errors import SequencePatternError
from matchcut.frames.patterns import detect_sequence, parse_pattern


def touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_bytes(b"")


@pytest.mark.parametrize(
    "token, padding, name_1001, name_7",
    [
        ("####", 4, "plate.1001.exr", "plate.0007.exr"),
        ("#", 1, "plate.1001.exr", "plate.7.exr"),
        ("######", 6, "plate.001001.exr", "plate.000007.exr"),
        ("%04d", 4, "plate.1001.exr", "plate.0007.exr"),
        ("%d", 1, "plate.1001.exr", "plate.7.exr"),
        ("@@@@", 4, "plate.1001.exr", "plate.0007.exr"),
        ("@@", 2, "plate.1001.exr", "plate.07.exr"),
        ("$F4", 4, "plate.1001.exr", "plate.0007.exr"),
        ("$F", 1, "plate.1001.exr", "plate.7.exr"),
    ],
)
def test_token_styles(tmp_path, token, padding, name_1001, name_7):
    pattern = parse_pattern(tmp_path / f"plate.{token}.exr")
    assert pattern.is_sequence
    assert pattern.padding == padding
    assert pattern.pattern == str(tmp_path / f"plate.{token}.exr")
    assert pattern.path_for(1001) == tmp_path / name_1001
    assert pattern.path_for(7) == tmp_path / name_7


def test_single_file_is_not_a_sequence(tmp_path):
    pattern = parse_pattern(tmp_path / "still.exr")
    assert not pattern.is_sequence
    assert pattern.padding == 0
    assert pattern.path_for(1) == pattern.path_for(1001) == tmp_path / "still.exr"
    assert pattern.find_missing([1, 2]) == [1, 2]
    touch(tmp_path, "still.exr")
    assert pattern.find_missing([1, 2]) == []


def test_frames_on_disk_respects_padding(tmp_path):
    touch(
        tmp_path,
        "plate.1001.exr", "plate.1002.exr", "plate.0999.exr", "plate.10000.exr",
        "plate.01003.exr",   # five digits with a leading zero: not what #### writes
        "plate.999.exr",     # three digits: #### writes 0999
        "plate.1004.exr.tmp", "other.1005.exr", "plate.1006.jpg",
    )
    (tmp_path / "plate.1007.exr").mkdir()  # a folder is not a frame
    pattern = parse_pattern(tmp_path / "plate.####.exr")
    assert pattern.frames_on_disk() == [999, 1001, 1002, 10000]
    assert parse_pattern(tmp_path / "plate.%d.exr").frames_on_disk() == [999, 1001, 1002, 10000]
    assert parse_pattern(tmp_path / "plate.#####.exr").frames_on_disk() == [1003, 10000]


def test_negative_frames(tmp_path):
    pattern = parse_pattern(tmp_path / "neg.####.exr")
    for frame in (-5, -1, 0, 1):
        pattern.path_for(frame).write_bytes(b"")
    # printf semantics: the sign counts towards the width.
    assert pattern.path_for(-5).name == "neg.-005.exr"
    assert pattern.frames_on_disk() == [-5, -1, 0, 1]
    assert pattern.find_missing(range(-6, 3)) == [-6, -4, -3, -2, 2]


def test_find_missing_and_absent_folder(tmp_path):
    pattern = parse_pattern(tmp_path / "shot" / "plate.####.exr")
    assert pattern.frames_on_disk() == []
    (tmp_path / "shot").mkdir()
    touch(tmp_path / "shot", "plate.1001.exr", "plate.1003.exr")
    assert pattern.find_missing([1003, 1001, 1002, 1004, 1002]) == [1002, 1004]


def test_relative_pattern(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    touch(tmp_path, "r.0001.png", "r.0002.png")
    pattern = parse_pattern("r.####.png")
    assert pattern.frames_on_disk() == [1, 2]
    assert pattern.path_for(3) == Path("r.0003.png")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("plate.####.%04d.exr", "2 frame tokens"),
        ("plate.##@@.exr", "2 frame tokens"),
        ("plate.%4d.exr", "malformed"),
        ("plate.%s.exr", "malformed"),
        ("shot_####/plate.exr", "must be in the file name"),
    ],
)
def test_bad_patterns(text, fragment):
    with pytest.raises(SequencePatternError) as info:
        parse_pattern(text)
    assert fragment in str(info.value)
    assert text in str(info.value)


def test_bad_pattern_lists_forms():
    with pytest.raises(SequencePatternError, match="'%04d' or '%d'.*'\\$F4' or '\\$F'"):
        parse_pattern("a.%x.exr")


def test_detect_sequence(tmp_path):
    touch(tmp_path, "plate.1001.exr", "plate.1002.exr", "plate.1003.exr", "lone.0042.exr")
    found = detect_sequence(tmp_path / "plate.1002.exr")
    assert found is not None
    assert found.pattern == str(tmp_path / "plate.####.exr")
    assert found.frames_on_disk() == [1001, 1002, 1003]
    assert detect_sequence(tmp_path / "lone.0042.exr") is None
    assert detect_sequence(tmp_path / "plate.exr") is None


def test_detect_sequence_padding(tmp_path):
    touch(tmp_path, "a.0098.exr", "a.0099.exr", "a.0100.exr", "b.98.exr", "b.99.exr", "b.100.exr")
    assert detect_sequence(tmp_path / "a.0100.exr").padding == 4
    unpadded = detect_sequence(tmp_path / "b.100.exr")
    assert unpadded.padding == 2
    assert unpadded.frames_on_disk() == [98, 99, 100]
