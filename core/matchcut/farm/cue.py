"""opencue: an OpenCue job built as an outline with pyoutline (PyPI ``opencue-pyoutline``), a layer per step.

Layer ``frames``: a Shell layer over the output frames with the chunk size, its command
``matchcut run JOB --chunk #FRAME_START#-#FRAME_END# --events jsonl`` (Cuebot replaces the tokens with each
frame chunk's first and last frame) and one GPU when the bundle asks for GPU workers; layer ``finish`` (a job
with an artifact): one frame that waits for every frame of ``frames`` (``depend_all``). The outline is serialised
to Cuebot's job spec (``opencue/job.xml`` in the bundle) without pycuerun's wrapper, and launched
(``outline.cuerun.launch``) when a Cuebot is configured: ``$CUEBOT_HOSTS`` or an OpenCue config file
(``$OPENCUE_CONFIG_FILE``, ``~/.config/opencue/opencue.yaml``). pyoutline keeps its session files in the bundle's
``opencue/`` folder, not in the home folder.
"""

from __future__ import annotations

import os
import re
from typing import Any

from matchcut.errors import FarmClientError, FarmError
from matchcut.farm import Submission
from matchcut.farm.bundle import Bundle

FOLDER = "opencue"
SPEC = "job.xml"
INSTALL = "pip install 'matchcut[opencue]' (or pip install opencue-pyoutline) in the worker environment"
START, END = "#FRAME_START#", "#FRAME_END#"


def pyoutline():
    """pyoutline's ``outline`` package (with ``cuerun`` and the Shell module); FarmClientError when missing."""
    try:
        import outline
        import outline.cuerun
        from outline.modules.shell import Shell
    except ImportError:
        raise FarmClientError("pyoutline", f"not installed (OpenCue's outline library, PyPI package "
                              f"opencue-pyoutline): {INSTALL}") from None
    return outline, Shell


def job_name(bundle: Bundle) -> str:
    """An OpenCue job name from the bundle's (letters, digits, ``_``)."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", bundle.name).strip("_").lower()


def build(bundle: Bundle) -> Any:
    """The outline of ``bundle``: its layers (see the module docstring), session files under the bundle; show,
    shot and user are pyoutline's own ($SHOW, $SHOT, the user), as for any job of the facility."""
    outline, Shell = pyoutline()
    session = bundle.folder / FOLDER / "sessions"
    session.mkdir(parents=True, exist_ok=True)
    outline.config.set("outline", "session_dir", str(session))
    ol = outline.Outline(job_name(bundle))
    worker = bundle.worker
    if not bundle.plan.frames:
        ol.add_layer(Shell("run", command=[worker, *bundle.run_args()], range="1", chunk=1,
                           **({"gpus": 1} if bundle.gpu else {})))
        return ol
    frames = Shell("frames", command=[worker, *bundle.run_args(f"{START}-{END}")], range=bundle.frames,
                   chunk=bundle.plan.size, **({"gpus": 1} if bundle.gpu else {}))
    ol.add_layer(frames)
    if bundle.finish:
        finish = Shell("finish", command=[worker, *bundle.run_args(finish=True)], range="1", chunk=1)
        finish.depend_all(frames)
        ol.add_layer(finish)
    return ol


def launcher(ol: Any, priority: int | None) -> Any:
    """The OutlineLauncher of ``ol`` with the job's priority (OpenCue's default 1 when None)."""
    import outline.cuerun

    return outline.cuerun.OutlineLauncher(ol, priority=1 if priority is None else priority)


def serialize(bundle: Bundle, priority: int | None) -> tuple[Any, str]:
    """The launcher and Cuebot's job spec (XML) of the bundle's outline; the commands run as they are (no
    pycuerun wrapper on the render hosts)."""
    run = launcher(build(bundle), priority)
    return run, run.serialize(use_pycuerun=False)


def cuebot_configured(environ: dict[str, str] | None = None) -> bool:
    """True when pycue will find a Cuebot: ``$CUEBOT_HOSTS``, or an OpenCue config file of the user's."""
    env = os.environ if environ is None else environ
    if env.get("CUEBOT_HOSTS"):
        return True
    files = [env.get("OPENCUE_CONFIG_FILE", ""), env.get("OPENCUE_CONF", "")]
    base = os.path.join(env.get("APPDATA", ""), "opencue") if os.name == "nt" else \
        os.path.join(os.path.expanduser("~"), ".config", "opencue")
    files.append(os.path.join(base, "opencue.yaml"))
    return any(f and os.path.isfile(f) for f in files)


def submit(bundle: Bundle, priority: int | None, log) -> Submission:
    """Serialise the outline into the bundle; launch it when a Cuebot is configured and return the job's id."""
    run, spec = serialize(bundle, priority)
    path = bundle.folder / FOLDER / SPEC
    tmp = path.with_name(f".{SPEC}.tmp-{os.getpid()}")
    tmp.write_text(spec, encoding="utf-8")
    os.replace(tmp, path)
    if not cuebot_configured():
        return Submission("opencue", None, str(bundle.folder), [str(path)], [],
                          f"no Cuebot configured (set CUEBOT_HOSTS, or OPENCUE_CONFIG_FILE to an opencue.yaml): "
                          f"wrote the job spec {path}; submit again once one is set")
    log(f"opencue: launching {job_name(bundle)}")
    try:
        jobs = run.launch(use_pycuerun=False)
    except Exception as exc:  # pycue's gRPC and Cuebot errors: one line naming the client
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise FarmError(f"opencue: launching {job_name(bundle)} failed: {detail}") from None
    job = jobs[0]
    job_id = job.id() if callable(getattr(job, "id", None)) else str(job)
    return Submission("opencue", str(job_id), str(bundle.folder), [str(path)], [],
                      f"launched on OpenCue as {job.name() if callable(getattr(job, 'name', None)) else job_name(bundle)}")
