"""Matte benchmark: 1920x1080 frames per second for each mode of the matte tool, on CPU, in one run."""

from __future__ import annotations

import numpy as np

from matchcut.bench.timing import Result, median_seconds

HD = (1080, 1920)


def bench_matte(quick: bool = False) -> Result:
    """Seconds per 1080p frame for screen keying (the screen model on a shot's first frame and on a later one,
    and the keyer before it) and the person matte (raw, guided, closed-form), each alone and with the full finish
    (despill, foreground, premultiply, comp). Baseline: the raw person matte (face gate + selfie model), the
    least a person frame costs; the screen model is also put against the previous keyer."""
    from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert
    from matchcut.matte.composite import composite, estimate_foreground, premultiply
    from matchcut.matte.despill import despill
    from matchcut.matte.keying import key_screen, screen_model
    from matchcut.matte.person import raw_person_matte, refine_matte
    from matchcut.matte.screen import frame_model, steady_plate
    from matchcut.matte.shot import finish_frame
    from matchcut.runtime import DeviceOptions
    from matchcut.testing.keyers import previous_key
    from matchcut.testing.mattes import astronaut_truth, soft_alpha
    from matchcut.testing.photos import LINEAR_REC709, photo
    from matchcut.testing.screens import camera, screen_plate
    from matchcut.tools.matte import MatteTool

    cpu = DeviceOptions(provider="cpu")
    h, w = HD
    values = {c.name: c.default for c in MatteTool.controls}
    # The screen shot: coffee cut by a soft alpha over a green screen with falloff, folds, seams and tracking
    # markers, through the camera (noise), in linear Rec.709, then the working space; a second frame with fresh
    # noise for the shared model.
    alpha, fg = soft_alpha(h, w), photo("coffee", colorspace="linear", size=(h, w))
    backing, _ = screen_plate(h, w, "green", "falloff", ("wrinkles", "markers"), seed=3)
    shot = fg * alpha[..., None] + backing * (1 - alpha[..., None])
    screen, later = (convert(camera(shot, "low", seed=s), LINEAR_REC709, SCENE_LINEAR) for s in (1, 2))
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
    shared = screen_model(screen)
    guided_alpha = person_matte("guided")()

    def first_frame():  # the shot's first frame: the screen model fitted, then the key
        return key_screen(screen, model=screen_model(screen))[0]

    def later_frame():  # a later frame: the shared model checked and extended, the plate steadied, the key
        model, _ = frame_model(shared, later)
        return key_screen(steady_plate(screen, later, model, values["temporal"]), model=model)[0], model

    def screen_finish():
        a, model = later_frame()
        return finish_frame(later, a, model, values, bg, want_comp=True)

    def previous_finish():  # the finish before the screen model: despill, pymatting's foreground, comp
        a = previous_key(later, "green")
        premult = premultiply(estimate_foreground(despill(later, "green", "average"), a), a)
        return composite(premult, bg)

    timings = [
        ("person: raw selfie matte (face gate + model)", median_seconds(person_matte("none"), repeat=repeat, warmup=warm)),
        ("screen: previous keyer (flat-colour difference over a fitted surface)",
         median_seconds(lambda: previous_key(later, "green"), repeat=repeat, warmup=warm)),
        ("screen: screen model, first frame (fit + key)", median_seconds(first_frame, repeat=repeat, warmup=warm)),
        ("screen: screen model, later frame (shared model + steadied plate + key)",
         median_seconds(later_frame, repeat=repeat, warmup=warm)),
        ("screen: previous keyer + despill + foreground estimation (pymatting) + comp",
         median_seconds(previous_finish, repeat=repeat, warmup=warm)),
        ("screen: screen model (later frame) + foreground from the model + despill + comp",
         median_seconds(screen_finish, repeat=repeat, warmup=warm)),
        ("person: guided filter matte", median_seconds(person_matte("guided"), repeat=repeat, warmup=warm)),
        ("person: guided + foreground estimation + comp",
         median_seconds(lambda: finish_frame(person, person_matte("guided")(), None, values, bg, want_comp=True),
                        repeat=repeat, warmup=warm)),
        ("person: closed-form matte (pymatting)", median_seconds(person_matte("closed-form"), repeat=1, warmup=0)),
    ]
    del guided_alpha
    base = timings[0][1]
    res = Result("matte", "matte tool at 1920x1080 on CPU: seconds and frames per second per mode",
                 ["mode", "s / frame", "frames / s", "cost vs raw person matte"])
    for i, (name, seconds) in enumerate(timings):
        res.rows.append([name, f"{seconds:.3f}", f"{1 / seconds:.2f}", "1.00x (baseline)" if i == 0 else f"{seconds / base:.2f}x"])
    res.notes.append("Pixels only (no EXR reading or writing). Closed-form is timed once (it runs for seconds); "
                     "its cost grows with the length of the subject's edge (the trimap's unknown band).")
    seconds = dict(timings)
    old = seconds["screen: previous keyer (flat-colour difference over a fitted surface)"]
    old_all = seconds["screen: previous keyer + despill + foreground estimation (pymatting) + comp"]
    res.notes.append(
        "Screen model against the previous keyer, same plate, same run: "
        f"{seconds['screen: screen model, first frame (fit + key)'] / old:.1f}x its time on a shot's first frame, "
        f"{seconds['screen: screen model, later frame (shared model + steadied plate + key)'] / old:.1f}x on a later "
        "frame; with the foreground and comp, "
        f"{seconds['screen: screen model (later frame) + foreground from the model + despill + comp'] / old_all:.2f}x "
        "the previous finish (the model's foreground replaces pymatting's estimation).")
    return res
