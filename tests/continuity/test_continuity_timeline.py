"""Edit level: consecutive shots of an OpenTimelineIO timeline compared; offline media listed, the rest compared."""

import json

import opentimelineio as otio
import pytest

from matchcut.continuity.planted import make_pair
from matchcut.continuity.timeline import read_cuts
from matchcut.errors import InputError
from matchcut.frames import write_plate
from matchcut.jobs.events import ListSink
from matchcut.jobs.runner import run_job
from matchcut.jobs.spec import job_from_dict


def _timeline(folder):
    pair = make_pair("coffee", seed=7, size=(192, 256), changes=("paste",))
    for f in range(1001, 1005):
        write_plate(folder / "sh010" / f"sh010.{f:04d}.exr", pair.a)
    write_plate(folder / "sh020.exr", pair.b)
    rate = 24
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    seq = otio.schema.ImageSequenceReference(target_url_base=str(folder / "sh010"), name_prefix="sh010.",
                                             name_suffix=".exr", start_frame=1001, frame_zero_padding=4, rate=rate,
                                             available_range=otio.opentime.TimeRange(
                                                 otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(4, rate)))
    track.append(otio.schema.Clip(name="sh010", media_reference=seq, source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(4, rate))))
    for name, url in (("sh020", "sh020.exr"), ("sh030", str(folder / "offline" / "sh030.exr"))):
        track.append(otio.schema.Clip(name=name, media_reference=otio.schema.ExternalReference(target_url=url),
                                      source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                                           otio.opentime.RationalTime(1, rate))))
    timeline = otio.schema.Timeline(name="edit")
    timeline.tracks.append(track)
    path = folder / "edit.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def test_cuts_and_offline_media(tmp_path):
    cuts, offline = read_cuts(_timeline(tmp_path))
    assert [c.label for c in cuts] == ["sh010 / sh020", "sh020 / sh030"]
    assert cuts[0].a.last == 1004 and cuts[0].b.first == 0
    assert [s.name for s in offline] == ["sh030"] and "no such file" in offline[0].offline


def test_timeline_job_compares_what_can_be_read_and_lists_the_rest(tmp_path):
    path = _timeline(tmp_path)
    job = job_from_dict({"matchcut_job": 1, "tool": "continuity", "inputs": {"timeline": path.name},
                         "outputs": {"report": "rep"}, "params": {"person": False}, "device": {"provider": "cpu"}},
                        tmp_path)
    sink = ListSink()
    run_job(job, sink)
    data = json.loads((tmp_path / "rep" / "continuity.json").read_text())
    assert [c["label"] for c in data["comparisons"]] == ["sh010 / sh020"]
    assert len(data["comparisons"][0]["regions"]) >= 1
    assert data["offline"][0]["clip"] == "sh030"
    assert data["skipped"] == [{"label": "sh020 / sh030", "reason": "media offline"}]
    assert "sh030" in (tmp_path / "rep" / "index.html").read_text()
    assert any("offline media" in e["message"] for e in sink.of("warning"))


def test_a_file_that_is_not_a_timeline(tmp_path):
    bad = tmp_path / "cut.otio"
    bad.write_text("not json")
    with pytest.raises(InputError, match="cannot read as a timeline"):
        read_cuts(bad)


def test_relative_media_may_not_leave_the_timeline_folder(tmp_path):
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for name in ("a", "b"):
        track.append(otio.schema.Clip(name=name, media_reference=otio.schema.ExternalReference(
            target_url="../../etc/passwd"), source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(1, 24))))
    path = tmp_path / "esc.otio"
    timeline = otio.schema.Timeline()
    timeline.tracks.append(track)
    otio.adapters.write_to_file(timeline, str(path))
    from matchcut.errors import PathEscapeError

    with pytest.raises(PathEscapeError):
        read_cuts(path)


def test_edl_through_otio_adapters(tmp_path):
    pytest.importorskip("otio_cmx3600_adapter", reason="EDL needs the opentimelineio-plugins package")
    edl = tmp_path / "cut.edl"
    edl.write_text("TITLE: cut\nFCM: NON-DROP FRAME\n\n"
                   "001  SH010    V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"
                   "* FROM CLIP NAME: sh010\n"
                   "002  SH020    V     C        00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00\n"
                   "* FROM CLIP NAME: sh020\n")
    cuts, offline = read_cuts(edl)
    assert [c.label for c in cuts] == ["sh010 / sh020"]
    assert {s.name for s in offline} == {"sh010", "sh020"}  # an EDL names clips, not files: listed as offline
