"""Screens lit the ways sets are, and what a camera does to a plate: the backgrounds of the keying set.

Every function works in linear Rec.709 (``photos.LINEAR_REC709``, what a camera's linear output and Blender's
renders are in), (H, W, 3) float32, and is deterministic for a given seed. A screen is its fabric's colour
times the light on it: ``lighting`` (even, falloff, two temperatures) times the ``dressing`` (wrinkles and
seams, tracking markers). ``spill`` tints the subject's screen-light pass with the screen; ``camera`` adds
signal-dependent sensor noise and an optional JPEG round trip (8-bit sRGB, 4:2:0 chroma).
"""

from __future__ import annotations

import numpy as np

from matchcut.color import REC709_LUMA

#: The fabric of each screen in linear Rec.709 (a lit chroma-key green and blue as a camera records them).
FABRICS = {"green": (0.08, 0.42, 0.12), "blue": (0.05, 0.12, 0.45)}
LIGHTINGS = ("even", "falloff", "two temperatures")
DRESSINGS = ("wrinkles", "markers")
#: Sensor noise (read noise, shot-noise gain) in linear units: sigma ** 2 = read ** 2 + gain * signal.
NOISE = {"low": (0.002, 0.00008), "high": (0.003, 0.0006)}
#: Light colours in linear Rec.709, normalised to luminance 1: a 3200 K tungsten and a 7000 K daylight lamp.
WARM = np.array([1.28, 0.93, 0.55], np.float32)
COOL = np.array([0.86, 1.01, 1.18], np.float32)


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates as fractions of the width (x) and of the width too (y: square units), (H, W) each."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return x / width, y / width


