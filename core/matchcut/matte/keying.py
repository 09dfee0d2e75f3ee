"""Screen keying: a colour-difference keyer for green and blue screens, with screen colour found automatically.

Every function takes scene-linear RGB, (H, W, 3) float32, and returns mattes as (H, W) float32 in [0, 1]
(1 = foreground). Colour difference is a ratio, so it works the same on linear values at any exposure.
"""

from __future__ import annotations

import numpy as np

from matchcut.errors import SettingError, ShapeMismatchError

SCREENS = ("green", "blue")
#: Fraction of the frame's short side taken as "the border" when looking for the screen.
BORDER = 0.08
#: A border pixel counts as screen when its screen channel leads the others by this fraction of its value.
SCREEN_LEAD = 0.25
#: A border pixel is saturated screen colour when its lead is this fraction of its value. Chroma green and
#: blue screens measure 0.65-0.75 in scene-linear; a deep blue sky ~0.5-0.6 (scikit-image's rocket).
DETECT_LEAD = 0.55
#: screen mode: the screen (green or blue) is the one covering at least this fraction of the border.
SCREEN_DOMINANCE = 0.5
#: auto mode (surrounding_screen): a side of the border is screen when at least SIDE_COVER of its band is the
#: screen's own colour and at most FRINGE_MAX of its screen-hued pixels are off that colour; SIDES_NEEDED of
#: the four sides must be. "The screen's own colour": within CORE_SATURATION of the median saturation (lead /
#: value) and CORE_HUE degrees of the median hue of the saturated border pixels.
SIDE_COVER = 0.5
FRINGE_MAX = 0.2
SIDES_NEEDED = 3
CORE_SATURATION = 0.1
CORE_HUE = 10.0
#: auto mode measures on a copy at most this long, blurred by this sigma (pixels): the screen's colour, not
#: the camera noise on it (6 % noise on a dim screen would otherwise scatter its saturation).
DETECT_SIZE = 512
DETECT_BLUR = 1.5


def border_pixels(rgb: np.ndarray, border: float = BORDER) -> np.ndarray:
    """The pixels of the frame's border band (band width: ``border`` x the short side), as (N, 3) float32."""
    return np.concatenate([side.reshape(-1, 3) for side in border_sides(rgb, border).values()])


def border_sides(rgb: np.ndarray, border: float = BORDER) -> dict[str, np.ndarray]:
    """The four bands of the frame's border ("top", "bottom", "left", "right"; width ``border`` x the short
    side), each (n, 3); the corners belong to the top and bottom bands only."""
    h, w = rgb.shape[:2]
    b = max(1, int(round(min(h, w) * border)))
    return {"top": rgb[:b].reshape(-1, 3), "bottom": rgb[h - b:].reshape(-1, 3),
            "left": rgb[b:h - b, :b].reshape(-1, 3), "right": rgb[b:h - b, w - b:].reshape(-1, 3)}


def screen_lead(rgb: np.ndarray, screen: str) -> np.ndarray:
    """The colour difference: the screen channel minus the larger of the other two; shape rgb.shape[:-1]."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return g - np.maximum(r, b) if screen == "green" else b - np.maximum(r, g)


def hue(rgb: np.ndarray) -> np.ndarray:
    """The HSV hue of each pixel in degrees [0, 360); rgb (..., 3)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    top, span = rgb.max(axis=-1), np.maximum(np.ptp(rgb, axis=-1), 1e-12)
    h = np.where(top == r, ((g - b) / span) % 6.0, np.where(top == g, (b - r) / span + 2.0, (r - g) / span + 4.0))
    return (60.0 * h).astype(np.float32)


def screen_fraction(rgb: np.ndarray, screen: str) -> float:
    """Fraction of the border pixels that are saturated ``screen`` colour (lead > DETECT_LEAD x value)."""
    px = border_pixels(rgb)
    lead = screen_lead(px, screen)
    value = px.max(axis=1)
    return float(np.mean((lead > DETECT_LEAD * value) & (value > 1e-4)))


def detect_screen(rgb: np.ndarray) -> tuple[str | None, float]:
    """screen mode's pick: (screen, fraction), the screen ("green"/"blue") covering SCREEN_DOMINANCE of the
    frame border, or None when neither does; fraction is the larger of the two coverages. The artist said
    it is a screen shot, so only which screen is asked; auto mode asks far more (surrounding_screen)."""
    fractions = {s: screen_fraction(rgb, s) for s in SCREENS}
    best = max(fractions, key=fractions.get)
    return (best if fractions[best] >= SCREEN_DOMINANCE else None), fractions[best]


