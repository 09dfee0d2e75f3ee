"""One frame of the matte tool, as functions: key or segment, apply garbage/holdout, then despill and comp.

Colours are scene-linear (H, W, 3) float32; mattes (H, W) float32 in [0, 1]. ``values`` are the tool's
validated parameters (see matchcut.tools.matte.MatteTool.controls).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matchcut.frames import Plate


def key_frame(rgb: np.ndarray, values: dict[str, Any], screen: tuple[str, np.ndarray] | None,
              clean: np.ndarray | None) -> tuple[np.ndarray, str]:
    """(alpha, screen name) for a screen shot; ``screen`` is the shot's (name, colour) picked once."""
    from matchcut.matte.keying import key_screen

    color = None if screen is None else [float(c) for c in screen[1]]
    if clean is not None and values["screen_color"] is not None:
        color = values["screen_color"][:3]
    alpha, name, _ = key_screen(rgb, screen_color=color, clean_plate=clean, uneven=values["uneven"],
                                black=values["black_point"], white=values["white_point"], softness=values["softness"])
    return alpha, name


def person_frame(rgb: np.ndarray, values: dict[str, Any], device: Any, frame: int,
                 previous: tuple[int, np.ndarray, np.ndarray] | None
                 ) -> tuple[np.ndarray, bool, tuple[int, np.ndarray, np.ndarray] | None]:
    """(alpha, present, state) for a person shot: gated selfie matte, edge refinement, temporal smoothing,
    then the black/white points and softness. ``previous``/``state``: (frame, matte, display image) of the
    last frame, used only when it is the frame just before this one."""
    from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert
    from matchcut.matte.keying import levels, soften
    from matchcut.matte.person import raw_person_matte, refine_matte, temporal_smooth

    display = np.clip(convert(rgb, SCENE_LINEAR, SRGB_DISPLAY), 0.0, 1.0)
    raw, present = raw_person_matte(display, device=device)
    alpha = refine_matte(display, raw, values["refine"]) if present else raw
    if present and previous is not None and previous[0] == frame - 1:
        alpha = temporal_smooth(previous[1], alpha, previous[2], display, strength=values["temporal"])
    state = (frame, alpha, display) if present else None
    alpha = soften(levels(alpha, values["black_point"], values["white_point"]), values["softness"])
    return alpha, present, state


def apply_masks(alpha: np.ndarray, masks: dict[str, Plate], warn: Callable[..., None]) -> np.ndarray:
    """The matte with the garbage matte taken out (alpha x (1 - garbage)) and the holdout forced in
    (max(alpha, holdout)). Masks of another size but the same aspect are stretched, with a warning."""
    from matchcut.matte.settings import mask_channel, mask_to_plate

    h, w = alpha.shape
    for name in ("garbage", "holdout"):
        if name not in masks:
            continue
        plate = masks[name]
        where = f"{plate.source or name} ({name})"
        m, resized = mask_to_plate(mask_channel(plate.pixels, plate.channels), h, w, where)
        if resized:
            warn(f"{where}: the mask is {plate.width}x{plate.height}, the plate {w}x{h}; stretched to fit (same "
                 "aspect ratio)", once=name)
        alpha = alpha * (1.0 - m) if name == "garbage" else np.maximum(alpha, m)
    return alpha.astype(np.float32)


def finish_frame(rgb: np.ndarray, alpha: np.ndarray, screen: str | None, values: dict[str, Any],
                 background: np.ndarray | None, *, want_comp: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(premultiplied foreground RGBA (H, W, 4), comp (H, W, 3) or None) from the plate and its matte.

    Order: despill (screens), foreground colour estimation at partial alpha, the optional grade toward the
    background, premultiply, then over the background with the optional light wrap.
    """
    from matchcut.matte.composite import composite, estimate_foreground, light_wrap, match_foreground, premultiply
    from matchcut.matte.despill import despill

    fg = rgb
    if screen is not None:
        fg = despill(fg, screen, values["despill"], values["despill_amount"])
    if values["decontaminate"] and np.any((alpha > 0.001) & (alpha < 0.999)):
        fg = estimate_foreground(fg, alpha)
    if values["match"] and background is not None:
        fg = match_foreground(fg, alpha, background, values["match_method"], values["match_strength"])
    premult = premultiply(fg, alpha)
    if not want_comp or background is None:
        return premult, None
    wrap = light_wrap(background, alpha, amount=values["light_wrap"], size=values["light_wrap_size"])
    return premult, composite(premult, background, wrap=wrap)
