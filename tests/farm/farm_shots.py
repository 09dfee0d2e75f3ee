"""Tiny EXR shots written here and job files for them, shared by the farm tests (conftest.py's ``shot``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

#: The worker the bundles name (this environment's, as `matchcut farm` finds it) and Open Job Description's CLI.
WORKER = Path(sys.executable).parent / "matchcut"
OPENJD = Path(sys.executable).parent / "openjd"
SIZE = (48, 64)
FRAMES = range(1001, 1013)


def write_shot(folder: Path) -> Path:
    """Write into ``folder``: ``plates/p.####.exr`` (1001-1012, a photo panning), ``bad/p.####.exr`` (the same
    with 1005 black and 1008 missing: a fill rebuilds both from frames in the chunks beside theirs) and
    ``ref.exr`` (the hero shot, warmer)."""
    from matchcut import color
    from matchcut.frames import Plate, write_plate
    from matchcut.testing.photos import photo
    from matchcut.testing.sequences import warped_frame

    img = photo("astronaut", colorspace="srgb")
    for f in FRAMES:
        display = warped_frame(img, SIZE, f - 1001)
        write_plate(folder / "plates" / f"p.{f:04d}.exr", Plate(color.convert(display, color.SRGB_DISPLAY,
                                                                                  color.SCENE_LINEAR)), dtype="float")
        if f == 1008:
            continue
        bad = display * 0.0 if f == 1005 else display
        write_plate(folder / "bad" / f"p.{f:04d}.exr", Plate(color.convert(bad, color.SRGB_DISPLAY,
                                                                               color.SCENE_LINEAR)), dtype="float")
    ref = (warped_frame(img, SIZE, 3) * np.array([1.1, 0.95, 0.8], np.float32)).astype(np.float32)
    write_plate(folder / "ref.exr", Plate(color.convert(ref, color.SRGB_DISPLAY, color.SCENE_LINEAR)), dtype="float")
    return folder


#: Each tool's job on the shot: inputs (relative to the shot folder) and params; artifacts go beside the output.
JOBS = {
    "apply": ({"plate": "plates/p.####.exr"}, {"model": "degrain-small"}),
    "match": ({"plate": "plates/p.####.exr", "reference": "ref.exr"}, {"keyframes": "4", "cdl_tolerance": 10.0}),
    "fill": ({"plate": "bad/p.####.exr"}, {"ensemble": "1"}),
    "retime": ({"plate": "plates/p.####.exr"}, {"speed": 0.5}),
}


def write_job(shot: Path, folder: Path, tool: str, *, frames: str | None = "1001-1012", artifacts: bool = True,
              device: str = "cpu", **params) -> Path:
    """``folder/TOOL.json``: ``tool``'s job on ``shot`` with absolute paths, its outputs under ``folder/out``
    (shot match's LUT and CDL there too unless not ``artifacts``)."""
    inputs, base = JOBS[tool]
    params = {**base, **params}
    if tool == "match" and artifacts:
        params.update(lut=str(folder / "out" / "match.cube"), cdl=str(folder / "out" / "match.cc"))
    job = {"matchcut_job": 1, "tool": tool, "inputs": {k: str(shot / v) for k, v in inputs.items()},
           "outputs": {"main": str(folder / "out" / f"{tool}.####.exr")}, "frames": frames, "params": params,
           "device": {"provider": device}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{tool}.json"
    path.write_text(json.dumps(job, indent=2))
    return path


def matchcut(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The worker's command line, as a farm task runs it."""
    done = subprocess.run([str(WORKER), *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"matchcut {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done
