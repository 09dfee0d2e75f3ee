"""Plate (pixels + channel names + windows + metadata) and reading/writing image files through OpenImageIO."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from matchcut.errors import FrameReadError, FrameWriteError, PixelValueError, SettingError, ShapeMismatchError
from matchcut.provenance import PREFIX, Provenance

Window = tuple[int, int, int, int]

#: How read_plate treats NaN and Inf samples.
NONFINITE_POLICIES = ("error", "warn", "fix")
#: Metadata key holding the number of pixels with NaN or Inf found on read ("warn" and "fix").
NONFINITE_KEY = PREFIX + "nonfinite"
#: The exact OCIO colour space name Matchcut wrote; OpenImageIO rewrites "oiio:ColorSpace" to its own ids.
COLORSPACE_KEY = PREFIX + "colorspace"

EXR_COMPRESSIONS = ("none", "zip", "zips", "piz", "rle", "pxr24", "b44", "b44a", "dwaa", "dwab")
TIFF_COMPRESSIONS = ("none", "lzw", "zip", "packbits")
KIND_COMPRESSION = {"plate": "piz", "matte": "zip", "pass": "zip"}

# Per file format: the sample types it can hold, and which one the default dtype "half" becomes.
_FORMATS: dict[str, tuple[str, tuple[str, ...], str]] = {
    ".exr": ("openexr", ("half", "float"), "half"),
    ".png": ("png", ("uint8", "uint16"), "uint16"),
    ".tif": ("tiff", ("uint8", "uint16", "float"), "uint16"),
    ".tiff": ("tiff", ("uint8", "uint16", "float"), "uint16"),
    ".dpx": ("dpx", ("uint10", "uint8", "uint16"), "uint10"),
    ".jpg": ("jpeg", ("uint8",), "uint8"),
    ".jpeg": ("jpeg", ("uint8",), "uint8"),
}
# Channel counts each integer format can hold (OpenImageIO's JPEG writer silently drops some otherwise).
_CHANNEL_COUNTS = {"png": (1, 2, 3, 4), "jpeg": (1, 3), "dpx": (1, 3, 4)}

# Formats whose writers drop custom header attributes: Matchcut's keys travel as marked JSON in another
# field (TIFF/JPEG: ImageDescription; DPX: the user data block, as its description holds only 32 bytes).
_PACKED_FORMATS = ("tiff", "dpx", "jpeg")
_PACKED_MARKER = "matchcut-metadata:"
_DPX_USER_DATA = "dpx:UserData"

# Colour spaces OpenImageIO's readers report for files that say nothing (PNG/JPEG are assumed sRGB).
_READER_GUESSES = frozenset({"srgb_rec709_scene", "sRGB"})

# Header attributes that describe the old file's encoding, not the picture: never carried to an output.
_DROP_KEYS = frozenset({
    "compression", "width", "height", "nchannels", "channelnames", "planarconfig", "DateTime", "Software",
    "ICCProfile", "Exif:PixelXDimension", "Exif:PixelYDimension", "full_width", "full_height",
})
_DROP_PREFIXES = ("oiio:", "openexr:", "tiff:", "png:", "dpx:", "jpeg:", "ICCProfile:", PREFIX)
# OpenImageIO type names for tuple-valued attributes whose shape alone does not say.
_NAMED_TYPES = {
    "FramesPerSecond": "rational2i",
    "smpte:TimeCode": "timecode",
    "smpte:KeyCode": "keycode",
    "chromaticities": "float[8]",
}

_configured = False
_configure_lock = threading.Lock()


def _oiio():
    """OpenImageIO, with its thread counts set from matchcut.settings.threads() the first time."""
    global _configured
    import OpenImageIO as oiio

    if not _configured:
        with _configure_lock:
            if not _configured:
                from matchcut.settings import threads

                oiio.attribute("threads", threads())
                oiio.attribute("exr_threads", threads())
                _configured = True
    return oiio


def default_channels(count: int) -> tuple[str, ...]:
    """Channel names for an array without any: Y, YA, RGB, RGBA, then RGBA + channel4, channel5, ..."""
    if count == 1:
        return ("Y",)
    if count == 2:
        return ("Y", "A")
    base = ("R", "G", "B", "A")[:count]
    return base + tuple(f"channel{i}" for i in range(4, count))


@dataclass(eq=False)  # pixel arrays have no single truth value; plates compare by identity
class Plate:
    """One image: float32 pixels (H, W, C), C-contiguous, with channel names, windows and header metadata.

    ``data_window`` and ``display_window`` are ``(x, y, width, height)`` in pixels (EXR's data and display
    windows; both ``(0, 0, W, H)`` for formats without them). ``colorspace`` is an OCIO colour space name
    when the file says, else None (the caller picks the default). ``source`` is the path read from.
    A 2-D array is taken as one channel; other dtypes are converted to float32.
    """

    pixels: np.ndarray
    channels: tuple[str, ...] = ()
    data_window: Window | None = None
    display_window: Window | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    colorspace: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        where = self.source or "plate"
        pixels = np.asarray(self.pixels)
        if pixels.ndim == 2:
            pixels = pixels[:, :, np.newaxis]
        if pixels.ndim != 3 or pixels.shape[0] == 0 or pixels.shape[1] == 0 or pixels.shape[2] == 0:
            raise ShapeMismatchError(f"{where}: pixels must be a non-empty (H, W, C) array, got shape {pixels.shape}")
        self.pixels = np.ascontiguousarray(pixels, dtype=np.float32)
        height, width, count = self.pixels.shape
        self.channels = tuple(str(c) for c in self.channels) if self.channels else default_channels(count)
        if len(self.channels) != count:
            raise ShapeMismatchError(
                f"{where}: {len(self.channels)} channel name(s) {self.channels} for {count} channel(s) of pixels"
            )
        if len(set(self.channels)) != count:
            raise ShapeMismatchError(f"{where}: duplicate channel names in {self.channels}")
        if self.data_window is None:
            self.data_window = (0, 0, width, height)
        self.data_window = tuple(int(v) for v in self.data_window)
        if self.data_window[2:] != (width, height):
            raise ShapeMismatchError(f"{where}: data window {self.data_window} does not fit pixels of {width}x{height}")
        if self.display_window is None:
            self.display_window = self.data_window
        self.display_window = tuple(int(v) for v in self.display_window)

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def nchannels(self) -> int:
        return self.pixels.shape[2]

    def _index(self, name: str) -> int:
        try:
            return self.channels.index(name)
        except ValueError:
            raise ShapeMismatchError(
                f"{self.source or 'plate'}: no channel '{name}' (available: {', '.join(self.channels)})"
            ) from None

    @property
    def rgb(self) -> np.ndarray:
        """R, G, B as float32 (H, W, 3): a view when they are adjacent and in order, else a copy."""
        index = [self._index(c) for c in ("R", "G", "B")]
        if index[1] == index[0] + 1 and index[2] == index[0] + 2:
            return self.pixels[:, :, index[0] : index[0] + 3]
        return self.pixels[:, :, index]

    @property
    def alpha(self) -> np.ndarray | None:
        """The A channel as a float32 (H, W) view, or None when the plate has none."""
        return self.pixels[:, :, self.channels.index("A")] if "A" in self.channels else None

    def channel(self, name: str) -> np.ndarray:
        """One channel by name as a float32 (H, W) view; ShapeMismatchError lists the names if absent."""
        return self.pixels[:, :, self._index(name)]

    def with_pixels(self, pixels: np.ndarray, channels: Iterable[str] | None = None) -> Plate:
        """A new plate with these pixels and this plate's metadata, colour space, source and windows.

        Channel names default to this plate's when the count matches. When the size changes the windows
        become ``(0, 0, W, H)``, since the old ones no longer describe the pixels.
        """
        new = np.asarray(pixels)
        if new.ndim == 2:
            new = new[:, :, np.newaxis]
        if channels is None:
            if new.ndim == 3 and new.shape[2] != self.nchannels:
                raise ShapeMismatchError(
                    f"{self.source or 'plate'}: {new.shape[2]} new channel(s) need names; this plate has {self.channels}"
                )
            channels = self.channels
        same_size = new.ndim == 3 and new.shape[:2] == self.pixels.shape[:2]
        return replace(
            self,
            pixels=new,
            channels=tuple(channels),
            data_window=self.data_window if same_size else None,
            display_window=self.display_window if same_size else None,
            metadata=dict(self.metadata),
        )


# --- reading ---------------------------------------------------------------------------------------


def _unpack(text: str) -> tuple[str, dict[str, Any] | None]:
    """Split a field into the user's text and Matchcut's packed keys (None when there are none)."""
    if _PACKED_MARKER not in text:
        return text, None
    user, _, packed = text.partition(_PACKED_MARKER)
    try:
        unpacked = json.loads(packed)
    except ValueError:
        return text, None
    return (user.rstrip("\n"), unpacked) if isinstance(unpacked, dict) else (text, None)


def _attributes(spec) -> dict[str, Any]:
    """Header attributes of an ImageSpec, with Matchcut's packed keys (TIFF, JPEG, DPX) unpacked."""
    metadata: dict[str, Any] = {}
    for param in spec.extra_attribs:
        metadata[param.name] = param.value
    description = metadata.get("ImageDescription")
    if isinstance(description, str):
        user, unpacked = _unpack(description)
        if unpacked is not None:
            metadata.update(unpacked)
            if user:
                metadata["ImageDescription"] = user
            else:
                del metadata["ImageDescription"]
    user_data = metadata.get(_DPX_USER_DATA)
    if user_data is not None:
        try:
            text = bytes(np.asarray(user_data, dtype=np.uint8)).decode("utf-8")
        except (ValueError, TypeError):
            text = ""
        _, unpacked = _unpack(text)
        if unpacked is not None:
            metadata.update(unpacked)
            del metadata[_DPX_USER_DATA]
    return metadata


