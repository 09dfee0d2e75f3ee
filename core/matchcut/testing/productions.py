"""A small production with holes in its edit, for coverage's tests and `make demo`: takes on disk and an .otio.

The footage is a slow pan across scikit-image's Middlebury motorcycle photo (its left view; 741x500, so the
footage at twice the delivery size is still a reduction of the photo's own detail, never an enlargement) moving
a whole pixel a frame at that size (so every frame is the photo's pixels, not resampled ones), framed two ways,
as a wide camera and a close camera rolling together would: ``sc01_wide`` is the whole
picture shrunk to the delivery size, ``sc01_close`` the middle half at one delivery pixel per original pixel (so a
2x punch-in on the wide has a true answer: the close). A second scene, ``sc02_wide``, is another photo. Frames
are scene-linear EXRs (the config's scene_linear), numbered from 1001, with the same frame numbers on both sc01
cameras.

The edit (``edit.otio``, 24 fps, one video track):

1. ``sc01_close`` frames 1001-1012, then a **gap** of 6 frames (the close's handles run on to 1040: extend);
2. ``sc02_wide`` frames 1001-1016 whose media stops at 1010 (**too short**: 6 frames have no media);
3. ``sc01_close_tk2``, an **offline** clip of 5 frames (its file is not on disk; the wide has those frames);
4. ``sc01_close`` frames 1020-1031, with frames 1024-1026 deleted from disk (**short** inside a shot: bridge).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 24.0
FIRST = 1001


@dataclass(frozen=True)
class Production:
    """Where the production lies: ``media`` (the footage folder), ``timeline`` (the .otio), the truth folder of
    frames the close camera has but the edit's media does not (``truth``), and its delivery size."""

    media: Path
    timeline: Path
    truth: Path
    size: tuple[int, int]


def _pan(photo: np.ndarray, frames: int, size: tuple[int, int], speed: float) -> list[np.ndarray]:
    """``frames`` views (height, width, 3) of ``photo`` sliding ``speed`` px a frame (a whole number: the photo's
    own pixels; else bilinear); the photo is reduced by area first only when it is larger than needed."""
    import cv2

    h, w = size
    ph, pw = photo.shape[:2]
    scale = max(h / ph, (w + speed * frames + 4) / pw)
    big = photo if scale >= 1 else cv2.resize(photo, (int(np.ceil(pw * scale)), int(np.ceil(ph * scale))),
                                              interpolation=cv2.INTER_AREA)
    out = []
    for k in range(frames):
        m = np.float32([[1, 0, -k * speed], [0, 1, -((big.shape[0] - h) // 2)]])
        out.append(cv2.warpAffine(big, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return out


def _write(folder: Path, name: str, frames: dict[int, np.ndarray]) -> str:
    from matchcut import color
    from matchcut.frames import write_plate

    pattern = folder / name / f"{name}.####.exr"
    for f, pixels in frames.items():
        write_plate(str(pattern).replace("####", f"{f:04d}"), pixels, colorspace=color.SCENE_LINEAR)
    return str(pattern)


def make_production(root: str | Path, *, size: tuple[int, int] = (96, 160), frames: int = 40) -> Production:
    """Write the production under ``root`` (media/, truth/, edit.otio); ``size`` (height, width) of delivery, both
    multiples of 4 (so the close camera's framing is whole pixels of the wide's)."""
    import cv2

    from matchcut.errors import SettingError

    if size[0] % 4 or size[1] % 4:
        raise SettingError("size", f"expected a height and width that are multiples of 4, got {size}")
    import opentimelineio as otio

    from matchcut.testing.photos import photo

    root = Path(root)
    media, truth = root / "media", root / "truth"
    h, w = size
    import skimage.data

    from matchcut import color

    left = skimage.data.stereo_motorcycle()[0][..., :3].astype(np.float32) / np.float32(255.0)
    linear = color.convert(np.ascontiguousarray(left), color.SRGB_DISPLAY, color.SCENE_LINEAR).astype(np.float32)
    views = _pan(linear, frames, (2 * h, 2 * w), 1.0)
    wide = {FIRST + k: cv2.resize(v, (w, h), interpolation=cv2.INTER_AREA) for k, v in enumerate(views)}
    close = {FIRST + k: np.ascontiguousarray(v[h // 2:h // 2 + h, w // 2:w // 2 + w]) for k, v in enumerate(views)}
    other = {FIRST + k: v for k, v in enumerate(_pan(photo("coffee", colorspace="scene_linear"), 10, size, 1.0))}
    _write(media, "sc01_wide", wide)
    bridge_gone = (1024, 1025, 1026)
    close_pattern = _write(media, "sc01_close", {f: v for f, v in close.items() if f not in bridge_gone})
    _write(truth, "sc01_close", {f: close[f] for f in bridge_gone})
    other_pattern = _write(media, "sc02_wide", other)

    def clip(name: str, pattern: str, first: int, count: int) -> otio.schema.Clip:
        folder, file_name = Path(pattern).parent, Path(pattern).name
        ref = otio.schema.ImageSequenceReference(
            target_url_base=folder.as_uri() + "/", name_prefix=file_name.split("####")[0],
            name_suffix=file_name.split("####")[1], start_frame=FIRST, frame_zero_padding=4, rate=RATE,
            available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(FIRST, RATE),
                                                    otio.opentime.RationalTime(frames, RATE)))
        return otio.schema.Clip(name=name, media_reference=ref, source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(first, RATE), otio.opentime.RationalTime(count, RATE)))

    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.append(clip("sc01_close", close_pattern, 1001, 12))
    track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(6, RATE)))
    track.append(clip("sc02_wide", other_pattern, 1001, 16))
    offline = otio.schema.Clip(name="sc01_close_tk2", media_reference=otio.schema.ExternalReference(
        target_url=(media / "sc01_close_tk2" / "sc01_close_tk2.mov").as_uri()),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(1013, RATE),
                                             otio.opentime.RationalTime(5, RATE)))
    track.append(offline)
    track.append(clip("sc01_close", close_pattern, 1020, 12))
    timeline = otio.schema.Timeline(name="coverage demo")
    timeline.tracks.append(track)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "edit.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return Production(media, path, truth, (w, h))
