"""Progress events of a job: JSON lines for hosts, readable lines or a progress bar for people.

Events (one JSON object per line, flushed as it happens):
``start`` (job, frames [first, last], total, time), ``frame`` (frame, index, total, fraction, outputs,
skipped, seconds), ``info`` and ``warning`` (message, optional frame; info: what a tool found, warning: what needs a look), ``done`` (frames_written, frames_skipped, seconds),
``error`` (message, type, exit_code), ``cancelled`` (frames_written) and ``step`` (a training step: step, steps,
fraction, loss; at each measure also psnr, psnr_before and best_step; preview: the path of the preview image).
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime, timezone
from typing import IO, Any

EVENTS = ("start", "frame", "info", "warning", "done", "error", "cancelled", "step")


def now_iso() -> str:
    """The current UTC time, ISO 8601 with seconds (the ``time`` of a start event)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def error_fields(exc: BaseException) -> dict[str, Any]:
    """The fields of an ``error`` event for an exception: its one-line message, class name and exit code."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return {"message": message, "type": type(exc).__name__, "exit_code": int(getattr(exc, "exit_code", 1))}


class EventSink:
    """Where a job's events go. ``emit`` may be called from the runner's reader and writer threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        """Record one event; ``event`` is one of EVENTS, ``fields`` JSON-serialisable values."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r} (known: {', '.join(EVENTS)})")
        with self._lock:
            self._write(event, fields)

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish any display (a progress bar); events after close are not shown."""


class NullSink(EventSink):
    """Drops every event."""

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        pass


class ListSink(EventSink):
    """Keeps the events as dicts (``{"event": name, **fields}``) for tests and hosts' tests."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        self.events.append({"event": event, **fields})

    def of(self, event: str) -> list[dict[str, Any]]:
        """The recorded events of one kind, in order."""
        return [e for e in self.events if e["event"] == event]


class JsonLinesSink(EventSink):
    """One JSON object per line on ``stream``, flushed after each, so a host can read progress live."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        self.stream.write(json.dumps({"event": event, **fields}, default=str) + "\n")
        self.stream.flush()


class TextSink(EventSink):
    """Human output on ``stream`` (stderr by default): a rich progress bar on a terminal, else plain lines."""

    def __init__(self, stream: IO[str] | None = None, *, progress: bool | None = None) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.use_progress = isatty() if progress is None else progress
        self._progress: Any = None
        self._task: Any = None

    def _line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        if event == "start":
            first, last = fields.get("frames") or (None, None)
            head = f"{fields.get('job')}: {fields.get('total')} frame(s)" + (f" {first}-{last}" if first is not None else "")
            if not fields.get("total") and first is None:
                head = f"{fields.get('job')}: started"  # a report, not frames
            if self.use_progress:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

                console = Console(file=self.stream)
                self._progress = Progress(
                    TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=False,
                )
                self._progress.start()
                self._task = self._progress.add_task(head, total=fields.get("total") or 0)
            else:
                self._line(head)
        elif event == "frame":
            if self._progress is not None:
                self._progress.update(self._task, completed=fields.get("index", 0))
            else:
                state = "skipped (already done)" if fields.get("skipped") else f"{fields.get('seconds', 0):.2f}s"
                self._line(f"frame {fields.get('frame')} [{fields.get('index')}/{fields.get('total')}] {state}")
        elif event == "step":
            if self._progress is not None:
                self._progress.update(self._task, total=fields.get("steps"), completed=fields.get("step", 0))
            elif "psnr" in fields:  # plain lines only at a measure: a line per step would drown the log
                self._line(f"step {fields.get('step')}/{fields.get('steps')}: loss {fields.get('loss'):.5f}, held-out "
                           f"{fields.get('psnr'):.2f} dB (untouched {fields.get('psnr_before'):.2f} dB)")
        elif event in ("info", "warning"):
            where = f" (frame {fields['frame']})" if fields.get("frame") is not None else ""
            self._line(f"{event}{where}: {fields.get('message')}")
        elif event == "done":
            self._stop()
            written, skipped = fields.get("frames_written"), fields.get("frames_skipped")
            # a job that makes no frames (a report) has nothing to count: its own summary said what it did
            counts = f"{written} written, {skipped} skipped " if written or skipped else ""
            self._line(f"done: {counts}in {fields.get('seconds', 0):.1f}s")
            for name, path in (fields.get("artifacts") or {}).items():
                self._line(f"{name}: {path}")
        elif event == "cancelled":
            self._stop()
            self._line(f"cancelled: {fields.get('frames_written')} frame(s) written; run the job again to resume")
        elif event == "error":
            # The CLI's error boundary prints the error line itself; only the progress display ends here.
            self._stop()

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def close(self) -> None:
        with self._lock:
            self._stop()
