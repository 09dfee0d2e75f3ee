"""Installing the Nuke adapter: a folder for NUKE_PATH, or ~/.nuke/matchcut and one marked line in ~/.nuke/init.py."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from matchcut.adapters import RECORD_PATHS, assemble, make_record, read_record, write_atomic
from matchcut.errors import FrameWriteError, InputError
from matchcut.installs.files import (
    apply_actions,
    assembled,
    in_the_way,
    plan_actions,
    prune,
    read_bytes,
    remove_recorded,
    sha256_of,
    check_version,
    check_writable,
    default_worker,
)


#: The folder under ~/.nuke the adapter goes to when no --dest is given.
NUKE_FOLDER = "matchcut"
#: The comment that ends the one line the installer adds to ~/.nuke/init.py (uninstall removes that line).
NUKE_MARK = "# Matchcut: added by `matchcut hosts install nuke`; `matchcut hosts uninstall nuke` removes this line"


def nuke_home(env: dict | None = None) -> Path:
    """The user's ``.nuke`` folder: ``$HOME/.nuke`` (``%USERPROFILE%\\.nuke`` on Windows without HOME)."""
    env = os.environ if env is None else env
    return Path(env.get("HOME") or env.get("USERPROFILE") or str(Path.home())) / ".nuke"


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


def nuke_record_path(folder: Path) -> Path:
    return folder.joinpath(*RECORD_PATHS["nuke"].split("/"))


def loads_matchcut(path: Path, ours: str = "") -> Optional[tuple[int, str]]:
    """(line number, line) of the first line of ``path`` (an init.py or menu.py) that loads a Matchcut other than
    by ``ours``: code (not a comment) that names matchcut. None when there is none, or no file."""
    data = read_bytes(path)
    if data is None:
        return None
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if ours and line.rstrip() == ours:
            continue
        if "matchcut" in line.split("#", 1)[0].lower():
            return number, line.strip()
    return None


def lines_of(data: bytes) -> list[bytes]:
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
    record_path = nuke_record_path(folder)
    previous = read_bytes(record_path)
    old = read_record(previous)
    check_version(old, folder, "nuke", force)
    files = {folder.joinpath(*rel.split("/")): data for rel, data in (
        assembled(source, "nuke") if source else assemble("nuke")).items()}
    recorded = dict((old or {}).get("files") or {})
    done.actions, conflicts, gone = plan_actions(files, folder, recorded)
    if conflicts and not force:
        raise in_the_way(conflicts)
    created_init = False
    if under_home:
        text = read_bytes(done.init)
        present = text is not None and any(ln.rstrip(b"\r\n").decode("utf-8", "replace") == done.line
                                           for ln in lines_of(text))
        done.line_action = "same" if present else "add"
        created_init = bool((old or {}).get("created_init")) if present else text is None
    if dry_run:
        return done
    apply_actions(done.actions, files)
    prune(folder, [folder.joinpath(*rel.split("/")).parent for rel in gone])
    extra: dict[str, Any] = {"files": {p.relative_to(folder).as_posix(): sha256_of(d) for p, d in files.items()}}
    if under_home:
        extra.update(init_py=str(done.init), line=done.line, created_init=created_init)
    write_atomic(record_path, make_record("nuke", worker, previous, **extra))
    if done.line_action == "add":  # last: Nuke never finds the line before the folder it names is complete
        text = read_bytes(done.init) or b""
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
    record_path = nuke_record_path(folder)
    record = read_record(record_path)
    done = NukeUninstall(folder, found=record is not None)
    if record is None:
        return done
    done.removed, done.kept = remove_recorded(folder, dict(record.get("files") or {}))
    if not done.kept:
        record_path.unlink(missing_ok=True)
    prune(folder.parent, [p.parent for p in done.removed] + [record_path.parent])
    if record.get("init_py") and record.get("line"):
        done.init, done.line = Path(record["init_py"]), str(record["line"])
        if done.init.is_symlink():  # made a link since: not ours to rewrite
            done.line_action = "link"
            return done
        text = read_bytes(done.init)
        lines = lines_of(text or b"")
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


