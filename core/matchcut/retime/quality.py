"""The quality measurement: drop frames of a photo moved by a known motion, rebuild them, score each method."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Frames dropped and rebuilt: (left, right) good frames and the dropped frames between them.
GAPS = ((0, 2), (4, 8))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two float32 (H, W, 3) display images in [0, 1]."""
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return 10 * float(np.log10(1.0 / max(mse, 1e-12)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (scikit-image, data range 1, over R, G, B) of two float32 (H, W, 3) display images."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(np.clip(a, 0, 1), np.clip(b, 0, 1), channel_axis=2, data_range=1.0))


def measure(photos: tuple[str, ...] = ("astronaut", "coffee"), size: tuple[int, int] = (256, 320),
            models: tuple[str, ...] = ("rife-4.25", "rife-hdv3"), device=None,
            foreground: str = "chelsea", ensembles: tuple[int, ...] = (4,)) -> dict[str, dict[str, Any]]:
    """Method -> {"psnr", "ssim", "frames", "per_frame"}: scores of every rebuilt frame against the dropped
    original (display values), over ``photos`` as backgrounds of ``samples.layered_frame`` (a swirl-panned
    photo with a piece of ``foreground`` crossing it) and the gaps in GAPS (one dropped frame, then a run of
    three), for each model (alone, and as a flip ensemble of each size in ``ensembles``, named e.g.
    "rife-hdv3 x4") and the two baselines, all on the same frames in one run."""
    from matchcut.retime import baselines
    from matchcut.retime.blend import interpolate_display
    from matchcut.retime.samples import layered_frame, photo

    methods = {"50/50 blend": baselines.blend, "DIS flow + warp": baselines.dis_interpolate}
    for model in models:
        methods[model] = lambda a, b, t, m=model: interpolate_display(a, b, t, m, device)
        for n in ensembles:
            methods[f"{model} x{n}"] = lambda a, b, t, m=model, n=n: interpolate_display(a, b, t, m, device, ensemble=n)
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    for name in photos:
        img, front = photo(name), photo(foreground)
        for left, right in GAPS:
            f0, f1 = layered_frame(img, front, size, left), layered_frame(img, front, size, right)
            for k in range(left + 1, right):
                truth = layered_frame(img, front, size, k)
                t = (k - left) / (right - left)
                for method, fn in methods.items():
                    got = fn(f0, f1, t)
                    scores[method].append((psnr(got, truth), ssim(got, truth)))
    return {m: {"psnr": float(np.mean([s[0] for s in v])), "ssim": float(np.mean([s[1] for s in v])),
                "frames": len(v), "per_frame": v} for m, v in scores.items()}
