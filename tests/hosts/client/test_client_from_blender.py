"""Worker-client behaviour the Blender adapter's own copies were tested for, and the client suite did not yet
cover: the events folded into a job's state and its progress line, finding the worker in a file, a folder or
$MATCHCUT_WORKER, a failed question's one line, and a real job cancelled mid-way leaving whole frames only."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest


def test_job_state_folds_the_events_and_the_progress_line_follows(client):
    events = client["events"]
    s = events.JobState()
    for line in ['{"event": "start", "total": 4}', "not json",
                 '{"event": "frame", "frame": 1002, "index": 2, "total": 4}',
                 '{"event": "warning", "message": "clipped", "frame": 1002}', '{"event": "info", "message": "fit"}',
                 '{"event": "done", "frames_written": 4, "artifacts": {"report": "/r"}}']:
        s.feed(line)
    assert s.status == "done" and s.fraction == 1.0 and s.artifacts == {"report": "/r"} and s.frames_written == 4
    assert s.warnings == ["frame 1002: clipped"] and s.infos == ["fit"] and s.stray == ["not json"]
    s.process_ended(0)
    assert s.status == "done" and s.exit_code == 0
    assert events.progress_text(s, "Matchcut apply") == "Matchcut apply: done (1 warning(s))"
    s = events.JobState()
    assert events.progress_text(s, "Matchcut apply") == "Matchcut apply: starting the worker..."
    s.feed('{"event": "start", "total": 4}')
    assert events.progress_text(s, "Matchcut apply") == "Matchcut apply: preparing (4 frame(s) to do)..."
    s.feed('{"event": "frame", "frame": 5, "index": 1, "total": 4, "fraction": 0.25}')
    assert events.progress_text(s, "Matchcut apply") == "Matchcut apply: frame 5 (1/4, 25%)"
    s.process_ended(-9)
    assert s.status == "error" and "signal 9" in s.error
    s = events.JobState()
    s.feed('{"event": "error", "message": "a.exr: missing\\n frame 3", "exit_code": 4}')
    s.process_ended(4)
    assert s.status == "error" and s.error == "a.exr: missing frame 3" and s.exit_code == 4
    s = events.JobState()
    s.feed('{"event": "done", "frames_written": 1}')
    s.process_ended(3)  # an exit status after the done event: not done after all
    assert s.status == "error" and "status 3 after finishing" in s.error


def test_find_worker_takes_a_file_a_folder_or_the_environment(client, real_worker, tmp_path, monkeypatch):
    worker = client["worker"]
    monkeypatch.delenv("MATCHCUT_WORKER", raising=False)
    assert worker.find_worker(real_worker) == real_worker
    assert worker.find_worker(str(Path(real_worker).parent.parent)) == real_worker  # a venv folder (bin/)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(worker.WorkerError, match="no Matchcut worker found .*worker setting"):
        worker.find_worker(str(tmp_path / "nowhere"))
    monkeypatch.setenv("MATCHCUT_WORKER", real_worker)
    assert worker.find_worker("") == real_worker


def test_a_failed_question_gives_the_workers_error_line(client, real_worker):
    expected = "models info no-such-model --json failed: .*no model .no-such-model."
    with pytest.raises(client["worker"].WorkerError, match=expected):
        client["worker"].query(real_worker, ["models", "info", "no-such-model", "--json"])


def _frames(folder: Path, n: int, size: int = 256) -> None:
    import OpenImageIO as oiio

    folder.mkdir()
    for f in range(1, n + 1):
        out = oiio.ImageOutput.create(str(folder / f"p.{f:04d}.exr"))
        out.open(str(folder / f"p.{f:04d}.exr"), oiio.ImageSpec(size, size, 3, "half"))
        out.write_image(np.full((size, size, 3), f / n, np.float32))
        out.close()


@pytest.mark.zoo
def test_a_real_job_cancelled_mid_way_keeps_whole_frames_only(client, real_worker, tmp_path):
    jobs = client["jobs"]
    _frames(tmp_path / "src", 40)
    out = tmp_path / "out"
    job = jobs.build_job("apply", {"plate": str(tmp_path / "src" / "p.####.exr")}, {"main": str(out / "r.####.exr")},
                         "1-40", {"model": "degrain-small"})
    run = client["worker"].JobRun(real_worker, jobs.write_json_atomic(str(out / "job.json"), job))
    deadline = time.time() + 120
    while run.state.index < 1 and time.time() < deadline:
        run.poll(timeout=0.2)
    assert run.state.total == 40 and 0 < run.state.fraction < 1
    state = run.cancel()
    assert state.status == "cancelled" and state.finished and run.process.returncode is not None
    written = sorted(p.name for p in out.iterdir() if p.name != "job.json")
    assert all(n.startswith("r.") and n.endswith(".exr") for n in written)  # whole frames only, no temporaries
    assert 0 < len(written) < 40
