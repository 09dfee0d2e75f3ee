"""The generic `apply` tool: run any image-to-image model that has a manifest over a plate.

The model's first input and first output in the manifest describe the image tensors: layout (NCHW/NHWC),
channel names, value range and colour space. Channels the model does not touch (alpha, mattes, AOVs) pass
through unchanged. Controls declared in the manifest are set by name in the job's params; a control that is
also a graph input is fed to the model as a tensor, and "strength" (or "mix"), when declared and not a
graph input, blends the result with the original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import ManifestError, ModelError, SettingError, ShapeMismatchError
from matchcut.models.manifest import Control
from matchcut.provenance import Provenance
from matchcut.tools.base import Emit, Tool, WorkItem
from matchcut.tools.description import Output
from matchcut.tools.controls import control_value

if TYPE_CHECKING:
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec
    from matchcut.models.manifest import ModelManifest

#: The tool's own parameters; every other key must be one of the model's controls.
TOOL_PARAMS = ("model", "tile", "overlap")
#: Controls that apply implements itself (blend with the input) when the graph has no input of that name.
MIX_CONTROLS = ("strength", "mix")
_RGB = ("R", "G", "B")
_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
                "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


@dataclass(frozen=True)
class ApplySettings:
    """The validated parameters of one apply job."""

    manifest: ModelManifest
    tile: int
    overlap: int
    controls: dict[str, Any]  # every control of the model, user value or manifest default
    given: tuple[str, ...]  # the controls the job set explicitly


def apply_settings(params: dict[str, Any]) -> ApplySettings:
    """Validate apply's params against the model's manifest: model id, tile, overlap and the controls."""
    from matchcut.models.registry import find_model, list_models

    model = params.get("model")
    if not isinstance(model, str) or not model:
        raise SettingError("model", f"expected the id of an installed model, got {model!r}", [m.id for m in list_models()])
    manifest = find_model(model)
    if manifest.runtime.fixed_size is not None:
        h, w = manifest.runtime.fixed_size
        raise SettingError("model", f"model '{model}' takes a fixed {h}x{w} input; apply runs models that take any "
                           "size, so use the tool made for this model")
    if not manifest.inputs or not manifest.outputs:
        raise ManifestError(str(manifest.path), "apply needs at least one [[inputs]] and one [[outputs]] image tensor")
    for spec in (manifest.inputs[0], manifest.outputs[0]):
        if spec.layout not in ("NCHW", "NHWC"):
            raise ManifestError(str(manifest.path), f"tensor '{spec.name}' has layout {spec.layout}; apply needs NCHW or NHWC")
    tile = params.get("tile", 0) or 0
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 0:
        raise SettingError("tile", f"expected a tile size in pixels (0: whole frame), got {tile!r}")
    if tile and not manifest.runtime.tileable:
        raise SettingError("tile", f"model '{model}' cannot run in tiles (its manifest says tileable = false); use 0")
    overlap = params.get("overlap")
    overlap = manifest.runtime.receptive_field if overlap is None else overlap
    if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 0:
        raise SettingError("overlap", f"expected pixels >= 0, got {overlap!r}")
    multiple = max(1, manifest.runtime.size_multiple)
    if tile and (tile % multiple or tile <= 2 * overlap):
        raise SettingError("tile", f"tile {tile} must be a multiple of {multiple} and larger than twice the "
                           f"overlap {overlap} for model '{model}'")
    declared = {c.name: c for c in manifest.controls}
    controls = {name: c.default for name, c in declared.items()}
    given = []
    for key, value in params.items():
        if key in TOOL_PARAMS:
            continue
        if key not in declared:
            raise SettingError(key, f"model '{model}' has no control '{key}'", [*declared, *TOOL_PARAMS])
        controls[key] = control_value(declared[key], value, f"model '{model}'")
        given.append(key)
    return ApplySettings(manifest, tile, overlap, controls, tuple(given))


def _channel_index(plate: Plate, names: tuple[str, ...], model: str) -> list[int]:
    missing = [c for c in names if c not in plate.channels]
    if missing:
        raise ShapeMismatchError(f"{plate.source or 'plate'}: model '{model}' needs channel(s) {', '.join(missing)}; "
                                 f"the plate has {', '.join(plate.channels)}")
    return [plate.channels.index(c) for c in names]


class ApplyTool(Tool):
    """Runs one image-to-image model over every frame: input "plate", output "main"."""

    name = "apply"
    label = "Apply Model"
    category = "model"
    description = "Run any image-to-image model that has a manifest; its own controls: `matchcut models info MODEL`."
    controls = (
        Control("model", "string", "", label="Model", help="id of an installed model (matchcut models list)",
                ui="model", cli_help="Model id (see `matchcut models list`)."),
        Control("tile", "int", 0, min=0, label="Tile size",
                help="pixels per tile; 0: the whole frame when it fits the device's free memory, else the largest "
                     "tiles that do",
                cli_help="Tile size in pixels; 0: whole frames, or tiles that fit the device's memory."),
        Control("overlap", "int", None, min=0, label="Tile overlap",
                help="pixels of context around each tile; empty: the model's receptive field",
                cli_help="Tile overlap in pixels (default: the model's receptive field)."),
    )
    output_specs = (Output("main", "plate", label="Result", help="Output pattern, e.g. out/sh010_denoise.####.exr.",
                           flag="--output"),)

    def __init__(self) -> None:
        self.settings: ApplySettings | None = None
        self.session: Any = None
        self._feeds: dict[str, np.ndarray] = {}
        self._mix: str | None = None

    def check(self, job: JobSpec) -> None:
        super().check(job)
        self.settings = apply_settings(job.params)

    def _settings(self, job: JobSpec) -> ApplySettings:
        if self.settings is None:
            self.settings = apply_settings(job.params)
        return self.settings

    def provenance(self, job: JobSpec) -> Provenance:
        s = self._settings(job)
        params = {"model": s.manifest.id, "tile": s.tile, "overlap": s.overlap, "controls": s.controls,
                  "nonfinite": job.nonfinite}
        return Provenance(tool=self.name, params=params, model_id=s.manifest.id, model_sha256=s.manifest.sha256)

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        """Open the model's session (sha256 checked) and work out how each control reaches the model."""
        from matchcut.runtime import DeviceOptions, create_model_session

        s = self._settings(job)
        m = s.manifest
        device = job.device if isinstance(job.device, DeviceOptions) else DeviceOptions.from_dict(job.device)
        self._emit = emit
        self._plans: dict[tuple[int, int], Any] = {}
        warned = []

        def warn(message: str) -> None:
            warned.append(message)
            emit("warning", message=f"model '{m.id}': {message}")

        self.session = create_model_session(m, device, on_warning=warn)
        if self.session.fell_back and not warned:
            warn(f"asked for {device.provider} but running on {self.session.provider}; this will be slow")
        graph_inputs = {t.name: t for t in self.session.inputs}
        image = m.inputs[0].name
        if image not in graph_inputs:
            raise ManifestError(str(m.path), f"input '{image}' is not an input of {m.file} (it has {', '.join(graph_inputs)})")
        if m.outputs[0].name not in {t.name for t in self.session.outputs}:
            names = ", ".join(t.name for t in self.session.outputs)
            raise ManifestError(str(m.path), f"output '{m.outputs[0].name}' is not an output of {m.file} (it has {names})")
        self._feeds = {}
        for name, info in graph_inputs.items():
            if name == image:
                continue
            if name not in s.controls:
                raise ModelError(f"model '{m.id}': graph input '{name}' is neither the image nor a declared control; "
                                 "apply cannot feed it")
            dtype = _NUMPY_TYPES.get(info.type)
            if dtype is None or isinstance(s.controls[name], str):
                raise ModelError(f"model '{m.id}': control input '{name}' has type {info.type}; apply feeds numbers and bools")
            shape = tuple(d if isinstance(d, int) and d > 0 else 1 for d in info.shape)
            self._feeds[name] = np.full(shape, s.controls[name], dtype=dtype)
        self._mix = next((c for c in MIX_CONTROLS if c in s.controls and c not in graph_inputs), None)
        unused = [c for c in s.given if c not in graph_inputs and c != self._mix]
        if unused:
            raise SettingError(unused[0], f"model '{m.id}' declares this control but its graph has no such input, so "
                               "apply cannot use it (its own tool does)", [*self._feeds, *([self._mix] if self._mix else [])])

    def _infer(self, window: np.ndarray) -> np.ndarray:
        """Run the model on an NCHW float32 window in model space; returns NCHW float32."""
        m = self.settings.manifest
        tin, tout = m.inputs[0], m.outputs[0]
        x = window if tin.layout == "NCHW" else window.transpose(0, 2, 3, 1)
        feeds = {tin.name: np.ascontiguousarray(x, dtype=np.dtype(tin.dtype)), **self._feeds}
        y = np.asarray(self.session.run(feeds)[tout.name], dtype=np.float32)
        if y.ndim != 4:
            raise ShapeMismatchError(f"model '{m.id}': output '{tout.name}' has shape {y.shape}; apply expects an image")
        return y if tout.layout == "NCHW" else y.transpose(0, 3, 1, 2)

    def _run(self, image: np.ndarray, height: int, width: int, multiple: int) -> np.ndarray:
        """The model over the frame (NCHW float32): in the user's tiles, or with tile 0 in the memory budget's
        (the whole frame when it fits the device's free memory); an out-of-memory error retries smaller and
        says so in one warning."""
        from matchcut.runtime.budget import TilePlan, plan_for, run_budgeted

        s = self.settings
        m = s.manifest
        plan = TilePlan(s.tile, 1) if s.tile else self._plans.get((height, width))
        if plan is None:
            plan = self._plans[(height, width)] = plan_for(self.session, m.runtime, height, width, model=m.id)
        # the receptive field's overlap matters once the budget cuts the frame into tiles; a frame smaller than
        # twice it is one window that needs none
        overlap = s.overlap if plan.tile > 2 * s.overlap else 0

        def retried(message: str) -> None:
            self._plans.pop((height, width), None)  # the next frame asks the device again
            self._emit("warning", message=message)

        return run_budgeted(self._infer, image, plan=plan, overlap=overlap, multiple=multiple,
                            tileable=m.runtime.tileable, on_message=retried, model=m.id)

    def process(self, item: WorkItem, plates: dict[str, list[Plate]]) -> dict[str, Plate]:
        """Run the model on the frame's plate. Pixels: float32 (H, W, C) in the plate's colour space (EXR:
        scene linear unless the file says); the model sees its declared channels, colour space and range."""
        from matchcut.color import convert, default_colorspace

        if self.session is None or self.settings is None:
            raise ModelError("apply: process() called before prepare()")
        s = self.settings
        m = s.manifest
        tin, tout = m.inputs[0], m.outputs[0]
        plate = plates["plate"][0]
        in_channels = tuple(tin.channels) or _RGB
        out_channels = tuple(tout.channels) or in_channels
        x = plate.pixels[..., _channel_index(plate, in_channels, m.id)]
        space = plate.colorspace or default_colorspace(plate.source)
        # Colour conversion needs RGB first; a model without R, G, B inputs sees the plate's values as they are.
        if tin.colorspace and in_channels[:3] == _RGB:
            x = convert(x, space, tin.colorspace)
        lo, hi = tin.range or (0.0, 1.0)
        x = x * np.float32(hi - lo) + np.float32(lo)
        image = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
        multiple = max(1, m.runtime.size_multiple)
        height, width = plate.pixels.shape[:2]
        y = self._run(image, height, width, multiple)
        y = y[0].transpose(1, 2, 0)
        if y.shape[:2] != (height, width) or y.shape[2] != len(out_channels):
            raise ShapeMismatchError(f"model '{m.id}': output is {y.shape[1]}x{y.shape[0]} with {y.shape[2]} channel(s); "
                                     f"expected {width}x{height} with {len(out_channels)} ({', '.join(out_channels)})")
        olo, ohi = tout.range or tin.range or (0.0, 1.0)
        y = (y - np.float32(olo)) / np.float32(ohi - olo)
        out_space = tout.colorspace or tin.colorspace
        if out_space and out_channels[:3] == _RGB:
            y = convert(y, out_space, space)
        pixels = np.array(plate.pixels, dtype=np.float32, copy=True)
        channels = list(plate.channels)
        mix = float(s.controls[self._mix]) if self._mix else 1.0
        extra = []
        for j, name in enumerate(out_channels):
            if name in channels:
                i = channels.index(name)
                blended = y[..., j] if mix == 1.0 else pixels[..., i] + np.float32(mix) * (y[..., j] - pixels[..., i])
                pixels[..., i] = blended
            else:
                extra.append(y[..., j])
                channels.append(name)
        if extra:
            pixels = np.concatenate([pixels, np.stack(extra, axis=-1)], axis=-1)
        return {"main": plate.with_pixels(np.ascontiguousarray(pixels, dtype=np.float32), channels=tuple(channels))}
