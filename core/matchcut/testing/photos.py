"""The sample photos: scikit-image's images as float32 (H, W, 3), in the colour space the caller names.

Every caller says which space it wants (there is no default):

- ``"srgb"``: display values, sRGB-encoded Rec.709 in [0, 1] (the 8-bit file's values / 255);
- ``"linear"``: scene-linear Rec.709 (OCIO's "Linear Rec.709 (sRGB)"), the sRGB values decoded;
- ``"scene_linear"``: the OCIO config's scene_linear role (ACEScg in the built-in ACES config).
"""

from __future__ import annotations

import numpy as np

#: The OCIO colour space of ``colorspace="linear"``.
LINEAR_REC709 = "Linear Rec.709 (sRGB)"
COLORSPACES = ("srgb", "linear", "scene_linear")


def photo(name: str, *, colorspace: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """scikit-image's photo ``name`` ("astronaut", "coffee", "chelsea", "rocket", "camera", ...) as float32
    (H, W, 3) in ``colorspace`` (see COLORSPACES); grey photos repeated to three channels, alpha dropped.

    ``size``: (height, width) to resize to (OpenCV INTER_AREA, on the display values, before any
    conversion); None keeps the photo's own size.
    """
    import skimage.data

    from matchcut import color
    from matchcut.errors import SettingError

    targets = {"srgb": None, "linear": LINEAR_REC709, "scene_linear": color.SCENE_LINEAR}
    if colorspace not in targets:
        raise SettingError("colorspace", f"photo('{name}'): unknown colour space '{colorspace}'", COLORSPACES)
    img = getattr(skimage.data, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    display = np.ascontiguousarray(img[..., :3], dtype=np.float32) / np.float32(255.0)
    if size is not None:
        import cv2

        display = np.ascontiguousarray(cv2.resize(display, (size[1], size[0]), interpolation=cv2.INTER_AREA))
    if targets[colorspace] is None:
        return display
    return color.convert(display, color.SRGB_DISPLAY, targets[colorspace]).astype(np.float32)
