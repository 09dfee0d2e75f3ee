"""Screen keying: which screen a shot has, its colour, and the key against its screen model (matte/screen.py).

Every function takes scene-linear RGB, (H, W, 3) float32, and returns mattes as (H, W) float32 in [0, 1]
(1 = foreground). Colour difference is a ratio, so it works the same on linear values at any exposure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from matchcut.errors import SettingError, ShapeMismatchError

if TYPE_CHECKING:
    from matchcut.matte.screen import ScreenModel

SCREENS = ("green", "blue")
#: Fraction of the frame's short side taken as "the border" when looking for the screen.
BORDER = 0.08
#: A border pixel counts as screen when its screen channel leads the others by this fraction of its value.
SCREEN_LEAD = 0.25
#: A border pixel is saturated screen colour when its lead is this fraction of its value, per screen. In ACEScg
#: (the scene_linear role) a chroma-key blue measures 0.65-0.75 and a deep blue sky ~0.5-0.6 (scikit-image's
#: rocket); a green screen filmed in Rec.709 measures ~0.5 (even pure Rec.709 green is 0.58 there), and no sky
#: is green.
DETECT_LEAD = {"green": 0.35, "blue": 0.55}
#: screen mode: with no screen at the border, the screen may be inside the frame if it covers this fraction.
INSIDE_COVER = 0.1
#: A border holding at least this fraction of both screens is not one screen.
MIXED_COVER = 0.2
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


def saturated(px: np.ndarray, screen: str) -> np.ndarray:
    """(N,) bool: pixels (N, 3) that are saturated ``screen`` colour (lead > DETECT_LEAD[screen] x value)."""
    value = px.max(axis=-1)
    return (screen_lead(px, screen) > DETECT_LEAD[screen] * value) & (value > 1e-4)


def screen_fraction(rgb: np.ndarray, screen: str, pixels: np.ndarray | None = None) -> float:
    """Fraction of the border pixels (or of ``pixels``, (N, 3)) that are saturated ``screen`` colour."""
    px = border_pixels(rgb) if pixels is None else pixels
    return float(np.mean(saturated(px, screen)))


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
    strong = saturated(allpx, screen)
    if strong.sum() < 8:
        return {name: (0.0, 1.0) for name in sides}
    sat0, hue0 = float(np.median(sat[strong])), float(np.median(hue(allpx[strong])))
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


def one_hue(rgb: np.ndarray, screen: str, where: str = "screen_color") -> None:
    """SettingError when the frame border is not one screen: both green and blue cover much of it, or the
    screen-hued pixels' hues spread wider than screen.HUE_SPREAD degrees (a screen is one fabric)."""
    from matchcut.matte.screen import HUE_SPREAD, hue_spread

    px = border_pixels(rgb)
    cover = {s: screen_fraction(rgb, s, px) for s in SCREENS}
    if min(cover.values()) >= MIXED_COVER:
        raise SettingError(where, f"the screen is not one hue: the frame border is {cover['green']:.0%} green and "
                           f"{cover['blue']:.0%} blue; key one screen at a time (a garbage matte over the other), "
                           "or use --mode person")
    spread = hue_spread(rgb, screen, px[saturated(px, screen) | (screen_lead(px, screen) > SCREEN_LEAD * px.max(1))])
    if spread > HUE_SPREAD:
        raise SettingError(where, f"the screen is not one hue: its hues at the frame border spread over {spread:.0f} "
                           f"degrees (a {screen} screen spreads over less than {HUE_SPREAD:.0f}); use --mode person, "
                           "or a garbage matte over what is not screen")


