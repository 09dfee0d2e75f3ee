"""`matchcut hosts install|uninstall|status|build`: the Nuke, Resolve and Blender adapters, from this package.

The adapters come from the package itself (a wheel carries them as ``matchcut/_adapters``; an editable install
reads ``hosts/``), each assembled with its copy of the worker client (``matchcut.adapters.assemble``) and a
record of the Matchcut version and worker it was installed from (``matchcut.adapters.RECORD``), which the
adapter compares with the worker it talks to (one line in the host when they differ).

- **Nuke**: ``--dest DIR`` writes a folder to put on ``NUKE_PATH``. Without it the adapter goes to
  ``~/.nuke/matchcut`` and one line, ``import nuke; nuke.pluginAddPath(...)`` with a marker comment, is appended
  to ``~/.nuke/init.py`` (made when missing); uninstall removes exactly that line. An ``init.py`` or ``menu.py``
  there that already loads another Matchcut stops the install with nothing changed.
- **Resolve**: the menu scripts are generated from the adapter's two templates (``templates/tool.py`` and
  ``tool.lua``), one per tool this worker describes (``matchcut.tools.description``), named by the tool's label:
  in Utility for every page, in Color or Edit too for a tool of that category, the free version's Lua stubs in
  Utility; and the launcher that lists every tool. They go to the per-user Fusion Scripts folder; the package,
  with its client, to ``<Scripts>/Matchcut``. The installer writes the tool, the package's folder, this worker's
  ``matchcut`` and its Python into the scripts, and records what it wrote in ``<Scripts>/Matchcut/installed.json``.
- **Blender**: the extension zip, built from the package data (the add-on's files at its root, as Blender's own
  ``extension build`` lays them out, the worker path preset in the record the preferences read), written to
  ``--dest`` (default: the cache's ``blender/`` folder) and installed with Blender's own command line
  (``blender --command extension install-file``) when a Blender 4.2 or later is on PATH; else left for
  *Install from Disk*.

Common rules: a file the installer wrote that nobody changed since is its own to replace or remove (a file of
an earlier install that this one no longer has goes); any other file in the way, and a folder that holds
another Matchcut version, stops the install with nothing written unless ``--force``; a folder that cannot be
written is named. Each install is noted in the per-user config folder (``settings.installs_file``), so
``matchcut hosts status`` finds installs made with ``--dest`` as well as those in the default places.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import typer

from matchcut import __version__
from matchcut.adapters import (
    RECORD,
    RECORD_PATHS,
    assemble,
    extension_version,
    extension_zip,
    make_record,
    read_record,
    write_atomic,
    zip_files,
)
from matchcut.errors import FrameWriteError, InputError, SettingError

HOSTS = ("nuke", "resolve", "blender")
LABELS = {"nuke": "Nuke", "resolve": "Resolve", "blender": "Blender"}
#: Each host's folder under hosts/ (what --source names).
SOURCE_FOLDERS = {"nuke": "nuke", "resolve": "resolve", "blender": "blender"}

# --- Resolve ---
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

# --- Nuke ---
#: The folder under ~/.nuke the adapter goes to when no --dest is given.
NUKE_FOLDER = "matchcut"
#: The comment that ends the one line the installer adds to ~/.nuke/init.py (uninstall removes that line).
NUKE_MARK = "# Matchcut: added by `matchcut hosts install nuke`; `matchcut hosts uninstall nuke` removes this line"

# --- Blender ---
#: Extensions (and their command line) came with Blender 4.2.
BLENDER_MIN = (4, 2)
BLENDER_REPO = "user_default"
BLENDER_ID = "matchcut"
#: Blender's per-user folder (its versions' config and extensions below it), per platform.
BLENDER_USER = {"linux": ("HOME", ".config/blender"), "darwin": ("HOME", "Library/Application Support/Blender"),
                "win32": ("APPDATA", "Blender Foundation/Blender")}
#: Seconds Blender's command line may take to install or remove the extension.
BLENDER_TIMEOUT = 300

hosts_app = typer.Typer(help="Install, remove, check (status) or build the Nuke, Resolve and Blender adapters.",
                        no_args_is_help=True)


def _platform(platform: str | None = None) -> str:
    platform = platform or sys.platform
    return "win32" if platform.startswith("win") else ("darwin" if platform == "darwin" else "linux")


def _user_folder(table: dict, what: str, platform: str | None = None, env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    var, rel = table[_platform(platform)]
    base = env.get(var) or (str(Path.home()) if var == "HOME" else "")
    if not base:
        raise SettingError("--dest", f"cannot find {what}: {var} is not set; give --dest")
    return Path(base).joinpath(*rel.split("/"))


def resolve_scripts_folder(platform: str | None = None, env: dict | None = None) -> Path:
    """Resolve's per-user Scripts folder on ``platform`` (sys.platform), from HOME or APPDATA in ``env``."""
    return _user_folder(SCRIPTS_FOLDERS, "Resolve's Scripts folder", platform, env)


