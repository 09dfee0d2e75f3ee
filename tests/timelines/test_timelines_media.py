"""Timelines written here with real media in place: Windows and UNC paths mapped, file:// URLs, nested stacks,
clips named after files, gaps, generators, and the mapping rules' own troubles."""

import os
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from matchcut.continuity.timeline import offline_groups, plan_cuts
from matchcut.frames import write_plate
from matchcut.paths import PathMap, load_path_map, parse_rule
from matchcut.timelines import read_edit

RATE = 24


def _frames(folder: Path, name: str, frames) -> None:
    for f in frames:
        write_plate(folder / name / f"{name}.{f:04d}.exr", np.full((8, 8, 3), f / 4000, np.float32))


def _span(start: int, count: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(otio.opentime.RationalTime(start, RATE), otio.opentime.RationalTime(count, RATE))


def _clip(name: str, url: str | None, start: int, count: int, avail: tuple[int, int] | None = None):
    ref = otio.schema.ExternalReference(target_url=url, available_range=_span(*avail) if avail else None) \
        if url else otio.schema.MissingReference()
    return otio.schema.Clip(name=name, media_reference=ref, source_range=_span(start, count))


def _write(folder: Path, *tracks, name: str = "edit.otio") -> Path:
    timeline = otio.schema.Timeline(name="edit")
    for track in tracks:
        timeline.tracks.append(track)
    path = folder / name
    otio.adapters.write_to_file(timeline, str(path))
    return path


WINDOWS_EDL = """TITLE: windows
FCM: NON-DROP FRAME

001  SH010    V     C        00:00:41:17 00:00:41:21 01:00:00:00 01:00:00:04
* FROM CLIP NAME: sh010
* FROM CLIP: S:\\show\\sh010\\sh010.1001.exr
002  SH020    V     C        00:01:23:09 00:01:23:11 01:00:00:04 01:00:00:06
* FROM CLIP NAME: sh020
* FROM FILE: \\\\fileserver\\Show\\sh020\\sh020.2001.exr
"""


def test_windows_and_unc_paths_mapped_onto_real_media(tmp_path):
    show = tmp_path / "mnt" / "show"
    _frames(show, "sh010", range(1001, 1005))
    _frames(show, "sh020", (2001, 2002))
    edl = tmp_path / "cut.edl"
    edl.write_text(WINDOWS_EDL)
    offline = read_edit(edl).clips
    assert [c.media.offline for c in offline] == [
        "a Windows path, and no path map rule covers it (e.g. --map 'S:\\show=/mnt/show')",
        "a Windows path, and no path map rule covers it (e.g. --map '\\\\fileserver\\Show=/mnt/Show')"]

    paths = load_path_map([f"s:/SHOW={show}", f"//FILESERVER/show={show}"], environ={})
    sh010, sh020 = read_edit(edl, paths=paths).clips
    assert sh010.media.pattern == str(show / "sh010" / "sh010.####.exr") and sh010.media.offline == ""
    assert (sh010.media.first, sh010.media.last) == (1001, 1004)  # 00:00:41:17 at 24 fps is frame 1001
    assert sh020.media.pattern == str(show / "sh020" / "sh020.####.exr") and sh020.media.offline == ""
    assert (sh020.media.first, sh020.media.last) == (2001, 2002)
    assert sh020.media.mapped.rule.text == f"//FILESERVER/show={show}"
    assert sh010.to_dict()["written"] == "S:\\show\\sh010\\sh010.1001.exr"


def test_file_urls_with_a_host_and_percent_encoding(tmp_path):
    _frames(tmp_path / "plates one", "sh010", range(1001, 1004))
    folder = (tmp_path / "plates one").as_posix()
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    url = f"file://localhost{folder.replace(' ', '%20')}/sh010/sh010.1001.exr"
    track.append(_clip("sh010", url, 1001, 3, avail=(1001, 3)))
    [clip] = read_edit(_write(tmp_path, track)).clips
    assert clip.media.pattern == f"{folder}/sh010/sh010.####.exr" and clip.media.offline == ""
    assert (clip.media.first, clip.media.last) == (1001, 1003)


def test_nested_stack_with_real_media_flattened_as_seen(tmp_path):
    """V1: sh010 (8 frames) | a nested stack: sh020 under sh030 on its top layer for 2 of its 4 frames | sh040."""
    for name, first in (("sh010", 1001), ("sh020", 2001), ("sh030", 3001), ("sh040", 4001)):
        _frames(tmp_path, name, range(first, first + 8))
    url = {n: (tmp_path / n / f"{n}.{f}.exr").as_uri() for n, f in
           (("sh010", 1001), ("sh020", 2001), ("sh030", 3001), ("sh040", 4001), ("sh050", 5001))}
    bottom = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    bottom.append(_clip("sh020", url["sh020"], 2001, 4, avail=(2001, 8)))
    top = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    top.append(otio.schema.Gap(source_range=_span(0, 1)))
    top.append(_clip("sh030", url["sh030"], 3001, 2, avail=(3001, 8)))
    hidden_layer = otio.schema.Track(kind=otio.schema.TrackKind.Video)  # under both: never seen
    hidden_layer.append(_clip("sh050", url["sh050"], 5001, 4, avail=(5001, 8)))
    nested = otio.schema.Stack(name="comp", source_range=_span(0, 4))
    for layer in (hidden_layer, bottom, top):
        nested.append(layer)
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.append(_clip("sh010", url["sh010"], 1001, 8, avail=(1001, 8)))
    track.append(nested)
    track.append(_clip("sh040", url["sh040"], 4001, 8, avail=(4001, 8)))
    plan = plan_cuts(_write(tmp_path, track))
    edit = plan.edit
    assert [(c.name, c.record, c.source, c.inside) for c in edit.clips] == [
        ("sh010", (0, 7), (1001, 1008), ()),
        ("sh020", (8, 8), (2001, 2001), ("comp",)),
        ("sh030", (9, 10), (3001, 3002), ("comp",)),
        ("sh020", (11, 11), (2004, 2004), ("comp",)),
        ("sh040", (12, 19), (4001, 4008), ())]
    assert [(h.name, h.why) for h in edit.hidden] == [("sh050", "under a layer above it in 'comp'")]
    assert edit.clip_count == 5 == len({id(c.item) for c in edit.clips}) + len(edit.hidden)  # sh020 shows twice
    assert [c.label for c in plan.cuts] == ["sh010 / sh020", "sh020 / sh030", "sh030 / sh020", "sh020 / sh040"]
    assert [(s.name, s.first, s.last) for s in plan.shots][:2] == [("sh010", 1001, 1008), ("sh020", 2001, 2001)]
    assert all(not s.offline for s in plan.shots)  # sh050 has no media, but the edit never shows it


def test_clips_named_after_files_found_beside_the_timeline(tmp_path):
    _frames(tmp_path, "sh010", range(1001, 1005))
    for f in (tmp_path / "sh010").iterdir():
        f.rename(tmp_path / f.name)  # the sequence beside the EDL
    write_plate(tmp_path / "plate_a.exr", np.zeros((8, 8, 3), np.float32))
    edl = tmp_path / "named.edl"
    edl.write_text("""TITLE: named
001  AX V     C        00:00:41:17 00:00:41:21 01:00:00:00 01:00:00:04
* FROM CLIP NAME:  sh010.1001.exr
002  AX V     C        00:00:00:00 00:00:00:02 01:00:00:04 01:00:00:06
* FROM CLIP NAME:  plate_a.exr
003  AX V     C        00:00:00:00 00:00:00:02 01:00:00:06 01:00:00:08
* FROM CLIP NAME:  plate_b.exr
""")
    seq, still, missing = read_edit(edl).clips
    assert seq.media.pattern == str(tmp_path / "sh010.####.exr") and seq.media.offline == ""
    assert (seq.media.first, seq.media.last) == (1001, 1004)
    assert still.media.pattern == str(tmp_path / "plate_a.exr") and still.media.offline == ""
    assert missing.media.offline == ("no media reference (the timeline gives only the clip's name), and no "
                                     f"plate_b.exr in {tmp_path}")


def test_clips_a_gap_parts_are_not_a_cut_and_generators_are_not_offline(tmp_path):
    _frames(tmp_path, "sh010", range(1001, 1005))
    _frames(tmp_path, "sh020", range(2001, 2005))
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.append(_clip("sh010", (tmp_path / "sh010" / "sh010.1001.exr").as_uri(), 1001, 4, avail=(1001, 4)))
    track.append(otio.schema.Gap(source_range=_span(0, 3)))
    track.append(_clip("sh020", (tmp_path / "sh020" / "sh020.2001.exr").as_uri(), 2001, 4, avail=(2001, 4)))
    track.append(otio.schema.Clip(name="bars", media_reference=otio.schema.GeneratorReference(
        generator_kind="SMPTEBars"), source_range=_span(0, 2)))
    plan = plan_cuts(_write(tmp_path, track))
    assert [(c.label, c.meets) for c in plan.pairs] == [("sh010 / sh020", False), ("sh020 / bars", True)]
    [gap] = plan.edit.gaps
    assert gap.record == (4, 6) and gap.hole and plan.pairs[0].gap.describe() == "a gap of 3 frames"
    assert [s.name for s in plan.generated] == ["bars"] and plan.offline == []


def test_offline_media_grouped_by_file_each_once(tmp_path):
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for i in range(5):
        track.append(_clip(f"sh0{i}0", str(tmp_path / "gone.mov"), i * 10, 4))
    track.append(_clip("sh099", None, 0, 2))
    plan = plan_cuts(_write(tmp_path, track))
    movie, named = plan.offline
    assert movie.path == str(tmp_path / "gone.mov") and movie.reason == "no such file" and len(movie.shots) == 5
    assert movie.message() == (f"5 clips: 'sh000', 'sh010', 'sh020' and 2 more {tmp_path / 'gone.mov'}: "
                               "no such file")
    assert named.path == "" and named.message().startswith("clip 'sh099': no media reference")
    assert [c["name"] for c in movie.to_dict(plan.edit)["clips"]] == ["sh000", "sh010", "sh020", "sh030", "sh040"]


def test_missing_frames_of_one_sequence_merge_into_one_line(tmp_path):
    _frames(tmp_path, "sh010", range(1001, 1005))
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    seq = str(tmp_path / "sh010" / "sh010.1001.exr")
    track.append(_clip("a", seq, 1003, 4, avail=(1001, 4)))  # 1003-1006
    track.append(_clip("b", seq, 1001, 10, avail=(1001, 4)))  # 1001-1010
    [group] = plan_cuts(_write(tmp_path, track)).offline
    assert group.path == str(tmp_path / "sh010" / "sh010.####.exr")
    assert group.reason == "frame(s) 1006, 1010 not on disk (on disk: 1001-1004)"
    assert offline_groups([]) == []


def test_mapping_rules_that_overlap_or_match_nothing_are_said_once(tmp_path):
    _frames(tmp_path / "show", "sh010", range(1001, 1003))
    edl = tmp_path / "cut.edl"
    edl.write_text("""TITLE: rules
001  SH010    V     C        00:00:41:17 00:00:41:19 01:00:00:00 01:00:00:02
* FROM CLIP NAME: sh010
* FROM CLIP: S:\\show\\sh010\\sh010.1001.exr
002  SH010    V     C        00:00:41:17 00:00:41:19 01:00:00:02 01:00:00:04
* FROM CLIP NAME: sh010
* FROM CLIP: S:\\show\\sh010\\sh010.1001.exr
""")
    paths = PathMap([parse_rule(f"S:\\={tmp_path}/wrong"), parse_rule(f"S:\\show={tmp_path}/show"),
                     parse_rule("X:\\nowhere=/mnt/nowhere")])
    edit = read_edit(edl, paths=paths)
    assert all(c.media.offline == "" for c in edit.clips)
    assert edit.warnings == [
        f"path map: rules 'S:\\={tmp_path}/wrong' (--map) and 'S:\\show={tmp_path}/show' (--map) both match "
        f"S:\\show\\sh010\\sh010.1001.exr; the longer, 'S:\\show={tmp_path}/show', is used",
        f"path map rule 'S:\\={tmp_path}/wrong' (--map) matches no media path in {edl}",
        f"path map rule 'X:\\nowhere=/mnt/nowhere' (--map) matches no media path in {edl}"]


def test_media_found_under_the_mapping_but_unreadable_is_named(tmp_path):
    _frames(tmp_path / "show", "sh010", range(1001, 1005))
    (tmp_path / "show" / "sh010" / "sh010.1004.exr").write_bytes(b"not an exr")
    edl = tmp_path / "cut.edl"
    edl.write_text(WINDOWS_EDL.split("002")[0])
    [clip] = read_edit(edl, paths=PathMap([parse_rule(f"S:\\show={tmp_path / 'show'}")])).clips
    assert clip.media.pattern == str(tmp_path / "show" / "sh010" / "sh010.####.exr")
    assert clip.media.offline.startswith("sh010.1004.exr: cannot read: ")


@pytest.mark.skipif(os.name == "nt", reason="on Windows T:\\show is a path of this machine")
def test_a_rule_onto_another_machines_path_is_refused(tmp_path):
    edl = tmp_path / "cut.edl"
    edl.write_text(WINDOWS_EDL.split("002")[0])
    [clip] = read_edit(edl, paths=PathMap([parse_rule("S:\\show=T:\\show")])).clips
    assert clip.media.offline == "a Windows path after mapping by 'S:\\show=T:\\show', not one of this machine's"


def _movie(path: Path, frames: int = 12) -> Path:
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 20 * index, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_movie_frames_count_from_the_media_start(tmp_path):
    movie = _movie(tmp_path / "sh010.mov")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.append(_clip("in", movie.as_uri(), 105, 4, avail=(100, 12)))  # movie frames 5-8
    track.append(_clip("past", movie.as_uri(), 110, 5, avail=(100, 12)))  # 110-114: the movie ends at 111
    inside, past = read_edit(_write(tmp_path, track)).clips
    assert (inside.media.origin, inside.media.first, inside.media.last, inside.media.offline) == (100, 105, 108, "")
    assert past.media.offline == "frame(s) 114 not in the movie (the movie has 100-111)"


def test_a_sequence_named_by_its_frame_range_is_read_as_resolve_writes_it(tmp_path):
    _frames(tmp_path, "sh010", range(1001, 1013))
    url = (tmp_path / "sh010" / "sh010.[1001-1012].exr").as_uri()
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.append(_clip("sh010", url, 86400, 4, avail=(86396, 12)))  # timecode frames; the files are 1001-1012
    track.append(_clip("late", url, 86406, 8, avail=(86396, 12)))  # runs past the last file
    clip, late = read_edit(_write(tmp_path, track)).clips
    assert clip.media.pattern == str(tmp_path / "sh010" / "sh010.####.exr")
    assert (clip.media.first, clip.media.last, clip.media.offline) == (1005, 1008, "")
    assert late.media.offline == "frame(s) 1018 not on disk (on disk: 1001-1012)"  # its last frame
