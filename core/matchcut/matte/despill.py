"""Despill: take the screen's colour cast out of the foreground (green or blue light bounced onto the subject)."""

from __future__ import annotations

import numpy as np

from matchcut.errors import SettingError

METHODS = ("screen", "average", "limit", "none")


def despill(rgb: np.ndarray, screen: str, method: str = "average", amount: float = 1.0) -> np.ndarray:
    """The foreground with spill removed: scene-linear (H, W, 3) float32 in, the same out.

    average: the screen channel is limited to the mean of the other two (the classic, stronger despill);
    limit: limited to the larger of the other two (keeps yellows and cyans). amount mixes 0 (none) to 1.
    Only the screen channel is lowered, so neutral and skin tones are left as they were. "screen" needs the
    shot's screen model (matte.screen.screen_despill); here, without one, it is "limit".
    Both work on premultiplied colour too (they scale with it).
    """
    if method not in METHODS:
        raise SettingError("despill", f"unknown despill method {method!r}", METHODS)
    if method == "none" or amount <= 0:
        return rgb
    out = rgb.copy()
    c = 1 if screen == "green" else 2
    others = [i for i in range(3) if i != c]
    a, b = rgb[..., others[0]], rgb[..., others[1]]
    limit = 0.5 * (a + b) if method == "average" else np.maximum(a, b)  # "screen" without a model: limit
    spill = np.maximum(rgb[..., c] - limit, 0.0)
    out[..., c] = rgb[..., c] - amount * spill
    return out.astype(np.float32)
