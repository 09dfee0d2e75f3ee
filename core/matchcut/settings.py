"""Every environment variable Matchcut reads, its default and its meaning, in one place."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

#: Extra folders of models (``*.toml`` manifests beside ``*.onnx`` files), ``os.pathsep``-separated, searched first.
MODEL_PATH_VAR = "MATCHCUT_MODEL_PATH"
#: Root of Matchcut's per-user cache (model zoo, TensorRT engines, host render caches).
CACHE_DIR_VAR = "MATCHCUT_CACHE_DIR"
#: Matchcut's per-user configuration folder (where `matchcut hosts install` records what it installed where).
CONFIG_DIR_VAR = "MATCHCUT_CONFIG_DIR"
#: Set to 1 for full tracebacks from the CLI.
DEBUG_VAR = "MATCHCUT_DEBUG"
#: Threads for OpenImageIO and onnxruntime on the CPU (default: all cores).
THREADS_VAR = "MATCHCUT_THREADS"
#: Training steps for the project's own degrain-small model when `models install` builds it (default 700).
DEGRAIN_STEPS_VAR = "MATCHCUT_DEGRAIN_STEPS"
#: Path mapping rules (``S:\\show=/mnt/show``), newline- or ``;``-separated, applied after ``--map`` and
#: ``--map-file`` rules wherever a path written on another machine is read (matchcut.paths).
PATH_MAP_VAR = "MATCHCUT_PATH_MAP"
#: The farm `matchcut farm submit` sends to when --to is not given (openjd-local, deadline-cloud, deadline10,
#: opencue); the hosts' Farm buttons start with it.
FARM_VAR = "MATCHCUT_FARM"
#: OpenColorIO's own variable: a config path; when unset the built-in ACES studio config is used.
OCIO_VAR = "OCIO"


def _platform(platform: str | None) -> str:
    platform = platform or sys.platform
    return "win32" if platform.startswith(("win", "cygwin")) else ("darwin" if platform == "darwin" else "linux")


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~"))


def cache_dir(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Matchcut's per-user cache root: ``$MATCHCUT_CACHE_DIR``, else each platform's convention: Linux (and
    other Unixes) ``$XDG_CACHE_HOME/matchcut`` or ``~/.cache/matchcut``; macOS ``~/Library/Caches/Matchcut``;
    Windows ``%LOCALAPPDATA%\\Matchcut\\Cache``. ``platform`` (sys.platform) and ``env`` (os.environ) are for tests."""
    env = os.environ if env is None else env
    if env.get(CACHE_DIR_VAR):
        return Path(env[CACHE_DIR_VAR]).expanduser()
    kind = _platform(platform)
    if kind == "darwin":
        return _home(env) / "Library" / "Caches" / "Matchcut"
    if kind == "win32":
        base = env.get("LOCALAPPDATA") or str(_home(env) / "AppData" / "Local")
        return Path(base) / "Matchcut" / "Cache"
    return Path(env.get("XDG_CACHE_HOME") or _home(env) / ".cache") / "matchcut"


def config_dir(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Matchcut's per-user configuration folder: ``$MATCHCUT_CONFIG_DIR``, else Linux ``$XDG_CONFIG_HOME/matchcut``
    or ``~/.config/matchcut``; macOS ``~/Library/Application Support/Matchcut``; Windows ``%APPDATA%\\Matchcut``."""
    env = os.environ if env is None else env
    if env.get(CONFIG_DIR_VAR):
        return Path(env[CONFIG_DIR_VAR]).expanduser()
    kind = _platform(platform)
    if kind == "darwin":
        return _home(env) / "Library" / "Application Support" / "Matchcut"
    if kind == "win32":
        base = env.get("APPDATA") or str(_home(env) / "AppData" / "Roaming")
        return Path(base) / "Matchcut"
    return Path(env.get("XDG_CONFIG_HOME") or _home(env) / ".config") / "matchcut"


def installs_file() -> Path:
    """Where `matchcut hosts install` records each install (host, folder, version), for `matchcut hosts status`."""
    return config_dir() / "installs.json"


def model_cache_dir() -> Path:
    """Where ``matchcut models install`` writes the model zoo (ONNX files and their manifests)."""
    return cache_dir() / "models"


def engine_cache_dir() -> Path:
    """Where TensorRT engines are cached, keyed on model hash, shape, precision, versions and GPU."""
    return cache_dir() / "engines"


def provider_probe_file() -> Path:
    """Where the per-machine answer to "which onnxruntime GPU providers really load here" is kept (a JSON file
    keyed on onnxruntime, the GPU wheels, driver and library paths; `matchcut doctor` rewrites it)."""
    return cache_dir() / "providers.json"


def extra_model_paths() -> list[Path]:
    """Folders named in ``$MATCHCUT_MODEL_PATH``, in order."""
    raw = os.environ.get(MODEL_PATH_VAR, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def debug() -> bool:
    return os.environ.get(DEBUG_VAR, "").strip() not in ("", "0", "false", "no")


def threads() -> int:
    """CPU threads to use: ``$MATCHCUT_THREADS`` or the number of cores this process may run on."""
    raw = os.environ.get(THREADS_VAR, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)
