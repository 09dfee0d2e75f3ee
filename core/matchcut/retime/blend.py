"""Running RIFE on a pair of plates: colour to display-referred and back, highlights, alpha, extra layers, 4K.

Values above 1: RIFE clips its input and output to [0, 1], so the pair is divided by one common scale (the
larger of 1 and the pair's brightest display-encoded value) before the model and multiplied back after.
The ACES config's sRGB encoding is unclamped above 1, so a scene-linear highlight of 20 stays 20 through
the round trip. Pairs without such values see the model exactly as trained (scale 1). Negative
(out-of-gamut) values are clipped at 0 by the model.

Alpha: the zoo's RIFE graphs return their flow and blend weight beside the frame, and the alpha channel is
warped by that same flow and mixed by that same weight (``matchcut.vision.interpolation.carry``), so the matte
moves exactly as the picture does, through every halving step and every run of a flip ensemble.
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


#: Flip ensembles: 1 run as is; 2 adds the mirrored pair; 4 adds the upside-down pair and both.
ENSEMBLES = (1, 2, 4)
_FLIPS = {1: ((False, False),), 2: ((False, False), (True, False)),
          4: ((False, False), (True, False), (False, True), (True, True))}


def interpolate_display(frame0: np.ndarray, frame1: np.ndarray, t: float, model: str, device: Any = None,
                        depth: int = DEFAULT_DEPTH, ensemble: int = 1, quality: str = "final") -> np.ndarray:
    """The frame at ``t`` between two (H, W, 3) float32 sRGB-encoded display frames in [0, 1]; any timestep
    with a timestep model, recursive halving (to within 2**-depth) with a middle-frame-only model.

    ensemble: 1, 2 or 4 runs on mirrored copies of the pair, flipped back and averaged (test-time
    augmentation): the network's left/right and up/down biases cancel; costs that many model runs.
    quality: "final", or "preview" (``matchcut.retime.preview``: the motion at a fraction of the size, once per
    pair; ``depth`` and ``ensemble`` are not used).
    """
    return interpolate_display_alpha(frame0, frame1, t, model, device, depth, ensemble, quality=quality)[0]


def interpolate_display_alpha(frame0: np.ndarray, frame1: np.ndarray, t: float, model: str, device: Any = None,
                              depth: int = DEFAULT_DEPTH, ensemble: int = 1, alpha0: np.ndarray | None = None,
                              alpha1: np.ndarray | None = None,
                              quality: str = "final") -> tuple[np.ndarray, np.ndarray | None]:
    """``interpolate_display`` that also carries channels ``alpha0``/``alpha1`` ((H, W, C) float32 each, or
    None) with the model's own flow and weight. Returns (frame (H, W, 3), carried (H, W, C) or None)."""
    from matchcut.retime.preview import check_quality, interpolate_preview

    if check_quality(quality) == "preview":
        return interpolate_preview(frame0, frame1, t, model, device, alpha0, alpha1)
    if ensemble not in _FLIPS:
        raise SettingError("ensemble", f"expected one of {ENSEMBLES}, got {ensemble}")
    frames, carried = [], []
    for flip_x, flip_y in _FLIPS[ensemble]:
        arrays = [frame0, frame1] + ([alpha0, alpha1] if alpha0 is not None else [])
        arrays = [_flip(a, flip_x, flip_y) for a in arrays]
        out, extra = _interpolate_once(*arrays[:2], t, model, device, depth, *arrays[2:])
        frames.append(_flip(out, flip_x, flip_y))
        if extra is not None:
            carried.append(_flip(extra, flip_x, flip_y))
    frame = np.ascontiguousarray(np.mean(frames, axis=0), dtype=np.float32)
    alpha = np.ascontiguousarray(np.mean(carried, axis=0), dtype=np.float32) if carried else None
    return frame, alpha


def _flip(a: np.ndarray, flip_x: bool, flip_y: bool) -> np.ndarray:
    if flip_x:
        a = a[:, ::-1]
    if flip_y:
        a = a[::-1]
    return np.ascontiguousarray(a)


