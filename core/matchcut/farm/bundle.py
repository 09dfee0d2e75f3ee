"""An Open Job Description job bundle for any Matchcut job: the template, its parameter values and the job file.

Layout (what AWS Deadline Cloud's ``deadline bundle submit`` and ``openjd run`` read):

``template.json``
    ``jobtemplate-2023-09`` with the TASK_CHUNKING extension. Job parameters: ``JobFile`` (the bundled job; its
    default is ``job.json`` beside the template, as OpenJD wants PATH defaults relative), ``Matchcut`` (the worker's ``matchcut``), ``Frames`` (the output frames) and ``ChunkSize``
    (its minimum is the tool's temporal window). A job environment checks the worker's Matchcut once per session
    (``matchcut --version``) and sets ``MATCHCUT_WORKER``. Step ``Frames``: a ``CHUNK[INT]`` task parameter over
    ``Frames`` (CONTIGUOUS), each task ``matchcut run JOB --chunk RANGE --events jsonl``, so a task's log is the
    job's JSON-lines events; GPU workers are asked for with ``amount.worker.gpu`` >= 1. Step ``Finish`` (a tool
    that ends with an artifact: shot match's LUT and CDL) depends on it and runs ``--finish-only`` once. A
    frameless tool (continuity's report) is one step, ``Run``, the whole job in one task.
``parameter_values.json``
    ``{"parameterValues": [{"name", "value"}, ...]}`` (Deadline Cloud's form): the same values as the template's
    defaults, with ``JobFile`` as the workers see it (mapped); ``openjd run`` is given them with ``-p``.
``job.json``
    the job with every path mapped and checked for the farm (``matchcut.farm.paths``).

Commands run without a shell (``command`` is the worker's executable itself), so the same template serves Linux,
macOS and Windows workers.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matchcut.errors import JobError
from matchcut.farm.chunks import ChunkPlan, plan_chunks, range_text
from matchcut.farm.paths import farm_job, farm_path
from matchcut.paths import PathMap

TEMPLATE = "template.json"
PARAMETER_VALUES = "parameter_values.json"
JOB = "job.json"
SPEC_VERSION = "jobtemplate-2023-09"
CHUNK_STEP, FINISH_STEP, RUN_STEP = "Frames", "Finish", "Run"
#: The host requirement a GPU task asks for (OpenJD's standard amount; Deadline Cloud fleets report it).
GPU_AMOUNT = "amount.worker.gpu"


@dataclass
class Bundle:
    """A written bundle: its ``folder`` and files, the ``job_file`` path the workers read, the ``worker`` they
    run, the chunks (``plan``; no frames for a frameless tool), whether it has a ``finish`` step and asks for a
    ``gpu``, and ``notes`` to show (a raised chunk size)."""

    folder: Path
    name: str
    tool: str
    job_file: str
    worker: str
    plan: ChunkPlan
    finish: bool
    gpu: bool
    notes: list[str] = field(default_factory=list)

    @property
    def template(self) -> Path:
        return self.folder / TEMPLATE

    @property
    def parameter_values(self) -> Path:
        return self.folder / PARAMETER_VALUES

    @property
    def job(self) -> Path:
        return self.folder / JOB

    @property
    def frames(self) -> str:
        """The output frames as a farm's range expression ("" for a frameless job)."""
        return range_text(self.plan.frames) if self.plan.frames else ""

    def values(self) -> dict[str, Any]:
        """The job parameters' values by name."""
        values: dict[str, Any] = {"JobFile": self.job_file, "Matchcut": self.worker}
        if self.plan.frames:
            values.update(Frames=self.frames, ChunkSize=self.plan.size)
        return values

    def run_args(self, chunk: str | None = None, finish: bool = False) -> list[str]:
        """The argv (after the executable) of one task: a chunk's, the final one's, or the whole job's."""
        extra = ["--chunk", chunk] if chunk is not None else ["--finish-only"] if finish else []
        return ["run", self.job_file, *extra, "--events", "jsonl"]


def this_worker() -> str:
    """The ``matchcut`` executable of the running environment (beside its Python), else ``matchcut`` on PATH."""
    exe = "matchcut.exe" if os.name == "nt" else "matchcut"
    beside = Path(sys.executable).parent / exe
    if beside.is_file():
        return str(beside)
    return shutil.which(exe) or exe


def wants_finish(tool: Any, spec: Any) -> bool:
    """True when the job ends with an artifact (a tool's artifact parameter is set): the bundle's final step."""
    return not tool.frameless and any(str(spec.params.get(a.param) or "").strip() for a in tool.artifacts)


