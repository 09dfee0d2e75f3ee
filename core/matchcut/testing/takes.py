"""Continuity takes that look like production: scenes with depth seen from two camera positions, with the truth.

A pair is take A (the reference) and take B (the later take, from another camera position, maybe under another
light), the continuity changes made between them (a prop added, removed, moved or recoloured) as boxes in B's
pixels, and, where it is known, which of B's pixels A cannot see (occluded, disoccluded, outside A's frame):
the pixels that are *not comparable*. Every image is linear Rec.709 (H, W, 3) float32; pairs are deterministic.
Sources:

- blender: small sets rendered with Cycles in real Blender (``blender_takes.bpy``, bpy 5.0.1 in .venv-blender): a
  floor, a back wall and props (boxes, cylinders, spheres) at 3.5 to 10 m from the camera, textured with
  scikit-image's photos (public domain / CC0, in the installed package). Take B is rendered from a camera a small
  (0.2 m), medium (0.5 m, another lens) or large (1 m, turned to the same target) step from A's, or during a
  short camera move (a dolly, motion-blurred over the shutter), under the same or the other light (``day``,
  ``dusk``); the props are changed between the renders. The truth is rendered too: every render carries its
  object-index and depth passes, and B's camera renders A's props once more (the *clean* take: where a removed
  prop would be, and a pair with no change at all). B's not-comparable pixels are those whose point, from
  that render's depth and the known cameras, falls outside A's frame or behind what A's depth shows there.
  Both takes then get sensor noise, and half the pairs an 8-bit JPEG round trip at quality 85.
- stereo: scikit-image's Middlebury 2014 motorcycle pair (Scharstein et al., GCPR 2014; in the installed
  package), real parallax of 7 to 60 px over 741 px, with its ground-truth disparity: the not-comparable pixels
  are those the other view does not see (a z-buffered forward warp of the disparity) or has no truth for;
  changes are planted (a prop pasted from another photo, one removed by inpainting, one moved, one
  recoloured) where both views see the scene, with a light change and noise.
- planted: today's pairs (``planted.make_pair``: a photo under a homography, relit, noisy, four planted
  changes), the kind the tool was tuned on before parallax.

Split (``SPLITS``): tune (Blender layouts 1 and 2; stereo left to right, seeds 0-3; planted seeds 0-7) and
held-out (Blender layouts 3 and 4, other props, photos and floor; stereo right to left, seeds 100-103; planted
seeds 100-107). No threshold is chosen on the held-out half. Scored by ``metrics.score_changes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matchcut.testing.photos import LINEAR_REC709
from matchcut.testing.take_renders import (LAYOUTS, TAKE_SIZE, bounding_box, cameras, cast_by_changes, layout,
                                           lights, not_comparable_truth, read_render, render_layout)

SPLITS = ("tune", "held-out")
SOURCES = ("blender", "stereo", "planted")
KINDS = ("added", "removed", "moved", "recoloured")
#: A change whose box covers less of B's frame than this (hidden behind another prop, mostly outside the
#: frame) is not expected to be found: a detection of it is neither a find nor a false alarm.
MIN_CHANGE = 0.002


@dataclass
class Change:
    """One continuity change in B's pixels: ``box`` (x, y, w, h) where it is in B (for a removal, where the prop
    would be), ``origin`` for a move (where it was, in B's frame), else None; ``kind`` one of KINDS."""

    kind: str
    box: tuple[int, int, int, int]
    origin: tuple[int, int, int, int] | None = None


@dataclass
class TakePair:
    """A pair with its truth. a, b, clean_b: linear Rec.709 (H, W, 3) float32 (``clean_b``: B with no change,
    for the false alarms of a pair with nothing to find). ``not_comparable``: (H, W) bool in B's frame, True
    where A cannot see B's scene (None: unknown). ``ignore``: boxes of changes too small or too hidden to be
    expected (see MIN_CHANGE), and of what a changed prop casts on the rest (its shadow: cast_by_changes)."""

    name: str
    source: str
    split: str
    kind: str  # the camera: "small step", "medium step", "large step", "camera move", "stereo", "homography"
    a: np.ndarray
    b: np.ndarray
    changes: list[Change]
    clean_b: np.ndarray | None = None
    not_comparable: np.ndarray | None = None
    ignore: list[tuple[int, int, int, int]] = field(default_factory=list)
    notes: str = ""


def noisy(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Signal-dependent sensor noise in linear light (as planted.make_pair adds), clipped at 0."""
    grain = rng.normal(0, sigma, image.shape).astype(np.float32) * np.sqrt(np.maximum(image, 0) + 0.02)
    return np.maximum(image + grain, 0).astype(np.float32)


def blender_pairs(number: int, log=lambda message: None) -> list[TakePair]:
    """Layout ``number``'s eight pairs (four camera steps, two change sets), with the truth; [] without Blender."""
    from matchcut.testing.planted import jpeg_round_trip

    folder = render_layout(number, log)
    if folder is None:
        return []
    lay = layout(number)
    take_a = read_render(folder, "a")
    total = TAKE_SIZE[0] * TAKE_SIZE[1]
    out = []
    for i, (step, _, _) in enumerate(cameras(number)):
        key = step.replace(" ", "_")
        clean = read_render(folder, f"{key}_clean")
        hidden = not_comparable_truth(clean, take_a)
        for s in range(len(lay["sets"])):
            take_b = read_render(folder, f"{key}_set{s + 1}")
            changes, ignore = [], []
            for name, kind in lay["kinds"][s].items():
                k = next(p["index"] for p in lay["props"] if p["name"] == name)
                now, before = take_b.index == k, clean.index == k
                box = bounding_box(now if kind in ("added", "moved", "recoloured") else before)
                origin = bounding_box(before) if kind == "moved" else None
                if box is None or box[2] * box[3] < MIN_CHANGE * total or \
                        (now if kind != "removed" else before).sum() < 0.5 * MIN_CHANGE * total:
                    if box is not None:
                        ignore.append(box)
                    if origin is not None:
                        ignore.append(origin)
                    continue
                if origin is not None and origin[2] * origin[3] < MIN_CHANGE * total:
                    ignore.append(origin)
                    origin = None
                changes.append(Change(kind, box, origin))
            ignore += cast_by_changes(take_b, clean, [k for k in (next(p["index"] for p in lay["props"]
                                                                        if p["name"] == name)
                                                                   for name in lay["kinds"][s])])
            rng = np.random.default_rng(7919 * number + 97 * i + s)
            a = noisy(take_a.rgb, 0.006, rng)
            b = noisy(take_b.rgb, 0.006, rng)
            clean_b = noisy(clean.rgb, 0.006, rng)
            jpeg = 85 if (i + s) % 2 else 0
            if jpeg:
                a, b, clean_b = (jpeg_round_trip(x, jpeg) for x in (a, b, clean_b))
            out.append(TakePair(f"blender {number} / {step} / set {s + 1}", "blender", LAYOUTS[number], step, a, b,
                                changes, clean_b, hidden, ignore,
                                notes=f"light {lights(number)[0]} / {lights(number)[1][i]}" +
                                (f", JPEG q{jpeg}" if jpeg else "")))
    return out


def stereo_visibility() -> tuple[np.ndarray, np.ndarray]:
    """Which pixels of each motorcycle view the other view sees: (left, right), (H, W) bool each.

    The disparity is the left view's (left x matches right x - d); a left pixel is seen by the right view when it
    wins the z-buffer (the largest disparity, nearest) where it lands; a right pixel is seen when some left
    pixel lands on it. Pixels without truth (NaN) count as not seen.
    """
    import skimage.data

    _, _, disp = skimage.data.stereo_motorcycle()
    h, w = disp.shape
    ok = np.isfinite(disp)
    d = np.where(ok, disp, 0.0)
    xr = np.rint(np.arange(w)[None, :] - d).astype(np.int64)
    land = ok & (xr >= 0) & (xr < w)
    best = np.full((h, w), -np.inf)
    rows = np.repeat(np.arange(h)[:, None], w, 1)
    np.maximum.at(best, (rows[land], xr[land]), d[land])
    seen_right = np.isfinite(best)
    winner = np.zeros((h, w), bool)
    winner[land] = d[land] >= best[rows[land], xr[land]] - 0.5
    # A right pixel between two landed ones (the warp's rounding) is seen too: close one-pixel holes.
    import cv2

    seen_right = cv2.morphologyEx(seen_right.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((1, 3), np.uint8)) > 0
    return winner, seen_right


def stereo_pairs(split: str) -> list[TakePair]:
    """Four motorcycle pairs per split: tune A left / B right, seeds 0-3; held-out A right / B left, seeds
    100-103. Each: four planted changes where both views see the scene, a light change, noise, and for odd
    seeds an 8-bit JPEG round trip at quality 85."""
    import skimage.data

    from matchcut.color import SRGB_DISPLAY, convert
    from matchcut.testing.planted import Pair, jpeg_round_trip, plant

    left, right, _ = skimage.data.stereo_motorcycle()
    seen_left, seen_right = stereo_visibility()

    def lin(img):
        return convert(np.ascontiguousarray(img, np.float32) / 255.0, SRGB_DISPLAY, LINEAR_REC709).astype(np.float32)

    if split == "tune":
        a0, b0, seen_b, seeds = lin(left), lin(right), seen_right, range(0, 4)
    else:
        a0, b0, seen_b, seeds = lin(right), lin(left), seen_left, range(100, 104)
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        pair = Pair(a0.copy(), b0.copy())
        side = max(28, min(b0.shape[:2]) // 10)
        for kind in ("paste", "remove", "move", "recolour"):
            plant(pair, kind, side, rng, allowed=seen_b)
        clean = b0.copy()
        gain = np.array([1.05, 1.0, 0.9], np.float32) * float(rng.uniform(0.75, 1.3))
        b, clean = pair.b * gain, clean * gain
        a = noisy(pair.a, 0.008, rng)
        b, clean = noisy(b, 0.008, rng), noisy(clean, 0.008, rng)
        if seed % 2:
            a, b, clean = (jpeg_round_trip(x, 85) for x in (a, b, clean))
        out.append(TakePair(f"stereo / {'left to right' if split == 'tune' else 'right to left'} / seed {seed}",
                            "stereo", split, "stereo", a, b, changes_of(pair), clean, ~seen_b,
                            notes="JPEG q85" if seed % 2 else ""))
    return out


def changes_of(pair) -> list[Change]:
    """A planted pair's boxes as changes: a paste is an addition, a move one change with its origin."""
    names = {"paste": "added", "remove": "removed", "recolour": "recoloured"}
    out, origin = [], None
    for box, kind in zip(pair.boxes, pair.kinds):
        if kind == "move (from)":
            origin = box
        elif kind == "move (to)":
            out.append(Change("moved", box, origin))
        else:
            out.append(Change(names[kind], box))
    return out


def planted_pairs(split: str) -> list[TakePair]:
    """Today's kind: the eight photos of ``planted.PHOTOS`` under a homography (seeds 0-7 tune, 100-107 held
    out), at planted.QUALITY_SIZE; the odd ones through JPEG q85. No not-comparable truth beyond the frame."""
    from matchcut.testing.planted import PHOTOS, QUALITY_SIZE, make_pair

    base = 0 if split == "tune" else 100
    out = []
    for i, name in enumerate(PHOTOS):
        jpeg = 85 if i % 2 else 0
        pair = make_pair(name, seed=base + i, size=QUALITY_SIZE, jpeg=jpeg)
        clean = make_pair(name, seed=base + i, size=QUALITY_SIZE, changes=(), jpeg=jpeg)
        out.append(TakePair(f"planted / {name} / seed {base + i}", "planted", split, "homography", pair.a, pair.b,
                            changes_of(pair), clean.b, None, notes=f"JPEG q{jpeg}" if jpeg else ""))
    return out


def evaluation_set(splits: tuple[str, ...] = SPLITS, sources: tuple[str, ...] = SOURCES,
                   log=lambda message: None) -> list[TakePair]:
    """Every pair of ``sources`` in ``splits``: Blender layouts (rendered on first use), stereo, planted."""
    out = []
    for split in splits:
        if "blender" in sources:
            for number, s in LAYOUTS.items():
                if s == split:
                    out += blender_pairs(number, log)
        if "stereo" in sources:
            out += stereo_pairs(split)
        if "planted" in sources:
            out += planted_pairs(split)
    return out


@dataclass
class Tally:
    """Detection against the truth over a group of pairs (counts; the rates are properties).

    ``largest``: the largest flagged box as a fraction of B's frame; ``largest_truth``: the largest true change's.
    ``not_comparable`` / ``marked`` / ``found_not_comparable``: B's truly not-comparable pixels (pairs with that
    truth), the tool's not-comparable pixels on those pairs, and the truly not-comparable among them.
    ``refused``: pairs the tool said it cannot compare (their changes count as missed).
    """

    pairs: int = 0
    changes: int = 0
    found: int = 0
    false_alarms: int = 0
    clean_pairs: int = 0
    false_alarms_clean: int = 0
    largest: float = 0.0
    largest_truth: float = 0.0
    moves: int = 0
    moves_as_one: int = 0
    not_comparable: int = 0
    marked: int = 0
    found_not_comparable: int = 0
    refused: int = 0
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(other, name)
            if name in ("largest", "largest_truth"):
                setattr(self, name, max(getattr(self, name), value))
            else:
                setattr(self, name, getattr(self, name) + value)

    @property
    def recall(self) -> float:
        return self.found / max(1, self.changes)

    @property
    def false_alarms_per_pair(self) -> float:
        return self.false_alarms / max(1, self.pairs)

    @property
    def false_alarms_clean_per_pair(self) -> float:
        return self.false_alarms_clean / max(1, self.clean_pairs)

    @property
    def occlusion_recall(self) -> float:
        """The share of truly not-comparable pixels the tool marks not comparable (1.0 without that truth)."""
        return self.found_not_comparable / self.not_comparable if self.not_comparable else 1.0

    def summary(self) -> str:
        return (f"recall {self.recall:.3f} ({self.found}/{self.changes}), false alarms {self.false_alarms_per_pair:.2f}"
                f" per pair ({self.false_alarms}/{self.pairs}), {self.false_alarms_clean_per_pair:.2f} on clean pairs, "
                f"largest region {self.largest:.3f} of the frame (truth {self.largest_truth:.3f}), moves as one "
                f"{self.moves_as_one}/{self.moves}, not comparable marked {self.occlusion_recall:.2f} of the truth"
                + (f", {self.refused} refused" if self.refused else ""))


def _marked(comparison, shape: tuple[int, int]) -> np.ndarray:
    """The tool's not-comparable pixels at B's full size (H, W) bool."""
    import cv2

    small = (~comparison.valid).astype(np.uint8)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0


def score_pair(pair: TakePair, *, alignment: str = "depth", clean: bool = True, **options) -> Tally:
    """One pair (and its clean twin) through ``continuity.compare`` with ``alignment``, scored."""
    import time

    from matchcut.continuity.align import AlignmentError
    from matchcut.continuity.compare import compare
    from matchcut.testing.metrics import score_changes

    t = Tally(pairs=1, changes=len(pair.changes))
    h, w = pair.b.shape[:2]
    area = float(h * w)
    t.largest_truth = max([c.box[2] * c.box[3] / area for c in pair.changes], default=0.0)
    t.moves = sum(1 for c in pair.changes if c.origin is not None)
    t0 = time.perf_counter()
    try:
        c = compare(pair.a, pair.b, person=False, alignment=alignment, **options)
    except AlignmentError:
        t.refused = 1
        t.seconds = time.perf_counter() - t0
        return t
    t.seconds = time.perf_counter() - t0
    s = score_changes(c.regions, pair.changes, pair.ignore)
    t.found, t.false_alarms, t.moves_as_one = s["found"], s["false_alarms"], s["moves_as_one"]
    t.largest = max([r.box[2] * r.box[3] / area for r in c.regions], default=0.0)
    if pair.not_comparable is not None:
        marked = _marked(c, (h, w))
        t.not_comparable = int(pair.not_comparable.sum())
        t.found_not_comparable = int((pair.not_comparable & marked).sum())
        t.marked = int(marked.sum())
    if clean and pair.clean_b is not None:
        t.clean_pairs = 1
        try:
            cc = compare(pair.a, pair.clean_b, person=False, alignment=alignment, **options)
            t.false_alarms_clean = score_changes(cc.regions, [], pair.ignore)["false_alarms"]
            t.largest = max([t.largest] + [r.box[2] * r.box[3] / area for r in cc.regions])
        except AlignmentError:
            pass
    return t


def measure(pairs: list[TakePair], *, alignment: str = "depth", log=lambda message: None, **options
            ) -> dict[tuple[str, str], Tally]:
    """Tallies per (source, split) and per ("all", split) of ``pairs`` compared with ``alignment``."""
    out: dict[tuple[str, str], Tally] = {}
    for pair in pairs:
        t = score_pair(pair, alignment=alignment, **options)
        log(f"{alignment}: {pair.name}: {t.found}/{t.changes} found, {t.false_alarms} false alarm(s), "
            f"{t.false_alarms_clean} on the clean pair, largest {t.largest:.3f}")
        for key in ((pair.source, pair.split), ("all", pair.split)):
            out.setdefault(key, Tally()).add(t)
    return out
