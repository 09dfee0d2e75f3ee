"""Shot pairs with a known answer: a camera change, a lighting change, noise and planted continuity changes.

Photos in scene-linear Rec.709 (``photos.photo(..., colorspace="linear")``); detections scored by
``metrics.score_detections``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matchcut.color import REC709_LUMA
from matchcut.testing.metrics import score_detections
from matchcut.testing.photos import LINEAR_REC709, photo

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "camera", "retina", "cat")
CHANGES = ("paste", "remove", "move", "recolour")
QUALITY_SIZE = (288, 384)  # (H, W) of the quality pairs: docs/quality.md's figures and the quality test


@dataclass
class Pair:
    """A (reference) and B (the later shot), linear Rec.709 (H, W, 3) float32, and the planted boxes in B."""

    a: np.ndarray
    b: np.ndarray
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # (x, y, w, h) in B's pixels
    kinds: list[str] = field(default_factory=list)
    homography: np.ndarray | None = None  # A pixels -> B pixels


def _textured_box(image: np.ndarray, size: int, rng: np.random.Generator, avoid: list, tries: int | None = None,
                  allowed: np.ndarray | None = None):
    """A box of side ``size`` where the picture has detail (an object, not a blank wall), away from others;
    with ``allowed`` ((H, W) bool), one that lies (97 % or more) where it is True."""
    import cv2

    tries = tries or (60 if allowed is None else 600)
    luma = image.mean(-1)
    gx, gy = cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1)
    energy = np.sqrt(gx * gx + gy * gy)
    h, w = luma.shape
    best, best_e = None, -1.0
    m = h // 10
    for _ in range(tries):
        x, y = int(rng.integers(m, w - size - m)), int(rng.integers(m, h - size - m))
        if any(abs(x - ax) < size + aw and abs(y - ay) < size + ah for ax, ay, aw, ah in avoid):
            continue
        if allowed is not None and allowed[y:y + size, x:x + size].mean() < 0.97:
            continue
        e = float(energy[y:y + size, x:x + size].mean())
        if e > best_e:
            best, best_e = (x, y, size, size), e
    return best


def make_pair(name: str, *, seed: int = 0, changes: tuple[str, ...] = CHANGES, size: tuple[int, int] = (384, 512),
              noise: float = 0.01, light: float = 1.3, jpeg: int = 0) -> Pair:
    """A pair from photo ``name``: A a crop of the photo, B the photo seen from a moved camera (homography)
    and cropped, relit (exposure ``light`` and a white-balance shift), noisy, with ``changes`` planted.

    ``size``: (H, W) of both shots; ``jpeg``: a JPEG quality (1-100) to compress both through, 0 for none.
    Everything is seeded: the same arguments give the same pair.
    """
    import cv2

    rng = np.random.default_rng(seed)
    src = photo(name, colorspace="linear")
    big = cv2.resize(src, (int(size[1] * 1.4), int(size[0] * 1.4)), interpolation=cv2.INTER_AREA)
    bh, bw = big.shape[:2]
    h, w = size
    ox, oy = (bw - w) // 2, (bh - h) // 2
    a = big[oy:oy + h, ox:ox + w].copy()
    # Camera change: a small rotation, zoom, shift and keystone, about the frame centre.
    ang = np.deg2rad(rng.uniform(-4, 4))
    z = rng.uniform(1.03, 1.12)
    c, s = np.cos(ang) * z, np.sin(ang) * z
    cx, cy = bw / 2, bh / 2
    hom = np.array([[c, -s, cx - c * cx + s * cy + rng.uniform(-12, 12)],
                    [s, c, cy - s * cx - c * cy + rng.uniform(-12, 12)],
                    [rng.uniform(-4e-5, 4e-5), rng.uniform(-4e-5, 4e-5), 1.0]])
    warped = cv2.warpPerspective(big, hom, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    b = warped[oy:oy + h, ox:ox + w].copy()
    shift = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1.0]])
    back = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1.0]])
    hom_ab = shift @ hom @ back
    pair = Pair(a, b, homography=hom_ab)
    side = max(24, min(h, w) // 7)
    for kind in changes:
        plant(pair, kind, side, rng)
    # Lighting: exposure and a white-balance shift; then noise (grain), in linear light.
    pair.b = pair.b * light * np.array([1.05, 1.0, 0.9], np.float32)
    pair.b = pair.b + rng.normal(0, noise, pair.b.shape).astype(np.float32) * np.sqrt(np.maximum(pair.b, 0) + 0.02)
    pair.a = pair.a + rng.normal(0, noise, pair.a.shape).astype(np.float32) * np.sqrt(np.maximum(pair.a, 0) + 0.02)
    pair.a, pair.b = (np.maximum(x, 0).astype(np.float32) for x in (pair.a, pair.b))
    if jpeg:
        pair.a, pair.b = (jpeg_round_trip(x, jpeg) for x in (pair.a, pair.b))
    return pair


def jpeg_round_trip(linear: np.ndarray, quality: int) -> np.ndarray:
    """A round trip through 8-bit sRGB JPEG at ``quality``: blocking and ringing, as a delivery would have."""
    import cv2

    from matchcut.color import SRGB_DISPLAY, convert

    disp = np.clip(convert(linear, LINEAR_REC709, SRGB_DISPLAY), 0, 1)
    ok, buf = cv2.imencode(".jpg", (disp[..., ::-1] * 255 + 0.5).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    back = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0
    return convert(np.ascontiguousarray(back), SRGB_DISPLAY, LINEAR_REC709).astype(np.float32)


def plant(pair: Pair, kind: str, side: int, rng: np.random.Generator, *, allowed: np.ndarray | None = None) -> None:
    """Plant one change of ``kind`` (CHANGES) in ``pair.b``, a box of side ``side`` px where B has detail, away
    from the boxes already planted, inside ``allowed`` ((H, W) bool; 97 %) when given; its box (two for a
    move: from, to) and kind are appended to the pair's. Nothing is planted when no such box is found."""
    b = pair.b
    box = _textured_box(b, side, rng, pair.boxes, allowed=allowed)
    if box is None:
        return
    x, y, bw, bh = box
    if kind == "paste":  # a prop that was not there: a piece of another photo
        other = photo(str(rng.choice(PHOTOS[:5])), colorspace="linear")
        oy, ox = int(rng.integers(0, other.shape[0] - bh)), int(rng.integers(0, other.shape[1] - bw))
        b[y:y + bh, x:x + bw] = other[oy:oy + bh, ox:ox + bw]
    elif kind == "remove":  # a prop taken away: the area painted in from its surroundings
        _inpaint(pair, box)
    elif kind == "move":  # a prop moved: cut here, inpainted, pasted there
        target = _textured_box(b, side, rng, pair.boxes + [box], allowed=allowed)
        if target is None:
            return
        piece = b[y:y + bh, x:x + bw].copy()
        _inpaint(pair, box)
        tx, ty = target[:2]
        b[ty:ty + bh, tx:tx + bw] = piece
        pair.boxes += [box, target]
        pair.kinds += ["move (from)", "move (to)"]
        return
    elif kind == "recolour":  # a jacket in another colour: the hue turned, brightness kept
        patch = b[y:y + bh, x:x + bw]
        luma = patch @ REC709_LUMA
        turned = patch[..., [2, 0, 1]] * 1.0
        tl = turned @ REC709_LUMA
        b[y:y + bh, x:x + bw] = turned * (luma / np.maximum(tl, 1e-4))[..., None] * 0.6 + \
            np.array([0.5, 0.1, 0.05], np.float32) * luma[..., None] * 1.2
    pair.boxes.append(box)
    pair.kinds.append(kind)


