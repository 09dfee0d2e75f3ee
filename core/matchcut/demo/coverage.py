"""Demo step: `matchcut coverage` on a short edit with a gap, a clip whose media ends early, an offline clip and
frames lost inside a shot (``matchcut.testing.productions``), its proposals shown with their scores; the punch-in
of the lost frames is scored against the close camera's true frames."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from matchcut.demo.common import display, run_cli
from matchcut.demo.report import Report
from matchcut.testing.metrics import psnr

#: Sides divisible by 4, so the close camera's framing is whole pixels of the wide one (the truth of a punch-in).
SIZE = (180, 320)


def run(report: Report, out_dir: Path, log: Callable[[str], None]) -> None:
    from matchcut import color
    from matchcut.frames import read_plate
    from matchcut.testing.productions import make_production
    from matchcut.vision.upscale import lanczos

    folder = out_dir / "coverage"
    prod = make_production(folder / "production", size=SIZE)
    out = folder / "out"
    args = ["coverage", "--timeline", str(prod.timeline), "--media", str(prod.media), "--out", str(out),
            "--events", "jsonl"]
    t0 = time.perf_counter()
    proc = run_cli(args, log)
    seconds = time.perf_counter() - t0
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    data = json.loads((out / "report" / "coverage.json").read_text())

    sec = report.section("matchcut coverage: an edit with a gap, a too-short clip, an offline clip and lost frames")
    shown = [e for e in events if e["event"] in ("start", "info")][:7] + events[-1:]
    report.pre(sec, "$ matchcut " + " ".join(args) + "\n" + "\n".join(json.dumps(e) for e in shown))
    rows = []
    for h in data["holes"]:
        best = h["proposals"][0] if h["proposals"] else None
        rows.append([h["index"], f"{h['kind']}, {h['frames']} frames", len(h["proposals"]),
                     best["label"] if best else "none", best["score_text"] if best else h["not_applicable"][-1]["why"]])
    report.table(sec, ["hole", "what", "proposals", "best", "score"], rows)
    space = color.resolve_colorspace(color.SCENE_LINEAR)
    lost = data["holes"][-1]
    punch = next((p for p in lost["proposals"] if p["kind"] == "punch-in"), None)
    text = (f"{data['summary']} in {seconds:.0f} s. New timeline {data['new_timeline']}: the edit as it was, with "
            "each hole's best proposal enabled on the track Coverage 1 and the others disabled above it. Full "
            f"report: {out / 'report' / 'index.html'}.")
    if punch is not None:
        first = punch["rendered"]["first"]
        made = read_plate(punch["rendered"]["pattern"].replace("####", f"{first:04d}")).pixels[..., :3]
        truth_plate = read_plate(prod.truth / "sc01_close" / "sc01_close.1024.exr")
        wide = display(read_plate(prod.media / "sc01_wide" / "sc01_wide.1024.exr").pixels[..., :3], space)
        truth = display(truth_plate.pixels[..., :3], space)
        h, w = truth.shape[:2]
        blow_up = lanczos(wide[h // 4:h // 4 + h // 2, w // 4:w // 4 + w // 2], h, w).clip(0, 1)
        made_display = display(made, space)
        report.figure(sec, "coverage_punch", made_display, "the lost frame 1024, a punch-in on the wide camera "
                      f"({punch['cost']['model']})")
        report.figure(sec, "coverage_lanczos", blow_up, "the same box blown up with Lanczos")
        report.figure(sec, "coverage_truth", truth, "frame 1024 as the close camera shot it (the known answer)")
        text += (f" The lost frame 1024 as a punch-in on the wide: {psnr(made_display, truth):.2f} dB against the "
                 f"close camera's true frame, {psnr(blow_up, truth):.2f} dB for a Lanczos blow-up of the same box.")
    report.text(sec, text)
    log(f"coverage: {data['summary']} in {seconds:.1f} s")
