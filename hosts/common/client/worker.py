"""The worker process: find the ``matchcut`` executable, ask it questions, run a job, follow and cancel it.

Everything Matchcut computes runs in that separate process (its own Python, onnxruntime and OpenImageIO), so
no host ever loads them. stdout carries JSON (answers, or a job's events); stderr is kept apart and shown
only when something fails. One policy for all hosts: a question has a timeout, a cancel gets CANCEL_GRACE
seconds to finish the frame being written, and no console window opens on Windows.
"""

import collections
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

from . import events

#: Seconds a question (tools, models, doctor) may take before the worker counts as unresponsive.
QUERY_TIMEOUT = 60.0
#: Seconds a cancelled worker gets to finish the frame it is writing (writes are atomic) before it is killed.
CANCEL_GRACE = 30.0
#: stderr lines kept from a job (the tail is what an error shows).
STDERR_LINES = 200


class WorkerError(Exception):
    """The worker is missing, failed, or answered something other than what was asked; the message is one line."""


def executable_name(platform=None):
    return "matchcut.exe" if (platform or sys.platform) == "win32" else "matchcut"


def find_worker(configured=""):
    """The worker's path: ``configured`` (a file, or a folder holding ``matchcut`` or ``bin``/``Scripts``
    with it), then ``$MATCHCUT_WORKER``, then ``matchcut`` on PATH. Raises WorkerError naming what was tried."""
    exe = executable_name()
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
    tried.append("{} on PATH".format(exe))
    raise WorkerError("no Matchcut worker found (tried {}): set MATCHCUT_WORKER, or the adapter's worker setting, "
                      "to the matchcut executable of the worker environment".format(", ".join(tried)))


