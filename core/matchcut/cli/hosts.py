"""`matchcut hosts install|uninstall resolve`: put the Resolve scripts and their package in Resolve's Scripts folder.

The scripts go to the per-user Fusion Scripts folder (Utility for every page, Color and Edit for those pages;
the free version's Lua stubs in Utility), the package to ``<Scripts>/Matchcut``. The installer writes the
package's folder, this worker's ``matchcut`` and its Python into the scripts, and records what it wrote in
``<Scripts>/Matchcut/installed.json``: a file it wrote and nobody changed since is its own to replace or
remove; any other file in the way is the artist's and stays untouched unless ``--force`` is given.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from matchcut.errors import FrameWriteError, SettingError

HOSTS = ("resolve",)
EDITIONS = ("both", "studio", "free")
LIBRARY = "Matchcut"
MANIFEST = "installed.json"
#: The per-user Fusion Scripts folder of DaVinci Resolve, per platform (Resolve's scripting README).
SCRIPTS_FOLDERS = {
    "linux": ("HOME", ".local/share/DaVinciResolve/Fusion/Scripts"),
    "darwin": ("HOME", "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"),
    "win32": ("APPDATA", "Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts"),
}
PY_PLACEHOLDERS = ('MATCHCUT_RESOLVE_LIB = ""', 'MATCHCUT_WORKER = ""')
LUA_PLACEHOLDERS = ("local MATCHCUT_PYTHON = [==[]==]", "local MATCHCUT_RESOLVE_LIB = [==[]==]",
                    "local MATCHCUT_WORKER = [==[]==]")

hosts_app = typer.Typer(help="Install the host adapters (DaVinci Resolve).", no_args_is_help=True)


def resolve_scripts_folder(platform: str | None = None, env: dict | None = None) -> Path:
    """Resolve's per-user Scripts folder on ``platform`` (sys.platform), from HOME or APPDATA in ``env``."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    key = "win32" if platform.startswith("win") else ("darwin" if platform == "darwin" else "linux")
    var, rel = SCRIPTS_FOLDERS[key]
    base = env.get(var) or (str(Path.home()) if var == "HOME" else "")
    if not base:
        raise SettingError("--dest", f"cannot find Resolve's Scripts folder: {var} is not set; give --dest")
    return Path(base).joinpath(*rel.split("/"))


def adapter_source() -> Path:
    """hosts/resolve of this checkout (the package is installed from source, editable or not)."""
    import matchcut

    source = Path(matchcut.__file__).resolve().parents[2] / "hosts" / "resolve"
    if not (source / "matchcut_resolve").is_dir() or not (source / "Scripts").is_dir():
        raise SettingError("--source", f"{source}: not the Resolve adapter (expected Scripts/ and matchcut_resolve/); "
                           "give --source PATH/TO/hosts/resolve")
    return source


def default_worker() -> str:
    """This environment's matchcut executable (beside its Python), else `matchcut` on PATH."""
    name = "matchcut.exe" if sys.platform == "win32" else "matchcut"
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else (shutil.which("matchcut") or str(beside))


def _fill(text: str, rel: str, lib: str, worker: str, python: str) -> str:
    if rel.endswith(".py"):
        missing = [p for p in PY_PLACEHOLDERS if p not in text]
        text = text.replace(PY_PLACEHOLDERS[0], f"MATCHCUT_RESOLVE_LIB = {lib!r}")
        text = text.replace(PY_PLACEHOLDERS[1], f"MATCHCUT_WORKER = {worker!r}")
    else:
        for value in (lib, worker, python):
            if "]==]" in value:
                raise SettingError("--dest", f"{value}: a path containing ']==]' cannot be written into a Lua stub")
        missing = [p for p in LUA_PLACEHOLDERS if p not in text]
        for placeholder, value in zip(LUA_PLACEHOLDERS, (python, lib, worker)):
            text = text.replace(placeholder, placeholder.replace("[==[]==]", f"[==[{value}]==]"))
    if missing:
        raise SettingError("--source", f"{rel}: the script lacks the installer's line {missing[0]!r}")
    return text


