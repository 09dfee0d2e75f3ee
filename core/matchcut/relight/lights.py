"""Virtual lights: directional, point, spot and area, parsed from CLI text or JSON, checked field by field.

Camera space throughout (OpenGL convention): x right, y up, z towards the camera, in units of the frame's width,
origin at the frame's centre; the plate lies in the plane z = 0. A directional light's ``direction`` points from
the subject towards the light (``-1,0,0.5``: from the left, a little in front). Positional lights have a
``position``; spots and area lights aim at ``target`` (default the frame's centre). ``intensity`` is the
irradiance the light adds where it meets a surface facing it head on (positional lights: at the frame's centre),
in scene-linear units of the plate's ambient light; ``color`` is a scene-linear RGB tint.

CLI text: ``"TYPE field=value field=value ..."`` with vectors as comma lists, e.g.
``"spot position=-0.6,0.3,0.8 cone=40 softness=0.3 color=1,0.85,0.7 intensity=1.5"``. JSON: an object with
the same fields and ``"type"``, or a list of them, or ``{"lights": [...]}`` in a file.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from matchcut.errors import SettingError

TYPES = ("directional", "point", "spot", "area")
FALLOFFS = {"none": 0.0, "linear": 1.0, "quadratic": 2.0}
COMMON_FIELDS = ("type", "name", "color", "intensity", "wrap", "specular", "roughness")
FIELDS = {
    "directional": (*COMMON_FIELDS, "direction"),
    "point": (*COMMON_FIELDS, "position", "falloff"),
    "spot": (*COMMON_FIELDS, "position", "target", "falloff", "cone", "softness"),
    "area": (*COMMON_FIELDS, "position", "target", "falloff", "size"),
}
#: Sample points per side an area light is integrated with (AREA_SAMPLES**2 point lights).
AREA_SAMPLES = 3


@dataclass(frozen=True)
class Light:
    """One virtual light, checked; see the module docstring for the coordinate system and units.

    cone: the spot's full cone angle in degrees; softness: 0 (hard edge) .. 1 (falls off from the axis);
    wrap: 0 (Lambert) .. 1 (light reaches 90 degrees past the terminator); specular: amount >= 0;
    roughness: 0.02 (mirror-like) .. 1 (broad); size: an area light's side in frame widths.
    """

    type: str
    name: str = ""
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    intensity: float = 1.0
    wrap: float = 0.0
    specular: float = 0.0
    roughness: float = 0.4
    direction: tuple[float, float, float] = (0.0, 0.0, 1.0)
    position: tuple[float, float, float] = (0.0, 0.0, 1.0)
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    falloff: str = "quadratic"
    cone: float = 45.0
    softness: float = 0.2
    size: float = 0.3
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The fields that apply to this light's type, as JSON-ready values."""
        data = asdict(self)
        data.pop("extra")
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items() if k in FIELDS[self.type]}


def _where(index: int, name: str) -> str:
    return f"light {index}" + (f" ('{name}')" if name else "")