def estimate_screen_color(rgb: np.ndarray, screen: str | None = None) -> tuple[str, np.ndarray]:
    """(screen, colour): the screen's median colour from the saturated border pixels, scene-linear [r, g, b].

    With no screen at the border (a close-up whose subject fills it) the screen is looked for in the whole
    frame, and used when it covers INSIDE_COVER of it. SettingError when there is none (a screen that is not
    green or blue, or no screen at all) or when the screen is not one hue (one_hue).
    """
    where = "border"
    px = border_pixels(rgb)
    if screen is None:
        screen, fraction = detect_screen(rgb)
        if screen is None:
            whole = rgb.reshape(-1, 3)
            inside = {s: screen_fraction(rgb, s, whole) for s in SCREENS}
            best = max(inside, key=inside.get)
            if inside[best] < INSIDE_COVER:
                med = np.median(px, axis=0)
                raise SettingError("screen_color", f"the frame border is not a green or blue screen (at most "
                                   f"{fraction:.0%} of it is saturated green or blue, median colour "
                                   f"{[round(float(v), 4) for v in med]}) and none is inside the frame "
                                   f"({inside[best]:.0%}); give screen_color, or use mode person")
            screen, where, px = best, "frame", whole
    if where == "border":
        one_hue(rgb, screen)
    keep = screen_lead(px, screen) > SCREEN_LEAD * px.max(axis=1)
    if not np.any(keep):
        raise SettingError("screen_color", f"no {screen} screen pixels on the frame {where}")
    return screen, np.median(px[keep], axis=0).astype(np.float32)


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


def screen_model(rgb: np.ndarray, *, screen_color: list[float] | None = None, clean_plate: np.ndarray | None = None,
                 uneven: bool = True, exclude: np.ndarray | None = None, frame: int | None = None) -> ScreenModel:
    """The screen model of a shot from one frame (matte/screen.py): from the clean plate when given (its size
    must be the plate's), else fitted to the frame's screen (``uneven``) or one flat colour. screen_color: the
    screen's [r, g, b] (None: from the frame border, or the clean plate's); exclude: (H, W) in [0, 1], pixels
    that are never screen (garbage and holdout mattes)."""
    from matchcut.matte.screen import clean_plate_screen, fit_screen, flat_screen

    if clean_plate is not None:
        if clean_plate.shape[:2] != rgb.shape[:2]:
            raise ShapeMismatchError(f"clean plate is {clean_plate.shape[1]}x{clean_plate.shape[0]}, the plate "
                                     f"{rgb.shape[1]}x{rgb.shape[0]}; a clean plate must match the plate")
        screen, color = (classify_screen_color(screen_color), np.asarray(screen_color, np.float32)[:3]) \
            if screen_color else estimate_screen_color(clean_plate[..., :3])
        return clean_plate_screen(clean_plate[..., :3], screen, color)
    if screen_color:
        screen, color = classify_screen_color(screen_color), np.asarray(screen_color, np.float32)[:3]
    else:
        screen, color = estimate_screen_color(rgb)
    if not uneven:
        return flat_screen(rgb, screen, color)
    return fit_screen(rgb, screen, color, exclude=exclude,
                      source="fitted" if frame is None else f"fitted on frame {frame}")


def key_screen(rgb: np.ndarray, *, screen_color: list[float] | None = None, clean_plate: np.ndarray | None = None,
               uneven: bool = True, black: float = 0.0, white: float = 1.0, softness: float = 0.0,
               model: ScreenModel | None = None, despot: float | None = None) -> tuple[np.ndarray, str, np.ndarray]:
    """Pull a matte from a green or blue screen: (alpha (H, W) float32 [0, 1], screen name, screen colour).

    rgb: scene-linear (H, W, 3) float32. model: the shot's screen model (screen_model; None: made from this
    frame with screen_color, clean_plate and uneven). despot: isolated spots up to this fraction of the short
    side are taken out (None: screen.DESPOT). Then the black and white points and the softness.
    """
    from matchcut.matte.screen import DESPOT, key_with_model

    if model is None:
        model = screen_model(rgb, screen_color=screen_color, clean_plate=clean_plate, uneven=uneven)
    alpha = key_with_model(rgb, model, despot_size=DESPOT if despot is None else despot)
    return soften(levels(alpha, black, white), softness), model.screen, model.color
