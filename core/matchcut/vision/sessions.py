"""The vision models' inference sessions (cached per model id and device) and how images become their inputs."""

from __future__ import annotations

import math
import threading

import numpy as np

from matchcut.errors import ModelError, PixelValueError, ShapeMismatchError
from matchcut.models.manifest import ModelManifest, TensorSpec
from matchcut.runtime.backends import DeviceOptions

_lock = threading.Lock()
_cache: dict[tuple[str, DeviceOptions], tuple[ModelManifest, object]] = {}


def model_session(model_id: str, device: DeviceOptions | None = None):
    """The manifest and the runtime Session of an installed model, built once per (id, device) and reused.

    The model is looked up with ``matchcut.models.registry.find_model`` (ModelNotFoundError lists what is
    installed); its ONNX file's sha256 is checked against the manifest when the session is created.
    Returns ``(ModelManifest, matchcut.runtime.Session)``.
    """
    from matchcut.models.registry import find_model
    from matchcut.runtime.session import create_model_session

    options = device if device is not None else DeviceOptions()
    key = (model_id, options)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
        manifest = find_model(model_id)
        shape = None
        if manifest.runtime.fixed_size is not None:
            h, w = manifest.runtime.fixed_size
            shape = (1, h, w, 3)
        session = create_model_session(manifest, options, shape_hint=shape)
        _cache[key] = (manifest, session)
        return manifest, session


def clear_sessions() -> None:
    """Forget every cached session (after models were reinstalled, or to free GPU memory)."""
    with _lock:
        _cache.clear()


def as_rgb01(image: np.ndarray, what: str = "image") -> np.ndarray:
    """An image as float32 (H, W, 3) sRGB-encoded display values clipped to [0, 1].

    Accepts float arrays (display-referred, nominally [0, 1]) or uint8/uint16 (scaled by their maximum), with 3
    or more channels whose first three are R, G, B (alpha and the rest are ignored). ``what`` names the image
    in errors. Raises ShapeMismatchError for other shapes and PixelValueError for NaN or Inf pixels.
    """
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] < 3 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ShapeMismatchError(f"{what}: expected an (H, W, 3) RGB image, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr[:, :, :3], dtype=np.float32) / np.float32(255.0)
    if arr.dtype == np.uint16:
        return np.ascontiguousarray(arr[:, :, :3], dtype=np.float32) / np.float32(65535.0)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ShapeMismatchError(f"{what}: expected float32 pixels in [0, 1] (or uint8/uint16), got {arr.dtype}")
    rgb = np.asarray(arr[:, :, :3], dtype=np.float32)
    if not np.isfinite(rgb).all():
        raise PixelValueError(f"{what}: NaN or Inf pixels; the vision models need finite display values")
    return np.clip(rgb, 0.0, 1.0)


def to_input_range(rgb01: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Map [0, 1] pixel values to the range the model's input declares (e.g. [-1, 1]); float32, same shape."""
    lo, hi = spec.range if spec.range is not None else (0.0, 1.0)
    if (lo, hi) == (0.0, 1.0):
        return np.ascontiguousarray(rgb01, dtype=np.float32)
    return np.ascontiguousarray(rgb01 * np.float32(hi - lo) + np.float32(lo), dtype=np.float32)


def sample_affine(image: np.ndarray, to_image: np.ndarray, out_w: int, out_h: int, *, border: str = "replicate",
                  antialias: bool = False) -> np.ndarray:
    """Resample an (H, W, C) float32 image into an (out_h, out_w, C) model input through an affine map.

    to_image: (2, 3) affine taking output pixel (u, v) to image pixel (x, y). As MediaPipe's
    ImageToTensorCalculator: each output pixel is one bilinear sample, border "zero" (black) or "replicate".
    That point sampling aliases when the image is much larger than the input (a 4K plate into 256 px):
    antialias=True first area-averages the region under the map by the whole factor it shrinks by. It departs
    a little from MediaPipe's numbers but steadies the results on moving, detailed plates (measured on a
    textured 2048-px frame moving by sub-pixel steps: 9x less mask change and 8x less landmark jitter between
    frames).
    """
    import cv2

    a = np.asarray(to_image, dtype=np.float64)
    scale = math.sqrt(abs(np.linalg.det(a[:, :2])))
    src = image
    if antialias and scale >= 2.0:
        h, w = image.shape[:2]
        corners = np.array([[0, 0, 1], [out_w, 0, 1], [out_w, out_h, 1], [0, out_h, 1]], np.float64) @ a.T
        x0 = int(np.clip(np.floor(corners[:, 0].min()) - 2, 0, w - 1))
        y0 = int(np.clip(np.floor(corners[:, 1].min()) - 2, 0, h - 1))
        x1 = int(np.clip(np.ceil(corners[:, 0].max()) + 3, x0 + 1, w))
        y1 = int(np.clip(np.ceil(corners[:, 1].max()) + 3, y0 + 1, h))
        f = math.floor(scale)
        sw, sh = max(1, round((x1 - x0) / f)), max(1, round((y1 - y0) / f))
        src = cv2.resize(image[y0:y1, x0:x1], (sw, sh), interpolation=cv2.INTER_AREA)
        # image pixel centre x lands on sub-image pixel centre (x - x0 + 0.5) * kx - 0.5
        kx, ky = sw / (x1 - x0), sh / (y1 - y0)
        to_sub = np.array([[kx, 0, (0.5 - x0) * kx - 0.5], [0, ky, (0.5 - y0) * ky - 0.5], [0, 0, 1]])
        a = (to_sub @ np.vstack([a, [0, 0, 1]]))[:2]
    mode = cv2.BORDER_CONSTANT if border == "zero" else cv2.BORDER_REPLICATE
    out = cv2.warpAffine(src, a, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=mode, borderValue=0)
    return out.reshape(out_h, out_w, -1) if out.ndim == 2 else out


def fixed_size(manifest: ModelManifest) -> tuple[int, int]:
    """The model's fixed input size (height, width); ModelError when its manifest does not declare one."""
    if manifest.runtime.fixed_size is None:
        raise ModelError(f"model '{manifest.id}': manifest has no runtime.fixed_size; expected one for this model")
    h, w = manifest.runtime.fixed_size
    return int(h), int(w)


def run_nhwc(manifest: ModelManifest, session, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Run a one-input model on a (1, H, W, 3) float32 batch (NHWC, already in the input's range).

    Transposes to NCHW when the manifest's input layout says so. Returns every output by name.
    """
    if len(session.inputs) != 1:
        names = ", ".join(i.name for i in session.inputs)
        raise ModelError(f"model '{manifest.id}': expected one input, the ONNX file has {names}")
    layout = manifest.inputs[0].layout if manifest.inputs else "NHWC"
    if layout == "NCHW":
        batch = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
    return session.run({session.inputs[0].name: batch})


def output_by_size(manifest: ModelManifest, outputs: dict[str, np.ndarray], size: int, role: str) -> np.ndarray:
    """The one output whose element count is ``size`` (how the MediaPipe heads are told apart), flattened.

    ``role`` names what is looked for in the ModelError raised when no single output fits.
    """
    found = [v for v in outputs.values() if v.size == size]
    if len(found) != 1:
        shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in outputs.items())
        raise ModelError(f"model '{manifest.id}': expected one {role} output of {size} values, got {shapes}")
    return found[0].reshape(-1)
