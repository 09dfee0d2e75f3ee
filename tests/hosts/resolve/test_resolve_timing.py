"""Frame-range arithmetic of the Resolve adapter: trims, source offsets, speed changes, mixed rates, handles.

Every row is a worked example written out: what Resolve reports for the item, and the file frames Matchcut
must read. Units (hosts/resolve/matchcut_resolve/timing.py): record frames are absolute timeline frames;
GetSourceStartFrame is 0-based in the media's own rate (the highest frame of a reversed item);
GetSourceEndFrame is exclusive at matching rates and one less at mixed rates; offsets are in timeline frames;
handles are asked in timeline frames and become source frames at the item's rate and speed.
"""
from __future__ import annotations

import pathlib
import sys
from fractions import Fraction

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "hosts" / "resolve"))

from matchcut_resolve.timing import ItemTiming, parse_fps, source_range  # noqa: E402

# name, ItemTiming arguments, handles, expected (file_first, file_last, first_used, last_used, speed, take range)
CASES = [
    # 1. A plain trim. plate.[1001-1100].exr at 24 fps on a 24 fps timeline starting at 86400. The item sits
    #    at record 86410 for 48 frames and starts 10 frames into the media (GetSourceStartFrame 10,
    #    GetSourceEndFrame 58 exclusive, left offset 10, right offset 100-58 = 42). Source frames 10..57 are
    #    files 1001+10 = 1011 .. 1001+57 = 1058.
    ("trim", dict(record_start=86410, duration=48, timeline_fps="24", clip_fps="24.000", clip_frames=100,
                  first_file_frame=1001, source_start=10, source_end=58, left_offset=10, right_offset=42,
                  timeline_start=86400),
     0, (1011, 1058, 10, 57, 1.0, (0, 48))),
    # 2. The same with 8 frames of handles: 1011-8 = 1003 .. 1058+8 = 1066. The used frames start 8 frames
    #    into the result, so the take is result frames 8 .. 8+48 (exclusive).
    ("trim + handles", dict(record_start=86410, duration=48, timeline_fps="24", clip_fps="24", clip_frames=100,
                            first_file_frame=1001, source_start=10, source_end=58, left_offset=10, right_offset=42),
     8, (1003, 1066, 10, 57, 1.0, (8, 56))),
    # 3. Handles clamped at the head: the item starts 3 frames into the media, so only 3 of 8 handle frames
    #    exist before it: 1001 .. 1001+3+20-1+8 = 1031; the take starts at result frame 3.
    ("handles clamped", dict(record_start=1000, duration=20, timeline_fps="25", clip_fps="25", clip_frames=100,
                             first_file_frame=1001, source_start=3, source_end=23, left_offset=3, right_offset=77),
     8, (1001, 1031, 3, 22, 1.0, (3, 23))),
    # 4. Mixed rates: a 50p movie on a 25p timeline at 100 % speed. One timeline frame shows two source
    #    frames. 25 timeline frames (one second) from GetSourceStartFrame 100 (in 50p frames) use source
    #    frames 100..149, movie frames 101..150 (Matchcut numbers movie frames from 1). Handles of 4 timeline
    #    frames are 8 source frames: 92..157, files 93-158.
    ("50p in 25p", dict(record_start=90100, duration=25, timeline_fps="25", clip_fps="50", clip_frames=500,
                        first_file_frame=1, source_start=100, source_end=150, left_offset=50, right_offset=175,
                        timeline_start=90000),
     4, (93, 158, 100, 149, 1.0, (8, 58))),
    # 5. The pitfall from hosts.md 2.5: an older Resolve without GetSourceStartFrame. The left offset (50) is
    #    in timeline frames, so the source start is 2 x 50 = 100, not 50. The speed comes from the offsets:
    #    50 + 25 + 175 = 250 timeline frames cover the media's 500 frames, 2 source frames per timeline frame.
    ("offsets only, 50p in 25p", dict(record_start=90100, duration=25, timeline_fps="25", clip_fps="50",
                                      clip_frames=500, first_file_frame=1, left_offset=50, right_offset=175),
     0, (101, 150, 100, 149, 1.0, (0, 50))),
    # 6. A 50 % speed change (slow motion) at 24 fps: 96 timeline frames show 2 seconds of media, 48 source
    #    frames (GetSourceEndTime - GetSourceStartTime = 2.0 s), from source frame 200: 200..247. Handles of
    #    8 timeline frames at half speed are 4 source frames: 196..251.
    ("50 % speed", dict(record_start=0, duration=96, timeline_fps="24", clip_fps="24", clip_frames=1000,
                        first_file_frame=1001, source_start=200, source_span_seconds=2.0),
     8, (1197, 1252, 200, 247, 0.5, (4, 52))),
    # 7. 200 % speed from the media's first frame: 50 timeline frames use 100 source frames (0..99). Handles
    #    of 5 timeline frames are 10 source frames; none exist before frame 0, so 0..109.
    ("200 % speed", dict(record_start=0, duration=50, timeline_fps="24", clip_fps="24", clip_frames=1000,
                         first_file_frame=1, source_start=0, source_span_seconds=100 / 24),
     5, (1, 110, 0, 99, 2.0, (0, 100))),
    # 8. NTSC against integer rates: a 23.976 fps clip on a 24 fps timeline. 24000/1001 / 24 = 1000/1001
    #    source frames per timeline frame, so 1001 timeline frames use exactly 1000 source frames.
    ("23.976 in 24", dict(record_start=86400, duration=1001, timeline_fps="24", clip_fps="23.976",
                          clip_frames=5000, first_file_frame=1001, source_start=0, source_end=1000),
     0, (1001, 2000, 0, 999, 1.0, (0, 1000))),
    # 9. A 25 fps clip on a 24 fps timeline: 24 timeline frames (one second) use 25 source frames, 40..64.
    ("25 in 24", dict(record_start=0, duration=24, timeline_fps="24", clip_fps="25", clip_frames=200,
                      first_file_frame=1001, source_start=40, source_end=65),
     0, (1041, 1065, 40, 64, 1.0, (0, 25))),
    # 10. GetSourceStartFrame one frame out (a public note on 21.1): it says 11, the left offset says 10 at
    #     one source frame per timeline frame. The whole-frame offset wins: 10..29, files 1011-1030.
    ("source start off by one", dict(record_start=0, duration=20, timeline_fps="24", clip_fps="24",
                                     clip_frames=100, first_file_frame=1001, source_start=11, source_end=31,
                                     left_offset=10, right_offset=70),
     0, (1011, 1030, 10, 29, 1.0, (0, 20))),
    # 11. GetSourceEndFrame read timecode-absolute (media with a start timecode; public measurement on 19.1
    #     and 21.0): 468800 for a 10650-frame clip. It is ignored; the offsets give the span: 300 + 48 +
    #     10302 = 10650 timeline frames for 10650 source frames, 100 %: 300..347.
    ("timecode-absolute end", dict(record_start=0, duration=48, timeline_fps="29.97", clip_fps="29.97",
                                   clip_frames=10650, first_file_frame=1, source_start=300, source_end=468800,
                                   left_offset=300, right_offset=10302),
     0, (301, 348, 300, 347, 1.0, (0, 48))),
    # 12. A 29.97 clip on a 23.976 timeline: 1.25 source frames per timeline frame; 96 timeline frames use
    #     120 source frames from 1000: 1000..1119. Handles of 2 timeline frames: ceil(2.5) = 3 source frames.
    ("29.97 in 23.976", dict(record_start=86400, duration=96, timeline_fps="23.976", clip_fps="29.97 DF",
                             clip_frames=5000, first_file_frame=0, source_start=1000, source_end=1120),
     2, (997, 1122, 1000, 1119, 1.0, (3, 123))),
    # 13. Reversed at 100 %: the seconds span is negative (-50 frames); the item starts on its highest frame,
    #     source 99, and walks down to 50. Matchcut processes 50..99 forwards.
    ("reversed", dict(record_start=0, duration=50, timeline_fps="24", clip_fps="24", clip_frames=200,
                      first_file_frame=1001, source_start=99, source_span_seconds=-50 / 24),
     0, (1051, 1100, 50, 99, -1.0, (0, 50))),
    # 14. Reversed as Resolve reads it back (an EDL with M2 -24.0 on 24 fps: GetSourceStartFrame 48,
    #     GetSourceEndFrame 0): the first frame shown is source 48, the exclusive end 0 lies below the lowest,
    #     so 48 record frames show sources 48 down to 1: files 1002..1049 processed forwards.
    ("reversed as read back", dict(record_start=86400, duration=48, timeline_fps="24", clip_fps="24",
                                   clip_frames=200, first_file_frame=1001, source_start=48, source_end=0,
                                   source_span_seconds=-2.0, timeline_start=86400),
     0, (1002, 1049, 1, 48, -1.0, (0, 48))),
    # 15. The same when the seconds come in forward order: the frames (start above end) decide the direction.
    ("reversed, seconds forward", dict(record_start=86400, duration=48, timeline_fps="24", clip_fps="24",
                                       clip_frames=200, first_file_frame=1001, source_start=48, source_end=0,
                                       source_span_seconds=2.0, timeline_start=86400),
     0, (1002, 1049, 1, 48, -1.0, (0, 48))),
    # 16. Mixed rates without the seconds: GetSourceEndFrame reads one less (inclusive) when the media's rate
    #     differs from the timeline's (50p on 25p: 100..149 for 25 record frames, 50 source frames). The span
    #     49 is within a frame of 25 x 2, so it snaps to 50: sources 100..149, movie frames 101..150.
    ("mixed rates, inclusive end", dict(record_start=90100, duration=25, timeline_fps="25", clip_fps="50",
                                        clip_frames=500, first_file_frame=1, source_start=100, source_end=149),
     0, (101, 150, 100, 149, 1.0, (0, 50))),
]


