"""The `matte` tool: pull a matte (screen key or person), clean the foreground and composite a new background."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import JobError, SettingError
from matchcut.models.manifest import Control
from matchcut.provenance import Provenance
from matchcut.tools.base import Emit, Tool, WorkItem, job_frames
from matchcut.tools.description import Input, Output

if TYPE_CHECKING:
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec



#: A clean plate is from another camera position when its screen detail is offset by at least CLEAN_OFFSET px
#: with a phase-correlation peak of at least CLEAN_RESPONSE; lit or exposed otherwise when its colour difference
#: is more than CLEAN_Z noise sigmas off the plate's screen.
CLEAN_OFFSET = 2.0
CLEAN_RESPONSE = 0.1
CLEAN_Z = 4.0


class MatteTool(Tool):
    """Matte, premultiplied foreground and comp of every frame: input "plate"; outputs matte/foreground/comp."""

    name = "matte"
    label = "Matte"
    description = "Pull a matte from a green/blue screen or a person, despill, decontaminate and comp a new background."
    controls = (
        Control("mode", "choice", "auto", choices=("auto", "screen", "person"), label="Mode",
                help="auto: screen when the frame border is mostly saturated green or blue, else person",
                cli_help="auto, screen or person."),
        Control("screen_color", "color", None, label="Screen colour",
                help="the screen's scene-linear [r, g, b]; empty: picked from the frame border",
                cli_help="The screen colour r,g,b (default: automatic)."),
        Control("uneven", "bool", True, label="Uneven screen",
                help="key against the screen's own colour at every pixel (fitted to the screen, filled in under "
                     "the subject), so falloff, two lamps and folds still key; off: one flat colour",
                flag="--uneven/--even", cli_help="Key against a model of the uneven screen (--even: one colour)."),
        Control("despot", "float", 0.12, min=0.0, max=0.5, label="Despot",
                help="isolated spots on the screen up to this size (fraction of the frame's short side) are taken "
                     "out of the matte: tracking markers, dust; 0: keep them",
                cli_help="Remove isolated spots (tracking markers) up to this fraction of the short side (0: off)."),
        Control("share_screen", "bool", True, label="Share screen model",
                help="one screen model for the frames where the camera holds (the matte does not chatter with "
                     "the noise); a frame whose screen differs (camera move, light change) gets its own",
                flag="--share-screen/--screen-per-frame",
                cli_help="Share one screen model while the camera holds (--screen-per-frame: fit every frame)."),
        Control("black_point", "float", 0.0, min=0.0, max=1.0, label="Black point",
                help="matte values at or below this become 0 (crush the screen)", cli_help="Matte black point, 0 to 1."),
        Control("white_point", "float", 1.0, min=0.0, max=1.0, label="White point",
                help="matte values at or above this become 1 (fill the subject)", cli_help="Matte white point, 0 to 1."),
        Control("softness", "float", 0.0, min=0.0, max=50.0, label="Edge softness", help="matte blur sigma in pixels",
                cli_help="Edge softness (blur sigma, pixels)."),
        Control("despill", "choice", "screen", choices=("screen", "average", "limit", "none"), label="Despill",
                help="screen: the screen model's own colour taken out where the subject leads; average: screen "
                     "channel limited to the mean of the others; limit: to the larger of them",
                cli_help="screen, average, limit or none."),
        Control("despill_amount", "float", 1.0, min=0.0, max=1.0, label="Despill amount", cli_help="0 to 1."),
        Control("refine", "choice", "guided", choices=("none", "guided", "closed-form"), label="Person edge",
                help="guided filter (fast) or closed-form matting on an automatic trimap (slow, best hair)",
                cli_help="Person edge: none, guided or closed-form."),
        Control("temporal", "float", 0.6, min=0.0, max=0.95, label="Temporal smoothing",
                help="how much a static edge leans on the previous frame (0: none): person mode on its matte, "
                     "screen mode on the plate it keys, where the plate changed no more than its noise",
                cli_help="Temporal smoothing of static edges, 0 to 0.95."),
        Control("decontaminate", "bool", True, label="Decontaminate edges",
                help="the foreground's own colour where the matte is partial: the screen model taken out "
                     "(screens), estimated by pymatting (people)", cli_help="Estimate edge colours."),
        Control("light_wrap", "float", 0.0, min=0.0, max=2.0, label="Light wrap",
                help="how much of the new background spills onto the subject's edge",
                cli_help="Light wrap amount, 0 to 2."),
        Control("light_wrap_size", "float", 0.0, min=0.0, max=200.0, label="Light wrap size",
                help="blur sigma in pixels; 0: 1/150 of the long side", cli_help="Light wrap blur, pixels (0: automatic)."),
        Control("match", "bool", False, label="Match to background",
                help="grade the foreground toward the new background (shot match)",
                cli_help="Grade the foreground toward the background (shot match)."),
        Control("match_method", "choice", "mkl", choices=("reinhard", "mkl", "histogram"), label="Match method",
                cli_help="reinhard, mkl or histogram."),
        Control("match_strength", "float", 1.0, min=0.0, max=1.0, label="Match strength", cli_help="0 to 1."),
        Control("background_color", "color", None, label="Background colour",
                help="a flat scene-linear background when no background plate is connected"),
        Control("background_fit", "choice", "fill", choices=("fill", "fit", "stretch"), label="Background fit",
                help="a background of another size: fill (crop to cover), fit (letterbox) or stretch",
                cli_help="A background of another size: fill, fit or stretch."),
        Control("colorspace", "string", "", label="Plate colour space", help="OCIO name; empty: from the file",
                ui="colorspace", cli_help="The plate's OCIO colour space (default: from the file)."),
    )
    input_specs = (
        Input("plate", "main", required=True, label="Plate", help="The shot, e.g. plates/sh010.####.exr.",
              flag="--input"),
        Input("background", "frames", label="Background", pick=True,
              help="A background plate (pattern or still) or a flat colour r,g,b."),
        Input("garbage", "frames", label="Garbage matte", help="A garbage matte: where it is white, never foreground."),
        Input("holdout", "frames", label="Holdout matte", help="A holdout matte: where it is white, always foreground."),
        Input("clean_plate", "frames", label="Clean plate",
              help="The screen without the subject, same camera position and light (screen mode); one frame or a "
                   "sequence."),
    )
    output_specs = (
        Output("foreground", "plate", label="Foreground", help="Write the premultiplied foreground RGBA here."),
        Output("matte", "matte", label="Matte", flag="--output",
               help="Matte pattern (single-channel EXR), e.g. out/sh010_matte.####.exr."),
        Output("comp", "plate", label="Comp", needs=("input:background", "param:background_color"),
               help="Write the comp over the background here."),
    )
    # a compositor's default view is the comp when there is a background, else the premultiplied foreground
    primary_outputs = ("comp", "foreground")
    outputs = None  # any of them, at least one: checked in check()

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.mode: str = ""
        self.screen: tuple[str, np.ndarray] | None = None
        self.why: str = ""
        self._size: tuple[int, int] = (0, 0)
        self.device: Any = None
        self._emit: Emit = lambda *a, **k: None
        self._previous: tuple[int, np.ndarray, np.ndarray] | None = None
        self._steady: tuple[int, np.ndarray] | None = None  # screen mode: (frame, the steadied plate it keyed)
        self._warned: set[str] = set()
        self.model: Any = None  # the shot's shared screen model (matte.screen.ScreenModel)
        self._first: int = 0
        self._held: dict[str, int] = {}  # inputs that are one frame of a sequence: name -> that frame
        self._still: set[str] = set()  # inputs that are one file

    def check(self, job: JobSpec) -> None:
        super().check(job)
        unknown = [n for n in job.outputs if n not in self.output_kinds]
        if unknown or not job.outputs:
            raise JobError(f"{job.where}: 'outputs'", f"tool 'matte' writes {', '.join(self.output_kinds)}; "
                           + (f"unknown {', '.join(unknown)}" if unknown else "none given"))
        self.values = v = self.params(job)
        if v["black_point"] >= v["white_point"]:
            raise SettingError("black_point", f"black_point {v['black_point']} must be below white_point "
                               f"{v['white_point']}")
        has_background = "background" in job.inputs or v["background_color"] is not None
        if "comp" in job.outputs and not has_background:
            raise JobError(f"{job.where}: 'outputs.comp'", "a comp needs a background: the input 'background' "
                           "(a plate) or the parameter background_color")
        if v["match"] and "background" not in job.inputs:
            raise SettingError("match", "matching the foreground needs a background plate (input 'background')")
        if v["screen_color"] is not None:
            from matchcut.matte.keying import classify_screen_color

            classify_screen_color(v["screen_color"])
        if v["colorspace"]:
            from matchcut.color import resolve_colorspace

            resolve_colorspace(v["colorspace"])

    def plan(self, job: JobSpec) -> list[WorkItem]:
        from matchcut.frames import open_source, parse_pattern

        outputs = {name: parse_pattern(job.output_path(name)) for name in job.outputs}
        # A one-frame sequence (a still background, one garbage roto) serves every frame.
        held = {}
        for name in job.inputs:
            if name == "plate":
                continue
            source = open_source(job.input_path(name))
            frames = list(getattr(source, "frames", []) or [])
            if parse_pattern(job.input_path(name)).is_sequence and len(frames) == 1:
                held[name] = frames[0]
        self._held = dict(held)
        self._still = {n for n in job.inputs if n != "plate" and not parse_pattern(job.input_path(n)).is_sequence}
        return [WorkItem(f, {n: [held.get(n, f)] for n in job.inputs},
                         {n: Path(p.path_for(f)) for n, p in outputs.items()}) for f in job_frames(job)]

    def provenance(self, job: JobSpec) -> Provenance:
        """What ran, not what was asked: auto mode's pick, and for screens the keyer, screen and screen colour
        (no model: the header's matchcut/model is "none"); for people the selfie model (matchcut/model) and
        every model the person matte used with its sha256 (matchcut/models: selfie, face detection, face
        mesh). The mode and screen colour are decided here, on the job's first frame, once per shot."""
        values = self.values or self.params(job)
        self._decide(job)
        params = {**values, "nonfinite": job.nonfinite, "ran": self._ran(job)}
        if self.mode == "screen":
            return Provenance(tool=self.name, params=params)
        models = self._person_models()
        return Provenance(tool=self.name, params=params, model_id=models[0].id, model_sha256=models[0].sha256,
                          extra={"models": ",".join(f"{m.id}@{m.sha256}" for m in models)})

    def _ran(self, job: JobSpec) -> dict[str, Any]:
        """The decided mode and what it runs, for the provenance."""
        if self.mode == "screen":
            color = "clean plate" if "clean_plate" in job.inputs else [round(float(c), 6) for c in self.screen[1]]
            v = self.values
            model = ("clean plate" if "clean_plate" in job.inputs else "flat colour" if not v["uneven"]
                     else f"fitted on frame {job_frames(job)[0]}, " + ("shared while the camera holds"
                                                                      if v["share_screen"] else "refitted per frame"))
            return {"mode": "screen", "keyer": "screen-model", "screen": self.screen[0] if self.screen else
                    "from clean plate", "screen_color": color, "screen_model": model, "chosen": self.why}
        return {"mode": "person", "refine": self.values["refine"], "chosen": self.why}

    def _person_models(self) -> list:
        """The manifests of the models a person matte runs: the selfie variant for this frame size, face
        detection and face mesh (the gate). ModelNotFoundError names a missing one before any frame."""
        from matchcut.models.registry import find_model
        from matchcut.vision.faces import MODEL_ID as FACE_DETECTION
        from matchcut.vision.faces_mesh import MODEL_ID as FACE_MESH
        from matchcut.vision.segmentation import VARIANTS, choose_variant

        selfie = VARIANTS[choose_variant(*self._size)]
        return [find_model(m) for m in (selfie, FACE_DETECTION, FACE_MESH)]

    def _decide(self, job: JobSpec) -> None:
        """The mode and, for screens, the screen colour, from the job's first frame, once per job (so neither
        flips mid-shot); the provenance and the frames both use this decision."""
        if self.mode:
            return
        from matchcut.frames import open_source
        from matchcut.matte.keying import classify_screen_color, estimate_screen_color
        from matchcut.matte.settings import choose_mode

        self.values = v = self.values or self.params(job)
        first = job_frames(job)[0]
        rgb = self._working(open_source(job.input_path("plate")).read(first, job.nonfinite))
        self._size = rgb.shape[:2]
        if v["mode"] == "auto":
            self.mode, why = choose_mode(rgb)
            self.why = f"auto picked {self.mode} from frame {first}: {why}"
        else:
            self.mode, self.why = v["mode"], f"mode {v['mode']} given"
        self.screen = None
        if self.mode == "screen" and "clean_plate" not in job.inputs:
            if v["screen_color"] is not None:
                self.screen = (classify_screen_color(v["screen_color"]), np.asarray(v["screen_color"][:3], np.float32))
            else:
                self.screen = estimate_screen_color(rgb)

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        """The device, and the mode and screen colour decided once per shot (see _decide)."""
        from matchcut.runtime import DeviceOptions

        self.values = v = self.values or self.params(job)
        self._emit = emit
        self.device = job.device if isinstance(job.device, DeviceOptions) else DeviceOptions.from_dict(job.device or {})
        self._decide(job)
        if v["mode"] == "auto":
            emit("info", message=f"matte: {self.why}")
        self._previous = self._steady = None
        self.model = self._shared_model(job) if self.mode == "screen" else None

    def _read_first(self, job: JobSpec, name: str) -> Plate:
        """Input ``name``'s plate for the job's first frame (or its one held frame)."""
        from matchcut.frames import open_source

        frame = self._held.get(name, job_frames(job)[0])
        return open_source(job.input_path(name)).read(frame, job.nonfinite)

    def _shared_model(self, job: JobSpec) -> Any:
        """The shot's screen model, from its first frame, once per job (so a resumed job keys as the first run
        did): the clean plate's (checked against the plate: size, camera position, light), or fitted to the first
        frame's screen (never where its garbage or holdout matte is), or one flat colour (--even)."""
        from matchcut.matte.keying import screen_model
        from matchcut.matte.shot import not_screen

        v = self.values
        self._first = job_frames(job)[0]
        rgb = self._working(self._read_first(job, "plate"))
        if "clean_plate" in job.inputs:
            plate = self._read_first(job, "clean_plate")
            clean = self._working(plate)
            self._check_clean(rgb, clean, plate.source or job.input_path("clean_plate"))
            color = v["screen_color"][:3] if v["screen_color"] is not None else None
            model = screen_model(rgb, screen_color=color, clean_plate=clean)
            self.screen = (model.screen, model.color)
            return model
        h, w = rgb.shape[:2]
        masks = {n: self._read_first(job, n) for n in ("garbage", "holdout") if n in job.inputs}
        return screen_model(rgb, screen_color=[float(c) for c in self.screen[1]], uneven=v["uneven"],
                            exclude=not_screen(masks, h, w), frame=self._first)

    def _check_clean(self, rgb: np.ndarray, clean: np.ndarray, where: str) -> None:
        """ShapeMismatchError when the clean plate is of another size or from another camera position, or lit
        otherwise, naming the file and what was measured."""
        from matchcut.errors import ShapeMismatchError
        from matchcut.matte.keying import estimate_screen_color
        from matchcut.matte.screen import clean_plate_fit

        if clean.shape[:2] != rgb.shape[:2]:
            raise ShapeMismatchError(f"{where} (clean plate): it is {clean.shape[1]}x{clean.shape[0]}, the plate "
                                     f"{rgb.shape[1]}x{rgb.shape[0]}; a clean plate must be the plate's size")
        screen, color = estimate_screen_color(clean)
        z, (dx, dy), response = clean_plate_fit(rgb, clean, screen, color)
        if response >= CLEAN_RESPONSE and max(abs(dx), abs(dy)) >= CLEAN_OFFSET:
            raise ShapeMismatchError(f"{where} (clean plate): it is from another camera position (its screen's "
                                     f"tape and seams are offset by {dx:+.1f}, {dy:+.1f} px from the plate's); shoot "
                                     "it locked off with the plate, or key without it")
        if z > CLEAN_Z:
            raise ShapeMismatchError(f"{where} (clean plate): its screen does not match the plate's (the colour "
                                     f"difference is {z:.1f} noise sigmas off where the plate shows the screen): "
                                     "another set-up, light or exposure; key without it")

    def _frame_model(self, item: WorkItem, rgb: np.ndarray, plates: dict[str, list[Plate]]) -> Any:
        """This frame's screen model: the shared one (extended where this frame shows screen the first frame
        did not), unless the frame's screen differs from it (camera move, light change) or sharing is off: then
        one fitted to this frame. A clean plate sequence gives each frame its own clean plate."""
        from matchcut.matte.keying import screen_model
        from matchcut.matte.screen import frame_model
        from matchcut.matte.shot import not_screen

        v = self.values
        if "clean_plate" in plates:
            if "clean_plate" in self._held or "clean_plate" in self._still or item.frame == self._first:
                return self.model
            clean = self._working(plates["clean_plate"][0])
            color = v["screen_color"][:3] if v["screen_color"] is not None else [float(c) for c in self.model.color]
            return screen_model(rgb, screen_color=color, clean_plate=clean)
        if not v["uneven"] or item.frame == self._first:
            return self.model
        h, w = rgb.shape[:2]
        exclude = not_screen({n: plates[n][0] for n in ("garbage", "holdout") if n in plates}, h, w)
        if v["share_screen"]:
            model, z = frame_model(self.model, rgb, exclude=exclude, frame=item.frame)
            if model.source != self.model.source:  # refitted on this frame
                self._warn(f"frame {item.frame}: the screen differs from frame {self._first}'s ({z:.1f} noise "
                           "sigmas: the camera moved or the light changed); frames like it are keyed with their own "
                           "screen model", item.frame, once="screen_moved")
            return model
        return screen_model(rgb, screen_color=[float(c) for c in self.model.color], exclude=exclude,
                            frame=item.frame)

    def _space(self, plate: Plate) -> str:
        from matchcut.color import plate_colorspace, resolve_colorspace

        return resolve_colorspace(self.values.get("colorspace") or plate_colorspace(plate))

    def _working(self, plate: Plate) -> np.ndarray:
        from matchcut.color import SCENE_LINEAR, convert

        return convert(np.ascontiguousarray(plate.rgb), self._space(plate), SCENE_LINEAR)

    def _warn(self, message: str, frame: int | None = None, once: str | None = None) -> None:
        if once is not None:
            if once in self._warned:
                return
            self._warned.add(once)
        self._emit("warning", message=message, **({"frame": frame} if frame is not None else {}))

    def process(self, item: WorkItem, plates: dict[str, list[Plate]]) -> dict[str, Plate]:
        from matchcut.color import SCENE_LINEAR, convert
        from matchcut.matte.shot import apply_masks, finish_frame, key_frame, person_frame

        v = self.values
        plate = plates["plate"][0]
        space = self._space(plate)
        rgb = self._working(plate)
        h, w = rgb.shape[:2]
        model = None
        if self.mode == "screen":
            from matchcut.matte.screen import steady_plate

            model = self._frame_model(item, rgb, plates)
            keyed = rgb
            if self._steady is not None and self._steady[0] == item.frame - 1:
                keyed = steady_plate(self._steady[1], rgb, model, v["temporal"])
            self._steady = (item.frame, keyed)
            alpha = key_frame(keyed, v, model)
        else:
            alpha, present, self._previous = person_frame(rgb, v, self.device, item.frame, self._previous)
            if not present:
                self._warn(f"frame {item.frame}: no person found (no face the detector and face mesh agree on); "
                           "the matte is empty", item.frame)
        alpha = apply_masks(alpha, {n: plates[n][0] for n in ("garbage", "holdout") if n in plates}, self._warn)
        background = None
        if "comp" in item.outputs or v["match"] or v["light_wrap"] > 0:
            background = self._background(plates, h, w)
        fg_premult, comp = finish_frame(rgb, alpha, model, v, background, want_comp="comp" in item.outputs)
        out: dict[str, Plate] = {}
        if "matte" in item.outputs:
            out["matte"] = plate.with_pixels(alpha[..., None], ("A",))
        if "foreground" in item.outputs:
            color = convert(fg_premult[..., :3], SCENE_LINEAR, space)
            out["foreground"] = plate.with_pixels(np.dstack([color, fg_premult[..., 3]]), ("R", "G", "B", "A"))
        if comp is not None:
            out["comp"] = plate.with_pixels(convert(comp, SCENE_LINEAR, space), ("R", "G", "B"))
        return out

    def _background(self, plates: dict[str, list[Plate]], h: int, w: int) -> np.ndarray | None:
        from matchcut.matte.fit import fit_image

        v = self.values
        if "background" not in plates:
            if v["background_color"] is None:
                return None
            return np.broadcast_to(np.asarray(v["background_color"][:3], np.float32), (h, w, 3)).copy()
        bg_plate = plates["background"][0]
        bg = self._working(bg_plate)
        if bg.shape[:2] != (h, w):
            self._warn(f"{bg_plate.source}: the background is {bg.shape[1]}x{bg.shape[0]}, the plate {w}x{h}; "
                       f"fitted by {v['background_fit']} (fill: scaled to cover and cropped, fit: letterboxed, "
                       "stretch: each axis scaled)", once="background_fit")
            bg = fit_image(bg, h, w, v["background_fit"])
        return bg
