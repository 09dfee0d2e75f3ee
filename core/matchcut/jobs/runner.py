"""Runs a job: checks, resume by provenance hash, read-ahead / write-behind threads, cancel and events.

The main thread computes (``tool.process``); a reader thread reads the next items ahead and a writer thread
writes finished ones behind, each through a small bounded queue, so decoding and encoding (OpenImageIO
releases the GIL) overlap with inference. An error in any thread stops the others and reaches the caller as
the original exception. Writes are atomic (``write_plate``), so a cancel or an error never leaves a partial
file: an item is either fully written or not at all.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matchcut.errors import (
    FrameWriteError,
    JobCancelled,
    JobError,
    MatchcutError,
    MissingFramesError,
    ShapeMismatchError,
)
from matchcut.frames.ranges import format_frames
from matchcut.jobs.events import EventSink, error_fields, now_iso
from matchcut.jobs.protocol import RunnableTool, WorkItem
from matchcut.jobs.spec import JobSpec
from matchcut.provenance import PREFIX, Provenance, read_hash

if TYPE_CHECKING:
    from matchcut.frames import FrameSource, Plate

#: Items buffered between reader and compute, and between compute and writer.
QUEUE_DEPTH = 2
_POLL = 0.05  # seconds; how often a blocked thread looks at the stop flags
_DONE = object()
_STOP = object()


@dataclass
class JobResult:
    """What a finished job did; ``outputs`` lists every output file of the job in frame order
    (written by this run or kept from an earlier one)."""

    frames_written: int
    frames_skipped: int
    outputs: list[Path] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)


@dataclass
class _Plan:
    item: WorkItem
    provenance: Provenance
    done: bool


class _Flags:
    """Why threads stop: an error somewhere (``halt``) or a cancel request (the caller's event)."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.halt = threading.Event()
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    def stopping(self) -> bool:
        return self.halt.is_set() or self.cancel.is_set()

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)
        self.halt.set()


def _put(q: queue.Queue, obj: Any, flags: _Flags) -> bool:
    while not flags.stopping():
        try:
            q.put(obj, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, flags: _Flags) -> Any:
    while True:
        try:
            return q.get(timeout=_POLL)
        except queue.Empty:
            if flags.stopping():
                return _STOP


def _install_signal_handlers(cancel: threading.Event) -> dict[int, Any] | None:
    # signal.signal only works in the main thread; a host calling from a worker passes its own cancel event.
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        cancel.set()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_signal_handlers(previous: dict[int, Any] | None) -> None:
    for sig, old in (previous or {}).items():
        signal.signal(sig, old if old is not None else signal.SIG_DFL)


def _real_file(path: str) -> str | None:
    """The real path of a source file; a movie frame ``clip.mp4#12`` protects the movie itself."""
    if os.path.exists(path):
        return os.path.realpath(path)
    base, sep, _ = path.rpartition("#")
    if sep and os.path.exists(base):
        return os.path.realpath(base)
    return None


def _input_files(items: list[WorkItem], sources: dict[str, FrameSource]) -> list[str]:
    """The real paths of every file the items read: no output may be written over one of them."""
    files = {_real_file(str(sources[name].path_for(f))) for item in items for name, frames in item.reads.items()
             for f in frames}
    return sorted(f for f in files if f is not None)


def _check_outputs(spec: JobSpec, items: list[WorkItem], protected: set[str]) -> None:
    """No output may be an input, and no two items may write the same file."""
    seen: dict[str, int] = {}
    for item in items:
        for name, path in item.outputs.items():
            real = os.path.realpath(path)
            if real in protected:
                raise FrameWriteError(str(path), f"would overwrite an input of this job (output '{name}', frame {item.frame})")
            if real in seen:
                raise JobError(f"{spec.where}: 'outputs.{name}'", f"frames {seen[real]} and {item.frame} would both "
                               f"write {path}; give the output pattern a frame token such as ####")
            seen[real] = item.frame


