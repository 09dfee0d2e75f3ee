"""Farm benchmark: what chunking costs against one long run, per tool and chunk size, measured in one run.

Each chunk is what a farm task runs, a ``matchcut run JOB --chunk A-B`` process of its own: interpreter and
import start-up, the model load, the whole-job plan (fill's defect scan, retime's timing plan, shot match's
keyframe fits), then its frames. The baseline is the same job as one ``matchcut run`` process in the same run
(the faster of two).
Chunks are cut as Deadline and OpenCue cut them (``chunks.split``: at most N consecutive frames); a size below the
tool's temporal window is raised to it, as ``matchcut farm`` does.
"""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from matchcut.bench.timing import Result
from matchcut.farm.chunks import DEFAULT_CHUNKS

SIZES = (1, 5, 10, 50)
FRAME = (256, 448)  # height, width: 1/18 of 1920x1080's pixels, so a frame's work is not nothing
HD_PIXELS = 1920 * 1080
#: The tools timed and their jobs (inputs on the benchmark's shot; params).
TOOLS = {
    "apply": ({"plate": "plates/p.####.exr"}, {"model": "degrain-small"}),
    "match": ({"plate": "plates/p.####.exr", "reference": "ref.exr"}, {}),
    "fill": ({"plate": "bad/p.####.exr"}, {}),
    "retime": ({"plate": "plates/p.####.exr"}, {"speed": 0.5}),
}


