"""Where a light fit reaches: the part of the input's frame the pairs support, and a correction that relaxes
towards none beyond it.

The pairs (matching.correspond) cover only where the reference shows the input's frame. Beyond that, a fit
either carries its correction on (right when the light is the same everywhere: a white balance, an exposure) or
knows nothing (a cloud's shadow or a practical's pool may end just past the overlap's edge). ``relax`` is the
second choice written into the light field (the form every shot-match correction has): at nodes of the field's
grid the pairs do not reach, the whole correction's light (global part on greys + field, per channel, in log2)
is scaled by exp(-d / RELAX_LENGTH), d the distance to the nearest node they do reach, so it fades from the
light at the overlap's edge to no change of light. Which of the two a keyframe gets is decided by the pairs
(matching.light's local guard: a fit that pulls apart pairs which matched untouched, somewhere in the overlap,
shows that the light is not the same across it, and is faded; the nodes of that part count as not reached).
"""

from __future__ import annotations

import numpy as np

from matchcut.matching.field import bilinear_nodes

#: How far (fraction of the frame's long side) beyond the pairs a relaxed correction keeps 1/e of its light: less
#: than the field's node spacing (1/11), so the light ends within a node of the last one the pairs reach (the
#: bilinear field makes that a ramp); 0.15 and 0.05 left more of a wrong light past the edge on the tuning half.
RELAX_LENGTH = 0.02
#: A node is reached by the pairs when its share of their bilinear weight is at least this fraction of the
#: median share of the nodes they touch (a node touched by a handful of pairs at the overlap's rim is not).
SUPPORT_FRACTION = 0.1


def node_support(xy: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Sum of the bilinear weights (gh, gw) of positions xy (N, 2) in [0, 1] on a node grid of ``grid``."""
    gh, gw = grid
    idx, wts = bilinear_nodes(xy, grid)
    out = np.zeros(gh * gw)
    np.add.at(out, idx.ravel(), wts.ravel())
    return out.reshape(gh, gw)


def reach(xy: np.ndarray, grid: tuple[int, int], frame: tuple[int, int]) -> np.ndarray:
    """Distance (gh, gw) >= 0 from each node to the nearest node the pairs at xy (N, 2) reach, in fractions of
    the long side of a frame of (height, width); 0 where they reach it (everywhere when there are no pairs)."""
    support = node_support(xy, grid)
    touched = support[support > 0]
    if touched.size == 0:
        return np.zeros(grid)
    reached = support >= SUPPORT_FRACTION * float(np.median(touched))
    gh, gw = grid
    height, width = frame
    long = float(max(height, width))
    ys = np.linspace(0, height / long, gh)
    xs = np.linspace(0, width / long, gw)
    ny, nx = np.meshgrid(ys, xs, indexing="ij")
    pts = np.stack([ny.ravel(), nx.ravel()], 1)
    near = pts[reached.ravel()]
    dist = np.sqrt(((pts[:, None, :] - near[None, :, :]) ** 2).sum(-1)).min(1)
    return dist.reshape(gh, gw)


def relax(log_gain: np.ndarray | None, grey_gain: np.ndarray, xy: np.ndarray, grid: tuple[int, int],
          frame: tuple[int, int], length: float = RELAX_LENGTH) -> np.ndarray:
    """The field (gh, gw, 3) log2 that keeps the correction where the pairs at xy reach and relaxes its light
    towards none beyond (see the module text). log_gain: the fitted field (gh, gw, 3) or None (a global fit);
    grey_gain: the global part's light on greys, (3,) log2 per channel."""
    field = np.zeros(grid + (3,)) if log_gain is None else np.asarray(log_gain, np.float64)
    keep = np.exp(-reach(xy, grid, frame) / length)[..., None]
    return keep * (field + grey_gain) - grey_gain
