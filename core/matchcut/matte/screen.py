"""The screen model: the screen's own colour at every pixel and its noise, and the key, despill and foreground
it drives.

A screen is one fabric under uneven light: its colour changes slowly across the frame (falloff, two lamps of
different temperature, folds) and it has tape and seams on it. The model is fitted to the pixels that are
screen, robustly, and extrapolated under the subject; a clean plate, when given, is the model itself. The key
divides each pixel's colour difference by the screen's at that pixel, corrects for the subject's own colour
difference (estimated from its nearby solid pixels, as far as the pixel is a mix of the screen and their
colour), and is noise-aware: pixels whose difference from the
screen is within the screen's own noise are screen, pixels as solid as the noise allows are subject, and
small isolated spots on the screen (tracking markers) are taken out.

Colours are scene-linear (H, W, 3) float32; mattes (H, W) float32 in [0, 1] (1 = subject). Thresholds were
chosen on the tuning half of the keying set only (``matchcut.testing.keying_set``; docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from matchcut.errors import SettingError, ShapeMismatchError

#: Pixels are screen candidates when their colour difference / value is within CHROMA_TOL (relative) of the
#: screen colour's and their hue within HUE_TOL degrees (uneven light changes brightness, not colour).
CHROMA_TOL = 0.35
HUE_TOL = 25.0
#: The first, coarse model: a robust polynomial of this degree in x and y per channel.
POLY_DEGREE = 3
#: A pixel is screen evidence when its key against the model (blurred 1 px) is within this of 0.
EVIDENCE_ALPHA = 0.15
#: The model's detail: normalised convolution of the screen pixels with this sigma (pixels), coarser levels
#: filling in where the screen is hidden.
FIELD_SIGMA = 1.5
#: The subject's own colour difference: from its solid pixels (key above FG_SOLID), within FG_SIGMA x the
#: short side.
FG_SOLID = 0.95
FG_SIGMA = 3.0 / 270.0
#: The nearby solid subject's colour (what the correction checks a pixel against) is worked at this fraction
#: of the plate's size.
NEAR_SCALE = 0.5
#: Noise-aware gates, on the key blurred by GATE_BLUR pixels: screen where it is within BACKGROUND_Z noise
#: sigmas of 0; subject where the plain key is within CORE_Z sigmas of 1 and the corrected key above CORE_MIN.
GATE_BLUR = 1.2
BACKGROUND_Z = 4.0
CORE_Z = 3.0
CORE_MIN = 0.4
#: Isolated spots on the screen up to this size (fraction of the short side) are markers, not subject.
DESPOT = 0.12
#: screen mode refuses a screen whose hues spread wider than this (5th to 95th percentile, degrees; the keying
#: set's screens, two colour temperatures included, spread less than 25).
HUE_SPREAD = 35.0
#: steady_plate(): a change up to STEADY_Z x the median change that noise alone makes counts as no change
#: (half weight there).
STEADY_Z = 1.5
#: A frame's screen agrees with the shared model while agreement() is at most this. On the tuning half: 1.3-2.1
#: while the camera holds (the subject moving or not; JPEG plates highest), 3.1-7.4 after a 12 px pan over a
#: screen with folds and seams; a pan over a screen without detail cannot be seen (nor does it matter).
AGREE_Z = 2.5


@dataclass(frozen=True)
class ScreenModel:
    """What the screen is at every pixel of one set-up.

    screen: "green" or "blue"; color: the screen's median colour [r, g, b]; field: the screen colour at each
    pixel (H, W, 3) float32 scene-linear, extrapolated under the subject; evidence: (H, W) bool, where the
    screen was seen; noise: (a, b) of the colour difference's noise, sigma ** 2 = a + b x the field's level;
    source: "fitted on frame N", "clean plate" or "flat colour"; spread: how far its own frame's screen is from
    it, the 90th percentile of |colour difference - the model's| / noise sigma over the evidence (what
    ``agreement`` compares another frame's with; about 1.645 for pure noise).
    """

    screen: str
    color: np.ndarray
    field: np.ndarray
    evidence: np.ndarray
    noise: tuple[float, float]
    source: str
    spread: float = 1.645

    @property
    def shape(self) -> tuple[int, int]:
        return self.field.shape[:2]

    def sigma(self) -> np.ndarray:
        """The colour difference's noise sigma at each pixel, (H, W) float32."""
        a, b = self.noise
        return np.sqrt(np.maximum(a + b * level(self.field), 1e-12)).astype(np.float32)


