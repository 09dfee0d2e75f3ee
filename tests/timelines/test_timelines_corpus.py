"""Real exported timelines (tests/timelines/corpus, see SOURCES.md) read as written down here, file by file.

What each file holds was read off the file itself (its events, tracks and references); the reader must give
exactly that: the clips in record order, the pairs that meet (and through which transition), the pairs a gap
parts, the gaps (and whether another video track covers them), the generated clips and the offline media,
one entry per file with the number of clips that use it.
"""

import shutil
from pathlib import Path

import opentimelineio as otio
import pytest

from matchcut.continuity.timeline import plan_cuts
from matchcut.errors import InputError
from matchcut.timelines import read_edit

CORPUS = Path(__file__).parent / "corpus"

EXPECTED = {
    "nested_example.otio": {
        "clips": ["Normal Clip 1", "Clip Inside A Stack 1", "Normal Clip 2", "Clip Inside A Stack 2", "Normal Clip 3",
                  "Clip Inside A Track", "Normal Clip 4"],
        "tracks": 1,
        "cuts": ["Normal Clip 1 / Clip Inside A Stack 1", "Clip Inside A Stack 1 / Normal Clip 2",
                 "Normal Clip 2 / Clip Inside A Stack 2", "Clip Inside A Stack 2 / Normal Clip 3",
                 "Normal Clip 3 / Clip Inside A Track", "Clip Inside A Track / Normal Clip 4"],
        "transitions": {}, "apart": [], "gaps": [], "generated": [],
        "offline": [("Normal Clip 1", 1), ("Clip Inside A Stack 1", 1), ("Normal Clip 2", 1),
                    ("Clip Inside A Stack 2", 1), ("Normal Clip 3", 1), ("Clip Inside A Track", 1),
                    ("Normal Clip 4", 1)],
    },
    "multiple_track.otio": {
        "clips": ["Clip-001", "Clip-002", "Clip-004", "Clip-003", "Clip-005"],
        "tracks": 3,
        "cuts": ["Clip-001 / Clip-002"], "transitions": {},
        "apart": [("Clip-002 / Clip-004", 4)],
        "gaps": [("V1 'Track-001'", 9, 12, False), ("V2 'Track-002'", 0, 6, False)],
        "generated": [],
        "offline": [("/folder/titles.mov", 1), ("/folder/wind-up.mov", 1), ("/folder/credits.mov", 1),
                    ("/folder/punchline.mov", 2)],
    },
    "transition.otio": {
        "clips": ["Clip-001", "Clip-002", "Clip-003", "Clip-004"], "tracks": 1,
        "cuts": ["Clip-001 / Clip-002", "Clip-002 / Clip-003", "Clip-003 / Clip-004"],
        "transitions": {"Clip-002 / Clip-003": "dissolve, 5 frames"}, "apart": [], "gaps": [], "generated": [],
        "offline": [("/folder/titles.mov", 1), ("/folder/wind-up.mov", 1), ("/folder/punchline.mov", 1),
                    ("/folder/credits.mov", 1)],
    },
    "transition_test.otio": {
        "clips": ["A", "B", "C"], "tracks": 1, "cuts": ["A / B", "B / C"],
        "transitions": {"A / B": "dissolve, 20 frames"},  # the fades at both ends join nothing
        "apart": [], "gaps": [], "generated": [], "offline": [("A", 1), ("B", 1), ("C", 1)],
    },
    "generator_reference_test.otio": {
        "clips": ["C"], "tracks": 1, "cuts": [], "transitions": {}, "apart": [], "gaps": [], "generated": ["C"],
        "offline": [],
    },
    "avid_example.edl": {
        "clips": ["take_1", "take_2"], "tracks": 1, "cuts": ["take_1 / take_2"], "transitions": {}, "apart": [],
        "gaps": [], "generated": [],
        "offline": [("S:\\path\\to\\ZZ100_501.take_1.0001.exr", 1), ("S:\\path\\to\\ZZ100_502A.take_2.0101.exr", 1)],
    },
    "premiere_example.edl": {
        "clips": ["ZZ100_501.take_1.0001.exr", "ZZ100_502A.take_2.0101.exr"], "tracks": 1,
        "cuts": ["ZZ100_501.take_1.0001.exr / ZZ100_502A.take_2.0101.exr"], "transitions": {}, "apart": [],
        "gaps": [], "generated": [],
        "offline": [("ZZ100_501.take_1.0001.exr", 1), ("ZZ100_502A.take_2.0101.exr", 1)],
    },
    "gap_test.edl": {
        "clips": ["shot1", "shot2", "shot3"], "tracks": 1, "cuts": [], "transitions": {},
        "apart": [("shot1 / shot2", 16), ("shot2 / shot3", 38)],
        "gaps": [("V1 'V'", 24, 39, True), ("V1 'V'", 64, 101, True)], "generated": [],
        "offline": [("shot1", 1), ("shot2", 1), ("shot3", 1)],
    },
    "speed_effects_small.edl": {
        "clips": ["Z677_4C (ANIM10)", "Z682_156 (LAY3)", "Z682_157 (LAY2) FF", "Z682_157 (LAY2)",
                  "Z686_5A (LAY2) (47.56 FPS)"],
        "tracks": 1,
        "cuts": ["Z682_156 (LAY3) / Z682_157 (LAY2) FF", "Z682_157 (LAY2) FF / Z682_157 (LAY2)"], "transitions": {},
        "apart": [("Z677_4C (ANIM10) / Z682_156 (LAY3)", 12114), ("Z682_157 (LAY2) / Z686_5A (LAY2) (47.56 FPS)", 4324)],
        "gaps": [("V1 'V'", 126, 12239, True), ("V1 'V'", 12276, 16599, True)], "generated": [],
        "offline": [("Z677_4C (ANIM10)", 1), ("Z682_156 (LAY3)", 1), ("Z682_157 (LAY2) FF", 1),
                    ("Z682_157 (LAY2)", 1), ("Z686_5A (LAY2) (47.56 FPS)", 1)],
    },
    "premiere_example.xml": {
        "clips": ["sc01_sh010_anim.mov", "sc01_sh010_anim.mov", "sc01_sh020_anim.mov", "sc01_sh030_anim.mov",
                  "test_title", "sc01_master_layerA_sh030_temp.mov", "sc01_sh010_anim.mov"],
        "tracks": 4,
        "cuts": ["sc01_sh020_anim.mov / sc01_sh030_anim.mov",
                 "sc01_master_layerA_sh030_temp.mov / sc01_sh010_anim.mov"],
        "transitions": {"sc01_master_layerA_sh030_temp.mov / sc01_sh010_anim.mov": "dissolve, 25 frames"},
        "apart": [("sc01_sh010_anim.mov / sc01_sh020_anim.mov", 52)],
        "gaps": [("V1", 0, 535, False), ("V2", 0, 12, True), ("V2", 113, 164, False), ("V2", 557, 635, False),
                 ("V2", 636, 955, False), ("V3", 0, 14, False), ("V4", 0, 955, False)],
        "generated": ["test_title"],
        "offline": [("D:/media/sc01_sh010_anim.mov", 3), ("D:/media/sc01_sh020_anim.mov", 1),
                    ("D:/media/sc01_sh030_anim.mov", 1), ("D:/media/sc01_master_layerA_sh030_temp.mov", 1)],
    },
    "premiere_generators.xml": {
        "clips": ["Universal Counting Leader", "Black Video", "Blue Matte", "HD Bars and Tone", "Transparent Video",
                  "Graphic"],
        "tracks": 3,
        "cuts": ["Universal Counting Leader / Black Video", "Black Video / Blue Matte", "Blue Matte / HD Bars and Tone",
                 "HD Bars and Tone / Transparent Video", "Transparent Video / Graphic"],
        "transitions": {}, "apart": [], "gaps": [],
        "generated": ["Universal Counting Leader", "Black Video", "Blue Matte", "HD Bars and Tone",
                      "Transparent Video", "Graphic"],
        "offline": [],
    },
    "hiero_xml_export.xml": {
        "clips": ["A160C005_171213_R0MN", "/"], "tracks": 1, "cuts": [], "transitions": {},
        "apart": [("A160C005_171213_R0MN / /", 16)],
        "gaps": [("V1 'Video 1'", 0, 13, True), ("V1 'Video 1'", 1069, 1084, True)], "generated": [],
        "offline": [("/A160R0MN/A160R0MN/A160C005_171213_R0MN.mxf", 1), ("/", 1)],
    },
}

