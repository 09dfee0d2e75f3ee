"""Every environment variable Matchcut reads, its default and its meaning, in one place."""

from __future__ import annotations

import os
from pathlib import Path

#: Extra folders of models (``*.toml`` manifests beside ``*.onnx`` files), ``os.pathsep``-separated, searched first.
MODEL_PATH_VAR = "MATCHCUT_MODEL_PATH"
#: Root of Matchcut's per-user cache (model zoo, TensorRT engines, host render caches).
CACHE_DIR_VAR = "MATCHCUT_CACHE_DIR"
#: Set to 1 for full tracebacks from the CLI.
DEBUG_VAR = "MATCHCUT_DEBUG"
#: Threads for OpenImageIO and onnxruntime on the CPU (default: all cores).
THREADS_VAR = "MATCHCUT_THREADS"
#: Training steps for the project's own degrain-small model when `models install` builds it (default 700).
DEGRAIN_STEPS_VAR = "MATCHCUT_DEGRAIN_STEPS"
#: Path mapping rules (``S:\\show=/mnt/show``), newline- or ``;``-separated, applied after ``--map`` and
#: ``--map-file`` rules wherever a path written on another machine is read (matchcut.paths).
PATH_MAP_VAR = "MATCHCUT_PATH_MAP"
#: OpenColorIO's own variable: a config path; when unset the built-in ACES studio config is used.
OCIO_VAR = "OCIO"


def cache_dir() -> Path:
    """Matchcut's per-user cache root: ``$MATCHCUT_CACHE_DIR``, else ``$XDG_CACHE_HOME/matchcut``, else ``~/.cache/matchcut``."""
    if os.environ.get(CACHE_DIR_VAR):
        return Path(os.environ[CACHE_DIR_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "matchcut"


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
