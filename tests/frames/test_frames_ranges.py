"""Frame range strings: parsing, formatting, round trips and errors."""

from __future__ import annotations

import random

import pytest

from matchcut.errors import FrameRangeError
from matchcut.frames.ranges import format_frames, parse_frames


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1001", [1001]),
        ("1001-1005", list(range(1001, 1006))),
        ("1001-1010x3", [1001, 1004, 1007, 1010]),
        ("1001-1011x3", [1001, 1004, 1007, 1010]),
        ("1001,1005-1007", [1001, 1005, 1006, 1007]),
        ("-5--1", [-5, -4, -3, -2, -1]),
        ("-2-2", [-2, -1, 0, 1, 2]),
        (" 1003 , 1001 - 1002 ,1002 ", [1001, 1002, 1003]),
        ("10-12 x 2", [10, 12]),
    ],
)
def test_parse_frames(text, expected):
    assert parse_frames(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "abc", "1001-", "1001--", "1010-1001", "1-10x0", "1,,2", "1001 1005", "1x2", "1.5"])
def test_parse_frames_rejects(text):
    with pytest.raises(FrameRangeError) as info:
        parse_frames(text)
    message = str(info.value)
    assert repr(text) in message or "step" in message


def test_parse_frames_message_lists_forms():
    with pytest.raises(FrameRangeError, match="expected forms: '1001', '1001-1100', '1001-1100x2'"):
        parse_frames("1001:1100")


def test_parse_frames_refuses_huge_ranges():
    with pytest.raises(FrameRangeError, match="more than"):
        parse_frames("1-999999999")


def test_format_frames_compacts():
    frames = list(range(1001, 1011)) + [1012] + list(range(1020, 1031, 2))
    assert format_frames(frames) == "1001-1010, 1012, 1020-1030x2"
    assert format_frames([5, 3, 3, 4]) == "3-5"
    assert format_frames([1, 3]) == "1, 3"
    assert format_frames([-3, -2, -1]) == "-3--1"
    assert format_frames([]) == ""


def test_format_parse_round_trip_random():
    rng = random.Random(7)
    for _ in range(200):
        frames = sorted({rng.randint(-20, 60) for _ in range(rng.randint(1, 30))})
        text = format_frames(frames)
        assert parse_frames(text) == frames, text
