"""`matchcut bench --only upscale` on tiny pictures: every model's rows against Lanczos, and the memory run in a
fresh process (no timing is asserted: timings belong to docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from matchcut.bench import BENCHMARKS, render_markdown
from matchcut.bench.upscale import measure, memory_in_subprocess, plan_of
from matchcut.runtime import DeviceOptions
from matchcut.vision.upscale import DEFAULT_UPSCALE


def test_upscale_is_registered():
    assert BENCHMARKS["upscale"] == "matchcut.bench.upscale:bench_upscale"


@pytest.mark.zoo
def test_rows_against_lanczos_and_the_memory_run(zoo_model, monkeypatch):
    monkeypatch.setenv("MATCHCUT_THREADS", "1")
    zoo_model(DEFAULT_UPSCALE)
    res = measure((40, 64), tile=48, repeat=1, models=(DEFAULT_UPSCALE,), four_k=(32, 48))
    assert res.name == "upscale" and "128x80 output frame from 64x40" in res.title
    lanczos, whole, tiled = res.rows
    assert lanczos[0].startswith("Lanczos") and lanczos[-1] == "1x (baseline)"
    assert whole[0] == f"{DEFAULT_UPSCALE} (default)" and whole[2] == "as the tool runs it (whole picture)"
    assert tiled[2] == "forced tiles of 48 px, overlap 7 px" and whole[1] == "7"
    assert all(row[-1].endswith("x") and float(row[3]) > 0 for row in res.rows[1:]) and float(lanczos[3]) > 0
    memory = next(n for n in res.notes if n.startswith("Memory at a 96x64 output"))
    assert "MB peak resident (VmHWM reset before the run)" in memory and "run as whole picture" in memory
    assert "### Super-resolution for punch-ins" in render_markdown([res])


@pytest.mark.zoo
def test_the_plan_and_the_memory_run_say_what_ran(zoo_model):
    zoo_model(DEFAULT_UPSCALE)
    plan, figure = plan_of(DEFAULT_UPSCALE, 32, 48, DeviceOptions(provider="cpu", threads=1))
    assert plan == "whole picture" and figure is not None and figure > 0
    got = memory_in_subprocess(DEFAULT_UPSCALE, 32, 48)
    assert got["output"] == "96x64" and got["peak_mb"] >= got["before_mb"] > 0 and got["plan"] == "whole picture"
    assert got["peak_mb"] < got["before_mb"] + 200  # this run's peak, not the parent's carried over
    with pytest.raises(Exception, match="memory run of 'no-such-model' failed"):
        memory_in_subprocess("no-such-model", 32, 48)
