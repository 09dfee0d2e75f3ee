"""Edit level: consecutive shots of an OpenTimelineIO timeline compared; offline media listed, the rest compared."""

import html
import json
from pathlib import Path

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


WINDOWS_EDL = """TITLE: windows
FCM: NON-DROP FRAME

001  SH010    V     C        00:00:41:17 00:00:41:21 01:00:00:00 01:00:00:04
* FROM CLIP NAME: sh010
* FROM CLIP: S:\\show\\sh010\\sh010.1001.exr
002  SH020    V     C        00:01:23:09 00:01:23:11 01:00:00:04 01:00:00:06
* FROM CLIP NAME: sh020
* FROM FILE: \\\\fileserver\\show\\sh020\\sh020.2001.exr
003  BL       V     C        00:00:00:00 00:00:00:01 01:00:00:06 01:00:00:07
004  SH030    V     C        00:00:00:00 00:00:00:02 01:00:00:09 01:00:00:11
* FROM CLIP NAME: sh030
* FROM CLIP: S:\\show\\sh030\\sh030.1001.exr
005  SH040    V     C        00:00:00:00 00:00:00:02 01:00:00:11 01:00:00:13
* FROM CLIP NAME: sh040
* FROM CLIP: S:\\show\\sh030\\sh030.1001.exr
"""


def _windows_show(folder):
    """The media of WINDOWS_EDL under folder/mnt/show (sh030 is missing), the EDL beside it."""
    pair = _shots(folder / "mnt" / "show")
    edl = folder / "cut.edl"
    edl.write_text(WINDOWS_EDL)
    return pair, edl


def _summary_agrees(data):
    """Every count of the summary line is the length of the list the report gives for it."""
    s, t = data["summary"], data["timeline"]
    assert s["compared"] == len(data["comparisons"]) and s["not_compared"] == len(data["skipped"])
    assert s["compared"] + s["not_compared"] == s["pairs"] == s["cuts"] + s["not_compared_by_reason"].get("apart", 0)
    assert sum(s["not_compared_by_reason"].values()) == s["not_compared"]
    assert s["offline_sources"] == len(data["offline"]) and s["offline_clips"] == sum(len(m["clips"])
                                                                                      for m in data["offline"])
    assert s["gaps"] == len(t["gaps"]) and s["holes"] == sum(g["hole"] for g in t["gaps"])
    assert s["generated"] == len(t["generated"]) and s["clips"] == len(t["clips"]) and s["hidden"] == len(t["hidden"])
    assert s["clips_in_file"] == s["clips"] + s["hidden"]  # these timelines show no clip in two pieces


def test_windows_edl_mapped_onto_real_media_end_to_end(tmp_path):
    pair, edl = _windows_show(tmp_path)
    sink = ListSink()
    data, page = _run(tmp_path, edl.name, sink, path_map=f"S:\\show={tmp_path / 'mnt' / 'show'}\n"
                      f"\\\\fileserver\\show={tmp_path / 'mnt' / 'show'}")
    [comp] = data["comparisons"]
    assert comp["label"] == "sh010 / sh020" and comp["a"]["frame"] == 1004 and comp["b"]["frame"] == 2001
    assert comp["a"]["path"] == str(tmp_path / "mnt" / "show" / "sh010" / "sh010.1004.exr")
    assert any(region_iou(tuple(r["box"]), pair.boxes[0]) >= 0.3 for r in comp["regions"])
    assert data["skipped"] == [
        {"label": "sh020 / 003", "reason": "generated, nothing to compare: '003' (black)"},
        {"label": "003 / sh030", "reason": "not cut together: a gap of 2 frames between them"},
        {"label": "sh030 / sh040", "reason": "media offline"}]
    # sh030 and sh040 use one missing file: one entry, one warning, both clips named.
    [offline] = data["offline"]
    assert offline["path"] == str(tmp_path / "mnt" / "show" / "sh030" / "sh030.1001.exr")
    assert offline["written"] == "S:\\show\\sh030\\sh030.1001.exr" and offline["reason"] == "no such file"
    assert [c["name"] for c in offline["clips"]] == ["sh030", "sh040"]
    warnings = [e["message"] for e in sink.of("warning")]
    assert [w for w in warnings if w.startswith("offline media")] == [
        f"offline media: 2 clips: 'sh030', 'sh040' {offline['path']}: no such file"]
    summary = data["summary"]
    assert (summary["compared"], summary["not_compared"], summary["gaps"], summary["offline_sources"]) == (1, 3, 1, 1)
    assert any(e["message"] == f"summary: {summary['text']}" for e in sink.of("info"))
    assert html.escape(summary["text"]) in page and "Generated, nothing to compare" in page
    _summary_agrees(data)


def test_path_map_rules_from_the_environment_and_a_file(tmp_path, monkeypatch):
    _, edl = _windows_show(tmp_path)
    rules = tmp_path / "rules.txt"
    rules.write_text(f"# the show\n\\\\fileserver\\show={tmp_path / 'mnt' / 'show'}\n")
    monkeypatch.setenv("MATCHCUT_PATH_MAP", f"S:\\show={tmp_path / 'mnt' / 'show'};Q:\\unused=/mnt/unused")
    sink = ListSink()
    data, _ = _run(tmp_path, edl.name, sink, path_map_file=rules.name)
    assert [c["label"] for c in data["comparisons"]] == ["sh010 / sh020"]
    unused = [e["message"] for e in sink.of("warning") if "matches no media path" in e["message"]]
    assert unused == [f"path map rule 'Q:\\unused=/mnt/unused' (MATCHCUT_PATH_MAP) matches no media path in {edl}"]
    assert data["timeline"]["warnings"] == unused


