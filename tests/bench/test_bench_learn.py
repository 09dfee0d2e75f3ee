"""The learn benchmarks are registered, and the quality section says per half and kind what each method scored."""

from __future__ import annotations

from matchcut.bench import BENCHMARKS, QUALITY
from matchcut.bench import learn as bench_learn


def _row(split, kind, nothing, learned, match):
    frames = range(1011, 1015)
    scores = {"nothing": [(f, nothing + 0.1 * i, 0.8) for i, f in enumerate(frames)],
              "shot match": [(f, match, 0.79) for f in frames],
              "learned": [(f, learned - 0.2 * i, 0.9) for i, f in enumerate(frames)]}
    summary = {"steps": 250, "best_step": 250, "stopped": "steps", "held_out": "frame 1004 held out",
               "held_out_psnr": 40.0, "held_out_psnr_untouched": 30.0, "crop": 128, "batch": 8, "loss": "l1",
               "seconds": 120.0}
    return {"name": f"{kind} / x", "split": split, "kind": kind, "background": "x", "foreground": "y",
            "training": [1001, 1004, 1007, 1010], "scores": scores, "summary": summary, "learn_seconds": 121.0,
            "apply_seconds": 3.0, "steps_seen": 250, "match_fit": "keyframe 1010: gains fitted"}


def test_learn_is_registered_as_a_benchmark_and_a_quality_run():
    assert BENCHMARKS["learn"] == "matchcut.bench.learn:bench_learn"
    assert QUALITY["learn"].replace(" ", "").split(",") == ["matchcut.bench.learn:quality_learn",
                                                            "matchcut.bench.learn:write_quality",
                                                            "matchcut.bench.learn:render_quality"]


def test_figures_give_the_means_the_worst_frame_and_the_least_gain():
    fg = bench_learn.figures(_row("tune", "soften", 28.0, 33.0, 28.0))
    assert fg["learned"]["worst"][0] == 1014 and abs(fg["learned"]["worst"][1] - 32.4) < 1e-9
    assert fg["gain_worst"][0] == 1014 and abs(fg["gain_worst"][1] - (32.4 - 28.3)) < 1e-9
    assert fg["beats"]
    assert not bench_learn.figures(_row("tune", "soften", 28.0, 27.0, 28.0))["beats"]


def test_the_section_goes_before_frame_fill_and_a_rerun_replaces_only_its_block(tmp_path):
    page = tmp_path / "quality.md"
    page.write_text("# Quality\n\n## Shot match\n\ntext\n\n## Frame fill and retime (`matchcut fill`, `matchcut "
                    "retime`)\n\nmore\n", encoding="utf-8")
    run = bench_learn.LearnQuality(rows=[_row("tune", "colour", 26.0, 40.0, 24.0),
                                         _row("held-out", "colour", 24.0, 21.0, 24.5)],
                                   params={"steps": 250, "threads": 1}, seconds=10.0)
    bench_learn.write_quality(page, run)
    text = page.read_text(encoding="utf-8")
    assert text.index("## Shot match") < text.index(bench_learn.SECTION) < text.index(bench_learn.BEGIN)
    assert text.index(bench_learn.END) < text.index("## Frame fill and retime")
    block = text.split(bench_learn.BEGIN)[1].split(bench_learn.END)[0]
    heads = ("| tune | colour (x)", "| held-out | colour (x)")
    tune, held = (line for line in block.splitlines() if line.startswith(heads))
    assert tune.endswith("| yes |") and held.endswith("| **no** |")
    assert "steps 250" in block
    page.write_text(text.replace("more\n", "more, by hand\n"), encoding="utf-8")
    bench_learn.write_quality(page, run)
    again = page.read_text(encoding="utf-8")
    assert again.count(bench_learn.BEGIN) == 1 and again.count(bench_learn.SECTION) == 1 and "by hand" in again
