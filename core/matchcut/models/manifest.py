"""Model manifests: the TOML sidecar beside each .onnx file; load, validate, dump and write them.

A manifest says what a model is (id, version, task, licence, where it came from), what it eats and
returns (tensor layouts, channels, value ranges, colour spaces), how it may run (size multiple, receptive
field, fixed size, tiling) and which controls a host shows. Every path in it is a relative name inside the
manifest's folder; anything that would leave that folder is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from matchcut.errors import ManifestError, ManifestPathEscapeError, ModelError
from matchcut.models.runtime_info import RuntimeInfo, read_runtime

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Manifest schema versions this Matchcut reads (and the one it writes).
SUPPORTED_SCHEMAS = (1,)
SCHEMA = 1

#: Tasks the built-in tools understand; studio models may declare any other task string.
KNOWN_TASKS = ("image-to-image", "segmentation", "face-detection", "face-landmarks", "interpolation")
LAYOUTS = ("NCHW", "NHWC", "NC", "other")
CONTROL_TYPES = ("float", "int", "bool", "choice", "color", "string")
DTYPES = ("float32", "float16", "float64", "uint8", "int8", "int32", "int64", "bool")

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_KINDS = {"str": (str, "a string"), "int": (int, "an integer"), "float": ((int, float), "a number"),
          "bool": (bool, "true or false"), "list": ((list, tuple), "an array")}  # fmt: skip


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output: its layout, channel names, value range, colour space, dtype and shape.

    ``shape`` holds ``None`` for a dynamic dimension (written as -1 in TOML).
    """

    name: str
    layout: str = "NCHW"
    channels: tuple[str, ...] = ()
    range: tuple[float, float] | None = None
    colorspace: str | None = None
    dtype: str = "float32"
    shape: tuple[int | None, ...] | None = None
    description: str = ""


@dataclass(frozen=True)
class Control:
    """A user-facing parameter a host shows for the model (a knob, a checkbox, a menu, a colour)."""

    name: str
    type: str
    default: Any
    min: float | int | None = None
    max: float | int | None = None
    choices: tuple[str, ...] = ()
    label: str = ""
    help: str = ""
    ui: str = ""  # a hint for hosts (matchcut.tools.description.UI_HINTS); manifests leave it empty
    flag: str = ""  # a tool command's option (cli/commands.py); empty: --<name with dashes> (bools: --x/--no-x)
    cli_help: str = ""  # that option's one-line help where ``help`` (a host's tooltip) is longer


@dataclass(frozen=True)
class SourceInfo:
    """Where the model's weights came from: the pinned package, the member inside it and the converter."""

    package: str | None = None
    package_version: str | None = None
    member: str | None = None
    sha256: str | None = None
    wheel_sha256: str | None = None
    converter: str | None = None


@dataclass(frozen=True)
class DataFile:
    """An extra file the model needs (e.g. a face-mesh tessellation), checked by sha256 like the model."""

    file: str
    sha256: str
    description: str = ""


@dataclass(frozen=True)
class ModelManifest:
    """A model's manifest. ``path`` is the TOML file it was read from (None when built in memory)."""

    id: str
    version: str
    task: str
    file: str
    sha256: str
    licence: str
    description: str = ""
    licence_file: str | None = None
    licence_note: str = ""
    source: SourceInfo = field(default_factory=SourceInfo)
    runtime: RuntimeInfo = field(default_factory=RuntimeInfo)
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    controls: tuple[Control, ...] = ()
    data: tuple[DataFile, ...] = ()
    #: How a model trained by `matchcut learn` was made (frames, steps, losses, held-out PSNR, seed); empty else.
    training: dict[str, Any] = field(default_factory=dict, hash=False)
    path: Path | None = field(default=None, compare=False)

    @property
    def folder(self) -> Path:
        """The folder holding the manifest, the model and its data files."""
        if self.path is None:
            raise ModelError(f"model '{self.id}': manifest was not loaded from a file, so it has no folder")
        return Path(self.path).parent

    @property
    def onnx_path(self) -> Path:
        """The model's ONNX file."""
        return self.folder / self.file

    @property
    def fp16_path(self) -> Path | None:
        """The half-precision variant's ONNX file (runtime.fp16_file), or None when the model has none."""
        return None if self.runtime.fp16_file is None else self.folder / self.runtime.fp16_file

    def data_path(self, name: str) -> Path:
        """The path of the data file listed as ``name`` in the manifest's ``[[data]]``."""
        names = [d.file for d in self.data]
        if name not in names:
            listed = ", ".join(names) if names else "none"
            raise ModelError(f"model '{self.id}': no data file '{name}' in its manifest (listed: {listed})")
        return self.folder / name