def _finished(item: WorkItem, expected_hash: str) -> bool:
    from matchcut.frames import read_metadata

    for path in item.outputs.values():
        if not Path(path).is_file():
            return False
        try:
            if read_hash(read_metadata(path)) != expected_hash:
                return False
        except MatchcutError:  # unreadable or foreign file: make it again
            return False
    return True


def run_job(
    tool: RunnableTool,
    spec: JobSpec,
    sink: EventSink,
    *,
    cancel: threading.Event | None = None,
    install_signal_handlers: bool = False,
    chunk: list[int] | None = None,
    finish_only: bool = False,
) -> JobResult:
    """Run ``spec`` with ``tool`` to the end, reporting to ``sink``; returns what was written and skipped.

    The caller looks the tool up (``matchcut.tools.get_tool(spec.tool)``), so the runner never imports the
    registry. Before any work: the tool checks the job, every input frame must be on disk (``MissingFramesError``
    listing all missing frames) and no output may be an input (``FrameWriteError``). Items whose outputs
    already carry the provenance hash they would get are skipped (resume). ``cancel`` (or SIGINT/SIGTERM when
    ``install_signal_handlers``; the previous handlers are restored after) stops after the frame being
    written, emits ``cancelled`` and raises ``JobCancelled``. Errors emit an ``error`` event and propagate.

    A farm splits a job into two kinds of task. ``chunk`` (output frame numbers): the tool plans the whole job
    exactly as a run in one piece does (fill's defect scan, retime's timing plan, match's keyframe fits), then
    only the items whose output frame is in the chunk are made, reading whatever neighbours they need; their
    provenance hashes are the one-piece run's, and ``finish`` (artifacts) is left to the final task; a tool's info
    and warnings about a frame of another chunk are left to that chunk's log.
    ``finish_only``: every frame must already be made (JobError listing those that are not); only ``finish``
    runs (a frameless tool's prepare too), writing the artifacts once after all chunks.
    """
    cancel = cancel if cancel is not None else threading.Event()
    previous = _install_signal_handlers(cancel) if install_signal_handlers else None
    state = {"written": 0}
    try:
        return _run(tool, spec, sink, cancel, state, chunk, finish_only)
    except JobCancelled:
        raise
    except KeyboardInterrupt:
        # Without our handlers Ctrl-C lands here; the threads have stopped and no partial file exists.
        sink.emit("cancelled", frames_written=state["written"])
        raise JobCancelled(f"job cancelled after {state['written']} frame(s) written; run it again to resume") from None
    except BaseException as exc:
        sink.emit("error", **error_fields(exc))
        raise
    finally:
        _restore_signal_handlers(previous)


class _ChunkEvents(EventSink):
    """A chunk's events: what a tool says about a frame another chunk makes (fill's note on a frame it rebuilds,
    shot match's on a keyframe) is that chunk's to report, so the logs of all chunks carry each once."""

    def __init__(self, sink: EventSink, frames: list[int]) -> None:
        super().__init__()
        self.sink, self.frames = sink, set(frames)

    def emit(self, event: str, **fields: Any) -> None:
        frame = fields.get("frame")
        if event in ("info", "warning") and frame is not None and frame not in self.frames:
            return
        self.sink.emit(event, **fields)


def _chunk_items(tool: RunnableTool, spec: JobSpec, planned: list[WorkItem], chunk: list[int],
                 sink: EventSink) -> list[WorkItem]:
    """The planned items whose output frame is in ``chunk`` (a farm task's frames); a chunk none of whose frames
    the plan makes (the plates changed since the job was split) warns and makes nothing."""
    if tool.frameless:
        raise JobError(f"{spec.where}: 'tool'", f"tool '{spec.tool}' makes a report, not frames: it runs in one "
                       "piece, without --chunk")
    wanted = set(chunk)
    items = [item for item in planned if item.frame in wanted]
    if not items:
        made = [item.frame for item in planned]
        span = f"{min(made)}-{max(made)}" if made else "none"
        sink.emit("warning", message=f"chunk {format_frames(chunk)}: the job's plan makes none of these frames "
                  f"(it makes {span}); nothing to do")
    return items


