"""Timeline files through OpenTimelineIO, and read errors that say what is wrong and what to do.

OpenTimelineIO's own messages name neither the file nor the fix ("unsupported schema version: near line
155", "Frame rate mismatch"); these say which schema is too new for which OpenTimelineIO, which EDL rate
would fit, and mention opentimelineio-plugins only when the adapter for the file's format is missing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from matchcut.errors import InputError, SettingError

#: Frame rates an EDL is commonly cut at, for the hint when its timecodes exceed the rate given.
EDL_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0)
#: Suffixes whose adapter comes with the opentimelineio-plugins package, not with OpenTimelineIO itself.
PLUGIN_SUFFIXES = {"edl": "cmx_3600", "xml": "fcp_xml", "aaf": "AAF", "ale": "ale"}

_TIMECODE = re.compile(r"\b\d{2}:\d{2}:\d{2}[:;](\d{2})\b")
_SCHEMA = re.compile(r'"OTIO_SCHEMA"\s*:\s*"([A-Za-z_][A-Za-z0-9_]*)\.(\d+)"')


def _cannot(path: Path, detail: str) -> InputError:
    return InputError(f"{path}: cannot read as a timeline: {detail}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(exc).__name__


def _otio():
    try:
        import opentimelineio as otio
    except ImportError:
        raise SettingError("timeline", "reading timelines needs the opentimelineio package (pip install "
                           "opentimelineio; EDL and FCP XML also need opentimelineio-plugins)") from None
    return otio


def newer_schemas(text: str) -> list[tuple[str, int, int, int]]:
    """Schemas in an .otio text newer than this OpenTimelineIO reads: (name, version, known version, line)."""
    otio = _otio()
    known = otio.core.type_version_map()
    found: dict[tuple[str, int], tuple[str, int, int, int]] = {}
    for m in _SCHEMA.finditer(text):
        name, version = m.group(1), int(m.group(2))
        if name in known and version > known[name] and (name, version) not in found:
            found[(name, version)] = (name, version, known[name], text.count("\n", 0, m.start()) + 1)
    return sorted(found.values(), key=lambda s: s[3])


def _schema_error(path: Path, otio) -> InputError:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    newer = newer_schemas(text)
    if not newer:
        return _cannot(path, "OpenTimelineIO refuses one of its schema versions; export it again from the editor")
    first = ", ".join(f"{n}.{v} (line {line}) is newer than the {n}.{k}" for n, v, k, line in newer[:3])
    return _cannot(path, f"written by a newer OpenTimelineIO: schema {first} that the installed OpenTimelineIO "
                   f"{otio.__version__} reads; upgrade it (pip install -U opentimelineio opentimelineio-plugins) or "
                   f"export the timeline again for OpenTimelineIO {otio.__version__}")


def _rate_error(path: Path, rate: float, exc: BaseException) -> InputError:
    try:
        frames = [int(m.group(1)) for m in _TIMECODE.finditer(path.read_text(encoding="utf-8", errors="replace"))]
    except OSError:
        frames = []
    highest = max(frames, default=0)
    fits = [r for r in EDL_RATES if round(r) > highest and r > rate]
    which = re.search(r"Timecode '([^']+)'", str(exc))
    tc = f"timecode {which.group(1)}" if which else f"a timecode with frame {highest}"
    hint = f" (e.g. --edl-rate {fits[0]:g})" if fits else ""
    return _cannot(path, f"{tc} counts more frames than {rate:g} fps has; give the rate the EDL was cut at "
                   f"with --edl-rate (job parameter edl_rate){hint}")


def _adapter_missing(path: Path, otio) -> InputError:
    suffix = path.suffix.lower().lstrip(".")
    readable = sorted(otio.adapters.suffixes_with_defined_adapters(read=True))
    if suffix in PLUGIN_SUFFIXES:
        return _cannot(path, f".{suffix} needs OpenTimelineIO's {PLUGIN_SUFFIXES[suffix]} adapter, which is not "
                       "installed (pip install opentimelineio-plugins)")
    return _cannot(path, f"no OpenTimelineIO adapter reads '.{suffix}' files (readable here: "
                   f"{', '.join('.' + s for s in readable)})" if suffix else
                   f"the file has no suffix to say its format (readable here: {', '.join('.' + s for s in readable)})")


def _timelines(collection, otio):
    for item in collection:
        if isinstance(item, otio.schema.Timeline):
            yield item
        elif isinstance(item, otio.schema.SerializableCollection):
            yield from _timelines(item, otio)


def _timeline_in(path: Path, result: Any, otio):
    """The one timeline a file holds; InputError for anything else (a bare clip, several sequences, plain JSON)."""
    if isinstance(result, otio.schema.Timeline):
        return result
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = list(_timelines(result, otio))
        if len(timelines) == 1:
            return timelines[0]
        if timelines:
            names = ", ".join(repr(t.name) for t in timelines[:5]) + (" …" if len(timelines) > 5 else "")
            raise _cannot(path, f"it holds {len(timelines)} timelines ({names}); export the one to check on its own")
        raise _cannot(path, "it is a collection with no timeline in it")
    if isinstance(result, otio.core.SerializableObject):
        kind = result.schema_name()
        if kind == "UnknownSchema":
            kind = f"'{result.original_schema_name}' object (a schema this OpenTimelineIO does not know)"
        raise _cannot(path, f"it holds an OpenTimelineIO {kind}, not a timeline")
    raise _cannot(path, "it is JSON but not OpenTimelineIO (no OTIO_SCHEMA at its top)")


def open_timeline(path: str | os.PathLike, *, rate: float = 24.0):
    """The OpenTimelineIO Timeline in ``path`` (.otio, .edl, FCP .xml, or any format an adapter reads).

    ``rate``: frames per second of an EDL's timecodes (an EDL does not say). Raises SettingError when
    OpenTimelineIO is missing, InputError (one line, naming the file and the fix) when the file cannot be read.
    """
    otio = _otio()
    path = Path(path)
    if not path.is_file():
        raise _cannot(path, "no such file" if not path.exists() else "not a file")
    suffix = path.suffix.lower()
    try:
        result = otio.adapters.read_from_file(str(path), **({"rate": rate} if suffix == ".edl" else {}))
    except otio.exceptions.NoKnownAdapterForExtensionError:
        raise _adapter_missing(path, otio) from None
    except Exception as exc:  # OTIO raises its own types per adapter; the message says which case it is
        message = str(exc)
        if type(exc).__name__ == "UnsupportedSchemaError":
            raise _schema_error(path, otio) from None
        if suffix == ".edl" and "Frame rate mismatch" in message:
            raise _rate_error(path, rate, exc) from None
        if "JSON parse error" in message:
            detail = re.sub(r"^JSON parse error while reading: JSON parse error on input string: ", "", message)
            raise _cannot(path, f"not JSON, so not an .otio file ({' '.join(detail.split())})") from None
        if suffix == ".xml" and ("No top-level sequences" in message or type(exc).__name__ == "ParseError"):
            what = "no <sequence> at its top level" if "sequences" in message else _first_line(exc)
            raise _cannot(path, f"not a Final Cut Pro 7 XML sequence ({what})") from None
        if suffix == ".edl":
            raise _cannot(path, f"not a CMX 3600 EDL OpenTimelineIO can parse ({_first_line(exc)})") from None
        raise _cannot(path, _first_line(exc)) from None
    return _timeline_in(path, result, otio)