def side_evidence(rgb: np.ndarray, screen: str) -> dict[str, tuple[float, float]]:
    """{side: (cover, fringe)} for one screen colour: cover, the fraction of the side's band that is the
    screen's own colour (its median saturation and hue over the saturated border pixels, within
    CORE_SATURATION and CORE_HUE); fringe, the fraction of the side's screen-hued pixels (lead > SCREEN_LEAD x
    value) that are not. All (0, 1.0) when the border holds no saturated ``screen`` pixels."""
    sides = border_sides(rgb)
    allpx = np.concatenate(list(sides.values()))
    value = allpx.max(axis=1)
    sat = screen_lead(allpx, screen) / np.maximum(value, 1e-6)
    saturated = (sat > DETECT_LEAD) & (value > 1e-4)
    if saturated.sum() < 8:
        return {name: (0.0, 1.0) for name in sides}
    sat0, hue0 = float(np.median(sat[saturated])), float(np.median(hue(allpx[saturated])))
    out = {}
    for name, px in sides.items():
        value = px.max(axis=1)
        sat = screen_lead(px, screen) / np.maximum(value, 1e-6)
        hued = (sat > SCREEN_LEAD) & (value > 1e-4)
        core = hued & (np.abs(sat - sat0) <= CORE_SATURATION) & (np.abs(hue(px) - hue0) <= CORE_HUE)
        out[name] = (float(core.mean()), float((hued & ~core).sum() / max(int(hued.sum()), 1)))
    return out


def surrounding_screen(rgb: np.ndarray) -> tuple[str | None, str]:
    """auto mode's test: (screen, why): "green"/"blue" when that screen surrounds the frame, else None; why
    says what was measured, in words.

    A screen surrounds its subject, is one flat colour and stops sharply at the subject; a deep blue sky
    sits on top only and fades toward the horizon. So a side of the border counts when at least SIDE_COVER
    of it is the screen's own colour (one hue and saturation: uneven light changes a screen's brightness,
    not its colour) and at most FRINGE_MAX of its screen-hued pixels stray from that colour (a sky's fade
    strays); SIDES_NEEDED of the four sides must count (the subject may fill the bottom).
    """
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_SIZE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) \
        if scale < 1 else rgb
    small = cv2.GaussianBlur(np.ascontiguousarray(small, np.float32), (0, 0), DETECT_BLUR)
    found = []
    for screen in SCREENS:
        evidence = side_evidence(small, screen)
        good = [n for n, (cover, fringe) in evidence.items() if cover >= SIDE_COVER and fringe <= FRINGE_MAX]
        found.append((len(good), sum(c for c, _ in evidence.values()), screen, evidence))
    sides, _, screen, evidence = max(found)
    why = (f"{screen} on {sides} of 4 sides, needs {SIDES_NEEDED} (" + ", ".join(
        f"{n} {c:.0%} fringe {f:.0%}" for n, (c, f) in evidence.items()) + ")")
    return (screen if sides >= SIDES_NEEDED else None), why


def classify_screen_color(color: np.ndarray | list[float], where: str = "screen_color") -> str:
    """"green" or "blue" for a screen colour [r, g, b]; SettingError when its green or blue does not lead."""
    c = np.asarray(color, np.float32)[:3]
    for screen in SCREENS:
        if float(screen_lead(c, screen)) > SCREEN_LEAD * float(c.max()) and c.max() > 0:
            return screen
    raise SettingError(where, f"screen colour {[round(float(v), 4) for v in c]} is not a green or blue screen "
                       "(its green or blue must lead the other channels by 25 %); use mode person, or a "
                       "clean plate of a green or blue screen")


def estimate_screen_color(rgb: np.ndarray, screen: str | None = None) -> tuple[str, np.ndarray]:
    """(screen, colour): the screen's median colour from the saturated border pixels, scene-linear [r, g, b].

    SettingError when the border holds no saturated green or blue (a screen that is not green or blue).
    """
    if screen is None:
        screen, fraction = detect_screen(rgb)
        if screen is None:
            med = np.median(border_pixels(rgb), axis=0)
            raise SettingError("screen_color", f"the frame border is not a green or blue screen (at most "
                               f"{fraction:.0%} of it is saturated green or blue, median colour "
                               f"{[round(float(v), 4) for v in med]}); give screen_color, or use mode person")
    px = border_pixels(rgb)
    lead = screen_lead(px, screen)
    keep = lead > SCREEN_LEAD * px.max(axis=1)
    if not np.any(keep):
        raise SettingError("screen_color", f"no {screen} screen pixels on the frame border")
    return screen, np.median(px[keep], axis=0).astype(np.float32)