def _run(tool: RunnableTool, spec: JobSpec, sink: EventSink, cancel: threading.Event,
         state: dict[str, int], chunk: list[int] | None = None, finish_only: bool = False) -> JobResult:
    from matchcut.frames import open_source

    started = time.monotonic()
    if tool.name and tool.name != spec.tool:
        raise JobError(f"{spec.where}: 'tool'", f"the job names tool '{spec.tool}', it was given tool '{tool.name}'")
    if chunk is not None and finish_only:
        raise JobError(spec.where, "a chunk makes frames and the final task only finishes: give one of them")
    tool.check(spec)
    planned = tool.plan(spec)  # always the whole job: a chunk plans exactly as a run in one piece does
    if not planned and not tool.frameless:
        raise JobError(f"{spec.where}: 'frames'", "the job has no frames to make")
    items = planned if chunk is None else _chunk_items(tool, spec, planned, chunk, sink)
    if chunk is not None:
        sink = _ChunkEvents(sink, chunk)
    sources = {name: open_source(spec.input_path(name)) for name in spec.inputs}

    # Everything that can be checked is checked before the first frame is read.
    for name, source in sources.items():
        needed = sorted({f for item in items for f in item.reads.get(name, ())})
        missing = source.find_missing(needed)
        if missing:
            raise MissingFramesError(spec.input_path(name), missing, format_frames(missing))
    protect = _input_files(planned, sources)
    _check_outputs(spec, planned, set(protect))

    base = tool.provenance(spec)
    plans = []
    for item in items:
        sources_of_item = [str(sources[name].path_for(f)) for name, frames in item.reads.items() for f in frames]
        prov = base.with_sources(sources_of_item)
        plans.append(_Plan(item, prov, _finished(item, prov.hash)))

    total = len(plans)
    frames = [p.item.frame for p in plans]
    span = [min(frames), max(frames)] if frames else []
    sink.emit("start", job=tool.name or spec.tool, frames=span, total=total, time=now_iso())
    counter = {"index": 0}
    lock = threading.Lock()

    def progress(item: WorkItem, skipped: bool, seconds: float) -> None:
        with lock:
            counter["index"] += 1
            index = counter["index"]
        sink.emit("frame", frame=item.frame, index=index, total=total, fraction=round(index / total, 6),
                  outputs=[str(p) for p in item.outputs.values()], skipped=skipped, seconds=round(seconds, 4))

    skipped = 0
    for plan in plans:
        if plan.done:
            skipped += 1
            progress(plan.item, True, 0.0)
    todo = [p for p in plans if not p.done]
    if finish_only and todo:
        raise JobError(spec.where, f"frame(s) {format_frames([p.item.frame for p in todo])} are not made yet (a "
                       "chunk failed or has not run): run those chunks before the final task")
    if hasattr(tool, "stop"):
        tool.stop = cancel  # a frameless tool's long prepare (learn's training) ends at the next step on a cancel
    if (todo or tool.frameless) and not cancel.is_set():
        tool.prepare(spec, sink.emit)
    if todo and not cancel.is_set():
        _pipeline(spec, tool, sources, todo, protect, sink, cancel, state, progress)

    if cancel.is_set() and (state["written"] + skipped < total or tool.frameless):
        sink.emit("cancelled", frames_written=state["written"])
        note = getattr(tool, "cancel_note", "")  # a frameless tool says what it keeps (learn: its checkpoint)
        raise JobCancelled(note or f"job cancelled after {state['written']} frame(s) written; run it again to resume")
    finished = {} if chunk is not None else tool.finish(spec, sink.emit) or {}
    artifacts = {name: str(path) for name, path in finished.items()}
    seconds = time.monotonic() - started
    sink.emit("done", frames_written=state["written"], frames_skipped=skipped, seconds=round(seconds, 3),
              artifacts=artifacts)
    outputs = [Path(p) for plan in plans for p in plan.item.outputs.values()]
    return JobResult(frames_written=state["written"], frames_skipped=skipped, outputs=outputs, artifacts=artifacts)


