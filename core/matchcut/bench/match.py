"""Shot-match benchmark: fit and apply per 1920x1080 frame; the default fit (corresponding pixels) against the
previous default (mkl colour statistics) per keyframe, and the correction graph in onnxruntime against the same
maths in NumPy, measured in one run."""

from __future__ import annotations

import numpy as np

from matchcut.bench.timing import Result, median_seconds


def bench_match(quick: bool = False) -> Result:
    from matchcut import settings
    from matchcut.bench.zoo import _hd_photo
    from matchcut.color import SRGB_DISPLAY, convert
    from matchcut.matching import apply_color, fit_color
    from matchcut.matching.graph import feeds, graph_path
    from matchcut.matching.regional import fit_regional
    from matchcut.runtime import DeviceOptions, create_session

    repeat = 2 if quick else 3
    ref = convert(_hd_photo(), SRGB_DISPLAY, "Linear Rec.709 (sRGB)")
    src = ref * np.array([1.2, 1.0, 0.8], np.float32) * np.linspace(0.7, 1.3, ref.shape[1], dtype=np.float32)[None, :, None]
    res = Result("match", "Shot match per 1920x1080 frame, CPU",
                 ["step", "ms / frame", "ratio"])
    # The default against the previous default on one 1080p keyframe of a reframed pair (shifted framings of rocket,
    # warmer and falling off across the frame in the input).
    from matchcut.matching.light import fit_keyframe
    from matchcut.testing.shotpairs import frame, scene_of

    scene = scene_of("rocket")
    hd_ref, _ = frame(scene, (0.42, 0.5), 0.75, size=(1080, 1920))
    hd_in, _ = frame(scene * np.array([1.2, 1.0, 0.8], np.float32), (0.58, 0.5), 0.75, size=(1080, 1920))
    hd_in = hd_in * np.linspace(1.3, 0.7, 1920, dtype=np.float32)[None, :, None]
    t_old = median_seconds(lambda: fit_regional(hd_in, hd_ref, method="mkl", person=False, local=False), repeat=repeat)
    t_new = median_seconds(lambda: fit_keyframe(hd_in, hd_ref), repeat=repeat)
    model = fit_keyframe(hd_in, hd_ref).model
    res.rows.append(["keyframe fit, previous default (mkl colour statistics)",
                     f"{t_old * 1e3:.0f}", "1.00x (baseline)"])
    res.rows.append([f"keyframe fit, default (features, dense flow, light model and guard; chose {model})",
                     f"{t_new * 1e3:.0f}", f"{t_new / t_old:.2f}x the previous default"])
    fits = {m: fit_color(src, ref, method=m) for m in ("reinhard", "mkl", "histogram")}
    for method in fits:
        t = median_seconds(lambda: fit_color(src, ref, method=method), repeat=repeat)
        res.rows.append([f"fit, {method} (60k sampled pixels)", f"{t * 1e3:.0f}", "-"])
    cpu = DeviceOptions(provider="cpu")
    t_reg = median_seconds(lambda: fit_regional(src, ref, person=True, local=True, device=cpu), repeat=1, warmup=1)
    res.rows.append(["fit, regional + local (person mattes, ORB alignment, gain field)", f"{t_reg * 1e3:.0f}", "-"])
    session = create_session(graph_path(), cpu)
    image = np.ascontiguousarray(src.transpose(2, 0, 1)[None])
    weight = np.ones((1, 1, *src.shape[:2]), np.float32)
    f = feeds(fits["mkl"], image, weight)
    t_numpy = median_seconds(lambda: apply_color(fits["mkl"], src), repeat=repeat)
    t_ort = median_seconds(lambda: session.run(f), repeat=repeat)
    diff = float(np.abs(session.run(f)["corrected"][0].transpose(1, 2, 0) - apply_color(fits["mkl"], src)).max())
    res.rows.append(["apply, NumPy reference", f"{t_numpy * 1e3:.0f}", "1.00x (baseline)"])
    res.rows.append(["apply, ONNX graph in onnxruntime CPU", f"{t_ort * 1e3:.0f}",
                     f"{t_numpy / t_ort:.2f}x faster (max abs diff {diff:.1e})"])
    res.notes.append(f"Threads: {settings.threads()}. The graph is what hosts run on a GPU; the fit runs once per "
                     "keyframe, the apply on every frame. The default's keyframe fit finds the shared pixels at 640 px "
                     "on the long side whatever the plate's size; `--fit statistics` now costs the statistics plus "
                     "that search (its guard).")
    return res
