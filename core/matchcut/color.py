"""OpenColorIO: the config ($OCIO or the built-in ACES studio config), colour space names, conversions."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut import settings
from matchcut.errors import ColorError, UnknownColorSpaceError

if TYPE_CHECKING:  # the real import is inside functions: PyOpenColorIO stays out of `import matchcut`
    import PyOpenColorIO as ocio

#: The built-in config used when ``$OCIO`` is unset: the newest ACES studio config this OCIO ships.
BUILTIN_CONFIG = "studio-config-latest"
BUILTIN_URI = "ocio://" + BUILTIN_CONFIG

#: The config's scene-linear role (ACEScg in the ACES configs): the working space of EXR plates.
SCENE_LINEAR = "scene_linear"
#: sRGB-encoded Rec.709 "texture" space: 8/16-bit PNG/TIFF/JPEG plates, and most image models' inputs.
SRGB_DISPLAY = "sRGB Encoded Rec.709 (sRGB)"
#: Linear light with Rec.709/sRGB primaries.
LINEAR_REC709 = "Linear Rec.709 (sRGB)"
#: Linear light with ACES AP1 primaries.
ACESCG = "ACEScg"
#: Rec.709 luma weights (R, G, B): the luminance of linear Rec.709 light, and the luma of its display encoding.
REC709_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)

# Other spellings of the same spaces in older ACES configs and common studio configs; tried in order when
# the canonical name is not in the active config, so a model's declared space resolves in either.
_ALTERNATES: dict[str, tuple[str, ...]] = {
    SRGB_DISPLAY: ("sRGB - Texture", "srgb_tx", "srgb_texture", "Utility - sRGB - Texture",
                   "Input - Generic - sRGB - Texture", "sRGB", "srgb"),
    LINEAR_REC709: ("lin_rec709", "lin_srgb", "Utility - Linear - sRGB", "Utility - Linear - Rec.709",
                    "Linear sRGB", "linear"),
    ACESCG: ("lin_ap1", "ACES - ACEScg", "acescg"),
}

#: File extensions whose pixels are scene-linear unless the file or the user says otherwise.
_LINEAR_EXTENSIONS = {".exr", ".sxr", ".hdr"}

_lock = threading.Lock()
_configs: dict[str, ocio.Config] = {}
_sources: dict[int, str] = {}  # id(config) -> the path or URI it came from, for config_description()
_processors: dict[tuple[str, str, str], Any] = {}


def _ocio():
    import PyOpenColorIO

    return PyOpenColorIO


def load_config(path: str | os.PathLike[str] | None = None) -> ocio.Config:
    """The OCIO config at ``path``; else ``$OCIO``; else the built-in ACES studio config. Cached per source.

    Raises ColorError naming the path when the file is missing or does not parse as an OCIO config.
    """
    source = str(path) if path is not None else (os.environ.get(settings.OCIO_VAR, "").strip() or BUILTIN_URI)
    with _lock:
        cached = _configs.get(source)
    if cached is not None:
        return cached
    ocio_mod = _ocio()
    where = f"${settings.OCIO_VAR}={source}" if path is None and source != BUILTIN_URI else source
    try:
        if source == BUILTIN_URI:
            config = ocio_mod.Config.CreateFromBuiltinConfig(BUILTIN_CONFIG)
        elif source.startswith("ocio://"):
            config = ocio_mod.Config.CreateFromFile(source)
        else:
            if not Path(source).is_file():
                raise ColorError(f"{where}: OCIO config file not found; expected a .ocio file "
                                 f"(or unset ${settings.OCIO_VAR} for the built-in {BUILTIN_URI})")
            config = ocio_mod.Config.CreateFromFile(source)
        config.validate()
    except ocio_mod.Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ColorError(f"{where}: not a usable OCIO config: {detail}") from exc
    with _lock:
        config = _configs.setdefault(source, config)
        _sources[id(config)] = source
    return config


def config_description(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """What `matchcut doctor` shows about the active config: name, source (path or URI), cache id, OCIO version."""
    config = load_config(path)
    with _lock:
        source = _sources.get(id(config), "")
    return {
        "name": config.getName() or Path(source).stem,
        "source": source,
        "cache_id": config.getCacheID(),
        "ocio_version": _ocio().__version__,
    }


def _config_label(config: ocio.Config) -> str:
    with _lock:
        return _sources.get(id(config)) or config.getName() or "(in-memory config)"


def _space_names(config: ocio.Config) -> list[str]:
    return [cs.getName() for cs in config.getColorSpaces()]


def resolve_colorspace(name: str, config: ocio.Config | None = None) -> str:
    """The canonical colour space name in ``config`` for a name, alias or role (e.g. ``scene_linear``).

    The module constants (SRGB_DISPLAY, LINEAR_REC709, ACESCG) also try their usual other spellings.
    Raises UnknownColorSpaceError listing the config's colour spaces when nothing matches.
    """
    config = config if config is not None else load_config()
    for candidate in (name, *_ALTERNATES.get(name, ())):
        if not candidate:
            continue
        # getColorSpace() accepts names, aliases and roles (OCIO 2), case-insensitively.
        space = config.getColorSpace(candidate)
        if space is not None:
            return space.getName()
    raise UnknownColorSpaceError(name, _config_label(config), _space_names(config))


def is_scene_linear(name: str, *, config: ocio.Config | None = None) -> bool:
    """True when colour space ``name`` (a name, alias or role) holds scene-linear values: its OCIO encoding
    says so, or, in a config that gives none, its name has "lin" in it and it is not data."""
    config = config if config is not None else load_config()
    space = config.getColorSpace(resolve_colorspace(name, config))
    encoding = (space.getEncoding() or "").lower()
    if encoding:
        return encoding == "scene-linear"
    return not space.isData() and "lin" in space.getName().lower()


def processor(src: str, dst: str, *, config: ocio.Config | None = None):
    """The cached OCIO CPU processor from ``src`` to ``dst`` (names, aliases or roles).

    Cached on (config cache id, src, dst): building a processor compiles and optimises the transform chain,
    which costs far more than applying it to one frame. Built with OCIO's default optimisation minus
    OPTIMIZATION_FAST_LOG_EXP_POW: the fast pow approximation errs by ~4e-5 relative, which breaks 1e-5 round
    trips and shows up in a plate that goes in and out of a model's space; the exact pow costs little.
    """
    config = config if config is not None else load_config()
    key = (config.getCacheID(), src, dst)
    with _lock:
        cached = _processors.get(key)
    if cached is not None:
        return cached
    src_name, dst_name = resolve_colorspace(src, config), resolve_colorspace(dst, config)
    try:
        ocio_mod = _ocio()
        flags = ocio_mod.OptimizationFlags(
            int(ocio_mod.OPTIMIZATION_DEFAULT) & ~int(ocio_mod.OPTIMIZATION_FAST_LOG_EXP_POW))
        cpu = config.getProcessor(src_name, dst_name).getOptimizedCPUProcessor(flags)
    except _ocio().Exception as exc:
        raise ColorError(f"OCIO config {_config_label(config)}: no transform from '{src_name}' to "
                         f"'{dst_name}': {str(exc).splitlines()[0] if str(exc) else exc}") from exc
    with _lock:
        return _processors.setdefault(key, cpu)


def convert(pixels: np.ndarray, src: str, dst: str, *, config: ocio.Config | None = None) -> np.ndarray:
    """Convert pixels from colour space ``src`` to ``dst``; returns a new float32 (H, W, C) array.

    ``pixels``: (H, W, C) with C >= 3, any real dtype (converted to float32); the first three channels are
    RGB and are converted, the rest (alpha, mattes, AOVs) are copied untouched. Values are not clamped: the
    ACES configs build the sRGB texture space from ExponentWithLinearTransform, whose power segment goes on
    above 1.0 and whose linear toe (~12.92 v) goes on below 0, so scene-linear highlights and out-of-gamut
    negatives survive a scene-linear -> sRGB-encoded -> scene-linear round trip (tested).
    When ``src`` and ``dst`` name the same space the result is a plain copy.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        raise ColorError(f"colour conversion {src} -> {dst}: expected pixels of shape (H, W, C>=3), "
                         f"got {pixels.shape}")
    out = np.array(pixels, dtype=np.float32, order="C", copy=True)
    config = config if config is not None else load_config()
    if resolve_colorspace(src, config) == resolve_colorspace(dst, config):
        return out
    cpu = processor(src, dst, config=config)
    # applyRGB wants one contiguous float32 (N, 3) buffer; with extra channels the RGB part is strided.
    rgb = np.ascontiguousarray(out[..., :3]).reshape(-1, 3)
    cpu.applyRGB(rgb)
    out[..., :3] = rgb.reshape(out.shape[0], out.shape[1], 3)
    return out


