"""Model-zoo benchmarks: each model's onnxruntime CPU time, and RIFE in onnxruntime against PyTorch eager."""

from __future__ import annotations

import numpy as np

from matchcut.bench.timing import Result, median_seconds, peak_rss_mb


def _hd_photo(height: int = 1080, width: int = 1920) -> np.ndarray:
    """A portrait framed as a close-up in a 16:9 frame: (H, W, 3) float32 sRGB-encoded in [0, 1].

    The astronaut's head and shoulders scaled to the frame height and centred, the sides filled with a blurred copy, so the
    whole face stays in frame (a cover crop would cut it).
    """
    import cv2

    from matchcut.testing.photos import photo

    # Head and shoulders: the short-range face detector needs a face over ~1/10 of the frame's long side.
    img = cv2.resize(photo("astronaut", colorspace="srgb")[0:320, 96:416], (height, height), interpolation=cv2.INTER_CUBIC)
    frame = cv2.GaussianBlur(cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA), (0, 0), 25)
    x0 = (width - height) // 2
    frame[:, x0:x0 + height] = img
    return np.ascontiguousarray(np.clip(frame, 0.0, 1.0), dtype=np.float32)


def _raw_session_ms(model_id: str, repeat: int) -> tuple[float, str]:
    """Median ms of one onnxruntime CPU run of an installed zoo model at its native (fixed) input size."""
    from matchcut.models.registry import find_model
    from matchcut.runtime import DeviceOptions, create_session

    m = find_model(model_id)
    session = create_session(m.onnx_path, DeviceOptions(provider="cpu"), model_sha256=m.sha256)
    feeds = {}
    for info in session.inputs:
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in info.shape]
        feeds[info.name] = np.zeros(shape, np.float32)
    t = median_seconds(lambda: session.run(feeds), repeat=repeat, warmup=2)
    return t * 1e3, "x".join(str(d) for d in next(iter(feeds.values())).shape)


def bench_zoo_models(quick: bool = False) -> Result:
    """The MediaPipe models: raw model time at native size, and the full pipeline on a 1920x1080 frame."""
    from matchcut.vision.faces import detect_faces
    from matchcut.vision.faces_mesh import face_landmarks
    from matchcut.vision.segmentation import person_mask

    repeat = 3 if quick else 10
    res = Result("zoo", "MediaPipe zoo models, onnxruntime CPU",
                 ["model", "native input", "model ms", "1920x1080 pipeline ms", "pipeline vs model"])
    from matchcut.runtime import DeviceOptions

    cpu = DeviceOptions(provider="cpu")
    frame = _hd_photo()
    faces = detect_faces(frame, device=cpu)
    pipelines = {
        "selfie-segmentation": lambda: person_mask(frame, variant="general", device=cpu),
        "selfie-segmentation-landscape": lambda: person_mask(frame, variant="landscape", device=cpu),
        "face-detection": lambda: detect_faces(frame, device=cpu),
        "face-landmarks": (lambda: face_landmarks(frame, faces[0], device=cpu)) if faces else None,
    }
    for model_id, pipeline in pipelines.items():
        ms, shape = _raw_session_ms(model_id, repeat)
        if pipeline is None:
            res.rows.append([model_id, shape, f"{ms:.2f}", "no face found", "-"])
            continue
        p_ms = median_seconds(pipeline, repeat=repeat, warmup=1) * 1e3
        res.rows.append([model_id, shape, f"{ms:.2f}", f"{p_ms:.1f}", f"{p_ms / ms:.1f}x"])
    res.notes.append("Pipeline = resize/letterbox or crop to the model's input, inference, decoding and mapping "
                     "back to the 1920x1080 frame (the mask upsampled to full size). No edge refinement.")
    return res


def bench_rife(quick: bool = False) -> Result:
    """RIFE: onnxruntime CPU against the project's PyTorch model (same weights), per interpolated frame."""
    import torch

    from matchcut import settings
    from matchcut.models.registry import find_model
    from matchcut.models.zoo.ifnet import IFNet425, IFNetHDv3, load_weights
    from matchcut.models.zoo.install import source_member
    from matchcut.runtime import DeviceOptions, create_session

    torch.set_num_threads(settings.threads())
    sizes = [(576, 1024)] if quick else [(576, 1024), (1088, 1920)]
    res = Result("rife", "RIFE frame interpolation: onnxruntime CPU vs PyTorch eager (same weights)",
                 ["model", "size", "torch eager s", "onnxruntime s", "speed vs torch", "max abs diff"])
    for model_id, cls, entry in (("rife-4.25", IFNet425, "rife-4.25"), ("rife-hdv3", IFNetHDv3, "rife-hdv3")):
        m = find_model(model_id)
        net = cls()
        load_weights(net, source_member(entry, "weights"))
        net.eval()
        session = create_session(m.onnx_path, DeviceOptions(provider="cpu"), model_sha256=m.sha256)
        names = [i.name for i in session.inputs]
        for h, w in sizes:
            # A real photo and a copy moved a few pixels: flow on noise is chaotic and says nothing.
            photo = _hd_photo(h, w).transpose(2, 0, 1)[None]
            a = np.ascontiguousarray(photo)
            b = np.ascontiguousarray(np.roll(photo, (-3, 5), axis=(2, 3)))
            feeds = {names[0]: a, names[1]: b}
            if len(names) > 2:
                feeds[names[2]] = np.full((1, 1, 1, 1), 0.5, np.float32)
            with torch.inference_mode():
                ta, tb = torch.from_numpy(a), torch.from_numpy(b)
                ref = net(ta, tb, 0.5).numpy()
                t_torch = median_seconds(lambda: net(ta, tb, 0.5), repeat=1 if quick else 2)
            got = next(iter(session.run(feeds).values()))
            t_ort = median_seconds(lambda: session.run(feeds), repeat=1 if quick else 2)
            res.rows.append([model_id, f"{w}x{h}", f"{t_torch:.2f}", f"{t_ort:.2f}", f"{t_torch / t_ort:.2f}x",
                             f"{float(np.abs(got - ref).max()):.1e}"])
    res.notes.append(f"Threads: {settings.threads()}. Peak resident memory of the benchmark process: "
                     f"{peak_rss_mb():.0f} MB.")
    return res
