"""Demo step: `matchcut learn` on a shot whose tracking markers were painted out on three frames (by a known
inpainting, standing in for the artist: every frame has its answer), then `matchcut apply` with the learned model
on every frame, scored against that answer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from matchcut.demo.common import display, run_cli
from matchcut.demo.report import Report
from matchcut.testing.metrics import psnr

#: The frames the artist fixed by hand, and the shot's length: the rest are the model's.
TAUGHT = (1001, 1006, 1011)
FRAMES = 24
SIZE = (256, 384)
#: Training steps for the demo: short enough for `make demo` on a laptop's CPU (about two minutes on 2 cores).
STEPS = 300


def run(report: Report, out_dir: Path, log: Callable[[str], None]) -> None:
    from matchcut import color
    from matchcut.frames import read_plate
    from matchcut.testing.fixes import fix_shot

    shot = fix_shot("tune", "paint-out", size=SIZE, frames=FRAMES, training=TAUGHT, log=log)
    folder = out_dir / "learn"
    plate, target = shot.write(folder)
    model = folder / "model"
    args = ["learn", "--input", plate, "--target", target, "--model", str(model), "--steps", str(STEPS),
            "--force", "--events", "jsonl"]
    t0 = time.perf_counter()
    proc = run_cli(args, log)
    seconds = time.perf_counter() - t0
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    output = str(folder / "out" / "paint-out.####.exr")
    apply_args = ["apply", "--model", str(model), "--input", plate, "--output", output, "--events", "jsonl"]
    run_cli(apply_args, log)

    sec = report.section("matchcut learn: tracking markers painted out on three frames, learned, applied to all")
    measures = [e for e in events if e["event"] == "step" and "psnr" in e]
    shown = [e for e in events if e["event"] in ("start", "info")][:4] + measures[-1:] + events[-1:]
    report.pre(sec, "$ matchcut " + " ".join(args) + "\n" + "\n".join(json.dumps(e) for e in shown) +
               "\n$ matchcut " + " ".join(apply_args))
    space = color.resolve_colorspace(color.SCENE_LINEAR)

    rows, worst = [], None
    for f in shot.scored:
        fixed = read_plate(output.replace("####", f"{f:04d}")).pixels[..., :3]
        b, a, t = (display(p, space) for p in (shot.inputs[f], fixed, shot.truths[f]))
        before, after = psnr(b, t), psnr(a, t)
        rows.append((f, before, after))
        if worst is None or after - before < worst[2] - worst[1]:
            worst = (f, before, after)
    far = shot.scored[-1]
    fixed = read_plate(output.replace("####", f"{far:04d}")).pixels[..., :3]
    report.figure(sec, "learn_before", display(shot.inputs[far], space), f"frame {far}, as shot: the markers")
    report.figure(sec, "learn_after", display(fixed, space), f"frame {far}, the learned fix (never shown to it)")
    report.figure(sec, "learn_truth", display(shot.truths[far], space), f"frame {far}, painted out (the known answer)")
    summary = json.loads((model / "training.json").read_text())
    mean_before = float(np.mean([r[1] for r in rows]))
    mean_after = float(np.mean([r[2] for r in rows]))
    report.text(sec, f"Trained on frames {', '.join(map(str, TAUGHT))} ({summary['held_out']}) for "
                     f"{summary['steps']} steps in {seconds:.0f} s on {summary['device']}; applied to all {FRAMES} "
                     f"frames. On the {len(rows)} frames it was not taught, PSNR against the known answer "
                     f"(display-referred): {mean_before:.2f} dB as shot, {mean_after:.2f} dB with the learned fix "
                     f"({mean_after - mean_before:+.2f} dB); the worst frame, {worst[0]}: {worst[1]:.2f} -> "
                     f"{worst[2]:.2f} dB. Model: {summary['model']} (sha256 {summary['sha256'][:12]}...).")
    report.table(sec, ["frame", "as shot (dB)", "learned fix (dB)", "gain"],
                 [[f, f"{b:.2f}", f"{a:.2f}", f"{a - b:+.2f}"] for f, b, a in rows[::3]])
    log(f"learn: {summary['steps']} steps in {seconds:.1f} s, {mean_before:.2f} -> {mean_after:.2f} dB")
