"""A running job as the modal operator sees it: Blender's event types in, what to show and how it ended out.

Plain Python (no bpy), so the modal logic runs and is tested without a window: the operator's ``modal()`` hands
each event's type here and applies the Step it gets back (progress, status line, the end). Esc asks the worker
to stop and keeps the operator running until the process has exited, so Blender never blocks on it; a job that
did not finish leaves nothing behind (its version folder is removed here).
"""

import time
from collections import namedtuple

from . import jobs as job_files
from .client import events
from .client import worker as workers

#: What the operator does after one event.
#: ``reply``: the modal return value while the job runs (RUNNING_MODAL: the event was ours, PASS_THROUGH:
#: Blender handles it too). ``percent`` (0-100) and ``status`` (the status-bar line): None leaves them as
#: they are. ``ended``: the job is over; ``outcome`` then says how (the job state's final status): ``done``
#: (bring the result back), ``cancelled`` or ``error`` (nothing is added; the version folder is already gone).
Step = namedtuple("Step", "reply percent status ended outcome")

#: Seconds a worker asked to stop gets to finish its frame and exit before it is killed (every host's).
CANCEL_GRACE = workers.CANCEL_GRACE

#: Blender's event types this class reacts to; every other event passes through to Blender.
ESC, TIMER = "ESC", "TIMER"


class JobMonitor:
    """One job from start to end: ``run`` is a ``client.worker.JobRun``, ``label`` names the tool in messages,
    ``folder`` is the job's version folder (removed when the job does not finish).

    ``phase`` is ``running``, ``cancelling`` (Esc pressed, the worker is stopping) or ``ended``.
    """

    def __init__(self, run, label, folder=None, clock=time.monotonic, grace=CANCEL_GRACE):
        self.run = run
        self.label = label
        self.folder = folder
        self.phase = "running"
        self._clock = clock
        self._grace = grace
        self._cancel_at = None

    @property
    def state(self):
        return self.run.state

    def status_text(self):
        """The status-bar line: ``Matchcut apply: frame 1003 (3/10, 30%)``."""
        return events.progress_text(self.state, "Matchcut %s" % self.label)

    def begin(self):
        """The first Step, before any event: progress at 0 and the starting status line."""
        return Step("RUNNING_MODAL", 0, self.status_text(), False, None)

    def handle(self, event_type, value="PRESS"):
        """One Blender event (its ``type`` and ``value``) -> the Step the operator applies."""
        if self.phase == "ended":
            return Step("PASS_THROUGH", None, None, True, self.state.status)
        if event_type == ESC:
            if value == "PRESS" and self.phase == "running":
                self.phase = "cancelling"
                self._cancel_at = self._clock()
                self.run.request_cancel()
                return Step("RUNNING_MODAL", None, "Matchcut %s: cancelling" % self.label, False, None)
            return Step("RUNNING_MODAL", None, None, False, None)  # Esc is ours while the job runs
        if event_type != TIMER:
            return Step("PASS_THROUGH", None, None, False, None)
        if self._over():
            return self._end()
        if self.phase == "cancelling":
            if self._clock() - self._cancel_at > self._grace:
                self.run.kill()  # ignored the request (hung); poll reports the end on a later timer
            return Step("PASS_THROUGH", None, None, False, None)
        return Step("PASS_THROUGH", int(100 * self.state.fraction), self.status_text(), False, None)

    def wait(self, on_step=None, interval=0.25):
        """Run to the end on the caller's thread (background mode, scripts): TIMER steps every ``interval`` s.

        Ctrl+C (KeyboardInterrupt) stops the worker as Esc does. Returns the last Step (``ended`` True).
        """
        step = self.begin()
        try:
            while not step.ended:
                self.run.poll(timeout=interval)  # waits for the next event instead of a timer
                step = self.handle(TIMER)
                if on_step is not None:
                    on_step(step)
        except KeyboardInterrupt:
            return self.abort()
        return step

    def abort(self):
        """Stop now and wait for the worker (Blender cancelled the operator: a file was loaded, the add-on was
        disabled). Returns the final Step; does nothing more once the job has ended."""
        if self.phase != "ended":
            self.run.cancel(grace=self._grace)
            return self._end()
        return Step("PASS_THROUGH", None, None, True, self.state.status)

    def _over(self):
        """Apply what the worker sent; True once the job has ended and the worker has exited (its final event
        alone is not the end: an exit status after it can still turn a done job into an error)."""
        self.run.poll()
        return self.run.finished

    def _end(self):
        self.phase = "ended"
        outcome = self.state.status
        if outcome != "done":
            job_files.remove_version_folder(self.folder)  # whole frames it wrote are partial output too
        return Step("PASS_THROUGH", 100 if outcome == "done" else None, None, True, outcome)
