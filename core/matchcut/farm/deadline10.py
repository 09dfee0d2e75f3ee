"""deadline10: Thinkbox Deadline 10, its CommandLine plugin, job-info and plugin-info files, ``deadlinecommand``.

One CommandLine job runs the chunks: the job info sets ``Frames`` (the output frames) and ``ChunkSize``; the plugin
info's ``Executable`` is the workers' ``matchcut`` and its ``Arguments`` carry ``<STARTFRAME>-<ENDFRAME>``, which
the plugin replaces with each task's first and last frame. A job with an artifact adds a one-task finish job that
depends on it; both go in one ``deadlinecommand -SubmitMultipleJobs -dependent -job ... -job ...`` (each job waits
for the one before), whose ``JobID=`` lines give the ids. Without ``deadlinecommand`` on PATH (or in
``$DEADLINE_PATH``) the files are written and the command to run where Deadline is installed is returned.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from matchcut.errors import FarmError
from matchcut.farm import Submission
from matchcut.farm.bundle import Bundle

FOLDER = "deadline10"
PLUGIN = "CommandLine"
INSTALL = ("deadlinecommand is not on PATH (it comes with the Thinkbox Deadline 10 Client: install the Client, or "
           "set DEADLINE_PATH to its bin folder)")


def quoted(arg: str) -> str:
    """One argument of the plugin's ``Arguments`` line; one with spaces goes in ``<QUOTE>`` tokens (the plugin
    writes a double quote for each)."""
    return f"<QUOTE>{arg}<QUOTE>" if (" " in arg or not arg) else arg


def files(bundle: Bundle, priority: int | None) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(job info, plugin info) per job, in submission order: the chunks (or the whole frameless job), then the
    finish job when the bundle has a final step."""
    base = {"Plugin": PLUGIN, "BatchName": bundle.name, "Priority": str(50 if priority is None else priority)}

    def plugin(args: list[str]) -> dict[str, str]:
        return {"Executable": bundle.worker, "Arguments": " ".join(quoted(a) for a in args), "StartupDirectory": ""}

    if not bundle.plan.frames:
        return [({**base, "Name": bundle.name, "Frames": "0", "ChunkSize": "1"}, plugin(bundle.run_args()))]
    jobs = [({**base, "Name": f"{bundle.name} frames", "Frames": bundle.frames, "ChunkSize": str(bundle.plan.size)},
             plugin(bundle.run_args("<STARTFRAME>-<ENDFRAME>")))]
    if bundle.finish:
        jobs.append(({**base, "Name": f"{bundle.name} finish", "Frames": "0", "ChunkSize": "1"},
                     plugin(bundle.run_args(finish=True))))
    return jobs


def write_info(path: Path, entries: dict[str, str]) -> Path:
    """A KEY=VALUE info file, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text("".join(f"{key}={value}\n" for key, value in entries.items()), encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_files(bundle: Bundle, priority: int | None) -> list[tuple[Path, Path]]:
    """The info files of every job under the bundle's ``deadline10/`` folder."""
    folder = bundle.folder / FOLDER
    names = ["frames", "finish"] if bundle.plan.frames else ["job"]
    return [(write_info(folder / f"{name}_job_info.txt", job), write_info(folder / f"{name}_plugin_info.txt", plugin))
            for name, (job, plugin) in zip(names, files(bundle, priority))]


def find_deadlinecommand() -> str | None:
    """``deadlinecommand`` on PATH, else in ``$DEADLINE_PATH``; None when neither has it."""
    exe = "deadlinecommand.exe" if os.name == "nt" else "deadlinecommand"
    found = shutil.which(exe)
    if found:
        return found
    folder = os.environ.get("DEADLINE_PATH", "")
    candidate = Path(folder) / exe if folder else None
    return str(candidate) if candidate is not None and candidate.is_file() else None


def command(exe: str, written: list[tuple[Path, Path]]) -> list[str]:
    """The ``deadlinecommand`` argv submitting ``written`` (one job: its two files; more: one dependent batch)."""
    if len(written) == 1:
        return [exe, str(written[0][0]), str(written[0][1])]
    args = [exe, "-SubmitMultipleJobs", "-dependent"]
    for job, plugin in written:
        args += ["-job", str(job), str(plugin)]
    return args


def job_ids(output: str) -> list[str]:
    """The ``JobID=...`` values deadlinecommand printed, in order."""
    return re.findall(r"^\s*JobID=(\S+)", output, re.MULTILINE)


def submit(bundle: Bundle, priority: int | None, log) -> Submission:
    """Write the info files; submit them with deadlinecommand when it is here, else return the command to run."""
    written = write_files(bundle, priority)
    paths = [str(p) for pair in written for p in pair]
    exe = find_deadlinecommand()
    if exe is None:
        argv = command("deadlinecommand", written)
        return Submission("deadline10", None, str(bundle.folder), paths, argv,
                          f"{INSTALL}; wrote the job files; on a machine with Deadline run: {' '.join(argv)}")
    argv = command(exe, written)
    log(f"deadline10: {' '.join(argv)}")
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True, encoding="utf-8", errors="replace")
    ids = job_ids(done.stdout)
    if done.returncode != 0 or len(ids) < len(written):
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        raise FarmError(f"deadlinecommand failed (exit {done.returncode}): {lines[-1] if lines else 'no output'}")
    return Submission("deadline10", ids[0], str(bundle.folder), paths, argv,
                      "submitted to Deadline 10" + (f"; the finish job {ids[1]} waits for it" if len(ids) > 1 else ""))
