"""Super-resolution at run time: a picture brought to twice its size, or to any larger size, by a zoo model.

For punch-ins (a closer crop of a wider take brought back to full resolution). The models are the zoo's
``super-resolution`` ones (ncnn networks converted by ``matchcut.models.zoo.ncnn``, built by ``upscalers``); each maps an (N, 3, H, W)
sRGB picture to (N, 3, sH, sW). They run through the memory budget of ``matchcut.runtime.budget``: the whole
picture when it fits the device, else tiles overlapping by the model's receptive field. The default is the
model with the best measured fidelity against Lanczos (``matchcut bench --quality upscale``, docs/quality.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import ModelError, SettingError

if TYPE_CHECKING:
    from matchcut.runtime.backends import DeviceOptions

#: The zoo's default upscale model: waifu2x's photo network. In `matchcut bench --quality upscale` it beat
#: Lanczos on every held-out photo at 2x and at 1.5x (mean +1.5 dB and +2.0 dB); waifu2x CUNet scored a little
#: higher on average but fell below Lanczos on one photo (fine foliage), and the GAN-trained models (Real-CUGAN,
#: Real-ESRGAN) were below Lanczos throughout: they invent texture.
DEFAULT_UPSCALE = "waifu2x-photo-2x"
#: The zoo task of these models.
TASK = "super-resolution"
#: Smaller pictures are edge-padded to this side first: the graphs mirror up to 19 px of border.
MIN_SIDE = 32
_PROBE = 64  # the side of the zero picture that tells a model's scale

_lock = threading.Lock()
_scales: dict[tuple[str, str], int] = {}


def lanczos(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` (H, W, C) float32 resampled to (height, width) with OpenCV's Lanczos (8x8 taps), not clipped:
    what a user would pick instead of a model."""
    import cv2

    return np.ascontiguousarray(cv2.resize(np.asarray(image, np.float32), (width, height),
                                           interpolation=cv2.INTER_LANCZOS4))


