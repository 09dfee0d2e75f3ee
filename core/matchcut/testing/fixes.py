"""Footage with a known correction on every frame: the shots the learn quality run trains and scores on.

No real video clip can be had offline (scikit-image's only clip is a 25x14 GIF), so the footage is real
photographs in known motion, as the retime quality run's is (``sequences.layered_frame``): a background photo
that pans and swirls, with a soft-edged ellipse cut from a second photo crossing it (its matte is
``sequences.layered_matte``). A correction is then applied by code to every frame, which makes the truth:

- ``"colour"``: a local grade inside the moving foreground's soft matte: warmer (gains GRADE_GAINS) and more
  saturated (GRADE_SATURATION about the luma), in scene-linear values; outside the matte the frame is untouched.
- ``"soften"``: the input is the footage softened (a Gaussian blur of SOFTEN_SIGMA px, plus a VEIL share of a
  VEIL_SIGMA px blur: a little glare), in scene-linear values; the target is the sharp footage.
- ``"paint-out"``: the input carries tracking-marker crosses taped to the background (they move with it, the
  foreground passes in front of them); the target is those crosses painted out by a known inpainting of the
  input: OpenCV's Telea (``cv2.inpaint``, radius INPAINT_RADIUS) over the markers' mask (its pixels, grown by one),
  per channel on the sRGB-encoded display values; every other pixel is the input's.

Frames are scene-linear (the config's scene_linear role: ACEScg in the built-in ACES config) rounded to half
floats, so what is written to EXR (``FixShot.write``) is exactly what is held in memory. Shots are FRAMES long
from FIRST; the corrected frames an artist would hand over are TRAINING, near the shot's start, so the frames
far from them (up to 25 frames on) show whether a fix drifts.

Split by source photo (``SHOTS``): the tuning half's photos are scikit-image's astronaut and coffee behind its
chelsea; the held-out half's are scikit-image's rocket and scikit-learn's china.jpg behind scikit-learn's
flower.jpg (``shotpairs.wheel_photo``: a pinned wheel, left out and said when it cannot be had). Every
function is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

KINDS = ("colour", "soften", "paint-out")
SPLITS = ("tune", "held-out")
#: (height, width) of every frame; frames per shot, the first frame's number, and the corrected frames.
SIZE = (256, 384)
FRAMES = 36
FIRST = 1001
TRAINING = (1001, 1004, 1007, 1010)
#: Frame k of a shot is ``layered_frame`` at time TIME_SCALE x k: a camera drift of about 1 px a frame and a swirl
#: that reaches about 12 px by the shot's end (at time 1 a frame, it tears the photo apart by frame 30).
TIME_SCALE = 0.35
#: The foreground's speed (px per shot frame): it stays in frame for FRAMES frames.
VELOCITY = (-4.0, 1.5)
#: (background, foreground) photos of each split's shot of each kind.
SHOTS = {
    "tune": {"colour": ("astronaut", "chelsea"), "soften": ("coffee", "chelsea"),
             "paint-out": ("astronaut", "chelsea")},
    "held-out": {"colour": ("rocket", "flower"), "soften": ("china", "flower"), "paint-out": ("china", "flower")},
}
#: The colour kind's grade (scene-linear): per-channel gains, then saturation about the Rec.709 luma.
GRADE_GAINS = (1.2, 1.0, 0.8)
GRADE_SATURATION = 1.3
#: The soften kind: the blur (px) and the share of a wider blur mixed in.
SOFTEN_SIGMA = 1.25
VEIL_SIGMA = 4.0
VEIL = 0.15
#: The paint-out kind: crosses every MARKER_SPACING px on the background, arms MARKER_ARM px, MARKER_WIDTH px
#: thick, tape-coloured (display values); the inpainting's radius.
MARKER_SPACING = 96
MARKER_ARM = 8
MARKER_WIDTH = 3
MARKER_COLOUR = (0.95, 0.9, 0.35)
INPAINT_RADIUS = 3
#: The background warp's largest travel per unit of time (px): warped_frame's pan (3, 1.5) plus the swirl (wobble 1).
_TRAVEL = (4.0, 2.5)
_MARGIN = 8  # warped_frame's margin


@dataclass
class FixShot:
    """One shot: frame number -> input, truth (scene-linear (H, W, 3) float32, half-float values) and region
    ((H, W) float32 in [0, 1]: where the correction acts; the soften kind's is the whole frame)."""

    name: str
    kind: str
    split: str
    background: str
    foreground: str
    training: tuple[int, ...]
    inputs: dict[int, np.ndarray] = field(default_factory=dict)
    truths: dict[int, np.ndarray] = field(default_factory=dict)
    regions: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def frames(self) -> list[int]:
        return sorted(self.inputs)

    @property
    def scored(self) -> list[int]:
        """The frames a fix is scored on: every frame but the training frames."""
        return [f for f in self.frames if f not in self.training]

    def write(self, folder: Path) -> tuple[str, str]:
        """Write every input frame and the training frames' truths (what the artist hands over) as EXRs (half,
        scene-linear) under ``folder``; returns the (input, target) patterns."""
        from matchcut.frames import write_plate

        stem = self.name.replace(" / ", "_").replace(" ", "-")
        plate, target = Path(folder) / "plate" / f"{stem}.####.exr", Path(folder) / "fix" / f"{stem}_fix.####.exr"
        for f in self.frames:
            write_plate(str(plate).replace("####", f"{f:04d}"), self.inputs[f], channels=("R", "G", "B"))
        for f in self.training:
            write_plate(str(target).replace("####", f"{f:04d}"), self.truths[f], channels=("R", "G", "B"))
        return str(plate), str(target)


def _half(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, np.float32).astype(np.float16).astype(np.float32))


