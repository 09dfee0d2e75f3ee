"""Helpers every demo step uses: run the CLI as a user would, show plates (scores: matchcut.testing.metrics)."""

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

