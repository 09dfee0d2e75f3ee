"""The tools' descriptions (``matchcut tools --json``) and what every host derives from them.

A description is plain data (see matchcut.tools.description in the core): inputs with roles, outputs with
the conditions they need, artifacts, timing and controls with UI hints. Every menu, knob, dialog and job an
adapter builds comes from here, so a tool the worker gains appears in every host with no host edit.
"""

import hashlib
import json
import math
import os
import tempfile
import time

from . import DESCRIPTION_VERSION, jobs, worker

#: Seconds a host's start-up may wait for the worker's descriptions when none is cached for it.
STARTUP_TIMEOUT = 5.0
#: As the worker's timing: a timestep this close to a whole frame counts as that frame.
EPSILON = 1e-6
#: The output kind of a tool that trains: a model folder (the .onnx, its manifest, a preview, the checkpoint).
MODEL_KIND = "model"
#: The output kind of a tool that stands on an edit (coverage): a folder of rendered clips and a new timeline.
EDIT_KIND = "edit"
#: The input role of a timeline file (an .otio, .edl or .xml): a host writes its own timeline to a file for it.
EDIT_ROLE = "edit"
#: Output kinds that are no frames: a report folder, a JSON file, a model folder, an edit folder.
NOT_FRAMES = ("report", "json", MODEL_KIND, EDIT_KIND)
#: The switch of a tool that trains that carries on from its model folder's checkpoint (core: matchcut.tools.learn,
#: its ``resume`` control). A host's model folder is its own and named by everything the training depends on, so
#: a checkpoint there is always this training's: the host sets it (``host_switches``) and shows no control for it,
#: and training again after a cancel carries on from the last good checkpoint.
RESUME_CONTROL = "resume"


class DescriptionError(worker.WorkerError):
    """The worker's descriptions are of another version than this adapter reads, or malformed; one line."""


def tools_from(data):
    """``matchcut tools --json`` -> {name: tool}; DescriptionError saying which side to update when the format
    is not the one this adapter reads."""
    if not isinstance(data, dict):
        raise DescriptionError("the worker's tools description is not a JSON object")
    version = data.get("matchcut_tools")
    worker_version = data.get("matchcut", "an older version")
    if version is None:
        raise DescriptionError("the Matchcut worker ({}) is older than this adapter (it needs tools description "
                               "version {}): update the worker environment's matchcut".format(worker_version,
                                                                                             DESCRIPTION_VERSION))
    if version != DESCRIPTION_VERSION:
        side = "the adapter" if version > DESCRIPTION_VERSION else "the worker environment's matchcut"
        raise DescriptionError("the Matchcut worker {} describes its tools in version {}, this adapter reads "
                               "version {}: update {}".format(worker_version, version, DESCRIPTION_VERSION, side))
    tools = data.get("tools")
    if not isinstance(tools, dict):
        raise DescriptionError("the worker's tools description has no 'tools' object")
    out = {}
    for name, tool in sorted(tools.items()):
        if not isinstance(tool, dict) or not isinstance(tool.get("input_specs"), list):
            raise DescriptionError("tool {!r}: expected an object with input_specs".format(name))
        out[name] = tool
    return out


# --- descriptions, cached per worker ---------------------------------------------------------------------

def _worker_key(exe):
    """What identifies a worker build without running it: its real path, size and modification time (an
    install or upgrade rewrites the executable)."""
    real = os.path.realpath(exe)
    try:
        st = os.stat(real)
        stamp = "{}:{}".format(st.st_size, int(st.st_mtime))
    except OSError:
        stamp = "missing"
    return real, stamp


def _cache_file(cache_dir, exe):
    real, _ = _worker_key(exe)
    return os.path.join(cache_dir, "tools-{}.json".format(hashlib.sha256(real.encode("utf-8")).hexdigest()[:16]))


def _read_cache(path):
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) and isinstance(data.get("answer"), dict) else None
    except (OSError, ValueError):
        return None


def load_descriptions(exe, cache_dir=None, timeout=STARTUP_TIMEOUT, refresh=False):
    """The worker's tools as {name: tool} and a note (one line, or "").

    With ``cache_dir``, the answer is kept per worker: a worker whose executable has not changed since it was
    asked is not asked again (host start-up then never waits on it). A worker that does not answer within
    ``timeout`` seconds, or fails, gives its last cached answer with a note saying so; with nothing cached the
    WorkerError is raised (one line), and the host shows its menu without the tools.
    """
    answer, note = load_answer(exe, cache_dir, timeout, refresh)
    return tools_from(answer), note