def nuke_home(env: dict | None = None) -> Path:
    """The user's ``.nuke`` folder: ``$HOME/.nuke`` (``%USERPROFILE%\\.nuke`` on Windows without HOME)."""
    env = os.environ if env is None else env
    return Path(env.get("HOME") or env.get("USERPROFILE") or str(Path.home())) / ".nuke"


def blender_zip_folder() -> Path:
    """Where the Blender extension zip goes without --dest: the Matchcut cache's ``blender/`` folder."""
    from matchcut import settings

    return settings.cache_dir() / "blender"


def adapter_source(host: str = "resolve") -> Path:
    """hosts/HOST of this package's adapters (the wheel's package data, else the checkout's hosts/)."""
    from matchcut.adapters import hosts_root

    return hosts_root() / SOURCE_FOLDERS[host]


def default_worker() -> str:
    """This environment's matchcut executable (beside its Python), else `matchcut` on PATH."""
    name = "matchcut.exe" if sys.platform == "win32" else "matchcut"
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else (shutil.which("matchcut") or str(beside))


def _check_host(host: str) -> None:
    if host not in HOSTS:
        raise SettingError("HOST", f"unknown host '{host}'", HOSTS)


def _assembled(source: Path, host: str = "resolve") -> dict[str, bytes]:
    """The adapter at ``source`` (hosts/HOST, beside hosts/common) with its client, as matchcut.adapters
    assembles it; SettingError naming what is missing."""
    source = source.absolute()
    root = source.parent
    name = SOURCE_FOLDERS[host]
    problem = ""
    if source.name != name:
        problem = f"expected the adapter's folder, named {name}"
    elif host == "resolve" and (not (source / PACKAGE).is_dir() or not (source / TEMPLATES[".py"]).is_file()):
        problem = f"not the Resolve adapter (expected {PACKAGE}/ and {TEMPLATES['.py']})"
    elif host == "nuke" and not (source / "matchcut_nuke").is_dir():
        problem = "not the Nuke adapter (expected matchcut_nuke/)"
    elif host == "blender" and not (source / "blender_manifest.toml").is_file():
        problem = "not the Blender adapter (expected blender_manifest.toml)"
    elif not (root / "common" / "client" / "__init__.py").is_file():
        problem = f"no worker client beside it (expected {root / 'common' / 'client'})"
    if problem:
        raise SettingError("--source", f"{source}: {problem}; give --source PATH/TO/hosts/{name}")
    return assemble(host, root)


# --- what every installer shares: files tracked by their hashes ---------------------------------------------

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def check_writable(folder: Path) -> None:
    """FrameWriteError naming the folder (or the first existing one above it) when nothing can be written there."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise FrameWriteError(str(probe), "is a file, not a folder; give another --dest")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise FrameWriteError(str(probe), "the folder is not writable (permission denied); give another --dest or "
                              "get write access to it")


def check_version(record: dict | None, where: Path, host: str, force: bool) -> None:
    """FrameWriteError when ``where`` holds another Matchcut version's adapter (which, and when) unless ``force``."""
    if record is None or force or str(record.get("version")) == __version__:
        return
    worker = f" for the worker {record['worker']}" if record.get("worker") else ""
    raise FrameWriteError(str(where), f"it holds the {LABELS.get(host, host)} adapter of Matchcut "
                          f"{record.get('version')} (installed {record.get('installed', 'at an unknown date')}"
                          f"{worker}); pass --force to replace it with Matchcut {__version__}")


def _plan_actions(files: dict[Path, bytes], dest: Path, recorded: dict[str, str],
                  ours: frozenset[Path] = frozenset()) -> tuple[list[tuple[str, Path]], list[Path], list[str]]:
    """(action, path) per file ("write", "same", "replace", then "remove" for a recorded file this install no
    longer has and nobody changed), the files in the way that are not ours, and the removed ones (relative).
    A file is ours when unchanged since we wrote it (its hash is ``recorded``) or listed in ``ours``."""
    actions: list[tuple[str, Path]] = []
    conflicts: list[Path] = []
    for path, data in files.items():
        rel = path.relative_to(dest).as_posix()
        if not path.exists():
            actions.append(("write", path))
            continue
        current = path.read_bytes() if path.is_file() else None
        if current == data:
            actions.append(("same", path))
        elif current is not None and (recorded.get(rel) == _sha(current) or path in ours):
            actions.append(("replace", path))
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
    return actions, conflicts, gone


def _in_the_way(conflicts: list[Path]) -> FrameWriteError:
    more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
    return FrameWriteError(str(conflicts[0]), f"exists and is not a file Matchcut installed (or was edited since){more}; "
                           "move it away or pass --force to replace it")


def _apply(actions: list[tuple[str, Path]], files: dict[Path, bytes]) -> None:
    try:
        for action, path in actions:
            if action == "remove":
                path.unlink()
            elif action != "same":
                write_atomic(path, files[path])
    except PermissionError as exc:
        raise FrameWriteError(str(exc.filename or "?"), "permission denied") from exc


