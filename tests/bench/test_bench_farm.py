"""The farm benchmark's fit of start-up and per-frame cost (the timings themselves live in docs/benchmarks.md)."""

import pytest

from matchcut.bench import BENCHMARKS
from matchcut.bench.farm import _fit, _sample


def test_the_fit_separates_a_chunks_start_up_from_its_frames():
    points = [(n, 2.5 + 0.25 * n) for n in (1, 2, 5, 10, 24)]
    start_up, per_frame = _fit(points)
    assert start_up == pytest.approx(2.5) and per_frame == pytest.approx(0.25)
    assert _fit([(1, 9.0), (5, 8.5), (24, 8.8)])[1] >= 0.0  # noise never gives a negative cost
    assert _sample([(i, i) for i in range(24)], 6) == [(0, 0), (4, 4), (8, 8), (12, 12), (16, 16), (20, 20)]
    assert _sample([(1, 5), (6, 10)], 6) == [(1, 5), (6, 10)]
    assert BENCHMARKS["farm"] == "matchcut.bench.farm:bench_farm"
