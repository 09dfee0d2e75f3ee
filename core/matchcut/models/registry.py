"""The model search path: find manifests in $MATCHCUT_MODEL_PATH, the user model cache and the built-ins."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from matchcut import settings
from matchcut.errors import ChecksumError, ManifestError, ModelError, ModelNotFoundError, PathEscapeError
from matchcut.models.manifest import ModelManifest, load_manifest, sha256_file

#: Models shipped inside the package; searched last.
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"


@dataclass
class ScanResult:
    """What a scan of the search path found.

    ``models``: the usable manifests, first id wins, in search order. ``problems``: manifests that could not
    be read (each skipped, never fatal for the others). ``notes``: information such as a shadowed id or a
    folder in $MATCHCUT_MODEL_PATH that does not exist. ``searched``: the folders, in order.
    """

    models: list[ModelManifest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    searched: list[Path] = field(default_factory=list)


def search_paths() -> list[Path]:
    """The folders searched for models, in order: ``$MATCHCUT_MODEL_PATH``, the user model cache, built-ins."""
    paths: list[Path] = []
    seen: set[str] = set()
    for folder in [*settings.extra_model_paths(), settings.model_cache_dir(), BUILTIN_DIR]:
        key = os.path.normcase(os.path.abspath(folder))
        if key not in seen:  # the same folder twice would only shadow itself
            seen.add(key)
            paths.append(folder)
    return paths


def _candidates(folder: Path) -> list[Path]:
    """``*.toml`` in the folder and one level of subfolders (the zoo installs one subfolder per model).

    Hidden names are skipped: temporary files and an install still in progress live under dot-names.
    """
    found = sorted(p for p in folder.glob("*.toml") if not p.name.startswith("."))
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found.extend(sorted(p for p in sub.glob("*.toml") if not p.name.startswith(".")))
    return [p for p in found if p.is_file()]


def scan() -> ScanResult:
    """Read every manifest on the search path; broken ones go to ``problems``, shadowed ids to ``notes``."""
    result = ScanResult(searched=search_paths())
    extra = {os.path.abspath(p) for p in settings.extra_model_paths()}
    first: dict[str, ModelManifest] = {}
    for folder in result.searched:
        if not folder.is_dir():
            if os.path.abspath(folder) in extra:
                result.notes.append(f"{folder}: folder named in ${settings.MODEL_PATH_VAR} does not exist")
            continue
        try:
            candidates = _candidates(folder)
        except OSError as exc:
            result.problems.append(f"{folder}: cannot list model folder: {exc.strerror or exc}")
            continue
        for path in candidates:
            try:
                m = load_manifest(path)
            except (ManifestError, PathEscapeError) as exc:
                result.problems.append(str(exc))
                continue
            if m.id in first:
                result.notes.append(f"{path}: model '{m.id}' is shadowed by {first[m.id].path} (earlier in the search path)")
                continue
            first[m.id] = m
            result.models.append(m)
    return result


def scan_models() -> tuple[list[ModelManifest], list[str]]:
    """All usable models on the search path and the problems met (broken manifests, then notes)."""
    result = scan()
    return result.models, result.problems + [f"note: {n}" for n in result.notes]


def list_models() -> list[ModelManifest]:
    """All usable models on the search path, first id wins, in search order."""
    return scan().models


def model_in_folder(path: Path) -> ModelManifest:
    """The model a folder holds (its one manifest, as `matchcut learn` writes) or the manifest file itself."""
    path = Path(path)
    if path.is_file():
        return load_manifest(path)
    found = [p for p in sorted(path.glob("*.toml")) if not p.name.startswith(".")]
    if len(found) != 1:
        what = "no model manifest (.toml)" if not found else f"{len(found)} manifests ({', '.join(p.name for p in found)})"
        raise ModelError(f"{path}: the folder holds {what}; expected one model, e.g. a folder `matchcut learn` wrote")
    return load_manifest(found[0])


def find_model(model_id: str) -> ModelManifest:
    """The manifest of ``model_id`` (first on the search path), or of the model in a folder or manifest file
    when ``model_id`` is a path to one; ModelNotFoundError lists what is available."""
    if ("/" in model_id or os.sep in model_id or model_id.endswith(".toml") or Path(model_id).is_dir()) \
            and Path(model_id).exists():
        return model_in_folder(Path(model_id))
    result = scan()
    for m in result.models:
        if m.id == model_id:
            return m
    raise ModelNotFoundError(model_id, [m.id for m in result.models], [str(p) for p in result.searched])


# sha256 of big files, keyed on (path, size, mtime_ns): listing and verifying again need not re-read them
_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def cached_sha256(path: Path) -> str:
    """sha256 of a file, remembered while its path, size and modification time stay the same."""
    st = path.stat()
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        if key in _hash_cache:
            return _hash_cache[key]
    digest = sha256_file(path)
    with _hash_lock:
        _hash_cache[key] = digest
    return digest


def verify_model(m: ModelManifest, *, use_cache: bool = True) -> None:
    """Check that the model's ONNX file and every data file exist and match their sha256.

    The fp16 variant (runtime.fp16_file) is checked too. Raises ModelError ("missing file") naming the file, or ChecksumError naming the file whose bytes differ.
    """
    files = [(m.onnx_path, m.sha256)] + [(m.data_path(d.file), d.sha256) for d in m.data]
    if m.fp16_path is not None:  # the half-precision variant is checked like the model itself
        files.append((m.fp16_path, m.runtime.fp16_sha256))
    for path, expected in files:
        if not path.is_file():
            raise ModelError(f"{path}: missing file of model '{m.id}'")
        actual = cached_sha256(path) if use_cache else sha256_file(path)
        if actual != expected:
            raise ChecksumError(str(path), expected, actual)
    if m.licence_file is not None and not (m.folder / m.licence_file).is_file():
        raise ModelError(f"{m.folder / m.licence_file}: missing licence file of model '{m.id}'")
