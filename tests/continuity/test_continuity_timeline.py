"""Edit level: consecutive shots of an OpenTimelineIO timeline compared; offline media listed, the rest compared."""

import html
import json

import opentimelineio as otio
import pytest

from matchcut.continuity.timeline import read_cuts
from matchcut.errors import InputError
from matchcut.frames import write_plate
from matchcut.jobs.events import ListSink
from matchcut.jobs.runner import run_job
from matchcut.jobs.spec import job_from_dict
from matchcut.testing.metrics import region_iou
from matchcut.testing.planted import make_pair
from matchcut.tools.continuity import ContinuityTool


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
    path = _timeline(tmp_path)
    write_plate(tmp_path / "sh021.exr", make_pair("coffee", seed=7, size=(32, 32), changes=()).b)
    cuts, offline = read_cuts(path)
    assert [c.label for c in cuts] == ["sh010 / sh020", "sh020 / sh030"]
    assert cuts[0].a.last == 1004 and cuts[0].b.first == 0
    assert cuts[0].b.pattern == str(tmp_path / "sh020.exr")  # a still, though sh021.exr lies beside it
    assert [s.name for s in offline] == ["sh030"] and "no such file" in offline[0].offline


def test_timeline_job_compares_what_can_be_read_and_lists_the_rest(tmp_path):
    path = _timeline(tmp_path)
    job = job_from_dict({"matchcut_job": 1, "tool": "continuity", "inputs": {"timeline": path.name},
                         "outputs": {"report": "rep"}, "params": {"person": False}, "device": {"provider": "cpu"}},
                        tmp_path)
    sink = ListSink()
    run_job(ContinuityTool(), job, sink)
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


def _shots(folder):
    """sh010 frames 1001-1004 (A, the reference) and sh020 frames 2001-2002 (B, a prop pasted), as EXR."""
    pair = make_pair("coffee", seed=7, size=(192, 256), changes=("paste",))
    for f in range(1001, 1005):
        write_plate(folder / "sh010" / f"sh010.{f:04d}.exr", pair.a)
    for f in (2001, 2002):
        write_plate(folder / "sh020" / f"sh020.{f:04d}.exr", pair.b)
    return pair


def _run(folder, timeline, sink=None, **params):
    job = job_from_dict({"matchcut_job": 1, "tool": "continuity", "inputs": {"timeline": timeline},
                         "outputs": {"report": "rep"}, "params": {"person": False, **params},
                         "device": {"provider": "cpu"}}, folder)
    run_job(ContinuityTool(), job, sink or ListSink())
    return json.loads((folder / "rep" / "continuity.json").read_text()), (folder / "rep" / "index.html").read_text()


def test_fcp7_xml_through_otio_adapter_end_to_end(tmp_path):
    pytest.importorskip("otio_fcp_adapter", reason="FCP XML needs the opentimelineio-plugins package")
    pair = _shots(tmp_path)
    rate = 24

    def span(start, duration):
        return otio.opentime.TimeRange(otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(duration, rate))

    # As an NLE writes it: each clip's file is the sequence's first frame, its timecode the frame number.
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video, name="V1")
    for name, first, frames in (("sh010", 1001, 4), ("sh020", 2001, 2)):
        ref = otio.schema.ExternalReference(target_url=(tmp_path / name / f"{name}.{first}.exr").as_uri(),
                                            available_range=span(first, frames))
        track.append(otio.schema.Clip(name=name, media_reference=ref, source_range=span(first, frames)))
    track.append(otio.schema.Clip(name="sh030", media_reference=otio.schema.MissingReference(),
                                  source_range=span(0, 1)))
    timeline = otio.schema.Timeline(name="edit")
    timeline.tracks.append(track)
    xml = tmp_path / "edit.xml"
    otio.adapters.write_to_file(timeline, str(xml), adapter_name="fcp_xml")
    assert "<xmeml" in xml.read_text()

    cuts, offline = read_cuts(xml)
    assert [c.label for c in cuts] == ["sh010 / sh020", "sh020 / sh030"]
    a, b = cuts[0].a, cuts[0].b
    assert a.pattern.endswith("sh010.####.exr") and (a.first, a.last) == (1001, 1004)
    assert b.pattern.endswith("sh020.####.exr") and (b.first, b.last) == (2001, 2002)
    assert [s.name for s in offline] == ["sh030"] and "no media reference" in offline[0].offline

    data, page = _run(tmp_path, xml.name)
    [comp] = data["comparisons"]
    assert comp["label"] == "sh010 / sh020" and comp["a"]["frame"] == 1004 and comp["b"]["frame"] == 2001
    assert any(region_iou(tuple(r["box"]), pair.boxes[0]) >= 0.3 for r in comp["regions"])
    assert data["skipped"] == [{"label": "sh020 / sh030", "reason": "media offline"}]
    assert data["offline"][0]["clip"] == "sh030" and html.escape(offline[0].offline) in page