def process_options():
    """Popen keyword arguments every worker call shares: text in UTF-8, no stdin, no console window on Windows."""
    options = {"stdin": subprocess.DEVNULL, "universal_newlines": True, "encoding": "utf-8", "errors": "replace"}
    if sys.platform == "win32":
        options["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    return options


def last_line(text):
    """The last non-empty line of a process's output (where the CLI prints its one-line error)."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def query(exe, args, timeout=QUERY_TIMEOUT, env=None):
    """Run ``matchcut ARGS`` (``--json`` among them) and parse its JSON answer; WorkerError with the worker's
    last stderr line when it fails, answers no JSON, or takes longer than ``timeout`` seconds."""
    what = "matchcut " + " ".join(args)
    try:
        done = subprocess.run([exe] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              env=env, **process_options())
    except subprocess.TimeoutExpired:
        raise WorkerError("{}: no answer in {:g} s (is the worker environment healthy? try it in a "
                          "terminal)".format(what, timeout))
    except OSError as exc:
        raise WorkerError("{}: {}".format(what, exc))
    try:
        data = json.loads(done.stdout)
    except ValueError:
        data = None
    if done.returncode != 0 and not isinstance(data, dict):
        raise WorkerError("{} failed: {}".format(what, last_line(done.stderr or done.stdout)))
    if data is None:
        raise WorkerError("{} did not answer JSON: {}".format(what, last_line(done.stdout)))
    return data


def run_command(exe, job_path):
    """The argv that runs a job with JSON-lines events on stdout."""
    return [exe, "run", job_path, "--events", "jsonl"]


class JobRun(object):
    """One running ``matchcut run JOB --events jsonl``.

    Reader threads queue stdout lines and keep stderr's tail; ``poll`` (on the host's main thread: a timer, a
    modal operator, a progress loop) folds what arrived into ``state`` and settles it once the worker exited.
    """

    def __init__(self, exe, job_path, env=None):
        self.job_path = job_path
        self.grace = CANCEL_GRACE
        self._cancel_sent = None
        self._settled = False
        self.state = events.JobState()
        self._lines = queue.Queue()
        self.stderr = collections.deque(maxlen=STDERR_LINES)
        try:
            self.process = subprocess.Popen(run_command(exe, job_path), stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, bufsize=1, env=env, **process_options())
        except OSError as exc:
            raise WorkerError("cannot start the Matchcut worker {}: {}".format(exe, exc))
        self._threads = [threading.Thread(target=self._pump, args=(self.process.stdout, True), daemon=True,
                                          name="matchcut-events"),
                         threading.Thread(target=self._pump, args=(self.process.stderr, False), daemon=True,
                                          name="matchcut-stderr")]
        for thread in self._threads:
            thread.start()

    def _pump(self, stream, is_events):
        for line in stream:
            if is_events:
                self._lines.put(line)
            else:
                self.stderr.append(line.rstrip("\n"))
        if is_events:
            self._lines.put(None)  # the end of the event stream

    def poll(self, timeout=0.0):
        """Apply the lines that arrived (waiting up to ``timeout`` s for the first); returns the state. A worker
        still running ``grace`` seconds after a cancel was asked is killed here, so a host's timer or modal
        loop never blocks on a cancel."""
        if (self._cancel_sent is not None and time.monotonic() - self._cancel_sent > self.grace
                and self.process.poll() is None):
            self.kill()
        block = timeout > 0
        while True:
            try:
                line = self._lines.get(block=block, timeout=timeout if block else None)
            except queue.Empty:
                break
            block = False
            if line is None:
                self._settle()
                break
            self.state.feed(line)
        return self.state

    def _settle(self):
        code = self.process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        ended_cleanly = self.state.finished
        self.state.process_ended(code, list(self.stderr)[-5:])
        if not ended_cleanly:
            remove_partial_writes(self.job_path, self.process.pid)
        self._settled = True


    @property
    def finished(self):
        """True once the worker exited and its exit status is folded in (a final event alone is not the end:
        an exit status after "done" still turns the job into an error)."""
        return self._settled

    def wait(self, timeout=None):
        """Block until the job ends (the Lua stubs' path, render nodes, tests); returns the final state. Raises
        WorkerError when it has not ended after ``timeout`` seconds (the worker keeps running)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise WorkerError("the Matchcut job {} is still running after {:g} s".format(self.job_path, timeout))
        while not self._settled:
            self.poll(timeout=1.0)
        return self.state

    def request_cancel(self):
        """Ask the worker to stop without waiting: SIGINT (terminate on Windows, which has no SIGINT for a child);
        it finishes no partial frame, and running the same job again resumes. ``poll`` reports the end."""
        self.state.cancel_requested = True
        if self._cancel_sent is None:
            self._cancel_sent = time.monotonic()
        if self.process.poll() is None:
            try:
                if sys.platform == "win32":
                    self.process.terminate()
                else:
                    self.process.send_signal(signal.SIGINT)
            except OSError:  # it exited meanwhile
                pass

    def kill(self):
        """Stop a worker that ignored ``request_cancel`` (hung in a model): no clean-up of its own."""
        if self.process.poll() is None:
            self.process.kill()

    def cancel(self, grace=CANCEL_GRACE):
        """Stop the worker cleanly and wait for it (killed after ``grace`` seconds); returns the final state."""
        self.request_cancel()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        return self.wait()


def follow(run, on_event=None, cancelled=None, poll=0.1):
    """Drive ``run`` to its end from a host's own loop (a progress task): ``on_event(state)`` after each poll
    that changed something, ``cancelled()`` asked every ``poll`` seconds even while the worker is silent."""
    def seen(state):  # what a progress display shows: a frame's index, a training's step
        return state.status, state.index, state.step, len(state.warnings), len(state.infos)

    while not run.finished:
        if cancelled is not None and cancelled():
            return run.cancel()
        before = seen(run.state)
        run.poll(timeout=poll)
        if on_event is not None and seen(run.state) != before:
            on_event(run.state)
    return run.state


def doctor_lines(exe, data):
    """``matchcut doctor --json``'s answer as a few lines for a settings panel."""
    providers = data.get("providers") or {}
    lines = ["{}: Matchcut {}, Python {}".format(exe, data.get("matchcut", "?"), data.get("python", "?")),
             "GPU in use: {}".format("yes" if data.get("gpu_active") else "no (CPU)"),
             "models installed: {}".format((data.get("models") or {}).get("count", "?"))]
    if providers.get("onnxruntime"):
        lines.insert(1, "onnxruntime {}".format(providers["onnxruntime"]))
    lines += ["problem: {}".format(e) for e in data.get("errors") or []]
    return lines


def remove_partial_writes(job_path, pid):
    """After a worker died without a final event: remove the hidden temporary files it was writing (the
    worker writes ``.NAME.tmp-PID-XXXX.ext`` beside each output and renames it when complete), so nothing
    half-written stays; finished frames are complete files and are kept. Returns the paths removed."""
    try:
        with open(job_path, encoding="utf-8") as fh:
            outputs = (json.load(fh) or {}).get("outputs") or {}
    except (OSError, ValueError, AttributeError):
        return []
    removed = []
    base = os.path.dirname(os.path.abspath(job_path))
    folders = {os.path.dirname(os.path.join(base, str(p))) for p in outputs.values()}
    folders |= {os.path.join(base, str(p)) for p in outputs.values() if os.path.isdir(os.path.join(base, str(p)))}
    marker = ".tmp-{}-".format(pid)
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.startswith(".") and marker in name:
                try:
                    os.unlink(os.path.join(folder, name))
                    removed.append(os.path.join(folder, name))
                except OSError:
                    pass
    return removed
