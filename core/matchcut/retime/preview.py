"""The preview quality of fill and retime: RIFE's motion found once per pair on the pair at a fraction of its size,
and the full-size frames warped along it to each time asked.

Why it is fast: the model runs on PREVIEW_SCALE of the frame (a quarter of the pixels at 0.5), once per pair of
source frames whatever the number of in-betweens (a middle-frame model's flow at t = 0.5 is carried to other
times as linear motion, instead of recursive halving), with no flip ensemble. Why it stays sharp: the model's
flow and blend weight are scaled up and the full-size frames are warped by them, so the picture's detail is
the plates' own, as ``matchcut.vision.interpolation.carry`` moves an alpha.

Frames: (H, W, 3) float32 sRGB-encoded display values in [0, 1]; carried channels (H, W, C) float32.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np

from matchcut.errors import SettingError

#: The quality levels of fill and retime: "final" (the tool's model, ensemble and halving at full size) and
#: "preview" (this module).
QUALITIES = ("final", "preview")
#: The model the preview runs whatever the tool's model is: rife-hdv3's middle-frame motion carried to other
#: times beat minterpolate on the retime quality set, rife-4.25's (any timestep, weaker on small motion) did not.
PREVIEW_MODEL = "rife-hdv3"
#: Share of each side the preview runs the model at (measured in `matchcut bench --only retime`: at 0.5 it still
#: beats FFmpeg's minterpolate on the retime quality set; a third lost to it on small motion).
PREVIEW_SCALE = 0.5
#: The smallest side the model is given (its padding multiple is 32 for the zoo's RIFE graphs).
MIN_SIDE = 64
#: Pairs whose low-resolution motion is kept: a retime makes several in-betweens of one pair in a row.
CACHED_PAIRS = 4

_motions: OrderedDict[str, Any] = OrderedDict()


def forget_motions() -> None:
    """Drop the cached pair motions (a benchmark's warm-up must not leave the measured runs a cache hit)."""
    _motions.clear()


def check_quality(quality: str) -> str:
    """``quality`` when it is one of QUALITIES; SettingError listing them otherwise."""
    if quality not in QUALITIES:
        raise SettingError("quality", f"unknown quality '{quality}'", QUALITIES)
    return quality


def _small(frame: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    height, width = frame.shape[:2]
    size = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
    return cv2.resize(np.ascontiguousarray(frame, np.float32), size, interpolation=cv2.INTER_AREA)


def _key(small0: np.ndarray, small1: np.ndarray, t: float | None, model: str, device: Any) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in (small0, small1):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(repr((t, model, device, small0.shape)).encode())
    return digest.hexdigest()


def pair_motion(frame0: np.ndarray, frame1: np.ndarray, t: float, model: str, device: Any = None,
                scale: float = PREVIEW_SCALE):
    """The model's ``Motion`` for the pair at ``scale`` of its size: at ``t`` for a model that takes a timestep,
    at 0.5 otherwise (``retimed`` carries it to other times). Cached per pair (its low-resolution frames, the
    model, the device and, for a timestep model, t), so the in-betweens of one pair share one model run."""
    from matchcut.vision.interpolation import has_timestep, interpolate_motion

    small0, small1 = _small(frame0, scale), _small(frame1, scale)
    at = float(t) if has_timestep(model) else 0.5
    key = _key(small0, small1, at, model, device)
    if key in _motions:
        _motions.move_to_end(key)
        return _motions[key]
    motion = interpolate_motion(small0, small1, at, model=model, device=device)
    _motions[key] = motion
    while len(_motions) > CACHED_PAIRS:
        _motions.popitem(last=False)
    return motion


def retimed(motion: Any, t: float, made_at: float, shape: tuple[int, int]):
    """``motion`` (found at time ``made_at`` on a smaller frame) as a Motion of size ``shape`` (H, W) at time
    ``t``: its flow scaled up to the frame and, when t differs, carried along linear motion (the pull towards
    frame0 grows with t, towards frame1 with 1 - t); its blend weight resized and re-weighted by time so that it
    is the model's own at ``made_at``."""
    import cv2

    from matchcut.vision.interpolation import Motion

    height, width = shape
    small_h, small_w = motion.flow.shape[:2]
    flow = cv2.resize(motion.flow, (width, height), interpolation=cv2.INTER_LINEAR)
    flow[..., 0::2] *= np.float32(width / small_w)
    flow[..., 1::2] *= np.float32(height / small_h)
    weight = cv2.resize(motion.weight, (width, height), interpolation=cv2.INTER_LINEAR)
    if abs(t - made_at) > 1e-9:
        flow[..., :2] *= np.float32(t / made_at)
        flow[..., 2:] *= np.float32((1.0 - t) / (1.0 - made_at))
        # The weight's odds against frame1 scale as (1 - t) / t does against their value at made_at.
        odds = np.float32((1.0 - t) * made_at / (t * (1.0 - made_at)))
        weight = weight * odds / np.maximum(weight * odds + (1.0 - weight), 1e-6)
    return Motion(motion.frame, flow, np.clip(weight, 0.0, 1.0).astype(np.float32))


def interpolate_preview(frame0: np.ndarray, frame1: np.ndarray, t: float, model: str, device: Any = None,
                        alpha0: np.ndarray | None = None, alpha1: np.ndarray | None = None,
                        scale: float = PREVIEW_SCALE) -> tuple[np.ndarray, np.ndarray | None]:
    """The frame at ``t`` in (0, 1) between two full-size display frames, from the pair's low-resolution motion;
    ``alpha0``/``alpha1`` (or None) are carried with it. Returns (frame (H, W, 3) in [0, 1], carried or None)."""
    from matchcut.vision.interpolation import carry, has_timestep

    if not 0.0 < float(t) < 1.0:
        raise SettingError("timestep", f"expected a time strictly between the two frames (0 < t < 1), got {t}")
    motion = pair_motion(frame0, frame1, t, model, device, scale)
    made_at = float(t) if has_timestep(model) else 0.5
    full = retimed(motion, float(t), made_at, frame0.shape[:2])
    frame = np.clip(carry(frame0, frame1, full), 0.0, 1.0).astype(np.float32)
    carried = carry(alpha0, alpha1, full) if alpha0 is not None else None
    return np.ascontiguousarray(frame), carried
