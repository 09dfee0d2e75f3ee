"""A run of a tool over timeline items, the part that needs no Resolve: progress and summary, cancel, the
worker loop (with the no-CDL retry of a tool whose CDL did not fit), and the per-item decisions made on plain
values and the tool's description.

host.Batch adds the Resolve steps (reading items, rendering, placing results) on top of this class.
"""

import time
from typing import Any, Dict, Iterator, List, Optional

from matchcut_resolve import jobs, media, results, settings, widgets
from matchcut_resolve.client import events, farm, tools, worker
from matchcut_resolve.errors import HostError

#: What makes one item fail without stopping the run over the others.
FAILURES = (HostError, jobs.JobFailure, worker.WorkerError, OSError, ValueError)
#: Seconds one tick waits for the worker's next event (the dialog's timer fires every 200 ms).
POLL = 0.05


def progress_prefix(tool: str, number: int, total: int, item_name: str) -> str:
    return "{} {}/{} ({}): ".format(tool, number, total, item_name)


def error_line(item_name: str, exc: BaseException) -> str:
    """The summary line of a failed item: its error on one line."""
    return "{}: error: {}".format(item_name, " ".join(str(exc).split()))


def handles_of(tool: Dict[str, Any], options: Dict[str, Any]) -> int:
    """The handles a tool's plate gets (none for frameless tools such as continuity)."""
    return 0 if tool.get("frameless") else int(options.get("handles") or 0)


def output_root(options: Dict[str, Any]) -> str:
    return options.get("output") or settings.default_output()


def input_choices(tool: Dict[str, Any], options: Dict[str, Any]) -> Dict[str, str]:
    """Extra input -> the dialog's choice for it (widgets.PREVIOUS or an item label), the unset ones left out."""
    chosen = {}
    for input_name in widgets.extra_inputs(tool):
        choice = options.get("inputs", {}).get(input_name) or widgets.NONE
        if choice != widgets.NONE:
            chosen[input_name] = choice
    return chosen


def missing_input(input_name: str, choice: str) -> HostError:
    """The error for an input choice that names no item on the timeline."""
    return HostError("input {}: {}".format(input_name, "there is no previous item on the track"
                                           if choice == widgets.PREVIOUS else "no item " + choice))


def needs_render(tool: Dict[str, Any], input_name: str, extra: jobs.SourcePlan) -> bool:
    """Whether Resolve renders a further input to EXR first: media Matchcut cannot read, and movies for a
    per-frame input (it is renumbered to the plate's frames, so it must be a sequence)."""
    per_frame = tools.input_role(tool, input_name) not in jobs.OWN_FRAMES_ROLES
    return extra.needs_render or (per_frame and media.clip_path(extra.pattern).is_movie)


def check_inputs(tool: Dict[str, Any], extras: Dict[str, jobs.SourcePlan]) -> None:
    """HostError naming the first input the tool needs that the dialog left at (none)."""
    main = tools.main_input(tool)
    for input_name in tools.required_inputs(tool):
        if input_name != main and input_name not in extras:
            spec = tools.input_spec(tool, input_name)
            raise HostError("{}: choose {} (the previous item, or another)".format(
                widgets.label(tool), spec.get("label") or input_name))


def model_runner(options: Dict[str, Any], exe: str) -> Dict[str, Any]:
    """The description of the tool that runs a trained model on the clip: the dialog's (``options["runner"]``),
    else the worker's answer. HostError when the worker has none."""
    if options.get("runner"):
        return options["runner"]
    described = tools.tools_from(worker.query(exe, ["tools", "--json"]))
    name = tools.model_runner(described)
    if name is None:
        raise HostError("the worker has no tool that runs a chosen model: update the worker environment")
    return described[name]


