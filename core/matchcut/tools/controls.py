"""Parameters as controls: the one place a tool's or a model's parameter values are checked.

Tools declare their job parameters as ``matchcut.models.manifest.Control`` (the same type model manifests
use), so hosts build every UI (Nuke knobs, Resolve dialogs, Blender properties) from one description:
``matchcut tools --json`` for tools, ``matchcut models info --json`` for models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from matchcut.errors import SettingError
from matchcut.models.manifest import Control


def control_value(control: Control, value: Any, owner: str) -> Any:
    """Check one value against its control; returns it normalised (int/float/bool/str/[r, g, b]).

    owner: who declares the control, for the message ("model 'degrain-small'", "tool 'match'").
    """
    name, kind = control.name, control.type
    if value is None and control.default is None:
        return None  # an optional control left unset (e.g. "use the model's own figure")
    if kind in ("float", "int"):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (kind == "int" and float(value) != int(value)):
            raise SettingError(name, f"{owner} expects {'an integer' if kind == 'int' else 'a number'}, got {value!r}")
        value = int(value) if kind == "int" else float(value)
        if (control.min is not None and value < control.min) or (control.max is not None and value > control.max):
            raise SettingError(name, f"{value} is outside [{control.min}, {control.max}] for {owner}")
    elif kind == "bool" and not isinstance(value, bool):
        raise SettingError(name, f"{owner} expects true or false, got {value!r}")
    elif kind == "choice" and value not in control.choices:
        raise SettingError(name, f"{value!r} is not a choice of {owner}", control.choices)
    elif kind == "color":
        ok = isinstance(value, (list, tuple)) and len(value) in (3, 4) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        if not ok:
            raise SettingError(name, f"{owner} expects a colour [r, g, b], got {value!r}")
        value = [float(v) for v in value]
    elif kind == "string" and not isinstance(value, str):
        raise SettingError(name, f"{owner} expects text, got {value!r}")
    return value


def resolve_controls(params: dict[str, Any], controls: Iterable[Control], owner: str) -> dict[str, Any]:
    """Every control's value: the job's where given (checked), else the control's default.

    An unknown key is a SettingError that lists the valid ones (the runner's own settings, such as
    ``nonfinite``, are job fields, never params).
    """
    declared = {c.name: c for c in controls}
    values = {name: c.default for name, c in declared.items()}
    for key, value in params.items():
        if key not in declared:
            raise SettingError(key, f"{owner} has no parameter '{key}'", declared)
        values[key] = control_value(declared[key], value, owner)
    return values
