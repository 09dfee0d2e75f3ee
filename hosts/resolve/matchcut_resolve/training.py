"""A tool that trains (client tools.trains: learn), decided on plain values: which clips are its targets, the
source frames they pair with by record frame, the training job, and the job that then runs the trained model
on the clip (its result comes back as a take, as any tool's).

The source is the current clip. A target is a clip holding the artist's corrected frames, laid over the source
on the timeline (a track above it, at the record frames it corrects), or selected with it: each record frame
both cover pairs the source's file frame there with the target's; a still image (one file) pairs once, at its
first record frame. The targets' frames are linked into the job folder under the source's frame numbers, as
the worker pairs frames by number.
"""

import os
from typing import Any, Dict, List, Optional, Tuple

from matchcut_resolve import jobs, media, timing
from matchcut_resolve.client import events, jobs as client_jobs
from matchcut_resolve.client import tools

#: The choices a training's target input offers besides a single clip: the clips on the tracks above the source
#: that overlap it (the default), or the clips selected on the timeline (Resolve 21.0.4 and later).
ABOVE = "(clips above)"
SELECTED = "(selected clips)"
CHOICES = (ABOVE, SELECTED)


def paired_inputs(tool: Dict[str, Any]) -> List[str]:
    """The inputs a training pairs frame by frame with the source (its required per-frame inputs: the target):
    the dialog offers CHOICES for them."""
    if not tools.trains(tool):
        return []
    return [spec["name"] for spec in tools.secondary_inputs(tool)
            if spec.get("required") and spec.get("role", "frames") == "frames"]


def is_still(plan: jobs.SourcePlan) -> bool:
    """Whether a clip's media is one image (not a sequence, not a movie): it shows the same frame throughout."""
    clip = media.clip_path(plan.pattern)
    return not clip.is_sequence and not clip.is_movie and "#" not in plan.pattern


def _record_span(rng: timing.SourceRange) -> Tuple[int, int]:
    t = rng.timing
    return t.record_start, t.record_start + t.duration  # end exclusive


def pairs(plate: jobs.SourcePlan, target: jobs.SourcePlan) -> List[Tuple[int, int]]:
    """(source file frame, target file frame) for each record frame both clips cover, in record order, each
    source frame once (a target held or slowed shows a source frame twice: its first record frame counts); a
    still target pairs once, at its first record frame. None overlap: []."""
    low, high = _record_span(plate.range)
    start, end = _record_span(target.range)
    records = [start] if is_still(target) else list(range(max(low, start), min(high, end)))
    found: Dict[int, int] = {}
    for record in records:
        if low <= record < high:
            found.setdefault(plate.range.file_frame_at(record), target.range.file_frame_at(record))
    return sorted(found.items())


def covered(plate: jobs.SourcePlan, targets: List[jobs.SourcePlan]) -> Dict[int, Tuple[jobs.SourcePlan, int]]:
    """Source file frame -> (the target clip, its file frame) for every source frame the ``targets`` cover; a
    source frame two targets cover takes the first target's (the order given)."""
    chosen: Dict[int, Tuple[jobs.SourcePlan, int]] = {}
    for target in targets:
        for frame, own in pairs(plate, target):
            chosen.setdefault(frame, (target, own))
    return chosen


def frame_links(tool: Dict[str, Any], plate: jobs.SourcePlan, name: str, targets: List[jobs.SourcePlan],
                folder: str) -> Tuple[str, List[Tuple[str, int, int, str, int, int]]]:
    """Where input ``name``'s frames go in the job ``folder`` (a ``####`` pattern under the source's frame
    numbers) and the links that put them there (media.link_sequence's arguments, one frame each). Raises
    jobs.JobFailure for a movie (the Studio dialog renders it to EXR first) or targets of different file types."""
    label = tools.input_spec(tool, name).get("label") or name
    for target in targets:
        if media.clip_path(target.pattern).is_movie:
            raise jobs.JobFailure("{}: {} clip {} is a movie: it must be an image sequence or a still (the Studio "
                                  "dialog renders movies to EXR first)".format(tools_label(tool), label, target.name))
    chosen = covered(plate, targets)
    extensions = sorted({os.path.splitext(t.pattern)[1].lower() for t, _ in chosen.values()})
    if len(extensions) > 1:
        raise jobs.JobFailure("{}: the {} clips are of different file types ({}): give them one".format(
            tools_label(tool), label, ", ".join(extensions)))
    if not chosen:
        return "", []
    dst = os.path.join(folder, "inputs", "{}.{}{}".format(name, client_jobs.hashes(max(chosen)), extensions[0]))
    return dst, [(target.pattern, own, own, dst, frame, 1) for frame, (target, own) in sorted(chosen.items())]