def _inpaint(pair: Pair, box: tuple[int, int, int, int]) -> None:
    import cv2

    from matchcut.color import SRGB_DISPLAY, convert

    x, y, bw, bh = box
    disp = np.clip(convert(pair.b, LINEAR_REC709, SRGB_DISPLAY), 0, 1)
    mask = np.zeros(pair.b.shape[:2], np.uint8)
    mask[y:y + bh, x:x + bw] = 255
    filled = cv2.inpaint((disp * 255).astype(np.uint8), mask, 5, cv2.INPAINT_TELEA).astype(np.float32) / 255.0
    lin = convert(np.ascontiguousarray(filled), SRGB_DISPLAY, LINEAR_REC709)
    pair.b[y:y + bh, x:x + bw] = lin[y:y + bh, x:x + bw]


@dataclass
class Quality:
    """Detection against the known answer over one set of pairs (counts; the rates are properties)."""

    jpeg: int  # the JPEG quality both shots went through, 0 for none
    pairs: int
    planted: int  # planted boxes over all pairs
    found: int  # planted boxes some detection overlaps with IoU >= 0.3
    false_positives: int  # detections on the planted pairs that overlap no planted box
    false_positives_clean: int  # detections on the same pairs made without planted changes
    baseline_found: int  # the same for the SSIM baseline on the same aligned, normalised pair
    baseline_false_positives: int
    baseline_false_positives_clean: int
    detections: int = 0  # all detections on the planted pairs
    baseline_detections: int = 0

    @property
    def recall(self) -> float:
        return self.found / max(1, self.planted)

    @property
    def precision(self) -> float:
        return (self.detections - self.false_positives) / max(1, self.detections)

    @property
    def baseline_recall(self) -> float:
        return self.baseline_found / max(1, self.planted)

    @property
    def baseline_precision(self) -> float:
        return (self.baseline_detections - self.baseline_false_positives) / max(1, self.baseline_detections)

    def summary(self) -> str:
        case = f"JPEG q{self.jpeg}" if self.jpeg else "no compression"
        return (f"{case}: recall {self.recall:.3f} ({self.found}/{self.planted}), precision {self.precision:.3f}, "
                f"false positives {self.false_positives} on planted pairs, {self.false_positives_clean} on clean "
                f"pairs ({self.pairs} each); SSIM baseline recall {self.baseline_recall:.3f} "
                f"({self.baseline_found}/{self.planted}), precision {self.baseline_precision:.3f}, false positives "
                f"{self.baseline_false_positives} / {self.baseline_false_positives_clean}")


