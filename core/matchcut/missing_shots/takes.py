"""The production's footage in the media folders: every sequence and movie in them, the takes of a clip's scene
by their names, and the wider take a punch-in is cut from, found by its picture.

Names: a take token (``_tk2``, ``-take3``, ``.t04``, ``_T1``) is taken off a name to give its *set-up*
(``sc12_close_tk2`` -> ``sc12_close``), and a framing word (wide, medium, close, ``ws``, ``ms``, ``cu``...) off that
to give its *scene* (``sc12``). Takes of the clip's scene are tried first (another set-up of the same scene is where
a wider take usually is), then every other clip in the folders. Picture: SIFT features of the clip's edge frame
matched into a frame of the candidate, a similarity transform by RANSAC; the candidate is wider when the clip's
frame lands inside it smaller (scale below ``WIDER``) on enough inliers, and the landed box is the clip's framing
in it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from matchcut.errors import InputError
from matchcut.missing_shots.reframe import Box

if TYPE_CHECKING:
    from matchcut.frames import FrameSource

#: Folder levels below each media folder that are searched.
DEPTH = 3
_TAKE = re.compile(r"[._\- ]?(?:take|tk|t)[._\- ]?\d+$", re.IGNORECASE)
_FRAMING = re.compile(r"[._\- ]?(?:wide|wider|medium|close|closeup|close-up|ecu|cu|mcu|ms|ws|mws|ls|els|insert)$",
                      re.IGNORECASE)
_FRAME_NUMBER = re.compile(r"[._]\d+$")
#: A candidate whose picture holds the clip's frame at most this scale (its box / its frame) is a wider take.
WIDER = 0.9
#: Least RANSAC inliers for a picture match.
MIN_INLIERS = 25


@dataclass(frozen=True)
class Footage:
    """One clip in the media folders: ``name`` (the file or sequence name without frame number and extension),
    ``pattern`` for open_source."""

    name: str
    pattern: str

    @property
    def setup(self) -> str:
        return setup_of(self.name)

    @property
    def scene(self) -> str:
        return scene_of(self.name)


def _stem(name: str) -> str:
    """A file or clip name without its picture extension and frame number (``sh010.1001.exr`` -> ``sh010``)."""
    from matchcut.frames.movies import MOVIE_EXTENSIONS
    from matchcut.timelines.media import IMAGE_EXTENSIONS

    stem, ext = os.path.splitext(name)
    if ext.lower() not in IMAGE_EXTENSIONS + MOVIE_EXTENSIONS:
        return name  # a clip name: "ZZ100_501.take_1" ends in a take, not a frame number
    return _FRAME_NUMBER.sub("", stem).rstrip("._-") or stem


def setup_of(name: str) -> str:
    """A clip name without its take token, case-folded: the set-up its takes share."""
    return _TAKE.sub("", _stem(name)).casefold()


def scene_of(name: str) -> str:
    """A set-up without its framing word: the scene the set-ups share."""
    return _FRAMING.sub("", setup_of(name)) or setup_of(name)


def index_media(folders: list[str | os.PathLike]) -> list[Footage]:
    """Every image sequence, still and movie under ``folders`` (DEPTH levels down), each once, by name.

    Raises InputError naming the folder when one does not exist or is not a folder."""
    from matchcut.frames import detect_sequence
    from matchcut.frames.movies import MOVIE_EXTENSIONS
    from matchcut.timelines.media import IMAGE_EXTENSIONS

    found: dict[str, Footage] = {}
    for folder in folders:
        base = Path(folder)
        if not base.is_dir():
            raise InputError(f"{base}: the media folder {'is not a folder' if base.exists() else 'does not exist'}")
        for root, dirs, files in os.walk(base):
            depth = len(Path(root).relative_to(base).parts)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < DEPTH else []
            seen_patterns: set[str] = set()
            for file_name in sorted(files):
                ext = os.path.splitext(file_name)[1].lower()
                path = os.path.join(root, file_name)
                if ext in MOVIE_EXTENSIONS:
                    pattern = path
                elif ext in IMAGE_EXTENSIONS:
                    seq = detect_sequence(path)
                    pattern = seq.pattern if seq is not None else path
                else:
                    continue
                if pattern in seen_patterns:
                    continue
                seen_patterns.add(pattern)
                found.setdefault(pattern, Footage(_stem(os.path.basename(pattern).replace("#", "")), pattern))
    return sorted(found.values(), key=lambda f: f.pattern)


def named(footage: list[Footage], name: str) -> list[Footage]:
    """The footage whose name is ``name`` (case-insensitive), e.g. an offline clip's media found again."""
    want = _stem(name).casefold()
    return [f for f in footage if f.name.casefold() == want]


def candidates(footage: list[Footage], name: str, own: str) -> list[Footage]:
    """Where to look for a wider take of clip ``name`` (its media ``own`` left out): its scene's takes first
    (other set-ups before its own set-up's other takes), then the rest of the folders."""
    setup, scene = setup_of(name), scene_of(name)
    others = [f for f in footage if os.path.abspath(f.pattern) != os.path.abspath(own)]

    def rank(f: Footage) -> int:
        if f.scene == scene and f.setup != setup:
            return 0
        if f.setup == setup:
            return 1
        return 2

    return sorted(others, key=rank)


@dataclass
class WiderTake:
    """A wider take and where the clip's framing lies in it: ``box`` in its frame's pixels (from frame
    ``matched`` of it against the clip's frame), ``inliers`` of the picture match, ``why`` how it was found."""

    footage: Footage
    source: FrameSource
    box: Box
    matched: int
    inliers: int
    why: str