# --- reading ---------------------------------------------------------------------------------------


class _Reader:
    """Typed field access with one-line errors naming the manifest and the field."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, detail: str) -> ManifestError:
        return ManifestError(self.where, f"field '{key}': {detail}")

    def table(self, d: Any, key: str) -> dict:
        if not isinstance(d, dict):
            raise self.fail(key, f"expected a table, got {type(d).__name__}")
        return d

    def check_keys(self, d: dict, key: str, known: tuple[str, ...]) -> None:
        unknown = sorted(set(d) - set(known))
        if unknown:
            where = f"in '{key}'" if key else "at top level"
            raise ManifestError(self.where, f"unknown field(s) {', '.join(repr(u) for u in unknown)} {where} (known: {', '.join(known)})")

    def get(self, d: dict, key: str, full: str, kind: str, required: bool = False, default: Any = None) -> Any:
        if key not in d or d[key] is None:
            if required:
                raise ManifestError(self.where, f"missing required field '{full}'")
            return default
        value = d[key]
        types, expected = _KINDS[kind]
        if not isinstance(value, types) or (isinstance(value, bool) and kind != "bool"):
            raise self.fail(full, f"expected {expected}, got {value!r}")
        return float(value) if kind == "float" else list(value) if kind == "list" else value

    def sha(self, d: dict, key: str, full: str, required: bool) -> str | None:
        value = self.get(d, key, full, "str", required)
        if value is not None and not _SHA_RE.fullmatch(value):
            raise self.fail(full, f"expected 64 lowercase hex characters (a sha256), got {value!r}")
        return value

    def local_path(self, value: str, full: str, folder: Path | None) -> str:
        """A relative name inside the manifest's folder; refuses absolute paths, '..' and links out."""
        if not value or "\\" in value or "\x00" in value:
            raise self.fail(full, f"expected a relative file name inside the manifest's folder, got {value!r}")
        pure = PurePosixPath(value)
        folder_text = str(folder) if folder is not None else "the manifest's folder"
        if pure.is_absolute() or re.match(r"^[A-Za-z]:", value) or ".." in pure.parts:
            raise ManifestPathEscapeError(self.where, value, folder_text, full)
        if any(part in ("", ".") for part in value.split("/")):
            raise self.fail(full, f"expected a plain relative name, got {value!r}")
        if folder is not None:
            root = folder.resolve()
            target = (folder / value).resolve()
            if target != root and root not in target.parents:
                raise ManifestPathEscapeError(self.where, value, folder_text, full)
        return value


