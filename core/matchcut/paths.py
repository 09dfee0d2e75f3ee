"""Paths written on another machine, and the show's rules that map them onto this one.

A timeline exported on Windows names ``S:\\show\\sh010\\sh010.1001.exr`` or ``\\\\server\\show\\...``; FCP XML
writes ``file://localhost/D%3a/media/x.mov``; a Mac writes ``/Volumes/show/...``. ``written_path`` turns any of
them into one plain form, ``PathMap`` applies the mapping rules (``S:\\show=/mnt/show``) and ``local_path``
says where the file is on this machine, or why it cannot be. The CLI (``--map``, ``--map-file``), the
environment (``MATCHCUT_PATH_MAP``), every timeline reader and the farm use these same rules.

Rules: ``FROM=TO`` (the first ``=`` splits), one per line in a file (a line starting with ``#`` is a comment),
newline- or ``;``-separated in the environment variable (not ``os.pathsep``: on macOS and Linux that is ``:``,
which every drive letter has). FROM must be absolute. Windows paths (drive letters, UNC shares) match without regard to
case or slash kind; others match exactly. A rule matches whole folders (``S:\\show`` does not match
``S:\\showreel``), and when several match, the longest FROM wins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from matchcut.errors import InputError, SettingError
from matchcut.settings import PATH_MAP_VAR

_DRIVE = re.compile(r"^[A-Za-z]:([\\/]|$)")
_UNC = re.compile(r"^(\\\\|//)[^\\/]+[\\/][^\\/]+")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


@dataclass(frozen=True)
class PathRule:
    """One mapping rule: paths under ``source`` live under ``target`` here. ``origin`` says where it was given."""

    source: str
    target: str
    origin: str = "--map"

    @property
    def text(self) -> str:
        return f"{self.source}={self.target}"


@dataclass(frozen=True)
class Mapped:
    """A path a rule mapped: the result, the rule, and the shorter rules that matched too (the longest wins)."""

    path: str
    written: str
    rule: PathRule
    shadowed: tuple[PathRule, ...] = ()


@dataclass(frozen=True)
class LocalPath:
    """Where a written path is on this machine: ``path`` ("" when it cannot be; ``problem`` says why)."""

    path: str
    written: str
    mapped: Mapped | None = None
    problem: str = ""


def is_windows_path(text: str) -> bool:
    """A drive-letter (``S:\\x``, ``s:/x``) or UNC (``\\\\server\\share``, ``//server/share``) path."""
    return bool(_DRIVE.match(text) or _UNC.match(text))


def is_foreign(text: str) -> bool:
    """An absolute path written for another kind of machine: Windows on macOS/Linux, a rooted POSIX path on Windows."""
    if os.name == "nt":
        return text.startswith("/") and not _UNC.match(text)
    return is_windows_path(text)


def written_path(text: str) -> str:
    """A path as an editor writes it, in one plain form: ``file://`` URLs decoded, everything else as is.

    ``file://localhost/D%3a/media/x.mov`` and ``file:///D:/media/x.mov`` -> ``D:/media/x.mov``;
    ``file://server/share/x`` -> ``//server/share/x`` (UNC); ``file:///mnt/x`` -> ``/mnt/x``. Other URLs
    (``http://``) are returned unchanged; ``local_path`` refuses them.
    """
    if not text.lower().startswith("file:"):
        return text
    parsed = urlparse(text)
    host, path = unquote(parsed.netloc), unquote(parsed.path)
    if re.match(r"^[A-Za-z]:$", host):  # file://D:/x, written by some tools
        return host + path
    if re.match(r"^/[A-Za-z]:([\\/]|$)", path):  # /D:/x: a drive letter behind the URL's root
        path = path[1:]
    if host and host.lower() != "localhost" and not _DRIVE.match(path):
        return f"//{host}{path}"
    return path


def _components(text: str) -> tuple[str, list[str]]:
    """An absolute path's root ("/", "//" for UNC, "" before a drive letter) and its components as written."""
    norm = text.replace("\\", "/")
    head = "//" if is_windows_path(text) and norm.startswith("//") else "/" if norm.startswith("/") else ""
    return head, [p for p in norm.split("/") if p and p != "."]


def _parts(text: str) -> tuple[list[str], bool]:
    """Comparable components of an absolute path, and whether it is a Windows path (compared without case)."""
    windows = is_windows_path(text)
    head, parts = _components(text)
    parts = ([head] if head else []) + parts
    return ([p.casefold() for p in parts] if windows else parts), windows


def _join(target: str, rest: list[str]) -> str:
    """``rest`` under ``target``, with the target's own kind of slash."""
    if not rest:
        return target
    sep = "\\" if "\\" in target and "/" not in target else "/"
    return target.rstrip("\\/") + sep + sep.join(rest) if target.rstrip("\\/") else sep + sep.join(rest)


def example_rule(written: str) -> str:
    """A rule for the top folder of a foreign path, for hints: ``S:\\show\\x.exr`` -> ``S:\\show=/mnt/show``."""
    head, parts = _components(written)
    sep = "\\" if "\\" in written else "/"
    if head == "//":  # \\server\\share
        source, name = sep * 2 + sep.join(parts[:2]), parts[1]
    elif head == "/":  # written on macOS or Linux, read on Windows
        source, name = "/" + "/".join(parts[:2 if len(parts) > 2 else 1]), parts[min(1, len(parts) - 2)]
    else:  # a drive letter, and its top folder when there is one
        source = parts[0] + sep + (parts[1] if len(parts) > 2 else "")
        name = parts[1] if len(parts) > 2 else parts[0].rstrip(":").lower()
    return f"{source}={'/mnt/' + name if os.name != 'nt' else 'S:' + chr(92) + name}"


def parse_rule(text: str, origin: str = "--map") -> PathRule:
    """``FROM=TO`` as a PathRule; SettingError names the rule and its origin when it is not one."""
    source, eq, target = text.strip().partition("=")
    source, target = source.strip(), target.strip()
    if not eq or not source or not target:
        raise SettingError("path map", f"{origin}: rule '{text.strip()}' is not FROM=TO (e.g. 'S:\\show=/mnt/show')")
    if not (is_windows_path(source) or source.startswith("/")):
        raise SettingError("path map", f"{origin}: rule '{text.strip()}': FROM must be an absolute path "
                           "(S:\\..., \\\\server\\share\\... or /...)")
    return PathRule(source, target, origin)


def rules_from_text(text: str, origin: str) -> list[PathRule]:
    """The rules in a text: one per line or ``;``-separated; blank lines and ``#`` comments skipped."""
    rules = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):  # only there: a '#' may be part of a path
            continue
        for piece in line.split(";"):
            if piece.strip():
                rules.append(parse_rule(piece, f"{origin} line {n}" if "\n" in text.strip() else origin))
    return rules


