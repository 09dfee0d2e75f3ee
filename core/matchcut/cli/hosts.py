"""`matchcut hosts install|uninstall resolve`: put the Resolve scripts and their package in Resolve's Scripts folder.

The menu scripts are generated from the adapter's two templates (``hosts/resolve/templates/tool.py`` and
``tool.lua``), one per tool this worker describes (``matchcut.tools.description``), named by the tool's label:
in Utility for every page, in Color or Edit too for a tool of that category, the free version's Lua stubs in
Utility; and the launcher that lists every tool. They go to the per-user Fusion Scripts folder; the package,
with its copy of the worker client (``matchcut.adapters.assemble``), to ``<Scripts>/Matchcut``. The installer
writes the tool, the package's folder, this worker's ``matchcut`` and its Python into the scripts, and records
what it wrote in ``<Scripts>/Matchcut/installed.json``: a file it wrote and nobody changed since is its own to
replace or remove (a tool the worker no longer has loses its scripts); any other file in the way is the
artist's and stays untouched unless ``--force`` is given.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from matchcut.adapters import write_atomic
from matchcut.errors import FrameWriteError, SettingError

HOSTS = ("resolve",)
EDITIONS = ("both", "studio", "free")
LIBRARY = "Matchcut"
MANIFEST = "installed.json"
PACKAGE = "matchcut_resolve"
#: The per-user Fusion Scripts folder of DaVinci Resolve, per platform (Resolve's scripting README).
SCRIPTS_FOLDERS = {
    "linux": ("HOME", ".local/share/DaVinciResolve/Fusion/Scripts"),
    "darwin": ("HOME", "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"),
    "win32": ("APPDATA", "Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts"),
}
#: The templates (paths in the adapter) the menu scripts are generated from.
TEMPLATES = {".py": "templates/tool.py", ".lua": "templates/tool.lua"}
#: Script folders under Scripts/: Utility (every page) for every tool; a tool's category adds its page.
UTILITY = "Utility"
CATEGORY_PAGES = {"color": "Color", "edit": "Edit"}
FOLDERS = {".py": "Matchcut", ".lua": "Matchcut (free)"}
#: The Python script that lists every tool (the template with no tool).
LAUNCHER = "Matchcut Tools"
PY_PLACEHOLDERS = ("TOOL = None", 'MATCHCUT_RESOLVE_LIB = ""', 'MATCHCUT_WORKER = ""')
LUA_PLACEHOLDERS = ("local TOOL = [==[]==]", "local MATCHCUT_PYTHON = [==[]==]",
                    "local MATCHCUT_RESOLVE_LIB = [==[]==]", "local MATCHCUT_WORKER = [==[]==]")
#: What a tool's label may be to name a script file on every OS (and a tool's name to sit in a script).
SAFE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ()&+,._-]*$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

hosts_app = typer.Typer(help="Install (Resolve) or build (Nuke, Resolve, Blender) the host adapters.", no_args_is_help=True)


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
    from matchcut.adapters import hosts_root

    return hosts_root() / "resolve"


def default_worker() -> str:
    """This environment's matchcut executable (beside its Python), else `matchcut` on PATH."""
    name = "matchcut.exe" if sys.platform == "win32" else "matchcut"
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else (shutil.which("matchcut") or str(beside))


def _assembled(source: Path) -> dict[str, bytes]:
    """The adapter at ``source`` (hosts/resolve, beside hosts/common) with its client, as matchcut.adapters
    assembles it; SettingError naming what is missing."""
    from matchcut.adapters import assemble

    source = source.absolute()
    root = source.parent
    problem = ""
    if source.name != "resolve":
        problem = "expected the adapter's folder, named resolve"
    elif not (source / PACKAGE).is_dir() or not (source / TEMPLATES[".py"]).is_file():
        problem = f"not the Resolve adapter (expected {PACKAGE}/ and {TEMPLATES['.py']})"
    elif not (root / "common" / "client" / "__init__.py").is_file():
        problem = f"no worker client beside it (expected {root / 'common' / 'client'})"
    if problem:
        raise SettingError("--source", f"{source}: {problem}; give --source PATH/TO/hosts/resolve")
    return assemble("resolve", root)


