"""Mode choice and the masks a job adds (garbage, holdout): what the matte tool decides before it keys."""

from __future__ import annotations

import numpy as np

from matchcut.errors import ShapeMismatchError

MODES = ("auto", "screen", "person")


def choose_mode(rgb: np.ndarray) -> tuple[str, str]:
    """auto mode: ("screen" or "person", why). "screen" only when a green or blue screen surrounds the
    subject (keying.surrounding_screen: its own flat colour on at least three sides of the border, sharply
    separated from the rest), so a deep blue sky over the top of a frame stays "person".

    rgb: scene-linear (H, W, 3) float32.
    """
    from matchcut.matte.keying import surrounding_screen

    screen, why = surrounding_screen(rgb)
    return ("screen" if screen else "person"), why


def mask_to_plate(mask: np.ndarray, height: int, width: int, where: str) -> tuple[np.ndarray, bool]:
    """(mask, resized): a single-channel mask (h, w) in [0, 1] brought to the plate's size.

    A mask of another resolution but the same aspect ratio (a proxy-size roto) is stretched to fit, and
    ``resized`` says so (the caller warns); another aspect ratio cannot be placed without guessing, so it is a
    ShapeMismatchError naming both sizes.
    """
    from matchcut.matte.fit import fit_image, same_aspect

    h, w = mask.shape[:2]
    if (h, w) == (height, width):
        return np.clip(mask, 0.0, 1.0), False
    if not same_aspect((h, w), (height, width)):
        raise ShapeMismatchError(f"{where}: the mask is {w}x{h}, the plate {width}x{height}; a mask of another "
                                 "aspect ratio cannot be placed (make it the plate's size or aspect)")
    return np.clip(fit_image(mask.astype(np.float32), height, width, "stretch"), 0.0, 1.0), True


def mask_channel(pixels: np.ndarray, channels: tuple[str, ...]) -> np.ndarray:
    """The matte channel of a mask plate: A when there is one, else the first channel; (H, W) float32."""
    index = channels.index("A") if "A" in channels else 0
    return np.asarray(pixels[..., index], np.float32)
