"""Installing the Resolve adapter: menu scripts generated from its templates, one per tool this worker describes,
and the package with its client under the per-user Fusion Scripts folder."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Optional

from matchcut.adapters import RECORD_PATHS, make_record, read_record, write_atomic
from matchcut.errors import SettingError
from matchcut.installs.files import (
    apply_actions,
    assembled,
    in_the_way,
    plan_actions,
    prune,
    read_bytes,
    remove_recorded,
    sha256_of,
    user_folder,
    check_version,
    check_writable,
    default_worker,
    PACKAGE,
    TEMPLATES,
)


EDITIONS = ("both", "studio", "free")
LIBRARY = "Matchcut"
MANIFEST = "installed.json"
#: The per-user Fusion Scripts folder of DaVinci Resolve, per platform (Resolve's scripting README).
SCRIPTS_FOLDERS = {
    "linux": ("HOME", ".local/share/DaVinciResolve/Fusion/Scripts"),
    "darwin": ("HOME", "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"),
    "win32": ("APPDATA", "Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts"),
}
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


def resolve_scripts_folder(platform: str | None = None, env: dict | None = None) -> Path:
    """Resolve's per-user Scripts folder on ``platform`` (sys.platform), from HOME or APPDATA in ``env``."""
    return user_folder(SCRIPTS_FOLDERS, "Resolve's Scripts folder", platform, env)


# --- Resolve -------------------------------------------------------------------------------------------------

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


def resolve_record_path(dest: Path) -> Path:
    return (dest / LIBRARY).joinpath(*RECORD_PATHS["resolve"].split("/"))


def plan_install(source: Path, dest: Path, edition: str = "both", worker: str = "", python: str = "",
                 description: dict | None = None) -> dict[Path, bytes]:
    """Every file to write: target path -> content. The menu scripts generated from the templates for every
    tool of ``description`` (`matchcut tools --json`; default: this worker's), the package with its client and
    its record (the version and worker it was installed from)."""
    if edition not in EDITIONS:
        raise SettingError("--edition", f"unknown edition '{edition}'", EDITIONS)
    adapter = assembled(source)
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
    record = resolve_record_path(dest)
    files[record] = make_record("resolve", worker, read_bytes(record))
    return files


def recorded_files(dest: Path) -> dict[str, str]:
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
    way is not Matchcut's own, or ``dest`` holds another Matchcut version's scripts (FrameWriteError), unless
    ``force``; FrameWriteError naming ``dest`` when it cannot be written."""
    check_writable(dest)
    files = plan_install(source, dest, edition, worker, python, description)
    record_path = resolve_record_path(dest)
    record = read_record(record_path)
    check_version(record, dest / LIBRARY, "resolve", force)
    recorded = recorded_files(dest)
    actions, conflicts, gone = plan_actions(files, dest, recorded,
                                             frozenset([record_path]) if record is not None else frozenset())
    if conflicts and not force:
        raise in_the_way(conflicts)
    if dry_run:
        return actions
    apply_actions(actions, files)
    prune(dest, [dest.joinpath(*rel.split("/")).parent for rel in gone])
    kept = {rel: sha for rel, sha in recorded.items() if rel not in gone}
    manifest = {"matchcut_resolve_install": 1, "edition": edition,
                "files": {**kept, **{p.relative_to(dest).as_posix(): sha256_of(d) for p, d in files.items()}}}
    write_atomic(dest / LIBRARY / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return actions


def uninstall(dest: Path) -> tuple[list[Path], list[Path]]:
    """Remove what install wrote and nobody changed; returns (removed, kept because edited)."""
    removed, kept = remove_recorded(dest, recorded_files(dest))
    manifest = dest / LIBRARY / MANIFEST
    if not kept:
        manifest.unlink(missing_ok=True)
    prune(dest, [p.parent for p in removed] + [dest / LIBRARY])
    return removed, kept