def _prune(dest: Path, folders: list[Path]) -> None:
    """Remove the empty folders among ``folders`` and their parents, up to ``dest``."""
    for folder in sorted(set(folders), key=lambda p: len(p.parts), reverse=True):
        while folder != dest and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _remove_recorded(dest: Path, recorded: dict[str, str]) -> tuple[list[Path], list[Path]]:
    """Remove the recorded files nobody changed; returns (removed, kept because edited)."""
    removed, kept = [], []
    for rel, sha in sorted(recorded.items()):
        path = dest.joinpath(*rel.split("/"))
        if not path.is_file():
            continue
        if _sha(path.read_bytes()) == sha:
            path.unlink()
            removed.append(path)
        else:
            kept.append(path)
    return removed, kept


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


def _resolve_record_path(dest: Path) -> Path:
    return (dest / LIBRARY).joinpath(*RECORD_PATHS["resolve"].split("/"))


def plan_install(source: Path, dest: Path, edition: str = "both", worker: str = "", python: str = "",
                 description: dict | None = None) -> dict[Path, bytes]:
    """Every file to write: target path -> content. The menu scripts generated from the templates for every
    tool of ``description`` (`matchcut tools --json`; default: this worker's), the package with its client and
    its record (the version and worker it was installed from)."""
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
    record = _resolve_record_path(dest)
    files[record] = make_record("resolve", worker, _read_bytes(record))
    return files


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
    way is not Matchcut's own, or ``dest`` holds another Matchcut version's scripts (FrameWriteError), unless
    ``force``; FrameWriteError naming ``dest`` when it cannot be written."""
    check_writable(dest)
    files = plan_install(source, dest, edition, worker, python, description)
    record_path = _resolve_record_path(dest)
    record = read_record(record_path)
    check_version(record, dest / LIBRARY, "resolve", force)
    recorded = _recorded(dest)
    actions, conflicts, gone = _plan_actions(files, dest, recorded,
                                             frozenset([record_path]) if record is not None else frozenset())
    if conflicts and not force:
        raise _in_the_way(conflicts)
    if dry_run:
        return actions
    _apply(actions, files)
    _prune(dest, [dest.joinpath(*rel.split("/")).parent for rel in gone])
    kept = {rel: sha for rel, sha in recorded.items() if rel not in gone}
    manifest = {"matchcut_resolve_install": 1, "edition": edition,
                "files": {**kept, **{p.relative_to(dest).as_posix(): _sha(d) for p, d in files.items()}}}
    write_atomic(dest / LIBRARY / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return actions


def uninstall(dest: Path) -> tuple[list[Path], list[Path]]:
    """Remove what install wrote and nobody changed; returns (removed, kept because edited)."""
    removed, kept = _remove_recorded(dest, _recorded(dest))
    manifest = dest / LIBRARY / MANIFEST
    if not kept:
        manifest.unlink(missing_ok=True)
    _prune(dest, [p.parent for p in removed] + [dest / LIBRARY])
    return removed, kept


# --- Nuke ---------------------------------------------------------------------------------------------------

@dataclass
class NukeInstall:
    """What a Nuke install did (or would do): the adapter's folder and the (action, path) per file; for an
    install under ~/.nuke, the init.py and the line added ("add"), already there ("same") or None."""

    folder: Path
    actions: list[tuple[str, Path]] = field(default_factory=list)
    init: Optional[Path] = None
    line: str = ""
    line_action: Optional[str] = None


def nuke_line(folder: Path) -> str:
    """The one line the installer adds to ~/.nuke/init.py: Nuke then loads the adapter's init.py and menu.py."""
    return f"import nuke; nuke.pluginAddPath({folder.as_posix()!r})  {NUKE_MARK}"


def _nuke_record_path(folder: Path) -> Path:
    return folder.joinpath(*RECORD_PATHS["nuke"].split("/"))


