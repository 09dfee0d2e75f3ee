"""Hand the colorist the grade: a 3D LUT (.cube) and, when the fit is close to affine, an ASC CDL (.cc/.cdl).

Both work in the plate's grading space: the plate's own colour space for display-referred plates, and the
config's ACEScct log encoding for scene-linear plates. A 3D LUT sampled on a linear axis wastes its points on
highlights and has none left for shadows, and ACEScct is where Resolve and Nuke users apply LUTs and CDLs to
ACES plates; the file's header says which space it expects. Each export is checked by loading it back with
OpenColorIO and comparing against the tool's own output; the errors are returned for the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from matchcut.color import REC709_LUMA
from matchcut.errors import SettingError
from matchcut.matching.fit import ColorFit, apply_color
from matchcut.matching.lab import delta_e2000, rgb_to_lab

WORKING = "Linear Rec.709 (sRGB)"
LOG_GRADING = "ACEScct"
LUT_SIZES = (17, 33, 65)
#: Largest mean CIEDE2000 between a CDL and the tool's correction for the CDL to be written.
CDL_TOLERANCE = 1.0


def grading_space(plate_space: str) -> str:
    """The space LUTs and CDLs for a plate in `plate_space` work in (ACEScct for scene-linear plates)."""
    from matchcut import color

    config = color.load_config()
    name = color.resolve_colorspace(plate_space)
    cs = config.getColorSpace(name)
    linear = cs is not None and (cs.getEncoding() == "scene-linear" or name == color.resolve_colorspace(color.SCENE_LINEAR))
    return color.resolve_colorspace(LOG_GRADING) if linear else name


def _correct_in(space: str, fit: ColorFit, values: np.ndarray) -> np.ndarray:
    """The fit applied to (N, 3) values encoded in `space`, returned in `space`."""
    from matchcut import color

    img = values.reshape(-1, 1, 3).astype(np.float32)
    lin = color.convert(img, space, WORKING)
    return color.convert(apply_color(fit, lin), WORKING, space).reshape(-1, 3)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _check(plate_space: str, samples_plate: np.ndarray, expected_plate: np.ndarray, transform) -> dict:
    """Apply an OCIO transform (in the grading space) to plate samples and compare with the tool's output."""
    import PyOpenColorIO as ocio

    from matchcut import color

    config = color.load_config()
    grading = grading_space(plate_space)
    group = ocio.GroupTransform([ocio.ColorSpaceTransform(plate_space, grading), transform,
                                 ocio.ColorSpaceTransform(grading, plate_space)])
    got = np.ascontiguousarray(samples_plate, np.float32).copy()
    config.getProcessor(group).getDefaultCPUProcessor().applyRGB(got)
    lin_got = color.convert(got.reshape(-1, 1, 3), plate_space, WORKING).reshape(-1, 3)
    lin_exp = color.convert(expected_plate.reshape(-1, 1, 3).astype(np.float32), plate_space, WORKING).reshape(-1, 3)
    de = delta_e2000(rgb_to_lab(np.maximum(lin_got, 0)), rgb_to_lab(np.maximum(lin_exp, 0)))
    return {"mean_delta_e": float(de.mean()), "p95_delta_e": float(np.percentile(de, 95)),
            "max_abs": float(np.abs(got - expected_plate).max())}