EDL = """TITLE: cut
FCM: NON-DROP FRAME

001  SH010    V     C        00:00:41:17 00:00:41:21 01:00:00:00 01:00:00:04
* FROM CLIP NAME: sh010
002  SH020    V     C        00:00:00:00 00:00:00:02 01:00:00:04 01:00:00:06
* FROM CLIP NAME: sh020
* FROM CLIP: sh020/sh020.[2001-2002].exr
003  SH030    V     C        00:00:00:00 00:00:00:01 01:00:00:06 01:00:00:07
* FROM CLIP NAME: sh030
"""


def test_edl_media_by_comment_or_clip_name_end_to_end(tmp_path):
    pytest.importorskip("otio_cmx3600_adapter", reason="EDL needs the opentimelineio-plugins package")
    pair = _shots(tmp_path)
    edl = tmp_path / "cut.edl"
    edl.write_text(EDL)
    cuts, offline = read_cuts(edl)
    assert [c.label for c in cuts] == ["sh010 / sh020", "sh020 / sh030"]
    # sh010: named only, found next to the EDL; its source timecode 00:00:41:17 at 24 fps is frame 1001.
    a, b = cuts[0].a, cuts[0].b
    assert a.pattern == str(tmp_path / "sh010" / "sh010.####.exr") and (a.first, a.last) == (1001, 1004)
    # sh020: the "FROM CLIP" comment's frame range locates it.
    assert b.pattern == str(tmp_path / "sh020" / "sh020.####.exr") and (b.first, b.last) == (2001, 2002)
    assert [s.name for s in offline] == ["sh030"]
    assert "no media reference" in offline[0].offline and "sh030.####.ext" in offline[0].offline

    data, page = _run(tmp_path, edl.name)
    [comp] = data["comparisons"]
    assert comp["label"] == "sh010 / sh020" and comp["a"]["frame"] == 1004 and comp["b"]["frame"] == 2001
    assert any(region_iou(tuple(r["box"]), pair.boxes[0]) >= 0.3 for r in comp["regions"])
    assert data["skipped"] == [{"label": "sh020 / sh030", "reason": "media offline"}]
    assert html.escape(offline[0].offline) in page

    # The same EDL read at 25 fps: 00:00:41:17 is frame 1042, which sh010 does not have; it says so.
    _, offline25 = read_cuts(edl, rate=25)
    sh010 = next(s for s in offline25 if s.name == "sh010")
    assert sh010.offline == "frame(s) 1042, 1045 not on disk (on disk: 1001-1004)"

    # The job's edl_rate control reaches the reader: at 25 fps both cuts lose a shot, and the warnings say why.
    sink = ListSink()
    data, _ = _run(tmp_path, edl.name, sink, edl_rate=25)
    assert data["comparisons"] == []
    warnings = [e["message"] for e in sink.of("warning")]
    assert any(w.startswith("offline media: clip 'sh010' ") and w.endswith("sh010.####.exr: frame(s) 1042, 1045 "
               "not on disk (on disk: 1001-1004)") for w in warnings)
    assert any(w.startswith("offline media: clip 'sh030': no media reference") for w in warnings)  # no path found
