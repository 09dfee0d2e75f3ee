"""The `match` tool: make a shot's light and colour match a reference shot, and hand over the grade.

Inputs: ``plate`` (the shot to correct), ``reference`` (the hero shot: a still or a sequence, one frame of it
is matched), optional ``mask`` (a matte limiting where the correction applies). Output ``main``. Artifacts:
the 3D LUT and the ASC CDL when asked. Fitting happens once, on keyframes, in prepare(); every frame then
runs the correction graph (matching/graph.py) with its interpolated parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import InputError, ShapeMismatchError
from matchcut.matching.fit import METHODS
from matchcut.matching.light import FITS
from matchcut.models.manifest import Control
from matchcut.provenance import Provenance
from matchcut.tools.base import Emit, Tool, WorkItem, job_frames, mask_weight
from matchcut.tools.description import Artifact, Input, Output

if TYPE_CHECKING:
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec

WORKING = "Linear Rec.709 (sRGB)"
_SAMPLES = 20_000  # plate pixels the LUT and CDL are checked on


class MatchTool(Tool):
    name = "match"
    label = "Shot Match"
    description = "Match a shot's light and colour to a reference shot; export the grade as a 3D LUT and an ASC CDL."
    controls = (
        Control("fit", "choice", "overlap", choices=FITS, label="Fit from",
                help="overlap: the light from the pixels both shots show (falloff and regional light when they "
                     "support it; colour statistics only where the shots share nothing); statistics: colour "
                     "distributions only (the method below)",
                cli_help="overlap (corresponding pixels) or statistics (colour distributions only)."),
        Control("method", "choice", "mkl", choices=METHODS, label="Statistics method",
                help="the colour statistics used where the shots share nothing, or with fit=statistics: reinhard: "
                     "mean and spread per channel; mkl: full colour transform (keeps colour relations); "
                     "histogram: matches each channel's distribution", cli_help="reinhard, mkl or histogram."),
        Control("regional", "bool", False, label="Person and set separately",
                help="separate fits for the person and the background when both shots have a person",
                cli_help="Separate fits for the person and the set."),
        Control("local", "bool", False, label="Local light (statistics)",
                help="with fit=statistics, also match light that changed across the frame (ORB alignment); the "
                     "overlap fit finds it by itself",
                cli_help="With --fit statistics: also match light that changed across the frame."),
        Control("strength", "float", 1.0, min=0.0, max=1.0, label="Mix", cli_help="Mix, 0 to 1."),
        Control("keyframes", "string", "12", label="Keyframes",
                help="fit every N frames, or on listed frames such as 1001,1010-1012",
                cli_help="Fit every N frames, or on frames like 1001,1010."),
        Control("smoothing", "float", 1.0, min=0.0, max=10.0, label="Temporal smoothing",
                help="Gaussian over keyframes, in keyframes; 0 follows each keyframe exactly",
                cli_help="Temporal smoothing over keyframes (0: none)."),
        Control("reference_frame", "int", None, label="Reference frame",
                help="the reference's frame to match; empty: its middle frame", ui="host",
                cli_help="Reference frame to match (default: middle)."),
        Control("colorspace", "string", "", label="Plate colour space",
                help="OCIO name; empty: from the file (EXR scene-linear, others sRGB)", ui="colorspace",
                cli_help="The plate's OCIO colour space (default: from the file)."),
        Control("lut", "string", "", label="3D LUT (.cube)", help="write the grade as a 3D LUT here",
                cli_help="Write the grade as a 3D LUT (.cube)."),
        Control("lut_size", "choice", "33", choices=("17", "33", "65"), label="LUT size",
                cli_help="17, 33 or 65 points per axis."),
        Control("cdl", "string", "", label="ASC CDL (.cc/.cdl)", help="write the grade as a CDL here when it fits one",
                cli_help="Write the grade as an ASC CDL (.cc or .cdl) when it fits one."),
        Control("cdl_tolerance", "float", 1.0, min=0.1, max=10.0, label="CDL tolerance (mean CIEDE2000)",
                cli_help="Largest mean CIEDE2000 a CDL may miss by."),
    )
    input_specs = (
        Input("plate", "main", required=True, label="Plate", help="The shot to correct, e.g. plates/sh020.####.exr.",
              flag="--input"),
        Input("reference", "still", required=True, label="Reference", pick=True, frames_param="reference_frame",
              help="The hero shot: a still, a sequence or a movie."),
        Input("mask", "frames", label="Mask", help="A matte sequence limiting where the correction applies."),
    )
    output_specs = (Output("main", "plate", label="Result", help="Output pattern, e.g. out/sh020_match.####.exr.",
                           flag="--output"),)
    artifacts = (Artifact("lut", "lut", ".cube", "3D LUT"), Artifact("cdl", "cdl", ".cc", "ASC CDL"))

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.keyfits: dict = {}
        self.session: Any = None
        self.samples: np.ndarray | None = None
        self.sample_space = ""
        self.device: Any = None

    def check(self, job: JobSpec) -> None:
        super().check(job)
        self.values = self.params(job)

    def _artifact(self, job: JobSpec, key: str):
        from pathlib import Path

        from matchcut.jobs.spec import resolve_job_path

        value = self.values.get(key) or ""
        return Path(resolve_job_path(value, job.base_dir, f"{job.where}: 'params.{key}'")) if value else None

    def plan(self, job: JobSpec) -> list[WorkItem]:
        from pathlib import Path

        from matchcut.frames import parse_pattern

        out = parse_pattern(job.output_path("main"))
        reads = ["plate"] + (["mask"] if "mask" in job.inputs else [])
        return [WorkItem(f, {name: [f] for name in reads}, {"main": Path(out.path_for(f))}) for f in job_frames(job)]

    def provenance(self, job: JobSpec) -> Provenance:
        from matchcut.matching.graph import NAME, graph_path
        from matchcut.models.manifest import sha256_file

        values = self.values or self.params(job)
        params = {k: v for k, v in values.items() if k not in ("lut", "lut_size", "cdl", "cdl_tolerance")}
        return Provenance(tool=self.name, params={**params, "nonfinite": job.nonfinite},
                          model_id=NAME.removesuffix(".onnx"), model_sha256=sha256_file(graph_path()))

    def _space(self, plate: Plate) -> str:
        from matchcut.color import default_colorspace, resolve_colorspace

        return resolve_colorspace(self.values.get("colorspace") or plate.colorspace or default_colorspace(plate.source))

    def _working(self, plate: Plate) -> np.ndarray:
        from matchcut.color import convert

        return convert(np.ascontiguousarray(plate.rgb), self._space(plate), WORKING)

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        """Read the reference and the keyframes, fit, smooth, and open the correction graph."""
        from matchcut.frames import open_source
        from matchcut.matching.graph import graph_path
        from matchcut.matching.light import fit_keyframe
        from matchcut.matching.temporal import fit_at, keyframes, smooth
        from matchcut.runtime import create_session

        v = self.values or self.params(job)
        self.values = v
        self.device = job.device
        frames = job_frames(job)
        ref_source = open_source(job.input_path("reference"))
        ref_frame = v["reference_frame"] if v["reference_frame"] is not None else \
            ref_source.frames[len(ref_source.frames) // 2]
        ref_plate = ref_source.read(ref_frame, nonfinite=job.nonfinite)
        ref = self._working_reference(ref_plate)
        plate_source = open_source(job.input_path("plate"))

        def warn(message: str) -> None:
            emit("warning", message=message)

        fits = {}
        warned: dict[str, list[int]] = {}  # warning -> the keyframes it holds for
        ref_name = str(ref_source.path_for(ref_frame))
        for key in keyframes(frames, v["keyframes"]):
            plate = plate_source.read(key, nonfinite=job.nonfinite)
            if key == frames[len(frames) // 2] or self.samples is None:
                self._keep_samples(plate)
            if (plate.width, plate.height) != (ref_plate.width, ref_plate.height) and key == frames[0]:
                emit("info", message=f"reference is {ref_plate.width}x{ref_plate.height}, the plate "
                     f"{plate.width}x{plate.height}: the fit finds where they overlap, so framing may differ")
            try:
                keyfit = fit_keyframe(self._working(plate), ref, fit=v["fit"], method=v["method"],
                                      regional=v["regional"], local=v["local"], device=job.device,
                                      reference_name=f"reference {ref_name}")
            except InputError as exc:
                where = ref_name if "reference" in str(exc) else plate_source.path_for(key)
                message = str(exc)
                raise InputError(message if ref_name in message else f"{where}: {message}") from None
            fits[key] = keyfit.fit
            emit("info", frame=key, message=f"keyframe {key}: {keyfit.info}")
            for line in keyfit.warnings:
                warned.setdefault(line, []).append(key)
        for line, keys in warned.items():  # once per cause, with the keyframes it holds for
            where = f"keyframe {keys[0]}" if len(keys) == 1 else f"keyframes {', '.join(map(str, keys))}"
            emit("warning", frame=keys[0], message=f"{where}: {line}")
        self.keyfits = smooth(fits, v["smoothing"])
        self.fit_at = fit_at
        self.session = create_session(graph_path(), job.device, on_warning=warn)

    def _working_reference(self, ref_plate: Plate) -> np.ndarray:
        from matchcut.color import convert, default_colorspace

        if ref_plate.nchannels < 3 or not all(c in ref_plate.channels for c in ("R", "G", "B")):
            raise ShapeMismatchError(f"{ref_plate.source}: the reference needs R, G and B channels, "
                                     f"it has {', '.join(ref_plate.channels)}")
        space = ref_plate.colorspace or default_colorspace(ref_plate.source)
        return convert(np.ascontiguousarray(ref_plate.rgb), space, WORKING)

    def _keep_samples(self, plate: Plate) -> None:
        rgb = np.ascontiguousarray(plate.rgb).reshape(-1, 3)
        step = max(1, rgb.shape[0] // _SAMPLES)
        self.samples = rgb[::step].astype(np.float32)
        self.sample_space = self._space(plate)

    def process(self, item: WorkItem, plates: dict[str, list[Plate]]) -> dict[str, Plate]:
        """Correct one frame: the graph with this frame's fit, weighted by strength and the optional mask."""
        from matchcut.color import convert
        from matchcut.matching.regional import feather, gain_map, person_matte

        plate = plates["plate"][0]
        space = self._space(plate)
        rgb = self._working(plate)
        h, w = rgb.shape[:2]
        weight = np.full((h, w), self.values["strength"], np.float32)
        if "mask" in plates:
            weight *= mask_weight(plates["mask"][0], plate)
        fit = self.fit_at(item.frame, self.keyfits)
        image = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
        gain = None
        if fit.log_gain is not None:
            field = gain_map(fit.log_gain, rgb)  # (H, W) one gain, or (H, W, 3) a gain per channel
            gain = field[None, None] if field.ndim == 2 else np.ascontiguousarray(field.transpose(2, 0, 1)[None])
        if fit.person is None:
            out = self._run(fit.background, image, weight, gain)
        else:
            matte = person_matte(rgb, self.device)  # the person moves: its matte is per frame, the fits per keyframe
            m = feather(matte) if matte is not None else np.zeros((h, w), np.float32)
            out = self._run(fit.person, image, weight * m, gain) + self._run(fit.background, image, weight * (1 - m),
                                                                             gain) - image
        result = convert(out[0].transpose(1, 2, 0), WORKING, space)
        pixels = np.array(plate.pixels, dtype=np.float32, copy=True)
        for j, name in enumerate(("R", "G", "B")):
            pixels[..., plate.channels.index(name)] = result[..., j]
        return {"main": plate.with_pixels(pixels)}

    @staticmethod
    def _field_words(log_gain) -> str:
        if log_gain is None:
            return ""
        spread = float(np.ptp(log_gain))
        return f"the light across the frame ({spread:.1f} stops from darkest to brightest)"

    def _run(self, fit, image: np.ndarray, weight: np.ndarray, gain) -> np.ndarray:
        from matchcut.matching.graph import feeds

        return self.session.run(feeds(fit, image, weight[None, None], gain))["corrected"]

    def finish(self, job: JobSpec, emit: Emit) -> dict[str, str]:
        """Write the LUT and the CDL of the global correction at the shot's middle frame, checked through OCIO."""
        from matchcut.matching.export import write_cdl, write_cube

        lut, cdl = self._artifact(job, "lut"), self._artifact(job, "cdl")
        if not (lut or cdl):
            return {}
        if self.samples is None:  # every frame was already done: prepare did not run
            self.prepare(job, lambda *a, **k: None)
        frames = job_frames(job)
        fit = self.fit_at(frames[len(frames) // 2], self.keyfits)
        carries = "gains, colour matrix and Lab stage" if fit.background.method == "pixels" else \
            f"the {fit.background.method} colour fit"
        left = [what for what, there in (("the person/set split", fit.person is not None),
                                         (self._field_words(fit.log_gain), fit.log_gain is not None),
                                         ("the mask", "mask" in job.inputs)) if there]
        emit("info", message=f"the LUT and CDL carry the global correction ({carries}) at frame "
             f"{frames[len(frames) // 2]}" + (f"; not {', '.join(left)}: that stays in the frames" if left else ""))
        if left:
            emit("warning", message=f"the LUT and CDL carry the global correction only (not {', '.join(left)}): "
                 "apply them to the whole frame")
        artifacts = {}
        if lut:
            report = write_cube(lut, fit.background, self.sample_space, self.samples, int(self.values["lut_size"]))
            emit("info", message=f"LUT {lut} in {report['space']}: loaded back through OpenColorIO, mean CIEDE2000 "
                 f"{report['mean_delta_e']:.3f} (95th percentile {report['p95_delta_e']:.3f}) from the tool's output")
            artifacts["lut"] = lut
        if cdl:
            report = write_cdl(cdl, fit.background, self.sample_space, self.samples, self.values["cdl_tolerance"])
            emit("info", message=f"CDL {cdl} in {report['space']}: mean CIEDE2000 {report['mean_delta_e']:.3f} "
                 "from the tool's output, checked through OpenColorIO")
            artifacts["cdl"] = cdl
        return artifacts
