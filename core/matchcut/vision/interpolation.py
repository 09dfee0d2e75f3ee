"""Frame interpolation at run time: the frame between two plates from an installed RIFE ONNX model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import SettingError, ShapeMismatchError

if TYPE_CHECKING:
    from matchcut.runtime.backends import DeviceOptions

#: The zoo's default interpolation model (any timestep).
DEFAULT_MODEL = "rife-4.25"


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
    out_name = manifest.outputs[0].name if manifest.outputs else "frame"
    result = session.run(feeds)[out_name]
    middle = result[0, :, :height, :width].transpose(1, 2, 0)
    return np.ascontiguousarray(np.clip(middle, 0.0, 1.0), dtype=np.float32)
