"""What a strip or image becomes as a ``matchcut run`` job, and where its results go.

Each run gets a new version folder (``sh010_apply_v001``) beside the others, so a result never lands on a
source or an earlier result; a cancelled or failed run's folder is removed with everything in it. A tool that
trains (``client.tools.trains``) trains in a folder named by what it learns from (``sh010_learn_<key>``), kept
when it is cancelled (its checkpoint: the same strips and settings carry on there); what it learned then runs
on the active strip as the model-running tool's job, in a version folder of its own. The job itself is the
client's (``client.jobs``); which inputs, outputs and params it has comes from the tool's description.
"""

import hashlib
import json
import os
import shutil

from . import strips as strip_math
from .client import jobs as client_jobs
from .client import tools as described
from .client.regions import region_label, region_of

JOB_FILE = "job.json"
#: Device choices in the preferences -> the job's ``device.provider``.
PROVIDERS = {"AUTO": "auto", "GPU": "cuda", "CPU": "cpu"}
#: Marks a folder the add-on made, so cleanup never removes anything else.
OWNER_FILE = ".matchcut-blender"


def new_version_folder(root, base, tool):
    """Create and return ``root/<base>_<tool>_vNNN``, the first version number not taken."""
    os.makedirs(root, exist_ok=True)
    stem = "%s_%s_v" % (client_jobs.safe_name(base), tool)
    taken = [int(e[len(stem):]) for e in os.listdir(root) if e.startswith(stem) and e[len(stem):].isdigit()]
    version = max(taken + [0]) + 1
    while True:
        folder = os.path.join(root, "%s%03d" % (stem, version))
        try:
            os.mkdir(folder)
        except FileExistsError:  # another run took it meanwhile
            version += 1
            continue
        with open(os.path.join(folder, OWNER_FILE), "w") as fh:
            fh.write("made by the Matchcut Blender add-on; removed if its job is cancelled\n")
        return folder


def remove_version_folder(folder):
    """Remove a version folder the add-on made (it has OWNER_FILE); anything else is left alone."""
    if folder and os.path.isfile(os.path.join(folder, OWNER_FILE)):
        shutil.rmtree(folder, ignore_errors=True)
        return True
    return False


def output_patterns(tool, folder, base, sequence=True, connected=(), params=None, passes=False):
    """Absolute output patterns for the outputs a job asks the tool for: {name: path}.

    Which outputs: the description's (those whose ``needs`` the ``connected`` inputs or the set ``params``
    meet; ``extra`` ones such as relight's passes only with ``passes``). Frames are half-float EXR
    (``sh010_apply.####.exr``, ``sh010_relight_passes.####.exr``; ``sequence`` False, an Image Editor still,
    drops the frame token); a report, model or edit output is a folder, a JSON output ``<tool>.json``.
    """
    base = client_jobs.safe_name(base)
    token = ".####" if sequence else ""
    name_of_tool = tool["name"]
    outputs = {}
    for name in described.job_outputs(tool, connected, params or {}, extras=passes):
        kind = described.output_kind(tool, name)
        suffix = "" if name == ("json" if kind == "json" else "main") else "_" + client_jobs.safe_name(name)
        if kind in ("report", described.MODEL_KIND, described.EDIT_KIND):  # a folder: a report, a model, clips
            outputs[name] = os.path.join(folder, client_jobs.safe_name(name))
        elif kind == "json":
            outputs[name] = os.path.join(folder, "%s%s.json" % (name_of_tool, suffix))
        else:
            outputs[name] = os.path.join(folder, "%s_%s%s%s.exr" % (base, name_of_tool, suffix, token))
    return outputs


def _unset(value):
    return value is None or value == ""


def corrected_frames(tool, main, others):
    """The frames a training learns from: the source frames its required per-frame inputs (the target strip)
    have too, by frame number; a still target (one image) corrects the source frame shown where it starts on
    the timeline. None when the source is a still itself (the target's one image pairs with it). ValueError
    naming the strips when they share no frame."""
    if main.use.frames[0] is None:
        return None
    frames = {described.main_input(tool): main.use.frames}
    for spec in described.secondary_inputs(tool):
        source = others.get(spec["name"])
        if source is None or not spec.get("required") or spec.get("role", "frames") != "frames":
            continue
        if source.use.frames[0] is None:
            index = source.use.timeline_start - main.use.timeline_start
            frames[spec["name"]] = [main.use.frames[index]] if 0 <= index < len(main.use.frames) else []
        else:
            frames[spec["name"]] = source.use.frames
    return described.paired_frames(tool, frames)


