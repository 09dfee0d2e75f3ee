"""The holes coverage offers to fill, found in a timeline written here with real media on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opentimelineio as otio

from matchcut.missing_shots.holes import MarkerRule, find_holes
from matchcut.frames import write_plate
from matchcut.timelines import read_edit

RATE = 24


def _span(start: int, count: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(otio.opentime.RationalTime(start, RATE), otio.opentime.RationalTime(count, RATE))


def _shot(folder: Path, name: str, frames) -> str:
    for f in frames:
        write_plate(folder / name / f"{name}.{f:04d}.exr", np.full((8, 8, 3), 0.2, np.float32))
    return str(folder / name / f"{name}.1001.exr")


def _clip(name, url, start, count, markers=()):
    ref = otio.schema.ExternalReference(target_url=url) if url else otio.schema.MissingReference()
    clip = otio.schema.Clip(name=name, media_reference=ref, source_range=_span(start, count))
    for marker in markers:
        clip.markers.append(marker)
    return clip


def _edit(tmp_path, *tracks):
    timeline = otio.schema.Timeline(name="cut")
    for track in tracks:
        timeline.tracks.append(track)
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return read_edit(path)


def test_gaps_offline_short_media_and_placeholders_are_holes_with_their_neighbours(tmp_path):
    a = _shot(tmp_path, "sh010", range(1001, 1011))
    c = _shot(tmp_path, "sh030", range(1001, 1007))  # the edit uses 1001-1010: four frames short
    d = _shot(tmp_path, "sh050", range(1001, 1011))
    v1 = otio.schema.Track(name="V1")
    v1.append(_clip("sh010", a, 1001, 8))
    v1.append(otio.schema.Gap(source_range=_span(0, 3)))
    v1.append(_clip("sh020", None, 1001, 5))
    v1.append(_clip("sh030", c, 1001, 10))
    slug = otio.schema.Clip(name="slug", source_range=_span(0, 6),
                            media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor"))
    v1.append(slug)
    tbd = otio.schema.Marker(name="TBD", color=otio.schema.MarkerColor.RED, marked_range=_span(1001, 1))
    v1.append(_clip("sh050", d, 1001, 6, markers=[tbd]))
    v1.append(_clip("sh060", d, 1001, 4))
    holes = find_holes(_edit(tmp_path, v1))
    assert [(h.kind, h.record) for h in holes] == [("gap", (8, 10)), ("offline", (11, 15)), ("short", (22, 25)),
                                                   ("placeholder", (26, 31))]
    gap, offline, short, slug_hole = holes
    assert gap.before.name == "sh010" and gap.after.name == "sh020" and gap.clip is None and gap.frames == 3
    assert "nothing on any track" in gap.why
    assert offline.clip.name == "sh020" and "sh020" in offline.why
    assert short.clip.name == "sh030" and "4 of the frames the edit uses" in short.why
    assert "SolidColor placeholder" in slug_hole.why and slug_hole.after.name == "sh050"

    marked = find_holes(_edit(tmp_path, v1), MarkerRule.parse("colour:red"))
    assert [h.clip.name for h in marked if h.kind == "placeholder"] == ["slug", "sh050"]
    assert "marker 'TBD' (RED)" in marked[-1].why
    assert [h.kind for h in find_holes(_edit(tmp_path, v1), MarkerRule.parse("name:tbd"))].count("placeholder") == 2
    assert [h.kind for h in find_holes(_edit(tmp_path, v1), MarkerRule.parse("GREEN"))].count("placeholder") == 1


def test_a_gap_another_track_shows_through_or_the_end_of_a_track_is_no_hole(tmp_path):
    a = _shot(tmp_path, "sh010", range(1001, 1021))
    v1 = otio.schema.Track(name="V1")
    v1.append(_clip("sh010", a, 1001, 4))
    v1.append(otio.schema.Gap(source_range=_span(0, 4)))
    v1.append(_clip("sh011", a, 1005, 4))
    v2 = otio.schema.Track(name="V2")
    v2.append(otio.schema.Gap(source_range=_span(0, 2)))
    v2.append(_clip("insert", a, 1010, 6))  # covers record 2-7: the V1 gap (4-7) is seen through V2
    assert find_holes(_edit(tmp_path, v1, v2)) == []
    v3 = otio.schema.Track(name="V1")
    v3.append(_clip("sh010", a, 1001, 4))
    v3.append(otio.schema.Gap(source_range=_span(0, 4)))
    v3.append(_clip("sh011", a, 1005, 4))
    holes = find_holes(_edit(tmp_path, v3))
    assert [(h.track, h.record) for h in holes] == [("V1", (4, 7))]
