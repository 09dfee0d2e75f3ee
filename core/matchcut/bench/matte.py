"""Matte benchmark: 1920x1080 frames per second for each mode of the matte tool, on CPU, in one run."""

from __future__ import annotations

import numpy as np

from matchcut.bench.timing import Result, median_seconds

HD = (1080, 1920)


def bench_matte(quick: bool = False) -> Result:
    """Seconds per 1080p frame for screen keying and the person matte (raw, guided, closed-form), each alone
    and with the full finish (despill, foreground estimation, premultiply, comp). Baseline: the raw person
    matte (face gate + selfie model), the least a person frame costs."""
    from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert
    from matchcut.matte.keying import key_screen
    from matchcut.matte.person import raw_person_matte, refine_matte
    from matchcut.matte.shot import finish_frame
    from matchcut.runtime import DeviceOptions
    from matchcut.testing.mattes import astronaut_truth, screen_shot, soft_alpha
    from matchcut.testing.photos import photo
    from matchcut.tools.matte import MatteTool

    cpu = DeviceOptions(provider="cpu")
    h, w = HD
    values = {c.name: c.default for c in MatteTool.controls}
    alpha, fg = soft_alpha(h, w), photo("coffee", colorspace="scene_linear", size=(h, w))
    screen = screen_shot(fg, alpha, "green", uneven=0.3, noise=0.02)
    bg = photo("rocket", colorspace="scene_linear", size=(h, w))
    # The person shot: the astronaut cut at 512 px (the truth's cost is not what is measured), scaled to 1080.
    import cv2

    image, truth = astronaut_truth(512, cpu)
    side = h
    person_fg = cv2.resize(image, (side, side), interpolation=cv2.INTER_LINEAR)
    person_a = cv2.resize(truth, (side, side), interpolation=cv2.INTER_LINEAR)
    x0 = (w - side) // 2
    person = bg.copy()
    person[:, x0:x0 + side] = person_fg * person_a[..., None] + bg[:, x0:x0 + side] * (1 - person_a[..., None])
    display = np.clip(convert(person, SCENE_LINEAR, SRGB_DISPLAY), 0.0, 1.0)
    repeat = 1 if quick else 3
    warm = 0 if quick else 1

    def person_matte(method):
        return lambda: refine_matte(display, raw_person_matte(display, device=cpu)[0], method)

    raw_person_matte(display, device=cpu)  # load the models outside the timings
    refine_matte(display, raw_person_matte(display, device=cpu)[0], "closed-form") if not quick else None
    key_alpha = key_screen(screen)[0]
    guided_alpha = person_matte("guided")()
    timings = [
        ("person: raw selfie matte (face gate + model)", median_seconds(person_matte("none"), repeat=repeat, warmup=warm)),
        ("screen: key only", median_seconds(lambda: key_screen(screen), repeat=repeat, warmup=warm)),
        ("screen: key + despill + foreground estimation + comp",
         median_seconds(lambda: finish_frame(screen, key_screen(screen)[0], "green", values, bg, want_comp=True),
                        repeat=repeat, warmup=warm)),
        ("person: guided filter matte", median_seconds(person_matte("guided"), repeat=repeat, warmup=warm)),
        ("person: guided + foreground estimation + comp",
         median_seconds(lambda: finish_frame(person, person_matte("guided")(), None, values, bg, want_comp=True),
                        repeat=repeat, warmup=warm)),
        ("person: closed-form matte (pymatting)", median_seconds(person_matte("closed-form"), repeat=1, warmup=0)),
    ]
    del key_alpha, guided_alpha
    base = timings[0][1]
    res = Result("matte", "matte tool at 1920x1080 on CPU: seconds and frames per second per mode",
                 ["mode", "s / frame", "frames / s", "cost vs raw person matte"])
    for i, (name, seconds) in enumerate(timings):
        res.rows.append([name, f"{seconds:.3f}", f"{1 / seconds:.2f}", "1.00x (baseline)" if i == 0 else f"{seconds / base:.2f}x"])
    res.notes.append("Pixels only (no EXR reading or writing). Closed-form is timed once (it runs for seconds); "
                     "its cost grows with the length of the subject's edge (the trimap's unknown band).")
    return res