def measure_quality(jpeg: int = 0, photos: tuple[str, ...] = PHOTOS, size: tuple[int, int] = QUALITY_SIZE,
                    seed: int = 0) -> Quality:
    """Recall, precision and false positives of ``compare`` on the planted pairs of ``photos`` (the i-th with
    seed ``seed + i``), and on the same pairs without planted changes, with the SSIM baseline on the same
    aligned pairs.

    ``jpeg``: both shots of every pair round-tripped through 8-bit JPEG at this quality (0: none).
    """
    from matchcut.continuity.compare import compare
    from matchcut.continuity.detect import ssim_regions

    q = Quality(jpeg, len(photos), 0, 0, 0, 0, 0, 0, 0)
    for i, name in enumerate(photos):
        pair = make_pair(name, seed=seed + i, size=size, jpeg=jpeg)
        c = compare(pair.a, pair.b, person=False)
        # A move is one region: its box where the prop is, its origin where it was (both planted boxes).
        boxes = [r.box for r in c.regions] + [r.origin for r in c.regions if r.origin is not None]
        found, fp, missed = score_detections(boxes, pair.boxes)
        q.planted += found + missed
        q.found += found
        q.false_positives += fp
        q.detections += len(boxes)
        boxes = ssim_regions(c.aligned_a, c.display_b, c.valid)
        found, fp, _ = score_detections(boxes, pair.boxes)
        q.baseline_found += found
        q.baseline_false_positives += fp
        q.baseline_detections += len(boxes)
        clean = make_pair(name, seed=seed + i, size=size, changes=(), jpeg=jpeg)
        cc = compare(clean.a, clean.b, person=False)
        q.false_positives_clean += len(cc.regions)
        q.baseline_false_positives_clean += len(ssim_regions(cc.aligned_a, cc.display_b, cc.valid))
    return q


def main(argv: list[str] | None = None) -> None:
    """``python -m matchcut.testing.planted [--seed N] [QUALITY ...]``: the quality figures of
    docs/quality.md, one line for each JPEG quality given (0: none; default 0 85 70). ``--seed``: the first
    pair's seed (default 0, the set the quality test holds; 100 gives the held-out set)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m matchcut.testing.planted", description=main.__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("quality", type=int, nargs="*", default=[0, 85, 70])
    args = parser.parse_args(argv)
    for jpeg in args.quality:
        print(measure_quality(jpeg, seed=args.seed).summary(), flush=True)


if __name__ == "__main__":
    main()
