"""Where a light fit reaches (matching.extrapolation): the nodes the pairs support, and the correction faded beyond."""

from __future__ import annotations

import numpy as np

from matchcut.matching.extrapolation import RELAX_LENGTH, reach, relax
from matchcut.matching.light import field_at, grid_shape


def test_relax_keeps_the_light_where_the_pairs_reach_and_ends_it_beyond():
    """Pairs on the left third of a 16:9 frame; a global correction of +1 stop (greys) and no field: where the pairs
    reach the light is kept, a node past them keeps at most exp(-spacing / RELAX_LENGTH) of it, the far side none."""
    frame = (216, 384)
    grid = grid_shape(*frame)
    rng = np.random.default_rng(0)
    xy = np.stack([rng.uniform(0, 0.33, 5000), rng.uniform(0, 1, 5000)], 1)
    dist = reach(xy, grid, frame)
    assert dist[:, 0].max() == 0 and dist[:, -1].min() > 0.5  # the left column reached, the right one far away
    grey = np.full(3, 1.0)
    field = relax(None, grey, xy, grid, frame)
    total = field + grey  # the whole correction's light per node, log2
    assert np.allclose(total[dist == 0], 1.0)
    spacing = 1.0 / (grid[1] - 1)
    assert total[dist > 0].max() <= np.exp(-spacing / RELAX_LENGTH) + 1e-9
    assert np.allclose(total[:, -1], 0.0, atol=1e-6)
    inside = field_at(field, np.array([[0.1, 0.5], [0.95, 0.5]])) + grey
    assert abs(inside[0, 0] - 1.0) < 1e-6 and abs(inside[1, 0]) < 1e-3


def test_relax_is_nothing_where_the_pairs_cover_the_frame():
    frame = (216, 384)
    grid = grid_shape(*frame)
    ys, xs = np.mgrid[0:1:60j, 0:1:100j]
    xy = np.stack([xs.ravel(), ys.ravel()], 1)
    fitted = np.random.default_rng(1).normal(0, 0.2, grid + (3,))
    grey = np.array([0.3, 0.1, -0.2])
    assert not reach(xy, grid, frame).any()
    assert np.allclose(relax(fitted, grey, xy, grid, frame), fitted)