class Batch:
    """Progress, summary and cancel of a run, and its worker jobs. ``tick()`` does a little of ``_work`` (set by
    the subclass) and returns the progress text (None when finished), so a UIManager timer can drive it
    without blocking Resolve."""

    def __init__(self, tool: Dict[str, Any], options: Dict[str, Any], exe: str) -> None:
        self.tool, self.options, self.exe = tool, options, exe
        self.summary: List[str] = []
        self.failures = 0
        self.cancelled = False
        self.skipped = 0  # items never started because the run was cancelled
        self.run: Optional[worker.JobRun] = None
        self.states: List[events.JobState] = []
        self.sent: List[Dict[str, Any]] = []  # the farm's answers, for items sent to the farm
        self._cancel_sent: Optional[float] = None  # when the running worker was asked to stop
        self._work: Iterator[str] = iter(())

    def tick(self) -> Optional[str]:
        try:
            return next(self._work)
        except StopIteration:
            return None

    def cancel(self) -> None:
        """Ask the running worker to stop, without waiting (the dialog stays live): ``run_job`` sees it end,
        and kills it when it has not stopped after the client's CANCEL_GRACE seconds."""
        self.cancelled = True
        if self.run is not None and self._cancel_sent is None:
            self.run.request_cancel()
            self._cancel_sent = time.monotonic()

    def outcome(self) -> str:
        """The first line of the dialog's summary. "cancelled" only when the cancel stopped something: a job
        stopped mid-way or items left undone; a Cancel that came after the last frame says so, since every
        result was placed."""
        stopped = self.skipped or any(s.status == "cancelled" for s in self.states)
        if self.cancelled and stopped:
            return "cancelled"
        if self.failures:
            return "{} item(s) failed".format(self.failures)
        return "done (Cancel came after the last frame)" if self.cancelled else "done"

    def fail(self, item_name: str, exc: BaseException) -> None:
        self.failures += 1
        self.summary.append(error_line(item_name, exc))

    def note(self, item_name: str, lines: List[str]) -> None:
        self.summary.extend("{}: {}".format(item_name, line) for line in lines)

    def settle(self, item_name: str, warnings: List[str], state: events.JobState) -> bool:
        """Note a finished job's warnings; True when its results are to be placed, False when it was cancelled;
        HostError with the worker's line when it failed."""
        self.note(item_name, ["warning: " + w for w in warnings + state.warnings])
        if state.status == "cancelled" and state.step is not None:
            self.note(item_name, ["cancelled at step {}/{} (the last good checkpoint is kept; Run carries on from "
                                  "it)".format(state.step, state.steps)])
            return False
        if state.status == "cancelled":
            self.note(item_name, ["cancelled (finished frames are kept; Run resumes)"])
            return False
        if state.status != "done":
            raise HostError(state.error or "the worker failed")
        return True

    def send_to_farm(self, plan: jobs.JobPlan) -> str:
        """Write the job and submit it to the dialog's farm instead of running it here (Send to farm); returns
        the line the summary shows (the farm's job id). WorkerError with the worker's line when it refused."""
        jobs.write_job(plan)
        answer = farm.submit(self.exe, plan.job_path, self.options.get("farm") or farm.default_farm())
        self.sent.append(answer)
        return farm.result_line(answer)

    def run_job(self, plan: jobs.JobPlan):
        """Write and run a job, yielding progress; returns the final JobState. A job whose CDL artifact failed
        only because the correction is not a CDL runs once more without it (its other artifacts still carry
        the grade; the frames are kept)."""
        jobs.write_job(plan)
        tool = plan.description
        cdl = results.cdl_artifact(tool)
        for attempt in (1, 2):
            self.run, self._cancel_sent = worker.JobRun(self.exe, plan.job_path), None
            if self.cancelled:
                self.cancel()
            while True:
                # poll kills a worker that ignored a cancel for the client's CANCEL_GRACE (hung in a model)
                state = self.run.poll(timeout=POLL)
                if self.run.finished:
                    break
                yield events.progress_text(state, widgets.label(tool))
            self.run = None
            self.states.append(state)
            if attempt == 1 and state.status == "error" and cdl is not None and not self.cancelled and \
                    results.cdl_not_fitting(state.error, cdl["param"]):
                plan.job["params"].pop(cdl["param"], None)
                jobs.write_job(plan)
                self.summary.append("no CDL: {}".format(state.error))
                continue
            return state
        return state
