"""Inference benchmarks: onnxruntime vs PyTorch eager, tiled vs whole frame, the job runner's overlap."""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path

import numpy as np

from matchcut.bench.timing import Result, median_seconds, peak_rss_mb

HD = (1080, 1920)


def _degrain_onnx(tmp: Path):
    """The degrain-small architecture as a torch module and its ONNX export (weights do not change speed)."""
    import torch

    from matchcut.models.zoo import degrain

    torch.manual_seed(0)
    net = degrain.make_network().eval()
    path = tmp / "degrain-bench.onnx"
    degrain.export(net, path)
    return net, path


def bench_ort_vs_torch(quick: bool = False) -> Result:
    """onnxruntime CPU against PyTorch eager on the same exported network (degrain-small) at 1920x1080."""
    import torch

    from matchcut import settings
    from matchcut.runtime import DeviceOptions, create_session

    torch.set_num_threads(settings.threads())
    x = np.random.default_rng(0).random((1, 3, *HD), dtype=np.float32)
    res = Result("ort-vs-torch", "onnxruntime CPU vs PyTorch eager, degrain-small network, 1920x1080",
                 ["runtime", "ms / frame", "speed vs torch eager", "max abs diff vs torch"])
    with tempfile.TemporaryDirectory() as tmp:
        net, path = _degrain_onnx(Path(tmp))
        session = create_session(path, DeviceOptions(provider="cpu"))
        name = session.inputs[0].name
        with torch.inference_mode():
            ref = net(torch.from_numpy(x)).numpy()
            t_torch = median_seconds(lambda: net(torch.from_numpy(x)), repeat=2 if quick else 3)
        out = session.run({name: x})
        got = next(iter(out.values()))
        t_ort = median_seconds(lambda: session.run({name: x}), repeat=2 if quick else 3)
    res.rows.append(["PyTorch eager (fp32, NCHW)", f"{t_torch * 1e3:.0f}", "1.00x (baseline)", "-"])
    res.rows.append(["onnxruntime CPU (fp32)", f"{t_ort * 1e3:.0f}", f"{t_torch / t_ort:.2f}x",
                     f"{float(np.abs(got - ref).max()):.1e}"])
    res.notes.append(f"Threads: {settings.threads()} for both. Same weights in both runtimes (seeded random init).")
    return res


