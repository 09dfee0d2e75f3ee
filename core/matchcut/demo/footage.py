"""Sample footage for the demo and the benchmarks, made from the photographs scikit-image ships.

No footage is downloaded: scikit-image's wheel (a pinned dependency) carries public-domain and CC0 photos.
Each shot is a short scene-linear EXR sequence with a slow, sub-pixel camera move and signal-dependent
grain, so temporal tools have real motion and grain to deal with. The same seed gives the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Frame numbers start where plates usually start in a VFX pull.
FIRST_FRAME = 1001


@dataclass(frozen=True)
class Shot:
    """A generated shot: its pattern on disk, frame numbers and what it shows."""

    name: str
    pattern: str
    frames: list[int]
    description: str


def _camera_move(img: np.ndarray, size: tuple[int, int], t: float, pan: tuple[float, float], zoom: float) -> np.ndarray:
    """One frame of a slow push-in and pan over `img`, output (height, width, 3), bilinear, sub-pixel."""
    import cv2

    h, w = img.shape[:2]
    out_h, out_w = size
    # Fit the photo to the frame (cover), then move: zoom grows and the centre drifts with t.
    base = max(out_w / w, out_h / h) * 1.15
    s = base * (1.0 + zoom * t)
    cx, cy = w / 2 + pan[0] * t, h / 2 + pan[1] * t
    m = np.array([[s, 0, out_w / 2 - s * cx], [0, s, out_h / 2 - s * cy]], dtype=np.float64)
    return cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _grain(linear: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Signal-dependent gaussian grain in scene-linear (stronger in the mids, as film and sensors give)."""
    sigma = amount * (np.sqrt(np.clip(linear, 0.0, None)) + 0.02)
    return linear + sigma * rng.standard_normal(linear.shape).astype(np.float32)


def make_shot(
    out_dir: Path,
    name: str,
    photo: str,
    *,
    frames: int = 8,
    size: tuple[int, int] = (540, 960),
    pan: tuple[float, float] = (18.0, -6.0),
    zoom: float = 0.04,
    grain: float = 0.02,
    seed: int = 0,
    description: str = "",
) -> Shot:
    """Write a scene-linear EXR sequence `out_dir/name/name.####.exr` and return its Shot.

    Args:
        photo: a scikit-image data function name (``astronaut``, ``coffee``, ``chelsea``, ...).
        size: (height, width) of the frames.
        pan: total camera drift in source pixels over the shot; zoom: total relative push-in.
        grain: grain strength in scene-linear units at mid-grey.
    """
    from matchcut import color
    from matchcut.frames import Plate, write_plate
    from matchcut.testing.photos import photo as load_photo

    src = load_photo(photo, colorspace="srgb")
    rng = np.random.default_rng(seed)
    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    numbers = list(range(FIRST_FRAME, FIRST_FRAME + frames))
    linear_space = color.resolve_colorspace(color.SCENE_LINEAR)
    for i, frame in enumerate(numbers):
        t = i / max(1, frames - 1)
        display = _camera_move(src, size, t, pan, zoom)
        linear = color.convert(display, color.SRGB_DISPLAY, linear_space)
        linear = _grain(linear, rng, grain).astype(np.float32)
        plate = Plate(
            pixels=np.ascontiguousarray(linear),
            channels=("R", "G", "B"),
            data_window=(0, 0, size[1], size[0]),
            display_window=(0, 0, size[1], size[0]),
            metadata={"matchcut/sample": f"scikit-image {photo}, seed {seed}"},
            colorspace=linear_space,
            source=None,
        )
        write_plate(folder / f"{name}.{frame:04d}.exr", plate, kind="plate")
    return Shot(name, str(folder / f"{name}.####.exr"), numbers, description or f"{photo}: push-in with grain")
