"""Where the adapters are installed: the per-user note of installs, and ``matchcut hosts status``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

from matchcut import __version__
from matchcut.adapters import RECORD, read_record, write_atomic, zip_files
from matchcut.errors import SettingError
from matchcut.installs.resolve import resolve_record_path, resolve_scripts_folder
from matchcut.installs.nuke import NUKE_FOLDER, lines_of, nuke_record_path, nuke_home
from matchcut.installs.files import HOSTS, read_bytes, default_worker
from matchcut.installs.blender import BLENDER_ID, blender_extension_folders, blender_zip_folder


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
        return read_record(nuke_record_path(where))
    if host == "resolve":
        return read_record(resolve_record_path(where))
    if where.suffix == ".zip":
        return read_record(zip_files(read_bytes(where) or b"").get(RECORD))
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
                         for ln in lines_of(read_bytes(Path(record["init_py"])) or b""))
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


