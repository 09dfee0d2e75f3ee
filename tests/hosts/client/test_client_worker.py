"""The worker client against the real worker and against broken ones: questions, jobs, cancel, failures."""
from __future__ import annotations

import json
import os
import time

import pytest


def _job(client, plates, out, frames="1001-1003", **params):
    jobs = client["jobs"]
    job = jobs.build_job("match", {"plate": str(plates / "sh010.####.exr"), "reference": str(plates / "ref.exr")},
                         {"main": str(out / "sh010_match.####.exr")}, frames, params)
    return jobs.write_json_atomic(str(out / "job.json"), job)


def test_a_real_job_runs_to_done_with_progress_and_stderr_kept_apart(client, real_worker, plates, tmp_path):
    path = _job(client, plates, tmp_path / "out")
    run = client["worker"].JobRun(real_worker, path)
    seen = []
    state = client["worker"].follow(run, on_event=lambda s: seen.append(s.index))
    assert state.status == "done", state.error
    assert state.total == 3 and state.frames_written == 3 and max(seen) == 3
    assert sorted(p.name for p in (tmp_path / "out").glob("*.exr")) == [f"sh010_match.{f}.exr" for f in (1001, 1002, 1003)]
    assert not state.stray  # stdout carried events only
    assert "done" in client["events"].progress_text(state, "Shot Match")


def test_a_bad_job_gives_the_workers_one_line_error(client, real_worker, plates, tmp_path):
    path = _job(client, plates, tmp_path / "out", method="magic")
    state = client["worker"].JobRun(real_worker, path).wait(timeout=120)
    assert state.status == "error" and "magic" in state.error and "\n" not in state.error
    assert state.exit_code and state.exit_code != 0


def test_garbage_on_stdout_is_skipped_and_shown_when_the_worker_dies(client, script, tmp_path):
    exe = script('echo "loading CUDA..."\necho \'{"event": "start", "total": 4}\'\n'
                 'echo \'{"event": "frame", "frame": 1001, "index": 1, "total": 4}\'\n'
                 'echo "Segmentation fault in libfoo" >&2\nexit 139')
    state = client["worker"].JobRun(exe, str(tmp_path / "job.json")).wait(timeout=30)
    assert state.stray == ["loading CUDA..."] and state.index == 1
    assert state.status == "error" and "status 139" in state.error and "Segmentation fault in libfoo" in state.error


def test_a_worker_killed_mid_job_is_reported_with_the_signal(client, script, tmp_path):
    exe = script('echo \'{"event": "start", "total": 4}\'\necho "reading plate 1002" >&2\nkill -9 $$')
    state = client["worker"].JobRun(exe, str(tmp_path / "job.json")).wait(timeout=30)
    assert state.status == "error" and "signal 9" in state.error and "reading plate 1002" in state.error


def test_cancel_asks_first_and_kills_a_worker_that_ignores_it(client, script, tmp_path):
    polite = script('trap \'echo "{\\"event\\": \\"cancelled\\", \\"frames_written\\": 1}"; exit 130\' INT\n'
                    'echo \'{"event": "start", "total": 9}\'\nwhile true; do sleep 0.1; done', name="polite")
    run = client["worker"].JobRun(polite, str(tmp_path / "job.json"))
    run.poll(timeout=5)
    state = run.cancel(grace=10)
    assert state.status == "cancelled" and state.frames_written == 1
    stubborn = script("trap '' INT\necho '{\"event\": \"start\", \"total\": 9}'\nwhile true; do sleep 0.1; done",
                      name="stubborn")
    run = client["worker"].JobRun(stubborn, str(tmp_path / "job.json"))
    run.poll(timeout=5)
    start = time.monotonic()
    state = run.cancel(grace=0.5)
    assert state.status == "cancelled" and time.monotonic() - start < 10


def test_questions_time_out_in_one_line(client, script):
    exe = script("sleep 30")
    start = time.monotonic()
    with pytest.raises(client["worker"].WorkerError, match=r"no answer in 0.5 s"):
        client["worker"].query(exe, ["tools", "--json"], timeout=0.5)
    assert time.monotonic() - start < 5


def test_find_worker_names_what_it_tried(client, tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHCUT_WORKER", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(client["worker"].WorkerError, match="nowhere"):
        client["worker"].find_worker("")


def test_job_files_are_written_atomically_and_read_by_the_worker(client, plates, tmp_path):
    from matchcut.jobs.spec import load_job

    path = _job(client, plates, tmp_path / "out", frames="1001-1002")
    spec = load_job(path)
    assert spec.tool == "match" and spec.frames == [1001, 1002]
    assert not [p for p in os.listdir(tmp_path / "out") if p.endswith(".tmp")]
    with pytest.raises(ValueError, match="absolute"):
        client["jobs"].build_job("match", {"plate": "rel.####.exr"}, {}, "1001")
    assert client["jobs"].format_frames([1003, 1001, 1002, 1007]) == "1001-1003,1007"
    assert json.loads(open(path).read())["output_options"] == {"dtype": "half", "compression": None}


def test_a_worker_that_dies_leaves_no_half_written_file(client, script, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sh010.1001.exr").write_bytes(b"a finished frame")
    job = client["jobs"].build_job("apply", {"plate": str(tmp_path / "in.####.exr")},
                                   {"main": str(out / "sh010.####.exr")}, "1001-1002")
    path = client["jobs"].write_json_atomic(str(tmp_path / "job.json"), job)
    # as the worker writes a frame: a hidden temporary beside the output, renamed when complete; it dies first
    exe = script(f'echo \'{{"event": "start", "total": 2}}\'\nprintf half > "{out}/.sh010.1002.tmp-$$-ab12.exr"\n'
                 'echo "killed while writing 1002" >&2\nkill -9 $$')
    state = client["worker"].JobRun(exe, path).wait(timeout=30)
    assert state.status == "error" and "killed while writing 1002" in state.error
    assert sorted(p.name for p in out.iterdir()) == ["sh010.1001.exr"]


def test_a_timer_driven_cancel_kills_after_the_grace_without_blocking(client, script, tmp_path):
    stubborn = script("trap '' INT\necho '{\"event\": \"start\", \"total\": 9}'\nwhile true; do sleep 0.1; done")
    run = client["worker"].JobRun(stubborn, str(tmp_path / "job.json"))
    run.grace = 0.5
    run.poll(timeout=5)
    run.request_cancel()
    start = time.monotonic()
    while not run.poll(timeout=0.1).finished:  # as a host's timer: each tick returns at once
        assert time.monotonic() - start < 10
    assert run.state.status == "cancelled"