def source_photo(name: str, log: Callable[[str], None] = lambda message: None) -> np.ndarray | None:
    """A source photo as display sRGB (H, W, 3) float32 in [0, 1]: scikit-image's, or a pinned wheel's
    (``shotpairs.WHEEL_PHOTOS``; None, and a log line, when the wheel cannot be had)."""
    from matchcut.testing.photos import photo
    from matchcut.testing.shotpairs import WHEEL_PHOTOS, wheel_photo

    if name in WHEEL_PHOTOS:
        return wheel_photo(name, log)
    return photo(name, colorspace="srgb")


def cover(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``img`` scaled (keeping its aspect) to cover ``size`` (height, width), then cropped to it at the centre."""
    import cv2

    h, w = img.shape[:2]
    scale = max(size[0] / h, size[1] / w)
    nh, nw = max(size[0], int(np.ceil(h * scale))), max(size[1], int(np.ceil(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    big = np.clip(cv2.resize(img, (nw, nh), interpolation=interp), 0, 1)
    y0, x0 = (nh - size[0]) // 2, (nw - size[1]) // 2
    return np.ascontiguousarray(big[y0:y0 + size[0], x0:x0 + size[1]], dtype=np.float32)


def background_size(size: tuple[int, int], frames: int) -> tuple[int, int]:
    """The background photo's size that the warp never leaves over ``frames`` frames (no mirrored border)."""
    time = frames * TIME_SCALE
    return (size[0] + _MARGIN + int(np.ceil(time * _TRAVEL[1])) + 4,
            size[1] + _MARGIN + int(np.ceil(time * _TRAVEL[0])) + 4)


def markers(shape: tuple[int, int]) -> np.ndarray:
    """The paint-out kind's crosses in the background's own coordinates: (H, W) float32 alpha in [0, 1]
    (anti-aliased), a cross every MARKER_SPACING px, the rows staggered."""
    import cv2

    h, w = shape
    canvas = np.zeros((h, w), np.uint8)
    for row, y in enumerate(range(MARKER_SPACING // 2, h, MARKER_SPACING)):
        for x in range(MARKER_SPACING // 2 + (row % 2) * MARKER_SPACING // 2, w, MARKER_SPACING):
            cv2.line(canvas, (x - MARKER_ARM, y - MARKER_ARM), (x + MARKER_ARM, y + MARKER_ARM), 255, MARKER_WIDTH,
                     cv2.LINE_AA)
            cv2.line(canvas, (x - MARKER_ARM, y + MARKER_ARM), (x + MARKER_ARM, y - MARKER_ARM), 255, MARKER_WIDTH,
                     cv2.LINE_AA)
    return canvas.astype(np.float32) / np.float32(255.0)


def grade(rgb: np.ndarray) -> np.ndarray:
    """The colour kind's grade on scene-linear (H, W, 3) float32: GRADE_GAINS, then GRADE_SATURATION."""
    from matchcut.color import REC709_LUMA

    warm = rgb * np.asarray(GRADE_GAINS, np.float32)
    luma = (warm @ np.asarray(REC709_LUMA, np.float32))[..., None]
    return np.ascontiguousarray(luma + np.float32(GRADE_SATURATION) * (warm - luma), dtype=np.float32)


def soften(rgb: np.ndarray) -> np.ndarray:
    """The soften kind's softening of scene-linear (H, W, 3) float32 (see SOFTEN_SIGMA)."""
    import cv2

    sharp = cv2.GaussianBlur(rgb, (0, 0), SOFTEN_SIGMA, borderType=cv2.BORDER_REFLECT)
    wide = cv2.GaussianBlur(rgb, (0, 0), VEIL_SIGMA, borderType=cv2.BORDER_REFLECT)
    return np.ascontiguousarray((1 - VEIL) * sharp + VEIL * wide, dtype=np.float32)


def paint_out(display: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Telea inpainting (radius INPAINT_RADIUS) of display (H, W, 3) float32 over ``mask`` (H, W) bool, per
    channel; pixels outside the mask are returned as they are."""
    import cv2

    m = mask.astype(np.uint8)
    # in 0..255: OpenCV's float inpainting gives garbage on values in 0..1 (its thresholds assume 8-bit levels)
    out = np.stack([cv2.inpaint(np.ascontiguousarray(display[..., c] * np.float32(255)), m, INPAINT_RADIUS,
                                cv2.INPAINT_TELEA) for c in range(3)], axis=-1) / np.float32(255)
    return np.ascontiguousarray(np.where(mask[..., None], out, display), dtype=np.float32)


def fix_shot(split: str, kind: str, *, size: tuple[int, int] = SIZE, frames: int = FRAMES,
             training: tuple[int, ...] = TRAINING, log: Callable[[str], None] = lambda message: None,
             ) -> FixShot | None:
    """The shot of ``kind`` (KINDS) in ``split`` (SPLITS) from SHOTS' photos, ``frames`` frames from FIRST of
    ``size`` (height, width); None (and a log line) when a wheel photo cannot be had."""
    import cv2

    from matchcut import color
    from matchcut.errors import SettingError
    from matchcut.testing.sequences import layered_frame, layered_matte, warped_frame

    if split not in SHOTS:
        raise SettingError("split", f"unknown split '{split}'", SPLITS)
    if kind not in KINDS:
        raise SettingError("kind", f"unknown correction '{kind}'", KINDS)
    back_name, front_name = SHOTS[split][kind]
    back, front = source_photo(back_name, log), source_photo(front_name, log)
    if back is None or front is None:
        log(f"learn shot {kind} / {back_name} left out: a source photo is missing")
        return None
    back = cover(back, background_size(size, frames))
    # the foreground photo is sampled about (80, 60) px from its corner plus the ellipse: the size covers it
    front = cover(front, (size[0] + 120, size[1] + 160))
    shot = FixShot(f"{kind} / {back_name}", kind, split, back_name, front_name, tuple(training))
    alpha = None
    if kind == "paint-out":
        alpha = markers(back.shape[:2])
        tape = np.asarray(MARKER_COLOUR, np.float32)
        back = np.ascontiguousarray(back * (1 - alpha[..., None]) + tape * alpha[..., None], dtype=np.float32)
        alpha = np.ascontiguousarray(np.repeat(alpha[..., None], 3, axis=2))

    def linear(display: np.ndarray) -> np.ndarray:
        return color.convert(np.ascontiguousarray(display, np.float32), color.SRGB_DISPLAY, color.SCENE_LINEAR)

    speed = (VELOCITY[0] / TIME_SCALE, VELOCITY[1] / TIME_SCALE)  # px per unit of time: VELOCITY per shot frame
    for f in range(FIRST, FIRST + frames):
        t = float(f - FIRST) * TIME_SCALE
        display = layered_frame(back, front, size, t, velocity=speed)
        matte = layered_matte(size, t, velocity=speed)
        if kind == "colour":
            src = linear(display)
            truth = src + matte[..., None] * (grade(src) - src)
            region = matte
        elif kind == "soften":
            sharp = linear(display)
            src, truth = soften(sharp), sharp
            region = np.ones(size, np.float32)
        else:
            seen = warped_frame(alpha, size, t, wobble=1.0)[..., 0] * (1 - matte)  # behind the foreground
            mask = cv2.dilate((seen > 0.02).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
            src, truth = linear(display), linear(paint_out(display, mask))
            region = mask.astype(np.float32)
        shot.inputs[f], shot.truths[f], shot.regions[f] = _half(src), _half(truth), region
    return shot


def evaluation_set(splits: tuple[str, ...] = SPLITS, kinds: tuple[str, ...] = KINDS, *,
                   size: tuple[int, int] = SIZE, frames: int = FRAMES, training: tuple[int, ...] = TRAINING,
                   log: Callable[[str], None] = lambda message: None) -> list[FixShot]:
    """Every shot of ``splits`` x ``kinds`` that can be had (a missing wheel photo leaves its shots out, said)."""
    shots = []
    for split in splits:
        for kind in kinds:
            shot = fix_shot(split, kind, size=size, frames=frames, training=training, log=log)
            if shot is not None:
                shots.append(shot)
    return shots
