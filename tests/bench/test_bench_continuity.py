"""The continuity quality benchmark: its table per half and set, the goal on the held-out half, its section of
docs/quality.md, and its place in the registry."""

from __future__ import annotations

from matchcut.bench import QUALITY
from matchcut.bench.continuity import BEGIN, END, METHODS, ContinuityQuality, render_quality, write_quality
from matchcut.testing.takes import Tally


def _run() -> ContinuityQuality:
    run = ContinuityQuality(seconds=12.0)
    for split in ("tune", "held-out"):
        run.pairs[("stereo", split)] = 2
        for method in METHODS:
            good = method == "depth"
            t = Tally(pairs=2, changes=8, found=8 if good else 3, false_alarms=1 if good else 9, clean_pairs=2,
                      false_alarms_clean=0 if good else 7, largest=0.05 if good else 0.6, largest_truth=0.02,
                      moves=2, moves_as_one=1, not_comparable=100, found_not_comparable=80, seconds=3.0)
            run.tallies[(method, "stereo", split)] = t
            run.tallies[(method, "all", split)] = t
    return run


def _rows(text: str, split: str, source: str) -> list[list[str]]:
    cells = [[c.strip().strip("*") for c in line.strip("|").split("|")] for line in text.splitlines()
             if line.startswith("|")]
    return [c for c in cells if c[:2] == [split, source]]


def test_the_goal_is_judged_on_the_held_out_half_for_both_methods():
    text = render_quality(_run())
    depth, before = _rows(text, "held-out", "all")
    assert depth[3].startswith("with depth") and depth[-1] == "met"
    assert depth[4] == "1.000 (8/8)" and depth[5] == "0.50 (1)" and depth[7] == "0.050 (0.020)"
    assert before[3].startswith("homography + smooth flow")
    assert before[-1] == ("not met: recall 0.53 short, 4.00 false alarms per pair over, "
                          "a region of 0.60 of the frame")
    # The tuning half is reported, and not judged.
    assert all(row[-1] == "" for row in _rows(text, "tune", "all"))


def test_write_puts_the_block_into_the_continuity_section_once(tmp_path):
    doc = tmp_path / "quality.md"
    doc.write_text("# Quality\n\n## Continuity check and patch (`matchcut continuity`)\n\nHand-written.\n\n"
                   "## Background replacement (`matchcut matte`)\n\nMatte.\n", encoding="utf-8")
    write_quality(doc, _run())
    first = doc.read_text(encoding="utf-8")
    assert first.index("Hand-written.") < first.index(BEGIN) < first.index(END) < first.index("## Background")
    write_quality(doc, _run())
    again = doc.read_text(encoding="utf-8")
    assert again.count(BEGIN) == 1 and again == first


def test_continuity_quality_is_registered_beside_the_others():
    assert QUALITY["continuity"].replace(" ", "") == ("matchcut.bench.continuity:quality_continuity,"
                                                      "matchcut.bench.continuity:write_quality,"
                                                      "matchcut.bench.continuity:render_quality")
    assert {"match", "continuity"} <= set(QUALITY)