def loads_matchcut(path: Path, ours: str = "") -> Optional[tuple[int, str]]:
    """(line number, line) of the first line of ``path`` (an init.py or menu.py) that loads a Matchcut other than
    by ``ours``: code (not a comment) that names matchcut. None when there is none, or no file."""
    data = _read_bytes(path)
    if data is None:
        return None
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if ours and line.rstrip() == ours:
            continue
        if "matchcut" in line.split("#", 1)[0].lower():
            return number, line.strip()
    return None


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def install_nuke(dest: Optional[Path] = None, force: bool = False, dry_run: bool = False, worker: str = "",
                 home: Optional[Path] = None, source: Optional[Path] = None) -> NukeInstall:
    """The Nuke adapter into ``dest`` (a NUKE_PATH folder), or without ``dest`` into ``<home>/matchcut`` (home:
    the user's ~/.nuke) with one line appended to ``<home>/init.py``. InputError, with nothing changed, when that
    init.py or menu.py already loads another Matchcut; FrameWriteError when a file in the way is not ours or
    the folder holds another Matchcut version (unless ``force``), or a folder cannot be written."""
    worker = worker or default_worker()
    under_home = dest is None
    home = home or nuke_home()
    folder = dest if dest is not None else home / NUKE_FOLDER
    done = NukeInstall(folder)
    check_writable(folder)
    if under_home:
        done.init, done.line = home / "init.py", nuke_line(folder)
        check_writable(home)
        if done.init.is_symlink():  # a studio's shared init.py: replacing the link would cut the artist off it
            raise InputError(f"{done.init} is a link to {os.path.realpath(done.init)}; nothing was changed: add the "
                             f"line there yourself ({done.line}), or install into a NUKE_PATH folder with --dest DIR")
        for name in ("init.py", "menu.py"):
            found = loads_matchcut(home / name, done.line)
            if found:
                raise InputError(f"{home / name}: line {found[0]} already loads a Matchcut ({found[1]}); nothing was "
                                 "changed: remove that line (or run `matchcut hosts uninstall nuke` from the environment "
                                 "that added it) to install here, or install into a NUKE_PATH folder with --dest DIR")
    record_path = _nuke_record_path(folder)
    previous = _read_bytes(record_path)
    old = read_record(previous)
    check_version(old, folder, "nuke", force)
    files = {folder.joinpath(*rel.split("/")): data for rel, data in (
        _assembled(source, "nuke") if source else assemble("nuke")).items()}
    recorded = dict((old or {}).get("files") or {})
    done.actions, conflicts, gone = _plan_actions(files, folder, recorded)
    if conflicts and not force:
        raise _in_the_way(conflicts)
    created_init = False
    if under_home:
        text = _read_bytes(done.init)
        present = text is not None and any(ln.rstrip(b"\r\n").decode("utf-8", "replace") == done.line
                                           for ln in _lines(text))
        done.line_action = "same" if present else "add"
        created_init = bool((old or {}).get("created_init")) if present else text is None
    if dry_run:
        return done
    _apply(done.actions, files)
    _prune(folder, [folder.joinpath(*rel.split("/")).parent for rel in gone])
    extra: dict[str, Any] = {"files": {p.relative_to(folder).as_posix(): _sha(d) for p, d in files.items()}}
    if under_home:
        extra.update(init_py=str(done.init), line=done.line, created_init=created_init)
    write_atomic(record_path, make_record("nuke", worker, previous, **extra))
    if done.line_action == "add":  # last: Nuke never finds the line before the folder it names is complete
        text = _read_bytes(done.init) or b""
        newline = b"\r\n" if b"\r\n" in text else b"\n"
        sep = newline if text and not text.endswith(b"\n") else b""
        try:
            write_atomic(done.init, text + sep + done.line.encode("utf-8") + newline)
        except PermissionError as exc:
            raise FrameWriteError(str(done.init), "permission denied") from exc
    return done


@dataclass
class NukeUninstall:
    folder: Path
    removed: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    init: Optional[Path] = None
    line: str = ""
    #: "removed", "missing" (not in init.py any more: edited?), "link" (init.py is a link now: left alone), or
    #: None (no line was added)
    line_action: Optional[str] = None
    found: bool = True


def uninstall_nuke(dest: Optional[Path] = None, home: Optional[Path] = None) -> NukeUninstall:
    """Remove what ``install_nuke`` wrote into ``dest`` (or ``<home>/matchcut``) and nobody changed, and exactly
    the line it added to init.py (and init.py itself when the installer made it and nothing else is in it)."""
    home = home or nuke_home()
    folder = dest if dest is not None else home / NUKE_FOLDER
    record_path = _nuke_record_path(folder)
    record = read_record(record_path)
    done = NukeUninstall(folder, found=record is not None)
    if record is None:
        return done
    done.removed, done.kept = _remove_recorded(folder, dict(record.get("files") or {}))
    if not done.kept:
        record_path.unlink(missing_ok=True)
    _prune(folder.parent, [p.parent for p in done.removed] + [record_path.parent])
    if record.get("init_py") and record.get("line"):
        done.init, done.line = Path(record["init_py"]), str(record["line"])
        if done.init.is_symlink():  # made a link since: not ours to rewrite
            done.line_action = "link"
            return done
        text = _read_bytes(done.init)
        lines = _lines(text or b"")
        left = [ln for ln in lines if ln.rstrip(b"\r\n").decode("utf-8", "replace") != done.line]
        if len(left) == len(lines):
            done.line_action = "missing"
        else:
            done.line_action = "removed"
            if record.get("created_init") and not b"".join(left).strip():
                done.init.unlink()
            else:
                write_atomic(done.init, b"".join(left))
    return done


# --- Blender ------------------------------------------------------------------------------------------------

