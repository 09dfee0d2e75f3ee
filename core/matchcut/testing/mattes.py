"""Matte shots with a known answer: scikit-image photos cut by a known soft alpha over screens, and people.

Test shots: photos in the config's scene-linear space (``photos.photo(..., colorspace="scene_linear")``, the
display sRGB resized, then converted through matchcut.color) cut by a known soft alpha with feathered edges
and hair-thin strands, over green or blue screens, even or with a gradient, with noise. The errors are
``metrics.matte_errors``.
"""

from __future__ import annotations

import numpy as np

from matchcut.testing.metrics import matte_errors
from matchcut.testing.photos import photo

#: Scene-linear screen colours (a lit chroma-key green and blue, roughly as a camera records them).
SCREEN_COLORS = {"green": (0.08, 0.42, 0.12), "blue": (0.06, 0.12, 0.45)}


def soft_alpha(height: int, width: int, *, seed: int = 0) -> np.ndarray:
    """A known alpha (H, W) float32 in [0, 1]: an ellipse whose edge is feathered over ~3 % of the frame,
    plus hair-thin strands (1-2 px wide, partial coverage) curling out of it."""
    import cv2

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx, ry, rx = height * 0.55, width * 0.5, height * 0.35, width * 0.28
    d = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
    feather = 0.06
    alpha = np.clip((1.0 + feather - d) / (2 * feather), 0.0, 1.0)
    strands = np.zeros((height, width), np.float32)
    for _ in range(max(6, width // 20)):
        angle = rng.uniform(-np.pi, 0)  # strands leave the upper half, as hair does
        t = np.linspace(0.9, 1.45, 60)
        wobble = rng.uniform(-0.25, 0.25)
        px = cx + rx * t * np.cos(angle + wobble * (t - 0.9))
        py = cy + ry * t * np.sin(angle + wobble * (t - 0.9))
        pts = np.stack([px, py], 1).astype(np.int32)[:, None]
        cv2.polylines(strands, [pts], False, float(rng.uniform(0.5, 1.0)), thickness=1, lineType=cv2.LINE_AA)
    return np.clip(np.maximum(alpha, strands), 0.0, 1.0).astype(np.float32)


def screen_background(height: int, width: int, screen: str, *, uneven: float = 0.0) -> np.ndarray:
    """A screen (H, W, 3) float32 scene-linear; ``uneven`` darkens it by that fraction from the top-left
    corner to the bottom-right (a light falling off across the screen) with a slight hue drift."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (x / max(width - 1, 1) + y / max(height - 1, 1)) / 2
    color = np.asarray(SCREEN_COLORS[screen], np.float32)
    gain = 1.0 - uneven * ramp
    shift = 1.0 + 0.2 * uneven * (ramp - 0.5)  # the dim side slightly warmer
    bg = color[None, None] * gain[..., None]
    bg[..., 0] *= shift
    return bg.astype(np.float32)


def screen_shot(foreground: np.ndarray, alpha: np.ndarray, screen: str, *, uneven: float = 0.0,
                noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """The foreground over a screen through the known alpha, with Gaussian noise of ``noise`` x the screen's
    level (camera noise); (H, W, 3) float32 scene-linear."""
    h, w = alpha.shape
    bg = screen_background(h, w, screen, uneven=uneven)
    shot = foreground * alpha[..., None] + bg * (1.0 - alpha[..., None])
    if noise > 0:
        rng = np.random.default_rng(seed)
        shot = shot + rng.normal(0.0, noise * float(np.max(SCREEN_COLORS[screen])), shot.shape).astype(np.float32)
    return shot.astype(np.float32)


def sky_shot(name: str, height: int, width: int, *, sky: float = 0.6, curve: float = 2.0) -> np.ndarray:
    """A scikit-image photo with a deep blue sky over its top ``sky`` fraction: a vertical gradient in display
    sRGB from a deep zenith blue (0.12, 0.28, 0.70) to a pale horizon (0.62, 0.76, 0.90), t ** ``curve`` (larger:
    deep blue further down); scene-linear (H, W, 3) float32. What auto mode must not take for a blue screen."""
    from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert

    image = photo(name, colorspace="scene_linear", size=(height, width))
    display = np.clip(convert(image, SCENE_LINEAR, SRGB_DISPLAY), 0.0, 1.0)
    rows = max(1, int(round(height * sky)))
    t = (np.linspace(0.0, 1.0, rows, dtype=np.float32) ** curve)[:, None, None]
    zenith, horizon = np.array([0.12, 0.28, 0.70], np.float32), np.array([0.62, 0.76, 0.90], np.float32)
    display[:rows] = (1.0 - t) * zenith + t * horizon
    return convert(np.ascontiguousarray(display, np.float32), SRGB_DISPLAY, SCENE_LINEAR)


def astronaut_truth(size: int, device=None) -> tuple[np.ndarray, np.ndarray]:
    """(image, alpha): scikit-image's astronaut at (size, size), scene-linear, and the truth alpha: her best
    refined matte (gated selfie matte + closed-form matting) on the plain backdrop, (size, size) float32."""
    from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert
    from matchcut.matte.person import raw_person_matte, refine_matte

    image = photo("astronaut", colorspace="scene_linear", size=(size, size))
    display = np.clip(convert(image, SCENE_LINEAR, SRGB_DISPLAY), 0.0, 1.0)
    raw, _ = raw_person_matte(display, device=device)
    return image, refine_matte(display, raw, "closed-form")


def person_errors(size: int, backgrounds: tuple[str, ...] = ("rocket", "chelsea", "coffee"),
                  methods: tuple[str, ...] = ("none", "guided", "closed-form"),
                  device=None) -> dict[str, dict[str, dict[str, float]]]:
    """Person-matte errors on a known answer: the astronaut (cut by astronaut_truth) over each busy photo,
    the matte pulled again by each refinement; {background: {method: metrics.matte_errors()}}."""
    from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert
    from matchcut.matte.person import raw_person_matte, refine_matte

    image, truth = astronaut_truth(size, device)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in backgrounds:
        back = photo(name, colorspace="scene_linear", size=(size, size))
        shot = image * truth[..., None] + back * (1.0 - truth[..., None])
        display = np.clip(convert(shot, SCENE_LINEAR, SRGB_DISPLAY), 0.0, 1.0)
        raw, _ = raw_person_matte(display, device=device)
        out[name] = {m: matte_errors(refine_matte(display, raw, m), truth) for m in methods}
    return out
