"""The host adapters' files: where they are, and each adapter assembled with its copy of the worker client.

An adapter as a host loads it is its own folder (``hosts/nuke``, ``hosts/resolve``, ``hosts/blender``) with the
shared client (``hosts/common/client``) copied in as a subpackage of the adapter's package; the installers,
`matchcut hosts build` and the Blender extension all take their files from ``assemble``. Plain files only:
nothing here imports a host.

Where the adapters come from: an installed wheel carries them as package data in ``matchcut/_adapters/`` (the
same tree as the checkout's ``hosts/``, copied in at build time by ``setup.py``); an editable install or a
checkout uses ``hosts/`` beside ``core/``. Each installed adapter carries a record (``RECORD``: the Matchcut
version and worker it was installed from) that the client compares with the worker it talks to.
"""

from __future__ import annotations

from pathlib import Path

from matchcut.errors import SettingError

#: Host -> the folder (under hosts/) and the package inside it that carries the client ("": the folder is it).
ADAPTERS = {"nuke": ("nuke", "matchcut_nuke"), "resolve": ("resolve", "matchcut_resolve"), "blender": ("blender", "")}
CLIENT = ("common", "client")
#: What an adapter ships: code, the Lua stubs, Blender's manifest.
SUFFIXES = (".py", ".lua", ".toml")


#: The package-data folder (inside the matchcut package) that a wheel carries the adapters in.
PACKAGED = "_adapters"
#: The record each installed adapter carries (client.tools.installed_record reads it), and where it sits in
#: each adapter as assembled: beside the package that reads it.
RECORD = "matchcut_installed.json"
RECORD_PATHS = {"nuke": f"matchcut_nuke/{RECORD}", "resolve": f"matchcut_resolve/{RECORD}", "blender": RECORD}


def hosts_roots() -> list[Path]:
    """Where adapters may be, in order: the installed package's data (a wheel), then the checkout's hosts/."""
    import matchcut

    package = Path(matchcut.__file__).resolve().parent
    return [package / PACKAGED, package.parents[1] / "hosts"]


def hosts_root() -> Path:
    """The adapters' root: the wheel's ``matchcut/_adapters``, else hosts/ of the checkout this package runs
    from (an editable install); SettingError naming both when neither holds them."""
    roots = hosts_roots()
    for root in roots:
        if (root.joinpath(*CLIENT) / "__init__.py").is_file():
            return root
    raise SettingError("--source", f"no host adapters in {roots[0]} (an installed wheel) nor {roots[1]} (a "
                       f"checkout): expected {'/'.join(CLIENT)}/__init__.py; reinstall matchcut")


def _check(host: str) -> None:
    if host not in ADAPTERS:
        raise SettingError("HOST", f"unknown host '{host}'", tuple(ADAPTERS))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts}


def assemble(host: str, root: Path | None = None) -> dict[str, bytes]:
    """Every file of ``host``'s adapter as the host loads it: relative path -> content, the client inside."""
    _check(host)
    root = root or hosts_root()
    folder, package = ADAPTERS[host]
    files = _files(root / folder)
    into = f"{package}/client" if package else "client"
    files.update({f"{into}/{rel}": data for rel, data in _files(root.joinpath(*CLIENT)).items()})
    return files


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file in the same folder, then os.replace. The file
    keeps the mode it had (an artist's init.py), else gets the usual one for a new file (0o666 less the umask:
    readable by the studio, unlike the temporary file's 0o600)."""
    import os
    import stat
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tree(files: dict[str, bytes], dest: Path) -> list[Path]:
    """Write ``files`` under ``dest`` (each atomically); returns the paths written."""
    written = []
    for rel, data in files.items():
        path = dest.joinpath(*rel.split("/"))
        write_atomic(path, data)
        written.append(path)
    return written


# --- the installed-version record -------------------------------------------------------------------------

def make_record(host: str, worker: str, previous: bytes | None = None, **extra: object) -> bytes:
    """The record an installed adapter carries: host, this Matchcut's version, the worker it runs and when it was
    installed (plus ``extra`` fields). The ``previous`` record is kept as it is when it says the same (so a
    repeated install changes nothing, its date included)."""
    import json
    from datetime import datetime, timezone

    from matchcut import __version__

    _check(host)
    data = {"matchcut_installed": 1, "host": host, "version": __version__, "worker": str(worker), **extra}
    old = read_record(previous)
    if old is not None and {k: old.get(k) for k in data} == data and isinstance(old.get("installed"), str):
        data["installed"] = old["installed"]
    else:
        data["installed"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def read_record(data: bytes | Path | None) -> dict | None:
    """A record (its bytes, or its file) as a dict; None when absent or not a Matchcut record."""
    import json

    if isinstance(data, Path):
        try:
            data = data.read_bytes()
        except OSError:
            return None
    if not data:
        return None
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("matchcut_installed") == 1 else None


def with_record(host: str, files: dict[str, bytes], worker: str, previous: bytes | None = None,
                **extra: object) -> dict[str, bytes]:
    """``files`` (an assembled adapter) with its record added at ``RECORD_PATHS[host]``."""
    return {**files, RECORD_PATHS[host]: make_record(host, worker, previous, **extra)}


# --- the Blender extension ---------------------------------------------------------------------------------

def extension_version(files: dict[str, bytes]) -> str:
    """The extension's version from its ``blender_manifest.toml`` (what names the zip)."""
    import re

    manifest = files.get("blender_manifest.toml", b"").decode("utf-8")
    found = re.search(r'^version\s*=\s*"([^"]+)"', manifest, re.M)
    if not found:
        raise SettingError("blender_manifest.toml", "no version = \"...\" line in the Blender adapter's manifest")
    return found.group(1)


def extension_zip(files: dict[str, bytes]) -> bytes:
    """The Blender extension as Install from Disk (or ``blender --command extension install-file``) takes it:
    the add-on's files at the zip's root, as Blender's own ``extension build`` lays them out; byte-for-byte the
    same for the same files (fixed dates, sorted)."""
    import io
    import zipfile

    if "blender_manifest.toml" not in files:
        raise SettingError("blender_manifest.toml", "not the Blender adapter (no blender_manifest.toml)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in sorted(files):
            info = zipfile.ZipInfo(rel, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[rel])
    return buffer.getvalue()


def zip_files(data: bytes) -> dict[str, bytes]:
    """The files of a zip (an extension written earlier); {} when it is not a zip."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}
