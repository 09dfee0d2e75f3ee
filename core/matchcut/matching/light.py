"""Shot match's default fit: the light, from the pixels two shots share; colour statistics only where they share none.

The pairs (matching.correspond) say, pixel by pixel, what the input's light should become. The correction has
the same form as every shot-match fit, so the same graph, LUT and CDL carry it:

    out(x) = field(x) * lab_to_rgb(A @ lab(mix @ (gains * in(x))) + b)

``gains`` (white balance, exposure) from the median log ratio of the pairs; ``mix`` (a linear-light colour
matrix) and the Lab affine ``A, b`` (saturation, hue) by robust least squares, pulled towards the plain gains
(ridge) so that a small overlap cannot invent a strong matrix; ``field`` a smooth per-channel gain in log2 on a
coarse grid over the input's frame (falloff, a practical switched on, a cloud over the sun on one side), whose
mean is carried by the global part (what the LUT and CDL hold). Where the reference does not show the input's
frame, the field continues the light the pairs show at the overlap's edge rather than fall back to their mean, and
the correction there may relax towards none but never go past what the pairs show (the strongest on each side of no
correction). Pairs that disagree with the fit (a person in one shot only, a moved prop, a misaligned edge) get no
weight (Tukey's biweight, refitted).

Which parts are fitted is decided by the pairs: each candidate model (gains or the colour matrices, with no field,
a falloff or a full light field) is fitted on half of the frame (a checkerboard of blocks) and scored on the other
half, and the simplest within FIT_MARGIN of the best wins. The guard then compares the result with the input on
all pairs: a model that is implausible or does not make the pairs closer (by GUARD_MARGIN) gives way to the next
simpler one, and when none helps the shot is left as it is. A local guard follows (_worse_cells): where the
correction pulls apart pairs that matched untouched (a part of the overlap lit otherwise: the sunny side of a
cloud's hard-edged shadow, past a practical's pool), the light is not the same across the overlap, so the frame
beyond the overlap may be lit like that part too. The fit is then kept only where the pairs it helps reach and
fades to no change of light there and beyond the overlap (matching.extrapolation), said in one warning; were that
still no closer on the pairs, the next simpler model is tried. Every threshold here was chosen on the tuning half
of the evaluation set (docs/quality.md), never on the held-out half.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from matchcut.color import REC709_LUMA
from matchcut.errors import InputError
from matchcut.matching.correspond import Pairs, find_pairs
from matchcut.matching.extrapolation import relax
from matchcut.matching.field import FIELD_LIMIT_STOPS, bilinear_nodes, field_map
from matchcut.matching.fit import ColorFit, apply_color, fit_color, identity_fit
from matchcut.matching.lab import delta_e2000, rgb_to_lab

#: Fewest pairs, and least overlap (fraction of the input's frame), for a fit from corresponding pixels.
MIN_PAIRS = 400
MIN_OVERLAP = 0.04
#: Nodes of the light field's grid across the input's long side.
FIELD_NODES = 12
#: A more complex model must beat the simplest one on held-out pairs by more than this (fraction, and ΔE floor).
FIT_MARGIN = 0.04
FIT_MARGIN_FLOOR = 0.05
#: The local guard: boards of CELLS x CELLS cells over the input's frame; a cell with at least CELL_PAIRS pairs
#: is made worse when its median ΔE2000 after the correction is above LOCAL_RATIO x the untouched one + LOCAL_MARGIN
#: (chosen on the tuning half: it flags the hard-edged one-sided shadows and Blender set 1's practicals, no photo
#: pair whose light the fit gets right, and not the Blender pairs whose reflections and parallax never match).
CELLS = 12
CELL_PAIRS = 40
LOCAL_RATIO = 2.0
LOCAL_MARGIN = 0.5
#: The result must bring the pairs closer than the untouched input by this fraction, or it is not used.
GUARD_MARGIN = 0.03
#: A reference whose usable pixels lie this much (fraction) within FLAT_DELTA_E of one colour is "flat".
FLAT_FRACTION = 0.8
FLAT_DELTA_E = 4.0
#: Ridge weights towards the simpler model: linear mix towards diag(1), Lab affine towards identity.
RIDGE_MIX = 0.02
RIDGE_LAB = 0.02
#: Light-field regularisation (relative to the pairs' mean weight per node): first and second differences, and a
#: pull towards no field, per model. No pull: nodes the pairs do not reach (the part of the input's frame the
#: reference does not show) continue the light the pairs show at the overlap's edge, bounded by the range they
#: show (_fit_model), rather than fall back to the field's mean over the overlap, which is the global part: an
#: extrapolation of whichever side of a cloud's shadow or a falloff most shared pixels lie on. The held-out runs
#: before had a pull of 0.005; the one-sided pairs added to the tuning half after them chose none (docs/quality.md).
SMOOTH = {"falloff": (0.0, 30.0, 0.0), "field": (0.02, 0.1, 0.0)}
CHROMA_STIFFNESS = 4.0  # the light's colour varies less across the frame than its level
MODELS = ("gains", "colour", "gains + falloff", "colour + falloff", "gains + light field", "colour + light field")
_EPS = 1e-4
_DE_CAP = 25.0  # a pair's ΔE counted at most this in the guard (a person in one shot only must not decide it)


@dataclass(frozen=True)
class LightFit:
    """What the default fit found for one keyframe.

    color: the global correction (ColorFit, method "pixels" or the statistics method); log_gain: (gh, gw, 3)
    log2 gain per channel on the field grid over the input's frame, or None. model: one of MODELS, "statistics
    (<method>)" or "none". summary: the one-line account of what was fitted and why; warnings: one line each.
    stats: pairs, overlap, errors on the pairs (ΔE2000) before and after.
    """

    color: ColorFit
    log_gain: np.ndarray | None
    model: str
    summary: str
    warnings: tuple[str, ...] = ()
    stats: dict = field(default_factory=dict)


# --- small pieces -------------------------------------------------------------------------------------------


def _lab(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_lab(np.maximum(rgb, 0.0)).astype(np.float64)


def _de(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return delta_e2000(_lab(a), _lab(b))


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ REC709_LUMA


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def _tukey(residual: np.ndarray, floor: float) -> np.ndarray:
    """Tukey biweight (N,) in [0, 1] of residuals (N,) >= 0, scale from their MAD (at least ``floor``)."""
    scale = max(1.4826 * float(np.median(residual)), floor)
    u = residual / (4.685 * scale)
    return np.where(u < 1, (1 - u * u) ** 2, 0.0)


def grid_shape(height: int, width: int) -> tuple[int, int]:
    """The light field's grid (rows, cols) of nodes for a frame of (height, width)."""
    if width >= height:
        return max(2, round(FIELD_NODES * height / width)), FIELD_NODES
    return FIELD_NODES, max(2, round(FIELD_NODES * width / height))


