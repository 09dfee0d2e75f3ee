"""Zoo throughput on the bench device (`matchcut bench --device cpu|cuda`): every zoo model at 1080p and 4K.

Four figures per model, size and precision, each frames per second over the same frames:
- model only: the graph on inputs already on the device, outputs left there (BoundRunner.compute);
- run(): upload, compute and download one frame at a time (Session.run);
- run_many(): the same with upload and download overlapped with compute (Session.run_many), the pipeline;
- end to end: the tool's own function from a float32 (H, W, 3) frame to its result on the host (padding,
  layout, tiling with the memory budget, resizing, decoding).
The MediaPipe models take a fixed small input: their model figures are at that size, their end-to-end figures
at 1080p / 4K. A session that did not get the asked-for GPU provider stops the benchmark (it would measure the CPU).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from matchcut.bench.timing import Result

#: The sizes measured, (height, width).
SIZES = {"1080p": (1080, 1920), "4K": (2160, 3840)}
#: Frames timed per figure: on a GPU enough to average out launch jitter; on a 2-core CPU a frame is seconds.
FRAMES = {"cuda": 30, "cpu": 2}
#: Frames per second a film plays at: a figure above it keeps up with playback.
REAL_TIME_FPS = 24.0
#: Unmeasured runs before timing (cuDNN's algorithm search and the arena's first allocations happen there);
#: one on the CPU, where nothing is searched and a RIFE frame takes seconds.
WARMUP = {"cuda": 3, "cpu": 1}
#: --quick times this many times fewer frames.
QUICK_DIVISOR = 4
#: RIFE's second frame: the first moved by this many pixels (rows, columns), a plain camera move.
MOTION = (2, -3)
#: The zoo models in the order they are reported.
MODELS = ("rife-4.25", "rife-4.25-half", "rife-hdv3", "degrain-small", "selfie-segmentation",
          "selfie-segmentation-landscape", "face-detection", "face-landmarks")


def _fps(run: Callable[[int], object], frames: int, warmup: int) -> float:
    """Frames per second of ``run(n)`` (processes n frames) over ``frames`` frames, after ``warmup`` unmeasured."""
    if warmup:
        run(warmup)
    t0 = time.perf_counter()
    run(frames)
    return frames / (time.perf_counter() - t0)


def _frame(height: int, width: int) -> np.ndarray:
    from matchcut.bench.zoo import _hd_photo

    return _hd_photo(height, width)


def _model_feeds(session: Any, manifest: Any, frame: np.ndarray) -> dict[str, np.ndarray]:
    """The model's inputs at the frame's size padded to the size multiple (fixed-size models: their own size);
    image inputs from the frame, RIFE's second frame moved a few pixels, timestep 0.5."""
    height, width = frame.shape[:2]
    mult = max(1, manifest.runtime.size_multiple)
    ph, pw = -(-height // mult) * mult, -(-width // mult) * mult
    feeds = {}
    for k, info in enumerate(session.inputs):
        shape = [d if isinstance(d, int) and d > 0 else None for d in info.shape]
        if len(shape) == 4 and shape[1] == 3:  # NCHW image
            img = np.pad(frame, ((0, ph - height), (0, pw - width), (0, 0)), mode="edge").transpose(2, 0, 1)[None]
            feeds[info.name] = np.ascontiguousarray(np.roll(img, (MOTION[0] * k, MOTION[1] * k), axis=(2, 3)))
        elif len(shape) == 4 and shape[3] == 3:  # NHWC at a fixed size
            import cv2

            feeds[info.name] = cv2.resize(frame, (shape[2], shape[1]), interpolation=cv2.INTER_AREA)[None]
        else:
            feeds[info.name] = np.full([d or 1 for d in shape], 0.5, np.float32)
    return feeds


def _end_to_end(model_id: str, manifest: Any, session: Any, options: Any, frame: np.ndarray) -> Callable[[], object]:
    """One frame through the tool's own function for ``model_id`` (see the module docstring)."""
    if manifest.task == "interpolation":
        from matchcut.vision.interpolation import interpolate

        other = np.ascontiguousarray(np.roll(frame, MOTION, axis=(0, 1)))
        return lambda: interpolate(frame, other, 0.5, model=model_id, device=options)
    if model_id.startswith("selfie-segmentation"):
        from matchcut.vision.segmentation import person_mask

        variant = "landscape" if model_id.endswith("landscape") else "general"
        return lambda: person_mask(frame, variant=variant, device=options)
    if model_id == "face-detection":
        from matchcut.vision.faces import detect_faces

        return lambda: detect_faces(frame, device=options)
    if model_id == "face-landmarks":
        from matchcut.vision.faces import detect_faces
        from matchcut.vision.faces_mesh import face_landmarks

        faces = detect_faces(frame, device=options)
        return (lambda: face_landmarks(frame, faces[0], device=options)) if faces else (lambda: None)
    from matchcut.runtime.budget import plan_for, run_budgeted

    name, out = manifest.inputs[0].name, manifest.outputs[0].name
    fn = session.image_fn(name, out)
    height, width = frame.shape[:2]
    plan = plan_for(session, manifest.runtime, height, width, model=model_id)

    def run() -> np.ndarray:
        image = np.ascontiguousarray(frame.transpose(2, 0, 1)[None])
        y = run_budgeted(fn, image, plan=plan, overlap=manifest.runtime.receptive_field,
                         multiple=max(1, manifest.runtime.size_multiple), tileable=manifest.runtime.tileable,
                         model=model_id)
        return np.ascontiguousarray(y[0].transpose(1, 2, 0))

    run.plan = plan  # type: ignore[attr-defined]
    return run


def _device_name(device: str) -> str:
    from matchcut.bench import machine_line
    from matchcut.runtime.session import gpu_name

    if device == "cuda":
        return gpu_name(0) or "an NVIDIA GPU nvidia-smi does not name"
    return machine_line().split(", ")[2]


def _measure(model_id: str, precision: str, device: str, sizes: dict[str, tuple[int, int]], frames: int,
             res: Result) -> None:
    from matchcut.models.registry import find_model
    from matchcut.runtime import DeviceOptions, create_model_session
    from matchcut.runtime.backends import CUDA, TENSORRT

    manifest = find_model(model_id)
    options = DeviceOptions(provider=device, precision=precision)
    session = create_model_session(manifest, options, on_warning=lambda msg: res.notes.append(f"{model_id}: {msg}"))
    if device == "cuda" and session.provider not in (CUDA, TENSORRT):
        raise RuntimeError(f"{model_id}: asked for CUDA, the session runs on {session.active}: nothing to measure")
    fixed = manifest.runtime.fixed_size is not None
    runner = session.runner()
    for label, (height, width) in sizes.items():
        frame = _frame(height, width)
        feeds = _model_feeds(session, manifest, frame)
        bound = runner.upload(feeds)
        warm = WARMUP[device]
        model_fps = _fps(lambda n: [runner.compute(bound) for _ in range(n)], frames, warm)
        run_fps = _fps(lambda n: [session.run(feeds) for _ in range(n)], frames, warm)
        many_fps = _fps(lambda n: list(session.run_many(feeds for _ in range(n))), frames, warm)
        e2e = _end_to_end(model_id, manifest, session, options, frame)
        e2e_fps = _fps(lambda n: [e2e() for _ in range(n)], frames, warm)
        size = "x".join(str(d) for d in next(iter(feeds.values())).shape[-3:]) if fixed else f"{width}x{height}"
        plan = getattr(e2e, "plan", None)
        tiles = f" (tile {plan.tile} x batch {plan.batch})" if plan is not None else ""
        res.rows.append([model_id, precision, label, size, f"{model_fps:.2f}", f"{run_fps:.2f}", f"{many_fps:.2f}",
                         f"{many_fps / run_fps:.2f}x", f"{e2e_fps:.2f}{tiles}",
                         "yes" if e2e_fps >= REAL_TIME_FPS else "no"])


def bench_throughput(quick: bool = False) -> Result:
    """Every zoo model on the bench device (matchcut.bench.device) at 1080p and 4K (1080p only on the CPU)."""
    from matchcut.bench import device as bench_device
    from matchcut.models.registry import find_model

    device = bench_device.device()
    name = _device_name(device)
    sizes = dict(SIZES) if device == "cuda" else {"1080p": SIZES["1080p"]}
    frames = max(1, FRAMES[device] // (QUICK_DIVISOR if quick else 1))
    res = Result("throughput", f"Zoo throughput, {device.upper()}: {name}",
                 ["model", "precision", "size", "model input", "model only fps", "run() fps", "run_many() fps",
                  "pipeline gain", "end-to-end fps", f"real time ({REAL_TIME_FPS:.0f} fps)"])
    for model_id in MODELS:
        manifest = find_model(model_id)
        precisions = ["fp32"] + (["fp16"] if device == "cuda" and manifest.runtime.fp16 else [])
        for precision in precisions:
            _measure(model_id, precision, device, sizes, frames, res)
        if manifest.runtime.fp16_note:
            res.notes.append(f"{model_id}: {manifest.runtime.fp16_note}")
    res.notes.append(f"Device: {name} ({device}); {frames} frame(s) per figure after {WARMUP[device]} warm-up frame(s); "
                     "`matchcut bench --device " + device + " --only throughput`.")
    if device == "cpu":
        res.notes.append("CPU: 1080p only (a RIFE 4K frame takes tens of seconds on a 2-core CPU); on the CPU there "
                         "is no transfer to overlap and the I/O threads compete with onnxruntime's for the cores, so "
                         "the pipeline gain and the small models' figures are noise-level here; `--device cuda` "
                         "measures 4K on a GPU (make bench-gpu).")
    res.notes.append("pipeline gain = run_many() over run(): what overlapping upload, compute and download wins; "
                     "model only = compute alone (inputs already on the device, outputs left there).")
    return res
