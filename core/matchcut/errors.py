"""The exception tree: one root, narrow subclasses whose messages say what and where.

Every message is one line a user can act on: the file, frame or setting at fault, what was expected and,
where there is a choice, what is available. The CLI prints ``str(error)`` and exits with ``exit_code``.
"""

from __future__ import annotations

from collections.abc import Iterable


class MatchcutError(Exception):
    """Root of every error Matchcut raises on purpose."""

    exit_code = 1


def _available(items: Iterable[str]) -> str:
    items = sorted(items)
    return ", ".join(items) if items else "none"


# --- input: plates, sequences, settings the user gave ------------------------------------------------


class InputError(MatchcutError):
    """Bad input from the user: a file, frame, pattern, range or setting."""

    exit_code = 3


class SequencePatternError(InputError):
    """A path pattern that names no frames (`plate.####.exr`, `%04d`, `@@@@`, `$F4`)."""


class FrameRangeError(InputError):
    """A frame range string that does not parse, or asks for frames the sequence does not have."""


class MissingFramesError(InputError):
    """Frames a job needs are not on disk."""

    def __init__(self, pattern: str, frames: list[int], listed: str | None = None):
        """`listed` is the frames written compactly (frames.ranges.format_frames); errors imports nothing of ours."""
        self.pattern = pattern
        self.frames = list(frames)
        if listed is None:
            listed = ", ".join(str(f) for f in self.frames[:20]) + (" …" if len(self.frames) > 20 else "")
        super().__init__(f"{pattern}: missing frame(s) {listed}")


class FrameReadError(InputError):
    """A file that could not be read as an image (missing, truncated, corrupt, unsupported)."""

    def __init__(self, path: str, detail: str):
        self.path, self.detail = str(path), detail
        super().__init__(f"{path}: cannot read: {detail}")


class PixelValueError(InputError):
    """NaN or Inf pixels in a plate."""


class ShapeMismatchError(InputError):
    """Inputs whose resolutions or channel counts do not fit together."""


class SettingError(InputError):
    """A parameter, option or light spec that is not valid; lists the valid choices."""

    def __init__(self, setting: str, detail: str, valid: Iterable[str] | None = None):
        self.setting = setting
        msg = f"setting '{setting}': {detail}"
        if valid is not None:
            msg += f" (valid: {_available(valid)})"
        super().__init__(msg)


# --- output ----------------------------------------------------------------------------------------


class FrameWriteError(MatchcutError):
    """An output that could not be written (unwritable folder, would overwrite an input, codec error)."""

    exit_code = 4

    def __init__(self, path: str, detail: str):
        self.path, self.detail = str(path), detail
        super().__init__(f"{path}: cannot write: {detail}")


# --- colour ----------------------------------------------------------------------------------------


class ColorError(MatchcutError):
    """An OpenColorIO config or colour space problem."""

    exit_code = 5


class UnknownColorSpaceError(ColorError):
    def __init__(self, name: str, config: str, available: Iterable[str]):
        self.name = name
        names = sorted(available)
        shown = ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")
        super().__init__(f"colour space '{name}' is not in OCIO config {config} (available: {shown})")


# --- models and the runtime -------------------------------------------------------------------------


class ModelError(MatchcutError):
    """Model manifests, files and the model zoo."""

    exit_code = 6


class ModelNotFoundError(ModelError):
    def __init__(self, name: str, available: Iterable[str], searched: Iterable[str] = ()):
        self.name = name
        msg = f"no model '{name}' (available: {_available(available)})"
        searched = list(searched)
        if searched:
            msg += f"; searched {', '.join(searched)}"
        super().__init__(msg)


class ManifestError(ModelError):
    """A manifest that does not parse or does not describe a usable model."""

    def __init__(self, path: str, detail: str):
        self.path, self.detail = str(path), detail
        super().__init__(f"{path}: bad model manifest: {detail}")


class ChecksumError(ModelError):
    """A file whose sha256 is not the one its manifest or pin promises."""

    def __init__(self, path: str, expected: str, actual: str):
        self.path, self.expected, self.actual = str(path), expected, actual
        super().__init__(f"{path}: sha256 is {actual[:16]}…, expected {expected[:16]}…; the file is corrupt or not the pinned one")


class ConversionError(ModelError):
    """A model source the project's converters cannot turn into ONNX (an unknown op, a bad file)."""


class ProviderError(MatchcutError):
    """An inference provider that was asked for and is not available."""

    exit_code = 7


class DeviceMemoryError(ProviderError):
    """The device has too little free memory for the smallest tile a model can run on."""


# --- jobs ---------------------------------------------------------------------------------------------


class JobError(MatchcutError):
    """A malformed or inconsistent job spec."""

    exit_code = 8

    def __init__(self, where: str, detail: str):
        self.where, self.detail = where, detail
        super().__init__(f"{where}: {detail}")


class JobCancelled(MatchcutError):
    """The job was stopped (SIGINT, SIGTERM or a host's cancel); finished frames are kept and it can resume."""

    exit_code = 130


class ToolNotFoundError(MatchcutError):
    exit_code = 8

    def __init__(self, name: str, available: Iterable[str]):
        self.name = name
        super().__init__(f"no tool '{name}' (available: {_available(available)})")


class PathEscapeError(MatchcutError):
    """A path in a manifest or job that would leave the folder it must stay in."""

    exit_code = 8

    def __init__(self, path: str, folder: str, where: str):
        super().__init__(f"{where}: path '{path}' leaves its folder {folder}")


class ManifestPathEscapeError(ManifestError, PathEscapeError):
    """A model manifest path (`file`, `licence_file`, a data file) that would leave the manifest's folder."""

    exit_code = ManifestError.exit_code

    def __init__(self, manifest: str, path: str, folder: str, field: str):
        self.path, self.detail = str(manifest), f"field '{field}': path '{path}' leaves its folder {folder}"
        MatchcutError.__init__(self, f"{manifest}: bad model manifest: {self.detail}")


# --- render farms -------------------------------------------------------------------------------------


class FarmPathError(InputError):
    """A job path the farm's workers cannot see (relative, a temporary folder, the user's home)."""

    def __init__(self, where: str, path: str, detail: str):
        self.where, self.path = where, str(path)
        super().__init__(f"{where}: {path} {detail}")


class FarmError(MatchcutError):
    """A farm that refused or failed a submission, or whose client is not set up."""

    exit_code = 9


class FarmClientError(FarmError):
    """A farm's own client (openjd, deadline, deadlinecommand, pyoutline) that is missing or not configured."""

    def __init__(self, client: str, detail: str):
        self.client = client
        super().__init__(f"{client}: {detail}")