def _colorspace(metadata: dict[str, Any], format_name: str) -> str | None:
    exact = metadata.get(COLORSPACE_KEY)
    if isinstance(exact, str) and exact:
        return exact
    named = metadata.get("oiio:ColorSpace")
    if not isinstance(named, str) or not named:
        return None
    if format_name != "openexr" and named in _READER_GUESSES:
        return None
    return named


def _open_input(path: str, frame: int | None):
    where = f"frame {frame}: " if frame is not None else ""
    if not os.path.exists(path):
        raise FrameReadError(path, where + "no such file")
    if not os.path.isfile(path):
        raise FrameReadError(path, where + "not a file")
    oiio = _oiio()
    oiio.geterror()  # drop this thread's stale messages, so an error names only this file's problem
    inp = oiio.ImageInput.open(path)
    if inp is None:
        raise FrameReadError(path, where + (_one_line(oiio.geterror()) or "not an image OpenImageIO can read"))
    return inp


def _one_line(message: str) -> str:
    return " ".join(str(message or "").split())


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Header attributes of an image without decoding its pixels (e.g. ``"matchcut/hash"``)."""
    path = os.fspath(path)
    inp = _open_input(path, None)
    try:
        return _attributes(inp.spec())
    finally:
        inp.close()


def _check_finite(pixels: np.ndarray, plate_path: str, channels, origin, nonfinite: str, frame) -> int:
    """Apply the nonfinite policy in place; return how many pixels had NaN or Inf."""
    bad = ~np.isfinite(pixels)
    if not bad.any():
        return 0
    bad_pixels = int(bad.any(axis=2).sum())
    if nonfinite == "fix":
        pixels[bad] = 0.0
    elif nonfinite == "error":
        nan_pixels = int(np.isnan(pixels).any(axis=2).sum())
        inf_pixels = int(np.isinf(pixels).any(axis=2).sum())
        y, x, c = np.unravel_index(int(np.argmax(bad)), bad.shape)
        where = f"frame {frame}: " if frame is not None else ""
        raise PixelValueError(
            f"{plate_path}: {where}{nan_pixels} pixel(s) with NaN and {inf_pixels} with Inf, the first at "
            f"x={int(x) + origin[0]} y={int(y) + origin[1]} channel '{channels[c]}'; "
            "read with nonfinite='fix' to replace them with 0 or 'warn' to keep them"
        )
    return bad_pixels


def read_plate(path: str | os.PathLike, *, nonfinite: str = "error", frame: int | None = None) -> Plate:
    """Read an image file (the first subimage, every channel) as a Plate of float32 (H, W, C) pixels.

    Values are as stored (scene-linear for a typical EXR, display-encoded 0-1 for PNG/TIFF/DPX);
    ``plate.colorspace`` is set only when the file names one. ``nonfinite``: "error" raises
    PixelValueError for NaN/Inf, "warn" keeps them and "fix" sets them to 0; both record the pixel count
    in ``metadata["matchcut/nonfinite"]``. ``frame`` is named in error messages. Missing, truncated or
    corrupt files raise FrameReadError.
    """
    if nonfinite not in NONFINITE_POLICIES:
        raise SettingError("nonfinite", f"unknown policy {nonfinite!r}", NONFINITE_POLICIES)
    path = os.fspath(path)
    where = f"frame {frame}: " if frame is not None else ""
    inp = _open_input(path, frame)
    try:
        spec = inp.spec()
        if spec.deep:
            raise FrameReadError(path, where + "deep images are not supported")
        if spec.depth > 1:
            raise FrameReadError(path, where + "volume images are not supported")
        pixels = inp.read_image(format="float")
        error = _one_line(inp.geterror()) if inp.has_error else ""
        if pixels is None or error:
            raise FrameReadError(path, where + (error or "pixels could not be decoded (truncated or corrupt?)"))
        format_name = inp.format_name()
        bits = spec.get_int_attribute("oiio:BitsPerSample", 0)
        integer = str(spec.format).startswith(("uint", "int"))
        metadata = _attributes(spec)
        channels = tuple(spec.channelnames)
        data_window = (spec.x, spec.y, spec.width, spec.height)
        display_window = (spec.full_x, spec.full_y, spec.full_width, spec.full_height)
    finally:
        inp.close()
    pixels = np.ascontiguousarray(np.asarray(pixels, dtype=np.float32).reshape(spec.height, spec.width, spec.nchannels))
    if integer and 0 < bits < 16 and bits != 8:
        # 10/12-bit samples arrive bit-replicated to 16 bits; snap them back onto their own code values.
        levels = float((1 << bits) - 1)
        pixels = np.round(pixels * levels) / np.float32(levels)
    count = _check_finite(pixels, path, channels, data_window, nonfinite, frame)
    if count:
        metadata[NONFINITE_KEY] = count
    return Plate(
        pixels=pixels,
        channels=channels,
        data_window=data_window,
        display_window=display_window,
        metadata=metadata,
        colorspace=_colorspace(metadata, format_name),
        source=path,
    )


# --- writing ---------------------------------------------------------------------------------------


def _format_of(dest: Path) -> tuple[str, tuple[str, ...], str]:
    try:
        return _FORMATS[dest.suffix.lower()]
    except KeyError:
        raise FrameWriteError(
            str(dest), f"unknown image extension '{dest.suffix}' (writable: {', '.join(sorted(_FORMATS))})"
        ) from None


def _sample_type(fmt, dtype: str, dest: Path) -> str:
    name, allowed, default = fmt
    if dtype == "half" and "half" not in allowed:
        return default  # "half" is write_plate's default: it means "this format's usual depth"
    if dtype not in allowed:
        raise SettingError("dtype", f"{dtype!r} cannot be written to {dest.name} ({name})", allowed)
    return dtype


def _compression(fmt_name: str, compression: str | None, kind: str, dest: Path) -> str | None:
    if kind not in KIND_COMPRESSION:
        raise SettingError("kind", f"unknown output kind {kind!r}", KIND_COMPRESSION)
    if fmt_name == "openexr":
        chosen = compression or KIND_COMPRESSION[kind]
        base, _, level = chosen.partition(":")
        if base.lower() not in EXR_COMPRESSIONS or (level and not level.isdigit()):
            raise SettingError("compression", f"unknown EXR compression {chosen!r} for {dest.name}", EXR_COMPRESSIONS)
        return base.lower() + (":" + level if level else "")
    if compression is None:
        return None
    if fmt_name == "tiff":
        if compression.lower() not in TIFF_COMPRESSIONS:
            raise SettingError("compression", f"unknown TIFF compression {compression!r} for {dest.name}", TIFF_COMPRESSIONS)
        return compression.lower()
    raise SettingError("compression", f"{fmt_name} files take no compression setting ({dest.name})", ["none (omit it)"])


def _same_file(a: Path, b: str | os.PathLike) -> bool:
    b = os.fspath(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _prepare_folder(dest: Path) -> None:
    folder = dest.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FrameWriteError(str(dest), f"cannot create folder {folder}: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise FrameWriteError(str(dest), f"{folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FrameWriteError(str(dest), f"folder {folder} is not writable")
    if dest.is_dir():
        raise FrameWriteError(str(dest), "a folder of that name exists")


def _carried(metadata: dict[str, Any]) -> dict[str, Any]:
    """The input's header attributes that still describe the output picture."""
    return {
        k: v
        for k, v in metadata.items()
        if k not in _DROP_KEYS and not k.startswith(_DROP_PREFIXES)
    }