def _number_pair(r: _Reader, value: Any, full: str) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)
    ):
        raise r.fail(full, f"expected [lo, hi] (two numbers), got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if not lo < hi:
        raise r.fail(full, f"expected lo < hi, got [{lo}, {hi}]")
    return lo, hi


def _str_tuple(r: _Reader, d: dict, key: str, full: str) -> tuple[str, ...]:
    values = r.get(d, key, full, "list", default=[])
    for v in values:
        if not isinstance(v, str) or not v:
            raise r.fail(full, f"expected an array of non-empty strings, got {values!r}")
    return tuple(values)


_TENSOR_KEYS = ("name", "layout", "channels", "range", "colorspace", "dtype", "shape", "description")


def _tensor(r: _Reader, d: Any, full: str) -> TensorSpec:
    d = r.table(d, full)
    r.check_keys(d, full, _TENSOR_KEYS)
    name = r.get(d, "name", f"{full}.name", "str", required=True)
    layout = r.get(d, "layout", f"{full}.layout", "str", default="NCHW")
    if layout not in LAYOUTS:
        raise r.fail(f"{full}.layout", f"expected one of {', '.join(LAYOUTS)}, got {layout!r}")
    dtype = r.get(d, "dtype", f"{full}.dtype", "str", default="float32")
    if dtype not in DTYPES:
        raise r.fail(f"{full}.dtype", f"expected one of {', '.join(DTYPES)}, got {dtype!r}")
    rng = d.get("range")
    shape = r.get(d, "shape", f"{full}.shape", "list")
    if shape is not None:
        dims: list[int | None] = []
        for dim in shape:
            # -1, a symbolic name or None all mean "any size" (TOML has no null)
            if dim is None or isinstance(dim, str) or (isinstance(dim, int) and not isinstance(dim, bool) and dim == -1):
                dims.append(None)
            elif isinstance(dim, int) and not isinstance(dim, bool) and dim > 0:
                dims.append(dim)
            else:
                raise r.fail(f"{full}.shape", f"expected positive integers or -1 for a dynamic dimension, got {shape!r}")
        shape = tuple(dims)
    return TensorSpec(
        name=name,
        layout=layout,
        channels=_str_tuple(r, d, "channels", f"{full}.channels"),
        range=None if rng is None else _number_pair(r, rng, f"{full}.range"),
        colorspace=r.get(d, "colorspace", f"{full}.colorspace", "str"),
        dtype=dtype,
        shape=shape,
        description=r.get(d, "description", f"{full}.description", "str", default=""),
    )


_CONTROL_KEYS = ("name", "type", "default", "min", "max", "choices", "label", "help")
_EXPECTED = {"float": "a number", "int": "an integer", "bool": "true or false", "choice": "one of the choices (a string)",
             "string": "a string", "color": "an array of 3 or 4 numbers"}  # fmt: skip


def _control_value(r: _Reader, ctype: str, value: Any, full: str) -> Any:
    bad = isinstance(value, bool) and ctype != "bool"
    if ctype == "float" and not bad and isinstance(value, (int, float)):
        return float(value)
    if ctype == "int" and not bad and isinstance(value, int):
        return value
    if ctype == "bool" and isinstance(value, bool):
        return value
    if ctype in ("choice", "string") and isinstance(value, str):
        return value
    if ctype == "color" and isinstance(value, (list, tuple)) and len(value) in (3, 4):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return tuple(float(v) for v in value)
    expected = _EXPECTED[ctype]
    raise r.fail(full, f"expected {expected} for a '{ctype}' control, got {value!r}")


def _control(r: _Reader, d: Any, full: str) -> Control:
    d = r.table(d, full)
    r.check_keys(d, full, _CONTROL_KEYS)
    name = r.get(d, "name", f"{full}.name", "str", required=True)
    ctype = r.get(d, "type", f"{full}.type", "str", required=True)
    if ctype not in CONTROL_TYPES:
        raise r.fail(f"{full}.type", f"unknown control type {ctype!r} (known: {', '.join(CONTROL_TYPES)})")
    if "default" not in d:
        raise ManifestError(r.where, f"missing required field '{full}.default'")
    default = _control_value(r, ctype, d["default"], f"{full}.default")
    bounds: dict[str, float | int | None] = {}
    for key in ("min", "max"):
        value = d.get(key)
        if value is not None and ctype not in ("float", "int", "color"):
            raise r.fail(f"{full}.{key}", f"only float, int and color controls have bounds, this one is '{ctype}'")
        if value is not None:
            value = _control_value(r, "int" if ctype == "int" else "float", value, f"{full}.{key}")
        bounds[key] = value
    lo, hi = bounds["min"], bounds["max"]
    if lo is not None and hi is not None and not lo < hi:
        raise r.fail(full, f"expected min < max, got min={lo}, max={hi}")
    choices = _str_tuple(r, d, "choices", f"{full}.choices")
    if ctype == "choice":
        if not choices:
            raise r.fail(f"{full}.choices", "a 'choice' control needs a non-empty array of choices")
        if default not in choices:
            raise r.fail(f"{full}.default", f"{default!r} is not one of the choices ({', '.join(choices)})")
    elif choices:
        raise r.fail(f"{full}.choices", f"only 'choice' controls have choices, this one is '{ctype}'")
    values = default if ctype == "color" else (default,) if ctype in ("float", "int") else ()
    for v in values:
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            shown = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
            raise r.fail(f"{full}.default", f"{d['default']!r} is outside {shown}")
    return Control(
        name=name,
        type=ctype,
        default=default,
        min=lo,
        max=hi,
        choices=choices,
        label=r.get(d, "label", f"{full}.label", "str", default=""),
        help=r.get(d, "help", f"{full}.help", "str", default=""),
    )


_SOURCE_KEYS = ("package", "package_version", "member", "sha256", "wheel_sha256", "converter")
_TOP_KEYS = (
    "schema", "id", "version", "task", "file", "sha256", "licence", "description", "licence_file",
    "licence_note", "source", "runtime", "inputs", "outputs", "controls", "data", "training",
)  # fmt: skip


def _source(r: _Reader, d: Any) -> SourceInfo:
    d = r.table(d, "source")
    r.check_keys(d, "source", _SOURCE_KEYS)
    return SourceInfo(
        package=r.get(d, "package", "source.package", "str"),
        package_version=r.get(d, "package_version", "source.package_version", "str"),
        member=r.get(d, "member", "source.member", "str"),
        sha256=r.sha(d, "sha256", "source.sha256", required=False),
        wheel_sha256=r.sha(d, "wheel_sha256", "source.wheel_sha256", required=False),
        converter=r.get(d, "converter", "source.converter", "str"),
    )


def _unique(r: _Reader, names: list[str], full: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise r.fail(full, f"name {name!r} appears more than once")
        seen.add(name)


def _training(r: _Reader, d: Any) -> dict[str, Any]:
    """The [training] table: plain values only (text, numbers, booleans and arrays of them)."""
    d = r.table(d, "training")
    for key, value in d.items():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int, float, bool)) for v in items):
            raise r.fail(f"training.{key}", f"expected text, a number, true/false or an array of them, got {value!r}")
    return dict(d)


