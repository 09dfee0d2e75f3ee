"""Frame interpolation at run time: the frame between two plates from an installed RIFE ONNX model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import SettingError, ShapeMismatchError

if TYPE_CHECKING:
    from matchcut.runtime.backends import DeviceOptions

#: The zoo's default interpolation model (any timestep).
DEFAULT_MODEL = "rife-4.25"


def has_timestep(model: str) -> bool:
    """True when the model takes any timestep (rife-4.25); False for middle-frame-only models (rife-hdv3)."""
    from matchcut.models.registry import find_model

    return any(spec.name == "timestep" for spec in find_model(model).inputs)


def _device_options(device: DeviceOptions | dict | None) -> DeviceOptions | None:
    from matchcut.runtime.backends import DeviceOptions

    if device is None or isinstance(device, DeviceOptions):
        return device
    if isinstance(device, dict):
        return DeviceOptions.from_dict(device)
    raise SettingError("device", f"expected DeviceOptions, a device table or None, got {type(device).__name__}")


def _check_frame(name: str, frame: Any) -> np.ndarray:
    from matchcut.vision.sessions import as_rgb01

    frame = np.asarray(frame)
    # Exactly three channels: silently dropping an alpha or matte channel would lose it from the fill.
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ShapeMismatchError(f"{name}: expected an (H, W, 3) RGB frame, got shape {frame.shape}")
    if not np.issubdtype(frame.dtype, np.floating):
        raise SettingError(name, f"expected float pixels in [0, 1], got dtype {frame.dtype}")
    return as_rgb01(frame, name)


def padded_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    """(height, width) rounded up to the next multiple of ``multiple``."""
    return -(-height // multiple) * multiple, -(-width // multiple) * multiple


def _to_model(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w, 3) -> (1, 3, height, width), edge-replicated on the bottom and right (no black border to track)."""
    h, w = frame.shape[:2]
    padded = np.pad(frame, ((0, height - h), (0, width - w), (0, 0)), mode="edge")
    return np.ascontiguousarray(padded.transpose(2, 0, 1)[None])


def interpolate(frame0: np.ndarray, frame1: np.ndarray, timestep: float = 0.5, *, model: str = DEFAULT_MODEL,
                device: DeviceOptions | dict | None = None) -> np.ndarray:
    """The frame at ``timestep`` between ``frame0`` (t = 0) and ``frame1`` (t = 1), from an installed RIFE model.

    frame0, frame1: (H, W, 3) float32 RGB in [0, 1], sRGB-encoded display values (RIFE was trained on those;
    convert scene-linear plates first). Returns (H, W, 3) float32 in [0, 1], same encoding, C-contiguous.
    Values outside [0, 1] are clipped first. The frames are edge-padded to the model's ``size_multiple``, run
    through the model's cached session (``matchcut.vision.sessions.model_session``), cropped back and clipped.
    Models without a timestep input (``rife-hdv3``) give t = 0.5 only: other times raise ``SettingError``
    (halve recursively instead). ``device``: DeviceOptions, a job's device table, or None for the default
    (auto: the GPU when onnxruntime has one, with a loud warning on CPU fallback). Never tiled: RIFE's flow is
    global, so the whole frame goes through at once.
    """
    manifest, outputs = _run(frame0, frame1, timestep, model, device)
    return outputs[manifest.outputs[0].name if manifest.outputs else "frame"]


@dataclass(frozen=True)
class Motion:
    """An interpolated frame and how the model made it from its two inputs.

    frame: (H, W, 3) float32 in [0, 1], sRGB-encoded. flow: (H, W, 4) float32 pixels; channels 0-1 say where
    each output pixel samples frame0 (x, y offsets), 2-3 where it samples frame1. weight: (H, W) float32 in
    [0, 1], the share of warped frame0 (``carry`` applies both to other channels).
    """

    frame: np.ndarray
    flow: np.ndarray
    weight: np.ndarray


