"""A coverage result as every host places it (hosts/common/client/coverage.py): the JSON read and checked, each
proposal's level above the edit as the core's new timeline lays it out, and what its marker and name say."""
from __future__ import annotations

import importlib
import json

import pytest


@pytest.fixture()
def coverage(client):
    return importlib.import_module("mc_client.coverage")


def _proposal(pid, kind, record, score, first=1001):
    return {"id": pid, "kind": kind, "label": "{} 'sh010'".format(kind), "record": list(record),
            "frames": record[1] - record[0] + 1, "synthetic_frames": 12 if kind == "slow" else 0,
            "reason": "because", "score": score,
            "score_text": "{:.0f}: fits".format(score), "rank": 0, "enabled": False,
            "rendered": {"pattern": "/out/{0}/{0}.####.exr".format(pid), "first": first,
                         "last": first + record[1] - record[0]}}


def _result(tmp_path):
    """Two holes whose proposals overlap: hole 2's third (a slow) reaches back over hole 1's slow."""
    holes = [{"index": 1, "track": "V1", "kind": "gap", "record": [12, 17], "record_timecode": "00:00:00:12",
              "why": "a gap", "proposals": [_proposal("hole1-1-extend", "extend", (12, 17), 100.0),
                                            _proposal("hole1-2-punch-in", "punch-in", (12, 17), 83.7),
                                            _proposal("hole1-3-slow", "slow", (12, 27), 73.3)],
              "not_applicable": []},
             {"index": 2, "track": "V2 'Video 2'", "kind": "short", "record": [28, 33], "why": "too short",
              "proposals": [_proposal("hole2-1-slow", "slow", (18, 33), 73.3),
                            _proposal("hole2-2-bridge", "bridge", (28, 33), 60.0),
                            _proposal("hole2-3-slow", "slow", (20, 33), 55.0)],
              "not_applicable": []},
             {"index": 3, "track": "V1", "kind": "offline", "record": [40, 44], "why": "offline", "proposals": [],
              "not_applicable": [{"kind": "extend", "why": "no handles"}]}]
    from matchcut.missing_shots.timeline import assign_levels

    assign_levels(holes)  # as the tool does before it writes the JSON
    path = tmp_path / "coverage.json"
    path.write_text(json.dumps({"timeline": "/e/edit.otio", "rate": 24.0, "holes": holes, "summary": "3 hole(s)"}))
    return path, holes


def test_placements_go_best_first_one_level_up_where_they_would_overlap(coverage, tmp_path):
    path, _ = _result(tmp_path)
    placed = coverage.placements(coverage.read_result(str(path)))
    assert [(p["id"], p["level"], p["enabled"], p["track"]) for p in placed] == [
        ("hole1-1-extend", 1, True, 1), ("hole1-2-punch-in", 2, False, 1), ("hole1-3-slow", 3, False, 1),
        ("hole2-1-slow", 1, True, 2), ("hole2-2-bridge", 2, False, 2),
        ("hole2-3-slow", 4, False, 2)]  # level 3 holds hole 1's slow over 12-27: one up
    assert coverage.levels(placed) == 4 and coverage.levels([]) == 0
    first = placed[0]
    assert (first["pattern"], first["first"], first["last"], coverage.shown_frames(first)) == (
        "/out/hole1-1-extend/hole1-1-extend.####.exr", 1001, 1006, 6)
    assert coverage.clip_name(first) == "extend 'sh010' (hole 1)"
    assert coverage.marker_name(first) == "best: extend 100/100" and coverage.marker_name(placed[1]) == \
        "punch-in 84/100"
    assert coverage.marker_note(first) == "hole 1 (gap): extend 'sh010'; because; 100: fits"
    assert coverage.marker_note(placed[2]).endswith("; 12 of 16 frame(s) made")