def _number(value: Any, where: str, key: str, lo: float | None = None, hi: float | None = None,
            strict_lo: bool = False) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise SettingError(f"{where}: {key}", f"expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingError(f"{where}: {key}", f"expected a number, got {value!r}")
    value = float(value)
    if lo is not None and (value <= lo if strict_lo else value < lo):
        raise SettingError(f"{where}: {key}", f"{value:g} must be {'>' if strict_lo else '>='} {lo:g}")
    if hi is not None and value > hi:
        raise SettingError(f"{where}: {key}", f"{value:g} must be <= {hi:g}")
    return value


def _vector(value: Any, where: str, key: str, nonzero: bool = False, lo: float | None = None) -> tuple[float, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise SettingError(f"{where}: {key}", f"expected three numbers x,y,z, got {value!r}")
    out = tuple(_number(v, where, key, lo=lo) for v in value)
    if nonzero and not any(out):
        raise SettingError(f"{where}: {key}", "must not be 0,0,0")
    return out


def light_from_dict(data: Any, index: int = 1) -> Light:
    """A Light from a JSON object (fields as the module docstring; ``type`` required).

    Raises SettingError naming the light (1-based ``index``) and the field, listing the valid fields for an
    unknown one, the valid types for an unknown type; intensity must be > 0 (darken with a negative strength).
    """
    if not isinstance(data, dict):
        raise SettingError(f"light {index}", f"expected an object with a 'type', got {data!r}")
    kind = data.get("type")
    name = str(data.get("name", "") or "")
    where = _where(index, name)
    if kind not in TYPES:
        raise SettingError(f"{where}: type", f"unknown light type {kind!r}", TYPES)
    unknown = [k for k in data if k not in FIELDS[kind]]
    if unknown:
        raise SettingError(f"{where}: {unknown[0]}", f"not a field of a {kind} light", FIELDS[kind])
    values: dict[str, Any] = {"type": kind, "name": name}
    if "color" in data:
        values["color"] = _vector(data["color"], where, "color", lo=0.0)
    if "intensity" in data:
        values["intensity"] = _number(data["intensity"], where, "intensity", lo=0.0, strict_lo=True)
    if "wrap" in data:
        values["wrap"] = _number(data["wrap"], where, "wrap", 0.0, 1.0)
    if "specular" in data:
        values["specular"] = _number(data["specular"], where, "specular", 0.0, 100.0)
    if "roughness" in data:
        values["roughness"] = _number(data["roughness"], where, "roughness", 0.02, 1.0)
    for key in ("direction", "position", "target"):
        if key in data:
            values[key] = _vector(data[key], where, key, nonzero=key == "direction")
    if "falloff" in data:
        if data["falloff"] not in FALLOFFS:
            raise SettingError(f"{where}: falloff", f"unknown falloff {data['falloff']!r}", FALLOFFS)
        values["falloff"] = data["falloff"]
    if "cone" in data:
        values["cone"] = _number(data["cone"], where, "cone", 1.0, 179.0)
    if "softness" in data:
        values["softness"] = _number(data["softness"], where, "softness", 0.0, 1.0)
    if "size" in data:
        values["size"] = _number(data["size"], where, "size", 0.0, 100.0, strict_lo=True)
    light = Light(**values)
    if kind in ("spot", "area") and np.allclose(light.position, light.target):
        raise SettingError(f"{where}: target", "the light's target is its own position")
    return light


def parse_light(text: str, index: int = 1) -> Light:
    """A Light from CLI text ``"TYPE field=value ..."`` (or a JSON object as text); errors as light_from_dict."""
    text = text.strip()
    if text.startswith("{"):
        try:
            return light_from_dict(json.loads(text), index)
        except json.JSONDecodeError as exc:
            raise SettingError(f"light {index}", f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    words = text.split()
    if not words:
        raise SettingError(f"light {index}", "empty light spec; expected e.g. 'directional direction=-1,0,0.5'")
    data: dict[str, Any] = {}
    if "=" not in words[0]:
        data["type"] = words.pop(0)
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise SettingError(f"light {index}", f"expected field=value, got {word!r}")
        data[key] = value
    return light_from_dict(data, index)


def parse_lights(value: Any, where: str = "lights") -> list[Light]:
    """Every light of a job's ``lights`` parameter: a list of objects or CLI texts, a JSON text of such a
    list, or one object / text. At least one light is required."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SettingError(where, f"not valid JSON: {exc.msg} at character {exc.pos}") from None
        else:
            value = [part for part in text.split(";") if part.strip()]
    if isinstance(value, dict):
        value = value.get("lights", [value]) if "type" not in value else [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise SettingError(where, "expected at least one light, e.g. 'directional direction=-1,0,0.5 intensity=1'")
    lights = []
    for i, item in enumerate(value, 1):
        lights.append(parse_light(item, i) if isinstance(item, str) else light_from_dict(item, i))
    return lights


def load_lights_file(path: str) -> list[dict[str, Any]]:
    """Read a hosts' lights JSON file (a list, or ``{"lights": [...]}``) and check it; returns the list as data."""
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise SettingError("--lights", f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise SettingError("--lights", f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    items = data.get("lights") if isinstance(data, dict) else data
    return [light.to_dict() for light in parse_lights(items, f"--lights {path}")]


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _rows(light: Light) -> list[list[float]]:
    """A light as rows of the shading graph's light table (an area light as AREA_SAMPLES**2 point samples)."""
    shininess = 2.0 / (light.roughness ** 2) - 2.0
    exponent = FALLOFFS[light.falloff]
    base = [*(np.asarray(light.color) * light.intensity), light.wrap, light.specular, max(shininess, 1.0)]
    if light.type == "directional":
        return [[*base, *_unit(light.direction), 0.0, 0.0, 0.0, 1.0, -3.0, -2.0, 0.0, 1.0]]
    position = np.asarray(light.position, np.float64)
    reference = max(float(np.linalg.norm(position)), 1e-6)  # distance to the frame's centre: intensity holds there
    if light.type == "point":
        return [[*base, *position, 1.0, 0.0, 0.0, -1.0, -3.0, -2.0, exponent, reference]]
    axis = _unit(np.asarray(light.target, np.float64) - position)
    if light.type == "spot":
        half = math.radians(light.cone / 2.0)
        inner = math.radians(light.cone / 2.0 * (1.0 - light.softness))
        return [[*base, *position, 1.0, *axis, math.cos(half), math.cos(inner), exponent, reference]]
    # area: a square of side `size` facing its target, integrated as a grid of point lights sharing the intensity
    helper = np.array([0.0, 1.0, 0.0]) if abs(axis[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = _unit(np.cross(axis, helper))
    v = np.cross(u, axis)
    steps = (np.arange(AREA_SAMPLES) + 0.5) / AREA_SAMPLES - 0.5
    rows = []
    share = 1.0 / AREA_SAMPLES ** 2
    for a in steps:
        for b in steps:
            p = position + light.size * (a * u + b * v)
            # The panel emits forward only: the cone smoothstep over cos 0..1 is a soft lobe about its axis.
            rows.append([*(np.asarray(base[:3]) * share), *base[3:], *p, 1.0, *axis, 0.0, 1.0, exponent, reference])
    return rows


#: Columns of the light table the shading graph takes, in order.
TABLE_COLUMNS = ("r", "g", "b", "wrap", "specular", "shininess", "vx", "vy", "vz", "positional",
                 "ax", "ay", "az", "cos_outer", "cos_inner", "falloff", "reference")


def light_table(lights: list[Light]) -> np.ndarray:
    """The lights as the shading graph's (L, 17) float32 table (columns TABLE_COLUMNS).

    v: direction to the light (directional) or its position; positional 0/1; a: the spot axis; cos_outer and
    cos_inner: the cone's smoothstep edges (below -1: no cone); falloff: the distance exponent; reference: the
    distance at which the intensity holds.
    """
    rows = [row for light in lights for row in _rows(light)]
    return np.asarray(rows, np.float32).reshape(-1, len(TABLE_COLUMNS))


def flipped(light: Light) -> Light:
    """The light mirrored left-right (x negated): what lights a flopped plate as this one lights the plate."""
    from dataclasses import replace

    def flip(v):
        return (-v[0], v[1], v[2])

    return replace(light, direction=flip(light.direction), position=flip(light.position), target=flip(light.target))
