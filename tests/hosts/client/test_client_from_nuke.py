"""Client-level tests that were the Nuke adapter's while it had its own copies of the job writer, the event
parser and the timing rules (tests/hosts/nuke/test_nuke_plain.py): now they test the shared client."""
from __future__ import annotations

import pytest


_DESCRIBED: dict = {}


@pytest.fixture
def described(client, real_worker):
    """The real worker's tools, asked once for this module."""
    if not _DESCRIBED:
        _DESCRIBED.update(client["tools"].load_descriptions(real_worker)[0])
    return _DESCRIBED


def test_job_frames_reject_a_reversed_range_and_paths_must_be_absolute(client):
    jobs = client["jobs"]
    assert jobs.format_range(1001, 1001) == "1001" and jobs.format_range(1001, 1100) == "1001-1100"
    with pytest.raises(ValueError, match="first <= last"):
        jobs.format_range(5, 1)
    with pytest.raises(ValueError, match="'plate' must be absolute"):
        jobs.build_job("apply", {"plate": "in.####.exr"}, {}, "1-2")


def test_events_fold_progress_warnings_artifacts_and_a_one_line_error(client):
    events = client["events"]
    state = events.JobState()
    for line in ['{"event": "start", "tool": "match", "total": 2}', "stray text", "",
                 '{"event": "frame", "frame": 1001, "index": 1, "fraction": 0.5}',
                 '{"event": "warning", "message": "clipped", "frame": 1001}',
                 '{"event": "done", "artifacts": {"lut": "/x/a.cube"}}']:
        state.feed(line)
    assert state.status == "done" and state.fraction == 1.0 and state.artifacts == {"lut": "/x/a.cube"}
    assert state.warnings == ["frame 1001: clipped"] and state.stray == ["stray text"]
    failed = events.JobState()
    failed.apply({"event": "error", "message": "plate.1001.exr: missing\nmore", "exit_code": 3})
    assert failed.status == "error" and failed.error == "plate.1001.exr: missing more" and failed.exit_code == 3


def test_progress_text_for_each_state(client):
    events = client["events"]
    state = events.JobState()
    assert events.progress_text(state, "Frame Fill") == "Frame Fill: starting the worker..."
    state.feed('{"event": "start", "total": 3}')
    assert events.progress_text(state, "Frame Fill") == "Frame Fill: preparing (3 frame(s) to do)..."
    state.feed('{"event": "frame", "frame": 1002, "index": 2, "total": 3, "fraction": 0.456}')
    assert events.progress_text(state, "Frame Fill") == "Frame Fill: frame 1002 (2/3, 46%)"
    assert int(state.fraction * 100) == 45  # a progress bar's whole percent
    state.feed('{"event": "cancelled"}')
    assert "cancelled" in events.progress_text(state, "Frame Fill")


def test_render_range_handles_and_clamping(client, described):
    t = client["tools"]
    assert t.render_range(described["fill"], 1002, 1004, 2) == (1000, 1006)
    assert t.render_range(described["fill"], 1002, 1004, 2, (1001, 1005)) == (1001, 1005)
    assert t.render_range(described["retime"], 1002, 1004, 1, (1001, 1010)) == (1002, 1005)  # no head handle
    assert t.render_range(described["match"], 1001, 1001, 0, (1001, 1001)) == (1001, 1001)
    with pytest.raises(ValueError, match="first <= last"):
        t.render_range(described["fill"], 5, 1, 0)
    with pytest.raises(ValueError, match=">= 0"):
        t.render_range(described["fill"], 1, 5, -1)


@pytest.mark.parametrize("params", [{"speed": 0.5}, {"speed": 2.0}, {"speed": 0.37}, {"fps_from": 24.0, "fps_to": 30.0},
                                    {"fps_from": 30.0, "fps_to": 24.0}])
def test_retime_output_range_matches_the_worker_plan(client, described, params):
    from matchcut.retime.timing import retime_sources, retime_step

    t = client["tools"]
    step = retime_step(params.get("speed"), params.get("fps_from"), params.get("fps_to"))
    plan = retime_sources(list(range(1001, 1025)), step)
    assert t.output_range(described["retime"], params, 1001, 1024) == (min(plan), max(plan))
    assert t.output_range(described["fill"], params, 1001, 1024) == (1001, 1024)
    with pytest.raises(ValueError, match="Speed"):
        t.output_range(described["retime"], {"speed": None}, 1, 2)