def default_colorspace(path: str | os.PathLike[str] | None) -> str:
    """The colour space a plate file has when neither the file nor the user says: EXR -> SCENE_LINEAR
    (the config's scene_linear role), everything else (PNG, TIFF, JPEG, DPX, movies) -> SRGB_DISPLAY."""
    suffix = Path(str(path)).suffix.lower() if path else ""
    return SCENE_LINEAR if suffix in _LINEAR_EXTENSIONS else SRGB_DISPLAY


def plate_colorspace(plate: Any, default: str | None = None) -> str:
    """A plate's colour space: ``plate.colorspace``, else ``default``, else default_colorspace() of the file
    it was read from (``plate.source``)."""
    if getattr(plate, "colorspace", None):
        return plate.colorspace
    if default:
        return default
    return default_colorspace(getattr(plate, "source", None) or getattr(plate, "path", None))


def _convert_channels(pixels: np.ndarray, channels: tuple[str, ...], src: str, dst: str, config) -> np.ndarray:
    """convert() on the channels named R, G, B wherever they sit (EXR layers may order them otherwise);
    plates without those names convert their first three channels."""
    names = tuple(channels)
    if not all(c in names for c in ("R", "G", "B")) or names[:3] == ("R", "G", "B"):
        return convert(pixels, src, dst, config=config)
    rgb = [names.index(c) for c in ("R", "G", "B")]
    order = rgb + [i for i in range(len(names)) if i not in rgb]
    converted = convert(np.asarray(pixels)[:, :, order], src, dst, config=config)
    out = np.empty_like(converted)
    out[:, :, order] = converted
    return out


