"""The learned fix end to end on footage with a known correction: learn on three frames, apply to the shot, and the
frames it never saw are closer to the truth than doing nothing (a tiny soften shot; the full run is
`matchcut bench --quality learn`)."""

from __future__ import annotations

import numpy as np

from matchcut.testing import fixes


def test_a_learned_unsoften_beats_doing_nothing_on_frames_it_never_saw(tmp_path):
    from matchcut.bench.learn import display
    from matchcut.frames import read_plate
    from matchcut.jobs.events import ListSink
    from matchcut.jobs.runner import run_job
    from matchcut.jobs.spec import JobSpec
    from matchcut.testing.metrics import psnr
    from matchcut.tools import get_tool

    shot = fixes.fix_shot("tune", "soften", size=(64, 96), frames=6, training=(1001, 1002, 1003))
    plate, target = shot.write(tmp_path)
    model = tmp_path / "model"
    learn = JobSpec(tool="learn", inputs={"plate": plate, "target": target}, outputs={"model": str(model)},
                    params={"frames": "1001-1003", "steps": 150, "crop": 32, "eval_every": 50, "threads": 1},
                    device={"provider": "cpu"}, base_dir=tmp_path)
    run_job(get_tool("learn"), learn, ListSink())
    out = str(tmp_path / "out" / "fixed.####.exr")
    apply = JobSpec(tool="apply", inputs={"plate": plate}, outputs={"main": out}, frames=shot.frames,
                    params={"model": str(model)}, device={"provider": "cpu"}, base_dir=tmp_path)
    run_job(get_tool("apply"), apply, ListSink())
    assert shot.scored == [1004, 1005, 1006]
    for f in shot.scored:
        truth = display(shot.truths[f])
        fixed = display(read_plate(out.replace("####", f"{f:04d}")).rgb)
        before, after = psnr(display(shot.inputs[f]), truth), psnr(fixed, truth)
        assert after > before + 0.5, f"frame {f}: {before:.2f} -> {after:.2f} dB"
        assert np.isfinite(fixed).all()