def bench_tiling(quick: bool = False) -> Result:
    """Tiled inference against one whole-frame run, degrain-small ONNX at 1920x1080."""
    from matchcut.models.zoo import degrain
    from matchcut.runtime import DeviceOptions, create_session, plan_tiles, run_tiled

    x = np.random.default_rng(1).random((1, 3, *HD), dtype=np.float32)
    overlap = -(-degrain.receptive_field() // degrain.SIZE_MULTIPLE) * degrain.SIZE_MULTIPLE
    res = Result("tiling", f"Tiled vs whole-frame inference, degrain-small, 1920x1080, overlap {overlap} px "
                           "(the receptive field, rounded up to the size multiple)",
                 ["tiling", "tiles", "pixels processed", "ms / frame", "cost vs whole frame", "max abs diff vs whole"])
    repeat = 2 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        _, path = _degrain_onnx(Path(tmp))
        session = create_session(path, DeviceOptions(provider="cpu"))
        name = session.inputs[0].name

        def fn(a: np.ndarray) -> np.ndarray:
            return next(iter(session.run({name: np.ascontiguousarray(a)}).values()))

        whole = fn(x)
        t_whole = median_seconds(lambda: fn(x), repeat=repeat)
        res.rows.append(["whole frame", 1, "1.00x", f"{t_whole * 1e3:.0f}", "1.00x (baseline)", "-"])
        for tile in (512, 256):
            tiles = plan_tiles(HD[0], HD[1], tile, overlap, degrain.SIZE_MULTIPLE)
            px = sum(t.h * t.w for t in tiles) / (HD[0] * HD[1])
            got = run_tiled(fn, x, tile=tile, overlap=overlap, multiple=degrain.SIZE_MULTIPLE)
            t = median_seconds(lambda: run_tiled(fn, x, tile=tile, overlap=overlap, multiple=degrain.SIZE_MULTIPLE),
                               repeat=repeat)
            res.rows.append([f"{tile} px tiles", len(tiles), f"{px:.2f}x", f"{t * 1e3:.0f}", f"{t / t_whole:.2f}x",
                             f"{float(np.abs(got - whole).max()):.1e}"])
    res.notes.append("Tiling costs the overlap it recomputes; it exists for memory (frames larger than the device "
                     "can hold), not speed. Whole-frame is the default.")
    return res


def _bench_frames(folder: Path, count: int) -> str:
    from matchcut.bench.io import grainy_plate
    from matchcut.frames import write_plate

    for i in range(count):
        write_plate(folder / f"in.{1001 + i:04d}.exr", grainy_plate(seed=i), channels=("R", "G", "B"))
    return str(folder / "in.####.exr")


def bench_runner_overlap(quick: bool = False) -> Result:
    """The job runner end to end against the larger of pure I/O and pure inference on the same frames."""
    from matchcut.bench.io import grainy_plate  # noqa: F401  (footage helpers load OCIO once, up front)
    from matchcut.frames import read_plate, write_plate
    from matchcut.jobs.events import NullSink
    from matchcut.jobs.runner import run_job
    from matchcut.jobs.spec import JobSpec
    from matchcut.tools import get_tool

    count = 4 if quick else 8
    res = Result("runner", f"Job runner overlap, degrain-small via `apply`, {count} frames of 1920x1080 EXR (PIZ half)",
                 ["measurement", "seconds", "ratio"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pattern = _bench_frames(tmp, count)
        frames = list(range(1001, 1001 + count))
        paths = [pattern.replace("####", f"{f:04d}") for f in frames]

        t0 = time.perf_counter()
        for i, p in enumerate(paths):
            write_plate(tmp / f"io.{i}.exr", read_plate(p), kind="plate")
        t_io = time.perf_counter() - t0

        job = JobSpec(tool="apply", inputs={"plate": pattern}, outputs={"main": str(tmp / "out.####.exr")},
                      frames=frames, params={"model": "degrain-small"}, device={"provider": "cpu"}, base_dir=tmp)
        tool = get_tool("apply")
        tool.prepare(job, lambda *a, **k: None)
        plates = [read_plate(p) for p in paths]
        items = tool.plan(job)
        t0 = time.perf_counter()
        for item, plate in zip(items, plates):
            tool.process(item, {"plate": [plate]})
        t_infer = time.perf_counter() - t0
        # Free that session before timing the job: two live 1080p sessions (two memory arenas) slowed the
        # job by ~20 % here, which would be charged to the runner.
        del tool, plates
        gc.collect()

        t0 = time.perf_counter()
        run_job(get_tool(job.tool), job, NullSink())
        t_job = time.perf_counter() - t0
    bound = max(t_io, t_infer)
    res.rows += [
        ["pure I/O (read + write every frame, sequential)", f"{t_io:.2f}", "-"],
        ["pure inference (tool.process on frames in memory)", f"{t_infer:.2f}", "-"],
        ["job runner end to end", f"{t_job:.2f}", f"{t_job / bound:.2f}x of max(I/O, inference)"],
        ["sequential sum (no overlap at all)", f"{t_io + t_infer:.2f}", f"{(t_io + t_infer) / bound:.2f}x"],
    ]
    res.notes.append("1.00x would mean I/O hides completely behind inference. On a CPU-only machine the reader, "
                     "writer and onnxruntime share the same cores, so I/O can hide only in the gaps onnxruntime "
                     "leaves; with inference on a GPU the reader and writer have the CPU to themselves.")
    res.notes.append(f"Peak resident memory of the benchmark process so far: {peak_rss_mb():.0f} MB.")
    return res