def plan_install(source: Path, dest: Path, edition: str = "both", worker: str = "", python: str = "") -> dict[Path, bytes]:
    """Every file to write: target path -> content (scripts with the paths filled in, the package as is)."""
    if edition not in EDITIONS:
        raise SettingError("--edition", f"unknown edition '{edition}'", EDITIONS)
    lib = dest / LIBRARY
    files: dict[Path, bytes] = {}
    suffixes = {"both": (".py", ".lua"), "studio": (".py",), "free": (".lua",)}[edition]
    for path in sorted((source / "Scripts").rglob("*")):
        if path.is_file() and path.suffix in suffixes:
            rel = path.relative_to(source / "Scripts").as_posix()
            text = _fill(path.read_text(encoding="utf-8"), rel, str(lib), worker or default_worker(),
                         python or sys.executable)
            files[dest.joinpath(*rel.split("/"))] = text.encode("utf-8")
    for path in sorted((source / "matchcut_resolve").iterdir()):
        if path.is_file() and path.suffix in (".py", ".lua"):
            files[lib / "matchcut_resolve" / path.name] = path.read_bytes()
    return files


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _recorded(dest: Path) -> dict[str, str]:
    try:
        data = json.loads((dest / LIBRARY / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def install(source: Path, dest: Path, edition: str = "both", force: bool = False, dry_run: bool = False,
            worker: str = "", python: str = "") -> list[tuple[str, Path]]:
    """Install into ``dest``; returns (action, path) per file: "write", "same" or "replace". Nothing is written
    when a file in the way is not Matchcut's own (FrameWriteError) unless ``force``."""
    files = plan_install(source, dest, edition, worker, python)
    recorded = _recorded(dest)
    actions, conflicts = [], []
    for path, data in files.items():
        rel = path.relative_to(dest).as_posix()
        if not path.exists():
            actions.append(("write", path))
            continue
        current = path.read_bytes() if path.is_file() else None
        if current == data:
            actions.append(("same", path))
        elif current is not None and recorded.get(rel) == _sha(current):
            actions.append(("replace", path))  # ours, unchanged since we wrote it
        else:
            conflicts.append(path)
            actions.append(("replace", path))
    if conflicts and not force:
        more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
        raise FrameWriteError(str(conflicts[0]), f"exists and is not a file Matchcut installed (or was edited since){more}; "
                              "move it away or pass --force to replace it")
    if dry_run:
        return actions
    for action, path in actions:
        if action != "same":
            _write_atomic(path, files[path])
    manifest = {"matchcut_resolve_install": 1, "edition": edition,
                "files": {**recorded, **{p.relative_to(dest).as_posix(): _sha(d) for p, d in files.items()}}}
    _write_atomic(dest / LIBRARY / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return actions


def uninstall(dest: Path) -> tuple[list[Path], list[Path]]:
    """Remove what install wrote and nobody changed; returns (removed, kept because edited)."""
    removed, kept = [], []
    for rel, sha in sorted(_recorded(dest).items()):
        path = dest.joinpath(*rel.split("/"))
        if not path.is_file():
            continue
        if _sha(path.read_bytes()) == sha:
            path.unlink()
            removed.append(path)
        else:
            kept.append(path)
    manifest = dest / LIBRARY / MANIFEST
    if not kept:
        manifest.unlink(missing_ok=True)
    for folder in sorted({p.parent for p in removed} | {dest / LIBRARY}, key=lambda p: len(p.parts), reverse=True):
        while folder != dest and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return removed, kept


def _check_host(host: str) -> None:
    if host not in HOSTS:
        raise SettingError("HOST", f"unknown host '{host}'", HOSTS)


@hosts_app.command("install")
def install_command(
    host: str = typer.Argument(..., help="The host: resolve."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Resolve's Scripts folder (default: the per-user one)."),
    edition: str = typer.Option("both", "--edition", help="studio (Python scripts), free (Lua stubs) or both."),
    force: bool = typer.Option(False, "--force", help="Replace files in the way that Matchcut did not install."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written; write nothing."),
    source: Optional[Path] = typer.Option(None, "--source", help="hosts/resolve to install from (default: this checkout)."),
    worker: str = typer.Option("", "--worker", help="The matchcut executable the scripts run (default: this one)."),
    python: str = typer.Option("", "--python", help="The Python the Lua stubs run (default: this one)."),
) -> None:
    """Copy the Resolve scripts into Resolve's Scripts folder (never over an artist's own files)."""
    _check_host(host)
    dest = (dest or resolve_scripts_folder()).expanduser().absolute()
    actions = install(source or adapter_source(), dest, edition, force, dry_run, worker, python)
    verb = {"write": "would write" if dry_run else "wrote", "replace": "would replace" if dry_run else "replaced",
            "same": "unchanged"}
    for action, path in actions:
        typer.echo(f"{verb[action]}: {path}")
    if not dry_run:
        typer.echo(f"Matchcut for Resolve installed in {dest}; restart Resolve, then Workspace > Scripts > Matchcut")


@hosts_app.command("uninstall")
def uninstall_command(
    host: str = typer.Argument(..., help="The host: resolve."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Resolve's Scripts folder (default: the per-user one)."),
) -> None:
    """Remove the files the installer wrote (files edited since are kept and listed)."""
    _check_host(host)
    dest = (dest or resolve_scripts_folder()).expanduser().absolute()
    removed, kept = uninstall(dest)
    for path in removed:
        typer.echo(f"removed: {path}")
    for path in kept:
        typer.echo(f"kept (edited since it was installed): {path}")


@hosts_app.command("build")
def build_command(
    host: str = typer.Argument(..., help="The host: nuke, resolve or blender."),
    out: Path = typer.Option(..., "--out", help="The folder to write the adapter to (a NUKE_PATH folder for Nuke, "
                             "the extension's source for Blender)."),
) -> None:
    """Write a host's adapter with its copy of the worker client, as the host loads it."""
    from matchcut.adapters import assemble, write_tree

    out = out.expanduser().absolute()
    written = write_tree(assemble(host), out)
    typer.echo(f"Matchcut for {host}: {len(written)} files in {out}")


def register(app: typer.Typer) -> None:
    """Add the `hosts` command group to the app."""
    app.add_typer(hosts_app, name="hosts")