@dataclass
class BlenderInstall:
    """What a Blender install did: the zip and its action ("write", "same", "replace"); the Blender used
    (None: none on PATH, or --zip-only), its version, and the lines to show."""

    zip: Path
    action: str = "write"
    blender: Optional[str] = None
    version: Optional[tuple[int, ...]] = None
    installed: bool = False
    lines: list[str] = field(default_factory=list)


def blender_version(exe: str) -> tuple[Optional[tuple[int, ...]], str]:
    """(version, its first line) of ``exe --version``; (None, why) when it does not say."""
    try:
        done = subprocess.run([exe, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, universal_newlines=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"{exe} --version failed: {exc}"
    found = re.search(r"Blender (\d+)\.(\d+)(?:\.(\d+))?", done.stdout)
    if not found:
        return None, f"{exe} --version did not name a Blender version ({_last_line(done.stdout)})"
    return tuple(int(g) for g in found.groups() if g is not None), found.group(0)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def _find_blender(blender: Optional[str]) -> Optional[str]:
    if blender:
        found = shutil.which(blender) or (blender if Path(blender).is_file() else None)
        if found is None:
            raise SettingError("--blender", f"{blender}: no such executable")
        return found
    return shutil.which("blender")


def _from_disk(path: Path) -> str:
    return (f"install it in Blender: Edit > Preferences > Get Extensions > (menu) Install from Disk... > {path} "
            "(the add-on's Worker is preset to this worker)")


def install_blender(dest: Optional[Path] = None, force: bool = False, dry_run: bool = False, worker: str = "",
                    blender: Optional[str] = None, zip_only: bool = False,
                    source: Optional[Path] = None) -> BlenderInstall:
    """The extension zip (with its record: the worker preset) into ``dest`` (default blender_zip_folder()), then
    installed with ``blender --command extension install-file`` when a Blender 4.2+ is found (``blender``, else
    on PATH) unless ``zip_only``; an older Blender, or a failed install, leaves the zip for Install from Disk
    and says why. FrameWriteError when the zip's path holds a file that is not a Matchcut extension, or
    another Matchcut version's (unless ``force``), or the folder cannot be written."""
    worker = worker or default_worker()
    dest = dest or blender_zip_folder()
    check_writable(dest)
    adapter = _assembled(source, "blender") if source else assemble("blender")
    path = dest / f"{BLENDER_ID}-{extension_version(adapter)}.zip"
    existing = _read_bytes(path)
    previous = None
    if existing is not None:
        inside = zip_files(existing)
        previous = inside.get(RECORD)
        old = read_record(previous)
        if old is None and not force:
            raise FrameWriteError(str(path), "exists and is not a Matchcut extension zip; move it away or pass --force "
                                  "to replace it")
        check_version(old, path, "blender", force)
    data = extension_zip({**adapter, RECORD: make_record("blender", worker, previous)})
    done = BlenderInstall(path, "write" if existing is None else ("same" if existing == data else "replace"))
    exe = None if zip_only else _find_blender(blender)
    if dry_run:
        done.blender = exe
        return done
    if done.action != "same":
        try:
            write_atomic(path, data)
        except PermissionError as exc:
            raise FrameWriteError(str(path), "permission denied") from exc
    if exe is None:
        done.lines.append(("no blender on PATH (--blender PATH names one): " if not zip_only else "") + _from_disk(path))
        return done
    done.blender = exe
    done.version, said = blender_version(exe)
    if done.version is None or done.version[:2] < BLENDER_MIN:
        need = ".".join(str(v) for v in BLENDER_MIN)
        what = f"{exe} is {said}" if done.version is not None else said
        done.lines.append(f"{what}: installing an extension from the command line needs Blender {need} or later "
                          f"(extensions came with {need}); " + _from_disk(path))
        return done
    argv = [exe, "--command", "extension", "install-file", "--repo", BLENDER_REPO, "--enable", str(path)]
    try:
        ran = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             universal_newlines=True, timeout=BLENDER_TIMEOUT, check=False)
        failed = f"exit status {ran.returncode}: {_last_line(ran.stdout)}" if ran.returncode != 0 else ""
    except (OSError, subprocess.SubprocessError) as exc:
        failed = str(exc)
    if failed:
        done.lines.append(f"{said} could not install it ({' '.join(argv[1:5])} ...: {failed}); " + _from_disk(path))
        return done
    done.installed = True
    done.lines.append(f"installed and enabled in {said} ({exe}, repository {BLENDER_REPO}); restart Blender if it "
                      "is running")
    return done


def uninstall_blender(dest: Optional[Path] = None, blender: Optional[str] = None,
                      zip_only: bool = False) -> list[str]:
    """Remove the extension zips of ours in ``dest`` and, unless ``zip_only``, the extension from a Blender 4.2+
    found (``blender --command extension remove user_default.matchcut``); the lines to show."""
    dest = dest or blender_zip_folder()
    lines = []
    for path in sorted(dest.glob(f"{BLENDER_ID}-*.zip")):
        if read_record(zip_files(_read_bytes(path) or b"").get(RECORD)) is not None:
            path.unlink()
            lines.append(f"removed: {path}")
    exe = None if zip_only else _find_blender(blender)
    if exe is None:
        return lines + ([] if zip_only else ["no blender on PATH: remove the extension in Blender's Preferences > "
                                             "Add-ons if it was installed"])
    version, said = blender_version(exe)
    if version is None or version[:2] < BLENDER_MIN:
        return lines + [f"{said}: no extensions there (they need Blender 4.2 or later)"]
    argv = [exe, "--command", "extension", "remove", f"{BLENDER_REPO}.{BLENDER_ID}"]
    try:
        ran = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             universal_newlines=True, timeout=BLENDER_TIMEOUT, check=False)
        result = (f"removed the extension from {said}" if ran.returncode == 0
                  else f"{said} did not remove it (exit status {ran.returncode}: {_last_line(ran.stdout)})")
    except (OSError, subprocess.SubprocessError) as exc:
        result = f"{said} did not remove it ({exc})"
    return lines + [result]