def _type_for(name: str, value: Any) -> str | None:
    """An OpenImageIO type name for a tuple-valued attribute, or None when it cannot be written."""
    if name in _NAMED_TYPES:
        return _NAMED_TYPES[name]
    items = list(value)
    if not items:
        return None
    if all(isinstance(v, str) for v in items):
        return f"string[{len(items)}]"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        return f"int[{len(items)}]"
    if all(isinstance(v, (int, float, np.number)) for v in items):
        return {2: "float2", 3: "vector", 9: "matrix33", 16: "matrix"}.get(len(items), f"float[{len(items)}]")
    return None


def _set_attribute(oiio, spec, name: str, value: Any) -> None:
    """Set one header attribute; values OpenImageIO cannot store are skipped (carried metadata is best-effort)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        value = int(value)
    try:
        if isinstance(value, (int, float, str)):
            spec.attribute(name, value)
        elif isinstance(value, (tuple, list, np.ndarray)):
            type_name = _type_for(name, value)
            if type_name:
                items = tuple(v.item() if isinstance(v, np.generic) else v for v in value)
                if type_name.startswith(("float", "matrix")):
                    items = tuple(float(v) for v in items)
                spec.attribute(name, oiio.TypeDesc(type_name), items)
    except (TypeError, ValueError, OverflowError, RuntimeError):
        pass  # e.g. an integer beyond 32 bits: the header cannot hold it, the picture does not need it


def _quantised(pixels: np.ndarray, sample: str) -> np.ndarray:
    """Samples for 8/10/16-bit formats: clamped to [0, 1] (NaN -> 0).

    8 and 16 bits stay float: OpenImageIO rounds to nearest itself, and must see float values to
    un-premultiply PNG alpha without losing precision. For 10 bits it keeps the top 10 bits of a uint16,
    so the rounded 10-bit value is handed over bit-replicated to 16 bits.
    """
    clean = np.clip(np.nan_to_num(pixels, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    if sample != "uint10":
        return np.ascontiguousarray(clean, dtype=np.float32)
    ten = np.round(clean * 1023.0).astype(np.uint32)
    return ((ten * 65535 + 511) // 1023).astype(np.uint16)


def _encode(oiio, temp: Path, dest: Path, pixels: np.ndarray, spec) -> None:
    """Hand OpenImageIO one C-contiguous (H, W, C) array; it misreads 2-D arrays, so never give it one."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, np.newaxis]
    pixels = np.ascontiguousarray(pixels)
    oiio.geterror()  # drop this thread's stale messages
    out = oiio.ImageOutput.create(str(temp))
    if out is None:
        raise FrameWriteError(str(dest), _one_line(oiio.geterror()) or "no OpenImageIO writer for this format")
    try:
        if not out.open(str(temp), spec):
            raise FrameWriteError(str(dest), _one_line(out.geterror()) or "could not open for writing")
        if not out.write_image(pixels):
            raise FrameWriteError(str(dest), _one_line(out.geterror()) or "could not write pixels")
    finally:
        closed = out.close()
    if not closed:
        raise FrameWriteError(str(dest), _one_line(out.geterror()) or "could not finish the file")


