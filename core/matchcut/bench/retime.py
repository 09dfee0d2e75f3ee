"""Fill/retime benchmark: in-between frames per second at 1920x1080 on CPU, onnxruntime against PyTorch eager."""

from __future__ import annotations

import numpy as np

from matchcut.bench.timing import Result, median_seconds, peak_rss_mb

HD = (1080, 1920)


def _pair() -> tuple[np.ndarray, np.ndarray]:
    """Two 1920x1080 scene-linear frames of a real photo in known non-rigid motion (float32 (H, W, 3))."""
    import cv2

    from matchcut import color
    from matchcut.testing.photos import photo
    from matchcut.testing.sequences import warped_frame

    big = cv2.resize(photo("astronaut", colorspace="srgb"), (HD[1] + 64, HD[0] + 64), interpolation=cv2.INTER_CUBIC)
    return tuple(color.convert(warped_frame(big, HD, k, pan=(6.0, 3.0), wobble=4.0), color.SRGB_DISPLAY,
                               color.SCENE_LINEAR) for k in (0, 2))


def bench_retime(quick: bool = False) -> Result:
    """One in-between frame at 1920x1080 (t = 0.5): PyTorch eager (baseline), onnxruntime on the bare model,
    and the tool's whole step (scene linear -> display, padding, model, back) through onnxruntime."""
    import torch

    from matchcut import color, settings
    from matchcut.frames import Plate
    from matchcut.models.registry import find_model
    from matchcut.models.zoo.ifnet import IFNet425, IFNetHDv3, load_weights
    from matchcut.models.zoo.install import source_member
    from matchcut.retime.blend import interpolate_plates
    from matchcut.vision.interpolation import interpolate, padded_size

    torch.set_num_threads(settings.threads())
    repeat = 1 if quick else 2
    lin0, lin1 = _pair()
    d0, d1 = (np.clip(color.convert(x, color.SCENE_LINEAR, color.SRGB_DISPLAY), 0, 1) for x in (lin0, lin1))
    res = Result("retime", "Fill/retime: one in-between frame at 1920x1080 on CPU, onnxruntime vs PyTorch eager "
                           "(same weights)",
                 ["model", "path", "s / frame", "frames / s", "speed vs torch eager", "peak RSS MB after"])
    models = (("rife-4.25", IFNet425),) if quick else (("rife-4.25", IFNet425), ("rife-hdv3", IFNetHDv3))
    cpu = {"provider": "cpu"}
    for model_id, cls in models:
        m = find_model(model_id)
        net = cls()
        load_weights(net, source_member(model_id, "weights"))
        net.eval()
        ph, pw = padded_size(*HD, m.runtime.size_multiple)
        ta, tb = (torch.from_numpy(np.ascontiguousarray(
            np.pad(x, ((0, ph - HD[0]), (0, pw - HD[1]), (0, 0)), mode="edge").transpose(2, 0, 1)[None]))
            for x in (d0, d1))
        with torch.inference_mode():
            t_torch = median_seconds(lambda: net(ta, tb, 0.5), repeat=repeat)
        res.rows.append([model_id, "PyTorch eager, bare model", f"{t_torch:.2f}", f"{1 / t_torch:.2f}",
                         "1.00x (baseline)", f"{peak_rss_mb():.0f}"])
        net = ta = tb = None  # free the PyTorch copy before onnxruntime loads its own
        t_ort = median_seconds(lambda: interpolate(d0, d1, 0.5, model=model_id, device=cpu), repeat=repeat,
                               warmup=2)  # onnxruntime grows its memory arena over the first runs
        res.rows.append([model_id, "onnxruntime, model on display frames (pad, crop)", f"{t_ort:.2f}",
                         f"{1 / t_ort:.2f}", f"{t_torch / t_ort:.2f}x", f"{peak_rss_mb():.0f}"])
        p0, p1 = (Plate(x, colorspace=color.SCENE_LINEAR) for x in (lin0, lin1))
        t_tool = median_seconds(lambda: interpolate_plates(p0, p1, 0.5, model=model_id, device=cpu), repeat=repeat)
        res.rows.append([model_id, "onnxruntime, the tool's whole step (scene linear in and out)", f"{t_tool:.2f}",
                         f"{1 / t_tool:.2f}", f"{t_torch / t_tool:.2f}x", f"{peak_rss_mb():.0f}"])
    res.notes.append(f"Threads: {settings.threads()}. Peak RSS is the benchmark process's high-water mark after "
                     "each row (it only grows), so a row's own peak is at most its figure.")
    return res