def _pipeline(
    spec: JobSpec,
    tool: RunnableTool,
    sources: dict[str, FrameSource],
    todo: list[_Plan],
    protect: list[str],
    sink: EventSink,
    cancel: threading.Event,
    state: dict[str, int],
    progress: Callable[[WorkItem, bool, float], None],
) -> None:
    from matchcut.frames import write_plate

    flags = _Flags(cancel)
    read_q: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
    write_q: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
    policy = spec.nonfinite
    options = spec.output_options

    sizes: dict[str, tuple[int, int, int]] = {}  # input name -> (width, height, first frame read)

    def read(name: str, frame: int) -> Plate:
        source = sources[name]
        plate = source.read(frame, nonfinite=policy)
        # A plate that changes resolution mid-sequence is bad input; sizes across inputs are each tool's call.
        width, height, first = sizes.setdefault(name, (plate.width, plate.height, frame))
        if (plate.width, plate.height) != (width, height):
            raise ShapeMismatchError(f"{source.path_for(frame)}: frame {frame} is {plate.width}x{plate.height}, "
                                     f"frame {first} of the same input is {width}x{height}")
        count = plate.metadata.pop(PREFIX + "nonfinite", None)
        if count:
            sink.emit("warning", message=f"{source.path_for(frame)}: replaced {count} NaN/Inf value(s) with 0", frame=frame)
        return plate

    def reader() -> None:
        try:
            for plan in todo:
                if flags.stopping():
                    return
                t0 = time.monotonic()
                plates = {name: [read(name, f) for f in frames] for name, frames in plan.item.reads.items()}
                if not _put(read_q, (plan, plates, t0), flags):
                    return
        except BaseException as exc:  # handed to the caller through flags, never swallowed
            flags.fail(exc)

    def writer() -> None:
        try:
            while True:
                got = _get(write_q, flags)
                if got is _STOP or got is _DONE or flags.stopping():
                    return  # on cancel, what is still queued is discarded: nothing of it is on disk
                plan, outputs, t0 = got
                for name, path in plan.item.outputs.items():
                    write_plate(path, outputs[name], dtype=options.get("dtype", "half"),
                                compression=options.get("compression"), kind=tool.kind_of(name),
                                provenance=plan.provenance, protect=protect)
                state["written"] += 1
                progress(plan.item, False, time.monotonic() - t0)
        except BaseException as exc:
            flags.fail(exc)

    threads = [threading.Thread(target=reader, name="matchcut-reader", daemon=True),
               threading.Thread(target=writer, name="matchcut-writer", daemon=True)]
    for thread in threads:
        thread.start()
    try:
        for _ in todo:
            if flags.stopping():
                break
            got = _get(read_q, flags)
            if got is _STOP:
                break
            plan, plates, t0 = got
            outputs = tool.process(plan.item, plates)
            if set(outputs) != set(plan.item.outputs):
                raise JobError(f"tool '{tool.name}'", f"frame {plan.item.frame}: made outputs {sorted(outputs)}, "
                               f"the job names {sorted(plan.item.outputs)}")
            if not _put(write_q, (plan, outputs, t0), flags):
                break
        _put(write_q, _DONE, flags)
    except BaseException:
        flags.halt.set()
        raise
    finally:
        for thread in threads:
            # Python < 3.12 cannot interrupt join(); poll so a signal handler still runs in the main thread.
            while thread.is_alive():
                thread.join(_POLL)
    if flags.errors:
        raise flags.errors[0]