def write_plate(
    path: str | os.PathLike,
    plate_or_array: Plate | np.ndarray,
    *,
    dtype: str = "half",
    compression: str | None = None,
    kind: str = "plate",
    provenance: Provenance | None = None,
    protect: Iterable[str | os.PathLike] = (),
    channels: Iterable[str] | None = None,
    colorspace: str | None = None,
) -> Path:
    """Write a plate or a float array (H, W, C) or (H, W) atomically; return the path written.

    The extension picks the format: EXR (``dtype`` "half" or "float", scanline, ``compression`` one of
    EXR_COMPRESSIONS, default by ``kind``: plate -> piz, matte/pass -> zip), PNG (uint8/uint16), TIFF
    (uint8/uint16/float), DPX (uint10/uint8/uint16), JPEG (uint8). The default "half" means a format's
    usual depth where it has no half (PNG/TIFF 16-bit, DPX 10-bit, JPEG 8-bit). Integer formats clamp
    values to [0, 1] and round. Values are written as given: no colour conversion happens here.

    The input's safe metadata and (for EXR) its data/display windows are kept; ``provenance`` and
    ``colorspace`` (or the plate's) go into the header. The file is written to a hidden temporary name in
    the destination folder, then renamed over ``path``. Raises FrameWriteError when ``path`` is one of
    ``protect`` or the plate's own source, when its folder cannot be created or written, or when encoding
    fails (the temporary file is removed); SettingError for a bad dtype, compression or kind.
    """
    dest = Path(os.fspath(path))
    if isinstance(plate_or_array, Plate):
        plate = plate_or_array
    else:
        plate = Plate(np.asarray(plate_or_array))
    names = tuple(channels) if channels is not None else plate.channels
    if len(names) != plate.nchannels:
        raise ShapeMismatchError(f"{dest}: {len(names)} channel name(s) {names} for {plate.nchannels} channel(s)")
    fmt = _format_of(dest)
    fmt_name = fmt[0]
    sample = _sample_type(fmt, dtype, dest)
    chosen_compression = _compression(fmt_name, compression, kind, dest)
    counts = _CHANNEL_COUNTS.get(fmt_name)
    if counts and plate.nchannels not in counts:
        shown = ", ".join(map(str, counts))
        raise FrameWriteError(str(dest), f"{fmt_name} holds {shown} channels, the plate has {plate.nchannels} {names}")
    for protected in (*protect, *([plate.source] if plate.source else [])):
        if _same_file(dest, protected):
            raise FrameWriteError(str(dest), "would overwrite an input")
    _prepare_folder(dest)

    oiio = _oiio()
    spec = oiio.ImageSpec(plate.width, plate.height, plate.nchannels, "uint16" if sample == "uint10" else sample)
    spec.channelnames = names
    if fmt_name == "openexr":
        spec.x, spec.y = plate.data_window[0], plate.data_window[1]
        spec.full_x, spec.full_y, spec.full_width, spec.full_height = plate.display_window
    attributes: dict[str, Any] = _carried(plate.metadata)
    if provenance is not None:
        attributes.update(provenance.attributes())
    space = colorspace or plate.colorspace
    if space:
        attributes[COLORSPACE_KEY] = space
    if fmt_name in _PACKED_FORMATS:
        packed = {k: v for k, v in attributes.items() if k.startswith(PREFIX)}
        attributes = {k: v for k, v in attributes.items() if k not in packed}
        if packed:
            text = _PACKED_MARKER + json.dumps(packed, sort_keys=True, default=str)
            if fmt_name == "dpx":
                data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
                spec.attribute(_DPX_USER_DATA, oiio.TypeDesc(f"uint8[{data.size}]"), data)
            else:
                user = attributes.get("ImageDescription")
                user = f"{user}\n" if isinstance(user, str) and user else ""
                attributes["ImageDescription"] = user + text
    for name, value in attributes.items():
        _set_attribute(oiio, spec, name, value)
    if space:
        spec.attribute("oiio:ColorSpace", space)
    if chosen_compression:
        spec.attribute("compression", chosen_compression)
    if sample == "uint10":
        spec.attribute("oiio:BitsPerSample", 10)

    pixels = plate.pixels if sample in ("half", "float") else _quantised(plate.pixels, sample)
    temp = dest.parent / f".{dest.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{dest.suffix}"
    try:
        _encode(oiio, temp, dest, pixels, spec)
        os.replace(temp, dest)
    except OSError as exc:
        raise FrameWriteError(str(dest), exc.strerror or str(exc)) from None
    finally:
        if temp.exists():
            temp.unlink()
    return dest
