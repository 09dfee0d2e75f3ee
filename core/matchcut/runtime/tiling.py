"""plan_tiles / run_tiled: run a fully convolutional model on a large frame in overlapping tiles.

The scheme (as in vs-mlrt): a tile's size includes its overlap; tiles step by ``tile - 2 * overlap``; the
last tile along an axis is shifted back inside the frame rather than padded; only each tile's interior is
written, so the ``overlap`` pixels next to an interior tile edge (where the network saw zero padding instead
of real neighbours) are thrown away. With ``overlap`` >= the model's receptive-field radius the assembled
frame equals a whole-frame run up to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matchcut.errors import SettingError, ShapeMismatchError


@dataclass(frozen=True)
class Tile:
    """One tile: the read window (y0, x0, h, w) and the write window (out_y0, out_x0, out_h, out_w), both in
    the coordinates of the (padded) input frame; the write window lies inside the read window."""

    y0: int
    x0: int
    h: int
    w: int
    out_y0: int
    out_x0: int
    out_h: int
    out_w: int

    @property
    def crop_y(self) -> int:
        """Row of the write window inside the tile's own output."""
        return self.out_y0 - self.y0

    @property
    def crop_x(self) -> int:
        """Column of the write window inside the tile's own output."""
        return self.out_x0 - self.x0


def _plan_axis(n: int, tile: int, overlap: int, multiple: int) -> list[tuple[int, int, int, int]]:
    """(start, size, out_start, out_end) of each tile along one axis of length n."""
    if n <= tile:
        return [(0, n, 0, n)]
    # Origins on multiples of `multiple`: a model that pools by 2^k sees a pooling grid anchored at its input's
    # origin, so only tiles whose origin is on that grid compute the same pooled cells as the whole frame.
    step = (tile - 2 * overlap) // multiple * multiple
    if step <= 0:
        raise SettingError("tile", f"tile {tile} minus twice the overlap {overlap} leaves no aligned step "
                                   f"(multiple {multiple}); use a larger tile or a smaller overlap")
    starts = list(range(0, n - tile, step))
    last = n - tile  # clamped inside the frame (aligned when n and tile are multiples of `multiple`)
    if starts[-1] != last:
        starts.append(last)
    segments = []
    for i, start in enumerate(starts):
        if i == 0:
            lo = 0
        else:
            lo = segments[-1][3]
        if i == len(starts) - 1:
            hi = n
        else:
            # Split the shared region midway: each side keeps at least `overlap` pixels of real context.
            nxt = starts[i + 1]
            hi = (nxt + overlap + start + tile - overlap) // 2
        segments.append((start, tile, lo, hi))
    return segments


def plan_tiles(height: int, width: int, tile: int, overlap: int, multiple: int = 1) -> list[Tile]:
    """Tiles covering a (height, width) frame, row-major. A frame no larger than ``tile`` is one tile.

    tile: the tile edge in pixels, overlap included; must exceed ``2 * overlap`` and be a multiple of
    ``multiple`` (the model's size multiple). overlap: pixels of context discarded at interior tile edges;
    use at least the model's receptive-field radius. Raises SettingError otherwise.
    """
    for name, value in (("height", height), ("width", width), ("tile", tile), ("multiple", multiple)):
        if int(value) != value or value < 1:
            raise SettingError(name, f"expected a positive integer, got {value!r}")
    if int(overlap) != overlap or overlap < 0:
        raise SettingError("overlap", f"expected an integer >= 0, got {overlap!r}")
    if tile <= 2 * overlap:
        raise SettingError("tile", f"tile {tile} must be larger than twice the overlap ({2 * overlap})")
    if tile % multiple:
        raise SettingError("tile", f"tile {tile} must be a multiple of the model's size multiple {multiple}")
    rows = _plan_axis(height, tile, overlap, multiple)
    cols = _plan_axis(width, tile, overlap, multiple)
    return [Tile(y0, x0, h, w, oy0, ox0, oy1 - oy0, ox1 - ox0)
            for (y0, h, oy0, oy1) in rows for (x0, w, ox0, ox1) in cols]


def pad_to_multiple(x: np.ndarray, multiple: int, *, axes: Sequence[int] = (-2, -1),
                    mode: str = "reflect") -> tuple[np.ndarray, tuple[int, int]]:
    """Pad the two spatial ``axes`` of ``x`` at the bottom/right up to a multiple of ``multiple``.

    x: any array; axes (-2, -1) for NCHW / CHW, (0, 1) for HWC. mode: "reflect" (mirror without repeating
    the edge pixel; no hard edge for the network to react to) or "edge". A one-pixel axis is edge-padded.
    Returns (padded, (orig_h, orig_w)); ``x`` itself when no padding is needed.
    """
    if mode not in ("reflect", "edge"):
        raise SettingError("pad_mode", f"unknown padding mode '{mode}'", ("reflect", "edge"))
    ax_h, ax_w = (a % x.ndim for a in axes)
    orig = (x.shape[ax_h], x.shape[ax_w])
    pads = [(0, 0)] * x.ndim
    for ax, size in ((ax_h, orig[0]), (ax_w, orig[1])):
        pads[ax] = (0, -size % multiple)
    if all(p == (0, 0) for p in pads):
        return x, orig
    # reflect needs at least two pixels along the axis; numpy repeats the reflection when the pad is longer.
    use = mode if min(orig) > 1 else "edge"
    return np.pad(x, pads, mode=use), orig


