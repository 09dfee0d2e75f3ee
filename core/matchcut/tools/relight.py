"""The `relight` tool: virtual lights on a plate, shaded on estimated (or supplied) normals, applied as a gain.

Inputs: ``plate``; optional ``normals`` (a camera-space normals pass) and ``mask`` (where the relight applies).
Outputs: ``main`` (the relit plate) and optional ``passes``: one multi-layer EXR per frame with the layers
PASS_CHANNELS names (N, shading, gain, matte, source) for building the relight in a host.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import JobError, SettingError, ShapeMismatchError
from matchcut.models.manifest import Control
from matchcut.provenance import Provenance
from matchcut.tools.base import Emit, Tool, WorkItem, job_frames, mask_weight
from matchcut.tools.description import Input, Output

if TYPE_CHECKING:
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec

#: The passes EXR's channels: normals (camera space, OpenGL, signed), the added light, the gain, the subject
#: matte, and which normals source covered each pixel (R face, G person, B background, A supplied pass).
PASS_CHANNELS = ("N.X", "N.Y", "N.Z", "shading.R", "shading.G", "shading.B", "gain.R", "gain.G", "gain.B",
                 "matte.A", "source.R", "source.G", "source.B", "source.A")


class RelightTool(Tool):
    """Adds virtual lights to a plate; every parameter is a job parameter, lights included."""

    name = "relight"
    label = "Relight"
    description = "Virtual lights on a plate: normals from faces, people or a supplied pass; relit plate and passes."
    controls = (
        Control("lights", "string", "", label="Lights",
                help="JSON list of lights, e.g. [{\"type\": \"directional\", \"direction\": [-1, 0, 0.5], "
                     "\"intensity\": 1}] (a job may give the list itself); fields: docs/relight.md", ui="lights"),
        Control("strength", "float", 1.0, min=-1.0, max=10.0, label="Strength",
                help="multiplies the added light; negative takes light away (the gain stops at 0)",
                cli_help="Multiplies the added light; negative takes light away."),
        Control("ambient", "float", 0.0, min=0.0, label="Ambient level",
                help="the light already on the plate, scene-linear; 0 estimates it (local luminance / 0.18)",
                cli_help="The plate's light level, scene-linear (0: estimate it)."),
        Control("dark_floor", "float", 0.2, min=0.0, max=1.0, label="Dark protection",
                help="the ambient never counts below this x its median, so dark areas cannot blow up",
                cli_help="Dark-area protection: the ambient's lowest share."),
        Control("faces", "bool", True, label="Face normals", help="shape faces with the 468-point face mesh",
                cli_help="Shape faces with the face mesh."),
        Control("person", "bool", True, label="Person normals", help="inflate the person's silhouette into a relief",
                cli_help="Inflate the person's silhouette."),
        Control("background", "choice", "gradient", choices=("gradient", "plane"), label="Background",
                help="everything else: normals from smoothed image gradients, or a plane facing the camera",
                cli_help="Normals elsewhere: gradient or plane."),
        Control("detail", "float", 0.5, min=0.0, max=2.0, label="Background relief",
                help="how strongly image gradients bend the background normals (0: a flat plane)",
                cli_help="Background relief from image gradients, 0 to 2."),
        Control("temporal", "int", 1, min=0, max=4, label="Landmark smoothing",
                help="frames either side whose face landmarks are averaged (0: none)",
                cli_help="Frames either side whose face landmarks are averaged."),
        Control("min_face_score", "float", 0.5, min=0.0, max=1.0, label="Face detection threshold",
                cli_help="Face detection threshold, 0 to 1."),
        Control("normals_convention", "choice", "opengl", choices=("opengl", "directx"), label="Normals convention",
                help="of a supplied normals pass, camera space: OpenGL y up, DirectX y down",
                cli_help="opengl (y up) or directx (y down)."),
        Control("normals_encoding", "choice", "auto", choices=("auto", "signed", "unit"), label="Normals encoding",
                help="signed -1..1, unit 0..1 (n*0.5+0.5), auto: unit when no value is negative",
                cli_help="signed (-1..1), unit (0..1) or auto."),
        Control("colorspace", "string", "", label="Plate colour space",
                help="OCIO name; empty: from the file (EXR scene-linear, others sRGB)", ui="colorspace",
                cli_help="The plate's OCIO colour space (default: from the file)."),
    )
    input_specs = (
        Input("plate", "main", required=True, label="Plate", help="Input plate pattern, e.g. plates/sh010.####.exr.",
              flag="--input"),
        Input("normals", "frames", label="Normals", help="A camera-space normals pass to use (CG, Beeble)."),
        Input("mask", "frames", label="Mask", help="A matte (A or first channel): where the relight applies."),
    )
    output_specs = (
        Output("main", "plate", label="Relit", help="Relit plate pattern, e.g. out/sh010_relit.####.exr.",
               flag="--output"),
        Output("passes", "pass", label="Passes", extra=True,
               help="Multi-layer EXR pattern for N, shading, gain, matte and source layers."),
    )
    outputs = None  # main, and optionally passes: checked in check()

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.lights: list = []
        self.session: Any = None
        self.device: Any = None
        self._emit: Emit | None = None
        self._meshes: dict[int, list[np.ndarray]] = {}
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def params(self, job: JobSpec) -> dict:
        """As Tool.params, and the lights (a list, a JSON text or CLI texts) parsed and checked."""
        from matchcut.relight.lights import parse_lights
        from matchcut.tools.controls import resolve_controls

        params = dict(job.params)
        if isinstance(params.get("lights"), (list, dict)):
            params["lights"] = json.dumps(params["lights"])
        values = resolve_controls(params, self.controls, f"tool '{self.name}'")
        if not values["lights"]:
            raise SettingError("lights", "tool 'relight' needs at least one light, e.g. "
                               "'directional direction=-1,0,0.5 intensity=1'")
        self.lights = parse_lights(values["lights"])
        values["lights"] = [light.to_dict() for light in self.lights]
        return values

    def check(self, job: JobSpec) -> None:
        super().check(job)
        unknown = [n for n in job.outputs if n not in ("main", "passes")]
        if "main" not in job.outputs or unknown:
            bad = f"unknown {', '.join(unknown)}" if unknown else "missing main"
            raise JobError(f"{job.where}: 'outputs'", f"tool 'relight' {bad} (expected: main, and optionally passes)")
        self.values = self.params(job)

    def describe(self) -> dict:
        """As Tool.describe, with the outputs a host can wire: main, and optionally passes."""
        described = super().describe()
        described["outputs"] = ["main", "passes"]
        described["optional_outputs"] = ["passes"]
        return described

    def _values(self, job: JobSpec) -> dict[str, Any]:
        if not self.values:
            self.values = self.params(job)
        return self.values

    def _radius(self, job: JobSpec) -> int:
        v = self._values(job)
        # A supplied pass is the first source: no landmarks to smooth, so no neighbouring frames to read.
        return 0 if (not v["faces"] or "normals" in job.inputs) else int(v["temporal"])

    def plan(self, job: JobSpec) -> list[WorkItem]:
        """Output frame f reads the plate at f and, for landmark smoothing, up to `temporal` frames either side
        (within the job's frames); normals and mask at f."""
        from matchcut.frames import parse_pattern

        frames = job_frames(job)
        radius = self._radius(job)
        outputs = {name: parse_pattern(job.output_path(name)) for name in job.outputs}
        items = []
        for i, f in enumerate(frames):
            reads = {"plate": frames[max(0, i - radius): i + radius + 1]}
            reads.update({name: [f] for name in ("normals", "mask") if name in job.inputs})
            items.append(WorkItem(f, reads, {name: Path(p.path_for(f)) for name, p in outputs.items()}))
        return items

    def provenance(self, job: JobSpec) -> Provenance:
        from matchcut.models.manifest import sha256_file
        from matchcut.relight.shading import NAME, graph_path

        v = self._values(job)
        return Provenance(tool=self.name, params={**v, "nonfinite": job.nonfinite},
                          model_id=NAME.removesuffix(".onnx"), model_sha256=sha256_file(graph_path()))

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        """Check the lights and open the shading graph's session."""
        from matchcut.relight.shading import graph_path
        from matchcut.runtime import DeviceOptions, create_session

        self._values(job)
        self._emit = emit
        self.device = job.device if isinstance(job.device, DeviceOptions) else DeviceOptions.from_dict(job.device or {})
        self.session = create_session(graph_path(), self.device, on_warning=lambda m: emit("warning", message=m))

    def _warn(self, message: str, frame: int) -> None:
        if self._emit is None:
            return
        # The same note on every frame of a shot is noise: warn once, then keep it to info events.
        kind = "info" if message in self._warned else "warning"
        self._warned.add(message)
        self._emit(kind, message=f"frame {frame}: {message}", frame=frame)

    def _space(self, plate: Plate) -> str:
        from matchcut.color import default_colorspace, resolve_colorspace

        return resolve_colorspace(self.values.get("colorspace") or plate.colorspace or default_colorspace(plate.source))

    def _linear(self, plate: Plate) -> tuple[np.ndarray, np.ndarray]:
        """(scene-linear RGB, sRGB display RGB in 0..1) of a plate, both (H, W, 3) float32."""
        from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert

        if not all(c in plate.channels for c in ("R", "G", "B")):
            raise ShapeMismatchError(f"{plate.source}: relight needs R, G and B channels, the plate has "
                                     f"{', '.join(plate.channels)}")
        linear = convert(np.ascontiguousarray(plate.rgb), self._space(plate), SCENE_LINEAR)
        display = np.clip(convert(linear, SCENE_LINEAR, SRGB_DISPLAY), 0.0, 1.0)
        return linear, display

    def _frame_meshes(self, frame: int, plate: Plate) -> list[np.ndarray]:
        from matchcut.relight.normals import find_meshes

        with self._lock:
            if frame in self._meshes:
                return self._meshes[frame]
        meshes = find_meshes(self._linear(plate)[1], device=self.device, min_score=self.values["min_face_score"])
        with self._lock:
            self._meshes[frame] = meshes
            for old in [f for f in self._meshes if f < frame - 2 * max(1, int(self.values["temporal"]))]:
                del self._meshes[old]
        return meshes

    def normals(self, item: WorkItem, plates: dict[str, list[Plate]]):
        """The frame's NormalField (relight.normals) from every source the job allows."""
        from matchcut.relight.normals import decode_normals, estimate_normals, smooth_meshes

        v = self.values
        frames = item.reads["plate"]
        centre = frames.index(item.frame)
        plate = plates["plate"][centre]
        linear, display = self._linear(plate)
        supplied = None
        if "normals" in plates:
            npass = plates["normals"][0]
            normals, valid, notes = decode_normals(npass.pixels[..., :3], convention=v["normals_convention"],
                                                   encoding=v["normals_encoding"], size=(plate.height, plate.width),
                                                   where=npass.source or "normals")
            for note in notes:
                self._warn(note, item.frame)
            supplied = (normals, valid)
            if valid.all():
                return estimate_normals(linear, meshes=[], person=None, supplied=supplied)
        meshes: list[np.ndarray] = []
        if v["faces"]:
            per_frame = [self._frame_meshes(f, p) for f, p in zip(frames, plates["plate"], strict=True)]
            meshes = smooth_meshes(per_frame, centre)
        person = None
        if v["person"]:
            from matchcut.relight.normals import person_matte
            from matchcut.vision.segmentation import person_present

            # A confirmed face is the person gate (as vision.gated_person_mask), and it is already paid for.
            present = bool(meshes) or (not v["faces"] and person_present(display, device=self.device,
                                                                         min_face_score=v["min_face_score"]))
            person = person_matte(display, device=self.device) if present else None
        field = estimate_normals(linear, meshes=meshes, person=person, supplied=supplied,
                                 background=v["background"], detail=v["detail"])
        for note in field.notes:
            self._warn(note, item.frame)
        return field

    def process(self, item: WorkItem, plates: dict[str, list[Plate]]) -> dict[str, Plate]:
        """Relight one frame (float32 (H, W, C) in the plate's colour space; the gain is applied in scene-linear,
        other channels pass through) and, when asked, make its passes."""
        from dataclasses import replace

        from matchcut.color import SCENE_LINEAR, convert
        from matchcut.errors import ModelError
        from matchcut.relight.apply import ambient_estimate, relight_gain
        from matchcut.relight.lights import light_table
        from matchcut.relight.shading import shade

        if self.session is None:
            raise ModelError("relight: process() called before prepare()")
        v = self.values
        plate = plates["plate"][item.reads["plate"].index(item.frame)]
        linear, _ = self._linear(plate)
        field = self.normals(item, plates)
        mask = mask_weight(plates["mask"][0], plate) if "mask" in plates else None
        shading = shade(self.session, field.normals, light_table(self.lights))
        gain = relight_gain(shading, ambient_estimate(linear, v["ambient"]), strength=v["strength"],
                            floor=v["dark_floor"], matte=mask)
        relit = convert(linear * gain, SCENE_LINEAR, self._space(plate))
        pixels = np.array(plate.pixels, dtype=np.float32, copy=True)
        for j, name in enumerate(("R", "G", "B")):
            pixels[..., plate.channels.index(name)] = relit[..., j]
        out = {"main": plate.with_pixels(pixels)}
        if "passes" in item.outputs:
            w = field.weights
            layers = [field.normals, shading, gain, field.subject[..., None],
                      np.stack([w["face"], w["person"], w["background"], w["supplied"]], axis=-1)]
            passes = plate.with_pixels(np.concatenate(layers, axis=-1).astype(np.float32), channels=PASS_CHANNELS)
            out["passes"] = replace(passes, colorspace=None)  # data, not colour: hosts must not convert it
        return out

