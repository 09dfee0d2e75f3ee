"""The shot-match quality section: summaries per half, worse-than-untouched counts, the generated block replaced."""

from __future__ import annotations

import pytest

from matchcut.bench import run_quality
from matchcut.bench.quality import BEGIN, END, QualityRun, best_peer, render, summary, write
from matchcut.errors import SettingError


def _run() -> QualityRun:
    rows = []
    for split, scores in (("tune", [(4.0, 1.0, 3.0, 2.0), (2.0, 2.5, 2.5, 1.0)]),
                          ("held-out", [(5.0, 0.5, 4.0, 2.5), (3.0, 3.004, 3.5, 2.0)])):
        for i, (untouched, ours, old, peer) in enumerate(scores):
            rows.append({"name": f"{split} {i}", "split": split, "source": "s", "change": "c", "model": "gains",
                         "scores": {"untouched": untouched, "default": ours, "previous default (mkl)": old,
                                    "color-matcher mkl/srgb": peer, "color-matcher hm/linear": peer + 1}})
    return QualityRun(rows, ["a note"], ["untouched", "previous default (mkl)", "default"], 1.0)


def test_summary_picks_the_best_peer_per_half_and_counts_worse_pairs():
    run = _run()
    tune, held = summary(run, "tune"), summary(run, "held-out")
    assert best_peer(run.rows) == "color-matcher mkl/srgb"
    assert tune["means"]["default"] == pytest.approx(1.75) and tune["ratio"] == pytest.approx(1.75 / 1.5)
    assert tune["worse"]["default"] == 1  # 2.5 against an untouched 2.0
    assert held["worse"]["default"] == 0  # 3.004 is within WORSE_BY of 3.0
    assert held["worse"]["previous default (mkl)"] == 1


def test_write_replaces_only_the_generated_block(tmp_path):
    doc = tmp_path / "quality.md"
    doc.write_text(f"# Quality\n\nbefore\n\n{BEGIN}\nold figures\n{END}\n\nafter\n")
    write(doc, _run())
    text = doc.read_text()
    assert "old figures" not in text and text.count(BEGIN) == 1 and text.count(END) == 1
    assert text.startswith("# Quality\n\nbefore") and text.rstrip().endswith("after")
    assert "**tune**" in text and "**held-out**" in text and "(**worse than untouched**)" in text
    assert "- a note" in render(_run())


def test_unknown_quality_benchmark_is_named():
    with pytest.raises(SettingError, match="--quality.*unknown quality benchmark colour"):
        run_quality("colour", True, log=lambda s: None)