def lead(rgb: np.ndarray, screen: str) -> np.ndarray:
    """The colour difference: the screen channel minus the larger of the other two; shape rgb.shape[:-1]."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return g - np.maximum(r, b) if screen == "green" else b - np.maximum(r, g)


def level(rgb: np.ndarray) -> np.ndarray:
    """A pixel's level for the noise model: the mean of its channels."""
    return (rgb[..., 0] + rgb[..., 1] + rgb[..., 2]) / np.float32(3.0)


def value(rgb: np.ndarray) -> np.ndarray:
    """The largest channel of each pixel (HSV value); shape rgb.shape[:-1]."""
    return np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])


def hue(rgb: np.ndarray) -> np.ndarray:
    """The HSV hue of each pixel in degrees [0, 360); rgb (..., 3)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    top = value(rgb)
    span = np.maximum(top - np.minimum(np.minimum(r, g), b), 1e-12)
    h = np.where(top == r, ((g - b) / span) % 6.0, np.where(top == g, (b - r) / span + 2.0, (r - g) / span + 4.0))
    return (60.0 * h).astype(np.float32)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0 else image


def fill(values: np.ndarray, weight: np.ndarray, sigma: float, threshold: float = 0.3) -> np.ndarray:
    """Normalised convolution with push-pull filling: the weighted local mean of ``values`` (H, W, C) float32
    under ``weight`` (H, W) in [0, 1] at ``sigma`` pixels; where the weight nearby is thin (below ``threshold``)
    the next coarser level (half size, same sigma) fills in, down to a few pixels. (H, W, C) float32."""
    import cv2

    h, w = weight.shape
    weighted = values * weight[..., None]
    num, den = _blur(weighted, sigma), _blur(weight, sigma)
    num = num.reshape(h, w, -1)
    est = num / np.maximum(den, 1e-8)[..., None]
    conf = np.clip(den / threshold, 0.0, 1.0)[..., None]
    if min(h, w) <= 8 or float(conf.min()) >= 1.0:
        return est.astype(np.float32)
    size = ((w + 1) // 2, (h + 1) // 2)
    small_w = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    small_v = cv2.resize(weighted, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
    coarse = fill(small_v / np.maximum(small_w, 1e-8)[..., None], small_w, sigma, threshold)
    up = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)
    return (conf * est + (1.0 - conf) * up).astype(np.float32)


def screen_candidates(rgb: np.ndarray, screen: str, color: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of the screen's own colour (colour difference / value within CHROMA_TOL of the
    screen colour's, hue within HUE_TOL degrees), at any brightness."""
    top = value(rgb)
    sat = lead(rgb, screen) / np.maximum(top, 1e-6)
    c = np.asarray(color, np.float32)
    sat0 = float(lead(c, screen) / max(float(c.max()), 1e-6))
    out = (np.abs(sat - sat0) < CHROMA_TOL * sat0) & (top > 1e-5)
    hue0 = float(hue(c))
    dh = np.abs((hue(rgb[out]) - hue0 + 180.0) % 360.0 - 180.0)  # only where the saturation already fits
    out[out] = dh < HUE_TOL
    return out


def _poly_terms(u: np.ndarray, v: np.ndarray, degree: int) -> np.ndarray:
    return np.stack([u ** i * v ** j for i in range(degree + 1) for j in range(degree + 1 - i)], axis=-1)