REFUSED = {
    "25fps.edl": "timecode 01:00:01:24 counts more frames than 24 fps has; give the rate the EDL was cut at with "
                 "--edl-rate (job parameter edl_rate) (e.g. --edl-rate 25)",
    "multi_audio.edl": "the timeline has no video track (2 audio tracks and no video)",
    "premiere_example_filter.xml": "cannot read as a timeline: not a Final Cut Pro 7 XML sequence (no <sequence> at "
                                   "its top level)",
}


def _reading(plan) -> dict:
    edit = plan.edit
    return {
        "clips": [c.name for c in edit.clips], "tracks": len(edit.tracks),
        "cuts": [c.label for c in plan.cuts],
        "transitions": {c.label: c.transition for c in plan.cuts if c.transition},
        "apart": [(c.label, c.gap.frames) for c in plan.apart],
        "gaps": [(g.track, g.record[0], g.record[1], g.hole) for g in edit.gaps],
        "generated": [s.name for s in plan.generated],
        "offline": [(g.path or g.shots[0].name, len(g.shots)) for g in plan.offline],
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_reads_as_written_down(name):
    plan = plan_cuts(CORPUS / name)
    assert _reading(plan) == EXPECTED[name]
    edit = plan.edit
    assert edit.clip_count == len(edit.clips) + len(edit.hidden)  # every clip of the file accounted for
    assert not edit.hidden


def test_every_corpus_timeline_is_expected_or_refused():
    timelines = {p.name for p in CORPUS.iterdir() if p.suffix in (".otio", ".edl", ".xml")}
    assert timelines == set(EXPECTED) | set(REFUSED) | {"screening_example.otio"}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_corpus_refusals_say_what_to_do(name):
    with pytest.raises(InputError) as caught:
        read_edit(CORPUS / name)
    message = str(caught.value)
    assert message.startswith(f"{CORPUS / name}: ") and REFUSED[name] in message and "\n" not in message
    assert "opentimelineio-plugins" not in message  # the plugins are installed: no hint that does not apply


def test_the_25fps_edl_reads_at_its_rate():
    plan = plan_cuts(CORPUS / "25fps.edl", rate=25)
    assert [c.name for c in plan.edit.clips] == ["sq001_s001", "sq001_s002", "sq001_s003", "sq001_s004"]
    assert len(plan.cuts) == 3 and plan.edit.rate == 25


def test_nested_example_every_clip_in_place():
    edit = read_edit(CORPUS / "nested_example.otio")
    clips = edit.clips
    assert edit.clip_count == 7 and len(clips) == 7 and edit.hidden == []
    assert [c.inside for c in clips] == [(), ("Nested Stack 1",), (), ("Nested Stack 2 (with effects)",), (),
                                         ("Nested Track",), ()]
    assert [c.record for c in clips] == [(0, 237), (238, 268), (269, 301), (302, 330), (331, 393), (394, 397),
                                         (398, 635)]
    # Nested Stack 1 shows 31 of its clip's 37 frames; the slowed stack stretches 24 frames over 29; the nested
    # track's freeze frame holds frame 471 for 4 frames.
    assert clips[1].source == (373, 403)
    assert clips[3].source == (429, 452) and clips[3].speed < 1
    assert clips[5].source == (471, 471) and clips[5].speed == 0
    assert all(a.record[1] + 1 == b.record[0] for a, b in zip(clips, clips[1:]))  # no jump over nested items
    assert "nested stacks and tracks flattened" in edit.notes[0]


def test_edl_reels_record_start_and_source_timecode():
    edit = read_edit(CORPUS / "avid_example.edl")
    take_1, take_2 = edit.clips
    assert (take_1.reel, take_2.reel) == ("ZZ100_50", "ZZ100_50")
    assert take_1.describe() == "clip 'take_1' (reel ZZ100_50)"
    assert edit.timecode(take_1.record[0]) == "00:59:53:11" and edit.timecode(take_2.record[0]) == "00:59:54:18"
    assert take_1.source_timecode == "01:00:04:05-01:00:05:11"
    assert take_1.media.written == "S:\\path\\to\\ZZ100_501.take_1.0001.exr"
    assert take_1.media.offline == "a Windows path, and no path map rule covers it (e.g. --map 'S:\\path=/mnt/path')"


def test_edl_speed_effects_freeze_and_m2():
    clips = read_edit(CORPUS / "speed_effects_small.edl").clips
    assert [round(c.speed, 3) for c in clips] == [1.0, 0.0, 1.0, 1.0, 1.983]
    assert clips[1].source == (86661, 86661)  # frozen on 01:00:10:21
    assert clips[4].source == (86544, 86613)  # 36 record frames at 47.6 fps: 01:00:06:00 to 01:00:08:21


def test_fcp_xml_generators_and_empty_nested_sequence():
    edit = read_edit(CORPUS / "premiere_generators.xml")
    assert [c.generator for c in edit.clips] == ["Slug", "Slug", "Color", "Slug", "Slug", "GraphicAndType"]
    assert all(c.media.offline == "" for c in edit.clips)
    nested = [g for g in read_edit(CORPUS / "premiere_example.xml").gaps if g.why != "gap"]
    assert [(g.track, g.why) for g in nested] == [("V2", "nested stack 'sc01_sh010_anim', empty in this file")]


def test_screening_example_needs_a_newer_opentimelineio():
    if otio.core.type_version_map()["Marker"] >= 3:
        pytest.skip("this OpenTimelineIO reads Marker.3: the file is no longer too new")
    with pytest.raises(InputError) as caught:
        read_edit(CORPUS / "screening_example.otio")
    assert (f"written by a newer OpenTimelineIO: schema Marker.3 (line 177) is newer than the Marker.2 that the "
            f"installed OpenTimelineIO {otio.__version__} reads") in str(caught.value)


def test_a_future_schema_version_is_named(tmp_path):
    text = (CORPUS / "transition.otio").read_text()
    assert '"OTIO_SCHEMA": "Clip.2"' in text or '"OTIO_SCHEMA": "Clip.1"' in text
    future = tmp_path / "future.otio"
    future.write_text(text.replace('"OTIO_SCHEMA": "Clip.1"', '"OTIO_SCHEMA": "Clip.99"')
                      .replace('"OTIO_SCHEMA": "Clip.2"', '"OTIO_SCHEMA": "Clip.99"'))
    with pytest.raises(InputError) as caught:
        read_edit(future)
    message = str(caught.value)
    assert message.startswith(f"{future}: cannot read as a timeline: written by a newer OpenTimelineIO: schema Clip.99 ")
    assert f"installed OpenTimelineIO {otio.__version__}" in message and "pip install -U opentimelineio" in message


def test_a_file_that_is_not_a_timeline(tmp_path):
    png = tmp_path / "cut.otio"
    shutil.copy(CORPUS / "LICENSE-Apache-2.0.txt", png)
    with pytest.raises(InputError, match=r"cut.otio: cannot read as a timeline: not JSON, so not an .otio file"):
        read_edit(png)
    clip = tmp_path / "clip.otio"
    otio.adapters.write_to_file(otio.schema.Clip(name="x"), str(clip))
    with pytest.raises(InputError, match=r"clip.otio: cannot read as a timeline: it holds an OpenTimelineIO Clip, "
                                         r"not a timeline"):
        read_edit(clip)
    movie = tmp_path / "cut.mov"
    movie.write_bytes(b"\0" * 16)
    with pytest.raises(InputError, match=r"no OpenTimelineIO adapter reads '.mov' files \(readable here: .*\.edl"):
        read_edit(movie)
