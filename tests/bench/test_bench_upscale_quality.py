"""The super-resolution quality section: the default picked by fidelity against Lanczos, the block in its section."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.bench import QUALITY
from matchcut.bench.upscale_quality import (BEGIN, END, SECTION, UpscaleRun, below_lanczos, means, measure,
                                            pick_default, render, write)


def _run(steady: float, spiky: tuple[float, float]) -> UpscaleRun:
    """Lanczos at 30 dB everywhere; "steady" above it on both photos by ``steady``; "spiky" up then down."""
    methods = ["Lanczos", "bicubic", "waifu2x-photo-2x", "waifu2x-cunet-2x"]
    scores = {}
    for case in ("2x", "1.5x"):
        scores[case] = {
            "rocket": {"Lanczos": (30.0, 0.90), "bicubic": (29.9, 0.89), "waifu2x-photo-2x": (30.0 + steady, 0.92),
                       "waifu2x-cunet-2x": (30.0 + spiky[0], 0.93)},
            "china": {"Lanczos": (30.0, 0.90), "bicubic": (29.8, 0.89), "waifu2x-photo-2x": (30.0 + steady, 0.91),
                      "waifu2x-cunet-2x": (30.0 + spiky[1], 0.92)}}
    return UpscaleRun(scores, methods, {m: "kind" for m in methods}, {m: 1.0 for m in methods}, 2.0, ["a note"], 5.0)


def test_the_default_must_never_fall_below_lanczos():
    run = _run(1.0, (3.0, -0.1))  # cunet: higher mean, below Lanczos on one photo
    assert below_lanczos(run, "waifu2x-cunet-2x") == ["2x china", "1.5x china"]
    assert means(run, "2x")["waifu2x-cunet-2x"][0] > means(run, "2x")["waifu2x-photo-2x"][0]
    assert pick_default(run) == "waifu2x-photo-2x"
    assert pick_default(_run(1.0, (3.0, 0.1))) == "waifu2x-cunet-2x"  # never below: the higher mean wins
    assert pick_default(_run(-0.2, (3.0, -0.1))) is None
    assert "none of the zoo models stayed at or above Lanczos" in render(_run(-0.2, (3.0, -0.1)))


def test_render_and_write_put_the_block_in_its_section(tmp_path):
    text = render(_run(1.0, (3.0, -0.1)))
    assert text.startswith(BEGIN) and text.endswith(END)
    assert "| **waifu2x-photo-2x** | kind | 31.00 | 0.9150 | 31.00 | 0.9150 | none |" in text
    assert "| waifu2x-cunet-2x | kind | 31.45 | 0.9250 | 31.45 | 0.9250 | 2x china, 1.5x china |" in text
    assert "| bicubic | kind | 29.85 | 0.8900 | 29.85 | 0.8900 | all 4 |" in text
    assert "+1.00 dB over Lanczos at 2x, +1.00 dB over Lanczos at 1.5x" in text and "- a note" in text
    doc = tmp_path / "quality.md"
    doc.write_text("# Quality\n\n## Model zoo\n\nzoo text\n")
    write(doc, _run(1.0, (3.0, -0.1)))
    first = doc.read_text()
    assert first.index("## Model zoo") < first.index(SECTION) < first.index(BEGIN)
    write(doc, _run(2.0, (3.0, -0.1)))
    again = doc.read_text()
    assert again.count(SECTION) == 1 and again.count(BEGIN) == 1 and "+2.00 dB over Lanczos" in again


def test_upscale_quality_is_registered():
    assert QUALITY["upscale"].replace(" ", "").split(",") == [
        "matchcut.bench.upscale_quality:quality_upscale", "matchcut.bench.upscale_quality:write",
        "matchcut.bench.upscale_quality:render"]


def test_the_rule_reads_the_photos_at_2x_and_1_5x_only():
    run = _run(1.0, (3.0, 0.1))
    for case in ("4x",):  # cunet below Lanczos at 4x and on a footage frame: beside the rule, not in it
        run.scores[case] = {n: dict(r) for n, r in run.scores["2x"].items()}
        run.scores[case]["rocket"]["waifu2x-cunet-2x"] = (29.0, 0.8)
    for case in run.scores:
        run.scores[case]["bunny 20"] = {"Lanczos": (40.0, 0.97), "bicubic": (39.0, 0.96),
                                        "waifu2x-photo-2x": (41.0, 0.98), "waifu2x-cunet-2x": (39.5, 0.97)}
    run.footage = ["bunny 20"]
    assert below_lanczos(run, "waifu2x-cunet-2x") == ["4x rocket"]
    assert below_lanczos(run, "waifu2x-cunet-2x", footage=True) == ["2x bunny 20", "1.5x bunny 20", "4x bunny 20"]
    assert means(run, "2x")["Lanczos"] == (30.0, 0.90) and means(run, "2x", footage=True)["Lanczos"] == (40.0, 0.97)
    assert pick_default(run) == "waifu2x-cunet-2x"
    text = render(run)
    assert "6 photos" not in text and "2 photos (rocket, china) and 1 footage frames (bunny 20)" in text
    assert "Footage frames (means):" in text and "| **waifu2x-cunet-2x** | kind | 39.50 | 0.9700 |" in text
    assert "the photos at 2x and 1.5x" in text
    assert "**met** (+1.00 dB)" in text and "+1.00 dB at 4x on the photos" in text
    assert "+1.00 dB at 2x on the footage frames" in text


@pytest.mark.zoo
def test_the_default_beats_lanczos_at_2x_and_runs_twice_at_4x(zoo_model):
    from matchcut.testing.photos import photo
    from matchcut.vision.upscale import DEFAULT_UPSCALE

    zoo_model(DEFAULT_UPSCALE)
    image = np.ascontiguousarray(photo("rocket", colorspace="srgb")[200:360, 80:320])
    frame = np.ascontiguousarray(photo("coffee", colorspace="srgb")[100:220, 200:400])
    run = measure({"rocket": image}, peers=False, models=(DEFAULT_UPSCALE,), footage={"coffee crop": frame},
                  cases={"2x": 2.0, "4x": 4.0})
    assert run.methods == ["Lanczos", "bicubic", DEFAULT_UPSCALE] and run.footage == ["coffee crop"]
    two, four = run.scores["2x"]["rocket"], run.scores["4x"]["rocket"]
    assert two[DEFAULT_UPSCALE][0] > two["Lanczos"][0] + 0.3 and 20 < two["Lanczos"][0] < 45
    assert four["Lanczos"][0] < two["Lanczos"][0]  # 4x is the harder case
    assert set(run.scores["4x"]) == {"rocket", "coffee crop"}
    assert "Footage frames (means):" in render(run)
