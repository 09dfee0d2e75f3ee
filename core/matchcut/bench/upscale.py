"""`matchcut bench --only upscale`: super-resolution for punch-ins on the CPU: seconds per 1080p output frame for
each zoo model through onnxruntime, against Lanczos in the same run, and peak memory at a 4K output.

Each model brings a 960x540 picture (a real photo) to 1920x1080 with ``matchcut.vision.upscale.upscale``: once
as the tool runs it (the memory budget's plan: the whole picture when the manifest's memory figure fits the free
memory, else tiles), once forced into TILE-pixel tiles overlapping by the model's receptive field. Memory at 4K:
a fresh process (``python -m matchcut.bench.upscale``), started before any model runs here, brings a 1920x1080
picture to 3840x2160 with the default model and reports its resident memory just before the run and its peak
during it (the kernel's VmHWM, reset just before: getrusage's ru_maxrss would not do, Linux carries the parent's
peak over into a child), beside what the manifest's memory figure predicts for the plan it ran.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from matchcut.bench.timing import Result, median_seconds

#: (height, width) of the input: a 2x model's output is a 1920x1080 frame.
INPUT = (540, 960)
#: The forced tile side (input pixels; overlap: the model's receptive field on each side).
TILE = 256
#: The 4K output's input.
INPUT_4K = (1080, 1920)


def _picture(height: int, width: int) -> np.ndarray:
    """A real photo (scikit-image's rocket) at (height, width): float32 (H, W, 3) display sRGB in [0, 1]."""
    from matchcut.testing.photos import photo

    return np.ascontiguousarray(np.clip(photo("rocket", colorspace="srgb", size=(height, width)), 0.0, 1.0))


def plan_of(model_id: str, height: int, width: int, device) -> tuple[str, float | None]:
    """How ``upscale`` runs a (height, width) picture with ``model_id`` on ``device``: ("whole picture" or "tiles
    of N px, batch B, K tiles", the manifest's memory figure for that plan in MB or None when unmeasured)."""
    from matchcut.runtime.budget import MemoryFigure, plan_for
    from matchcut.runtime.tiling import plan_tiles
    from matchcut.vision.sessions import model_session

    manifest, session = model_session(model_id, device)
    runtime = manifest.runtime
    plan = plan_for(session, runtime, height, width, model=model_id)
    figure = MemoryFigure.of(runtime)
    if plan.tile >= max(height, width):
        return "whole picture", figure.need_mb(height, width) if figure else None
    count = len(plan_tiles(height, width, plan.tile, runtime.receptive_field, max(1, runtime.size_multiple)))
    side = min(plan.tile, height), min(plan.tile, width)
    return (f"tiles of {plan.tile} px, batch {plan.batch}, {count} tiles",
            figure.need_mb(*side, plan.batch) if figure else None)


def _status_mb(field: str) -> float | None:
    """A memory line of /proc/self/status (VmRSS, VmHWM) in MB; None where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process's VmHWM to its current resident memory (Linux 4.0 and later); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def memory_at(model_id: str, height: int, width: int) -> dict:
    """In this process: the model's session made and warmed on a small picture, then one (height, width) picture
    upscaled. {"before_mb", "peak_mb", "seconds", "plan", "figure_mb", "output", "peak_from"}: resident memory (MB)
    just before the run and its peak during it, the run's seconds, the budget's plan and its memory figure, the
    output's size, and where the peak was read ("VmHWM reset before the run", else getrusage's peak so far)."""
    import time

    from matchcut.bench.timing import peak_rss_mb
    from matchcut.runtime import DeviceOptions
    from matchcut.vision.upscale import upscale

    cpu = DeviceOptions(provider="cpu")
    upscale(_picture(64, 64), model_id, device=cpu)
    image = _picture(height, width)
    plan, figure = plan_of(model_id, height, width, cpu)
    before = _status_mb("VmRSS")
    fresh = before is not None and _reset_peak()
    t0 = time.perf_counter()
    out = upscale(image, model_id, device=cpu)
    seconds = time.perf_counter() - t0
    peak = _status_mb("VmHWM") if fresh else None
    return {"before_mb": before if before is not None else 0.0, "peak_mb": peak if peak is not None else peak_rss_mb(),
            "seconds": seconds, "plan": plan, "figure_mb": figure, "output": f"{out.shape[1]}x{out.shape[0]}",
            "peak_from": "VmHWM reset before the run" if peak is not None else "getrusage, the process's peak so far"}


def memory_in_subprocess(model_id: str, height: int, width: int, timeout: float = 900.0) -> dict:
    """memory_at in a fresh Python process (so the peak is this run's alone). ModelError with the child's last
    line when it fails."""
    from matchcut.errors import ModelError

    proc = subprocess.run([sys.executable, "-m", "matchcut.bench.upscale", model_id, str(height), str(width)],
                          capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise ModelError(f"the {width}x{height} memory run of '{model_id}' failed: {last}")
    return json.loads(lines[-1])


def measure(size: tuple[int, int] = INPUT, tile: int = TILE, repeat: int = 2, models: tuple[str, ...] | None = None,
            four_k: tuple[int, int] | None = INPUT_4K) -> Result:
    """The benchmark's table at ``size`` (the input; output twice it), ``tile`` forced tiles, ``repeat`` timed runs
    after a warm-up; ``four_k``: the memory run's input (None: not run)."""
    from matchcut import settings
    from matchcut.errors import ModelNotFoundError
    from matchcut.models.registry import find_model
    from matchcut.runtime import DeviceOptions
    from matchcut.bench.upscale_quality import ZOO_MODELS
    from matchcut.vision.upscale import DEFAULT_UPSCALE, lanczos, upscale

    h, w = size
    out_label = f"{2 * w}x{2 * h}"
    cpu = DeviceOptions(provider="cpu")
    memory = None
    if four_k is not None:  # first, while this process holds no model's memory (it lowers the free memory read)
        try:
            memory = memory_in_subprocess(DEFAULT_UPSCALE, *four_k)
        except Exception as exc:  # a failed memory run is reported, the timings stand
            memory = str(exc)
    image = _picture(h, w)
    res = Result("upscale", f"Super-resolution for punch-ins, CPU: one {out_label} output frame from {w}x{h}, "
                            "onnxruntime, against Lanczos",
                 ["method", "receptive field px", "run as", "s / frame", "frames / s", "time vs Lanczos"])
    base = median_seconds(lambda: lanczos(image, 2 * h, 2 * w), repeat=max(5, repeat), warmup=1)
    res.rows.append(["Lanczos (OpenCV INTER_LANCZOS4)", "-", "whole picture", f"{base:.3g}", f"{1 / base:.0f}",
                     "1x (baseline)"])
    for model_id in models or ZOO_MODELS:
        try:
            rf = find_model(model_id).runtime.receptive_field
        except ModelNotFoundError:
            res.notes.append(f"{model_id} not measured: not installed (`matchcut models install {model_id}`)")
            continue
        plan, _ = plan_of(model_id, h, w, cpu)
        ways = {f"as the tool runs it ({plan})": 0}
        if tile < max(h, w):
            ways[f"forced tiles of {tile} px, overlap {rf} px"] = tile
        for label, t in ways.items():
            s = median_seconds(lambda t=t: upscale(image, model_id, device=cpu, tile=t), repeat=repeat, warmup=1)
            res.rows.append([model_id + (" (default)" if model_id == DEFAULT_UPSCALE else ""), str(rf), label,
                             f"{s:.2f}", f"{1 / s:.3f}", f"{s / base:.0f}x"])
    res.notes.append(f"Threads: {settings.threads()}. Median of {repeat} runs after a warm-up (Lanczos: of "
                     f"{max(5, repeat)}). The input: scikit-image's rocket resized to {w}x{h}.")
    if isinstance(memory, str):
        res.notes.append(f"Memory at a {2 * four_k[1]}x{2 * four_k[0]} output not measured: {memory}")
    elif memory is not None:
        m = memory
        figure = f"; the manifest's memory figure predicts {m['figure_mb']:.0f} MB for that plan" \
            if m["figure_mb"] is not None else ""
        res.notes.append(f"Memory at a {m['output']} output ({DEFAULT_UPSCALE} from {four_k[1]}x{four_k[0]}, in a "
                         f"fresh process): {m['peak_mb']:.0f} MB peak resident ({m['peak_from']}), "
                         f"{m['before_mb']:.0f} MB of it resident before the run (Python, onnxruntime, the model, "
                         f"the input); run as {m['plan']}{figure}; {m['seconds']:.1f} s.")
    return res


def bench_upscale(quick: bool = False) -> Result:
    """The benchmark (quick: a 480x270 input, one timed run, the default model only, no 4K memory run)."""
    from matchcut.vision.upscale import DEFAULT_UPSCALE

    if quick:
        res = measure((270, 480), repeat=1, models=(DEFAULT_UPSCALE,), four_k=None)
        res.notes.append("quick run: a 960x540 output, the default model only, no 4K memory run")
        return res
    return measure()


if __name__ == "__main__":  # the memory run: python -m matchcut.bench.upscale MODEL HEIGHT WIDTH
    print(json.dumps(memory_at(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
