"""Running RIFE on a pair of plates: colour to display-referred and back, highlights, alpha, extra layers, 4K.

Values above 1: RIFE clips its input and output to [0, 1], so the pair is divided by one common scale (the
larger of 1 and the pair's brightest display-encoded value) before the model and multiplied back after.
The ACES config's sRGB encoding is unclamped above 1, so a scene-linear highlight of 20 stays 20 through
the round trip. Pairs without such values see the model exactly as trained (scale 1). Negative
(out-of-gamut) values are clipped at 0 by the model.

Alpha: RIFE gives only the frame, not its flow, so the alpha channel is interpolated by a second run of the
same model at the same timestep with the alpha in all three colour channels. The motion is re-estimated from
the matte's edges, not shared with the colour run: matte and picture move together where the matte has
structure, and can differ inside flat areas of the matte (where the matte is flat the result is too).
Other channels (AOVs, mattes named otherwise) are taken from the nearer frame, with a warning.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matchcut.errors import SettingError, ShapeMismatchError

#: Frames wider or taller than this go through the model's half-scale flow variant when it has one.
HALF_SCALE_ABOVE = 2560
#: Halving depth for models that only make t = 0.5: the timestep reached is within 2**-depth.
DEFAULT_DEPTH = 5
_RGB = ("R", "G", "B")


def choose_model(model: str, height: int, width: int) -> str:
    """The model id to run at this size: ``model``, or its manifest's ``runtime.variants.half_scale`` when
    the frame is larger than HALF_SCALE_ABOVE on either side (4K), so the flow is estimated at half scale."""
    from matchcut.models.registry import find_model

    if max(height, width) <= HALF_SCALE_ABOVE:
        return model
    return find_model(model).runtime.variants.get("half_scale", model)


def has_timestep(model: str) -> bool:
    """True when the model takes any timestep (rife-4.25); False for middle-frame-only models (rife-hdv3)."""
    from matchcut.models.registry import find_model

    return any(spec.name == "timestep" for spec in find_model(model).inputs)


#: Flip ensembles: 1 run as is; 2 adds the mirrored pair; 4 adds the upside-down pair and both.
ENSEMBLES = (1, 2, 4)
_FLIPS = {1: ((False, False),), 2: ((False, False), (True, False)),
          4: ((False, False), (True, False), (False, True), (True, True))}


def interpolate_display(frame0: np.ndarray, frame1: np.ndarray, t: float, model: str, device: Any = None,
                        depth: int = DEFAULT_DEPTH, ensemble: int = 1) -> np.ndarray:
    """The frame at ``t`` between two (H, W, 3) float32 sRGB-encoded display frames in [0, 1]; any timestep
    with a timestep model, recursive halving (to within 2**-depth) with a middle-frame-only model.

    ensemble: 1, 2 or 4 runs on mirrored copies of the pair, flipped back and averaged (test-time
    augmentation): the network's left/right and up/down biases cancel; costs that many model runs.
    """
    if ensemble not in _FLIPS:
        raise SettingError("ensemble", f"expected one of {ENSEMBLES}, got {ensemble}")
    results = []
    for flip_x, flip_y in _FLIPS[ensemble]:
        a, b = frame0, frame1
        if flip_x:
            a, b = a[:, ::-1], b[:, ::-1]
        if flip_y:
            a, b = a[::-1], b[::-1]
        out = _interpolate_once(np.ascontiguousarray(a), np.ascontiguousarray(b), t, model, device, depth)
        if flip_x:
            out = out[:, ::-1]
        if flip_y:
            out = out[::-1]
        results.append(out)
    return np.ascontiguousarray(np.mean(results, axis=0), dtype=np.float32)


def _interpolate_once(frame0: np.ndarray, frame1: np.ndarray, t: float, model: str, device: Any,
                      depth: int) -> np.ndarray:
    from matchcut.retime.timing import halving_steps
    from matchcut.vision.interpolation import interpolate

    if has_timestep(model):
        return interpolate(frame0, frame1, float(t), model=model, device=device)
    path, _ = halving_steps(float(t), depth)
    a, b = frame0, frame1
    mid = interpolate(a, b, 0.5, model=model, device=device)
    for side in path:
        a, b = (a, mid) if side == 0 else (mid, b)
        mid = interpolate(a, b, 0.5, model=model, device=device)
    return mid


def _rgb_index(channels: tuple[str, ...]) -> list[int]:
    if all(c in channels for c in _RGB):
        return [channels.index(c) for c in _RGB]
    return [0, 1, 2]


def interpolate_plates(plate0, plate1, t: float, *, model: str, device: Any = None,
                       depth: int = DEFAULT_DEPTH, ensemble: int = 1) -> tuple[np.ndarray, list[str]]:
    """The in-between of two Plates at ``t`` in (0, 1), in plate0's colour space and channel layout.

    Plates: float32 (H, W, C >= 3), one size, same channels, any OCIO colour space (the file's, else EXR
    scene linear, else sRGB). Returns (pixels float32 (H, W, C), warnings). Raises ShapeMismatchError when
    sizes or channels differ or a plate has fewer than three channels.
    """
    from matchcut import color

    if plate0.pixels.shape[:2] != plate1.pixels.shape[:2]:
        raise ShapeMismatchError(f"{plate1.source or 'plate'} is {plate1.width}x{plate1.height} but "
                                 f"{plate0.source or 'plate'} is {plate0.width}x{plate0.height}; "
                                 "neighbours must be one size to interpolate")
    if plate0.channels != plate1.channels or plate0.nchannels < 3:
        raise ShapeMismatchError(f"{plate1.source or 'plate'}: channels {plate1.channels} do not match "
                                 f"{plate0.channels} of {plate0.source or 'plate'} (interpolation needs R, G, B)")
    warnings: list[str] = []
    height, width = plate0.height, plate0.width
    run_model = choose_model(model, height, width)
    space = color.plate_colorspace(plate0)
    rgb = _rgb_index(plate0.channels)
    d0 = color.convert(np.ascontiguousarray(plate0.pixels[..., rgb]), space, color.SRGB_DISPLAY)
    d1 = color.convert(np.ascontiguousarray(plate1.pixels[..., rgb]), space, color.SRGB_DISPLAY)
    scale = float(max(1.0, np.nanmax(d0), np.nanmax(d1)))
    inv = np.float32(1.0 / scale)
    mid = interpolate_display(np.clip(d0 * inv, 0, 1), np.clip(d1 * inv, 0, 1), t, run_model, device, depth,
                              ensemble)
    mid = mid * np.float32(scale)
    out = np.array(plate0.pixels if t < 0.5 else plate1.pixels, dtype=np.float32, copy=True)
    out[..., rgb] = color.convert(mid, color.SRGB_DISPLAY, space)
    if "A" in plate0.channels:
        ai = plate0.channels.index("A")
        a0 = np.repeat(np.clip(plate0.pixels[..., ai:ai + 1], 0, 1), 3, axis=2)
        a1 = np.repeat(np.clip(plate1.pixels[..., ai:ai + 1], 0, 1), 3, axis=2)
        out[..., ai] = interpolate_display(a0, a1, t, run_model, device, depth, ensemble).mean(axis=2)
    extra = [c for i, c in enumerate(plate0.channels) if i not in rgb and c != "A"]
    if extra:
        nearer = plate0 if t < 0.5 else plate1
        warnings.append(f"channel(s) {', '.join(extra)} are not interpolated: taken from "
                        f"{nearer.source or 'the nearer frame'}")
    return np.ascontiguousarray(out, dtype=np.float32), warnings