def _shot(folder: Path, frames: list[int]) -> None:
    """A photo panning over ``frames`` (plates/), the same with a black frame and a missing one (bad/: what a fill
    rebuilds), and a warmer hero frame (ref.exr)."""
    from matchcut import color
    from matchcut.frames import Plate, write_plate
    from matchcut.testing.photos import photo
    from matchcut.testing.sequences import warped_frame

    img = photo("astronaut", colorspace="srgb")
    middle = frames[len(frames) // 2]
    for f in frames:
        display = warped_frame(img, FRAME, f - frames[0])
        linear = color.convert(display, color.SRGB_DISPLAY, color.SCENE_LINEAR)
        write_plate(folder / "plates" / f"p.{f:04d}.exr", Plate(linear))
        if f != middle + 3:
            write_plate(folder / "bad" / f"p.{f:04d}.exr", Plate(linear * 0.0 if f == middle else linear))
    ref = (warped_frame(img, FRAME, 3) * np.array([1.1, 0.95, 0.8], np.float32)).astype(np.float32)
    write_plate(folder / "ref.exr", Plate(color.convert(ref, color.SRGB_DISPLAY, color.SCENE_LINEAR)))


def _job(folder: Path, tool: str, frames: list[int], out: str) -> Path:
    inputs, params = TOOLS[tool]
    path = folder / f"{tool}_{out}.json"
    path.write_text(json.dumps({"matchcut_job": 1, "tool": tool, "inputs": inputs,
                                "outputs": {"main": f"{out}/{tool}/o.####.exr"},
                                "frames": f"{frames[0]}-{frames[-1]}", "params": params,
                                "device": {"provider": "cpu"}}))
    return path


def _seconds(worker: str, job: Path, chunk: tuple[int, int] | None = None) -> float:
    """Wall-clock seconds of one worker process running ``job`` (or one chunk of it)."""
    args = [worker, "run", str(job)] + (["--chunk", f"{chunk[0]}-{chunk[1]}"] if chunk else [])
    t0 = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(f"bench farm: {' '.join(args)} failed: {lines[-1] if lines else done.returncode}")
    return seconds


def _sample(chunks: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """At most ``limit`` chunks spread over the range (all of them when there are that few)."""
    if len(chunks) <= limit:
        return chunks
    step = len(chunks) / limit
    return [chunks[int(i * step)] for i in range(limit)]


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """(start-up per chunk, seconds per frame): the least-squares line through (frames in a process, its seconds),
    one point per chunk size (the median chunk) and the one run; start-up and per-frame cost never below 0."""
    frames, seconds = (np.array(v, float) for v in zip(*points))
    per_frame, start_up = np.polyfit(frames, seconds, 1)
    return max(float(start_up), 0.0), max(float(per_frame), 0.0)


def bench_farm(quick: bool = False) -> Result:
    """Every tool's job in one process against its chunks at sizes 1, 5, 10 and 50, each chunk its own process."""
    from matchcut import settings
    from matchcut.farm.bundle import this_worker
    from matchcut.farm.chunks import chunk_size, output_frames, split
    from matchcut.jobs.spec import load_job
    from matchcut.tools import get_tool

    count = 12 if quick else 24
    limit = 3 if quick else 6  # chunks timed per size; the rest are like them (the same plan, other frames)
    frames = list(range(1001, 1001 + count))
    worker = this_worker()
    scale = HD_PIXELS / (FRAME[0] * FRAME[1])
    res = Result("farm", f"Farm chunks against one run: {count} frames of {FRAME[1]}x{FRAME[0]} EXR per tool, "
                         "each chunk a `matchcut run --chunk` process, CPU",
                 ["tool", "chunk size", "chunks", "seconds, all chunks", "vs one run"])
    choices = []
    with tempfile.TemporaryDirectory(prefix="matchcut-bench-farm-") as tmp:
        folder = Path(tmp)
        _shot(folder, frames)
        for name in TOOLS:
            tool = get_tool(name)
            one = _job(folder, name, frames, "one")
            spec = load_job(one)
            tool.check(spec)
            outputs = output_frames(tool, spec)
            # the one run twice (the second into its own folder: a rerun would resume), the faster kept
            baseline = min(_seconds(worker, one), _seconds(worker, _job(folder, name, frames, "again")))
            points = [(len(outputs), baseline)]
            res.rows.append([name, f"one run ({len(outputs)} frames)", "1", f"{baseline:.1f}", "1.00x (baseline)"])
            for asked in SIZES:
                size, _ = chunk_size(tool, asked)
                chunks = split(outputs, size)
                job = _job(folder, name, frames, f"chunk{asked}")
                timed = _sample(chunks, limit)
                seconds = [_seconds(worker, job, c) for c in timed]
                points.append((float(np.median([b - a + 1 for a, b in timed])), float(np.median(seconds))))
                total = sum(seconds) * len(chunks) / len(timed)
                shown = f"{asked}" if size == asked else f"{asked} (raised to {size})"
                sampled = "" if len(timed) == len(chunks) else f" ({len(timed)} timed)"
                res.rows.append([name, shown, f"{len(chunks)}{sampled}", f"{total:.1f}", f"{total / baseline:.2f}x"])
            start_up, per_frame = _fit(points)
            if start_up < 0.05 or per_frame < 0.005:  # the chunks' cost is not start-up plus frames
                choices.append(f"**{name}**: no line of start-up plus a cost per frame fits its chunks (fill's cost "
                               "sits in the frames it rebuilds: each chunk that has one loads RIFE); read its rows")
                continue
            here = math.ceil(start_up / (0.1 * per_frame))
            hd = math.ceil(start_up / (0.1 * per_frame * scale))
            choices.append(f"**{name}**: {start_up:.1f} s a chunk, {per_frame * 1000:.0f} ms a frame; a tenth from "
                           f"{here} frames a chunk here, about {hd} at 1920x1080")
    res.notes.append(f"Threads: {settings.threads()}. Chunks run one after another on this machine, as on one farm "
                     f"worker; a farm runs them side by side. Sizes with more than {limit} chunks are timed on that "
                     "many chunks spread over the range and scaled to all of them. The machine is shared: single "
                     "timings vary by a third, so read the start-up fit below rather than one row.")
    res.notes.append("What a chunk costs before its frames (start-up: a process, imports, the model load and the "
                     "whole-job plan), the line seconds = start-up + frames x per frame fitted through the median "
                     "chunk of each size and the one run (the faster of two), and the chunk size from which start-up is at most a tenth of a chunk: "
                     + "; ".join(choices) + f". At 1920x1080 (the estimate assumes a frame's work grows with its "
                     f"{scale:.0f}x pixels and start-up does not): shot match's start-up is its keyframe fits, which "
                     "every chunk repeats (one per 12 frames of the whole shot, at 640 px whatever the plate), and "
                     "fill's includes the whole shot's defect scan and, in a chunk that rebuilds a frame, RIFE's load: "
                     "both grow with the shot's length, so those two keep long chunks; apply and retime pay the "
                     "process and the model load only. Defaults (`matchcut.farm.chunks.DEFAULT_CHUNKS`): "
                     + ", ".join(f"{k} {v}" for k, v in DEFAULT_CHUNKS.items()) + ".")
    return res
