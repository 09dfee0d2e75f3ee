"""The training pairs of a learned fix: original and corrected frames, an optional matte, where they differ.

Pixels are float32 (H, W, 3) RGB in the plates' own colour space (one space for all, the input's); a matte is
(H, W) in [0, 1]. Where a matte is given the fix is only inside it: the target becomes the input outside
(``input + matte x (target - input)``), so the model learns to leave the rest alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matchcut.errors import InputError

#: A target whose largest change from its input is below this (in the plate's values) is identical to it.
IDENTICAL = 1e-6
#: With this many usable pairs or more, one whole pair is held out to measure the fix (else a band of each).
HOLD_OUT_PAIRS = 3
#: The band of each frame held out when there are fewer pairs: this fraction of the width, on the right.
HOLD_OUT_BAND = 0.2


@dataclass
class Pair:
    """One training pair: frame number, input and target (H, W, 3) float32, the matte (H, W) or None."""

    frame: int
    input: np.ndarray
    target: np.ndarray
    matte: np.ndarray | None = None

    @property
    def goal(self) -> np.ndarray:
        """The target the model learns: the artist's frame inside the matte, the input outside it."""
        if self.matte is None:
            return self.target
        return self.input + self.matte[..., None] * (self.target - self.input)


def usable_pairs(pairs: list[Pair], where: str) -> tuple[list[Pair], list[str]]:
    """The pairs that teach something, and one warning per pair left out (its target is its input).

    Raises InputError naming ``where`` (the target's pattern) when no pair is left: nothing to learn.
    """
    kept, notes = [], []
    for pair in pairs:
        change = float(np.max(np.abs(pair.goal - pair.input))) if pair.input.size else 0.0
        if change <= IDENTICAL:
            inside = " inside the matte" if pair.matte is not None else ""
            notes.append(f"frame {pair.frame}: the target is identical to its input{inside}; nothing to learn "
                         "from it, left out")
        else:
            kept.append(pair)
    if not kept:
        frames = ", ".join(str(p.frame) for p in pairs) or "none"
        raise InputError(f"{where}: every target frame ({frames}) is identical to its input"
                         f"{' inside the matte' if any(p.matte is not None for p in pairs) else ''}: there is "
                         "nothing to learn; give frames the artist corrected")
    return kept, notes


def split_pairs(pairs: list[Pair]) -> tuple[list[Pair], list[Pair], str]:
    """(training pairs, held-out pairs, how) for measuring the fix on what training never sees.

    With HOLD_OUT_PAIRS pairs or more, the pair in the middle of the range is held out whole (the training
    pairs still span the shot); with fewer, the right HOLD_OUT_BAND of every frame is held out and training
    crops never reach it.
    """
    if len(pairs) >= HOLD_OUT_PAIRS:
        ordered = sorted(pairs, key=lambda p: p.frame)
        middle = ordered[len(ordered) // 2]
        return [p for p in ordered if p is not middle], [middle], f"frame {middle.frame} held out"
    train, held = [], []
    for p in pairs:
        cut = band_start(p.input.shape[1])
        matte = None if p.matte is None else p.matte[:, :cut]
        held_matte = None if p.matte is None else p.matte[:, cut:]
        train.append(Pair(p.frame, p.input[:, :cut], p.target[:, :cut], matte))
        held.append(Pair(p.frame, p.input[:, cut:], p.target[:, cut:], held_matte))
    return train, held, f"the right {HOLD_OUT_BAND:.0%} of each frame held out"


def band_start(width: int) -> int:
    """The first column of the held-out band of a frame ``width`` wide."""
    return int(round(width * (1.0 - HOLD_OUT_BAND)))


def difference_map(pair: Pair, shaped: bool) -> np.ndarray:
    """(H, W) float32: how much the fix changes each pixel (the largest channel change, in the working values),
    blurred over 9 px so crops land around a change, not only on it; where training looks most."""
    import cv2

    from matchcut.learning.network import shape

    a, b = pair.input, pair.goal
    if shaped:
        a, b = shape(a), shape(b)
    change = np.max(np.abs(b - a), axis=-1).astype(np.float32)
    return cv2.blur(change, (9, 9))
