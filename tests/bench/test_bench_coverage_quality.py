"""The coverage quality run: punch-ins scored against the closer framing of the original, slowed shots against
their true in-betweens, and the block placed before the super-resolution section."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.bench import QUALITY
from matchcut.bench.coverage_quality import (BEFORE, BEGIN, END, SECTION, CoverageRun, fill_defaults, measure,
                                             moving_photo, punch_case, render, slow_runners, slow_window, write)
from matchcut.runtime import DeviceOptions
from matchcut.vision.upscale import DEFAULT_UPSCALE

CPU = DeviceOptions(provider="cpu", threads=1)


def _photo(name="rocket"):
    from matchcut.testing.photos import photo

    return np.ascontiguousarray(photo(name, colorspace="srgb")[200:360, 80:320])  # the launch tower and trees


def test_the_closer_framing_is_the_same_box_of_the_original():
    # Each 2x2 block of the original one value: the wider take is exact, and at 2x a nearest-neighbour enlargement
    # of the box of the wider take is the box of the original, to the pixel.
    small = np.random.default_rng(3).random((30, 44, 3), dtype=np.float32)
    original = small.repeat(2, axis=0).repeat(2, axis=1)

    def nearest(wide, box, h, w):
        x0, y0, x1, y1 = box.pixels(wide.shape[1], wide.shape[0])
        crop = wide[y0:y1, x0:x1]
        assert crop.shape[:2] == (h // 2, w // 2)  # the box keeps its own size: a 2x punch-in is exactly 2x
        return crop.repeat(2, axis=0).repeat(2, axis=1)

    for centre in ((0.5, 0.5), (0.3, 0.35), (0.95, 0.9)):
        scores = punch_case(original, 2.0, centre, {"nearest": nearest})
        assert scores["nearest"][0] >= 100 and scores["nearest"][1] == pytest.approx(1.0)


@pytest.mark.zoo
def test_the_default_punch_in_beats_a_lanczos_crop_at_2x(zoo_model):
    zoo_model(DEFAULT_UPSCALE)
    run = measure({"rocket": _photo()}, None, models=(DEFAULT_UPSCALE,), slow_clips={})
    assert run.punch_methods == ["Lanczos", "bicubic", DEFAULT_UPSCALE]
    assert not run.slow
    assert set(run.punch) == {"1.5x centred", "1.5x off-centre", "2x centred", "2x off-centre"}
    assert run.sizes["rocket"] == "240x160 -> 120x80"
    for case in ("2x centred", "2x off-centre"):
        row = run.punch[case]["rocket"]
        assert 20 < row["Lanczos"][0] < 45 and 0.5 < row["Lanczos"][1] < 1.0
        assert row[DEFAULT_UPSCALE][0] > row["Lanczos"][0] + 0.3
    for case in ("1.5x centred", "1.5x off-centre"):  # the model's 2x reduced by area, not by Lanczos
        row = run.punch[case]["rocket"]
        assert row[DEFAULT_UPSCALE][0] > row["Lanczos"][0]
    text = render(run)
    assert f"Punch-in with the default upscaler ({DEFAULT_UPSCALE}, `reframe.punch_in`) against a Lanczos crop:" in text
    assert "Slow against" not in text


@pytest.mark.zoo
def test_rife_beats_repetition_and_a_blend_on_a_moving_pair(zoo_model):
    model, ensemble, depth = fill_defaults()
    assert (model, ensemble, depth) == ("rife-hdv3", 4, 5)  # the fill tool's controls, read, not copied
    zoo_model(model)
    frames = moving_photo("chelsea", (64, 96), 3)
    runners = slow_runners(CPU, ensemble=1)
    scores = slow_window(frames, 0, 2, runners)[1]
    rife, held, blend = scores["RIFE rife-hdv3, 1-run ensemble"], scores["repetition (previous frame)"], \
        scores["blend"]
    assert rife[0] > held[0] + 3 and rife[0] > blend[0] + 3 and rife[1] > held[1]
    assert held[0] == pytest.approx(slow_window(frames, 0, 2, {"held": lambda a, b, t: a})[1]["held"][0])


def _run() -> CoverageRun:
    punch = {case: {"rocket": {"Lanczos": (30.0, 0.9), "bicubic": (29.5, 0.89), DEFAULT_UPSCALE: (31.5, 0.93)}}
             for case in ("1.5x centred", "1.5x off-centre", "2x centred", "2x off-centre")}
    slow = {"1 in 2 (slowed to 0.5)": {"bunny 25": {"RIFE x": (38.0, 0.97), "repetition (previous frame)": (26.0, 0.8),
                                                    "blend": (29.0, 0.85), "DIS flow warp": (33.0, 0.9)}}}
    return CoverageRun(punch, ["Lanczos", "bicubic", DEFAULT_UPSCALE], slow,
                       ["RIFE x", "repetition (previous frame)", "blend", "DIS flow warp"], {"Lanczos": "kind"},
                       {"rocket": "240x160 -> 120x80"}, "x", ["a note"], 2.0)


def test_render_states_the_gains_and_that_nothing_is_tuned():
    text = render(_run())
    assert text.startswith(BEGIN) and text.endswith(END)
    assert "| Lanczos | kind | 30.00 | 0.9000 |" in text and "| bicubic |  | 29.50 | 0.8900 |" in text
    assert "`reframe.punch_in`) against a Lanczos crop: +1.50 dB at 1.5x (0 of 2 below), +1.50 dB at 2x (0 of 2 " \
        "below)." in text
    assert "+12.00 dB over repetition, +9.00 dB over the blend, +5.00 dB over the DIS warp" in text
    assert "no tuning half" in text and "- a note" in text and "| bunny 25 |" in text


def test_write_puts_the_section_before_super_resolution_and_replaces_it(tmp_path):
    doc = tmp_path / "quality.md"
    doc.write_text(f"# Quality\n\n## Relight\n\nrelight text\n\n{BEFORE}\n\nsr text\n")
    write(doc, _run())
    text = doc.read_text()
    assert text.index("## Relight") < text.index(SECTION) < text.index(BEGIN) < text.index(BEFORE)
    run = _run()
    run.notes = ["another note"]
    write(doc, run)
    again = doc.read_text()
    assert again.count(SECTION) == 1 and again.count(BEGIN) == 1 and "another note" in again
    assert "- a note" not in again and again.rstrip().endswith("sr text")


def test_coverage_quality_is_registered():
    assert QUALITY["coverage"].replace(" ", "").split(",") == [
        "matchcut.bench.coverage_quality:quality_coverage", "matchcut.bench.coverage_quality:write",
        "matchcut.bench.coverage_quality:render"]