def write_cube(path: str | os.PathLike, fit: ColorFit, plate_space: str, samples_plate: np.ndarray,
               size: int = 33) -> dict:
    """Write the global correction as a 3D LUT in the plate's grading space; return its check against the tool.

    samples_plate: (N, 3) plate pixels (in `plate_space`) to check the loaded LUT on.
    """
    import PyOpenColorIO as ocio

    if size not in LUT_SIZES:
        raise SettingError("lut_size", f"expected one of {LUT_SIZES}, got {size}")
    path = Path(path)
    grading = grading_space(plate_space)
    axis = np.linspace(0.0, 1.0, size)
    b, g, r = np.meshgrid(axis, axis, axis, indexing="ij")  # .cube order: red varies fastest
    grid = np.stack([r, g, b], axis=-1).reshape(-1, 3)
    table = _correct_in(grading, fit, grid)
    lines = [f'TITLE "Matchcut shot match ({fit.method})"',
             f"# input and output: {grading} (from a plate in {plate_space})",
             f"LUT_3D_SIZE {size}", "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    lines += [f"{v[0]:.6f} {v[1]:.6f} {v[2]:.6f}" for v in table]
    _write_atomic(path, "\n".join(lines) + "\n")
    expected = _correct_in(plate_space, fit, samples_plate)
    transform = ocio.FileTransform(str(path), interpolation=ocio.INTERP_TETRAHEDRAL)
    return {"path": str(path), "space": grading, **_check(plate_space, samples_plate, expected, transform)}


@dataclass(frozen=True)
class Cdl:
    """ASC CDL: out = max(in * slope + offset, 0) ** power, then saturation around Rec.709 luma."""

    slope: np.ndarray
    offset: np.ndarray
    power: np.ndarray
    saturation: float

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        sop = np.maximum(rgb * self.slope + self.offset, 0.0) ** self.power
        luma = (sop @ REC709_LUMA)[..., None]
        return luma + self.saturation * (sop - luma)


def fit_cdl(fit: ColorFit, samples_plate: np.ndarray, plate_space: str) -> tuple[Cdl, float]:
    """The CDL closest to the correction on the plate's pixels, in the grading space, and its mean CIEDE2000."""
    from scipy.optimize import least_squares

    grading = grading_space(plate_space)
    from matchcut import color

    x = color.convert(samples_plate.reshape(-1, 1, 3).astype(np.float32), plate_space, grading).reshape(-1, 3)
    y = _correct_in(grading, fit, x)

    def cdl_of(p: np.ndarray) -> Cdl:
        return Cdl(p[0:3], p[3:6], p[6:9], float(p[9]))

    def residual(p: np.ndarray) -> np.ndarray:
        return (cdl_of(p).apply(x) - y).ravel()

    start = np.array([1, 1, 1, 0, 0, 0, 1, 1, 1, 1], dtype=np.float64)
    lower = [0.01] * 3 + [-1.0] * 3 + [0.2] * 3 + [0.0]
    upper = [10.0] * 3 + [1.0] * 3 + [5.0] * 3 + [4.0]
    cdl = cdl_of(least_squares(residual, start, bounds=(lower, upper)).x)
    got_lin = color.convert(cdl.apply(x).reshape(-1, 1, 3).astype(np.float32), grading, WORKING).reshape(-1, 3)
    exp_lin = color.convert(y.reshape(-1, 1, 3).astype(np.float32), grading, WORKING).reshape(-1, 3)
    error = float(delta_e2000(rgb_to_lab(np.maximum(got_lin, 0)), rgb_to_lab(np.maximum(exp_lin, 0))).mean())
    return cdl, error


def write_cdl(path: str | os.PathLike, fit: ColorFit, plate_space: str, samples_plate: np.ndarray,
              tolerance: float = CDL_TOLERANCE, cdl_id: str = "matchcut") -> dict:
    """Write an ASC CDL (.cc: ColorCorrection, .cdl: ColorDecisionList) if it reproduces the correction within
    `tolerance` mean CIEDE2000; otherwise raise SettingError saying by how much it misses (use the LUT then)."""
    import PyOpenColorIO as ocio

    path = Path(path)
    if path.suffix.lower() not in (".cc", ".cdl"):
        raise SettingError("cdl", f"{path}: expected a .cc or .cdl file name")
    cdl, error = fit_cdl(fit, samples_plate, plate_space)
    if error > tolerance:
        raise SettingError("cdl", f"{path}: the correction is not close enough to a CDL (mean CIEDE2000 {error:.2f} "
                           f"> {tolerance}); write the 3D LUT (--lut) instead, or raise cdl_tolerance")
    grading = grading_space(plate_space)

    def triple(v: np.ndarray) -> str:
        return " ".join(f"{x:.6f}" for x in v)

    cc = (f'<ColorCorrection id="{escape(cdl_id)}">\n'
          f"  <Description>Matchcut shot match ({escape(fit.method)}); apply in {escape(grading)}</Description>\n"
          f"  <SOPNode>\n    <Slope>{triple(cdl.slope)}</Slope>\n    <Offset>{triple(cdl.offset)}</Offset>\n"
          f"    <Power>{triple(cdl.power)}</Power>\n  </SOPNode>\n"
          f"  <SatNode>\n    <Saturation>{cdl.saturation:.6f}</Saturation>\n  </SatNode>\n</ColorCorrection>\n")
    if path.suffix.lower() == ".cdl":
        body = "\n".join("  " + line for line in cc.splitlines())
        text = ('<?xml version="1.0" encoding="UTF-8"?>\n<ColorDecisionList xmlns="urn:ASC:CDL:v1.01">\n'
                f"  <ColorDecision>\n{body}\n  </ColorDecision>\n</ColorDecisionList>\n")
    else:
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + cc
    _write_atomic(path, text)
    expected = _correct_in(plate_space, fit, samples_plate)
    transform = ocio.FileTransform(str(path), cccId=cdl_id, interpolation=ocio.INTERP_LINEAR)
    return {"path": str(path), "space": grading, "fit_mean_delta_e": error,
            "slope": cdl.slope.tolist(), "offset": cdl.offset.tolist(), "power": cdl.power.tolist(),
            "saturation": cdl.saturation, **_check(plate_space, samples_plate, expected, transform)}