def screen_field(rgb: np.ndarray, screen: str, color: np.ndarray, *, degree: int = 2) -> np.ndarray:
    """The screen colour at every pixel, (H, W, 3) float32, for uneven screens.

    A smooth polynomial surface (degree 2 in x and y, per channel) is fitted by least squares to the pixels
    that are clearly screen (colour difference at least half of ``color``'s), then clipped to a positive lead.
    Light falling off across a screen is smooth, so the surface follows the gradient while the subject (never
    in the fit) is ignored; keying against it makes every part of the screen reach alpha 0.
    """
    h, w = rgb.shape[:2]
    lead0 = float(screen_lead(np.asarray(color, np.float32), screen))
    lead = screen_lead(rgb, screen)
    # Subsample so a 4K frame fits as fast as a small one; the surface has six terms.
    step = max(1, int(np.sqrt(h * w / 40000)))
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    sel = lead[::step, ::step] > 0.5 * lead0
    if sel.sum() < 12:
        return np.broadcast_to(np.asarray(color, np.float32), rgb.shape).copy()
    u, v = xs[sel] / max(w - 1, 1) - 0.5, ys[sel] / max(h - 1, 1) - 0.5
    terms = [np.ones_like(u), u, v] + ([u * u, u * v, v * v] if degree >= 2 else [])
    a = np.stack(terms, axis=1)
    coef, *_ = np.linalg.lstsq(a, rgb[::step, ::step][sel].astype(np.float64), rcond=None)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    gu, gv = gx / max(w - 1, 1) - 0.5, gy / max(h - 1, 1) - 0.5
    full = [np.ones_like(gu), gu, gv] + ([gu * gu, gu * gv, gv * gv] if degree >= 2 else [])
    field = np.einsum("khw,kc->hwc", np.stack(full), coef.astype(np.float32))
    return np.maximum(field, 1e-6).astype(np.float32)


def color_difference_key(rgb: np.ndarray, screen: str, screen_rgb: np.ndarray) -> np.ndarray:
    """Alpha from the colour difference: 1 - lead(pixel) / lead(screen), in [0, 1], (H, W) float32.

    screen_rgb: the screen colour, [r, g, b] or a per-pixel (H, W, 3) field (uneven screen, clean plate).
    """
    lead = screen_lead(rgb, screen)
    ref = screen_lead(np.asarray(screen_rgb, np.float32), screen)
    ref = np.maximum(ref, 1e-6)
    return np.clip(1.0 - lead / ref, 0.0, 1.0).astype(np.float32)


def levels(alpha: np.ndarray, black: float = 0.0, white: float = 1.0) -> np.ndarray:
    """Matte black and white points: values <= black go to 0, >= white to 1, linear between."""
    if not 0.0 <= black < white <= 1.0:
        raise SettingError("black_point", f"expected 0 <= black_point < white_point <= 1, got {black} and {white}")
    return np.clip((alpha - black) / (white - black), 0.0, 1.0).astype(np.float32)


def soften(alpha: np.ndarray, softness: float) -> np.ndarray:
    """Edge softness: a Gaussian blur of the matte with sigma ``softness`` pixels (0: unchanged)."""
    if softness <= 0:
        return alpha
    import cv2

    return np.clip(cv2.GaussianBlur(alpha, (0, 0), softness), 0.0, 1.0).astype(np.float32)


def key_screen(rgb: np.ndarray, *, screen_color: list[float] | None = None, clean_plate: np.ndarray | None = None,
               uneven: bool = True, black: float = 0.0, white: float = 1.0,
               softness: float = 0.0) -> tuple[np.ndarray, str, np.ndarray]:
    """Pull a matte from a green or blue screen: (alpha (H, W) float32 [0, 1], screen name, screen colour).

    rgb: scene-linear (H, W, 3) float32. screen_color: the screen's [r, g, b] (None: from the frame border).
    clean_plate: the same set without the subject (H, W, 3), the per-pixel screen colour: the best answer to
    an uneven screen. Otherwise ``uneven`` fits a smooth surface to the screen (screen_field).
    """
    if clean_plate is not None:
        if clean_plate.shape[:2] != rgb.shape[:2]:
            raise ShapeMismatchError(f"clean plate is {clean_plate.shape[1]}x{clean_plate.shape[0]}, the plate "
                                     f"{rgb.shape[1]}x{rgb.shape[0]}; a clean plate must match the plate")
        screen, color = (classify_screen_color(screen_color), np.asarray(screen_color, np.float32)) if screen_color \
            else estimate_screen_color(clean_plate)
        reference = clean_plate[..., :3]
    else:
        if screen_color:
            screen, color = classify_screen_color(screen_color), np.asarray(screen_color, np.float32)[:3]
        else:
            screen, color = estimate_screen_color(rgb)
        reference = screen_field(rgb, screen, color) if uneven else color
    alpha = color_difference_key(rgb, screen, reference)
    return soften(levels(alpha, black, white), softness), screen, color