def manifest_from_dict(d: dict, path: str | os.PathLike | None = None, *, require_schema: bool = False) -> ModelManifest:
    """Validate a manifest given as plain dicts/lists (as parsed from TOML) and build a ModelManifest.

    ``path`` is where the manifest lives (or will live): errors name it, and its folder is the one every
    relative path must stay inside (symlinks included). A missing ``schema`` is taken as the current one
    unless ``require_schema`` (files on disk must declare it). Raises ManifestError on anything wrong.
    """
    where = str(path) if path is not None else "<manifest>"
    r = _Reader(where)
    d = r.table(d, "manifest")
    folder = Path(path).parent if path is not None else None
    if "schema" not in d and require_schema:
        raise ManifestError(where, f"missing required field 'schema' (supported: {', '.join(map(str, SUPPORTED_SCHEMAS))})")
    schema = d.get("schema", SCHEMA)
    if isinstance(schema, bool) or schema not in SUPPORTED_SCHEMAS:
        raise r.fail("schema", f"schema {schema!r} is not supported (supported: {', '.join(map(str, SUPPORTED_SCHEMAS))})")
    r.check_keys(d, "", _TOP_KEYS)
    model_id = r.get(d, "id", "id", "str", required=True)
    if not _ID_RE.fullmatch(model_id):
        raise r.fail("id", f"expected letters, digits, '.', '_' or '-' (starting with a letter or digit), got {model_id!r}")
    task = r.get(d, "task", "task", "str", required=True)
    if not task.strip():
        raise r.fail("task", f"expected a task name such as {', '.join(KNOWN_TASKS)}")
    licence_file = r.get(d, "licence_file", "licence_file", "str")
    if licence_file is not None:
        licence_file = r.local_path(licence_file, "licence_file", folder)

    def tables(key: str) -> list:
        return r.get(d, key, key, "list", default=[])

    inputs = tuple(_tensor(r, t, f"inputs[{i}]") for i, t in enumerate(tables("inputs")))
    outputs = tuple(_tensor(r, t, f"outputs[{i}]") for i, t in enumerate(tables("outputs")))
    controls = tuple(_control(r, c, f"controls[{i}]") for i, c in enumerate(tables("controls")))
    data = []
    for i, entry in enumerate(tables("data")):
        full = f"data[{i}]"
        entry = r.table(entry, full)
        r.check_keys(entry, full, ("file", "sha256", "description"))
        name = r.local_path(r.get(entry, "file", f"{full}.file", "str", required=True), f"{full}.file", folder)
        data.append(DataFile(name, r.sha(entry, "sha256", f"{full}.sha256", True), r.get(entry, "description", f"{full}.description", "str", default="")))
    for key, names in (("inputs", [t.name for t in inputs]), ("outputs", [t.name for t in outputs]),
                       ("controls", [c.name for c in controls]), ("data", [f.file for f in data])):  # fmt: skip
        _unique(r, names, key)
    return ModelManifest(
        id=model_id,
        version=r.get(d, "version", "version", "str", required=True),
        task=task,
        file=r.local_path(r.get(d, "file", "file", "str", required=True), "file", folder),
        sha256=r.sha(d, "sha256", "sha256", required=True),
        licence=r.get(d, "licence", "licence", "str", required=True),
        description=r.get(d, "description", "description", "str", default=""),
        licence_file=licence_file,
        licence_note=r.get(d, "licence_note", "licence_note", "str", default=""),
        source=_source(r, d.get("source") or {}),
        runtime=read_runtime(r, d.get("runtime") or {}, folder),
        inputs=inputs,
        outputs=outputs,
        controls=controls,
        data=tuple(data),
        training=_training(r, d.get("training") or {}),
        path=Path(path) if path is not None else None,
    )


