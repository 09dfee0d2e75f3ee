"""The `fill` tool: rebuild missing, unreadable, black, flash or duplicated frames from their neighbours."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import SettingError
from matchcut.models.manifest import Control
from matchcut.provenance import Provenance
from matchcut.retime.preview import PREVIEW_MODEL, PREVIEW_SCALE, QUALITIES
from matchcut.tools.base import Emit, Tool, WorkItem
from matchcut.tools.description import Input, Output, Timing

if TYPE_CHECKING:
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec
    from matchcut.retime.timing import Source

MODELS = ("rife-4.25", "rife-hdv3", "rife-4.25-half")
#: Per-frame header attribute a rebuilt frame carries (the reason); hosts flag these frames for review.
REBUILT_KEY = "matchcut:rebuilt"

def model_control(default: str, cli_help: str) -> Control:
    return Control("model", "choice", default, choices=MODELS, label="Model",
                   help="rife-hdv3: middle frames, other times by recursive halving (the best rebuilt frames here, "
                        "MIT-licensed weights); rife-4.25: any timestep in one run (faster for retiming)",
                   cli_help=cli_help)
CUT_CONTROL = Control("cut_threshold", "float", 0.5, min=0.0, max=1.0, label="Cut threshold",
                      help="histogram distance above which two neighbours are different shots (held, never blended)",
                      cli_help="Histogram distance that marks a scene cut.")
DEPTH_CONTROL = Control("depth", "int", 5, min=1, max=8, label="Halving depth",
                        help="rife-hdv3 only: halvings to reach a timestep (within 2^-depth)",
                        cli_help="rife-hdv3: halvings to reach a timestep (within 2^-depth).")


QUALITY_CONTROL = Control(
    "quality", "choice", "final", choices=QUALITIES, label="Quality",
    help=f"final: the model above at full size with its ensemble and halving; preview: {PREVIEW_MODEL}'s motion "
         f"found at {PREVIEW_SCALE:g} of the size once per pair of frames and the plates warped along it, for "
         "interactive work (frames marked as preview)",
    cli_help=f"final, or preview: {PREVIEW_MODEL}'s motion at {PREVIEW_SCALE:g} of the size once per pair (fast).")


def ensemble_control(default: str) -> Control:
    return Control("ensemble", "choice", default, choices=("1", "2", "4"), label="Ensemble",
                   help="model runs on mirrored copies, averaged: better frames for 2x or 4x the time",
                   cli_help="1, 2 or 4 runs on mirrored frames, averaged (better, slower).")


class InterpolatingTool(Tool):
    """What fill and retime share: each output frame copies one source frame or interpolates two."""

    category = "edit"
    input_specs = (Input("plate", "main", required=True, label="Plate",
                         help="Input plate pattern, e.g. plates/sh010.####.exr.", flag="--input"),)

    def __init__(self) -> None:
        self.sources: dict[int, Source] = {}
        self.notes: dict[int, str] = {}  # output frame -> why it was rebuilt or held
        self.settings: dict[str, Any] = {}
        self.device: Any = None
        self._emit: Emit | None = None

    def check(self, job: JobSpec) -> None:
        super().check(job)
        self.settings = self.params(job)

    def _items(self, job: JobSpec) -> list[WorkItem]:
        from matchcut.frames import parse_pattern

        pattern = parse_pattern(job.output_path("main"))
        return [WorkItem(frame=f, reads={"plate": [s.left] if s.right is None else [s.left, s.right]},
                         outputs={"main": Path(pattern.path_for(f))}) for f, s in sorted(self.sources.items())]

    def provenance(self, job: JobSpec) -> Provenance:
        from matchcut.frames import format_frames
        from matchcut.models.registry import find_model

        settings = self.settings or self.params(job)
        manifest = find_model(self.run_model(settings))
        made = sorted(f for f, s in self.sources.items() if s.right is not None or s.hold)
        params = {**settings, "nonfinite": job.nonfinite}
        return Provenance(tool=self.name, params=params, model_id=manifest.id, model_sha256=manifest.sha256,
                          extra={"rebuilt": format_frames(made)})

    @staticmethod
    def run_model(settings: dict[str, Any]) -> str:
        """The interpolation model that runs: the Model control's, or PREVIEW_MODEL at preview quality."""
        return PREVIEW_MODEL if settings.get("quality") == "preview" else settings["model"]

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        from matchcut.runtime import DeviceOptions

        self.device = job.device if isinstance(job.device, DeviceOptions) else DeviceOptions.from_dict(job.device or {})
        self._emit = emit
        if self.settings.get("quality") == "preview":
            emit("info", message=f"preview quality: {PREVIEW_MODEL}'s motion found at {PREVIEW_SCALE:g} of the size "
                 f"once per pair of frames (model {self.settings['model']}, ensemble and halving depth not used); "
                 "render with --quality final for delivery")
        for f, note in sorted(self.notes.items()):
            source = self.sources[f]
            if source.hold:
                emit("warning", message=f"frame {f}: {note}; no good frame on one side, holding frame {source.left}",
                     frame=f)
            elif source.right is not None:
                emit("info", message=f"frame {f}: {note}; rebuilt from frames {source.left} and {source.right} "
                     f"at t={source.t:.3f}", frame=f)

    def process(self, item: WorkItem, plates: dict[str, list[Plate]]) -> dict[str, Plate]:
        """Copy the one source plate untouched, or interpolate two (float32 (H, W, C), the plate's own colour
        space); a pair across a scene cut is held at the nearer frame instead."""
        from matchcut import color
        from matchcut.retime.blend import interpolate_plates
        from matchcut.retime.cuts import cut_distance

        source = self.sources[item.frame]
        pair = plates["plate"]
        note = self.notes.get(item.frame)
        if source.right is None:
            plate = pair[0]
            if note is None:
                plate.metadata.pop(REBUILT_KEY, None)
                return {"main": plate}
            held = plate.with_pixels(plate.pixels)
            held.metadata[REBUILT_KEY] = f"held frame {source.left} ({note})"
            return {"main": held}
        p0, p1 = pair
        space = color.plate_colorspace(p0)
        step = max(1, int(np.sqrt(p0.width * p0.height / 65536)))
        thumbs = [color.convert(np.ascontiguousarray(p.pixels[::step, ::step, :3]), space, color.SRGB_DISPLAY)
                  for p in (p0, p1)]
        distance = cut_distance(*thumbs)
        if distance > self.settings["cut_threshold"]:
            nearer, frame = (p0, source.left) if source.t < 0.5 else (p1, source.right)
            self._warn(f"frame {item.frame}: scene cut between frames {source.left} and {source.right} "
                       f"(histogram distance {distance:.2f}); holding frame {frame} instead of blending", item.frame)
            held = nearer.with_pixels(nearer.pixels)
            held.metadata[REBUILT_KEY] = f"held frame {frame} at a scene cut"
            return {"main": held}
        quality = self.settings.get("quality", "final")
        pixels, warnings = interpolate_plates(p0, p1, source.t, model=self.run_model(self.settings),
                                              device=self.device, ensemble=int(self.settings.get("ensemble", "1")),
                                              depth=self.settings.get("depth", 5), quality=quality)
        for message in warnings:
            self._warn(f"frame {item.frame}: {message}", item.frame)
        out = (p0 if source.t < 0.5 else p1).with_pixels(pixels)
        out.metadata[REBUILT_KEY] = (f"{note}; " if note else "") + \
            f"interpolated from frames {source.left} and {source.right} at t={source.t:.4f}" + \
            (" (preview quality)" if quality == "preview" else "")
        return {"main": out}

    def _warn(self, message: str, frame: int) -> None:
        if self._emit is not None:
            self._emit("warning", message=message, frame=frame)