@pytest.mark.parametrize("name,args,handles,expected", CASES, ids=[c[0] for c in CASES])
def test_source_range_worked_examples(name, args, handles, expected):
    r = source_range(ItemTiming(**args), handles)
    file_first, file_last, first_used, last_used, speed, take = expected
    assert (r.file_first, r.file_last) == (file_first, file_last)
    assert (r.first_used, r.last_used) == (first_used, last_used)
    assert r.speed == pytest.approx(speed)
    assert r.take_range() == take
    assert r.frames_text() == "{}-{}".format(file_first, file_last)


# name, ItemTiming arguments, (record frame -> file frame shown), (file frame -> first record frame, marker)
MAPPINGS = [
    # 50p on 25p (example 4): record 90110 is 10 timeline frames in, 20 source frames in: 100+20 = 120, movie
    # frame 121. Back: file 121 first shows at 90110; the timeline starts at 90000, so the marker is at 110.
    ("50p in 25p", dict(record_start=90100, duration=25, timeline_fps="25", clip_fps="50", clip_frames=500,
                        first_file_frame=1, source_start=100, source_end=150, timeline_start=90000),
     (90110, 121), (121, 90110, 110)),
    # 50 % speed (example 6): record 3 shows source 200 + floor(3 x 0.5) = 201, file 1202; file 1202 (source
    # 201) first shows at record 2 (2 x 0.5 = 1 source frame in).
    ("50 % speed", dict(record_start=0, duration=96, timeline_fps="24", clip_fps="24", clip_frames=1000,
                        first_file_frame=1001, source_start=200, source_span_seconds=2.0),
     (3, 1202), (1202, 2, 2)),
    # A plain trim (example 1): record 86420 is 10 frames in: source 20, file 1021; marker 86420-86400 = 20.
    ("trim", dict(record_start=86410, duration=48, timeline_fps="24", clip_fps="24", clip_frames=100,
                  first_file_frame=1001, source_start=10, source_end=58, timeline_start=86400),
     (86420, 1021), (1021, 86420, 20)),
    # A frame outside the used range (a handle frame) maps to the item's nearest end: file 1003 -> 86410.
    ("handle frame", dict(record_start=86410, duration=48, timeline_fps="24", clip_fps="24", clip_frames=100,
                          first_file_frame=1001, source_start=10, source_end=58, timeline_start=86400),
     (86300, 1011), (1003, 86410, 10)),
]