def load_answer(exe, cache_dir=None, timeout=STARTUP_TIMEOUT, refresh=False):
    """As ``load_descriptions``, but the worker's whole answer (checked by ``tools_from``; its ``matchcut`` is
    the worker's version, for ``version_mismatch``) and the note."""
    path = _cache_file(cache_dir, exe) if cache_dir else None
    cached = _read_cache(path) if path else None
    key = list(_worker_key(exe))
    if cached and not refresh and cached.get("key") == key:
        tools_from(cached["answer"])
        return cached["answer"], ""
    try:
        answer = worker.query(exe, ["tools", "--json"], timeout=timeout)
        tools_from(answer)
    except worker.WorkerError as exc:
        if cached:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(cached.get("time", 0)))
            tools_from(cached["answer"])
            return cached["answer"], "{} (showing the tools it described on {})".format(exc, when)
        raise
    if path:
        _write_cache(path, {"key": key, "time": time.time(), "answer": answer})
    return answer, ""


# --- the installed adapter's version ----------------------------------------------------------------------

#: The record `matchcut hosts install` (and `hosts build`) writes into an adapter (core: matchcut.adapters.RECORD).
RECORD = "matchcut_installed.json"
#: How each host is named in the mismatch line, and the command that installs it.
HOST_LABELS = {"nuke": "Nuke", "resolve": "Resolve", "blender": "Blender"}


