"""Sending a job to the studio's render farm instead of running it here: ``matchcut farm submit JOB --json``.

The worker writes the job's Open Job Description bundle beside the job file and hands it to the farm through
the farm's own client (Deadline Cloud, Deadline 10, OpenCue; openjd-local runs it on this machine); its answer
carries the job id the farm returned, or, when that farm's client is not on this machine, what was written and
the command to run where it is. Every host's Farm button shows ``result_line`` of the answer.
"""

import os

from . import worker

#: The farms the worker submits to (core: matchcut.farm.FARMS), in the order hosts offer them.
FARMS = ("openjd-local", "deadline-cloud", "deadline10", "opencue")
#: The studio's farm, preselected in every host (core: matchcut.settings.FARM_VAR).
FARM_VAR = "MATCHCUT_FARM"
#: Seconds a submission may take: a farm's client answers in seconds, but openjd-local runs the whole job first.
SUBMIT_TIMEOUT = 3600.0


def default_farm(environ=None):
    """``$MATCHCUT_FARM`` when it names a known farm, else the first of FARMS (openjd-local: this machine)."""
    env = os.environ if environ is None else environ
    chosen = env.get(FARM_VAR, "").strip()
    return chosen if chosen in FARMS else FARMS[0]


def submit_args(job_path, farm, chunk=None, priority=None):
    """The worker's arguments for one submission (after the executable)."""
    if farm not in FARMS:
        raise ValueError("farm {!r}: expected one of {}".format(farm, ", ".join(FARMS)))
    args = ["farm", "submit", job_path, "--to", farm, "--json"]
    if chunk:
        args += ["--chunk", str(int(chunk))]
    if priority is not None:
        args += ["--priority", str(int(priority))]
    return args


def submit(exe, job_path, farm, chunk=None, priority=None, timeout=SUBMIT_TIMEOUT, env=None):
    """Submit the job file to ``farm`` through the worker; returns its answer (``job_id``, ``submitted``,
    ``bundle``, ``message``, ``command``, ``notes``). WorkerError with the worker's one line when it refused (a
    path the farm cannot see, a farm client missing or not configured)."""
    answer = worker.query(exe, submit_args(job_path, farm, chunk, priority), timeout=timeout, env=env)
    if "submitted" not in answer or "farm" not in answer:
        raise worker.WorkerError("matchcut farm submit answered without a submission: {}".format(answer))
    return answer


def result_line(answer):
    """The one line a host shows: the farm and its job id, or why it was not submitted and what to run."""
    notes = "".join("; " + note for note in answer.get("notes") or [] if "validated" not in note)
    if answer.get("submitted"):
        return "{}: job {}{}".format(answer["farm"], answer["job_id"], notes)
    return "{}: not submitted: {}{}".format(answer["farm"], answer.get("message") or "no job id", notes)