def load_manifest(path: str | os.PathLike) -> ModelManifest:
    """Read and validate a manifest TOML file; ManifestError (or its path-escape subclass) on anything wrong."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(str(path), f"cannot read: {exc.strerror if isinstance(exc, OSError) else exc}") from exc
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(str(path), f"not valid TOML: {exc}") from exc
    return manifest_from_dict(d, path, require_schema=True)


# --- writing ---------------------------------------------------------------------------------------


def _plain(obj: Any) -> dict[str, Any]:
    """A manifest dataclass as TOML-ready data: tuples become arrays, None and empty optional fields are left
    out (a control's ``default`` always stays), a dynamic shape dimension becomes -1."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if f.name == "path" or (f.name != "default" and (v is None or (not isinstance(v, bool) and v in ("", (), {})))):
            continue
        if f.name == "shape":
            v = [-1 if dim is None else dim for dim in v]
        elif dataclasses.is_dataclass(v):
            v = _plain(v)
        elif isinstance(v, tuple):
            v = [_plain(x) if dataclasses.is_dataclass(x) else list(x) if isinstance(x, tuple) else x for x in v]
        if v != {}:  # an all-default [source] table is left out too
            out[f.name] = dict(v) if isinstance(v, dict) else v
    return out


def manifest_to_dict(m: ModelManifest) -> dict:
    """The manifest as plain dicts/lists in TOML table order (None and empty optional fields left out)."""
    d = {"schema": SCHEMA, **_plain(m)}
    d["runtime"] = _plain(m.runtime)  # always written: it documents the defaults
    return d


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_str(s: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    return '"' + "".join(_ESCAPES.get(ch) or (f"\\u{ord(ch):04X}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch) for ch in s) + '"'


def _toml_key(k: str) -> str:
    return k if _BARE_KEY.fullmatch(k) else _toml_str(k)


def _toml_value(v: Any, where: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)  # always has '.' or an exponent, so TOML reads it back as a float
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x, where) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x, where)}" for k, x in v.items() if x is not None) + "}"
    raise ManifestError(where, f"cannot write a value of type {type(v).__name__} to TOML")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def _write_table(lines: list[str], table: dict, prefix: tuple[str, ...], where: str) -> None:
    # scalars and inline arrays first: they belong to the header above them
    for k, v in table.items():
        if v is None or isinstance(v, dict) or _is_table_array(v):
            continue
        lines.append(f"{_toml_key(k)} = {_toml_value(v, where)}")
    for k, v in table.items():
        if isinstance(v, dict):
            name = ".".join(_toml_key(p) for p in (*prefix, k))
            lines.extend(["", f"[{name}]"])
            _write_table(lines, v, (*prefix, k), where)
    for k, v in table.items():
        if _is_table_array(v):
            name = ".".join(_toml_key(p) for p in (*prefix, k))
            for item in v:
                lines.extend(["", f"[[{name}]]"])
                _write_table(lines, item, (*prefix, k), where)


def dump_toml(d: dict, where: str = "<toml>") -> str:
    """TOML text for plain data: str, int, float, bool, arrays, tables and arrays of tables (None is left out)."""
    lines: list[str] = []
    _write_table(lines, d, (), where)
    return "\n".join(lines).lstrip("\n") + "\n"


def dump_manifest(m: ModelManifest) -> str:
    """The manifest as TOML text that ``load_manifest`` reads back to an equal manifest."""
    return dump_toml(manifest_to_dict(m), str(m.path) if m.path else f"<manifest {m.id}>")


def write_manifest(m: ModelManifest, path: str | os.PathLike) -> Path:
    """Write the manifest to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    text = dump_manifest(m)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        # mkstemp creates 0600; a manifest is shared, readable data like any file the user writes.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, as 64 lowercase hex characters."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
