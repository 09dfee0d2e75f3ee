"""A job's state from the worker's JSON-lines events (start, frame, info, warning, done, error, cancelled).

The worker writes one JSON object a line on stdout; anything else there (a library's stray print) is kept as
``stray`` and shown only when the job fails. How the process ended settles a job that wrote no final event.
"""

import json

#: ``JobState.status`` values; the last three are final.
STATUSES = ("waiting", "running", "done", "error", "cancelled")
FINAL = ("done", "error", "cancelled")


def parse_line(line):
    """One event dict, or None for a blank or non-JSON line (stray worker output is not an event)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def one_line(text):
    """Any text folded to one line (the worker's messages may carry newlines from a library)."""
    return " ".join(str(text).split()) if text is not None else ""


def located(event):
    """An info or warning event's message, with its frame when it names one: ``frame 1003: message``."""
    message = one_line(event.get("message"))
    frame = event.get("frame")
    return "frame {}: {}".format(frame, message) if frame is not None else message


class JobState(object):
    """What a host shows of a job: progress, messages, artifacts and how it ended.

    ``status``: waiting (no event yet), running, then done, error or cancelled; ``error``: the one-line reason;
    ``artifacts``: the done event's named files (a LUT, a report); ``stray``: stdout lines that were not events.
    """

    def __init__(self):
        self.status = "waiting"
        self.total = 0
        self.index = 0
        self.frame = None
        self.fraction = 0.0
        self.infos = []
        self.warnings = []
        self.artifacts = {}
        self.error = ""
        self.exit_code = None
        self.frames_written = 0
        self.frames_skipped = 0
        self.cancel_requested = False
        self.stray = []

    @property
    def finished(self):
        return self.status in FINAL

    def feed(self, line):
        """Take one stdout line: an event updates the state (and is returned), anything else is kept as stray."""
        event = parse_line(line)
        if event is None:
            if line.strip():
                self.stray.append(line.rstrip("\n"))
            return None
        self.apply(event)
        return event

    def apply(self, event):
        """Fold one parsed event into the state (events after a final one are ignored)."""
        if self.finished:
            return
        kind = event.get("event")
        if kind == "start":
            self.status = "running"
            self.total = int(event.get("total") or 0)
        elif kind == "frame":
            self.status = "running"
            self.index = int(event.get("index") or self.index)
            self.total = int(event.get("total") or self.total)
            self.frame = event.get("frame")
            fraction = event.get("fraction")
            if fraction is None and self.total:
                fraction = self.index / float(self.total)
            self.fraction = min(1.0, max(0.0, float(fraction or 0.0)))
        elif kind == "info":
            self.infos.append(located(event))
        elif kind == "warning":
            self.warnings.append(located(event))
        elif kind == "done":
            self.status, self.fraction = "done", 1.0
            self.artifacts = dict(event.get("artifacts") or {})
            self.frames_written = int(event.get("frames_written") or 0)
            self.frames_skipped = int(event.get("frames_skipped") or 0)
        elif kind == "error":
            self.status = "error"
            self.error = one_line(event.get("message")) or "the worker reported an error"
            self.exit_code = int(event.get("exit_code") or 1)
        elif kind == "cancelled":
            self.status = "cancelled"
            self.frames_written = int(event.get("frames_written") or self.frames_written)

    def process_ended(self, code, stderr_tail=()):
        """The worker exited with ``code``; ``stderr_tail``: its last stderr lines. A job with no final event
        ended abnormally (killed, crashed): its error says so with what the worker last printed."""
        if self.exit_code is None:
            self.exit_code = code
        if self.status == "done" and code not in (0, None):
            self.status = "error"
            self.error = "the worker exited with status {} after finishing".format(code)
        if self.finished:
            return
        if self.cancel_requested:
            self.status = "cancelled"  # terminated on Windows, or stopped before its first event
            return
        self.status = "error"
        # what the worker last said: its stderr (the CLI's one-line error, a crash), else stray stdout lines
        said = [one_line(s) for s in stderr_tail if one_line(s)] or [one_line(s) for s in self.stray if one_line(s)]
        last = " / ".join(said[-3:]) if said else "(no output)"
        if code is not None and code < 0:
            self.error = "the Matchcut worker was stopped by signal {} before the job finished: {}".format(-code, last)
        else:
            self.error = "the Matchcut worker exited with status {} before the job finished: {}".format(code, last)


def progress_text(state, label):
    """One line for a progress bar or status bar: ``Shot Match: frame 1012 (12/48, 25%)``, done, or the error."""
    if state.status == "waiting":
        return "{}: starting the worker...".format(label)
    if state.status == "running":
        if state.frame is None:
            return "{}: preparing ({} frame(s) to do)...".format(label, state.total) if state.total else \
                "{}: preparing...".format(label)
        return "{}: frame {} ({}/{}, {:.0f}%)".format(label, state.frame, state.index, state.total,
                                                     100 * state.fraction)
    if state.status == "done":
        extra = " ({} warning(s))".format(len(state.warnings)) if state.warnings else ""
        return "{}: done{}".format(label, extra)
    if state.status == "cancelled":
        return "{}: cancelled; finished frames are kept, running it again resumes".format(label)
    return "{}: error: {}".format(label, state.error)
