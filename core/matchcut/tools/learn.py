"""The `learn` tool: learn a fix from a few frames the artist corrected, as a model `apply` runs on the shot.

Inputs: ``plate`` (the original shot), ``target`` (the artist's corrected frames, same size and numbers) and
optionally ``mask`` (where the fix is). Output: ``model``, a folder that receives ``learned-<name>.onnx``, its
manifest (with the training summary), ``preview.png`` (the held-out part with the fix as it stands) and
``.learn/checkpoint.pt`` (to resume). Frameless: training runs in prepare() (the runner's cancel ends it at
the next step, checkpoint kept), the export in finish(). The training itself is ``matchcut.learning``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import JobError, MissingFramesError, ModelError, SettingError, ShapeMismatchError
from matchcut.learning.training import DEVICES, LOSSES, TrainSettings
from matchcut.models.manifest import Control
from matchcut.tools.base import Emit, Tool, WorkItem, mask_weight
from matchcut.tools.description import Input, Output

if TYPE_CHECKING:
    from matchcut.jobs.spec import JobSpec
    from matchcut.learning.pairs import Pair
    from matchcut.learning.training import TrainResult

PREVIEW = "preview.png"
SUMMARY = "training.json"
#: The preview shows at most this much of the held-out frame (px, around where the pairs differ most).
PREVIEW_SIDE = 768
#: What a model folder may already hold without --force: what learn itself writes there.
_OURS = (PREVIEW, SUMMARY, ".learn")


class LearnTool(Tool):
    name = "learn"
    label = "Learn Fix"
    category = "color"
    description = ("Learn a fix from a few frames the artist corrected (original and corrected pairs) and make it "
                   "a model that Apply Model runs on the whole shot.")
    frameless = True
    controls = (
        Control("frames", "string", "", label="Corrected frames", ui="host", flag="--frames",
                help="the frames the artist corrected, e.g. 1001,1040,1090; empty: every frame of the target",
                cli_help="Frames the artist corrected (default: every target frame on disk)."),
        Control("steps", "int", 1000, min=1, max=200000, label="Steps",
                help="training steps (it stops earlier when the held-out frame stops improving)",
                cli_help="Training steps (stops early when the held-out frame stops improving)."),
        Control("crop", "int", 128, min=16, max=1024, label="Crop (px)",
                help="side of the training crops, a multiple of 8; larger sees more context, trains slower",
                cli_help="Training crop side in px, a multiple of 8."),
        Control("batch", "int", 8, min=1, max=64, label="Batch", help="crops per step"),
        Control("loss", "choice", "l1", choices=LOSSES, label="Loss",
                help="l1, or l1+ssim (also rewards keeping local structure: texture, edges)"),
        Control("learning_rate", "float", 1e-3, min=1e-6, max=1e-1, label="Learning rate", flag="--lr",
                help="Adam's rate at its peak (warm-up, then a cosine decay)"),
        Control("eval_every", "int", 100, min=1, label="Measure every",
                help="steps between measures of the held-out frame (a checkpoint and a preview each time)"),
        Control("seed", "int", 0, min=0, label="Seed", help="the random seed: the same seed, the same model"),
        Control("threads", "int", 0, min=0, max=256, label="CPU threads",
                help="CPU threads for training; 0: PyTorch's default (every core)"),
        Control("resume", "bool", False, label="Resume",
                help="carry on from the model folder's checkpoint (a stopped or cancelled training)",
                cli_help="Carry on from the model folder's checkpoint."),
        Control("force", "bool", False, label="Replace",
                help="replace a different model (or other files) in the model folder",
                cli_help="Replace a different model already in the model folder."),
    )
    input_specs = (
        Input("plate", "main", required=True, label="Source", frames_param="frames", flag="--input",
              help="The original shot, e.g. plates/sh010.####.exr."),
        Input("target", "frames", required=True, label="Target",
              help="The artist's corrected frames, same size and frame numbers, e.g. fix/sh010_fix.####.exr."),
        Input("mask", "frames", label="Mask",
              help="Optional matte per corrected frame: the fix is learned inside it only."),
    )
    output_specs = (
        Output("model", "model", label="Model folder", flag="--model",
               help="Folder for the trained model (learned-<name>.onnx and its manifest); `matchcut apply "
                    "--model FOLDER` runs it."),
    )
    primary_outputs = ()

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.result: TrainResult | None = None
        self.pairs: list[Pair] = []
        self.colorspace = ""
        self.shaped = False
        self.key = ""
        self.device = "auto"
        self.held: list[Pair] = []
        self.stop: threading.Event | None = None  # set by the runner: its cancel

    # --- checking ------------------------------------------------------------------------------------

    def settings(self) -> TrainSettings:
        v = self.values
        return TrainSettings(steps=v["steps"], crop=v["crop"], batch=v["batch"], loss=v["loss"],
                             lr=v["learning_rate"], seed=v["seed"], eval_every=v["eval_every"],
                             device=self.device, threads=v["threads"])

    def check(self, job: JobSpec) -> None:
        super().check(job)
        self.values = self.params(job)
        provider = job.device.get("provider", "auto") if isinstance(job.device, dict) else job.device.provider
        if provider not in DEVICES:
            raise SettingError("device", f"learn trains with PyTorch on {', '.join(DEVICES)}, not {provider!r}",
                               DEVICES)
        self.device = provider
        self.settings().check()
        self.key = self._key(job)
        self._check_folder(Path(job.output_path("model")))

    def _key(self, job: JobSpec) -> str:
        """What this training is: its inputs and every setting that changes the model (not steps or threads)."""
        s = asdict(self.settings())
        for name in ("steps", "threads", "device", "eval_every"):
            s.pop(name)
        what = {"inputs": {k: str(job.input_path(k)) for k in sorted(job.inputs)}, "frames": self.values["frames"],
                "settings": s}
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()

    def _check_folder(self, folder: Path) -> None:
        """A model folder holding another model, another training or other files is refused without force."""
        from matchcut.learning.training import checkpoint_path, load_checkpoint
        from matchcut.models.manifest import load_manifest

        if self.values["force"] or not folder.exists():
            return
        if not folder.is_dir():
            raise JobError("outputs.model", f"{folder} is a file; the model output is a folder")
        for entry in sorted(folder.iterdir()):
            if entry.name in _OURS:
                continue
            if entry.suffix == ".toml":
                try:
                    manifest = load_manifest(entry)
                except ModelError:
                    manifest = None
                if manifest is not None and manifest.training.get("key") == self.key:
                    continue
                what = f"model '{manifest.id}'" if manifest is not None else f"{entry.name}"
                raise JobError("outputs.model", f"{folder} already holds {what}, trained from other frames or "
                               "settings: give another --model folder, or --force to replace it")
            if entry.suffix == ".onnx" and (folder / f"{entry.stem}.toml").is_file():
                continue
            raise JobError("outputs.model", f"{folder} holds {entry.name}, which learn did not write: give an "
                           "empty or new folder, or --force to write beside it")
        saved = load_checkpoint(checkpoint_path(folder))
        if saved is not None and saved.get("key") != self.key:
            raise JobError("outputs.model", f"{folder} holds the checkpoint of another training (other frames or "
                           "settings): give another --model folder, or --force to start over there")

    def plan(self, job: JobSpec) -> list[WorkItem]:
        self.values = self.values or self.params(job)
        return []

    # --- reading the pairs --------------------------------------------------------------------------

    def _frames(self, job: JobSpec) -> list[int]:
        from matchcut.frames import open_source, parse_frames

        text = self.values["frames"] or ""
        if text:
            return parse_frames(text)
        frames = list(open_source(job.input_path("target")).frames)
        if not frames:
            raise JobError("inputs.target", f"no frames on disk for {job.input_path('target')}")
        return frames

    def read_pairs(self, job: JobSpec, emit: Emit) -> list[Pair]:
        """The usable pairs, in the input's colour space; one-line errors name the file or frame at fault."""
        from matchcut.color import convert, is_scene_linear, plate_colorspace, resolve_colorspace
        from matchcut.frames import open_source
        from matchcut.learning.pairs import Pair, usable_pairs

        frames = self._frames(job)
        sources = {name: open_source(job.input_path(name)) for name in job.inputs}
        for name, source in sources.items():
            missing = source.find_missing(frames)
            if missing:
                from matchcut.frames.ranges import format_frames

                raise MissingFramesError(str(job.input_path(name)), missing, format_frames(missing))
        pairs = []
        for f in frames:
            src, dst = sources["plate"].read(f, job.nonfinite), sources["target"].read(f, job.nonfinite)
            if (src.width, src.height) != (dst.width, dst.height):
                raise ShapeMismatchError(f"{dst.source}: target frame {f} is {dst.width}x{dst.height}, its input "
                                         f"{src.source} is {src.width}x{src.height}; the pairs must match")
            for plate in (src, dst):
                if not {"R", "G", "B"} <= set(plate.channels):
                    raise ShapeMismatchError(f"{plate.source}: learn needs R, G and B channels, the file has "
                                             f"{', '.join(plate.channels)}")
            space = resolve_colorspace(plate_colorspace(src))  # a name, not a role: another config means the same
            self.colorspace = self.colorspace or space
            a = src.pixels[..., [src.channels.index(c) for c in "RGB"]]
            b = dst.pixels[..., [dst.channels.index(c) for c in "RGB"]]
            if space != self.colorspace:
                a = convert(a, space, self.colorspace)
            if resolve_colorspace(plate_colorspace(dst)) != self.colorspace:
                b = convert(b, plate_colorspace(dst), self.colorspace)
            matte = mask_weight(sources["mask"].read(f, job.nonfinite), src) if "mask" in sources else None
            pairs.append(Pair(f, np.ascontiguousarray(a), np.ascontiguousarray(b), matte))
        self.shaped = is_scene_linear(self.colorspace)
        kept, notes = usable_pairs(pairs, str(job.input_path("target")))
        for note in notes:
            emit("warning", message=note)
        return kept

    # --- training and export ------------------------------------------------------------------------

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        """Read the pairs and train (a cancel ends it at the next step; the checkpoint is kept)."""
        from matchcut.learning.pairs import split_pairs
        from matchcut.learning.training import train

        folder = Path(job.output_path("model"))
        if self.values["force"]:
            from matchcut.learning.training import checkpoint_path

            checkpoint_path(folder).unlink(missing_ok=True)
        self.pairs = self.read_pairs(job, emit)
        training, held, how = split_pairs(self.pairs)
        self.held = held
        preview = self._preview_writer(folder, held[0], emit)
        self.result = train(training, held, self.settings(), shaped=self.shaped, folder=folder, key=self.key,
                            held_out=how, emit=emit, stop=self.stop, resume=self.values["resume"],
                            on_preview=preview)

    def _preview_writer(self, folder: Path, pair: Pair, emit: Emit):
        """on_preview for training: the held-out pair's input, with the fix as it stands, beside its target,
        written to ``folder/preview.png`` (sRGB) at most PREVIEW_SIDE px of it, where the pairs differ most.
        Only the held-out pair is shown: what training never saw is what the fix will meet on the shot."""
        from matchcut.learning.pairs import difference_map

        h, w = pair.input.shape[:2]
        side_h, side_w = min(h, PREVIEW_SIDE), min(w, PREVIEW_SIDE)
        dm = difference_map(pair, self.shaped)
        y, x = np.unravel_index(int(np.argmax(dm)), dm.shape)
        y0 = int(np.clip(y - side_h // 2, 0, h - side_h))
        x0 = int(np.clip(x - side_w // 2, 0, w - side_w))
        window = (slice(y0, y0 + side_h), slice(x0, x0 + side_w))
        path = folder / PREVIEW

        def write(step: int, run) -> Path:  # noqa: ANN001 - the network as a function of plate values
            from matchcut.color import SRGB_DISPLAY, convert
            from matchcut.frames import write_plate

            fixed = run(pair.input[window])
            picture = np.concatenate([pair.input[window], fixed, pair.goal[window]], axis=1)
            picture = np.clip(convert(np.ascontiguousarray(picture), self.colorspace, SRGB_DISPLAY), 0, 1)
            folder.mkdir(parents=True, exist_ok=True)
            write_plate(path, picture, dtype="uint8")
            return path

        return write

    @property
    def cancel_note(self) -> str:
        """What a cancel keeps (the runner's JobCancelled message)."""
        if self.result is None:
            return ""
        return (f"training stopped at step {self.result.steps_done}; its checkpoint is kept: run it again with "
                "--resume to carry on")

    def finish(self, job: JobSpec, emit: Emit) -> dict[str, str]:
        """Export the best weights, check the ONNX against PyTorch, write the manifest and the summary."""
        from matchcut.learning.export import write_model

        r = self.result
        if r is None:
            raise JobError(job.where, "learn: finish() before training")
        folder = Path(job.output_path("model"))
        gain = r.best_psnr - r.before_psnr
        frames = [p.frame for p in self.pairs]
        training = {
            "key": self.key, "frames": frames, "held_out": r.held_out, "steps": r.steps_done,
            "best_step": r.best_step, "stopped": r.stopped, "final_loss": round(r.final_loss, 6),
            "held_out_psnr": round(r.best_psnr, 3), "held_out_psnr_untouched": round(r.before_psnr, 3),
            "loss": self.values["loss"], "crop": self.values["crop"], "batch": self.values["batch"],
            "seed": self.values["seed"], "device": r.device, "seconds": round(r.seconds, 1),
            "shaper": "log-like (scene-linear)" if self.shaped else "none (display-referred)",
            "input": str(job.input_path("plate")), "target": str(job.input_path("target")),
        }
        if "mask" in job.inputs:
            training["mask"] = str(job.input_path("mask"))
        description = (f"A fix learned from {len(frames)} corrected frame(s) ({r.held_out}): held-out part "
                       f"{r.before_psnr:.2f} dB untouched -> {r.best_psnr:.2f} dB fixed ({gain:+.2f} dB), "
                       f"{r.steps_done} steps on {r.device}.")
        manifest = write_model(folder, r.state, shaped=self.shaped, colorspace=self.colorspace, training=training,
                               description=description, check_frame=self.pairs[0].input)
        summary = folder / SUMMARY
        tmp = summary.with_name(f".{summary.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"model": manifest.id, "sha256": manifest.sha256, **training,
                                   "history": [list(h) for h in r.history]}, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, summary)
        word = "no better than doing nothing" if gain <= 0 else f"{gain:+.2f} dB"
        emit("info", message=f"model '{manifest.id}' in {folder}: held-out part {r.before_psnr:.2f} -> "
             f"{r.best_psnr:.2f} dB ({word}); run it with: matchcut apply --model {folder}")
        if gain <= 0:
            emit("warning", message="the learned fix does not beat doing nothing on the held-out part: give more "
                 "corrected frames, more steps or a larger crop")
        artifacts = {"model": str(manifest.path), "summary": str(summary)}
        if (folder / PREVIEW).is_file():
            artifacts["preview"] = str(folder / PREVIEW)
        return artifacts

    def provenance(self, job: JobSpec):
        from matchcut.provenance import Provenance

        return Provenance(tool=self.name, params=dict(job.params))
