"""The worker's JSON-lines events (start, frame, info, warning, done, error, cancelled) as one job's state."""

import json


class JobState:
    """What a host shows of a job: progress fraction, messages, and how it ended.

    ``outcome`` is None while running, then ``"done"``, ``"cancelled"`` or ``"error"``; ``message`` is the
    one-line error (the worker's own, or why the process ended without one). ``artifacts``: the ``done``
    event's named files (reports, JSON).
    """

    def __init__(self):
        self.total = 0
        self.index = 0
        self.fraction = 0.0
        self.frame = None
        self.warnings = []
        self.infos = []
        self.outcome = None
        self.message = ""
        self.exit_code = None
        self.artifacts = {}
        self.frames_written = 0
        self.cancel_requested = False
        self.finished = False

    def feed(self, line):
        """Take one line of the worker's stdout; lines that are not events (stray prints) are ignored."""
        line = line.strip()
        if not line.startswith("{"):
            return None
        try:
            event = json.loads(line)
        except ValueError:
            return None
        if not isinstance(event, dict):
            return None
        self.apply(event)
        return event

    def apply(self, event):
        """Update the state from one parsed event."""
        kind = event.get("event")
        if kind == "start":
            self.total = int(event.get("total") or 0)
        elif kind == "frame":
            self.index = int(event.get("index") or 0)
            self.total = int(event.get("total") or self.total)
            self.frame = event.get("frame")
            fraction = event.get("fraction")
            if fraction is None and self.total:
                fraction = self.index / float(self.total)
            self.fraction = min(1.0, max(0.0, float(fraction or 0.0)))
        elif kind == "warning":
            self.warnings.append(_located(event))
        elif kind == "info":
            self.infos.append(_located(event))
        elif kind == "done":
            self.outcome = "done"
            self.fraction = 1.0
            self.artifacts = dict(event.get("artifacts") or {})
            self.frames_written = int(event.get("frames_written") or 0)
        elif kind == "error":
            self.outcome = "error"
            self.message = " ".join(str(event.get("message") or "the worker reported an error").split())
            self.exit_code = event.get("exit_code")
        elif kind == "cancelled":
            self.outcome = "cancelled"
            self.frames_written = int(event.get("frames_written") or 0)

    def process_ended(self, code, stderr_tail=""):
        """The worker exited with ``code``; a job with no final event ended abnormally (killed, crashed)."""
        self.finished = True
        if self.exit_code is None:
            self.exit_code = code
        if self.outcome == "done" and code != 0:
            self.outcome, self.message = "error", "the worker exited with status %s after finishing" % code
        elif self.outcome is None:
            self.outcome = "cancelled" if self.cancel_requested else "error"
            if code is not None and code < 0:
                self.message = "the Matchcut worker was stopped by signal %d before the job finished" % -code
            else:
                self.message = "the Matchcut worker exited with status %s before the job finished: %s" % (
                    code, stderr_tail or "(no output)")

    def status_text(self, label):
        """One line for the status bar: ``Matchcut apply: frame 1003 (3/10, 30%)``."""
        if not self.total:
            return "Matchcut %s: starting" % label
        if self.frame is None:  # the worker has planned the job, no frame is done yet
            return "Matchcut %s: %d frame(s) to do" % (label, self.total)
        return "Matchcut %s: frame %s (%d/%d, %d%%)" % (label, self.frame, self.index, self.total,
                                                       round(100 * self.fraction))


def _located(event):
    frame = event.get("frame")
    message = str(event.get("message") or "")
    return "frame %s: %s" % (frame, message) if frame is not None else message
