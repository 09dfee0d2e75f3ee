"""What every adapter installer shares: the hosts, the adapters' sources, and files tracked by their hashes
(a file the installer wrote and nobody changed since is its own to replace or remove)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from matchcut import __version__
from matchcut.adapters import assemble, write_atomic
from matchcut.errors import FrameWriteError, SettingError

HOSTS = ("nuke", "resolve", "blender")
LABELS = {"nuke": "Nuke", "resolve": "Resolve", "blender": "Blender"}
#: Each host's folder under hosts/ (what --source names).
SOURCE_FOLDERS = {"nuke": "nuke", "resolve": "resolve", "blender": "blender"}
#: The Resolve adapter's package, and the templates (paths in the adapter) its menu scripts are generated from.
PACKAGE = "matchcut_resolve"
TEMPLATES = {".py": "templates/tool.py", ".lua": "templates/tool.lua"}


def platform_name(platform: str | None = None) -> str:
    platform = platform or sys.platform
    return "win32" if platform.startswith("win") else ("darwin" if platform == "darwin" else "linux")


def user_folder(table: dict, what: str, platform: str | None = None, env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    var, rel = table[platform_name(platform)]
    base = env.get(var) or (str(Path.home()) if var == "HOME" else "")
    if not base:
        raise SettingError("--dest", f"cannot find {what}: {var} is not set; give --dest")
    return Path(base).joinpath(*rel.split("/"))


def adapter_source(host: str = "resolve") -> Path:
    """hosts/HOST of this package's adapters (the wheel's package data, else the checkout's hosts/)."""
    from matchcut.adapters import hosts_root

    return hosts_root() / SOURCE_FOLDERS[host]


def default_worker() -> str:
    """This environment's matchcut executable (beside its Python), else `matchcut` on PATH."""
    name = "matchcut.exe" if sys.platform == "win32" else "matchcut"
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else (shutil.which("matchcut") or str(beside))


def check_host(host: str) -> None:
    if host not in HOSTS:
        raise SettingError("HOST", f"unknown host '{host}'", HOSTS)


def assembled(source: Path, host: str = "resolve") -> dict[str, bytes]:
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

def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes | None:
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


def plan_actions(files: dict[Path, bytes], dest: Path, recorded: dict[str, str],
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
        elif current is not None and (recorded.get(rel) == sha256_of(current) or path in ours):
            actions.append(("replace", path))
        else:
            conflicts.append(path)
            actions.append(("replace", path))
    planned = {p.relative_to(dest).as_posix() for p in files}
    gone = []
    for rel, sha in sorted(recorded.items()):
        path = dest.joinpath(*rel.split("/"))
        if rel not in planned and path.is_file() and sha256_of(path.read_bytes()) == sha:
            actions.append(("remove", path))
            gone.append(rel)
    return actions, conflicts, gone


def in_the_way(conflicts: list[Path]) -> FrameWriteError:
    more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
    return FrameWriteError(str(conflicts[0]), f"exists and is not a file Matchcut installed (or was edited since){more}; "
                           "move it away or pass --force to replace it")


def apply_actions(actions: list[tuple[str, Path]], files: dict[Path, bytes]) -> None:
    try:
        for action, path in actions:
            if action == "remove":
                path.unlink()
            elif action != "same":
                write_atomic(path, files[path])
    except PermissionError as exc:
        raise FrameWriteError(str(exc.filename or "?"), "permission denied") from exc


def prune(dest: Path, folders: list[Path]) -> None:
    """Remove the empty folders among ``folders`` and their parents, up to ``dest``."""
    for folder in sorted(set(folders), key=lambda p: len(p.parts), reverse=True):
        while folder != dest and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def remove_recorded(dest: Path, recorded: dict[str, str]) -> tuple[list[Path], list[Path]]:
    """Remove the recorded files nobody changed; returns (removed, kept because edited)."""
    removed, kept = [], []
    for rel, sha in sorted(recorded.items()):
        path = dest.joinpath(*rel.split("/"))
        if not path.is_file():
            continue
        if sha256_of(path.read_bytes()) == sha:
            path.unlink()
            removed.append(path)
        else:
            kept.append(path)
    return removed, kept