def fill_range(job: JobSpec, on_disk: list[int]) -> list[int]:
    """The frames a fill job covers: ``job.frames`` widened by ``job.handles`` as far as the sequence on disk
    goes (like every tool's ``job_frames``), else first..last on disk (gaps included). Raises SettingError
    for requested frames outside the sequence on disk."""
    if not on_disk:
        raise SettingError("--input", f"no frames on disk for {job.input_path('plate')}")
    first, last = on_disk[0], on_disk[-1]
    if job.frames is None:
        return list(range(first, last + 1))
    outside = [f for f in job.frames if f < first or f > last]
    if outside:
        from matchcut.frames import format_frames

        raise SettingError("frames", f"frame(s) {format_frames(outside)} are outside the sequence on disk "
                           f"({first}-{last}) of {job.input_path('plate')}")
    frames = list(job.frames)
    head = range(max(first, frames[0] - job.handles), frames[0])
    tail = range(frames[-1] + 1, min(last, frames[-1] + job.handles) + 1)
    return [*head, *frames, *tail]


class FillTool(InterpolatingTool):
    """Rebuilds chosen or auto-detected bad frames from the nearest good frames; good frames pass through."""

    name = "fill"
    label = "Frame Fill"
    # a bad first or last frame is rebuilt from a neighbour outside the range
    timing = Timing(handles=2)
    output_specs = (Output("main", "plate", label="Result", help="Output pattern for the complete sequence.",
                           flag="--output"),)
    description = "Rebuild missing, unreadable, black, flash or duplicated frames from their neighbours (RIFE)."
    controls = (
        Control("repair", "string", "auto", label="Frames to repair",
                help="auto (detect missing, unreadable, black, flash and duplicate frames) or a list like 1005,1010-1012",
                cli_help="auto, or frames to rebuild like 1005,1010-1012."),
        # beats the DIS-flow baseline in docs/quality.md; rife-4.25 does not
        model_control("rife-hdv3", "rife-hdv3 (best here, halving) or rife-4.25 (any timestep)."),
        Control("flash_threshold", "float", 0.15, min=0.0, max=1.0, label="Flash threshold",
                help="auto: display-referred mean luminance difference from both neighbours that marks a flash",
                cli_help="auto: luminance jump that marks a flash."),
        CUT_CONTROL,
        DEPTH_CONTROL,
        ensemble_control("4"),  # a fill rebuilds a few frames: quality first
        QUALITY_CONTROL,
    )

    def plan(self, job: JobSpec) -> list[WorkItem]:
        """Scan the range once (missing, unreadable, sizes; with repair=auto also black, flash, duplicates),
        choose the frames to rebuild and map each output frame to the source frames it reads."""
        from matchcut.frames import open_source, parse_frames
        from matchcut.retime.defects import check_sizes, find_defects, scan
        from matchcut.retime.timing import fill_sources

        settings = self.settings or self.params(job)
        path = job.input_path("plate")
        source = open_source(path)
        frames = fill_range(job, list(source.frames))
        stats, reasons = scan(source, frames, job.nonfinite)
        check_sizes(stats, path)
        repair = settings["repair"].strip()
        if repair.lower() == "auto":
            reasons.update(find_defects(stats, frames, flash_threshold=settings["flash_threshold"]))
        else:
            try:
                chosen = parse_frames(repair)
            except Exception as exc:
                raise SettingError("repair", f"expected auto or frames like 1005,1010-1012, got {repair!r}") from exc
            outside = [f for f in chosen if f not in set(frames)]
            if outside:
                raise SettingError("repair", f"frame(s) {', '.join(map(str, outside))} are not in the job's frames "
                                   f"{frames[0]}-{frames[-1]}")
            for f in chosen:
                reasons.setdefault(f, "chosen by the artist")
        self.sources = fill_sources(frames, set(reasons))
        self.notes = dict(reasons)
        return self._items(job)
