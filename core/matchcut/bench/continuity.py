"""Continuity benchmark: one compared pair at 1920x1080 on CPU, split into alignment, detection and report."""

from __future__ import annotations

import tempfile
import time

from matchcut.bench.timing import Result, median_seconds


def bench_continuity(quick: bool = False) -> Result:
    """Seconds per stage for a planted 1080p pair; the ratio is against plain SSIM on the same aligned pair."""
    import numpy as np

    from matchcut.continuity.compare import compare
    from matchcut.continuity.detect import ssim_regions
    from matchcut.testing.planted import make_pair
    from matchcut.continuity.report import comparison_dict, write_report

    repeat = 1 if quick else 3
    pair = make_pair("astronaut", seed=0, size=(1080, 1920))
    stages: dict[str, list[float]] = {"alignment": [], "detection": [], "report": []}
    last = None
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeat + 1):  # the first run warms OpenCV's and OCIO's caches and is not counted
            c = compare(pair.a, pair.b, person=False)
            t0 = time.perf_counter()
            write_report(folder, "bench", [(c, comparison_dict(c, "A / B", "a", "b", 1, 1))])
            report = time.perf_counter() - t0
            if last is not None:
                stages["alignment"].append(c.seconds["alignment"])
                stages["detection"].append(c.seconds["detection"])
                stages["report"].append(report)
            last = c
    baseline = median_seconds(lambda: ssim_regions(last.aligned_a, last.display_b, last.valid), repeat=repeat)
    res = Result("continuity", "Continuity check, one pair at 1920x1080, CPU",
                 ["stage", "seconds", "x SSIM baseline"])
    total = 0.0
    for name, values in stages.items():
        s = float(np.median(values))
        total += s
        res.rows.append([name, f"{s:.3f}", f"{s / baseline:.1f}"])
    res.rows.append(["total per pair", f"{total:.3f}", f"{total / baseline:.1f}"])
    res.rows.append(["baseline: SSIM map + components on the aligned pair", f"{baseline:.3f}", "1.0"])
    res.notes.append(f"Analysis at {last.display_b.shape[1]}x{last.display_b.shape[0]} (long side 720 px); person "
                     f"detection off; {len(last.regions)} regions flagged. Median of {repeat} run(s) after a warm-up.")
    return res
