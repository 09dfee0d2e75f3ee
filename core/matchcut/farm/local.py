"""openjd-local: the bundle run on this machine by Open Job Description's own CLI, ``openjd run`` (openjd-cli).

Every step runs in order (the chunks, then the final step), each task as the farm would run it; the session's
log (the tasks' JSON-lines events among OpenJD's lines) is kept beside the bundle in ``openjd-run.log``. The
run ends before ``submit`` returns, so the "job id" names the bundle it ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from matchcut.errors import FarmClientError, FarmError
from matchcut.farm import Submission
from matchcut.farm.bundle import Bundle

LOG = "openjd-run.log"
INSTALL = "pip install 'matchcut[farm]' (or pip install openjd-cli) in the worker environment"


def find_openjd() -> str:
    """The ``openjd`` executable: beside this Python (the same environment), else on PATH; FarmClientError
    saying how to install it."""
    exe = "openjd.exe" if os.name == "nt" else "openjd"
    beside = Path(sys.executable).parent / exe
    if beside.is_file():
        return str(beside)
    found = shutil.which(exe)
    if not found:
        raise FarmClientError("openjd", f"not installed (Open Job Description's CLI, PyPI package openjd-cli): {INSTALL}")
    return found


def openjd_command(bundle: Bundle, verb: str) -> list[str]:
    """``openjd VERB TEMPLATE``, with the bundle's parameter values (``-p NAME=VALUE``) for ``run``."""
    values = [arg for name, value in bundle.values().items() for arg in ("-p", f"{name}={value}")] \
        if verb == "run" else []
    return [find_openjd(), verb, str(bundle.template), *values]


def error_line(log: str) -> str:
    """The reason a session failed: the last error event a task printed, else OpenJD's last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        start = line.find('{"event": "error"')
        if start >= 0:
            try:
                return json.loads(line[start:])["message"]
            except (ValueError, KeyError):
                break
    return lines[-1] if lines else "no output"


def submit(bundle: Bundle, priority: int | None, log) -> Submission:
    """Run every step of the bundle with ``openjd run``; FarmError with the failing task's error line."""
    command = openjd_command(bundle, "run")
    log(f"openjd-local: {' '.join(command)}")
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True, encoding="utf-8", errors="replace")
    path = bundle.folder / LOG
    path.write_text(done.stdout, encoding="utf-8")
    if done.returncode != 0:
        raise FarmError(f"openjd run {bundle.template} failed: {error_line(done.stdout)} (log: {path})")
    return Submission("openjd-local", f"openjd-local:{bundle.folder}", str(bundle.folder), [str(path)], command,
                      f"ran every step of {bundle.template} with openjd run on this machine")
