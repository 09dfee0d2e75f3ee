"""Event sinks: JSON lines are one valid object per line with the fields; text and list sinks."""

from __future__ import annotations

import io
import json
import threading

import pytest

from matchcut.errors import MissingFramesError
from matchcut.frames.ranges import format_frames
from matchcut.jobs.events import JsonLinesSink, ListSink, NullSink, TextSink, error_fields


def _emit_all(sink):
    sink.emit("start", job="apply", frames=[1001, 1002], total=2, time="2026-01-01T00:00:00+00:00")
    sink.emit("frame", frame=1001, index=1, total=2, fraction=0.5, outputs=["/o.1001.exr"], skipped=True, seconds=0.0)
    sink.emit("warning", message="slow", frame=1002)
    sink.emit("frame", frame=1002, index=2, total=2, fraction=1.0, outputs=["/o.1002.exr"], skipped=False, seconds=0.25)
    sink.emit("done", frames_written=1, frames_skipped=1, seconds=0.3)


def test_json_lines_one_object_per_line():
    stream = io.StringIO()
    _emit_all(JsonLinesSink(stream))
    lines = stream.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == ["start", "frame", "warning", "frame", "done"]
    assert events[0] == {"event": "start", "job": "apply", "frames": [1001, 1002], "total": 2,
                         "time": "2026-01-01T00:00:00+00:00"}
    assert events[3]["fraction"] == 1.0 and events[3]["outputs"] == ["/o.1002.exr"] and events[3]["skipped"] is False
    assert events[4] == {"event": "done", "frames_written": 1, "frames_skipped": 1, "seconds": 0.3}


def test_json_lines_from_many_threads_stay_whole_lines():
    stream = io.StringIO()
    sink = JsonLinesSink(stream)

    def burst(k):
        for i in range(50):
            sink.emit("warning", message=f"thread {k} message {i} " + "x" * 200)

    threads = [threading.Thread(target=burst, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 200
    assert all(json.loads(line)["event"] == "warning" for line in lines)


def test_error_fields_are_one_line_with_exit_code():
    frames = [1001, 1002, 1003, 1007]
    fields = error_fields(MissingFramesError("/p/a.####.exr", frames, format_frames(frames)))
    assert fields["type"] == "MissingFramesError"
    assert fields["exit_code"] == 3
    assert "\n" not in fields["message"] and "1001-1003" in fields["message"] and "1007" in fields["message"]
    assert error_fields(ValueError("a\nb"))["message"] == "a b"


def test_list_sink_keeps_events_and_unknown_event_is_refused():
    sink = ListSink()
    _emit_all(sink)
    assert [e["frame"] for e in sink.of("frame")] == [1001, 1002]
    assert sink.of("warning") == [{"event": "warning", "message": "slow", "frame": 1002}]
    with pytest.raises(ValueError, match="unknown event 'progress'"):
        sink.emit("progress")
    NullSink().emit("done", frames_written=0, frames_skipped=0, seconds=0.0)


def test_text_sink_plain_lines():
    stream = io.StringIO()
    sink = TextSink(stream, progress=False)
    _emit_all(sink)
    sink.emit("cancelled", frames_written=1)
    text = stream.getvalue()
    assert "apply: 2 frame(s) 1001-1002" in text
    assert "frame 1001 [1/2] skipped" in text
    assert "warning (frame 1002): slow" in text
    assert "done: 1 written, 1 skipped" in text
    assert "cancelled: 1 frame(s) written" in text


def test_text_sink_progress_bar_renders():
    stream = io.StringIO()
    sink = TextSink(stream, progress=True)
    _emit_all(sink)
    sink.close()
    assert "warning (frame 1002): slow" in stream.getvalue()
    assert "done: 1 written" in stream.getvalue()
