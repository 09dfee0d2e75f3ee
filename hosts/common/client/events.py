"""A job's state from the worker's JSON-lines events (start, frame, step, info, warning, done, error, cancelled).

The worker writes one JSON object a line on stdout; anything else there (a library's stray print) is kept as
``stray`` and shown only when the job fails. How the process ended settles a job that wrote no final event.
A tool that trains (its output is a model folder) reports ``step`` events instead of frames: the step, the
running loss and, at each measure, the held-out pair's PSNR (fixed and untouched) and a preview image.
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
    A training's ``step``/``steps`` (None before its first step), ``loss`` (the running training loss), ``psnr``
    and ``psnr_before`` (dB on the held-out pair at the last measure: fixed, untouched), ``best_psnr`` and
    ``best_step`` (the best measure so far, the one the model keeps) and ``preview`` (the preview image's path).
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
        self.step = None
        self.steps = 0
        self.loss = None
        self.psnr = None
        self.psnr_before = None
        self.best_psnr = None
        self.best_step = None
        self.preview = ""

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
        elif kind == "step":
            self._step(event)
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

    def _step(self, event):
        """One training step: the step and its fraction, the loss; at a measure the held-out PSNRs (the best so
        far when this measure is the best: its ``best_step`` is this step)."""
        self.status = "running"
        self.step = int(event.get("step") or 0)
        self.steps = int(event.get("steps") or self.steps)
        fraction = event.get("fraction")
        if fraction is None and self.steps:
            fraction = self.step / float(self.steps)
        self.fraction = min(1.0, max(0.0, float(fraction or 0.0)))
        if event.get("loss") is not None:
            self.loss = float(event["loss"])
        if event.get("psnr") is not None:
            self.psnr = float(event["psnr"])
            self.psnr_before = float(event.get("psnr_before")) if event.get("psnr_before") is not None \
                else self.psnr_before
            if event.get("best_step") is not None:
                self.best_step = int(event["best_step"])
                if self.best_step == self.step:
                    self.best_psnr = self.psnr
        if event.get("preview"):
            self.preview = str(event["preview"])

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


def training_line(state):
    """A training's figures on one line: ``step 300/1000, loss 0.0123, held-out 31.2 dB (untouched 27.9 dB)``
    (the held-out part once measured); "" for a job that reported no step."""
    if state.step is None:
        return ""
    parts = ["step {}/{}".format(state.step, state.steps)]
    if state.loss is not None:
        parts.append("loss {:.3g}".format(state.loss))
    if state.psnr is not None:
        held = "held-out {:.1f} dB".format(state.psnr)
        if state.psnr_before is not None:
            held += " (untouched {:.1f} dB)".format(state.psnr_before)
        parts.append(held)
    return ", ".join(parts)


def training_summary(state):
    """What a host keeps of a finished or stopped training (plain data for a node's state or a summary):
    step, steps, loss, psnr, psnr_before, best_psnr, best_step, preview; None for a job that reported no step."""
    if state.step is None:
        return None
    return {"step": state.step, "steps": state.steps, "loss": state.loss, "psnr": state.psnr,
            "psnr_before": state.psnr_before, "best_psnr": state.best_psnr, "best_step": state.best_step,
            "preview": state.preview}


def result_line(summary):
    """A finished training's result on one line, from ``training_summary``: ``held-out 31.2 dB (untouched
    27.9 dB), best at step 800 of 1000`` ("" without a measure). A training whose measures never beat the
    untouched frames (best step 0) keeps a model that changes nothing, and says so."""
    if not summary or summary.get("psnr") is None:
        return ""
    best, best_step = summary.get("best_psnr"), summary.get("best_step")
    untouched = " (untouched {:.1f} dB)".format(summary["psnr_before"]) if summary.get("psnr_before") is not None \
        else ""
    if best_step == 0:
        return "held-out {:.1f} dB{}: no better than untouched, the model changes nothing".format(
            summary["psnr"], untouched)
    if best is not None:
        return "held-out {:.1f} dB{}, best at step {} of {}".format(best, untouched, best_step, summary.get("step"))
    # resumed: the best measure came before this run (its figure is in the worker's info line)
    return "held-out {:.1f} dB at the last measure{}".format(summary["psnr"], untouched)


def progress_text(state, label):
    """One line for a progress bar or status bar: ``Shot Match: frame 1012 (12/48, 25%)``, a training's
    ``Learn Fix: step 300/1000, loss 0.0123, held-out 31.2 dB (untouched 27.9 dB)``, done, or the error."""
    if state.status == "waiting":
        return "{}: starting the worker...".format(label)
    if state.status == "running" and state.step is not None:
        return "{}: {}".format(label, training_line(state))
    if state.status == "running":
        if state.frame is None:
            return "{}: preparing ({} frame(s) to do)...".format(label, state.total) if state.total else \
                "{}: preparing...".format(label)
        return "{}: frame {} ({}/{}, {:.0f}%)".format(label, state.frame, state.index, state.total,
                                                     100 * state.fraction)
    if state.status == "done":
        extra = " ({} warning(s))".format(len(state.warnings)) if state.warnings else ""
        trained = result_line(training_summary(state))
        return "{}: done{}{}".format(label, ", " + trained if trained else "", extra)
    if state.status == "cancelled" and state.step is not None:
        return "{}: cancelled at step {}/{}; the last good checkpoint is kept, running it again carries on " \
               "from it".format(label, state.step, state.steps)
    if state.status == "cancelled":
        return "{}: cancelled; finished frames are kept, running it again resumes".format(label)
    return "{}: error: {}".format(label, state.error)
