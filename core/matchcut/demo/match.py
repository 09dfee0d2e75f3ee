"""Demo step: `matchcut match` on a pickup shot whose light does not match the hero shot."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from matchcut.demo.common import display, run_cli
from matchcut.demo.report import Report


def _mismatch(pixels: np.ndarray) -> np.ndarray:
    """Another day's light: warmer and a stop darker, falling off towards frame right (a window left of camera)."""
    falloff = np.linspace(1.25, 0.65, pixels.shape[1], dtype=np.float32)[None, :, None]
    return pixels * np.array([1.25, 1.0, 0.75], np.float32) * 0.5 * falloff


def run(report: Report, out_dir: Path, log: Callable[[str], None]) -> None:
    from matchcut.demo.footage import make_shot
    from matchcut.frames import read_plate, write_plate
    from matchcut.matching.lab import delta_e2000, rgb_to_lab
    from matchcut import color

    foot = out_dir / "footage"
    hero = make_shot(foot, "sh035_hero", "astronaut", frames=1, pan=(0.0, 0.0), seed=20,
                     description="the hero shot: the reference")
    truth = make_shot(foot, "sh040_truth", "astronaut", frames=6, pan=(-14.0, 4.0), zoom=0.06, seed=30,
                      description="the pickup as it should look: the known answer")
    pickup = foot / "sh040" / "sh040.####.exr"
    for f in truth.frames:
        plate = read_plate(truth.pattern.replace("####", f"{f:04d}"))
        write_plate(str(pickup).replace("####", f"{f:04d}"), plate.with_pixels(_mismatch(plate.pixels)))
    out = out_dir / "match"
    args = ["match", "--reference", hero.pattern, "--input", str(pickup), "--output", str(out / "sh040_match.####.exr"),
            "--regional", "--local", "--keyframes", "3", "--lut", str(out / "sh040.cube"), "--cdl",
            str(out / "sh040.cc"), "--cdl-tolerance", "10", "--events", "jsonl"]
    t0 = time.perf_counter()
    proc = run_cli(args, log)
    seconds = time.perf_counter() - t0
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    sec = report.section("matchcut match: a pickup shot matched to the hero shot")
    report.text(sec, "The pickup (sh040) was lit another day: warmer, a stop darker, with light falling off across "
                     "the frame. Shot match with the person/set split and the local light field; the grade is also "
                     "exported as a 3D LUT and an ASC CDL (the CDL cannot carry the falloff, so its tolerance is "
                     "raised here to show it; by default it would be refused).")
    report.pre(sec, "$ matchcut " + " ".join(args) + "\n" + "\n".join(
        json.dumps(e) for e in events if e["event"] in ("info", "warning", "done")))
    space = color.resolve_colorspace(color.SCENE_LINEAR)
    mid = truth.frames[len(truth.frames) // 2]
    before = read_plate(str(pickup).replace("####", f"{mid:04d}"))
    after = read_plate(str(out / "sh040_match.####.exr").replace("####", f"{mid:04d}"))
    answer = read_plate(truth.pattern.replace("####", f"{mid:04d}"))
    hero_plate = read_plate(hero.pattern.replace("####", f"{hero.frames[0]:04d}"))
    for name, plate, caption in (("match_before", before, "sh040 as shot"),
                                 ("match_reference", hero_plate, "sh035, the reference"),
                                 ("match_after", after, "sh040 after matchcut match"),
                                 ("match_truth", answer, "sh040 as it should look (known answer)")):
        report.figure(sec, name, display(plate.pixels, space), caption)

    def de(a):
        lin = [color.convert(x.pixels[..., :3], space, "Linear Rec.709 (sRGB)") for x in (a, answer)]
        d = delta_e2000(rgb_to_lab(lin[0]), rgb_to_lab(lin[1]))
        return f"{d.mean():.2f}", f"{np.percentile(d, 95):.2f}"

    report.table(sec, ["frame " + str(mid), "mean CIEDE2000 vs the known answer", "95th percentile"],
                 [["as shot", *de(before)], ["after match", *de(after)]])
    report.text(sec, f"{len(truth.frames)} frames in {seconds:.1f} s through the CLI; LUT: {out / 'sh040.cube'}, "
                     f"CDL: {out / 'sh040.cc'}.")
    log(f"match: {len(truth.frames)} frames in {seconds:.1f} s")