@pytest.mark.parametrize("name,args,forward,backward", MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_record_and_file_frame_mapping(name, args, forward, backward):
    r = source_range(ItemTiming(**args))
    assert r.file_frame_at(forward[0]) == forward[1]
    assert r.record_frame_of(backward[0]) == backward[1]
    assert r.marker_frame_of(backward[0]) == backward[2]


@pytest.mark.parametrize("text,exact", [("24", Fraction(24)), ("23.976", Fraction(24000, 1001)),
                                        ("29.97 DF", Fraction(30000, 1001)), ("59.940", Fraction(60000, 1001)),
                                        (25.0, Fraction(25)), ("47.952", Fraction(48000, 1001)),
                                        ("12.5", Fraction(25, 2))])
def test_parse_fps_reads_resolve_text_exactly(text, exact):
    assert parse_fps(text) == exact


def test_bad_rates_durations_and_handles_are_refused():
    with pytest.raises(ValueError, match="frame rate"):
        parse_fps("")
    with pytest.raises(ValueError, match="frame rate"):
        parse_fps("0")
    with pytest.raises(ValueError, match="duration"):
        ItemTiming(record_start=0, duration=0, timeline_fps=24, clip_fps=24)
    with pytest.raises(ValueError, match="handles"):
        source_range(ItemTiming(record_start=0, duration=5, timeline_fps=24, clip_fps=24), -1)


def test_warnings_say_what_was_assumed():
    bare = source_range(ItemTiming(record_start=0, duration=10, timeline_fps=24, clip_fps=24))
    assert any("speed could not be read" in w for w in bare.warnings)
    assert any("first frame" in w for w in bare.warnings)
    clamped = source_range(ItemTiming(**CASES[2][1]), 8)
    assert any("handles clamped" in w for w in clamped.warnings)
    assert not source_range(ItemTiming(**CASES[0][1])).warnings


def test_timing_round_trips_through_plain_data():
    timing = ItemTiming(**CASES[11][1])
    again = ItemTiming.from_dict(timing.to_dict())
    assert again.clip_fps == Fraction(30000, 1001) and again.timeline_fps == Fraction(24000, 1001)
    assert source_range(again, 2).frames_text() == source_range(timing, 2).frames_text() == "997-1122"
