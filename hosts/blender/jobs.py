"""Job files for the worker: what a strip or image becomes as a ``matchcut run`` job, and where results go.

Each run gets a new version folder (``sh010_apply_v001``) beside the others, so a result never lands on a
source or an earlier result; a cancelled or failed run's folder is removed with everything in it.
"""

import json
import os
import re
import shutil
import tempfile

from . import strips as strip_math
from . import tools as tool_specs

JOB_VERSION = 1
JOB_FILE = "job.json"
#: Device choices in the preferences -> the job's ``device.provider``.
PROVIDERS = {"AUTO": "auto", "GPU": "cuda", "CPU": "cpu"}
#: Marks a folder the add-on made, so cleanup never removes anything else.
OWNER_FILE = ".matchcut-blender"


def safe_name(text):
    """A file-name-safe version of a strip or image name (letters, digits, ``-``, ``_``, ``.``)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return cleaned or "shot"


def new_version_folder(root, base, tool):
    """Create and return ``root/<base>_<tool>_vNNN``, the first version number not taken."""
    os.makedirs(root, exist_ok=True)
    stem = "%s_%s_v" % (safe_name(base), tool)
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


def output_patterns(tool, folder, base, sequence=True, passes=False, patch=False):
    """Absolute output patterns for a tool's outputs: {name: path}.

    Image outputs are half-float EXR (``sh010_apply.####.exr``, ``sh010_relight_normals.####.exr``);
    ``sequence`` False (an Image Editor still) drops the frame token; ``passes`` asks for pass outputs too
    (relight's multi-layer passes). Continuity writes a report folder
    and its JSON instead, plus ``main`` and ``patch`` with ``patch``.
    """
    base = safe_name(base)
    token = ".####" if sequence else ""
    if tool.name in tool_specs.TWO_SHOT:
        outputs = {"report": os.path.join(folder, "report"), "json": os.path.join(folder, "continuity.json")}
        for name in ("main", "patch") if patch else ():  # a patch: B rebuilt, and the region alone
            outputs[name] = os.path.join(folder, "%s_%s_%s%s.exr" % (base, tool.name, name, token))
        return outputs
    outputs = {}
    for name in tool_specs.output_names(tool, passes):
        suffix = "" if name == "main" else "_" + safe_name(name)
        outputs[name] = os.path.join(folder, "%s_%s%s%s.exr" % (base, tool.name, suffix, token))
    return outputs


def build_job(tool, inputs, outputs, frames=None, handles=0, params=None, device="AUTO", precision="fp32"):
    """A version-1 job as a dict. ``inputs``/``outputs``: {name: absolute pattern}; ``frames``: frame numbers
    (None: every frame on disk, or a still); ``device``: a preferences choice (AUTO, GPU, CPU)."""
    job = {
        "matchcut_job": JOB_VERSION,
        "tool": tool,
        "inputs": dict(inputs),
        "outputs": dict(outputs),
        "frames": strip_math.format_frames(frames) if frames and frames[0] is not None else None,
        "handles": int(handles),
        "params": dict(params or {}),
        "device": {"provider": PROVIDERS.get(device, "auto"), "precision": precision},
    }
    for name, path in list(job["inputs"].items()) + list(job["outputs"].items()):
        if not os.path.isabs(path):
            raise ValueError("%s: job paths from Blender must be absolute, got %r" % (name, path))
    return job


def write_job(job, folder):
    """Write ``folder/job.json`` atomically (a temporary name, then os.replace); returns its path."""
    path = os.path.join(folder, JOB_FILE)
    fd, tmp = tempfile.mkstemp(prefix=".job.json.tmp-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(job, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def continuity_params(params, frames_a, frames_b):
    """Continuity compares the frames the strips show: A's and B's used ranges unless the artist set them."""
    out = dict(params)
    if not out.get("frames_a") and frames_a and frames_a[0] is not None:
        out["frames_a"] = strip_math.format_frames(frames_a)
    if not out.get("frames_b") and frames_b and frames_b[0] is not None:
        out["frames_b"] = strip_math.format_frames(frames_b)
    return out


def read_continuity(path):
    """The regions of a continuity JSON as marker plans: [(comparison_index, region dict, label)].

    ``label`` is Blender's marker name (at most 63 characters): ``#3 wardrobe (person) 0.82``.
    """
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    plans = []
    for i, comparison in enumerate(data.get("comparisons") or []):
        for region in comparison.get("regions") or []:
            label = "#%s %s (%s) %.2f" % (region.get("id"), region.get("category", "?"), region.get("on", "?"),
                                          float(region.get("score") or 0.0))
            plans.append((i, region, label[:63]))
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