def _described(description: dict | None) -> dict[str, dict[str, Any]]:
    """{name: tool} of ``matchcut tools --json`` (this worker's, in process, when ``description`` is None)."""
    if description is None:
        from matchcut.tools.description import describe_all

        description = describe_all()
    tools = description.get("tools") if isinstance(description, dict) else None
    if not isinstance(tools, dict):
        raise SettingError("tools", "the tools description has no 'tools' object")
    return tools


def menu_scripts(description: dict | None = None) -> list[tuple[str, Optional[str], str, str]]:
    """Every menu script: (path under Scripts/, tool name or None for the launcher, label, suffix), in order.

    One per tool and page: Utility for every tool, Color or Edit too by its category, in Python and in Lua;
    and the Python launcher. SettingError for a label or name that cannot be a script's, or two tools of one
    label."""
    scripts: list[tuple[str, Optional[str], str, str]] = [
        (f"{UTILITY}/{FOLDERS['.py']}/{LAUNCHER}.py", None, LAUNCHER, ".py")]
    labels = {LAUNCHER: "the launcher"}
    for name, tool in sorted(_described(description).items()):
        label = str(tool.get("label") or name)
        if not SAFE_NAME.match(str(name)):
            raise SettingError("tools", f"tool name {name!r} cannot be written into a script")
        if not SAFE_LABEL.match(label) or ".." in label:
            raise SettingError("tools", f"tool {name!r}: label {label!r} cannot name a script file")
        if label in labels:
            raise SettingError("tools", f"tools {labels[label]} and {name!r} have the same label {label!r}")
        labels[label] = repr(name)
        pages = [UTILITY] + ([CATEGORY_PAGES[tool["category"]]] if tool.get("category") in CATEGORY_PAGES else [])
        for suffix in (".py", ".lua"):
            for page in (pages if suffix == ".py" else [UTILITY]):
                scripts.append((f"{page}/{FOLDERS[suffix]}/{label}{suffix}", name, label, suffix))
    return scripts


def _header(label: str, rel: str, suffix: str) -> str:
    page = rel.split("/", 1)[0]
    if suffix == ".py":
        where = " (every page)" if page == UTILITY else f" > {page}"
        return (f"# Matchcut: {label}. DaVinci Resolve Studio, Workspace > Scripts{where}. Written by `matchcut hosts\n"
                f"# install resolve` from {TEMPLATES[suffix]}; runs on Resolve's Python 3.9+ (ResolvePython 3.14\n"
                "# on 21.1+).\n")
    return (f"-- Matchcut: {label}, for the free DaVinci Resolve (21.1 and later run Python scripts in Studio only;\n"
            f"-- Lua still runs). Written by `matchcut hosts install resolve` from {TEMPLATES[suffix]}. Runs the\n"
            "-- worker on the item under the playhead with the tool's saved (or default) settings and shows where\n"
            "-- the result is.\n")


def _body(template: str, suffix: str) -> str:
    """The template without its leading comment (each script gets its own header)."""
    mark = "#" if suffix == ".py" else "--"
    lines = template.splitlines(keepends=True)
    while lines and lines[0].startswith(mark):
        lines.pop(0)
    return "".join(lines)


def _fill(template: str, rel: str, tool: Optional[str], label: str, lib: str, worker: str, python: str) -> str:
    """One menu script from its template: the header, the tool and the paths written in."""
    suffix = Path(rel).suffix
    text = _body(template, suffix)
    placeholders = PY_PLACEHOLDERS if suffix == ".py" else LUA_PLACEHOLDERS
    missing = [p for p in placeholders if p not in text]
    if missing:
        raise SettingError("--source", f"{TEMPLATES[suffix]}: the template lacks the installer's line {missing[0]!r}")
    if suffix == ".py":
        if tool is not None:
            text = text.replace(PY_PLACEHOLDERS[0], f"TOOL = {tool!r}", 1)
        text = text.replace(PY_PLACEHOLDERS[1], f"MATCHCUT_RESOLVE_LIB = {lib!r}", 1)
        text = text.replace(PY_PLACEHOLDERS[2], f"MATCHCUT_WORKER = {worker!r}", 1)
    else:
        for value in (lib, worker, python):
            if "]==]" in value:
                raise SettingError("--dest", f"{value}: a path containing ']==]' cannot be written into a Lua stub")
        for placeholder, value in zip(LUA_PLACEHOLDERS, (tool or "", python, lib, worker)):
            text = text.replace(placeholder, placeholder.replace("[==[]==]", f"[==[{value}]==]"), 1)
    return _header(label, rel, suffix) + text


