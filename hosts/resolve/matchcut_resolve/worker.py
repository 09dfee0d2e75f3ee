"""The worker process: find the `matchcut` executable, ask it for JSON, run a job with live events, cancel it."""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from typing import Any, List, Optional

from matchcut_resolve import events


class WorkerError(RuntimeError):
    """The worker is missing or answered something other than what was asked; the message is one line."""


def find_worker(configured: str = "") -> Optional[str]:
    """The worker executable: the configured path, then $MATCHCUT_WORKER, then `matchcut` on PATH, else None."""
    for candidate in (configured, os.environ.get("MATCHCUT_WORKER", "")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("matchcut")


def require_worker(configured: str = "") -> str:
    exe = find_worker(configured)
    if exe is None:
        raise WorkerError("Matchcut worker not found: set MATCHCUT_WORKER to the matchcut executable of the "
                          "worker environment (or run `matchcut hosts install resolve` from it)")
    return exe


def _hidden_window() -> dict:
    # Resolve on Windows must not flash a console window for every worker call.
    if sys.platform == "win32":
        return {"creationflags": getattr(subprocess, "CREATE_NO_WINDOW", 0)}
    return {}


def run_json(exe: str, args: List[str], timeout: float = 120.0) -> Any:
    """Run `matchcut ARGS --json` and parse its stdout; a failure is a WorkerError with the worker's line."""
    try:
        done = subprocess.run([exe] + list(args) + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout, **_hidden_window())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkerError("matchcut {}: {}".format(" ".join(args), exc))
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip()]
        raise WorkerError(last[-1] if last else "matchcut {} exited with {}".format(" ".join(args), done.returncode))
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise WorkerError("matchcut {}: expected JSON on stdout".format(" ".join(args)))


def run_command(exe: str, job_path: str) -> List[str]:
    """The argv that runs a job with JSON-lines events on stdout."""
    return [exe, "run", job_path, "--events", "jsonl"]


class Run:
    """One running job: a reader thread feeds events into a queue that the dialog's timer drains, so the
    Resolve UI never blocks on the worker's pipe."""

    def __init__(self, exe: str, job_path: str) -> None:
        self.state = events.RunState()
        self.stray: List[str] = []
        self.cancelled = False
        self._queue: "queue.Queue[Optional[str]]" = queue.Queue()
        # stderr joins stdout: the one-line error the CLI prints arrives as a stray line, and no pipe fills.
        self.process = subprocess.Popen(run_command(exe, job_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        universal_newlines=True, bufsize=1, **_hidden_window())
        self._thread = threading.Thread(target=self._read, name="matchcut-worker-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def poll(self) -> events.RunState:
        """Fold every line that arrived since the last poll into ``state``; settle it once the worker exited."""
        ended = False
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is None:
                ended = True
                break
            event = events.parse_line(line)
            if event is None:
                self.stray.append(line)
            else:
                events.apply_event(self.state, event)
        if ended:
            self.process.wait()
            self._settle()
        return self.state

    def wait(self, timeout: Optional[float] = None) -> events.RunState:
        """Block until the worker exits (the Lua stubs' path and tests); returns the settled state."""
        self._thread.join(timeout)
        self.process.wait(timeout)
        while not self.state.finished:
            self.poll()
            if not self.state.finished and self._queue.empty() and not self._thread.is_alive():
                self._settle()
        return self.state

    def _settle(self) -> None:
        if self.cancelled and not self.state.finished:
            self.state.status = "cancelled"  # terminated on Windows: no cancelled event was written
        events.finish(self.state, self.process.returncode, self.stray)

    def cancel(self, timeout: float = 60.0) -> events.RunState:
        """SIGINT (terminate on Windows), then wait: the runner finishes no partial frame; running the same
        job again resumes."""
        self.cancelled = True
        if self.process.poll() is None:
            if sys.platform == "win32":
                self.process.terminate()
            else:
                self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.wait(timeout)
