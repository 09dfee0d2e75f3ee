"""Client behaviour the Resolve adapter's own copies were tested for (moved here with the client): events folded
into progress, messages and artifacts one line each, and the models a model-running tool offers."""
from __future__ import annotations


def test_events_fold_progress_messages_artifacts_and_the_error(client):
    events = client["events"]
    state = events.JobState()
    assert events.progress_text(state, "Relight") == "Relight: starting the worker..."
    for line in ['{"event": "start", "total": 4}', "onnxruntime noise", '{"event": "frame", "frame": 1002, "index": 2, '
                 '"total": 4, "fraction": 0.5}', '{"event": "info", "message": "LUT written"}',
                 '{"event": "warning", "message": "clipped\\nvalues", "frame": 1002}', '["not", "an event"]', ""]:
        state.feed(line)
    assert events.progress_text(state, "Relight") == "Relight: frame 1002 (2/4, 50%)"
    assert state.infos == ["LUT written"] and state.warnings == ["frame 1002: clipped values"]
    assert state.stray == ["onnxruntime noise", '["not", "an event"]']
    state.apply({"event": "done", "artifacts": {"lut": "/a.cube"}, "frames_written": 3, "frames_skipped": 1})
    assert state.finished and state.artifacts == {"lut": "/a.cube"} and state.frames_skipped == 1
    state.apply({"event": "error", "message": "late"})  # nothing after a final event
    assert state.status == "done" and events.progress_text(state, "Relight") == "Relight: done (1 warning(s))"
    # a worker that exits without a final event: its last stderr line (the CLI's one-line error) says why
    failed = events.JobState()
    failed.process_ended(3, ["", "matchcut: error: plate.1001.exr: cannot read: truncated"])
    assert failed.status == "error" and failed.error.endswith("truncated") and failed.exit_code == 3
    error = events.JobState()
    error.apply({"event": "error", "message": "a\nb", "exit_code": 6})
    assert error.error == "a b" and error.exit_code == 6 and "error: a b" in events.progress_text(error, "x")
    cancelled = events.JobState()
    cancelled.apply({"event": "cancelled", "frames_written": 2})
    assert "running it again resumes" in events.progress_text(cancelled, "x") and cancelled.frames_written == 2


def test_a_model_running_tool_offers_image_models_first(client):
    tools = client["tools"]
    listed = {"models": [{"id": "face-detection", "task": "face-detection"}, {"id": "grade-net", "task": "grading"},
                         {"id": "degrain-small", "task": "image-to-image"}]}
    assert tools.image_models(listed) == ["degrain-small", "grade-net"]  # the worker refuses unusable ones itself
    assert tools.image_models(listed["models"]) == ["degrain-small", "grade-net"] and tools.image_models({}) == []
