"""The screen-keying quality section: the goal measured on the held-out half, the generated block replaced."""

from __future__ import annotations

from matchcut.bench import QUALITY
from matchcut.bench.matte_quality import BEGIN, END, KeyingRun, goal_lines, render, write
from matchcut.testing.keying_set import KEYERS, SEQUENCE_KEYERS


def _run(ours_held: float) -> KeyingRun:
    def errors(*sads):
        return {k: {"sad": s, "mse": s / 100, "grad": s / 10, "conn": s} for k, s in zip(KEYERS, sads)}

    rows = [{"plate": f"{split} {i}", "split": split, "errors": errors(ours, 4.0, 3.0, 3.5, 1.0),
             "foreground": {"screen model": 0.5, "previous": 1.0}}
            for split, ours in (("tune", 1.0), ("held-out", ours_held)) for i in range(2)]
    static = {k: {"mean": 0.01, "edge": 0.05} for k in SEQUENCE_KEYERS}
    return KeyingRun(rows, static, {k: 2.0 for k in SEQUENCE_KEYERS}, ["a note"], 3.0)


def test_goal_is_measured_on_the_held_out_half():
    met = goal_lines(_run(1.5))[0]
    assert met.startswith("Held-out goal (met): SAD 0.375 x the plain key's") and "on 2 of 2 plates" in met
    missed = goal_lines(_run(1.7))[0]
    assert missed.startswith("Held-out goal (not met): SAD 0.425")


def test_write_replaces_only_the_generated_block(tmp_path):
    doc = tmp_path / "quality.md"
    doc.write_text(f"# Quality\n\n## Background replacement\n\nbefore\n\n{BEGIN}\nold figures\n{END}\n\nafter\n")
    write(doc, _run(1.5))
    text = doc.read_text()
    assert "old figures" not in text and text.count(BEGIN) == 1 and text.count(END) == 1
    assert text.startswith("# Quality\n\n## Background replacement\n\nbefore") and text.rstrip().endswith("after")
    assert "**held-out**" in text and "| held-out | **screen model** | 2 |" in text and "- a note" in text
    assert "screen model, shared and steadied (default)" in render(_run(1.5))


def test_matte_quality_is_registered_beside_shot_match():
    assert set(QUALITY) >= {"match", "matte"}
    assert QUALITY["matte"].replace(" ", "").split(",") == [
        "matchcut.bench.matte_quality:quality_matte", "matchcut.bench.matte_quality:write",
        "matchcut.bench.matte_quality:render"]