def polynomial_screen(rgb: np.ndarray, where: np.ndarray, degree: int = POLY_DEGREE, rounds: int = 3) -> np.ndarray:
    """A smooth screen (H, W, 3) float32: a polynomial in x and y per channel fitted by least squares to the
    ``where`` pixels (sampled to ~40k), refitted ``rounds`` times without the pixels whose relative residual is
    beyond 3 robust sigmas (a dark subject of the screen's hue, tape, seams)."""
    h, w = rgb.shape[:2]
    step = max(1, int(np.sqrt(h * w / 40000)))
    ys, xs = np.mgrid[0:h:step, 0:w:step].astype(np.float32)
    terms = _poly_terms(xs / max(w - 1, 1) - 0.5, ys / max(h - 1, 1) - 0.5, degree)
    sel = where[::step, ::step]
    values = rgb[::step, ::step].astype(np.float64)
    keep = sel.copy()
    coef = None
    for _ in range(rounds):
        if keep.sum() < terms.shape[-1] * 4:
            break
        coef, *_ = np.linalg.lstsq(terms[keep], values[keep], rcond=None)
        pred = terms @ coef
        residual = np.abs(values - pred).sum(-1) / np.maximum(np.abs(pred).sum(-1), 1e-6)
        scale = 1.4826 * float(np.median(residual[keep])) + 1e-6
        keep = sel & (residual < 3.0 * scale)
    if coef is None:
        raise SettingError("screen_color", "too few screen pixels to model the screen")
    # Evaluated separably: sum over (i, j) of coef x u ** i x v ** j is V C_c U^T per channel (exact, and cheap).
    u = np.arange(w, dtype=np.float64) / max(w - 1, 1) - 0.5
    v = np.arange(h, dtype=np.float64) / max(h - 1, 1) - 0.5
    pu, pv = np.stack([u ** i for i in range(degree + 1)], 1), np.stack([v ** j for j in range(degree + 1)], 1)
    pairs = [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]
    out = np.empty((h, w, 3), np.float32)
    for c in range(3):
        grid = np.zeros((degree + 1, degree + 1))
        for (i, j), k in zip(pairs, coef[:, c]):
            grid[j, i] = k
        out[..., c] = pv @ grid @ pu.T
    return np.maximum(out, 1e-6)


def _evidence(rgb: np.ndarray, field: np.ndarray, screen: str, candidates: np.ndarray) -> np.ndarray:
    """(H, W) float32 1/0: the candidates whose key against ``field`` (blurred 1 px) is within EVIDENCE_ALPHA
    of 0, eroded by a pixel (so the subject's edge does not tint the screen)."""
    import cv2

    ref = np.maximum(lead(field, screen), 1e-6)
    alpha = _blur((1.0 - lead(rgb, screen) / ref).astype(np.float32), 1.0)
    seen = (np.abs(alpha) < EVIDENCE_ALPHA) & candidates
    return cv2.erode(seen.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)


def noise_model(rgb: np.ndarray, field: np.ndarray, screen: str, evidence: np.ndarray) -> tuple[float, float]:
    """(a, b): the colour difference's noise on the screen, sigma ** 2 = a + b x level (signal-dependent: shot
    noise grows with the light). Robust (MAD) sigmas in eight level bins, fitted by least squares."""
    seen = evidence > 0
    residual = (lead(rgb, screen) - lead(field, screen))[seen]
    levels = level(field)[seen]
    if residual.size < 64:
        return (float(np.square(0.01 * max(float(lead(field, screen).mean()), 1e-3))), 0.0)
    edges = np.quantile(levels, np.linspace(0.0, 1.0, 9))
    xs, ys = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (levels >= lo) & (levels <= hi)
        if inside.sum() >= 16:
            r = residual[inside]
            xs.append(float(levels[inside].mean()))
            ys.append((1.4826 * float(np.median(np.abs(r - np.median(r))))) ** 2)
    xs_, ys_ = np.asarray(xs), np.asarray(ys)
    if len(xs_) >= 2 and np.ptp(xs_) > 1e-6:
        b, a = np.polyfit(xs_, ys_, 1)
        if b < 0:
            a, b = float(np.median(ys_)), 0.0
    else:
        a, b = float(np.median(ys_)), 0.0
    return (max(float(a), 1e-10), max(float(b), 0.0))


def fit_screen(rgb: np.ndarray, screen: str, color: np.ndarray, *, exclude: np.ndarray | None = None,
               source: str = "fitted") -> ScreenModel:
    """The screen model of one frame: screen candidates by colour (never in ``exclude``, (H, W) in [0, 1]:
    garbage and holdout mattes), a robust polynomial through them, then twice: the pixels that key to the
    screen against it are the evidence, and the model is their normalised convolution (FIELD_SIGMA), filled
    in under the subject from coarser levels. The noise is measured on the evidence."""
    candidates = screen_candidates(rgb, screen, color)
    if exclude is not None:
        candidates &= exclude < 0.5
    if candidates.sum() < 64:
        raise SettingError("screen_color", f"no {screen} screen is visible (fewer than 64 pixels of the screen's "
                           "colour); use mode person, or give screen_color or a clean plate")
    field = polynomial_screen(rgb, candidates)
    evidence = np.zeros(rgb.shape[:2], np.float32)
    for _ in range(2):
        evidence = _evidence(rgb, field, screen, candidates)
        if evidence.sum() < 64:
            break
        field = fill(rgb, evidence, FIELD_SIGMA)
    model = ScreenModel(screen, np.asarray(color, np.float32), field, evidence > 0,
                        noise_model(rgb, field, screen, evidence), source)
    return replace(model, spread=_spread(model, rgb, model.evidence))