def _smooth_noise(height: int, width: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    """A smooth random field (H, W) float32 with mean 0 and standard deviation 1, features ~``scale`` x width."""
    import cv2

    field = rng.normal(0.0, 1.0, (height, width)).astype(np.float32)
    field = cv2.GaussianBlur(field, (0, 0), max(1.0, scale * width))
    return (field - field.mean()) / max(float(field.std()), 1e-6)


def lighting_field(height: int, width: int, lighting: str, rng: np.random.Generator) -> np.ndarray:
    """The light on the screen, (H, W, 3) float32, luminance about 1 where brightest.

    even: one soft light, within a few per cent everywhere (no screen is perfectly flat); falloff: a light off
    one side of the frame, falling ~1.7 stops across it (inverse square), with the lens's vignette; two
    temperatures: a tungsten lamp from one side and a daylight lamp from the other, each falling off, so the
    screen's hue drifts across the frame.
    """
    x, y = _grid(height, width)
    h = height / width
    if lighting == "even":
        gain = 1.0 + 0.025 * _smooth_noise(height, width, rng, 0.3)
        return np.repeat(gain[..., None], 3, axis=2).astype(np.float32)
    side = rng.choice([-1.0, 1.0])
    if lighting == "falloff":
        lx, ly = (0.5 - side * 0.75), rng.uniform(0.1, 0.5) * h
        gain = 1.0 / (1.0 + ((x - lx) ** 2 + (y - ly) ** 2) / 0.18)
        vignette = 1.0 - 0.25 * (((x - 0.5) / 0.5) ** 2 + ((y - h / 2) / (h / 2)) ** 2) / 2
        gain = gain * vignette
        gain = gain / gain.max() * 1.1
        return np.repeat(gain[..., None], 3, axis=2).astype(np.float32)
    if lighting == "two temperatures":
        out = np.zeros((height, width, 3), np.float32)
        for s, colour in ((side, WARM), (-side, COOL)):
            lx, ly = 0.5 - s * 0.7, rng.uniform(0.0, 0.6) * h
            gain = 1.0 / (1.0 + ((x - lx) ** 2 + (y - ly) ** 2) / 0.3)
            out += gain[..., None] * colour
        return (out / float((out @ REC709_LUMA).max()) * 1.05).astype(np.float32)
    raise ValueError(f"unknown lighting {lighting!r}; expected one of {LIGHTINGS}")


def wrinkles(height: int, width: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(gain (H, W) float32 around 1, seams (H, W) bool): the fabric's folds as low-frequency shading bands
    (mostly hanging, so near vertical; +-6 %), and two seams where panels meet: a narrow darker line (25 %)
    between panels whose dye differs by a few per cent."""
    x, y = _grid(height, width)
    gain = np.ones((height, width), np.float32)
    for _ in range(5):
        angle = rng.normal(0.0, 0.35)  # radians from vertical
        wavelength = rng.uniform(0.04, 0.14)
        u = x * np.cos(angle) + y * np.sin(angle)
        gain += rng.uniform(0.02, 0.045) * np.sin(2 * np.pi * u / wavelength + rng.uniform(0, 2 * np.pi))
    seams = np.zeros((height, width), bool)
    for at in sorted(rng.uniform(0.15, 0.85, 2)):
        tilt = rng.normal(0.0, 0.02)
        d = (x - at - tilt * (y - 0.3)) * width  # pixels from the seam
        gain *= np.where(d > 0, 1.0 + rng.uniform(-0.04, 0.04), 1.0).astype(np.float32)
        gain *= (1.0 - 0.25 * np.exp(-0.5 * (d / 1.2) ** 2)).astype(np.float32)
        seams |= np.abs(d) < 2.5
    return gain.astype(np.float32), seams


def markers(height: int, width: int, screen: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(colour (H, W, 3) float32, coverage (H, W) float32 in [0, 1]): tracking markers taped to the screen on a
    jittered grid: crosses (arms ~2.5 % of the short side, 2 px thick) and dots, in a darker or paler shade of
    the screen, pink tape, white or black; anti-aliased. Their fabric colour, lit like the screen."""
    import cv2

    fabric = np.asarray(FABRICS[screen], np.float32)
    shades = [fabric * 0.45, 0.5 * fabric + 0.25, np.array([0.55, 0.12, 0.28], np.float32),
              np.array([0.6, 0.6, 0.58], np.float32), np.array([0.03, 0.03, 0.03], np.float32)]
    colour = np.zeros((height, width, 3), np.float32)
    cover = np.zeros((height, width), np.float32)
    arm = max(3, int(round(0.025 * min(height, width))))
    rows, cols = 4, 6
    for i in range(rows):
        for j in range(cols):
            cx = int((j + 0.5 + rng.uniform(-0.25, 0.25)) * width / cols)
            cy = int((i + 0.5 + rng.uniform(-0.25, 0.25)) * height / rows)
            shade = shades[int(rng.integers(len(shades)))]
            mask = np.zeros((height, width), np.float32)
            if rng.random() < 0.7:
                cv2.line(mask, (cx - arm, cy), (cx + arm, cy), 1.0, 2, cv2.LINE_AA)
                cv2.line(mask, (cx, cy - arm), (cx, cy + arm), 1.0, 2, cv2.LINE_AA)
            else:
                cv2.circle(mask, (cx, cy), max(2, arm // 2), 1.0, -1, cv2.LINE_AA)
            new = np.clip(mask, 0.0, 1.0)
            colour = colour * (1 - new[..., None]) + shade * new[..., None]
            cover = np.maximum(cover, new)
    return colour, cover


def screen_plate(height: int, width: int, screen: str, lighting: str, dressing: tuple[str, ...], *,
                 level: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(screen (H, W, 3) float32 linear Rec.709, dressing mask (H, W) bool: marker and seam pixels): the
    fabric (its level and hue varied a little by ``seed``, as fabrics and exposures differ) under
    ``lighting``, with the ``dressing`` taped or sewn on."""
    rng = np.random.default_rng(seed)
    fabric = np.asarray(FABRICS[screen], np.float32) * level * rng.uniform(0.85, 1.15)
    fabric = fabric * (1.0 + rng.uniform(-0.08, 0.08, 3)).astype(np.float32)
    light = lighting_field(height, width, lighting, rng)
    surface = np.broadcast_to(fabric, (height, width, 3)).astype(np.float32).copy()
    where = np.zeros((height, width), bool)
    if "wrinkles" in dressing:
        gain, seams = wrinkles(height, width, rng)
        surface *= gain[..., None]
        where |= seams
    if "markers" in dressing:
        colour, cover = markers(height, width, screen, rng)
        surface = surface * (1 - cover[..., None]) + colour * cover[..., None]
        where |= cover > 0.02
    return (surface * light).astype(np.float32), where


def spill(screen_pass: np.ndarray, screen: np.ndarray, amount: float) -> np.ndarray:
    """The screen's light bounced onto the subject, (H, W, 3) float32: the subject's render lit only by a white
    light where the screen is (``screen_pass``, premultiplied), tinted by the screen's own colour near each
    pixel (a brighter part of the screen throws more light) over the screen's mean luminance, times
    ``amount``."""
    import cv2

    near = cv2.GaussianBlur(screen, (0, 0), 0.05 * max(screen.shape[:2]))
    tint = near / max(float((screen @ REC709_LUMA).mean()), 1e-6)
    return (amount * screen_pass * tint).astype(np.float32)


def camera(plate: np.ndarray, noise: str, *, jpeg: int = 0, seed: int = 0) -> np.ndarray:
    """The plate as a camera records it: signal-dependent sensor noise (``NOISE[noise]``; slightly correlated
    between neighbours, as demosaicing leaves it) and, when ``jpeg`` is a quality (1-100), a JPEG round trip
    through 8-bit sRGB with 4:2:0 chroma (what a compressed camera file does to a screen's edges)."""
    import cv2

    rng = np.random.default_rng(seed)
    read, gain = NOISE[noise]
    sigma = np.sqrt(read ** 2 + gain * np.maximum(plate, 0.0)).astype(np.float32)
    grain = rng.normal(0.0, 1.0, plate.shape).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.6)
    grain /= max(float(grain.std()), 1e-6)
    out = (plate + sigma * grain).astype(np.float32)
    if jpeg:
        from matchcut import color
        from matchcut.testing.photos import LINEAR_REC709

        display = np.clip(color.convert(np.ascontiguousarray(out), LINEAR_REC709, color.SRGB_DISPLAY), 0.0, 1.0)
        bgr = np.round(display[..., ::-1] * 255.0).astype(np.uint8)
        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg), cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                  cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]
        ok, data = cv2.imencode(".jpg", bgr, params)
        back = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / np.float32(255.0)
        out = color.convert(np.ascontiguousarray(back), color.SRGB_DISPLAY, LINEAR_REC709).astype(np.float32)
    return out
