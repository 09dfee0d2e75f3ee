"""Rendering a proposal: its frames as a real clip, in the neighbours' format, each frame marked reused or synthetic.

Each proposal is one image sequence, ``OUT/<proposal id>/<id>.####.<ext>`` numbered from ``FIRST_FRAME``. The
extension is the media's (EXR, DPX, PNG, TIFF; PNG for JPEG and movie media, which are not written again lossily),
and a reused frame is written at its source's own depth, so its pixels are the source's exactly. Every frame's
header carries the provenance (tool coverage, the proposal, the model and its sha256, the source files) and
``matchcut/frame``: ``reused`` or ``synthetic``; a synthetic frame also carries fill's rebuilt marker, which the
hosts flag for review. A frame already written with the same provenance hash is kept (a stopped job resumes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matchcut.missing_shots.proposals import Make, Proposal

#: The first frame number of every rendered proposal.
FIRST_FRAME = 1001
#: Media extensions written again as themselves; the rest become PNG.
KEPT_EXTENSIONS = (".exr", ".dpx", ".png", ".tif", ".tiff")


@dataclass(frozen=True)
class Interpolation:
    """How in-betweens are made: the RIFE model, its flip ensemble, halving depth and quality (fill's controls)."""

    model: str
    ensemble: int = 1
    depth: int = 5
    quality: str = "final"


@dataclass
class Rendered:
    """A rendered proposal: ``pattern`` (``####``), frames FIRST_FRAME.. ``last``, small display-sRGB thumbnails of
    its first, middle and last frames, and how many frames were kept from an earlier run."""

    pattern: str
    first: int
    last: int
    thumbs: dict[str, np.ndarray] = field(default_factory=dict)
    kept: int = 0


def extension_for(pattern: str) -> str:
    """The extension a proposal built from media ``pattern`` is written with."""
    ext = os.path.splitext(pattern)[1].lower()
    return ext if ext in KEPT_EXTENSIONS else ".png"


def depth_for(pixels: np.ndarray, ext: str) -> str:
    """write_plate's dtype that holds ``pixels`` exactly in format ``ext`` when they came from such a file (EXR:
    half when every value is a half, else float; PNG/TIFF: 8 bits when every value is a multiple of 1/255; DPX:
    10 bits when of 1/1023), else the format's usual depth ("half")."""
    if ext == ".exr":
        return "half" if np.array_equal(pixels.astype(np.float16).astype(np.float32), pixels) else "float"
    for dtype, levels in (("uint8", 255.0), ("uint10", 1023.0)):
        if dtype == "uint10" and ext != ".dpx":
            continue
        if dtype == "uint8" and ext == ".dpx":
            continue
        scaled = pixels * levels
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-3):
            return dtype
    return "half"


def _read(make: Make, frame: int, cache: dict):
    from matchcut.frames import open_source

    key = (make.pattern, make.origin)
    if key not in cache:
        cache[key] = open_source(make.pattern, first_frame=make.origin)
    return cache[key].read(frame)


def _punched(plate, box, width: int, height: int, model: str, device: Any, space_out: str):
    """The box of ``plate`` at width x height through super-resolution, RGB in colour space ``space_out`` (the
    neighbour's: a take may be in another)."""
    from matchcut import color
    from matchcut.missing_shots.reframe import punch_in

    space = color.plate_colorspace(plate)
    display = color.convert(np.ascontiguousarray(plate.rgb), space, color.SRGB_DISPLAY)
    # the networks see [0, 1]: highlights above 1 are divided by one scale and multiplied back
    scale = float(max(1.0, np.nanmax(display)))
    out = punch_in(np.clip(display / scale, 0, 1), box, height, width, model, device=device) * np.float32(scale)
    return color.convert(np.ascontiguousarray(out), color.SRGB_DISPLAY, space_out or space).astype(np.float32)


