"""docs/benchmarks.md writing: a run of some benchmarks replaces only their own sections."""

from __future__ import annotations

from matchcut.bench import BEGIN, END, write_results
from matchcut.bench.timing import Result


def _result(name: str, value: str) -> Result:
    return Result(name, f"{name} title", ["what", "figure"], [["x", value]], [f"note {value}"])


def test_only_the_benchmarks_run_are_replaced(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nHand-written text stays.\n")
    write_results(doc, [_result("exr-io", "1"), _result("tiling", "2")])
    write_results(doc, [_result("tiling", "3")])
    text = doc.read_text()
    assert "Hand-written text stays." in text and text.count(BEGIN) == 1 and text.count(END) == 1
    assert "| x | 1 |" in text and "| x | 3 |" in text and "| x | 2 |" not in text
    assert text.index("<!-- bench:exr-io -->") < text.index("<!-- bench:tiling -->")  # BENCHMARKS order kept