def interpolate_motion(frame0: np.ndarray, frame1: np.ndarray, timestep: float = 0.5, *,
                       model: str = DEFAULT_MODEL, device: DeviceOptions | dict | None = None) -> Motion:
    """``interpolate``, returning the model's flow and blend weight beside the frame (``Motion``).

    Needs a model with ``flow`` and ``weight`` outputs (the zoo's RIFE models from version +2 on); raises
    ``SettingError`` naming the model and the fix otherwise.
    """
    manifest, outputs = _run(frame0, frame1, timestep, model, device)
    names = [spec.name for spec in manifest.outputs]
    if not {"frame", "flow", "weight"} <= set(names):
        raise SettingError("model", f"'{model}' gives {', '.join(names) or 'no outputs'}, not frame, flow and "
                                    "weight; rebuild it with 'matchcut models install'")
    return Motion(outputs["frame"], outputs["flow"], outputs["weight"][..., 0])


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward-warp ``image`` (H, W, C) float32 by ``flow`` (H, W, 2) pixels, exactly as RIFE's graph does:
    output pixel (x, y) samples ``image`` at (x + fx, y + fy), bilinear, clamped at the border. Float32 map."""
    import cv2

    height, width = flow.shape[:2]
    xs = np.arange(width, dtype=np.float32)[None, :] + flow[..., 0]
    ys = np.arange(height, dtype=np.float32)[:, None] + flow[..., 1]
    # cv2.remap takes at most four channels at a time; a matte has one.
    image = np.asarray(image, dtype=np.float32)
    channels = [cv2.remap(np.ascontiguousarray(image[..., c]), xs, ys, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE) for c in range(image.shape[2])]
    return np.stack(channels, axis=2)


def carry(channels0: np.ndarray, channels1: np.ndarray, motion: Motion) -> np.ndarray:
    """Move other channels (an alpha, a matte) with the motion of the picture: (H, W, C) float32 each, the
    values of frame0's and frame1's pixels; returns (H, W, C) float32 at the interpolated time."""
    w = motion.weight[..., None]
    return warp(channels0, motion.flow[..., :2]) * w + warp(channels1, motion.flow[..., 2:4]) * (1.0 - w)


def _run(frame0: np.ndarray, frame1: np.ndarray, timestep: float, model: str,
         device: DeviceOptions | dict | None) -> tuple[Any, dict[str, np.ndarray]]:
    """Check the inputs, pad, run the model once; every (1, C, h, w) output cropped back to (H, W, C).
    The frame output is clipped to [0, 1]."""
    from matchcut.vision.sessions import model_session

    frame0 = _check_frame("frame0", frame0)
    frame1 = _check_frame("frame1", frame1)
    if frame0.shape != frame1.shape:
        raise ShapeMismatchError(f"frame0 is {frame0.shape[1]}x{frame0.shape[0]} but frame1 is "
                                 f"{frame1.shape[1]}x{frame1.shape[0]}; interpolation needs two frames of one size")
    number = isinstance(timestep, (int, float, np.floating)) and not isinstance(timestep, bool)
    if not number or not 0.0 <= float(timestep) <= 1.0:
        raise SettingError("timestep", f"expected a number in [0, 1], got {timestep!r}")

    manifest, session = model_session(model, _device_options(device))
    if manifest.task != "interpolation":
        raise SettingError("model", f"'{model}' is a {manifest.task} model, not an interpolation model")
    input_names = [spec.name for spec in manifest.inputs]
    if not {"img0", "img1"} <= set(input_names):
        raise SettingError("model", f"'{model}' has inputs {', '.join(input_names)}; "
                                    "expected img0, img1 (and timestep)")
    if "timestep" not in input_names and float(timestep) != 0.5:
        raise SettingError("timestep", f"{model} predicts only the middle frame (0.5), got {timestep}; "
                                       f"halve recursively or use {DEFAULT_MODEL}")

    height, width = frame0.shape[:2]
    padded_h, padded_w = padded_size(height, width, max(1, manifest.runtime.size_multiple))
    feeds = {"img0": _to_model(frame0, padded_h, padded_w), "img1": _to_model(frame1, padded_h, padded_w)}
    if "timestep" in input_names:
        feeds["timestep"] = np.full((1, 1, 1, 1), float(timestep), np.float32)
    outputs = {}
    for name, value in session.run(feeds).items():
        # The padding is on the bottom and right only, so cropping keeps every flow vector where it was.
        out = np.ascontiguousarray(value[0, :, :height, :width].transpose(1, 2, 0), dtype=np.float32)
        outputs[name] = out
    frame_name = manifest.outputs[0].name if manifest.outputs else "frame"
    outputs[frame_name] = np.clip(outputs[frame_name], 0.0, 1.0)
    return manifest, outputs
