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
    from matchcut.matte.screen import ScreenModel


def key_frame(rgb: np.ndarray, values: dict[str, Any], model: ScreenModel) -> np.ndarray:
    """The alpha of a screen shot's frame against its screen model (the shot's shared one, or this frame's),
    then the black/white points and softness; (H, W) float32 in [0, 1]."""
    from matchcut.matte.keying import key_screen

    alpha, _, _ = key_screen(rgb, model=model, despot=values["despot"], black=values["black_point"],
                             white=values["white_point"], softness=values["softness"])
    return alpha


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


def not_screen(masks: dict[str, Plate], height: int, width: int) -> np.ndarray | None:
    """(H, W) float32 in [0, 1]: where the garbage or holdout matte says the frame is not screen (rigs, stands,
    the subject's core), so the screen model never fits there; None when neither is given."""
    from matchcut.matte.settings import mask_channel, mask_to_plate

    out = None
    for name in ("garbage", "holdout"):
        if name in masks:
            plate = masks[name]
            m, _ = mask_to_plate(mask_channel(plate.pixels, plate.channels), height, width,
                                 f"{plate.source or name} ({name})")
            out = m if out is None else np.maximum(out, m)
    return out


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


def screen_foreground(rgb: np.ndarray, alpha: np.ndarray, model: ScreenModel, values: dict[str, Any]) -> np.ndarray:
    """A screen shot's premultiplied foreground colour (H, W, 3): with ``decontaminate``, the plate minus the
    screen model behind it (rgb - (1 - alpha) x screen), else the plate times alpha; then the despill ("screen":
    the screen model's own colour taken out where the subject leads; average/limit: the classic limiters)."""
    from matchcut.matte.despill import despill
    from matchcut.matte.screen import premultiplied_foreground, screen_despill

    premult = premultiplied_foreground(rgb, alpha, model) if values["decontaminate"] else rgb * alpha[..., None]
    if values["despill"] == "screen":
        return screen_despill(premult, alpha, model, values["despill_amount"])
    return despill(premult.astype(np.float32), model.screen, values["despill"], values["despill_amount"])


def finish_frame(rgb: np.ndarray, alpha: np.ndarray, model: ScreenModel | None, values: dict[str, Any],
                 background: np.ndarray | None, *, want_comp: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(premultiplied foreground RGBA (H, W, 4), comp (H, W, 3) or None) from the plate and its matte.

    Screens (``model`` given): the foreground from the screen model and its despill (screen_foreground). People:
    foreground colour estimation at partial alpha (pymatting). Then the optional grade toward the background,
    premultiply, and over the background with the optional light wrap.
    """
    from matchcut.matte.composite import composite, estimate_foreground, light_wrap, match_foreground, premultiply

    if model is not None:
        premult_rgb = screen_foreground(rgb, alpha, model, values)
        if values["match"] and background is not None:
            # grade the subject's own colour, then premultiply again
            fg = premult_rgb / np.maximum(alpha, 1e-3)[..., None]
            fg = match_foreground(fg, alpha, background, values["match_method"], values["match_strength"])
            premult_rgb = fg * alpha[..., None]
        premult = np.concatenate([premult_rgb, alpha[..., None]], axis=2).astype(np.float32)
    else:
        fg = rgb
        if values["decontaminate"] and np.any((alpha > 0.001) & (alpha < 0.999)):
            fg = estimate_foreground(fg, alpha)
        if values["match"] and background is not None:
            fg = match_foreground(fg, alpha, background, values["match_method"], values["match_strength"])
        premult = premultiply(fg, alpha)
    if not want_comp or background is None:
        return premult, None
    wrap = light_wrap(background, alpha, amount=values["light_wrap"], size=values["light_wrap_size"])
    return premult, composite(premult, background, wrap=wrap)
