"""The super-resolution quality section: the default picked by fidelity against Lanczos, the block in its section."""

from __future__ import annotations

from matchcut.bench import QUALITY
from matchcut.bench.upscale_quality import (BEGIN, END, SECTION, UpscaleRun, below_lanczos, means, pick_default,
                                            render, write)


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