def blender_extension_folders(platform: str | None = None, env: dict | None = None) -> list[Path]:
    """The Matchcut extension's folders in each Blender version's user repository (for status):
    ``$BLENDER_USER_EXTENSIONS`` or ``$BLENDER_USER_RESOURCES/extensions`` when set, else each version's under
    Blender's per-user folder (Linux ~/.config/blender/VERSION, macOS ~/Library/Application Support/Blender/
    VERSION, Windows %APPDATA%\\Blender Foundation\\Blender\\VERSION)."""
    env = os.environ if env is None else env
    if env.get("BLENDER_USER_EXTENSIONS"):
        roots = [Path(env["BLENDER_USER_EXTENSIONS"])]
    elif env.get("BLENDER_USER_RESOURCES"):
        roots = [Path(env["BLENDER_USER_RESOURCES"]) / "extensions"]
    else:
        try:
            base = _user_folder(BLENDER_USER, "Blender's user folder", platform, env)
        except SettingError:
            return []
        roots = sorted(base.glob("*/extensions")) if base.is_dir() else []
    return [root / BLENDER_REPO / BLENDER_ID for root in roots if (root / BLENDER_REPO / BLENDER_ID).is_dir()]


# --- where things are installed: the per-user note of installs, and status -------------------------------------

def _installs() -> list[dict[str, str]]:
    from matchcut import settings

    try:
        data = json.loads(settings.installs_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = data.get("installs") if isinstance(data, dict) else None
    return [e for e in entries or [] if isinstance(e, dict) and e.get("host") in HOSTS and e.get("where")]


def _save_installs(entries: list[dict[str, str]]) -> None:
    from matchcut import settings

    try:  # a note for `hosts status` only: a config folder that cannot be written costs nothing else
        write_atomic(settings.installs_file(), (json.dumps({"matchcut_installs": 1, "installs": entries}, indent=2)
                                                + "\n").encode("utf-8"))
    except OSError:
        pass


def note_install(host: str, where: Path) -> None:
    """Remember that ``host``'s adapter is installed at ``where`` (a folder, or the Blender zip)."""
    entry = {"host": host, "where": str(where)}
    entries = [e for e in _installs() if e != entry]
    _save_installs(entries + [entry])


def forget_install(host: str, where: Path) -> None:
    entry = {"host": host, "where": str(where)}
    entries = _installs()
    if entry in entries:
        _save_installs([e for e in entries if e != entry])


def record_at(host: str, where: Path) -> Optional[dict]:
    """The record of ``host``'s adapter installed at ``where``: a Nuke folder, a Resolve Scripts folder, a Blender
    zip or extension folder; None when there is none."""
    if host == "nuke":
        return read_record(_nuke_record_path(where))
    if host == "resolve":
        return read_record(_resolve_record_path(where))
    if where.suffix == ".zip":
        return read_record(zip_files(_read_bytes(where) or b"").get(RECORD))
    return read_record(where / RECORD)


def _default_places() -> list[tuple[str, Path]]:
    places: list[tuple[str, Path]] = [("nuke", nuke_home() / NUKE_FOLDER)]
    try:
        places.append(("resolve", resolve_scripts_folder()))
    except SettingError:
        pass
    places += [("blender", p) for p in sorted(blender_zip_folder().glob(f"{BLENDER_ID}-*.zip"))]
    places += [("blender", p) for p in blender_extension_folders()]
    return places


def status(worker: str = "") -> dict[str, Any]:
    """What is installed where (the installs noted, and the default places), which version each is and whether it
    matches this worker: {"matchcut", "worker", "installs": [{host, where, version, worker, installed, matches,
    same_worker, note}], "looked": [...]}. Noted installs that are gone are forgotten."""
    worker = worker or default_worker()
    noted = [(e["host"], Path(e["where"])) for e in _installs()]
    places = list(dict.fromkeys(noted + _default_places()))
    found, gone = [], []
    for host, where in places:
        record = record_at(host, where)
        if record is None:
            if (host, where) in noted:
                gone.append({"host": host, "where": str(where)})
            continue
        version = str(record.get("version") or "?")
        entry = {"host": host, "where": str(where), "version": version, "worker": record.get("worker") or "",
                 "installed": record.get("installed") or "", "matches": version == __version__,
                 "same_worker": os.path.normcase(str(record.get("worker") or "")) == os.path.normcase(worker)}
        if not entry["matches"]:
            entry["note"] = (f"installed from Matchcut {version}, this worker is {__version__}: run `matchcut hosts "
                             f"install {host}{'' if _is_default(host, where) else ' --dest ' + str(_dest_of(host, where))}"
                             "` from the worker environment it should use")
        elif not entry["same_worker"]:
            entry["note"] = f"runs another worker: {entry['worker']}"
        else:
            entry["note"] = "matches this worker"
        if host == "nuke" and record.get("init_py") and record.get("line"):
            loaded = any(ln.rstrip(b"\r\n").decode("utf-8", "replace") == record["line"]
                         for ln in _lines(_read_bytes(Path(record["init_py"])) or b""))
            entry["note"] += (f"; loaded by {record['init_py']}" if loaded
                              else f"; its line in {record['init_py']} is missing (reinstall to add it)")
        found.append(entry)
    if gone:
        _save_installs([e for e in _installs() if e not in gone])
    return {"matchcut": __version__, "worker": worker, "installs": found,
            "looked": [f"{h} {w}" for h, w in places]}


def _is_default(host: str, where: Path) -> bool:
    if host == "nuke":
        return where == nuke_home() / NUKE_FOLDER
    if host == "resolve":
        try:
            return where == resolve_scripts_folder()
        except SettingError:
            return False
    return where.parent == blender_zip_folder() or where.suffix != ".zip"


def _dest_of(host: str, where: Path) -> Path:
    return where.parent if host == "blender" and where.suffix == ".zip" else where


# --- the commands ---------------------------------------------------------------------------------------------

_VERBS = {False: {"write": "wrote", "replace": "replaced", "remove": "removed", "same": "unchanged"},
          True: {"write": "would write", "replace": "would replace", "remove": "would remove", "same": "unchanged"}}


def _only_for(host: str, **given: Any) -> None:
    """SettingError for an option that is another host's."""
    owners = {"edition": "resolve", "python": "resolve", "blender": "blender", "zip_only": "blender"}
    for name, value in given.items():
        if value and owners[name] != host:
            raise SettingError("--" + name.replace("_", "-"), f"is for `hosts install {owners[name]}` only, not {host}")


@hosts_app.command("install")
def install_command(
    host: str = typer.Argument(..., help="The host: nuke, resolve or blender."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Nuke: a folder for NUKE_PATH (default: ~/.nuke/matchcut, "
                                        "loaded by one line added to ~/.nuke/init.py). Resolve: the Scripts folder "
                                        "(default: the per-user one). Blender: the folder for the extension zip "
                                        "(default: the Matchcut cache's blender/)."),
    force: bool = typer.Option(False, "--force", help="Replace files in the way that Matchcut did not install, and "
                               "another Matchcut version's adapter."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written; write nothing."),
    worker: str = typer.Option("", "--worker", help="The matchcut executable the adapter runs (default: this one)."),
    source: Optional[Path] = typer.Option(None, "--source", help="hosts/HOST to install from (default: this "
                                          "package's adapters)."),
    edition: str = typer.Option("both", "--edition", help="Resolve: studio (Python scripts), free (Lua stubs) or both."),
    python: str = typer.Option("", "--python", help="Resolve: the Python the Lua stubs run (default: this one)."),
    blender: Optional[str] = typer.Option(None, "--blender", help="Blender: the blender executable that installs the "
                                          "extension (default: blender on PATH)."),
    zip_only: bool = typer.Option(False, "--zip-only", help="Blender: only write the zip (for Install from Disk)."),
) -> None:
    """Install a host's adapter from this package, for this worker (never over an artist's own files)."""
    _check_host(host)
    _only_for(host, edition=edition if edition != "both" else "", python=python, blender=blender, zip_only=zip_only)
    dest = dest.expanduser().absolute() if dest is not None else None
    verb = _VERBS[dry_run]
    if host == "resolve":
        dest = dest or resolve_scripts_folder().absolute()
        for action, path in install(source or adapter_source("resolve"), dest, edition, force, dry_run, worker, python):
            typer.echo(f"{verb[action]}: {path}")
        if not dry_run:
            note_install("resolve", dest)
            typer.echo(f"Matchcut {__version__} for Resolve installed in {dest}; restart Resolve, then Workspace > "
                       "Scripts > Matchcut")
    elif host == "nuke":
        done = install_nuke(dest, force, dry_run, worker, source=source)
        for action, path in done.actions:
            typer.echo(f"{verb[action]}: {path}")
        if done.line_action == "add":
            typer.echo(f"{'would add' if dry_run else 'added'} to {done.init}: {done.line}")
        elif done.line_action == "same":
            typer.echo(f"unchanged: {done.init} (already has: {done.line})")
        if not dry_run:
            note_install("nuke", done.folder)
            if dest is None:
                typer.echo(f"Matchcut {__version__} for Nuke installed in {done.folder}, loaded by {done.init}; "
                           "restart Nuke: the Matchcut menu is in the Nodes toolbar")
            else:
                typer.echo(f"Matchcut {__version__} for Nuke installed in {done.folder}: put it on NUKE_PATH (and on "
                           "the render nodes'), set MATCHCUT_WORKER there if this worker is not on PATH, restart Nuke")
    else:
        done_b = install_blender(dest, force, dry_run, worker, blender, zip_only, source)
        typer.echo(f"{verb[done_b.action]}: {done_b.zip}")
        if dry_run:
            typer.echo(f"would install it with {done_b.blender}" if done_b.blender else _from_disk(done_b.zip))
            return
        note_install("blender", done_b.zip)
        for line in done_b.lines:
            typer.echo(line)
        typer.echo(f"Matchcut {__version__} for Blender: {done_b.zip}" +
                   (" (installed)" if done_b.installed else ""))


@hosts_app.command("uninstall")
def uninstall_command(
    host: str = typer.Argument(..., help="The host: nuke, resolve or blender."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Where it was installed (default: the default place)."),
    blender: Optional[str] = typer.Option(None, "--blender", help="Blender: the blender executable to remove the "
                                          "extension from (default: blender on PATH)."),
    zip_only: bool = typer.Option(False, "--zip-only", help="Blender: only remove the zip, not the installed extension."),
) -> None:
    """Remove what the installer wrote (files edited since are kept and listed; the line added to ~/.nuke/init.py)."""
    _check_host(host)
    _only_for(host, blender=blender, zip_only=zip_only)
    dest = dest.expanduser().absolute() if dest is not None else None
    if host == "resolve":
        dest = dest or resolve_scripts_folder().absolute()
        removed, kept = uninstall(dest)
        for path in removed:
            typer.echo(f"removed: {path}")
        for path in kept:
            typer.echo(f"kept (edited since it was installed): {path}")
        if not kept:
            forget_install("resolve", dest)
    elif host == "nuke":
        done = uninstall_nuke(dest)
        if not done.found:
            typer.echo(f"no Matchcut for Nuke recorded in {done.folder}: nothing removed")
            return
        for path in done.removed:
            typer.echo(f"removed: {path}")
        for path in done.kept:
            typer.echo(f"kept (edited since it was installed): {path}")
        if done.line_action == "removed":
            typer.echo(f"removed from {done.init}: {done.line}")
        elif done.line_action == "missing":
            typer.echo(f"not in {done.init} any more (edited?): {done.line}; nothing changed there")
        elif done.line_action == "link":
            typer.echo(f"{done.init} is a link now: remove this line from it yourself: {done.line}")
        if not done.kept:
            forget_install("nuke", done.folder)
    else:
        folder = dest or blender_zip_folder()
        zips = sorted(folder.glob(f"{BLENDER_ID}-*.zip"))
        for line in uninstall_blender(folder, blender, zip_only):
            typer.echo(line)
        for path in zips:
            if not path.exists():
                forget_install("blender", path)


@hosts_app.command("status")
def status_command(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """What is installed where, which Matchcut version each is, and whether it matches this worker."""
    report = status()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"this worker: Matchcut {report['matchcut']} ({report['worker']})")
    for entry in report["installs"]:
        typer.echo(f"{entry['host']:<8} {entry['version']:<8} {entry['where']}: {entry['note']}")
    missing = [h for h in HOSTS if not any(e["host"] == h for e in report["installs"])]
    for host in missing:
        typer.echo(f"{host:<8} not installed (`matchcut hosts install {host}`)")


@hosts_app.command("build")
def build_command(
    host: str = typer.Argument(..., help="The host: nuke, resolve or blender."),
    out: Path = typer.Option(..., "--out", help="The folder to write the adapter to (a NUKE_PATH folder for Nuke, "
                             "the extension's source for Blender)."),
    worker: str = typer.Option("", "--worker", help="The worker its record names (default: this one; Blender "
                               "presets its Worker preference to it)."),
) -> None:
    """Write a host's adapter with its copy of the worker client and its record, as the host loads it."""
    from matchcut.adapters import with_record, write_tree

    _check_host(host)
    out = out.expanduser().absolute()
    check_writable(out)
    written = write_tree(with_record(host, assemble(host), worker or default_worker()), out)
    typer.echo(f"Matchcut for {host}: {len(written)} files in {out}")


def register(app: typer.Typer) -> None:
    """Add the `hosts` command group to the app."""
    app.add_typer(hosts_app, name="hosts")