#: Frame sizes (H, W) of the preview benchmark: the issue's two, a scope and a 720p frame.
PREVIEW_SIZES = ((272, 640), (720, 1280))
#: The rebuilt frames: one dropped frame (t = 0.5), then a run of three (t = 0.25, 0.5, 0.75), as in the fill and
#: retime quality run: (left, right, in-between source frames).
PREVIEW_GAPS = ((0, 2, (1,)), (4, 8, (5, 6, 7)))


def bench_preview(quick: bool = False) -> Result:
    """Seconds per rebuilt frame and PSNR against the true frames, on the layered sequence (a real photo panning
    and swirling with another crossing it), for FFmpeg's minterpolate (the baseline, through PyAV), the preview
    quality and the final quality of fill (rife-hdv3, 4-run ensemble) and retime (rife-4.25), in one run, on a
    background the preview was not tuned on."""
    import time

    from matchcut.retime import preview
    from matchcut.retime.blend import interpolate_display
    from matchcut.testing.baselines import minterpolate, minterpolate_between
    from matchcut.testing.metrics import psnr
    from matchcut.testing.photos import photo
    from matchcut.testing.sequences import layered_frame

    # rocket: a background the preview's half size was not chosen on (astronaut and coffee were)
    back, front = photo("rocket", colorspace="srgb"), photo("chelsea", colorspace="srgb")
    cpu = {"provider": "cpu"}
    res = Result("preview", "Fill/retime quality levels on CPU against FFmpeg's minterpolate, per rebuilt frame "
                            "(same frames, one run)",
                 ["size", "method", "s / rebuilt frame", "time vs minterpolate", "PSNR dB", "PSNR vs minterpolate"])
    methods = {
        "preview (rife-hdv3 motion at half size, once per pair)":
            lambda s, a, b, t: preview.interpolate_preview(a, b, t, preview.PREVIEW_MODEL, cpu)[0],
        "final, retime default (rife-4.25)": lambda s, a, b, t: interpolate_display(a, b, t, "rife-4.25", cpu),
        "final, fill default (rife-hdv3, 4-run ensemble)":
            lambda s, a, b, t: interpolate_display(a, b, t, "rife-hdv3", cpu, ensemble=4),
    }
    for size in PREVIEW_SIZES[:1] if quick else PREVIEW_SIZES:
        seq = {k: layered_frame(back, front, size, k) for k in range(-4, 13)}
        label = f"{size[1]}x{size[0]}"
        # minterpolate makes every in-between of its input run; its time is charged per in-between it made
        start, made, scores = time.perf_counter(), 0, []
        for left, right, inside in PREVIEW_GAPS:
            gap = right - left
            frames = [seq[left - gap], seq[left], seq[right], seq[right + gap]]
            made += len(minterpolate(frames, gap)) - len(frames)
        spent = time.perf_counter() - start
        for left, right, inside in PREVIEW_GAPS:
            gap = right - left
            got = minterpolate_between(seq[left - gap], seq[left], seq[right], seq[right + gap],
                                       [(k - left) / gap for k in inside])
            scores += [psnr(g, seq[k]) for g, k in zip(got, inside)]
        base_s, base_db = spent / max(made, 1), float(np.mean(scores))
        res.rows.append([label, "FFmpeg minterpolate (mci, aobmc, bidir, vsbmc)", f"{base_s:.3f}", "1.00x (baseline)",
                         f"{base_db:.2f}", "+0.00 dB"])
        for name, fn in methods.items():
            preview.forget_motions()
            fn(size, seq[0], seq[2], 0.5)  # warm-up: the model's session
            preview.forget_motions()
            start, scores = time.perf_counter(), []
            for left, right, inside in PREVIEW_GAPS:
                for k in inside:
                    scores.append(psnr(fn(size, seq[left], seq[right], (k - left) / (right - left)), seq[k]))
            seconds = (time.perf_counter() - start) / len(scores)
            db = float(np.mean(scores))
            res.rows.append([label, name, f"{seconds:.3f}", f"{seconds / base_s:.2f}x", f"{db:.2f}",
                             f"{db - base_db:+.2f} dB"])
    res.notes.append("Frames: matchcut.testing.sequences.layered_frame (rocket panning and swirling, chelsea "
                     "crossing it), a dropped frame and a run of three rebuilt (4 frames a size); minterpolate "
                     "gets the frames one gap before and after (its motion search looks both ways) and its time "
                     "is divided by the in-betweens it made; ours include the model's first run on each pair.")
    return res
