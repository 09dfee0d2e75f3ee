"""Helpers every demo step uses: run the CLI as a user would, show plates, score against a known answer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import numpy as np


def run_cli(args: list[str], log: Callable[[str], None]) -> subprocess.CompletedProcess:
    """Run `matchcut ARGS` in a subprocess; raise with its one-line error when it fails."""
    from matchcut.errors import MatchcutError

    log("$ matchcut " + " ".join(args))
    proc = subprocess.run([sys.executable, "-m", "matchcut", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise MatchcutError(f"demo step `matchcut {' '.join(args)}` failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return proc


def display(pixels: np.ndarray, colorspace: str) -> np.ndarray:
    """Plate pixels in `colorspace` -> sRGB-encoded display values (H, W, 3) for the report."""
    from matchcut import color

    return color.convert(np.ascontiguousarray(pixels[..., :3]), colorspace, color.SRGB_DISPLAY)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two display-referred images in [0, 1] (clipped)."""
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))