def rules_from_file(path: str | os.PathLike) -> list[PathRule]:
    """The rules in a mapping file (``--map-file``); InputError when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the path map file: {getattr(exc, 'strerror', None) or exc}") from None
    return rules_from_text(text, str(path))


class PathMap:
    """Mapping rules, applied longest-first. Holds no state, so one map serves a whole farm job."""

    def __init__(self, rules: Iterable[PathRule] = ()):
        self.rules: tuple[PathRule, ...] = tuple(rules)
        self._keys = [_parts(r.source) for r in self.rules]

    def __bool__(self) -> bool:
        return bool(self.rules)

    def map(self, written: str) -> Mapped | None:
        """``written`` (plain form, see ``written_path``) under the longest matching rule, or None.

        Rules of equal length: the first given wins (command line, then files, then the environment).
        """
        parts, windows = _parts(written)
        matches = [(len(key), -i, rule) for i, (rule, (key, win)) in enumerate(zip(self.rules, self._keys))
                   if win == windows and parts[:len(key)] == key]
        if not matches:
            return None
        matches.sort(reverse=True)
        head, components = _components(written)
        rest = components[matches[0][0] - (1 if head else 0):]
        return Mapped(_join(matches[0][2].target, rest), written, matches[0][2], tuple(m[2] for m in matches[1:]))


def load_path_map(rules: Iterable[str] = (), files: Iterable[str | os.PathLike] = (),
                  environ: Mapping[str, str] | None = None) -> PathMap:
    """The rules of a run: ``rules`` (``--map``), then ``files`` (``--map-file``), then ``$MATCHCUT_PATH_MAP``."""
    env = os.environ if environ is None else environ
    found = [parse_rule(r, "--map") if isinstance(r, str) else r for r in rules]
    for f in files:
        found += rules_from_file(f)
    found += rules_from_text(env.get(PATH_MAP_VAR, ""), PATH_MAP_VAR)
    return PathMap(found)


def local_path(text: str, base: str | os.PathLike, paths: PathMap | None = None, *, where: str = "") -> LocalPath:
    """Where a path written in a timeline (or a job from another machine) is here.

    Mapping comes first, so a rule can also map a macOS path onto Linux; then a path written for another
    kind of machine is refused (no rule covers it); an absolute path is kept; a relative one joins ``base``
    and may not leave it (``PathEscapeError``). ``problem`` is "" when ``path`` is usable.
    """
    from matchcut.jobs.spec import resolve_job_path

    written = written_path(text.strip())
    if _SCHEME.match(written):
        return LocalPath("", written, problem=f"not a local file ({written.split(':', 1)[0]} URL)")
    mapped = paths.map(written) if paths else None
    path = os.path.expanduser(mapped.path) if mapped else written
    if is_foreign(path):
        kind = "a Windows path" if is_windows_path(path) else "a macOS/Linux path"
        if mapped:
            return LocalPath("", written, mapped, f"{kind} after mapping by '{mapped.rule.text}', not one of this "
                             "machine's")
        return LocalPath("", written, None, f"{kind}, and no path map rule covers it (e.g. --map "
                         f"'{example_rule(path)}')")
    if os.path.isabs(path):
        return LocalPath(path, written, mapped)
    rel = path.replace("\\", "/") if "/" not in path else path  # written on Windows: backslashes separate
    return LocalPath(resolve_job_path(rel, Path(base), where or str(base)), written, mapped)
