"""`make demo`: sample footage through the real command line, then an HTML report of what happened.

Each step runs `matchcut …` in a subprocess exactly as an artist or a host adapter would, so the demo
exercises the CLI, the job runner and the model zoo end to end. A tool adds its step to STEPS: a module with
``run(report, out_dir, log)`` that makes the footage it needs, runs the CLI and adds a report section.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path

#: Demo steps in report order, "module:function".
STEPS = (
    "matchcut.demo.degrain:run",
    "matchcut.demo.match:run",
    "matchcut.demo.retime:run",
    "matchcut.demo.continuity:run",
    "matchcut.demo.matte:run",
    "matchcut.demo.relight:run",
    "matchcut.demo.learn:run",
    "matchcut.demo.coverage:run",
)


def run_demo(out_dir: Path, log: Callable[[str], None] = print) -> Path:
    """Run every demo step into `out_dir` and return the report's path (`out_dir/index.html`)."""
    from matchcut import __version__
    from matchcut.demo.common import run_cli
    from matchcut.demo.report import Report

    out_dir = Path(out_dir).resolve()
    report = Report(out_dir, f"Matchcut {__version__}: demo on the sample footage")
    sec = report.section("Sample footage")
    report.text(sec, "Every shot is generated from scikit-image's bundled photographs (public domain or CC0): "
                     "scene-linear EXR with sub-pixel camera motion and grain, and a known answer for each tool. "
                     "Nothing is downloaded.")
    report.pre(report.section("matchcut doctor"), run_cli(["doctor"], log).stdout)
    report.pre(report.section("matchcut models list"), run_cli(["models", "list"], log).stdout)
    for step in STEPS:
        module, func = step.split(":")
        t0 = time.perf_counter()
        getattr(importlib.import_module(module), func)(report, out_dir, log)
        log(f"demo step {module.rsplit('.', 1)[-1]}: {time.perf_counter() - t0:.1f} s")
    path = report.write()
    log(f"report: {path}")
    return path