def _interpolate_once(frame0: np.ndarray, frame1: np.ndarray, t: float, model: str, device: Any, depth: int,
                      alpha0: np.ndarray | None = None,
                      alpha1: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    from matchcut.retime.timing import halving_steps
    from matchcut.vision.interpolation import carry, has_timestep, interpolate, interpolate_motion

    def step(a, b, aa, ab, at):
        if aa is None:
            return interpolate(a, b, at, model=model, device=device), None
        motion = interpolate_motion(a, b, at, model=model, device=device)
        return motion.frame, carry(aa, ab, motion)

    if has_timestep(model):
        return step(frame0, frame1, alpha0, alpha1, float(t))
    path, _ = halving_steps(float(t), depth)
    a, b, aa, ab = frame0, frame1, alpha0, alpha1
    mid, amid = step(a, b, aa, ab, 0.5)
    for side in path:
        # Each halving keeps the half that holds t; the alpha follows the same pair of frames.
        a, b, aa, ab = (a, mid, aa, amid) if side == 0 else (mid, b, amid, ab)
        mid, amid = step(a, b, aa, ab, 0.5)
    return mid, amid


def _within_memory(run, device: Any, quality: str, what: str, warnings: list[str]):
    """``run(device, quality)``; RIFE takes the whole frame at once (it cannot be tiled), so an out-of-memory
    error retries on the CPU when it ran on a GPU, then at preview quality (the motion at half size), each said
    in ``warnings``; DeviceMemoryError only when the preview does not fit either."""
    from matchcut.errors import DeviceMemoryError
    from matchcut.runtime.backends import DeviceOptions
    from matchcut.runtime.budget import is_out_of_memory

    options = device if isinstance(device, DeviceOptions) else DeviceOptions.from_dict(device or {})
    tries = [(options, quality)]
    if options.provider != "cpu":
        tries.append((DeviceOptions(provider="cpu", threads=options.threads), quality))
    if quality != "preview":
        tries.append((tries[-1][0], "preview"))
    for i, (dev, q) in enumerate(tries):
        try:
            return run(dev, q)
        except Exception as exc:  # onnxruntime's own exception types carry the OOM in their text
            if not is_out_of_memory(exc):
                raise
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if i + 1 == len(tries):
                raise DeviceMemoryError(f"{what}: out of memory even at preview quality on the CPU ({first}); "
                                        "free memory or make the plates smaller") from exc
            nxt_dev, nxt_q = tries[i + 1]
            how = "on the CPU" if nxt_dev.provider == "cpu" and dev.provider != "cpu" else f"at {nxt_q} quality"
            warnings.append(f"{what}: out of memory on {dev.provider} ({first}); this frame is made {how}")


def _rgb_index(channels: tuple[str, ...]) -> list[int]:
    if all(c in channels for c in _RGB):
        return [channels.index(c) for c in _RGB]
    return [0, 1, 2]


def interpolate_plates(plate0, plate1, t: float, *, model: str, device: Any = None,
                       depth: int = DEFAULT_DEPTH, ensemble: int = 1,
                       quality: str = "final") -> tuple[np.ndarray, list[str]]:
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
    alpha0 = alpha1 = None
    if "A" in plate0.channels:
        ai = plate0.channels.index("A")
        alpha0 = np.ascontiguousarray(plate0.pixels[..., ai:ai + 1], dtype=np.float32)
        alpha1 = np.ascontiguousarray(plate1.pixels[..., ai:ai + 1], dtype=np.float32)
    pair = (np.clip(d0 * inv, 0, 1), np.clip(d1 * inv, 0, 1))
    mid, alpha = _within_memory(lambda dev, q: interpolate_display_alpha(*pair, t, run_model, dev, depth, ensemble,
                                                                         alpha0, alpha1, quality=q),
                                device, quality, f"{run_model} at {width}x{height}", warnings)
    mid = mid * np.float32(scale)
    out = np.array(plate0.pixels if t < 0.5 else plate1.pixels, dtype=np.float32, copy=True)
    out[..., rgb] = color.convert(mid, color.SRGB_DISPLAY, space)
    if alpha is not None:
        out[..., ai] = alpha[..., 0]
    extra = [c for i, c in enumerate(plate0.channels) if i not in rgb and c != "A"]
    if extra:
        nearer = plate0 if t < 0.5 else plate1
        warnings.append(f"channel(s) {', '.join(extra)} are not interpolated: taken from "
                        f"{nearer.source or 'the nearer frame'}")
    return np.ascontiguousarray(out, dtype=np.float32), warnings
