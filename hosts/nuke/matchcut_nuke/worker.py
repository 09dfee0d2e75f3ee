"""Worker discovery and process control: find the `matchcut` executable, start a run, follow its events, cancel."""
from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from typing import Any, Callable, Dict, List, Optional

from matchcut_nuke import events


def find_worker(configured: str = "") -> Optional[str]:
    """The worker executable: the node's setting, then $MATCHCUT_WORKER, then `matchcut` on PATH, else None."""
    for candidate in (configured, os.environ.get("MATCHCUT_WORKER", "")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("matchcut")


def run_command(worker: str, job_path: str) -> List[str]:
    """The argv that runs a job with JSON-lines events on stdout."""
    return [worker, "run", job_path, "--events", "jsonl"]


def start(worker: str, job_path: str) -> "subprocess.Popen[str]":
    """Start the worker out of process; stderr joins stdout (non-JSON lines are skipped) so no pipe fills up."""
    return subprocess.Popen(run_command(worker, job_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)


def cancel(process: "subprocess.Popen[str]", timeout: float = 30.0) -> int:
    """SIGINT (terminate on Windows), then wait: the runner stops after the frame it is writing (writes are
    atomic, so no partial file) and the job can resume; a worker that does not stop in ``timeout`` is killed."""
    if process.poll() is None:
        if sys.platform == "win32":
            process.terminate()
        else:
            process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def follow(process: "subprocess.Popen[str]", on_event: Callable[[events.RunState, Dict[str, Any]], None],
           cancelled: Callable[[], bool], poll: float = 0.1) -> events.RunState:
    """Read the worker's events until it exits, calling ``on_event`` for each; ``cancelled()`` is asked every
    ``poll`` seconds even while the worker is silent (loading a model), and a True cancels the worker."""
    lines: "queue.Queue[Optional[str]]" = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, name="matchcut-events", daemon=True)
    reader.start()
    run = events.RunState()
    while True:
        if cancelled():
            cancel(process)
            reader.join(timeout=5)
            run.status = "cancelled"
            return run
        try:
            line = lines.get(timeout=poll)
        except queue.Empty:
            continue
        if line is None:
            break
        event = events.parse_line(line)
        if event is not None:
            events.apply_event(run, event)
            on_event(run, event)
    code = process.wait()
    if run.status == "running":
        run.status = "error"
        run.error = run.error or "the worker exited with code {} and no result".format(code)
    return run