def make_frame(make: Make, proposal: Proposal, cache: dict, *, interpolation: Interpolation,
               upscale_model: str, device: Any = None) -> tuple[Any, list[str], str]:
    """One frame of ``proposal`` as a Plate, the warnings it raised and what it is (for its header and the
    events)."""
    from matchcut.frames import Plate
    from matchcut.retime.blend import interpolate_plates
    from matchcut.tools.fill import REBUILT_KEY

    name = os.path.basename(make.pattern)
    if make.how == "reuse":
        plate = _read(make, make.left, cache)
        plate.metadata.pop(REBUILT_KEY, None)
        return plate, [], make.describe(name)
    if make.how == "interpolate":
        p0, p1 = _read(make, make.left, cache), _read(make, make.right, cache)
        pixels, warnings = interpolate_plates(p0, p1, make.t, model=interpolation.model, device=device,
                                              depth=interpolation.depth, ensemble=interpolation.ensemble,
                                              quality=interpolation.quality)
        plate = (p0 if make.t < 0.5 else p1).with_pixels(pixels)
    else:
        source = _read(make, make.left, cache)
        width, height = proposal.size
        pixels = _punched(source, make.box, width, height, upscale_model, device, proposal.colorspace)
        plate = Plate(pixels, ("R", "G", "B"), metadata={}, colorspace=proposal.colorspace or source.colorspace,
                      source=source.source)
        warnings = []
    what = make.describe(name)
    plate.metadata[REBUILT_KEY] = f"coverage: {what}"
    return plate, warnings, what


def frame_sources(make: Make, cache: dict) -> list[str]:
    """The media files a frame is made from, for its provenance (a movie's as ``movie.mov#index``)."""
    from matchcut.frames import open_source

    key = (make.pattern, make.origin)
    if key not in cache:
        cache[key] = open_source(make.pattern, first_frame=make.origin)
    frames = [make.left] + ([make.right] if make.right is not None else [])
    return [cache[key].path_for(f) for f in frames]


def render(proposal: Proposal, folder: Path, provenance, *, interpolation: Interpolation, upscale_model: str,
           device: Any = None, on_frame: Callable[[int, str], None] = lambda k, what: None,
           on_warning: Callable[[str], None] = lambda m: None, stop=None,
           protect: tuple[str, ...] = ()) -> Rendered:
    """Write ``proposal``'s frames into ``folder`` (created); ``provenance`` (matchcut.provenance.Provenance) is
    the job's, each frame adds its sources and what it is. ``on_frame(k, what)`` after each frame; ``stop`` (a
    threading.Event) ends the render after the frame being written (what is written stays, and is kept by the
    next run)."""
    from matchcut.frames import parse_pattern, read_metadata, write_plate
    from matchcut.missing_shots.shots import thumbnail
    from matchcut.provenance import read_hash

    ext = extension_for(proposal.like or proposal.frames[0].pattern)
    pattern = str(folder / f"{proposal.id}.####{ext}")
    seq = parse_pattern(pattern)
    cache: dict = {}
    thumbs: dict[str, np.ndarray] = {}
    n = len(proposal.frames)
    marks = {0: "first", n // 2: "middle", n - 1: "last"}
    kept = 0
    for k, make in enumerate(proposal.frames):
        if stop is not None and stop.is_set():
            break
        dest = seq.path_for(FIRST_FRAME + k)
        kind = "synthetic" if make.synthetic else "reused"
        prov = provenance.with_sources(frame_sources(make, cache), frame=kind, proposal=proposal.id,
                                       coverage=proposal.kind)
        if dest.is_file() and read_hash(read_metadata(dest)) == prov.hash:
            kept += 1
            if k in marks:
                from matchcut.frames import read_plate

                thumbs[marks[k]] = thumbnail(read_plate(dest), 240)
            on_frame(k, "kept from an earlier run")
            continue
        plate, warnings, what = make_frame(make, proposal, cache, interpolation=interpolation,
                                           upscale_model=upscale_model, device=device)
        for message in warnings:
            on_warning(f"{proposal.id} frame {FIRST_FRAME + k}: {message}")
        dtype = depth_for(plate.pixels, ext) if make.how == "reuse" else "half"
        write_plate(dest, plate, dtype=dtype, provenance=prov, protect=protect)
        if k in marks:
            thumbs[marks[k]] = thumbnail(plate, 240)
        on_frame(k, what)
    return Rendered(pattern, FIRST_FRAME, FIRST_FRAME + n - 1, thumbs, kept)
