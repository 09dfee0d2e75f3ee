"""Installing the Blender adapter: the extension zip, installed with Blender's own command line when one is on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from matchcut.adapters import (
    RECORD,
    assemble,
    extension_version,
    extension_zip,
    make_record,
    read_record,
    write_atomic,
    zip_files,
)
from matchcut.errors import FrameWriteError, SettingError
from matchcut.installs.files import (
    assembled,
    read_bytes,
    user_folder,
    check_version,
    check_writable,
    default_worker,
)


#: Extensions (and their command line) came with Blender 4.2.
BLENDER_MIN = (4, 2)
BLENDER_REPO = "user_default"
BLENDER_ID = "matchcut"
#: Blender's per-user folder (its versions' config and extensions below it), per platform.
BLENDER_USER = {"linux": ("HOME", ".config/blender"), "darwin": ("HOME", "Library/Application Support/Blender"),
                "win32": ("APPDATA", "Blender Foundation/Blender")}
#: Seconds Blender's command line may take to install or remove the extension.
BLENDER_TIMEOUT = 300


def blender_zip_folder() -> Path:
    """Where the Blender extension zip goes without --dest: the Matchcut cache's ``blender/`` folder."""
    from matchcut import settings

    return settings.cache_dir() / "blender"


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


def from_disk(path: Path) -> str:
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
    adapter = assembled(source, "blender") if source else assemble("blender")
    path = dest / f"{BLENDER_ID}-{extension_version(adapter)}.zip"
    existing = read_bytes(path)
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
        done.lines.append(("no blender on PATH (--blender PATH names one): " if not zip_only else "") + from_disk(path))
        return done
    done.blender = exe
    done.version, said = blender_version(exe)
    if done.version is None or done.version[:2] < BLENDER_MIN:
        need = ".".join(str(v) for v in BLENDER_MIN)
        what = f"{exe} is {said}" if done.version is not None else said
        done.lines.append(f"{what}: installing an extension from the command line needs Blender {need} or later "
                          f"(extensions came with {need}); " + from_disk(path))
        return done
    argv = [exe, "--command", "extension", "install-file", "--repo", BLENDER_REPO, "--enable", str(path)]
    try:
        ran = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             universal_newlines=True, timeout=BLENDER_TIMEOUT, check=False)
        failed = f"exit status {ran.returncode}: {_last_line(ran.stdout)}" if ran.returncode != 0 else ""
    except (OSError, subprocess.SubprocessError) as exc:
        failed = str(exc)
    if failed:
        done.lines.append(f"{said} could not install it ({' '.join(argv[1:5])} ...: {failed}); " + from_disk(path))
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
        if read_record(zip_files(read_bytes(path) or b"").get(RECORD)) is not None:
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
            base = user_folder(BLENDER_USER, "Blender's user folder", platform, env)
        except SettingError:
            return []
        roots = sorted(base.glob("*/extensions")) if base.is_dir() else []
    return [root / BLENDER_REPO / BLENDER_ID for root in roots if (root / BLENDER_REPO / BLENDER_ID).is_dir()]


