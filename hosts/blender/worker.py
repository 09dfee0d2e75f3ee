"""The Matchcut worker: find the ``matchcut`` executable, ask it questions, run a job and read its events.

Everything Matchcut computes runs in that separate process (its own Python, onnxruntime and OpenImageIO), so
Blender never loads them. Plain Python: tests drive it without Blender.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading

from . import events

#: Seconds a question (``tools``, ``models``, ``doctor``) may take before the worker counts as unresponsive.
QUERY_TIMEOUT = 120


class WorkerError(Exception):
    """The worker is missing, failed, or answered something that is not what was expected; one line."""


def find_worker(configured=""):
    """The worker's path: ``configured`` if set (a file or a folder holding ``matchcut``), else on PATH.

    Also looks at ``$MATCHCUT_WORKER``. Raises WorkerError naming what was tried.
    """
    exe = "matchcut.exe" if sys.platform == "win32" else "matchcut"
    tried = []
    for candidate in (configured, os.environ.get("MATCHCUT_WORKER", "")):
        if not candidate:
            continue
        path = os.path.expanduser(candidate)
        if os.path.isdir(path):
            for sub in ("", "bin", "Scripts"):
                full = os.path.join(path, sub, exe)
                if os.path.isfile(full) and os.access(full, os.X_OK):
                    return full
        elif os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        tried.append(path)
    found = shutil.which(exe)
    if found:
        return found
    tried.append("%s on PATH" % exe)
    raise WorkerError("no Matchcut worker found (tried %s); set its path in the add-on's preferences"
                      % ", ".join(tried))


def query(worker, args, timeout=QUERY_TIMEOUT):
    """Run ``matchcut ARGS`` and parse its JSON answer; WorkerError with the worker's last line on failure."""
    try:
        proc = subprocess.run([worker] + list(args), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkerError("matchcut %s: %s" % (" ".join(args), exc))
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    if proc.returncode != 0 and not isinstance(data, dict):
        raise WorkerError("matchcut %s failed: %s" % (" ".join(args), last_line(proc.stderr or proc.stdout)))
    if data is None:
        raise WorkerError("matchcut %s did not answer JSON: %s" % (" ".join(args), last_line(proc.stdout)))
    return data


def last_line(text):
    """The last non-empty line of a process's output (where the CLI prints its one-line error)."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def doctor_lines(exe, data):
    """``matchcut doctor --json``'s answer as a few lines for the preferences panel."""
    providers = data.get("providers") or {}
    lines = ["%s: Matchcut %s, Python %s" % (exe, data.get("matchcut", "?"), data.get("python", "?")),
             "GPU in use: %s" % ("yes" if data.get("gpu_active") else "no (CPU)"),
             "models installed: %s" % ((data.get("models") or {}).get("count", "?"))]
    if providers.get("onnxruntime"):
        lines.insert(1, "onnxruntime %s" % providers["onnxruntime"])
    lines += ["problem: %s" % e for e in data.get("errors") or []]
    return lines


class JobRun:
    """One running ``matchcut run JOB --events jsonl``: a reader thread queues events; ``poll`` drains them.

    ``poll`` and ``cancel`` are for the caller's (Blender's main) thread; the thread only touches the queue.
    ``state`` is an ``events.JobState`` kept up to date by ``poll``.
    """

    def __init__(self, worker, job_path, env=None):
        self.job_path = job_path
        self.state = events.JobState()
        self._queue = queue.Queue()
        self._stderr = []
        self.process = subprocess.Popen(
            [worker, "run", job_path, "--events", "jsonl"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, bufsize=1, env=env)
        self._threads = [threading.Thread(target=self._read, args=(self.process.stdout, True), daemon=True),
                         threading.Thread(target=self._read, args=(self.process.stderr, False), daemon=True)]
        for t in self._threads:
            t.start()

    def _read(self, stream, is_events):
        for line in stream:
            if is_events:
                self._queue.put(line)
            else:
                self._stderr.append(line)
        if is_events:
            self._queue.put(None)  # end of the event stream

    def poll(self, timeout=0.0):
        """Apply the events that arrived (waiting up to ``timeout`` s for the first); True once the job ended."""
        block = timeout > 0
        while True:
            try:
                line = self._queue.get(block=block, timeout=timeout if block else None)
            except queue.Empty:
                break
            block = False
            if line is None:
                self._finish()
                break
            self.state.feed(line)
        return self.state.finished

    def _finish(self):
        code = self.process.wait()
        for t in self._threads:
            t.join(timeout=5)
        self.state.process_ended(code, last_line("".join(self._stderr)))

    def request_cancel(self):
        """Ask the worker to stop (SIGINT; terminate on Windows) without waiting: it finishes no partial frame.

        ``poll`` then reports the end (outcome ``cancelled``) once the process has exited.
        """
        self.state.cancel_requested = True
        if self.process.poll() is None:
            try:
                if sys.platform == "win32":
                    self.process.terminate()  # Windows has no SIGINT for a child; the runner's writes are atomic
                else:
                    self.process.send_signal(signal.SIGINT)
            except OSError:  # it exited meanwhile
                pass

    def kill(self):
        """Stop a worker that ignored ``request_cancel`` (hung in a model): SIGKILL, no clean-up of its own."""
        if self.process.poll() is None:
            self.process.kill()

    def cancel(self, timeout=60):
        """Stop the worker cleanly and wait for it (killed after ``timeout`` s); returns the final state."""
        self.request_cancel()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        while not self.poll(timeout=1.0):
            pass
        return self.state