def test_the_levels_are_the_coverage_tracks_the_core_writes(coverage, tmp_path):
    otio = pytest.importorskip("opentimelineio")
    from matchcut.missing_shots.timeline import TRACK_NAME, write_timeline

    path, holes = _result(tmp_path)
    edit = otio.schema.Timeline(name="edit")
    for name in ("V1", "V2"):
        track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Video)
        track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(48, 24)))
        edit.tracks.append(track)
    original = tmp_path / "edit.otio"
    otio.adapters.write_to_file(edit, str(original))
    dest = write_timeline(original, tmp_path / "edit.coverage.otio", holes, 24.0)
    written, timeline = {}, otio.adapters.read_from_file(str(dest))
    for track in timeline.tracks:
        for clip in track.find_clips():
            if "matchcut" in clip.metadata:
                written[clip.metadata["matchcut"]["id"]] = (track.name, clip.enabled, clip.name,
                                                            clip.markers[0].name)
    placed = coverage.placements(coverage.read_result(str(path)))
    assert {p["id"]: (TRACK_NAME.format(p["level"]), p["enabled"], coverage.clip_name(p), coverage.marker_name(p))
            for p in placed} == written


def test_lines_and_menus_name_each_hole_and_its_options(coverage, tmp_path):
    path, _ = _result(tmp_path)
    data = coverage.read_result(str(path))
    assert coverage.hole_line(data["holes"][0]) == ("hole 1 (gap, 6 frame(s) at 00:00:00:12 on V1): 3 proposal(s), "
                                                    "best extend 'sh010' 100/100")
    assert coverage.hole_line(data["holes"][2]) == "hole 3 (offline, 5 frame(s) on V1): no proposal: extend: no handles"
    assert coverage.proposal_menu(data, 2)[:2] == [("hole2-1-slow", "1: slow 'sh010' 73/100 (best)"),
                                                   ("hole2-2-bridge", "2: bridge 'sh010' 60/100")]
    assert coverage.proposal_menu(data, 3) == [] and coverage.proposal_menu(data, 9) == []
    hole, proposal = coverage.find_proposal(data, "hole2-2-bridge")
    assert hole["index"] == 2 and proposal["kind"] == "bridge"
    assert coverage.find_proposal(data, "nope") == (None, None)
    assert coverage.track_number("V12 'Video 12'") == 12 and coverage.track_number("") == 1


@pytest.mark.parametrize("content, says", [
    ("not json", "cannot read the coverage result"),
    (json.dumps({"comparisons": []}), "expected a coverage result with 'holes'"),
    (json.dumps({"holes": [{"index": 1, "record": [5, 2], "proposals": []}]}), "hole 1: record 5-2 ends before"),
    (json.dumps({"holes": [{"index": 1, "record": [1, 2], "proposals": [
        {"id": "p", "record": [1, 2], "rendered": {"pattern": "/x.exr", "first": 1, "last": 2}}]}]}),
     "proposal p: expected 'rendered' with a #### pattern"),
])
def test_a_file_that_is_not_a_coverage_result_is_named(coverage, tmp_path, content, says):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(coverage.CoverageError, match="bad.json.*" + says):
        coverage.read_result(str(path))
    with pytest.raises(coverage.CoverageError, match="missing.json"):
        coverage.read_result(str(tmp_path / "missing.json"))


def test_the_tools_description_says_coverage_stands_on_an_edit(client):
    from matchcut.tools.description import describe_all

    tools = client["tools"]
    described = describe_all()["tools"]
    assert tools.stands_on_edit(described["coverage"]) and tools.edit_inputs(described["coverage"]) == ["timeline"]
    assert not tools.stands_on_edit(described["continuity"])  # its timeline is optional, beside shots A and B
    assert not any(tools.stands_on_edit(t) for name, t in described.items() if name != "coverage")
    assert tools.frame_outputs(described["coverage"], ["out", "report", "json"]) == []  # folders and a file
    assert tools.record_range_param(described["coverage"]) == "range"  # a host's In/Out goes there
    assert tools.record_range_param(described["continuity"]) is None
    assert tools.secondary_inputs(described["coverage"]) == []