def _spread(model: ScreenModel, rgb: np.ndarray, seen: np.ndarray) -> float:
    """The 90th percentile of |colour difference - the model's| / noise sigma over ``seen`` (inf when fewer than
    64 pixels), floored at 1e-3."""
    if seen.sum() < 64:
        return float("inf")
    diff = np.abs(lead(rgb, model.screen) - lead(model.field, model.screen))[seen] / model.sigma()[seen]
    return max(float(np.percentile(diff, 90)), 1e-3)


def flat_screen(rgb: np.ndarray, screen: str, color: np.ndarray) -> ScreenModel:
    """The model of an even screen keyed against one colour (``uneven`` off): ``color`` everywhere, its noise
    measured on the pixels that key to it."""
    field = np.broadcast_to(np.asarray(color, np.float32), rgb.shape).astype(np.float32)
    evidence = _evidence(rgb, field, screen, screen_candidates(rgb, screen, color))
    return ScreenModel(screen, np.asarray(color, np.float32), field, evidence > 0,
                       noise_model(rgb, field, screen, evidence), "flat colour")


def clean_plate_screen(clean: np.ndarray, screen: str, color: np.ndarray) -> ScreenModel:
    """The model from a clean plate (the set without the subject, (H, W, 3)): the plate itself, its own noise
    smoothed out at FIELD_SIGMA (so the clean plate's grain does not print into the matte); tape and seams stay
    where they are, so they key to the screen."""
    field = np.maximum(_blur(np.ascontiguousarray(clean[..., :3], np.float32), FIELD_SIGMA), 1e-6)
    evidence = screen_candidates(clean[..., :3], screen, color)
    return ScreenModel(screen, np.asarray(color, np.float32), field.astype(np.float32), evidence,
                       noise_model(clean[..., :3], field, screen, evidence.astype(np.float32)), "clean plate")


def extend_screen(model: ScreenModel, rgb: np.ndarray, exclude: np.ndarray | None = None,
                  candidates: np.ndarray | None = None) -> ScreenModel:
    """The shared model for another frame of a held shot: where the model saw the screen it is kept as it is
    (so the matte does not chatter with the frame's noise); where it had to extrapolate (the subject stood
    there) and this frame shows the screen, this frame's screen fills in. ``candidates``: the frame's
    screen_candidates when already known."""
    if model.source == "clean plate" or model.evidence.all():
        return model
    if candidates is None:
        candidates = screen_candidates(rgb, model.screen, model.color)
    candidates = candidates & ~model.evidence
    if exclude is not None:
        candidates &= exclude < 0.5
    extra = _evidence(rgb, model.field, model.screen, candidates)
    if extra.sum() < 16:
        return model
    weight = model.evidence.astype(np.float32) + extra
    values = np.where(model.evidence[..., None], model.field, rgb).astype(np.float32)
    field = fill(values, weight, FIELD_SIGMA)
    field = np.where(model.evidence[..., None], model.field, field).astype(np.float32)
    return replace(model, field=field, evidence=model.evidence | (extra > 0))


def agreement(model: ScreenModel, rgb: np.ndarray, candidates: np.ndarray | None = None) -> float:
    """How far a frame's screen is from the model, against how far the model's own frame was: the 90th
    percentile of |colour difference - the model's| / noise sigma over the model's evidence pixels that are the
    screen's colour in this frame too, over the same on the frame it was fitted on (ScreenModel.spread). About
    1 while the camera holds; a camera move shifts the screen's folds, seams and tape, a light change its level,
    and either makes it large; the subject moving does not. ``candidates``: the frame's screen_candidates."""
    if candidates is None:
        candidates = screen_candidates(rgb, model.screen, model.color)
    return _spread(model, rgb, model.evidence & candidates) / model.spread


def despot(alpha: np.ndarray, size: float = DESPOT) -> np.ndarray:
    """The matte without isolated spots: 8-connected regions of alpha > 0 whose bounding box is at most
    ``size`` x the short side (tracking markers, dust) are set to 0; the largest region always stays."""
    import cv2

    if size <= 0:
        return alpha
    h, w = alpha.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats((alpha > 0).astype(np.uint8), connectivity=8)
    if count <= 2:
        return alpha
    limit = size * min(h, w)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    spot = extent <= limit
    spot[0] = False
    spot[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))] = False
    if not spot.any():
        return alpha
    out = alpha.copy()
    out[spot[labels]] = 0.0
    return out


