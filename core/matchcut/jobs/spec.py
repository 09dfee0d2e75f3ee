"""JobSpec: the versioned JSON file that says which tool runs on which plates, frames and settings.

Paths: a relative input or output pattern resolves against ``base_dir`` (the job file's folder) and must stay
inside it: no ``..`` component and no symlinked folder that leads out (``PathEscapeError``). Absolute paths
are allowed as they are, because hosts write absolute paths for plates that live on the show's storage.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from matchcut.errors import FrameRangeError, JobError, PathEscapeError, SettingError

#: The JSON key that carries the spec version, and the versions this Matchcut reads.
VERSION_KEY = "matchcut_job"
SUPPORTED_VERSIONS = (1,)
#: Every top-level key of a version-1 job.
KNOWN_KEYS = (VERSION_KEY, "tool", "inputs", "outputs", "frames", "handles", "params", "device", "output_options",
              "nonfinite")
#: Keys of ``output_options`` and their allowed values (None: any string).
OUTPUT_OPTIONS = {"dtype": ("half", "float"), "compression": None}
#: What the runner does with NaN/Inf input pixels (the job's ``nonfinite``): stop, naming file and frame, or
#: replace them with 0 and warn.
NONFINITE_POLICIES = ("error", "fix")


@dataclass
class JobSpec:
    """One job: ``tool`` reads ``inputs`` and writes ``outputs`` for ``frames`` (plus ``handles``).

    ``inputs``/``outputs`` map a name the tool knows (``plate``, ``main``) to a pattern as written in the job
    (``plates/sh010.####.exr``); ``input_path``/``output_path`` give the resolved, checked pattern.
    ``frames`` None means every frame of the first input on disk. ``handles`` extends an explicit frame range
    by that many frames before and after. ``device`` is a ``matchcut.runtime.DeviceOptions``. ``nonfinite``
    is the runner's own setting, not a tool parameter: what to do with NaN/Inf input pixels ("error" or "fix").
    """

    tool: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    frames: list[int] | None = None
    handles: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    device: Any = None
    output_options: dict[str, Any] = field(default_factory=lambda: {"dtype": "half", "compression": None})
    nonfinite: str = "error"
    base_dir: Path = field(default_factory=Path.cwd)
    version: int = 1
    #: How messages name this job: the job file's name, or "job" for one built in memory.
    where: str = "job"

    def __post_init__(self) -> None:
        if self.device is None or isinstance(self.device, dict):
            self.device = _device(self.device or {}, self.where)

    def input_path(self, name: str) -> str:
        """The absolute pattern of input ``name`` (checked against ``base_dir``)."""
        return resolve_job_path(self.inputs[name], self.base_dir, f"{self.where}: 'inputs.{name}'")

    def output_path(self, name: str) -> str:
        """The absolute pattern of output ``name`` (checked against ``base_dir``)."""
        return resolve_job_path(self.outputs[name], self.base_dir, f"{self.where}: 'outputs.{name}'")

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON-ready data (paths as written; ``base_dir`` is where the file lives, not in it)."""
        from matchcut.frames.ranges import format_frames

        return {
            VERSION_KEY: self.version,
            "tool": self.tool,
            "inputs": dict(self.inputs),
            "outputs": dict(self.outputs),
            "frames": format_frames(self.frames) if self.frames is not None else None,
            "handles": self.handles,
            "params": dict(self.params),
            "device": self.device.to_dict(),
            "output_options": dict(self.output_options),
            "nonfinite": self.nonfinite,
        }

    def with_params(self, **params: Any) -> JobSpec:
        """A copy with some parameters replaced."""
        return replace(self, params={**self.params, **params})


def resolve_job_path(pattern: str, base_dir: Path, where: str) -> str:
    """Resolve a job path pattern: absolute stays as is; relative joins ``base_dir`` and must stay inside it.

    The pattern's frame token (``####``) is in the file name, so the check resolves symlinks of the folders
    on the way; a relative path with ``..`` or through a symlinked folder that leaves ``base_dir`` raises
    ``PathEscapeError``.
    """
    text = os.fspath(pattern)
    path = Path(text).expanduser()
    if path.is_absolute():
        return str(path)
    base = Path(base_dir).resolve()
    if ".." in path.parts:
        raise PathEscapeError(text, str(base), where)
    joined = base / path
    if not joined.parent.resolve().is_relative_to(base) or not joined.resolve().is_relative_to(base):
        raise PathEscapeError(text, str(base), where)
    return str(joined)


def _device(value: Any, where: str) -> Any:
    from matchcut.runtime.backends import DeviceOptions  # local: keeps matchcut.jobs import-light

    if isinstance(value, DeviceOptions):
        return value
    if not isinstance(value, dict):
        raise JobError(f"{where}: 'device'", f"expected an object like {{\"provider\": \"auto\"}}, got {value!r}")
    try:
        return DeviceOptions.from_dict(value)
    except SettingError as exc:
        raise JobError(f"{where}: 'device'", str(exc)) from None


def _frames(value: Any, where: str) -> list[int] | None:
    from matchcut.frames.ranges import parse_frames

    expected = "expected a range like 1001-1100"
    if value is None:
        return None
    if isinstance(value, str):
        try:
            frames = parse_frames(value)
        except FrameRangeError:
            raise JobError(f"{where}: 'frames'", f"{expected}, got {value!r}") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        frames = [value]
    elif isinstance(value, list) and all(isinstance(f, int) and not isinstance(f, bool) for f in value):
        frames = sorted(set(value))
    else:
        raise JobError(f"{where}: 'frames'", f"{expected} or a list of frame numbers, got {value!r}")
    if not frames:
        raise JobError(f"{where}: 'frames'", f"{expected}, got an empty range")
    return frames


def _names(value: Any, key: str, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise JobError(f"{where}: '{key}'", f"expected an object of name -> path pattern, got {value!r}")
    for name, pattern in value.items():
        if not isinstance(pattern, str) or not pattern.strip():
            raise JobError(f"{where}: '{key}.{name}'", f"expected a path pattern string, got {pattern!r}")
    return {str(k): v for k, v in value.items()}


def _output_options(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise JobError(f"{where}: 'output_options'", f"expected an object, got {value!r}")
    unknown = sorted(set(value) - set(OUTPUT_OPTIONS))
    if unknown:
        raise JobError(f"{where}: 'output_options'", f"unknown key(s) {', '.join(unknown)} (known: {', '.join(OUTPUT_OPTIONS)})")
    options = {"dtype": value.get("dtype", "half"), "compression": value.get("compression")}
    if options["dtype"] not in OUTPUT_OPTIONS["dtype"]:
        raise JobError(f"{where}: 'output_options.dtype'", f"expected one of half, float, got {options['dtype']!r}")
    if options["compression"] is not None and not isinstance(options["compression"], str):
        raise JobError(f"{where}: 'output_options.compression'", f"expected a compression name or null, got {options['compression']!r}")
    return options


def _nonfinite(data: dict, legacy: Any, where: str) -> str:
    """The job's ``nonfinite``; ``params.nonfinite`` (where older jobs and host adapters put it) reads the same."""
    expected = f"expected one of {', '.join(NONFINITE_POLICIES)}"
    if legacy is not None and legacy not in NONFINITE_POLICIES:
        raise JobError(f"{where}: 'params.nonfinite'", f"{expected}, got {legacy!r}")
    value = data.get("nonfinite")
    if value is None:
        return legacy or "error"
    if value not in NONFINITE_POLICIES:
        raise JobError(f"{where}: 'nonfinite'", f"{expected}, got {value!r}")
    if legacy is not None and legacy != value:
        raise JobError(f"{where}: 'nonfinite'", f"is {value!r} but 'params.nonfinite' is {legacy!r}; give it once")
    return value


def job_from_dict(data: Any, base_dir: str | os.PathLike, *, where: str = "job") -> JobSpec:
    """Validate parsed job JSON and build a JobSpec; every problem is a JobError naming ``where`` and the field."""
    if not isinstance(data, dict):
        raise JobError(where, f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise JobError(where, f"unknown key(s) {', '.join(repr(k) for k in unknown)} (known: {', '.join(KNOWN_KEYS)})")
    supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
    if VERSION_KEY not in data:
        raise JobError(where, f"missing '{VERSION_KEY}' (the job spec version; supported: {supported})")
    version = data[VERSION_KEY]
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        raise JobError(f"{where}: '{VERSION_KEY}'", f"version {version!r} is not supported (supported: {supported})")
    tool = data.get("tool")
    if not isinstance(tool, str) or not tool.strip():
        raise JobError(f"{where}: 'tool'", f"expected a tool name such as \"apply\", got {tool!r}")
    handles = data.get("handles", 0)
    if not isinstance(handles, int) or isinstance(handles, bool) or handles < 0:
        raise JobError(f"{where}: 'handles'", f"expected a whole number >= 0, got {handles!r}")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise JobError(f"{where}: 'params'", f"expected an object, got {params!r}")
    params = dict(params)
    nonfinite = _nonfinite(data, params.pop("nonfinite", None), where)
    spec = JobSpec(
        tool=tool.strip(),
        inputs=_names(data.get("inputs"), "inputs", where),
        outputs=_names(data.get("outputs"), "outputs", where),
        frames=_frames(data.get("frames"), where),
        handles=handles,
        params=params,
        device=_device(data.get("device") or {}, where),
        output_options=_output_options(data.get("output_options"), where),
        nonfinite=nonfinite,
        base_dir=Path(base_dir).resolve(),
        version=version,
        where=where,
    )
    for name in spec.inputs:  # check every path now, so a bad job fails before any work
        spec.input_path(name)
    for name in spec.outputs:
        spec.output_path(name)
    return spec


def load_job(path: str | os.PathLike) -> JobSpec:
    """Read and validate a job file; relative paths in it resolve against the file's folder."""
    path = Path(path)
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JobError(str(path), "no such job file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JobError(str(path), f"cannot read the job file: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JobError(where, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    return job_from_dict(data, path.parent, where=where)


def save_job(spec: JobSpec, path: str | os.PathLike) -> Path:
    """Write the job as JSON atomically (a temporary file in the same folder, then ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(spec.to_dict(), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