def crop(x: np.ndarray, size: tuple[int, int], *, axes: Sequence[int] = (-2, -1)) -> np.ndarray:
    """The top-left ``size`` (height, width) of ``x`` along its two spatial ``axes`` (undoes pad_to_multiple)."""
    ax_h, ax_w = (a % x.ndim for a in axes)
    index = [slice(None)] * x.ndim
    index[ax_h], index[ax_w] = slice(0, size[0]), slice(0, size[1])
    return x[tuple(index)]


def run_tiled(fn: Callable[[np.ndarray], np.ndarray], image: np.ndarray, *, tile: int, overlap: int,
              multiple: int = 1, scale: int = 1, pad_mode: str = "reflect", batch: int = 1) -> np.ndarray:
    """Run ``fn`` over ``image`` in overlapping tiles and assemble the result.

    image: float32 (N, C, H, W), any value range or colour space (fn decides). fn: takes a C-contiguous
    (N, C, h, w) window and returns (N, C_out, h * scale, w * scale); C_out may differ from C (a matte from
    RGB). The frame is first padded (``pad_mode``) to a multiple of ``multiple``; a padded frame no larger
    than ``tile`` runs whole. scale: the model's output/input size ratio (2 for a 2x super-resolution).
    batch: tiles per call of fn, stacked along N (every tile has the same size), for a model with a batch
    dimension; the tiles and the written windows are the same as unbatched. When fn has a ``map`` method
    (Session.image_fn: windows in, results out, in order), the windows stream through it, so the next tile
    uploads while this one computes.
    Returns float32 (N, C_out, H * scale, W * scale).
    """
    if image.ndim != 4:
        raise ShapeMismatchError(f"run_tiled: expected an (N, C, H, W) image, got shape {image.shape}")
    if int(scale) != scale or scale < 1:
        raise SettingError("scale", f"expected an integer >= 1, got {scale!r}")
    if isinstance(batch, bool) or int(batch) != batch or batch < 1:
        raise SettingError("batch", f"expected an integer >= 1, got {batch!r}")
    padded, (height, width) = pad_to_multiple(image, multiple, mode=pad_mode)
    ph, pw = padded.shape[-2:]
    out_size = (height * scale, width * scale)

    def checked(window: np.ndarray, result: np.ndarray) -> np.ndarray:
        result = np.asarray(result)
        n, _, h, w = window.shape
        if result.ndim != 4 or result.shape[0] != n or result.shape[2:] != (h * scale, w * scale):
            raise ShapeMismatchError(f"run_tiled: a {h}x{w} tile gave output shape {result.shape}; expected "
                                     f"({n}, C, {h * scale}, {w * scale}) for scale {scale}")
        return result

    def window(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array, dtype=np.float32)

    if tile >= ph and tile >= pw:
        whole = window(padded)
        return np.ascontiguousarray(crop(checked(whole, fn(whole)), out_size), dtype=np.float32)
    tiles = plan_tiles(ph, pw, tile, overlap, multiple)
    groups = [tiles[i:i + batch] for i in range(0, len(tiles), batch)]
    n = padded.shape[0]

    def stacked(group: list[Tile]) -> np.ndarray:
        return window(np.concatenate([padded[..., t.y0:t.y0 + t.h, t.x0:t.x0 + t.w] for t in group], axis=0))

    windows = (stacked(g) for g in groups)
    mapper = getattr(fn, "map", None)
    if callable(mapper):
        pairs = zip(groups, mapper(windows))
    else:
        pairs = ((g, fn(w)) for g, w in zip(groups, windows))
    out: np.ndarray | None = None
    s = scale
    for group, result in pairs:
        result = np.asarray(result)
        first = group[0]
        if result.ndim != 4 or result.shape[0] != n * len(group) or result.shape[2:] != (first.h * s, first.w * s):
            raise ShapeMismatchError(f"run_tiled: {len(group)} {first.h}x{first.w} tile(s) gave output shape "
                                     f"{result.shape}; expected ({n * len(group)}, C, {first.h * s}, "
                                     f"{first.w * s}) for scale {scale}")
        if out is None:
            out = np.empty((n, result.shape[1], ph * scale, pw * scale), np.float32)
        elif result.shape[1] != out.shape[1]:
            raise ShapeMismatchError(f"run_tiled: tile at ({first.y0}, {first.x0}) gave {result.shape[1]} channels, "
                                     f"earlier tiles {out.shape[1]}")
        for k, t in enumerate(group):
            part = result[k * n:(k + 1) * n]
            out[..., t.out_y0 * s:(t.out_y0 + t.out_h) * s, t.out_x0 * s:(t.out_x0 + t.out_w) * s] = part[
                ..., t.crop_y * s:(t.crop_y + t.out_h) * s, t.crop_x * s:(t.crop_x + t.out_w) * s]
    assert out is not None  # plan_tiles always returns at least one tile
    return np.ascontiguousarray(crop(out, out_size))
