"""The paths of a job sent to a farm: every one mapped by the show's rules and checked visible from the workers.

A farm worker sees the show's shared storage, not the artist's machine: a relative path (relative to a job file
the farm may not have), a temporary folder or a path under the user's home is refused, naming the setting and the
path, unless ``allow_local`` (a one-machine farm, a test, a studio whose homes are shared). The mapping rules are
the ones every Matchcut reader uses (``matchcut.paths``: ``--map``, ``--map-file``, ``$MATCHCUT_PATH_MAP``; the
longest FROM wins) and are applied to every path first: ``/Volumes/show=/mnt/show`` sends a Mac's plates to
Linux workers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matchcut.errors import FarmPathError
from matchcut.paths import PathMap, is_windows_path, written_path

if TYPE_CHECKING:
    from matchcut.jobs.spec import JobSpec
    from matchcut.tools.base import Tool

#: File parameters that are not artifacts (tools declare those): continuity's file of path mapping rules.
PATH_PARAMS = ("path_map_file",)
ALLOW_HINT = "pass --allow-local-paths if the workers do see it"


def job_paths(spec: JobSpec, tool: Tool) -> dict[str, str]:
    """Every path a job names, as written, by where it is: ``inputs.NAME``, ``outputs.NAME``, and the parameters
    that name files (the tool's artifacts, PATH_PARAMS) when set."""
    found = {f"inputs.{name}": path for name, path in spec.inputs.items()}
    found.update({f"outputs.{name}": path for name, path in spec.outputs.items()})
    names = [a.param for a in tool.artifacts] + [p for p in PATH_PARAMS if p not in [a.param for a in tool.artifacts]]
    for name in names:
        value = spec.params.get(name)
        if isinstance(value, str) and value.strip():
            found[f"params.{name}"] = value
    model = spec.params.get("model")
    if isinstance(model, str) and ("/" in model or "\\" in model):  # a model folder (`matchcut learn`'s), not an id
        found["params.model"] = model
    return found


def local_folders(environ: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The folders only this machine sees, with what they are: the temporary folders, then the user's home."""
    env = os.environ if environ is None else environ
    temps = [tempfile.gettempdir(), env.get("TMPDIR", ""), env.get("TEMP", ""), env.get("TMP", "")]
    if os.name != "nt":
        temps += ["/tmp", "/var/tmp"]
    folders = [(t, "a temporary folder") for t in temps if t]
    home = env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~")
    if home and home not in ("/", "~"):
        folders.append((home, "the user's home"))
    seen, unique = set(), []
    for folder, what in folders:
        for form in {os.path.abspath(folder), os.path.realpath(folder)}:
            if form not in seen:
                seen.add(form)
                unique.append((form, what))
    return unique


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def local_reason(path: str, environ: dict[str, str] | None = None) -> str:
    """Why an absolute path of this machine is not one a farm sees ("is in a temporary folder (/tmp)"), or ""."""
    if is_windows_path(path) != (os.name == "nt"):
        return ""  # a path for another kind of machine (mapped for the workers): not this machine's folders
    forms = {os.path.abspath(path), os.path.realpath(path)}
    for folder, what in local_folders(environ):
        if any(_under(form, folder) for form in forms):
            return f"is in {what} ({folder}), which farm workers do not see"
    return ""


def farm_path(where: str, text: str, base_dir: Path, paths: PathMap, allow_local: bool,
              environ: dict[str, str] | None = None) -> str:
    """One job path as the farm's workers will read it: mapped by ``paths``, refused (FarmPathError naming
    ``where`` and the path) when relative or local to this machine unless ``allow_local``; a relative path then
    resolves against the job's folder (``resolve_job_path``: it may not leave it)."""
    from matchcut.jobs.spec import resolve_job_path

    written = written_path(text.strip())
    mapped = paths.map(written) if paths else None
    path = mapped.path if mapped else os.path.expanduser(written)
    if not (os.path.isabs(path) or is_windows_path(path)):
        if not allow_local:
            raise FarmPathError(where, text, f"is relative (to the job file's folder {base_dir}); a farm job needs "
                                "absolute paths on shared storage: write the absolute path, or " + ALLOW_HINT)
        path = resolve_job_path(path, base_dir, where)
        mapped = paths.map(path) if paths else None
        path = mapped.path if mapped else path
    if not allow_local:
        reason = local_reason(path, environ)
        if reason:
            hint = f"map it (--map FROM=TO), put it on shared storage, or {ALLOW_HINT}"
            raise FarmPathError(where, text if not mapped else f"{text} (mapped to {path})", f"{reason}: {hint}")
    return path


def farm_job(spec: JobSpec, tool: Tool, paths: PathMap, allow_local: bool = False,
             environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The job as the farm runs it: ``spec.to_dict()`` with every path (``job_paths``) through ``farm_path``."""
    data = spec.to_dict()
    where = spec.where
    for key, text in job_paths(spec, tool).items():
        section, _, name = key.partition(".")
        data[section][name] = farm_path(f"{where}: '{key}'", text, spec.base_dir, paths, allow_local, environ)
    return data
