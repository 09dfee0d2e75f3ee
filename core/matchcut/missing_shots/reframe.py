"""Punch-ins: a closer framing cut from a wider take and brought back to full resolution by super-resolution.

A punch-in keeps a box of the wider take's frame. The box has the output's aspect ratio and lies inside the
frame; how much larger the output is than the box (the *upscale*) may not exceed the model's own scale (the zoo's
models are 2x): beyond it the model would run on its own output and invent rather than restore, so it is refused
with the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from matchcut.errors import SettingError
from matchcut.vision.upscale import DEFAULT_UPSCALE


@dataclass(frozen=True)
class Box:
    """A framing in a frame's pixels: left, top, width, height (floats; the crop rounds them)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) integer bounds inside a width x height frame: the box's size rounded once (rounding
        both edges could make a 2x box a pixel short, a 2.03x upscale) and its corner moved inside the frame."""
        w = int(np.clip(round(self.w), 1, width))
        h = int(np.clip(round(self.h), 1, height))
        x0 = int(np.clip(round(self.x), 0, width - w))
        y0 = int(np.clip(round(self.y), 0, height - h))
        return x0, y0, x0 + w, y0 + h

    def to_list(self) -> list[float]:
        return [round(v, 2) for v in (self.x, self.y, self.w, self.h)]


def punch_box(width: int, height: int, scale: float, centre: tuple[float, float] | None = None,
              aspect: float | None = None) -> Box:
    """The box of a ``scale``x punch-in of a width x height frame: 1/scale of its size (of the output's ``aspect``,
    width / height, when given: the largest such box 1/scale of the frame's), centred on ``centre`` (pixels;
    default the frame's centre) and moved inside the frame when it would cross an edge."""
    if not scale >= 1.0:
        raise SettingError("punch", f"expected a punch-in of at least 1 (1.5: half as close again), got {scale!r}")
    aspect = aspect or width / height
    w, h = (width, width / aspect) if width / height <= aspect else (height * aspect, height)
    w, h = w / scale, h / scale
    cx, cy = centre if centre is not None else (width / 2, height / 2)
    x = float(np.clip(cx - w / 2, 0, width - w))
    y = float(np.clip(cy - h / 2, 0, height - h))
    return Box(x, y, w, h)


def upscale_needed(box: Box, height: int, width: int) -> float:
    """How many times larger the output (height x width) is than the box's crop (whole pixels, as punch_in cuts
    it): what super-resolution must make."""
    return max(width / max(1, round(box.w)), height / max(1, round(box.h)))


def check_upscale(box: Box, height: int, width: int, model_id: str = DEFAULT_UPSCALE, limit: float | None = None,
                  *, device: Any = None) -> float:
    """The upscale a punch-in needs; raises SettingError("punch") when it is beyond ``limit`` (default the model's
    own scale), naming the limit and the framing that reaches it."""
    from matchcut.vision.upscale import model_scale

    need = upscale_needed(box, height, width)
    most = float(limit if limit is not None else model_scale(model_id, device=device))
    if need > most + 1e-6:
        raise SettingError("punch", f"a {box.w:.0f}x{box.h:.0f} box brought to {width}x{height} is a {need:.2f}x "
                           f"upscale, beyond the {most:g}x of model '{model_id}': punch in at most {most:g}x closer "
                           "than the take's own resolution gives")
    return need


def punch_in(image: np.ndarray, box: Box, height: int, width: int, model_id: str = DEFAULT_UPSCALE, *,
             device: Any = None) -> np.ndarray:
    """The box of ``image`` (H, W, 3) float32 display sRGB in [0, 1] at height x width, by the super-resolution
    model (``matchcut.vision.upscale.upscale_to``: its 2x, then an area reduction to the exact size; the area
    reduction alone when the box is already at least that size: a take of a higher resolution than the edit).
    Float32 (height, width, 3) in [0, 1], C-contiguous."""
    from matchcut.vision.upscale import reduce_to, upscale_to

    x0, y0, x1, y1 = box.pixels(image.shape[1], image.shape[0])
    crop = np.ascontiguousarray(image[y0:y1, x0:x1, :3], dtype=np.float32)
    if crop.shape[0] >= height and crop.shape[1] >= width:
        return np.ascontiguousarray(np.clip(reduce_to(crop, height, width), 0.0, 1.0), dtype=np.float32)
    if crop.shape[0] > height or crop.shape[1] > width:  # a box of another aspect, over on one side only
        crop = np.clip(reduce_to(crop, min(crop.shape[0], height), min(crop.shape[1], width)), 0.0, 1.0)
    return upscale_to(crop, height, width, model_id, device=device)