def _nearby_colour(rgb: np.ndarray, solid: np.ndarray, sigma: float) -> np.ndarray:
    """The colour of the nearby ``solid`` pixels ((H, W) in [0, 1]), (H, W, 3) float32: their normalised
    convolution at ``sigma`` pixels (fill), worked at NEAR_SCALE of the plate's size (it changes slowly; at full
    size it took a third of the key's time) and brought back up."""
    import cv2

    h, w = solid.shape
    size = (max(1, round(w * NEAR_SCALE)), max(1, round(h * NEAR_SCALE)))
    small_w = cv2.resize(solid, size, interpolation=cv2.INTER_AREA)
    small_v = cv2.resize(np.ascontiguousarray(rgb * solid[..., None], np.float32), size, interpolation=cv2.INTER_AREA)
    small = fill(small_v / np.maximum(small_w, 1e-8)[..., None], small_w, max(1.0, sigma * NEAR_SCALE))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, 3)


def _mix_consistency(rgb: np.ndarray, field: np.ndarray, subject: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """(H, W) float32 in [0, 1]: the fraction of each pixel's departure from the screen that a mix explains.
    With d = pixel - screen (``field``; blurred GATE_BLUR px), the mix a (subject - screen) + b (-screen),
    a, b >= 0 (toward the nearby solid subject's colour ``subject``, both (H, W, 3), and toward black: a seam,
    a fold's shade, a darker subject), fitted by least squares: (|fit| ** 2 + n ** 2) / (|d| ** 2 + n ** 2),
    n = ``noise`` (H, W). A soft edge of that subject and a shaded screen score about 1, as does a departure
    within the noise (nothing to measure there); a part of the subject of another colour (a blue jacket below a
    brown face) is neither, and the colour difference measured on the face says nothing about it."""
    d = _blur((rgb - field).astype(np.float32), GATE_BLUR)
    f = (subject - field).astype(np.float32)
    g = -field.astype(np.float32)

    def dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # Channel by channel: a sum over numpy's last axis of length 3 is several times slower.
        return x[..., 0] * y[..., 0] + x[..., 1] * y[..., 1] + x[..., 2] * y[..., 2]

    ff, gg, fg, df, dg = dot(f, f), dot(g, g), dot(f, g), dot(d, f), dot(d, g)
    det = np.maximum(ff * gg - fg * fg, 1e-24)
    a, b = (df * gg - dg * fg) / det, (dg * ff - df * fg) / det
    # Non-negative least squares on two vectors: both inside the cone, or the better of its edges.
    edge = np.maximum(np.square(np.maximum(df, 0.0)) / np.maximum(ff, 1e-24),
                      np.square(np.maximum(dg, 0.0)) / np.maximum(gg, 1e-24))
    explained = np.where((a >= 0) & (b >= 0), a * df + b * dg, edge)
    n2 = np.square(noise).astype(np.float32)
    return np.clip((explained + n2) / np.maximum(dot(d, d) + n2, 1e-24), 0.0, 1.0).astype(np.float32)


def key_with_model(rgb: np.ndarray, model: ScreenModel, *, despot_size: float = DESPOT) -> np.ndarray:
    """Alpha (H, W) float32 in [0, 1] of ``rgb`` (H, W, 3) against the screen model.

    1. The colour difference divided by the screen's at each pixel, corrected for the subject's own colour
       difference: alpha = (lead(screen) - lead(pixel)) / (lead(screen) - lead(subject)), lead(subject) the
       normalised convolution of the solid pixels' lead (FG_SIGMA), filled in from coarser levels; off the
       screen (past the background gate) only as far as the pixel is a mix of the screen and those solid
       pixels' colour or a shade of the screen (_mix_consistency).
    2. Noise-aware gates: 0 where the key (blurred GATE_BLUR px) is within BACKGROUND_Z noise sigmas of the
       screen; 1 where the uncorrected key is within CORE_Z sigmas of solid and the corrected above CORE_MIN.
    3. Isolated spots up to ``despot_size`` x the short side are removed (despot).
    """
    import cv2

    if rgb.shape[:2] != model.shape:
        raise ShapeMismatchError(f"the plate is {rgb.shape[1]}x{rgb.shape[0]}, its screen model "
                                 f"{model.shape[1]}x{model.shape[0]}")
    screen = model.screen
    ref = np.maximum(lead(model.field, screen), 1e-6)
    pixel = lead(rgb, screen)
    plain = ((ref - pixel) / ref).astype(np.float32)
    solid = (_blur(plain, 1.0) > FG_SOLID).astype(np.uint8)
    solid = cv2.erode(solid, np.ones((3, 3), np.uint8)).astype(np.float32)
    sigma = model.sigma()
    rho = max(1.0 / (2.0 * np.sqrt(np.pi) * GATE_BLUR), 0.25)  # the noise left after the gate's blur
    radius = max(1.0, FG_SIGMA * min(rgb.shape[:2]))
    mixed = np.ones_like(ref)
    if solid.sum() >= 16:
        subject = fill(pixel[..., None].astype(np.float32), solid, radius)[..., 0]
        subject = np.clip(subject, -2.0 * ref, 0.5 * ref)
        mixed = _mix_consistency(rgb, model.field, _nearby_colour(rgb, solid, radius), BACKGROUND_Z * rho * sigma)
    else:
        subject = np.zeros_like(ref)
    span = np.maximum(ref - subject, 1e-6)
    raw = ((ref - pixel) / span).astype(np.float32)
    background = _blur(raw, GATE_BLUR) < BACKGROUND_Z * rho * sigma / span
    # Off the screen, the correction only as far as the pixel is a mix of the screen and that subject's colour
    # (not a blue coat below a brown face, which the face's correction reads as more transparent still).
    alpha = np.clip((ref - pixel) / np.maximum(ref - mixed * subject, 1e-6), 0.0, 1.0).astype(np.float32)
    core = (1.0 - _blur(plain, GATE_BLUR) < CORE_Z * rho * sigma / ref) & (_blur(alpha, GATE_BLUR) > CORE_MIN)
    alpha[background] = 0.0
    alpha[core & ~background] = 1.0
    return despot(alpha, despot_size).astype(np.float32)


def premultiplied_foreground(rgb: np.ndarray, alpha: np.ndarray, model: ScreenModel) -> np.ndarray:
    """The subject's own colour times alpha, (H, W, 3) float32: the plate minus the screen behind it,
    rgb - (1 - alpha) x the model's screen at that pixel (exact when alpha is), not below 0 where the matte is
    partial (what is left of the screen's grain); 0 where alpha is 0, the plate itself where it is 1."""
    out = rgb - (1.0 - alpha[..., None]) * model.field
    partial = (alpha > 0.0) & (alpha < 1.0)
    out[partial] = np.maximum(out[partial], 0.0)
    out[alpha <= 0.0] = 0.0
    return out.astype(np.float32)


def average_lead(rgb: np.ndarray, screen: str) -> np.ndarray:
    """The screen channel minus the mean of the other two (the "average" despill's measure of spill)."""
    c = 1 if screen == "green" else 2
    a, b = [rgb[..., i] for i in range(3) if i != c]
    return rgb[..., c] - 0.5 * (a + b)


def screen_despill(premult: np.ndarray, alpha: np.ndarray, model: ScreenModel, amount: float = 1.0) -> np.ndarray:
    """Despill with the screen's own colour: where the (premultiplied) subject's screen channel is above the
    mean of the other two, that much of the screen's colour at the pixel (scaled to its own such lead) is taken
    out, from every channel in the screen's proportions (light of the screen's colour is what spill is), so
    that lead ends at 0. (H, W, 3) float32; ``alpha`` is not used beyond the shape check."""
    if premult.shape[:2] != alpha.shape:
        raise ShapeMismatchError(f"the foreground is {premult.shape[1]}x{premult.shape[0]}, its matte "
                                 f"{alpha.shape[1]}x{alpha.shape[0]}")
    ref = np.maximum(average_lead(model.field, model.screen), 1e-6)
    spill = np.maximum(average_lead(premult, model.screen), 0.0) / ref
    return (premult - amount * spill[..., None] * model.field).astype(np.float32)


def hue_spread(rgb: np.ndarray, screen: str, pixels: np.ndarray | None = None) -> float:
    """The spread (5th to 95th percentile, degrees) of the hues of the pixels whose ``screen`` channel leads
    (``pixels``: (N, 3) to look at instead of the whole frame)."""
    px = rgb.reshape(-1, 3) if pixels is None else pixels
    keep = lead(px, screen) > 0.25 * px.max(axis=1)
    if keep.sum() < 16:
        return 0.0
    hues = hue(px[keep])
    centre = float(np.median(hues))
    offsets = (hues - centre + 180.0) % 360.0 - 180.0
    return float(np.percentile(offsets, 95) - np.percentile(offsets, 5))


def clean_plate_fit(rgb: np.ndarray, clean: np.ndarray, screen: str, color: np.ndarray
                    ) -> tuple[float, tuple[float, float], float]:
    """How well a clean plate fits a frame of the shot: (z, (dx, dy), response).

    z: the median |colour difference of the frame - the clean plate's| over the frame's own screen pixels, in the
    frame's noise sigmas (about 1 from the same set-up; a clean plate lit or exposed otherwise is far off);
    (dx, dy), response: the offset in pixels between the frame's and the clean plate's screen detail (tape,
    seams, folds) by phase correlation away from the subject, and its peak's strength (0 to 1; low on a screen
    without detail, where an offset cannot be seen and does no harm)."""
    import cv2

    own = fit_screen(rgb, screen, color)
    field = _blur(np.ascontiguousarray(clean[..., :3], np.float32), FIELD_SIGMA)
    seen = own.evidence
    diff = np.abs(lead(rgb, screen) - lead(field, screen))[seen]
    z = float(np.median(diff) / (0.6745 * float(np.median(own.sigma()[seen])))) if seen.sum() >= 64 else 0.0
    alpha = key_with_model(rgb, own)
    away = cv2.erode((alpha <= 0).astype(np.uint8), np.ones((11, 11), np.uint8)).astype(np.float32)

    def detail(image: np.ndarray) -> np.ndarray:
        value = level(np.ascontiguousarray(image[..., :3], np.float32))
        return ((value - _blur(value, 4.0)) / max(float(value.mean()), 1e-6) * away).astype(np.float64)

    window = cv2.createHanningWindow((rgb.shape[1], rgb.shape[0]), cv2.CV_64F)
    (dx, dy), response = cv2.phaseCorrelate(detail(rgb), detail(clean), window)
    return z, (float(dx), float(dy)), float(response)


def frame_model(shared: ScreenModel, rgb: np.ndarray, *, exclude: np.ndarray | None = None,
                frame: int | None = None) -> tuple[ScreenModel, float]:
    """(model, z): the screen model for a later frame of the shot. While the camera holds (the frame's screen
    within AGREE_Z noise sigmas of the shared model, ``agreement``) it is the shared model, extended where this
    frame shows screen the shared one had to extrapolate (extend_screen); otherwise the frame's own (fitted on
    it with the shared model's screen and colour). z: the agreement measured."""
    candidates = screen_candidates(rgb, shared.screen, shared.color)
    z = agreement(shared, rgb, candidates)
    if z <= AGREE_Z:
        return extend_screen(shared, rgb, exclude, candidates), z
    source = "fitted" if frame is None else f"fitted on frame {frame}"
    return fit_screen(rgb, shared.screen, shared.color, exclude=exclude, source=source), z


def steady_plate(previous: np.ndarray, rgb: np.ndarray, model: ScreenModel, strength: float = 0.6
                 ) -> np.ndarray:
    """The plate the key reads, steadied over time, (H, W, 3) float32: where this frame differs from the
    previous steadied one by no more than its noise (the largest channel change, blurred 1.5 px, within
    STEADY_Z x that change's own median over the screen, which is what noise alone makes of it), blend toward
    the previous by ``strength``; where it changed (the subject moved, the light changed) keep this frame. A
    static soft edge stops boiling with the grain; anything that moves keys from its own frame."""
    import cv2

    if strength <= 0 or previous.shape != rgb.shape:
        return rgb
    change = cv2.GaussianBlur(value(np.abs(rgb - previous)).astype(np.float32), (0, 0), 1.5)
    sigma = model.sigma()
    seen = model.evidence
    if seen.sum() < 64:
        return rgb
    floor = float(np.median(change[seen]) / max(float(np.median(sigma[seen])), 1e-12)) * sigma
    weight = strength * np.exp(-np.log(2.0) * (change / (STEADY_Z * np.maximum(floor, 1e-9))) ** 2)
    return (weight[..., None] * previous + (1.0 - weight[..., None]) * rgb).astype(np.float32)