def to_working(plate: Any, space: str, *, default: str | None = None, config: ocio.Config | None = None) -> Any:
    """The plate converted into the working colour space ``space``: a new Plate whose colorspace is ``space``
    (canonical name) and whose R, G, B are converted, other channels (A, mattes) copied untouched.

    The plate's own space is ``plate.colorspace``, else ``default``, else default_colorspace() of its source.
    """
    src = plate_colorspace(plate, default)
    converted = plate.with_pixels(_convert_channels(plate.pixels, plate.channels, src, space, config))
    if dataclasses.is_dataclass(converted) and any(f.name == "colorspace" for f in dataclasses.fields(converted)):
        converted = dataclasses.replace(converted, colorspace=resolve_colorspace(space, config))
    return converted


def from_working(pixels: np.ndarray, plate: Any, space: str, *, default: str | None = None,
                 config: ocio.Config | None = None) -> Any:
    """Pixels in working space ``space`` (float32 (H, W, C), channels as ``plate.channels``) converted back
    to ``plate``'s colour space, as a new Plate like ``plate`` (channels, metadata, colour space) with them."""
    dst = plate_colorspace(plate, default)
    return plate.with_pixels(_convert_channels(pixels, plate.channels, space, dst, config))


def clear_caches() -> None:
    """Forget loaded configs and processors (after ``$OCIO`` changes inside one process, and in tests)."""
    with _lock:
        _configs.clear()
        _sources.clear()
        _processors.clear()
