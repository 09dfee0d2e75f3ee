"""Worker discovery and process control: find the `matchcut` executable, start a run, cancel it."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from typing import List, Optional


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
    """SIGINT (terminate on Windows) then wait: the runner finishes no partial frame and the job can resume."""
    if process.poll() is None:
        if sys.platform == "win32":
            process.terminate()
        else:
            process.send_signal(signal.SIGINT)
    return process.wait(timeout=timeout)