def reduce_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` (H, W, C) float32 at least (height, width) made exactly that size by area averaging (what a sensor
    records of a closer framing; Lanczos there aliases), not clipped."""
    import cv2

    return np.ascontiguousarray(cv2.resize(np.asarray(image, np.float32), (int(width), int(height)),
                                           interpolation=cv2.INTER_AREA))


def shrink(image: np.ndarray, factor: float) -> np.ndarray:
    """``image`` (H, W, C) float32 made ``factor`` times smaller (round(H / factor) x round(W / factor)) by area
    averaging: a wider take's pixels over the region a punch-in keeps."""
    import cv2

    h, w = image.shape[:2]
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    return np.ascontiguousarray(cv2.resize(np.asarray(image, np.float32), size, interpolation=cv2.INTER_AREA))


def restore_2x_psnr(run: Callable[[np.ndarray], np.ndarray], image: np.ndarray) -> tuple[float, float]:
    """(PSNR of the model, PSNR of Lanczos) in dB restoring ``image`` (H, W, 3) float32 sRGB in [0, 1], cropped
    to even sides, from its 2x area shrink. ``run`` maps (1, 3, h, w) float32 to (1, 3, 2h, 2w). Both results
    clipped to [0, 1] as a delivery would be; float64 arithmetic."""
    from matchcut.testing.metrics import psnr

    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    truth = np.ascontiguousarray(image[:h, :w], np.float32)
    small = shrink(truth, 2)
    restored = np.asarray(run(np.ascontiguousarray(small.transpose(2, 0, 1)[None])))[0].transpose(1, 2, 0)
    if restored.shape != truth.shape:
        raise ModelError(f"a {small.shape[1]}x{small.shape[0]} picture came back {restored.shape[1]}x"
                         f"{restored.shape[0]}; expected {w}x{h}")
    return (psnr(restored, truth, dtype=np.float64), psnr(lanczos(small, h, w), truth, dtype=np.float64))


def _device(device: DeviceOptions | dict | None) -> DeviceOptions | None:
    from matchcut.runtime.backends import DeviceOptions

    if device is None or isinstance(device, DeviceOptions):
        return device
    if isinstance(device, dict):
        return DeviceOptions.from_dict(device)
    raise SettingError("device", f"expected DeviceOptions, a device table or None, got {type(device).__name__}")


def _session(model_id: str, device: DeviceOptions | dict | None) -> tuple[Any, Any]:
    from matchcut.vision.sessions import model_session

    manifest, session = model_session(model_id, _device(device))
    if manifest.task != TASK:
        raise SettingError("model", f"'{model_id}' is a {manifest.task} model, not a {TASK} model")
    return manifest, session


def _scale(manifest: Any, session: Any) -> int:
    """The model's scale factor, read once from its output on a zero picture (manifests have no scale field)."""
    key = (manifest.id, manifest.sha256)
    with _lock:
        if key in _scales:
            return _scales[key]
    name, out = manifest.inputs[0].name, manifest.outputs[0].name
    y = session.run({name: np.zeros((1, 3, _PROBE, _PROBE), np.float32)})[out]
    scale = y.shape[2] // _PROBE
    if y.ndim != 4 or scale < 1 or y.shape[2:] != (scale * _PROBE, scale * _PROBE):
        raise ModelError(f"model '{manifest.id}': a {_PROBE}x{_PROBE} picture gave output shape {tuple(y.shape)}; "
                         "expected an integer multiple of the input's size")
    with _lock:
        _scales[key] = scale
    return scale


def model_scale(model_id: str = DEFAULT_UPSCALE, *, device: DeviceOptions | dict | None = None) -> int:
    """How many times larger an installed super-resolution model makes a picture (2 for the zoo's models)."""
    return _scale(*_session(model_id, device))


def upscale(image: np.ndarray, model_id: str = DEFAULT_UPSCALE, *, device: DeviceOptions | dict | None = None,
            tile: int = 0, on_message: Callable[[str], None] | None = None) -> np.ndarray:
    """``image`` (H, W, 3) float32 RGB in [0, 1], sRGB-encoded display values (what the networks were trained on;
    convert scene-linear plates first), brought to (sH, sW, 3) by the installed model ``model_id`` (s = its
    scale, 2 for the zoo's); float32 in [0, 1], same encoding, C-contiguous. Values outside [0, 1] are clipped
    first, and the result is clipped too.

    tile: 0 runs the whole picture when it fits the device's free memory, else the largest tiles that do
    (overlap: the model's receptive field); a tile size in pixels forces tiles. on_message receives a line when
    an out-of-memory error made it retry smaller. device: DeviceOptions, a job's device table, or None (auto).
    """
    from matchcut.runtime.budget import TilePlan, plan_for, run_budgeted
    from matchcut.vision.sessions import as_rgb01

    rgb = as_rgb01(image, "image")
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 0:
        raise SettingError("tile", f"expected a tile size in pixels (0: automatic), got {tile!r}")
    manifest, session = _session(model_id, device)
    scale = _scale(manifest, session)
    h, w = rgb.shape[:2]
    ph, pw = max(h, MIN_SIDE), max(w, MIN_SIDE)
    if (ph, pw) != (h, w):
        rgb = np.pad(rgb, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    runtime = manifest.runtime
    plan = TilePlan(tile, 1) if tile else plan_for(session, runtime, ph, pw, model=model_id)
    overlap = runtime.receptive_field if plan.tile > 2 * runtime.receptive_field else 0
    if tile and overlap == 0 and tile < max(ph, pw):
        raise SettingError("tile", f"tile {tile} must be larger than twice the overlap {runtime.receptive_field} "
                                   f"of model '{model_id}'")
    fn = session.image_fn(manifest.inputs[0].name, manifest.outputs[0].name)
    x = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
    y = run_budgeted(fn, x, plan=plan, overlap=overlap, multiple=max(1, runtime.size_multiple), scale=scale,
                     tileable=runtime.tileable, on_message=on_message, model=model_id)
    out = y[0, :, :h * scale, :w * scale].transpose(1, 2, 0)
    return np.ascontiguousarray(np.clip(out, 0.0, 1.0), dtype=np.float32)


def upscale_to(image: np.ndarray, height: int, width: int, model_id: str = DEFAULT_UPSCALE, *,
               device: DeviceOptions | dict | None = None,
               on_message: Callable[[str], None] | None = None) -> np.ndarray:
    """``image`` (H, W, 3) float32 sRGB in [0, 1] brought to (height, width), both at least the picture's: the
    model until the picture is at least that size (once for up to 2x, twice for up to 4x), then reduced to the
    exact size by area averaging, as a sensor records a closer framing (a 1.5x punch-in: 2x, then down to 1.5x;
    Lanczos there aliases: 1 dB below the area reduction on `matchcut bench --quality coverage`'s closer
    framings). Float32 in [0, 1], clipped."""
    from matchcut.vision.sessions import as_rgb01

    rgb = as_rgb01(image, "image")
    for name, value, least in (("height", height, rgb.shape[0]), ("width", width, rgb.shape[1])):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise SettingError(name, f"expected an integer of at least the picture's {least} px (upscale_to only "
                                     f"enlarges), got {value!r}")
    out = rgb
    while out.shape[0] < height or out.shape[1] < width:
        out = upscale(out, model_id, device=device, on_message=on_message)
    if out.shape[:2] != (height, width):
        out = np.clip(reduce_to(out, height, width), 0.0, 1.0)
    return np.ascontiguousarray(out, dtype=np.float32)