def field_at(log_gain: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The field (gh, gw, 3) log2 gains at positions xy (N, 2) in [0, 1]: (N, 3)."""
    gh, gw = log_gain.shape[:2]
    idx, wts = bilinear_nodes(xy, (gh, gw))
    flat = log_gain.reshape(-1, log_gain.shape[-1])
    return np.einsum("nk,nkc->nc", wts, flat[idx])


def _differences(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """First- and second-difference operators on the node grid (rows: differences, cols: nodes)."""
    gh, gw = shape
    n = gh * gw
    first, second = [], []
    for i in range(gh):
        for j in range(gw):
            k = i * gw + j
            if j + 1 < gw:
                row = np.zeros(n); row[k], row[k + 1] = -1, 1; first.append(row)
            if i + 1 < gh:
                row = np.zeros(n); row[k], row[k + gw] = -1, 1; first.append(row)
            if 0 < j < gw - 1:
                row = np.zeros(n); row[k - 1], row[k], row[k + 1] = 1, -2, 1; second.append(row)
            if 0 < i < gh - 1:
                row = np.zeros(n); row[k - gw], row[k], row[k + gw] = 1, -2, 1; second.append(row)
            if 0 < i < gh - 1 and 0 < j < gw - 1:
                row = np.zeros(n)
                row[k - gw - 1], row[k - gw + 1], row[k + gw - 1], row[k + gw + 1] = 0.5, -0.5, -0.5, 0.5
                second.append(row)
    return np.array(first), np.array(second)


_RGB_TO_OPP = np.array([[1 / 3, 1 / 3, 1 / 3], [1.0, -1.0, 0.0], [0.0, -1.0, 1.0]])  # level, red-green, blue-green
_OPP_TO_RGB = np.linalg.inv(_RGB_TO_OPP)


def _fit_field(residual: np.ndarray, weights: np.ndarray, xy: np.ndarray, shape: tuple[int, int], kind: str
               ) -> np.ndarray:
    """A smooth log2 gain field (gh, gw, 3) for residual log2 ratios (N, 3), weighted (N,).

    falloff: the level only, nearly planar; field: level and the light's colour, each smooth (colour stiffer).
    """
    idx, wts = bilinear_nodes(xy, shape)
    n = shape[0] * shape[1]
    normal = np.zeros((n, n))
    for a in range(4):
        for b in range(4):
            np.add.at(normal, (idx[:, a], idx[:, b]), weights * wts[:, a] * wts[:, b])
    d1, d2 = _differences(shape)
    scale = weights.sum() / n
    l1, l2, l0 = SMOOTH["falloff" if kind == "falloff" else "field"]
    opp = residual @ _RGB_TO_OPP.T
    out = np.zeros((n, 3))
    for c in range(3 if kind != "falloff" else 1):
        stiff = 1.0 if c == 0 else CHROMA_STIFFNESS
        # Nodes the pairs do not reach follow the smoothness from those they do (see SMOOTH); the 1e-6 keeps the
        # system definite.
        system = normal + scale * (stiff * (l1 * d1.T @ d1 + l2 * d2.T @ d2) + (l0 + 1e-6) * np.eye(n))
        rhs = np.zeros(n)
        for a in range(4):
            np.add.at(rhs, idx[:, a], weights * wts[:, a] * opp[:, c])
        out[:, c] = np.linalg.solve(system, rhs)
    return (out @ _OPP_TO_RGB.T).reshape(shape[0], shape[1], 3)


def _fit_global(x: np.ndarray, y: np.ndarray, w: np.ndarray, kind: str) -> ColorFit:
    """The global correction from input values x to target values y ((N, 3) linear), weighted (N,).

    gains: per-channel gains only. colour: gains, then a linear-light 3x3 and a Lab affine map, each by
    weighted least squares pulled towards the stage before (ridge), so few or one-coloured pairs keep it mild.
    """
    lx, ly = np.log2(np.maximum(x, _EPS)), np.log2(np.maximum(y, _EPS))
    bright = w * (np.minimum(x.min(1), y.min(1)) > 4 * _EPS)
    gains = np.array([2.0 ** _weighted_median(ly[:, c] - lx[:, c], bright + 1e-9) for c in range(3)])
    base = identity_fit("pixels")
    fit = replace(base, gains=gains)
    if kind == "gains":
        return fit
    xg = x * gains
    rel = w / (_luma(np.maximum(y, 0)) + 0.02) ** 2  # relative error: shadows count as much as highlights
    total = rel.sum()
    gram = (xg * rel[:, None]).T @ xg + RIDGE_MIX * total * np.diag(np.mean(xg ** 2, 0))
    cross = (xg * rel[:, None]).T @ y + RIDGE_MIX * total * np.diag(np.mean(xg ** 2, 0))
    mix = np.linalg.solve(gram, cross).T  # y ~ mix @ xg, pulled towards the identity
    fit = replace(fit, mix=mix)
    src_lab = _lab(xg @ mix.T)
    ref_lab = _lab(y)
    design = np.concatenate([src_lab, np.ones((len(src_lab), 1))], 1)
    ident = np.concatenate([np.eye(3), np.zeros((1, 3))], 0)
    ridge = np.diag([1.0, 1.0, 1.0, 0.0]) * RIDGE_LAB * w.sum() * 100.0
    dw = design * w[:, None]
    coef = np.linalg.solve(dw.T @ design + ridge, dw.T @ ref_lab + ridge @ ident)
    return replace(fit, matrix=coef[:3].T, offset=coef[3])


def _predict(color: ColorFit, log_gain: np.ndarray | None, pairs_src: np.ndarray, xy: np.ndarray) -> np.ndarray:
    out = apply_color(color, pairs_src).astype(np.float64)
    if log_gain is not None:
        out = out * np.exp2(field_at(log_gain, xy))
    return out


def _fit_model(pairs: Pairs, weights: np.ndarray, model: str, shape: tuple[int, int], rounds: int = 3
               ) -> tuple[ColorFit, np.ndarray | None]:
    """Fit one of MODELS on (a subset of) the pairs: alternate the global part and the field, reweighting."""
    kind = "colour" if model.startswith("colour") else "gains"
    field_kind = "falloff" if "falloff" in model else "field" if "field" in model else None
    x, y = pairs.src.astype(np.float64), pairs.ref.astype(np.float64)
    w = weights.copy()
    log_gain = None
    color = _fit_global(x, y, w, kind)
    for _ in range(rounds):
        if field_kind is not None:
            pred = apply_color(color, x).astype(np.float64)
            ratio = np.log2(np.maximum(y, _EPS)) - np.log2(np.maximum(pred, _EPS))
            ok = (np.minimum(y, pred).min(1) > 4 * _EPS).astype(np.float64)
            ratio = np.clip(ratio, -FIELD_LIMIT_STOPS, FIELD_LIMIT_STOPS)
            lum = np.clip(_luma(np.maximum(y, 0)) / 0.02, 0.05, 1.0)  # dark pairs: noisy ratios, less say
            fw = w * ok * lum
            log_gain = _fit_field(ratio, fw, pairs.xy, shape, field_kind)
            # The field's mean over the pairs goes to the global part (so the LUT and CDL carry it).
            mean = np.average(field_at(log_gain, pairs.xy), axis=0, weights=fw + 1e-12)
            log_gain = log_gain - mean
            y_global = y / np.exp2(field_at(log_gain, pairs.xy))
        else:
            y_global = y
        color = _fit_global(x, y_global, w, kind)
        residual = _de(_predict(color, log_gain, x, pairs.xy), y)
        w = weights * _tukey(residual, 1.0)
    if log_gain is not None:
        # Beyond the overlap the correction may relax towards none, never go past what the pairs show: the whole
        # correction's light (global part on greys + field, per channel) stays between no correction and the
        # strongest the pairs show on that side of it (FIELD_LIMIT_STOPS at most).
        seen = field_at(log_gain, pairs.xy)
        t_g = _grey_gain(color)
        lo = np.minimum(seen.min(0) + t_g, 0.0) - t_g
        hi = np.maximum(seen.max(0) + t_g, 0.0) - t_g
        log_gain = np.clip(np.clip(log_gain, lo, hi), -FIELD_LIMIT_STOPS, FIELD_LIMIT_STOPS)
    return color, log_gain


_GREYS = np.repeat(np.array([0.05, 0.1, 0.18, 0.35, 0.6])[:, None], 3, axis=1)


def _grey_gain(color: ColorFit) -> np.ndarray:
    """The global part's light on neutral greys: (3,) log2 gain per channel (its gains when it is gains only)."""
    return np.median(np.log2(np.maximum(apply_color(color, _GREYS).astype(np.float64), _EPS)) - np.log2(_GREYS), 0)


def _blocks(xy: np.ndarray, cells: int = 4) -> np.ndarray:
    """Checkerboard fold (N,) bool of positions xy on a cells x cells board over the frame."""
    i = np.minimum((xy[:, 1] * cells).astype(int), cells - 1)
    j = np.minimum((xy[:, 0] * cells).astype(int), cells - 1)
    return (i + j) % 2 == 0


def _plausible(color: ColorFit, log_gain: np.ndarray | None) -> str:
    """Why a fit is implausible ("" when it is not)."""
    linear = color.linear
    sv = np.linalg.svd(linear, compute_uv=False)
    if not np.isfinite(linear).all() or np.linalg.det(linear) <= 0 or sv.min() < 1 / 16 or sv.max() > 16:
        return f"its colour matrix is implausible (singular values {sv.min():.2f}-{sv.max():.2f})"
    if sv.max() / sv.min() > 30:
        return f"its colour matrix mixes channels too strongly (condition {sv.max() / sv.min():.0f})"
    det = float(np.linalg.det(color.matrix))
    if not 0.2 < det < 5 or np.abs(color.offset).max() > 40:
        return f"its Lab map is implausible (determinant {det:.2f}, offset up to {np.abs(color.offset).max():.0f})"
    if log_gain is not None and (not np.isfinite(log_gain).all() or np.abs(log_gain).max() > FIELD_LIMIT_STOPS):
        return "its light field is out of range"
    return ""


def flat_reference(ref: np.ndarray) -> tuple[float, np.ndarray] | None:
    """(fraction, Lab colour) when the reference (linear Rec.709 (H, W, 3)) is mostly one flat colour, else None."""
    flat = np.asarray(ref, np.float32).reshape(-1, 3)
    flat = flat[np.isfinite(flat).all(1)]
    flat = flat[:: max(1, len(flat) // 20000)]
    if len(flat) == 0:
        return None
    lab = _lab(flat)
    centre = np.median(lab, 0)
    near = float((np.linalg.norm(lab - centre, axis=1) < FLAT_DELTA_E).mean())
    return (near, centre) if near >= FLAT_FRACTION else None


def _mean_capped(de: np.ndarray) -> float:
    return float(np.minimum(de, _DE_CAP).mean())


def fit_from_pairs(pairs: Pairs, shape: tuple[int, int], *, models: tuple[str, ...] = MODELS) -> LightFit:
    """Choose and fit a model on the pairs (see the module text), with the guard; ``shape`` is the input's
    (height, width) (the field's grid follows its aspect)."""
    grid = grid_shape(*shape)
    x, y = pairs.src.astype(np.float64), pairs.ref.astype(np.float64)
    ones = np.ones(len(pairs))
    fold = _blocks(pairs.xy)
    scores = {}
    for model in models:
        errs = []
        for train in (fold, ~fold):
            test = ~train
            if train.sum() < MIN_PAIRS // 2 or test.sum() < MIN_PAIRS // 4:
                continue
            color, log_gain = _fit_model(pairs.subset(train), ones[train], model, grid, rounds=2)
            de = _de(_predict(color, log_gain, x[test], pairs.xy[test]), y[test])
            errs.append(float(np.sort(de)[: max(1, int(0.9 * len(de)))].mean()))
        if errs:
            scores[model] = float(np.mean(errs))
    if not scores:  # pairs all on one side of the board: no hold-out, the simplest model
        scores = {models[0]: 0.0}
    best = min(scores.values())
    allowed = best + max(FIT_MARGIN * best, FIT_MARGIN_FLOOR)
    chosen = next(m for m in models if m in scores and scores[m] <= allowed)
    before = _mean_capped(_de(x, y))
    order = [m for m in models[: models.index(chosen) + 1][::-1] if m in scores]
    tried = []
    for model in order:
        color, log_gain = _fit_model(pairs, ones, model, grid)
        why = _plausible(color, log_gain)
        after = _mean_capped(_de(_predict(color, log_gain, x, pairs.xy), y))
        if not why and after > before * (1 - GUARD_MARGIN):
            why = f"it brings the pairs no closer ({before:.2f} -> {after:.2f} mean CIEDE2000)"
        stats = {"pairs": len(pairs), "overlap": pairs.overlap, "before": before, "after": after,
                 "scores": scores, "dense": pairs.dense}
        warnings = tuple(f"fit fell back from {m}: {w}" for m, w in tried)
        if not why:
            worse = _worse_cells(color, log_gain, pairs)
            if not worse.any():
                return LightFit(replace(color, residual=after), log_gain, model, _why(model, scores, models),
                                warnings, stats)
            faded = _faded(pairs, (model, color, log_gain, worse), grid, shape, before, stats)
            if faded is not None:
                return replace(faded, summary=f"{_why(model, scores, models)}, {faded.summary}",
                               warnings=warnings + faded.warnings)
            why = f"it makes the pairs in {worse.mean():.0%} of them worse, and faded there it brings them no closer"
        tried.append((model, why))
    stats = {"pairs": len(pairs), "overlap": pairs.overlap, "before": before, "after": before, "scores": scores,
             "dense": pairs.dense}
    last = tried[-1][1] if tried else "no model"
    return LightFit(identity_fit("none"), None, "none", "no correction: nothing fitted improves the shot",
                    (f"shot match left the shot as it is: the best fit ({tried[0][0]}) was refused because {last}",),
                    stats)


def _faded(pairs: Pairs, harmful: tuple, grid: tuple[int, int], shape: tuple[int, int], before: float,
           stats: dict) -> LightFit | None:
    """The safer fit when a model makes part of the overlap worse: ``harmful`` (model, color, field, the pairs it
    makes worse (N,) bool) kept where the pairs it helps reach and faded to no change of light beyond them
    (matching.extrapolation.relax), so neither the part it makes worse nor the frame beyond the overlap, which may
    be lit like that part, gets it; None when that still does not bring the pairs closer."""
    model, color, log_gain, worse = harmful
    x, y = pairs.src.astype(np.float64), pairs.ref.astype(np.float64)
    field_ = relax(log_gain, _grey_gain(color), pairs.xy[~worse], grid, shape)
    after = _mean_capped(_de(_predict(color, field_, x, pairs.xy), y))
    if _plausible(color, field_) or after > before * (1 - GUARD_MARGIN):
        return None
    line = (f"{model} makes the pairs in {worse.mean():.0%} of them worse (the light is not the same across the "
            "overlap): it is kept where it helps and fades to none there and beyond the overlap")
    return LightFit(replace(color, residual=after), field_, f"{model}, faded", "faded where it does not help",
                    (line,), {**stats, "after": after})


def _worse_cells(color: ColorFit, log_gain: np.ndarray | None, pairs: Pairs) -> np.ndarray:
    """Where the correction makes the pairs worse than untouched: (N,) bool, the pairs in cells (CELLS x CELLS
    over the input's frame, and the same board shifted by half a cell each way, so a strip of light at a cell's
    border is not split) that hold at least CELL_PAIRS pairs and whose median ΔE2000 (capped) after the correction
    is above LOCAL_RATIO times the untouched one plus LOCAL_MARGIN. Medians, and a ratio to the untouched error:
    pairs that do not truly correspond (a reflection, a moved prop, parallax) are far apart either way and do not
    decide it; pairs that matched untouched and are pulled apart do (a part of the overlap lit otherwise)."""
    x, y = pairs.src.astype(np.float64), pairs.ref.astype(np.float64)
    after = np.minimum(_de(_predict(color, log_gain, x, pairs.xy), y), _DE_CAP)
    before = np.minimum(_de(x, y), _DE_CAP)
    worse = np.zeros(len(pairs), bool)
    for shift_x, shift_y in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)):
        i = np.floor(pairs.xy[:, 1] * CELLS + shift_y).astype(int)
        j = np.floor(pairs.xy[:, 0] * CELLS + shift_x).astype(int)
        cell = i * (CELLS + 2) + j
        for k in np.unique(cell):
            inside = cell == k
            if inside.sum() >= CELL_PAIRS and np.median(after[inside]) > (
                    LOCAL_RATIO * np.median(before[inside]) + LOCAL_MARGIN):
                worse |= inside
    return worse


def _why(model: str, scores: dict, models: tuple[str, ...]) -> str:
    simplest = next(m for m in models if m in scores)
    if model == simplest:
        return f"{model} (nothing more complex did better on held-out pairs: {scores[model]:.2f} ΔE)"
    return f"{model} (held-out pairs {scores[simplest]:.2f} -> {scores[model]:.2f} ΔE with it)"


def fit_statistics(src: np.ndarray, ref: np.ndarray, method: str, reason: str) -> LightFit:
    """Colour statistics only (fit_color), guarded: kept only when it brings the distributions closer."""
    from matchcut.matching.fit import _residual, usable_pixels

    color = fit_color(src, ref, method=method)
    src_lab = _lab(usable_pixels(src, None, "input"))
    ref_lab = _lab(usable_pixels(ref, None, "reference"))
    untouched = _residual(identity_fit(method), src_lab, ref_lab)
    stats = {"pairs": 0, "overlap": 0.0, "residual_before": untouched, "residual_after": color.residual}
    if color.residual >= untouched:
        return LightFit(identity_fit("none"), None, "none", f"no correction ({reason})",
                        (f"{reason}, and colour statistics ({method}) would not bring the shots closer "
                         f"(residual {untouched:.2f} -> {color.residual:.2f}): left as it is",), stats)
    return LightFit(color, None, f"statistics ({method})", f"colour statistics only ({method}): {reason}",
                    (f"{reason}: colour statistics only ({method})",), stats)


def fit_light(src: np.ndarray, ref: np.ndarray, *, method: str = "mkl", reference_name: str = "the reference",
              pairs: Pairs | None = None) -> LightFit:
    """The default fit of linear Rec.709 ``src`` (H, W, 3) towards ``ref`` (any size): from corresponding pixels
    where the shots overlap, colour statistics (``method``) where they share none.

    Raises InputError naming ``reference_name`` when the reference is mostly one flat colour and shares nothing
    with the input (its statistics would paint the input that colour).
    """
    from matchcut.matching.fit import usable_pixels

    usable_pixels(ref, None, "reference")  # a black or clipped reference is refused before anything else
    usable_pixels(src, None, "input")
    flat = flat_reference(ref)
    found = pairs if pairs is not None else find_pairs(src, ref)
    usable = found is not None and len(found) >= MIN_PAIRS and found.overlap >= MIN_OVERLAP
    if flat is not None:
        share, lab = flat
        what = (f"{reference_name} is mostly one flat colour ({share:.0%} of its pixels within {FLAT_DELTA_E:.0f} "
                f"ΔE of L {lab[0]:.0f} a {lab[1]:.0f} b {lab[2]:.0f})")
        if not usable:
            raise InputError(f"{what} and shares no picture with the input: it says nothing about the light; "
                             "give a reference that shows the scene")
        fit = fit_from_pairs(found, src.shape[:2], models=("gains",))
        return replace(fit, warnings=(f"{what}: only white balance and exposure fitted, from the pixels both show",)
                       + fit.warnings)
    if not usable:
        if found is None:
            reason = "the shots share no picture (no camera change fits their features)"
        else:
            reason = (f"the shots share too little ({len(found)} corresponding pixels, {found.overlap:.0%} overlap; "
                      f"need {MIN_PAIRS} and {MIN_OVERLAP:.0%})")
        return fit_statistics(src, ref, method, reason)
    fit = fit_from_pairs(found, src.shape[:2])
    return fit


def describe(fit: LightFit, frame: int | None = None) -> str:
    """The info line for a keyframe: how many pairs, how much overlap, what was fitted and why."""
    where = f"keyframe {frame}: " if frame is not None else ""
    s = fit.stats
    if s.get("pairs"):
        count = f"{s['pairs']:,}".replace(",", " ")
        head = (f"{where}fitted from {count} corresponding pixels ({s['overlap']:.0%} overlap, "
                f"{'dense flow' if s.get('dense') else 'homography only'}): ")
        return head + f"{fit.summary}; pairs {s['before']:.2f} -> {s['after']:.2f} mean CIEDE2000"
    return where + fit.summary


# --- one keyframe, as the tool fits it ---------------------------------------------------------------------


FITS = ("overlap", "statistics")


@dataclass(frozen=True)
class KeyframeFit:
    """A keyframe's correction (matching.regional.RegionalFit), the info line saying what was fitted and why,
    and one line per warning (fallbacks, flat reference, no overlap)."""

    fit: object
    info: str
    warnings: tuple[str, ...] = ()
    model: str = ""


def _sample(matte: np.ndarray, xy: np.ndarray) -> np.ndarray:
    h, w = matte.shape[:2]
    return matte[np.minimum((xy[:, 1] * h).astype(int), h - 1), np.minimum((xy[:, 0] * w).astype(int), w - 1)]


def guard_pairs(color: ColorFit, log_gain: np.ndarray | None, pairs: Pairs) -> tuple[float, float]:
    """(before, after): mean CIEDE2000 (each pair capped at 25) of the input and of the corrected input against
    the reference on the pairs. log_gain: a (gh, gw, 3) field, an old (h, w) luminance field, or None."""
    x, y = pairs.src.astype(np.float64), pairs.ref.astype(np.float64)
    field = log_gain
    if field is not None and field.ndim == 2:
        field = np.repeat(field[..., None], 3, axis=2)
    return _mean_capped(_de(x, y)), _mean_capped(_de(_predict(color, field, x, pairs.xy), y))


def fit_keyframe(src: np.ndarray, ref: np.ndarray, *, fit: str = "overlap", method: str = "mkl",
                 regional: bool = False, local: bool = False, device=None,
                 reference_name: str = "the reference") -> KeyframeFit:
    """Fit one keyframe of linear Rec.709 ``src`` (H, W, 3) towards ``ref`` (any size).

    fit="overlap" (the default): fit_light, and with ``regional`` the person's global correction apart from the
    set's (pairs under the input's gated person matte) when both shots have a person. fit="statistics": the
    colour-statistics fits (matching.regional.fit_regional with ``regional`` and ``local``), kept only when they
    bring the pairs the shots share closer (when they share any).
    """
    from matchcut.errors import SettingError
    from matchcut.matching.regional import RegionalFit, fit_regional, person_mattes

    if fit not in FITS:
        raise SettingError("fit", f"unknown fit '{fit}'", FITS)
    pairs = find_pairs(src, ref)
    if fit == "statistics":
        warnings: list[str] = []
        result = fit_regional(src, ref, method=method, person=regional, local=local, device=device,
                              warn=warnings.append)
        info = f"{method} fit (colour statistics), residual {result.background.residual:.2f} (Lab units; 0 = distributions agree)"
        if pairs is not None and len(pairs) >= MIN_PAIRS:
            before, after = guard_pairs(result.background, result.log_gain, pairs)
            info += f"; the pixels both shots show: {before:.2f} -> {after:.2f} mean CIEDE2000"
            if after > before * (1 - GUARD_MARGIN):
                warnings.append(f"the {method} fit would make the shot worse where the shots overlap ({before:.2f} -> "
                                f"{after:.2f} mean CIEDE2000): left as it is")
                return KeyframeFit(RegionalFit(identity_fit("none")), info, tuple(warnings), "none")
        return KeyframeFit(result, info, tuple(warnings), f"statistics ({method})")
    light = fit_light(src, ref, method=method, reference_name=reference_name, pairs=pairs)
    person = None
    warnings = list(light.warnings)
    if regional and light.model not in ("none",) and not light.model.startswith("statistics"):
        mattes = person_mattes(src, ref, device)
        if mattes is None:
            warnings.append("regional match: no person in both shots (face detection found none), one fit for the "
                            "whole frame")
        else:
            inside = _sample(mattes[0], pairs.xy) >= 0.5
            if inside.sum() >= MIN_PAIRS // 2:
                field = light.log_gain
                y = pairs.ref[inside].astype(np.float64)
                if field is not None:
                    y = y / np.exp2(field_at(field, pairs.xy[inside]))
                person = _fit_global(pairs.src[inside].astype(np.float64), y, np.ones(int(inside.sum())), "colour")
            else:
                warnings.append(f"regional match: only {int(inside.sum())} corresponding pixels on the person; the "
                                "person gets the set's fit")
    return KeyframeFit(RegionalFit(light.color, person, light.log_gain), describe(light), tuple(warnings), light.model)
