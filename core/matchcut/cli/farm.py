"""`matchcut farm bundle|submit`: any job as a job on the studio's render farm (``matchcut.farm``).

``bundle`` writes the Open Job Description job bundle (template, parameter values, the job with every path
mapped and checked for the workers); ``submit`` writes it and hands it to a farm through that farm's own client,
printing the job id the farm returned (``--json``: one object, what the host adapters read).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from matchcut.settings import FARM_VAR

farm_app = typer.Typer(help="Send a job to a render farm: an OpenJD bundle, submitted through the farm's own client.",
                       no_args_is_help=True)

Chunk = typer.Option(None, "--chunk", help="Frames per farm task (default per tool); raised to the tool's temporal "
                     "window, and said so.")
Maps = typer.Option([], "--map", help="Map every path of the job for the workers, FROM=TO (e.g. "
                    "/Volumes/show=/mnt/show); repeat; the longest FROM wins; --map-file and $MATCHCUT_PATH_MAP add more.")
MapFiles = typer.Option([], "--map-file", help="A file of path mapping rules, one FROM=TO a line ('#' comments).")
AllowLocal = typer.Option(False, "--allow-local-paths", help="Send paths in a temporary folder or the home folder, "
                          "and relative ones (resolved against the job's folder): the workers see them "
                          "(always so for openjd-local, this machine).")
Worker = typer.Option(None, "--worker", help="The workers' matchcut executable (default: this environment's; a bare "
                      "name is looked up on the workers' PATH).")
Gpu = typer.Option(None, "--gpu/--no-gpu", help="Ask for GPU workers (default: unless the job's device is cpu).")
AsJson = typer.Option(False, "--json", help="Print one JSON object (what the host adapters read).")


def _bundle(job: Path, out: Optional[Path], chunk: Optional[int], maps: list[str], map_files: list[str],
            allow_local: bool, worker: Optional[str], gpu: Optional[bool]):
    from matchcut.farm.bundle import write_bundle
    from matchcut.paths import load_path_map

    folder = out if out is not None else job.expanduser().absolute().parent / f"{job.stem}_farm"
    return write_bundle(job, folder, chunk=chunk, paths=load_path_map(maps, map_files), allow_local=allow_local,
                        worker=worker, gpu=gpu)


def _describe(bundle) -> dict:
    return {"bundle": str(bundle.folder), "template": str(bundle.template), "job_file": bundle.job_file,
            "worker": bundle.worker, "tool": bundle.tool, "frames": bundle.frames, "chunk": bundle.plan.size,
            "window": bundle.plan.window, "finish": bundle.finish, "gpu": bundle.gpu, "notes": list(bundle.notes)}


def _echo_notes(bundle) -> None:
    for note in bundle.notes:
        typer.echo(f"note: {note}", err=True)


@farm_app.command("bundle")
def bundle_command(
    job: Path = typer.Argument(..., help="The job file (JSON, version 1)."),
    out: Path = typer.Option(..., "--out", help="The bundle's folder (on storage the workers see)."),
    chunk: Optional[int] = Chunk,
    maps: list[str] = Maps,
    map_files: list[str] = MapFiles,
    allow_local: bool = AllowLocal,
    worker: Optional[str] = Worker,
    gpu: Optional[bool] = Gpu,
    as_json: bool = AsJson,
) -> None:
    """Write the job's Open Job Description bundle: chunks that respect the tool's temporal window, a final step
    for artifacts, GPU host requirements, the workers' Matchcut environment."""
    bundle = _bundle(job, out, chunk, maps, map_files, allow_local, worker, gpu)
    if as_json:
        typer.echo(json.dumps(_describe(bundle), indent=2))
        return
    _echo_notes(bundle)
    what = f"frames {bundle.frames} in chunks of {bundle.plan.size}" if bundle.frames else "one task"
    typer.echo(f"{bundle.folder}: {bundle.tool}, {what}" + (", then the finish step" if bundle.finish else ""))


@farm_app.command("submit")
def submit_command(
    job: Path = typer.Argument(..., help="The job file (JSON, version 1)."),
    to: Optional[str] = typer.Option(None, "--to", help="openjd-local, deadline-cloud, deadline10 or opencue "
                                     f"(default: ${FARM_VAR})."),
    chunk: Optional[int] = Chunk,
    priority: Optional[int] = typer.Option(None, "--priority", help="0 to 100 (default: the farm's, 50)."),
    out: Optional[Path] = typer.Option(None, "--out", help="The bundle's folder (default: JOB_farm beside the job)."),
    maps: list[str] = Maps,
    map_files: list[str] = MapFiles,
    allow_local: bool = AllowLocal,
    worker: Optional[str] = Worker,
    gpu: Optional[bool] = Gpu,
    as_json: bool = AsJson,
) -> None:
    """Write the bundle and submit it to a farm through the farm's own client; print the job id it returned."""
    from matchcut.farm import check_farm, submit

    farm = check_farm(to or os.environ.get(FARM_VAR, "").strip())
    # openjd-local's workers are this machine: its temporary and home folders are theirs too
    bundle = _bundle(job, out, chunk, maps, map_files, allow_local or farm == "openjd-local", worker, gpu)
    done = submit(bundle, farm, priority=priority, log=lambda line: typer.echo(line, err=True))
    if as_json:
        typer.echo(json.dumps({**_describe(bundle), **done.to_dict()}, indent=2))
        return
    _echo_notes(bundle)
    if done.submitted:
        typer.echo(f"{farm}: job {done.job_id} ({done.message})")
    else:
        typer.echo(f"{farm}: not submitted: {done.message}")


def register(app: typer.Typer) -> None:
    """Add the `farm` command group to the app."""
    app.add_typer(farm_app, name="farm")