def plan_install(source: Path, dest: Path, edition: str = "both", worker: str = "", python: str = "",
                 description: dict | None = None) -> dict[Path, bytes]:
    """Every file to write: target path -> content. The menu scripts generated from the templates for every
    tool of ``description`` (`matchcut tools --json`; default: this worker's), the package with its client."""
    if edition not in EDITIONS:
        raise SettingError("--edition", f"unknown edition '{edition}'", EDITIONS)
    adapter = _assembled(source)
    lib = dest / LIBRARY
    worker, python = worker or default_worker(), python or sys.executable
    suffixes = {"both": (".py", ".lua"), "studio": (".py",), "free": (".lua",)}[edition]
    templates = {suffix: adapter[rel].decode("utf-8") for suffix, rel in TEMPLATES.items()}
    files: dict[Path, bytes] = {}
    for rel, tool, label, suffix in menu_scripts(description):
        if suffix in suffixes:
            text = _fill(templates[suffix], rel, tool, label, str(lib), worker, python)
            files[dest.joinpath(*rel.split("/"))] = text.encode("utf-8")
    for rel, data in sorted(adapter.items()):
        if rel.startswith(PACKAGE + "/"):
            files[lib.joinpath(*rel.split("/"))] = data
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


def install(source: Path, dest: Path, edition: str = "both", force: bool = False, dry_run: bool = False,
            worker: str = "", python: str = "", description: dict | None = None) -> list[tuple[str, Path]]:
    """Install into ``dest``; returns (action, path) per file: "write", "same", "replace" or "remove" (a file
    of an earlier install that this one no longer has, unchanged since). Nothing is written when a file in the
    way is not Matchcut's own (FrameWriteError) unless ``force``."""
    files = plan_install(source, dest, edition, worker, python, description)
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
    planned = {p.relative_to(dest).as_posix() for p in files}
    gone = []
    for rel, sha in sorted(recorded.items()):
        path = dest.joinpath(*rel.split("/"))
        if rel not in planned and path.is_file() and _sha(path.read_bytes()) == sha:
            actions.append(("remove", path))
            gone.append(rel)
    if conflicts and not force:
        more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
        raise FrameWriteError(str(conflicts[0]), f"exists and is not a file Matchcut installed (or was edited since){more}; "
                              "move it away or pass --force to replace it")
    if dry_run:
        return actions
    for action, path in actions:
        if action == "remove":
            path.unlink()
        elif action != "same":
            write_atomic(path, files[path])
    _prune(dest, [dest.joinpath(*rel.split("/")).parent for rel in gone])
    kept = {rel: sha for rel, sha in recorded.items() if rel not in gone}
    manifest = {"matchcut_resolve_install": 1, "edition": edition,
                "files": {**kept, **{p.relative_to(dest).as_posix(): _sha(d) for p, d in files.items()}}}
    write_atomic(dest / LIBRARY / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return actions


def _prune(dest: Path, folders: list[Path]) -> None:
    """Remove the empty folders among ``folders`` and their parents, up to ``dest``."""
    for folder in sorted(set(folders), key=lambda p: len(p.parts), reverse=True):
        while folder != dest and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


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
    _prune(dest, [p.parent for p in removed] + [dest / LIBRARY])
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
    """Write the Resolve scripts (one per tool of this worker) into Resolve's Scripts folder (never over an
    artist's own files)."""
    _check_host(host)
    dest = (dest or resolve_scripts_folder()).expanduser().absolute()
    actions = install(source or adapter_source(), dest, edition, force, dry_run, worker, python)
    verb = {"write": "would write" if dry_run else "wrote", "replace": "would replace" if dry_run else "replaced",
            "remove": "would remove" if dry_run else "removed", "same": "unchanged"}
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
