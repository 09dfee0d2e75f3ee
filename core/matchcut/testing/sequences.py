"""Footage with a known answer: a real photograph in known smooth non-rigid motion; the retime quality run.

The frames take display values (``photos.photo(..., colorspace="srgb")``); the quality run scores each method
with ``metrics.psnr`` and ``metrics.ssim`` against the dropped originals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Frames dropped and rebuilt: (left, right) good frames and the dropped frames between them.
GAPS = ((0, 2), (4, 8))


def warped_frame(img: np.ndarray, size: tuple[int, int], time: float, *, pan: tuple[float, float] = (3.0, 1.5),
                 wobble: float = 2.0, wavelength: float = 90.0) -> np.ndarray:
    """The frame at ``time`` (in frames; any real number) of ``img`` moving by a known non-rigid motion.

    The sample point of output pixel (x, y) is ``(x, y) + margin + time * (pan + wobble * field(x, y))``, a
    pan plus a smooth swirl whose displacement grows linearly in time, so the true in-between of frames k and
    k + 1 is exactly ``warped_frame(img, size, k + 0.5)``. ``img``: float32 (H, W, 3) display values, larger
    than ``size`` (height, width) by the motion; returns float32 (height, width, 3), bilinear, in [0, 1].
    """
    import cv2

    height, width = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    fx = np.sin(2 * np.pi * yy / wavelength) * np.cos(2 * np.pi * xx / (1.3 * wavelength))
    fy = np.cos(2 * np.pi * xx / wavelength) * np.sin(2 * np.pi * yy / (1.7 * wavelength))
    margin = np.float32(8)
    map_x = xx + margin + np.float32(time) * (np.float32(pan[0]) + np.float32(wobble) * fx)
    map_y = yy + margin + np.float32(time) * (np.float32(pan[1]) + np.float32(wobble) * fy)
    out = cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(np.clip(out, 0, 1), dtype=np.float32)


def layered_frame(background: np.ndarray, foreground: np.ndarray, size: tuple[int, int], time: float, *,
                  velocity: tuple[float, float] = (-6.0, 2.0)) -> np.ndarray:
    """A frame of two real photos in known motion with occlusion: ``background`` moving by warped_frame
    (pan plus swirl, wobble 1) and an elliptical soft-edged piece of ``foreground`` crossing it at
    ``velocity`` px per frame, its texture moving with it. Both images float32 (H, W, 3) display values in
    [0, 1]; returns float32 (height, width, 3) in [0, 1], exact at any real ``time``."""
    import cv2

    height, width = size
    back = warped_frame(background, size, time, wobble=1.0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    matte = layered_matte(size, time, velocity=velocity)[..., None]
    map_x = xx - np.float32(velocity[0] * time) + np.float32(80)
    map_y = yy - np.float32(velocity[1] * time) + np.float32(60)
    front = cv2.remap(foreground, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(np.clip(back * (1 - matte) + front * matte, 0, 1), dtype=np.float32)


def layered_matte(size: tuple[int, int], time: float, *, velocity: tuple[float, float] = (-6.0, 2.0)) -> np.ndarray:
    """The soft elliptical matte of ``layered_frame``'s foreground at ``time``: float32 (height, width) in [0, 1]."""
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = width * 0.6 + velocity[0] * time, height * 0.45 + velocity[1] * time
    rx, ry = width * 0.22, height * 0.21
    radius = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
    return np.ascontiguousarray(np.clip(1.0 - (radius - 1.0) * 8.0, 0.0, 1.0), dtype=np.float32)


def measure_quality(photos: tuple[str, ...] = ("astronaut", "coffee"), size: tuple[int, int] = (256, 320),
                    models: tuple[str, ...] = ("rife-4.25", "rife-hdv3"), device=None,
                    foreground: str = "chelsea", ensembles: tuple[int, ...] = (4,),
                    peers: bool = False) -> dict[str, dict[str, Any]]:
    """Method -> {"psnr", "ssim", "frames", "per_frame"}: scores of every rebuilt frame against the dropped
    original (display values), over ``photos`` as backgrounds of ``layered_frame`` (a swirl-panned
    photo with a piece of ``foreground`` crossing it) and the gaps in GAPS (one dropped frame, then a run of
    three), for each model (alone, and as a flip ensemble of each size in ``ensembles``, named e.g.
    "rife-hdv3 x4") and the two baselines, all on the same frames in one run. ``peers``: also FFmpeg's
    minterpolate (given the frames one gap before and after) and the preview quality."""
    from matchcut.retime.blend import interpolate_display
    from matchcut.testing import baselines
    from matchcut.testing.metrics import psnr, ssim
    from matchcut.testing.photos import photo

    methods = {"50/50 blend": lambda a, b, t, seq: baselines.blend(a, b, t),
               "DIS flow + warp": lambda a, b, t, seq: baselines.dis_interpolate(a, b, t)}
    if peers:
        from matchcut.retime.preview import PREVIEW_MODEL

        methods["FFmpeg minterpolate"] = lambda a, b, t, seq: baselines.minterpolate_between(*seq, [t])[0]
        methods["preview"] = lambda a, b, t, seq: interpolate_display(a, b, t, PREVIEW_MODEL, device, quality="preview")
    for model in models:
        methods[model] = lambda a, b, t, seq, m=model: interpolate_display(a, b, t, m, device)
        for n in ensembles:
            methods[f"{model} x{n}"] = lambda a, b, t, seq, m=model, n=n: interpolate_display(a, b, t, m, device,
                                                                                              ensemble=n)
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    for name in photos:
        img, front = photo(name, colorspace="srgb"), photo(foreground, colorspace="srgb")
        for left, right in GAPS:
            gap = right - left
            seq = [layered_frame(img, front, size, k) for k in (left - gap, left, right, right + gap)]
            f0, f1 = seq[1], seq[2]
            for k in range(left + 1, right):
                truth = layered_frame(img, front, size, k)
                t = (k - left) / (right - left)
                for method, fn in methods.items():
                    got = fn(f0, f1, t, seq)
                    scores[method].append((psnr(got, truth), ssim(got, truth)))
    return {m: {"psnr": float(np.mean([s[0] for s in v])), "ssim": float(np.mean([s[1] for s in v])),
                "frames": len(v), "per_frame": v} for m, v in scores.items()}