def template(bundle: Bundle, label: str) -> dict[str, Any]:
    """The OpenJD job template of ``bundle`` (see the module docstring); ``label`` names the tool in descriptions."""
    params: list[dict[str, Any]] = [
        {"name": "JobFile", "type": "PATH", "objectType": "FILE", "dataFlow": "IN", "default": JOB,
         "description": "The Matchcut job file (version 1); parameter_values.json gives it as the workers see it."},
        {"name": "Matchcut", "type": "STRING", "default": bundle.worker, "minLength": 1,
         "description": "The matchcut executable of the workers' Matchcut environment."},
    ]
    if bundle.plan.frames:
        params += [
            {"name": "Frames", "type": "STRING", "default": bundle.frames, "minLength": 1,
             "description": "The job's output frames (a range expression)."},
            {"name": "ChunkSize", "type": "INT", "default": bundle.plan.size, "minValue": bundle.plan.window,
             "description": f"Frames per task; at least {bundle.plan.window}, the frames one output frame of "
                            f"{bundle.tool} reads."},
        ]
    worker = "{{Param.Matchcut}}"
    job = "{{Param.JobFile}}"
    gpu = {"hostRequirements": {"amounts": [{"name": GPU_AMOUNT, "min": 1}]}} if bundle.gpu else {}

    def action(*args: str) -> dict[str, Any]:
        return {"script": {"actions": {"onRun": {"command": worker, "args": list(args)}}}}

    if not bundle.plan.frames:
        steps = [{"name": RUN_STEP, **gpu, **action("run", job, "--events", "jsonl")}]
    else:
        space = {"taskParameterDefinitions": [{
            "name": "Frame", "type": "CHUNK[INT]", "range": "{{Param.Frames}}",
            "chunks": {"defaultTaskCount": "{{Param.ChunkSize}}", "rangeConstraint": "CONTIGUOUS"}}]}
        steps = [{"name": CHUNK_STEP, "parameterSpace": space, **gpu,
                  **action("run", job, "--chunk", "{{Task.Param.Frame}}", "--events", "jsonl")}]
        if bundle.finish:
            steps.append({"name": FINISH_STEP, "dependencies": [{"dependsOn": CHUNK_STEP}],
                          **action("run", job, "--finish-only", "--events", "jsonl")})
    return {
        "specificationVersion": SPEC_VERSION,
        "extensions": ["TASK_CHUNKING"],
        "name": bundle.name,
        "description": (f"Matchcut {label}: the job's frames in chunks, each planning the whole job and writing "
                        "only its own frames" if bundle.plan.frames else f"Matchcut {label}: the whole job in one task"),
        "parameterDefinitions": params,
        "jobEnvironments": [{
            "name": "Matchcut",
            "description": "The workers' Matchcut: checked once per session, named to what runs under it.",
            "variables": {"MATCHCUT_WORKER": worker},
            "script": {"actions": {"onEnter": {"command": worker, "args": ["--version"]}}},
        }],
        "steps": steps,
    }


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def validate(template_data: dict[str, Any], values: dict[str, Any], folder: Path) -> str:
    """Check the template and its values with the OpenJD model (the ``farm`` extra's openjd-model); returns what
    checked it, or "" when openjd-model is not installed. JobError naming the template when it does not validate."""
    try:
        from openjd.model import (DecodeValidationError, create_job, decode_job_template,
                                  preprocess_job_parameters)
        from openjd.model import version as openjd_version
    except ImportError:
        return ""
    try:
        decoded = decode_job_template(template=template_data, supported_extensions=["TASK_CHUNKING"])
        resolved = preprocess_job_parameters(job_template=decoded, job_parameter_values={k: str(v) for k, v in
                                                                                           values.items()},
                                             environment_templates=[], job_template_dir=folder,
                                             current_working_dir=folder)
        create_job(job_template=decoded, job_parameter_values=resolved)
    except (DecodeValidationError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise JobError(str(folder / TEMPLATE), f"the OpenJD template does not validate: {detail}") from None
    return f"openjd-model {openjd_version}"


def write_bundle(job_path: str | os.PathLike, out: str | os.PathLike, *, chunk: int | None = None,
                 paths: PathMap | None = None, allow_local: bool = False, worker: str | None = None,
                 gpu: bool | None = None) -> Bundle:
    """Write the bundle of the job file ``job_path`` into folder ``out`` and return it.

    The job is checked by its tool first; its output frames and chunk size come from ``plan_chunks`` (``chunk``
    raised to the tool's temporal window, with a note); every path of the job, the bundle folder (the workers
    read ``job.json`` there) and ``worker`` (default: this environment's ``matchcut``; a bare name is looked up
    on the workers' PATH) is mapped by ``paths`` and refused when the farm cannot see it (``farm.paths``).
    ``gpu`` None asks for GPU workers unless the job's device is the CPU.
    """
    from matchcut.jobs.spec import load_job
    from matchcut.tools import get_tool

    paths = paths or PathMap()
    spec = load_job(job_path)
    tool = get_tool(spec.tool)
    tool.check(spec)
    plan = plan_chunks(tool, spec, chunk)
    folder = Path(out).expanduser().absolute()
    data = farm_job(spec, tool, paths, allow_local)
    job_file = farm_path("--out", str(folder / JOB), folder, paths, allow_local)
    worker = worker or this_worker()
    bare = os.sep not in worker and "/" not in worker and not os.path.isabs(worker)
    farm_worker = worker if bare else farm_path("--worker", worker, Path.cwd(), paths, allow_local)
    use_gpu = spec.device.provider != "cpu" if gpu is None else gpu
    name = f"Matchcut {spec.tool} {Path(job_path).stem}"
    bundle = Bundle(folder, name, spec.tool, job_file, farm_worker, plan, wants_finish(tool, spec), use_gpu,
                    [plan.note] if plan.note else [])
    body = template(bundle, tool.label or tool.name)
    values = bundle.values()
    _write_json(bundle.job, data)
    _write_json(bundle.parameter_values, {"parameterValues": [{"name": k, "value": v} for k, v in values.items()]})
    _write_json(bundle.template, body)
    checked = validate(body, values, folder)
    if checked:
        bundle.notes.append(f"template validated with {checked}")
    return bundle