def test_summary_agrees_with_the_report_on_real_exported_timelines(tmp_path):
    corpus = Path(__file__).parents[1] / "timelines" / "corpus"
    for name in ("premiere_example.xml", "nested_example.otio", "gap_test.edl", "premiere_generators.xml",
                 "multiple_track.otio"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / name).write_bytes((corpus / name).read_bytes())
        data, page = _run(folder, name)
        _summary_agrees(data)
        assert data["comparisons"] == []  # no media in the corpus: nothing to compare, all said why
    nested = json.loads((tmp_path / "nested_example.otio" / "rep" / "continuity.json").read_text())
    assert nested["summary"]["clips"] == nested["summary"]["clips_in_file"] == 7
    assert [c["name"] for c in nested["timeline"]["clips"]] == [
        "Normal Clip 1", "Clip Inside A Stack 1", "Normal Clip 2", "Clip Inside A Stack 2", "Normal Clip 3",
        "Clip Inside A Track", "Normal Clip 4"]


def test_cli_map_options(tmp_path, monkeypatch, capsys):
    from matchcut.cli.app import main

    _, edl = _windows_show(tmp_path)
    rules = tmp_path / "rules.txt"
    rules.write_text(f"\\\\fileserver\\show={tmp_path / 'mnt' / 'show'}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MATCHCUT_PATH_MAP", raising=False)
    with pytest.raises(SystemExit) as done:
        main(["continuity", "--timeline", edl.name, "--report", "rep", "--no-person", "--device", "cpu",
              "--map", f"S:\\show={tmp_path / 'mnt' / 'show'}", "--map-file", rules.name])
    assert done.value.code == 0
    data = json.loads((tmp_path / "rep" / "continuity.json").read_text())
    assert [c["label"] for c in data["comparisons"]] == ["sh010 / sh020"]
    assert f"summary: {data['summary']['text']}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["continuity", "--timeline", edl.name, "--report", "rep", "--map", "S:\\show", "--events", "jsonl"])
    event = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert event["message"] == "setting 'path map': --map: rule 'S:\\show' is not FROM=TO (e.g. 'S:\\show=/mnt/show')"


def test_timeline_read_errors_are_one_line_with_the_fix(tmp_path):
    edl = tmp_path / "cut.edl"
    edl.write_text(EDL.replace("00:00:41:21", "00:00:41:24"))
    with pytest.raises(InputError) as caught:
        read_cuts(edl)
    assert str(caught.value) == (f"{edl}: cannot read as a timeline: timecode 00:00:41:24 counts more frames than "
                                 "24 fps has; give the rate the EDL was cut at with --edl-rate (job parameter "
                                 "edl_rate) (e.g. --edl-rate 25)")
    audio = tmp_path / "audio.otio"
    timeline = otio.schema.Timeline()
    timeline.tracks.append(otio.schema.Track(kind=otio.schema.TrackKind.Audio))
    otio.adapters.write_to_file(timeline, str(audio))
    with pytest.raises(InputError, match=r"audio.otio: the timeline has no video track \(1 audio track and no video\)"):
        read_cuts(audio)


def test_timeline_of_takes_from_two_camera_positions(tmp_path):
    # The motorcycle stereo pair as two shots cut together: compared with depth through the edit as it is
    # compared on its own, the planted changes found, what one camera cannot see reported as not comparable.
    from matchcut.continuity.compare import compare
    from matchcut.frames import read_plate
    from matchcut.testing.metrics import score_changes
    from matchcut.testing.takes import stereo_pairs

    pair = stereo_pairs("tune")[0]
    write_plate(tmp_path / "left.exr", pair.a, dtype="float")
    write_plate(tmp_path / "right.exr", pair.b, dtype="float")
    rate = 24
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for name in ("left", "right"):
        track.append(otio.schema.Clip(name=name, media_reference=otio.schema.ExternalReference(
            target_url=f"{name}.exr"), source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                                             otio.opentime.RationalTime(1, rate))))
    timeline = otio.schema.Timeline(name="stereo")
    timeline.tracks.append(track)
    otio.adapters.write_to_file(timeline, str(tmp_path / "cut.otio"))
    linear = "Linear Rec.709 (sRGB)"  # the pixels as written, so the edit's comparison is the pair's own
    job = job_from_dict({"matchcut_job": 1, "tool": "continuity", "inputs": {"timeline": "cut.otio"},
                         "outputs": {"report": "rep"}, "device": {"provider": "cpu"},
                         "params": {"person": False, "colorspace_a": linear, "colorspace_b": linear}}, tmp_path)
    run_job(ContinuityTool(), job, ListSink())
    data = json.loads((tmp_path / "rep" / "continuity.json").read_text())
    (comparison,) = data["comparisons"]
    assert comparison["alignment"]["model"] == "dense" and comparison["not_comparable"]["occluded"] > 0

    class Box:
        def __init__(self, r):
            self.box, self.origin = tuple(r["box"]), tuple(r["origin"]) if r["origin"] else None

    assert score_changes([Box(r) for r in comparison["regions"]], pair.changes)["found"] >= 3
    direct = compare(*(read_plate(tmp_path / f"{n}.exr").pixels[..., :3] for n in ("left", "right")), person=False)
    assert [r["box"] for r in comparison["regions"]] == [list(r.box) for r in direct.regions]