def _gray(display: np.ndarray, longest: int = 640) -> tuple[np.ndarray, float]:
    import cv2

    scale = min(1.0, longest / max(display.shape[:2]))
    small = cv2.resize(display, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else display
    gray = cv2.cvtColor(np.clip(small * 255 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return gray, scale


def locate_framing(clip_display: np.ndarray, take_display: np.ndarray) -> tuple[Box, int] | None:
    """Where the clip's frame lies in the take's frame: (box in the take's pixels, RANSAC inliers), or None when
    the pictures do not match. Both (H, W, 3) display sRGB in [0, 1]; any sizes."""
    import cv2

    ga, sa = _gray(clip_display)
    gb, sb = _gray(take_display)
    sift = cv2.SIFT_create(nfeatures=3000)
    ka, da = sift.detectAndCompute(ga, None)
    kb, db = sift.detectAndCompute(gb, None)
    if da is None or db is None or len(ka) < MIN_INLIERS or len(kb) < MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(da, db, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    pa = np.float32([ka[m.queryIdx].pt for m in good]) / sa
    pb = np.float32([kb[m.trainIdx].pt for m in good]) / sb
    m, inl = cv2.estimateAffinePartial2D(pa, pb, method=cv2.RANSAC, ransacReprojThreshold=3.0 / sb)
    if m is None or inl is None or int(inl.sum()) < MIN_INLIERS:
        return None
    h, w = clip_display.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]) @ m[:, :2].T + m[:, 2]
    x0, y0 = corners.min(0)
    x1, y1 = corners.max(0)
    return Box(float(x0), float(y0), float(x1 - x0), float(y1 - y0)), int(inl.sum())


def refine_framing(clip_display: np.ndarray, take_display: np.ndarray, box: Box, rounds: int = 3) -> Box:
    """``box`` (in ``take_display``'s pixels) moved so that its crop, resized to the clip's size, lines up with the
    clip's frame by phase correlation: features place a box to a pixel or so, and a pixel of the wide take is
    ``1 / scale`` pixels of the punch-in. Both (H, W, 3) display sRGB in [0, 1]."""
    import cv2

    h, w = clip_display.shape[:2]
    target = cv2.cvtColor(np.ascontiguousarray(clip_display, np.float32), cv2.COLOR_RGB2GRAY).astype(np.float64)
    window = cv2.createHanningWindow((w, h), cv2.CV_64F)
    for _ in range(rounds):
        x0, y0, x1, y1 = box.pixels(take_display.shape[1], take_display.shape[0])
        crop = cv2.resize(np.ascontiguousarray(take_display[y0:y1, x0:x1], np.float32), (w, h),
                          interpolation=cv2.INTER_LANCZOS4)
        gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float64)
        (dx, dy), response = cv2.phaseCorrelate(target, gray, window)
        if response < 0.05 or max(abs(dx), abs(dy)) > 0.1 * w:
            break
        step_x, step_y = dx * (x1 - x0) / w, dy * (y1 - y0) / h
        if abs(step_x) < 0.25 and abs(step_y) < 0.25:
            break
        box = Box(x0 + step_x, y0 + step_y, box.w, box.h)
    return box


def find_wider_take(clip_display: np.ndarray, clip_name: str, own_pattern: str, footage: list[Footage],
                    frames_wanted: list[int], *, limit: int = 12) -> tuple[WiderTake | None, str]:
    """The first candidate (``candidates`` order, at most ``limit`` looked at) whose picture holds the clip's
    frame ``clip_display`` (display sRGB) smaller than WIDER of its own frame, inside it; (None, why) when none.

    The candidate's frame looked at: the first of ``frames_wanted`` when it has it (the clip's own frame number:
    a second camera rolling with the same frame numbers), else its middle frame."""
    from matchcut.errors import MatchcutError
    from matchcut.frames import open_source
    from matchcut.missing_shots.shots import thumbnail

    looked: list[str] = []
    for cand in candidates(footage, clip_name, own_pattern)[:limit]:
        try:
            source = open_source(cand.pattern)
        except MatchcutError:
            continue
        if not source.frames:
            continue
        frame = frames_wanted[0] if frames_wanted and frames_wanted[0] in set(source.frames) else \
            source.frames[len(source.frames) // 2]
        plate = source.read(frame)
        take = thumbnail(plate, 960)
        found = locate_framing(clip_display, take)
        looked.append(cand.name)
        if found is None:
            continue
        box, inliers = found
        box = refine_framing(clip_display, take, box)
        scale = take.shape[1] / plate.width
        full = Box(box.x / scale, box.y / scale, box.w / scale, box.h / scale)
        inside = full.x > -0.02 * plate.width and full.y > -0.02 * plate.height and \
            full.x + full.w < 1.02 * plate.width and full.y + full.h < 1.02 * plate.height
        if full.w / plate.width <= WIDER and inside:
            how = "same scene" if cand.scene == scene_of(clip_name) else "picture match"
            return WiderTake(cand, source, full, frame, inliers,
                             f"{cand.name} ({how}): the clip's framing is {100 * full.w / plate.width:.0f} % of its "
                             f"width, {inliers} features agree"), ""
    if not looked:
        return None, "no other clip in the media folders to cut a punch-in from"
    shown = ", ".join(looked[:4]) + (f" and {len(looked) - 4} more" if len(looked) > 4 else "")
    return None, f"no wider take of '{clip_name}': looked at {shown}; none holds its picture in a wider framing"