def host_params(tool, main, others, params, folder, artifacts=()):
    """``params`` with what the adapter fills itself, unless set: each input's frames (``frames_param``: the
    middle of the frames a still input's strip shows, the range a shot's strip shows; a training's corrected
    frames, ``corrected_frames``), the path in the version ``folder`` of each artifact named in ``artifacts``
    (match's LUT and CDL) and the switches the adapter always sets (a training resumes in its own folder)."""
    out = dict(params)
    sources = dict(others)
    sources[described.main_input(tool)] = main
    types = {c["name"]: c.get("type") for c in described.controls(tool)}
    if described.trains(tool):
        param = described.input_spec(tool, described.main_input(tool)).get("frames_param")
        frames = corrected_frames(tool, main, others)
        if param and frames and _unset(out.get(param)):
            out[param] = client_jobs.format_frames(frames)
        out.update(described.host_switches(tool))
        return out
    for spec in described.input_specs(tool):
        param, source = spec.get("frames_param"), sources.get(spec["name"])
        if not param or source is None or not _unset(out.get(param)) or source.use.frames[0] is None:
            continue
        frames = source.use.frames
        if spec.get("role") == "still":
            frame = frames[len(frames) // 2]
            out[param] = frame if types.get(param) in ("int", "float") else str(frame)
        else:
            out[param] = client_jobs.format_frames(frames)
    wanted = {a["param"] for a in tool.get("artifacts") or [] if a["name"] in artifacts}
    for param, path in described.artifact_params(tool, folder, client_jobs.safe_name(main.name)).items():
        if param in wanted and _unset(out.get(param)):
            out[param] = path
    return out


def plan_job(tool, main, others, params, folder, handles=0, passes=False, artifacts=(), device="AUTO",
             precision="fp32"):
    """The job for ``tool`` on ``main`` (a strips.Source) with ``others`` ({input name: Source}): (job dict,
    outputs). ``handles``: what the artist asked for, as far as the source has frames beyond the cut (a tool
    with no default handles gets none); ``artifacts``: the names of the artifacts to write; ``device``: a
    preferences choice (AUTO, GPU, CPU). ValueError names a path that is not absolute."""
    params = host_params(tool, main, others, params, folder, artifacts)
    inputs = {described.main_input(tool): main.pattern}
    inputs.update((name, src.pattern) for name, src in others.items())
    sequence = main.use.frames[0] is not None
    outputs = output_patterns(tool, folder, main.name, sequence, connected=list(inputs), params=params,
                              passes=passes)
    frames = client_jobs.format_frames(main.use.frames) if sequence and not tool.get("frameless") else None
    count = 0
    if described.default_handles(tool) and sequence:
        count = strip_math.handles_for(main.use, handles, described.timing(tool)["handles_before"])
    job = client_jobs.build_job(tool["name"], inputs, outputs, frames, params, handles=count,
                                device={"provider": PROVIDERS.get(device, "auto"), "precision": precision})
    return job, outputs


def _keyed_folder(root, base, tool, what, note):
    """``root/<base>_<tool>_<key>``, the key a hash of ``what`` (JSON), made (with OWNER_FILE saying ``note``)
    when missing: the same ``what`` finds the same folder, so a cancelled run carries on there."""
    blob = json.dumps(dict(what, tool=tool["name"]), sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
    folder = os.path.join(root, "%s_%s_%s" % (client_jobs.safe_name(base), tool["name"], key))
    os.makedirs(folder, exist_ok=True)
    owner = os.path.join(folder, OWNER_FILE)
    if not os.path.isfile(owner):
        with open(owner, "w") as fh:
            fh.write("made by the Matchcut Blender add-on: %s (kept when cancelled)\n" % note)
    return folder


def training_folder(root, base, tool, inputs, params):
    """The folder a training keeps its model in: ``root/<base>_<tool>_<key>``, the key a hash of the inputs and
    every parameter, so the same strips and settings train (and after a cancel, carry on) in the same folder;
    made (with OWNER_FILE) when missing."""
    return _keyed_folder(root, base, tool, {"inputs": inputs, "params": params}, "a training's model folder")


def plan_edit(tool, edit, params, root, base, device="AUTO", precision="fp32"):
    """The job of a tool that stands on an edit (client tools.stands_on_edit: coverage) on the scene's strips
    as ``edit`` (edit.edit_document's timeline): (job dict, outputs, folder, the edit file's path). The folder
    is named by the scene (``base``) and a key of the edit and every parameter, and kept when the job is
    cancelled: the same strips and settings carry on there (the frames rendered are kept). The edit is written
    there as ``<base>.otio`` by ``write_edit``."""
    folder = _keyed_folder(root, base, tool, {"edit": edit, "params": params}, "a coverage of the scene's strips")
    edit_path = os.path.join(folder, client_jobs.safe_name(base) + ".otio")
    inputs = {described.edit_inputs(tool)[0]: edit_path}
    outputs = output_patterns(tool, folder, base, connected=list(inputs), params=params)
    job = client_jobs.build_job(tool["name"], inputs, outputs, None, params,
                                device={"provider": PROVIDERS.get(device, "auto"), "precision": precision})
    return job, outputs, folder, edit_path


def write_edit(edit, path):
    """Write the edit (an OTIO timeline dict) to ``path`` atomically; returns the path."""
    return client_jobs.write_json_atomic(path, edit)


def plan_training(tool, main, others, params, root, device="AUTO", precision="fp32"):
    """The job of a tool that trains on ``main`` and ``others`` (the target strip or image): (job dict, outputs,
    folder), the folder ``training_folder``'s. ValueError names strips that share no frame."""
    filled = host_params(tool, main, others, params, root)
    inputs = {described.main_input(tool): main.pattern}
    inputs.update((name, src.pattern) for name, src in others.items())
    folder = training_folder(root, main.name, tool, inputs, filled)
    job, outputs = plan_job(tool, main, others, filled, folder, device=device, precision=precision)
    return job, outputs, folder


def plan_model_run(runner, main, model_folder, folder, device="AUTO", precision="fp32"):
    """The job that runs a trained model (``model_folder``) on ``main`` with ``runner``, the tool that runs a
    chosen model (client tools.model_runner), in the version ``folder``: (job dict, outputs)."""
    return plan_job(runner, main, {}, described.run_model_params(runner, model_folder), folder, device=device,
                    precision=precision)


def write_job(job, folder):
    """Write ``folder/job.json`` atomically; returns its path."""
    return client_jobs.write_json_atomic(os.path.join(folder, JOB_FILE), job)


def read_regions(path):
    """The regions of a JSON result that lists comparisons (continuity's) as marker plans:
    [(comparison_index, region dict, label)]; None for a JSON file that lists none.

    ``label`` is Blender's marker name (at most 63 characters): ``#3 wardrobe (person) 0.82``.
    """
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or "comparisons" not in data:
        return None
    plans = []
    for i, comparison in enumerate(data.get("comparisons") or []):
        for region in comparison.get("regions") or []:
            plans.append((i, region, region_label(region_of(region))))
    return plans


def result_placement(source_use, out_frames, retiming):
    """Where a result strip goes: (timeline frame of its first file, trim before, trim after).

    A result with the source's frame numbers (plus handles) lines up frame for frame with the source and is
    trimmed to what the source shows; a retimed result starts where the source's shown range starts.
    """
    used = source_use.frames
    if retiming or used[0] is None or not out_frames or out_frames[0] is None:
        return source_use.timeline_start, 0, 0
    if used[0] not in out_frames or used[-1] not in out_frames:
        return source_use.timeline_start, 0, 0
    before = out_frames.index(used[0])
    after = len(out_frames) - 1 - out_frames.index(used[-1])
    return source_use.timeline_start - before, before, after
