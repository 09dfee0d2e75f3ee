"""The host adapters' files: where they are, and each adapter assembled with its copy of the worker client.

An adapter as a host loads it is its own folder (``hosts/nuke``, ``hosts/resolve``, ``hosts/blender``) with the
shared client (``hosts/common/client``) copied in as a subpackage of the adapter's package; the installers,
`matchcut hosts build` and the Blender extension all take their files from ``assemble``. Plain files only:
nothing here imports a host.
"""

from __future__ import annotations

from pathlib import Path

from matchcut.errors import SettingError

#: Host -> the folder (under hosts/) and the package inside it that carries the client ("": the folder is it).
ADAPTERS = {"nuke": ("nuke", "matchcut_nuke"), "resolve": ("resolve", "matchcut_resolve"), "blender": ("blender", "")}
CLIENT = ("common", "client")
#: What an adapter ships: code, the Lua stubs, Blender's manifest.
SUFFIXES = (".py", ".lua", ".toml")


def hosts_root() -> Path:
    """hosts/ of the checkout this package runs from."""
    import matchcut

    root = Path(matchcut.__file__).resolve().parents[2] / "hosts"
    if not (root.joinpath(*CLIENT) / "__init__.py").is_file():
        raise SettingError("--source", f"{root}: no host adapters here (expected {'/'.join(CLIENT)}/__init__.py)")
    return root


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
    """Write ``data`` to ``path`` through a hidden temporary file in the same folder, then os.replace."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