def installed_record(folder):
    """The record in ``folder`` (the adapter's package folder: where it was installed): a dict with ``version``
    (the Matchcut it was installed from), ``worker``, ``host`` and ``installed`` (a date); None when there is
    none (an adapter run from a checkout) or it is unreadable."""
    try:
        with open(os.path.join(folder, RECORD), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("matchcut_installed") == 1 else None


def version_mismatch(record, answer, host):
    """One line when the adapter was installed from another Matchcut version than the worker it talks to ("" when
    they agree, or either is unknown): which one to update, and how. ``answer`` is the worker's ``tools --json``
    (or just its version string)."""
    if not isinstance(record, dict) or not record.get("version"):
        return ""
    worker_version = answer.get("matchcut") if isinstance(answer, dict) else answer
    if not worker_version or str(worker_version) == str(record["version"]):
        return ""
    return ("the {} adapter was installed from Matchcut {}, the worker is {}: run `matchcut hosts install {}` from "
            "the worker environment".format(HOST_LABELS.get(host, host), record["version"], worker_version, host))


def _write_cache(path, data):
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tools-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs the next start-up one question


# --- inputs -----------------------------------------------------------------------------------------------

def input_specs(tool, hosts_only=True):
    """The tool's inputs in order (the main one first); ``hosts_only`` leaves out timeline files (``edit_inputs``)."""
    specs = [i for i in tool.get("input_specs") or [] if not (hosts_only and i.get("role") == EDIT_ROLE)]
    return sorted(specs, key=lambda i: i.get("role") != "main")


def main_input(tool):
    """The name of the input the host's current clip, strip or node fills (its frames are the job's)."""
    for spec in tool.get("input_specs") or []:
        if spec.get("role") == "main":
            return spec["name"]
    raise DescriptionError("tool {!r} declares no main input".format(tool.get("name")))


def secondary_inputs(tool):
    """Input specs besides the main one that a host wires (in the tool's order); none for a tool whose only
    input is a timeline file (``stands_on_edit``)."""
    specs = input_specs(tool)
    if not specs:
        return []
    main = main_input(tool)
    return [i for i in specs if i["name"] != main]


def required_inputs(tool):
    """Names of the inputs a job cannot run without (the main one included)."""
    return [i["name"] for i in input_specs(tool) if i.get("required")]


def picked_inputs(tool):
    """Names of the secondary inputs a host fills from the other selected clips or strips (a reference, shot
    A, a background), in order."""
    return [i["name"] for i in secondary_inputs(tool) if i.get("pick")]


def input_spec(tool, name):
    for spec in tool.get("input_specs") or []:
        if spec["name"] == name:
            return spec
    raise DescriptionError("tool {!r} has no input {!r}".format(tool.get("name"), name))


def edit_inputs(tool):
    """Names of the tool's timeline-file inputs (role ``edit``) a host fills with its own timeline written to a
    file, in order; for most tools none."""
    return [i["name"] for i in tool.get("input_specs") or [] if i.get("role") == EDIT_ROLE]


def stands_on_edit(tool):
    """True for a tool that works on a whole edit (coverage): it needs a timeline file and has no main input,
    so a host runs it on its timeline (or sequence, or a file the artist names), not on one clip."""
    specs = tool.get("input_specs") or []
    return any(i.get("role") == EDIT_ROLE and i.get("required") for i in specs) and not any(
        i.get("role") == "main" for i in specs)


def record_range_param(tool):
    """The control of a tool that stands on an edit which a host fills with the record frames it covers (its
    In/Out or preview range): its edit input's ``frames_param`` (coverage's ``range``), or None."""
    if not stands_on_edit(tool):
        return None
    found = [i["frames_param"] for i in tool.get("input_specs") or []
             if i.get("role") == EDIT_ROLE and i.get("frames_param")]
    return found[0] if found else None


def input_role(tool, name):
    """main, frames, still, shot or edit."""
    return input_spec(tool, name).get("role", "frames")


# --- outputs ----------------------------------------------------------------------------------------------

def output_specs(tool):
    return list(tool.get("output_specs") or [])


def output_kind(tool, name):
    """plate, matte, pass, report, json, model or edit ("plate" for a name the tool does not describe)."""
    return (tool.get("output_kinds") or {}).get(name, "plate")


def _given(need, connected, params):
    kind, _, what = need.partition(":")
    if kind == "input":
        return what in connected
    value = params.get(what)
    return value is not None and value != "" and value is not False


def job_outputs(tool, connected=(), params=None, extras=True):
    """The outputs a job asks for, in the tool's order: each whose ``needs`` are met by the ``connected``
    input names or the set ``params`` (a matte's comp only with a background), ``extra`` ones (relight's
    passes) only with ``extras``."""
    params = params or {}
    names = []
    for spec in output_specs(tool):
        if spec.get("extra") and not extras:
            continue
        needs = spec.get("needs") or []
        if needs and not any(_given(n, connected, params) for n in needs):
            continue
        names.append(spec["name"])
    return names


def frame_outputs(tool, names):
    """Of ``names``, the outputs that are frames (not a report folder, a JSON file or a model folder)."""
    return [n for n in names if output_kind(tool, n) not in NOT_FRAMES]


def model_outputs(tool, names=None):
    """Of ``names`` (default: every output of the tool), those that are a trained model's folder."""
    names = [o["name"] for o in output_specs(tool)] if names is None else names
    return [n for n in names if output_kind(tool, n) == MODEL_KIND]


def trains(tool):
    """True for a tool that trains a model from pairs (its output is a model folder): it reports steps, not
    frames, and what it makes is run afterwards by the tool that runs a chosen model (``model_runner``)."""
    return bool(model_outputs(tool))


def model_ready(folder):
    """True when a model folder holds an exported model (a manifest ``.toml`` beside its ``.onnx``), not only a
    stopped training's checkpoint."""
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(n.endswith(".toml") and n[:-5] + ".onnx" in names for n in names)


def paired_frames(tool, frames):
    """The frames a training learns from: those every one of ``frames`` (input name -> its frame numbers: the
    main input's and the required per-frame inputs', as the host reads them) has, sorted. ValueError naming the
    inputs and their frames when they share none (the pairs are matched by frame number)."""
    sets = [(name, set(int(f) for f in found)) for name, found in frames.items()]
    common = set.intersection(*[found for _, found in sets]) if sets else set()
    if not common:
        named = ", ".join("{} (frames {})".format(input_spec(tool, name).get("label") or name,
                                                  jobs.format_frames(found) if found else "none")
                          for name, found in sets)
        raise ValueError("{}: {} share no frame: the corrected frames must carry the frame numbers of the source "
                         "frames they correct".format(tool.get("label") or tool.get("name"), named))
    return sorted(common)


def primary_output(tool, names):
    """Which of the outputs ``names`` a host shows as the result: the first of the tool's primary outputs the
    job makes, else its first frame output, else None (a report only)."""
    for name in tool.get("primary_outputs") or []:
        if name in names:
            return name
    frames = frame_outputs(tool, names)
    return frames[0] if frames else None


def output_order(tool, names):
    """``names`` with the primary output first (a node's output menu, a dialog's result list)."""
    primary = primary_output(tool, names)
    return ([primary] if primary else []) + [n for n in names if n != primary]


def artifact_params(tool, folder, stem):
    """Paths for the tool's artifacts in a result ``folder``: {param: path} (match's LUT and CDL)."""
    return {a["param"]: os.path.join(folder, "{}_{}{}".format(stem, tool["name"], a["suffix"]))
            for a in tool.get("artifacts") or []}


# --- controls ---------------------------------------------------------------------------------------------

def controls(tool, ui=None):
    """The tool's controls; with ``ui``, only those with that hint ("host", "model", "lights", ...)."""
    return [c for c in tool.get("controls") or [] if ui is None or c.get("ui", "") == ui]


def host_params(tool):
    """Names of the parameters the adapter fills itself: an input's frames, an artifact's path, a training's
    resume switch (``host_switches``)."""
    names = [c["name"] for c in controls(tool, "host")]
    names += [i["frames_param"] for i in input_specs(tool) if i.get("frames_param")]
    names += [a["param"] for a in tool.get("artifacts") or []]
    names += list(host_switches(tool))
    return sorted(set(names))


def host_switches(tool):
    """{param: value} a host always sends and shows no control for: a training carries on from its model
    folder's checkpoint (RESUME_CONTROL) when its folder holds one (none: it starts afresh)."""
    if trains(tool) and any(c["name"] == RESUME_CONTROL for c in controls(tool)):
        return {RESUME_CONTROL: True}
    return {}


def model_param(tool):
    """The control that names a model whose own controls join the tool's (apply's ``model``), or None."""
    found = controls(tool, "model")
    return found[0]["name"] if found else None


def model_runner(described):
    """The name of the tool that runs a chosen model on a shot (its ``ui: model`` control and a main input), of
    ``described`` ({name: tool}), or None: the tool a trained model folder is handed to."""
    for name, tool in sorted(described.items()):
        if model_param(tool) and any(i.get("role") == "main" for i in tool.get("input_specs") or []):
            return name
    return None


def run_model_params(runner, folder):
    """The params that make ``runner`` (``model_runner``'s tool) run the model in ``folder``, a trained model's
    folder (the worker takes a folder where it takes a model id)."""
    param = model_param(runner)
    if not param:
        raise DescriptionError("tool {!r} runs no chosen model".format(runner.get("name")))
    return {param: folder}


def with_model_controls(tool, manifest):
    """The tool with a model's manifest controls after its own (one named like the tool's is left out: the
    tool's wins, as in the worker); ``tool["model"]`` is the model's id."""
    own = {c["name"] for c in tool.get("controls") or []}
    extra = [dict(c, model_control=True) for c in manifest.get("controls") or [] if c["name"] not in own]
    return dict(tool, controls=list(tool.get("controls") or []) + extra, model=str(manifest.get("id", "")))


def image_models(models_list):
    """Model ids a model-running tool offers, from ``matchcut models list --json``: image-to-image models first,
    then studio models with other tasks (the worker refuses unusable ones with a clear error)."""
    entries = models_list.get("models", []) if isinstance(models_list, dict) else list(models_list or [])
    builtin_tasks = ("segmentation", "face-detection", "face-landmarks", "interpolation")
    first = [m["id"] for m in entries if isinstance(m, dict) and m.get("task") == "image-to-image"]
    rest = [m["id"] for m in entries if isinstance(m, dict) and m.get("task") not in builtin_tasks
            and m["id"] not in first]
    return first + rest


# --- timing -----------------------------------------------------------------------------------------------

def timing(tool):
    t = tool.get("timing") or {}
    return {"handles": int(t.get("handles") or 0), "handles_before": bool(t.get("handles_before", True)),
            "retimes": bool(t.get("retimes"))}


def default_handles(tool):
    """Frames of context the tool reads either side by default (fill 2, retime 1, the rest 0)."""
    return timing(tool)["handles"]


def render_range(tool, first, last, handles, available=None):
    """The source frames a job over ``first..last`` reads: the range plus ``handles`` (after it only, for a
    tool whose output is numbered from its first source frame), clamped to the frames ``available``
    (low, high) so a handle never repeats a held first or last frame. ValueError for a reversed range."""
    if last < first:
        raise ValueError("frame range {}-{}: expected first <= last".format(first, last))
    if handles < 0:
        raise ValueError("handles {}: expected a whole number >= 0".format(handles))
    start = first - handles if timing(tool)["handles_before"] else first
    end = last + handles
    if available is not None:
        low, high = available
        start, end = max(start, min(low, first)), min(end, max(high, last))
    return start, end


def retime_step(params):
    """Source frames per output frame from ``speed``, or ``fps_from``/``fps_to`` (as the worker reads them)."""
    speed, fps_from, fps_to = params.get("speed"), params.get("fps_from"), params.get("fps_to")
    if speed:
        return float(speed)
    if fps_from and fps_to:
        return float(fps_from) / float(fps_to)
    raise ValueError("retime: set Speed, or both From fps and To fps")


def output_range(tool, params, start, end):
    """The frames of the result of a job over source frames ``start..end``: the same for most tools; for one
    that retimes, numbered from ``start`` with floor((end - start) / step) + 1 frames (the worker's rule)."""
    if not timing(tool)["retimes"]:
        return start, end
    count = int(math.floor((end - start) / retime_step(params) + EPSILON)) + 1
    return start, start + count - 1


def source_position(tool, params, start, frame):
    """Which source frame (a position) output ``frame`` shows: itself, or for a retime start + k * step."""
    if not timing(tool)["retimes"]:
        return float(frame)
    return start + (frame - start) * retime_step(params)