def tools_label(tool: Dict[str, Any]) -> str:
    return str(tool.get("label") or tool.get("name"))


def build_training(tool: Dict[str, Any], plate: Optional[jobs.SourcePlan], targets: Dict[str, List[jobs.SourcePlan]],
                   params: Dict[str, Any], root: str, timeline: Dict[str, Any],
                   provider: str = "auto") -> jobs.JobPlan:
    """The training job on ``plate`` (the current clip) with ``targets`` (input name -> its clips' plans: the
    target's, the mask's): the source frames every paired input covers go into the main input's frames
    parameter, each input's frames are linked under the source's numbers, the model goes to ``<folder>/model``
    (the folder named by the tool, parameters, inputs and frames: the same settings train in the same folder,
    so a cancelled training carries on there). Raises jobs.JobFailure (one line)."""
    name = str(tool["name"])
    if plate is None:
        raise jobs.JobFailure("{}: needs a timeline item with media".format(name))
    params = dict(params)
    main = tools.main_input(tool)
    for input_name in tools.required_inputs(tool):
        if input_name != main and not targets.get(input_name):
            raise jobs.JobFailure("{}: choose the {} clip(s): the clips above {}, the selected clips, or one "
                                  "clip".format(tools_label(tool), tools.input_spec(tool, input_name).get("label")
                                                or input_name, plate.name))
    paired = {}
    for input_name in paired_inputs(tool):
        paired[input_name] = sorted(covered(plate, targets.get(input_name) or []))
        if not paired[input_name]:
            raise jobs.JobFailure("{}: no {} clip overlaps {} on the timeline: lay the corrected frames over the "
                                  "clip (a track above it, at the frames they correct)".format(
                                      tools_label(tool), tools.input_spec(tool, input_name).get("label")
                                      or input_name, plate.name))
    frames = tools.paired_frames(tool, paired)
    param = tools.input_spec(tool, main).get("frames_param")
    if param:
        params[param] = client_jobs.format_frames(frames)
    key_inputs = {main: plate.pattern}
    for input_name, plans in sorted(targets.items()):
        key_inputs[input_name] = ";".join("{}@{}".format(p.pattern, p.range.frames_text()) for p in plans)
    key = jobs.job_key(name, params, key_inputs, str(params.get(param) or "") if param else "")
    folder = jobs.result_folder(root, str(timeline.get("project") or ""), str(timeline.get("name") or ""),
                                plate.name, name, key)
    inputs = {main: plate.pattern}
    links: List[Tuple[str, int, int, str, int, int]] = []
    for input_name, plans in targets.items():
        if plans:
            dst, made = frame_links(tool, plate, input_name, plans, folder)
            inputs[input_name] = dst
            links += made
    kinds = jobs.output_names(tool, inputs, params)
    outputs = {out: os.path.join(folder, out) for out in kinds}
    params.update(tools.host_switches(tool))
    try:
        job = client_jobs.build_job(name, inputs, outputs, None, params, provider=provider)
    except ValueError as exc:
        raise jobs.JobFailure(str(exc))
    firsts = {n: plans[0] for n, plans in targets.items() if plans}
    return jobs.JobPlan(job, folder, outputs, kinds, links, plate, firsts, tool)


def model_folder(plan: jobs.JobPlan) -> str:
    """The model folder a training job writes (its output of kind model)."""
    return plan.outputs[tools.model_outputs(plan.description, list(plan.outputs))[0]]


def build_apply(runner: Dict[str, Any], plate: jobs.SourcePlan, folder: str, root: str,
                timeline: Dict[str, Any], provider: str = "auto") -> jobs.JobPlan:
    """The job that runs the trained model in ``folder`` on the whole clip: ``runner`` is the tool that runs a
    chosen model (client tools.model_runner); its result is placed as that tool's would be."""
    return jobs.build_job(runner, plate, {}, tools.run_model_params(runner, folder), root, timeline, provider)


def result_lines(plan: jobs.JobPlan, state: Any) -> List[str]:
    """The summary lines of a finished training: where its model is and how it did on the held-out part."""
    figures = events.result_line(events.training_summary(state))
    param = tools.input_spec(plan.description, tools.main_input(plan.description)).get("frames_param") or ""
    line = "model trained on frames {}: {}".format(plan.job["params"].get(param, ""), model_folder(plan))
    return [line + (" ({})".format(figures) if figures else "")]
