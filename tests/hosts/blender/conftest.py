"""Fixtures for the Blender adapter: tiny EXR frames, and real Blender (bpy 5.0.1 in .venv-blender, or the bpy
that $MATCHCUT_BLENDER_PYTHON names) driving it.

``run_blender(body)`` starts ``.venv-blender/bin/python`` on a script that enables the add-on as it ships
(assembled by the core's ``matchcut.adapters``, the worker client inside as ``client/``, written as package
``matchcut_blender``), pointed at the real worker (.venv's ``matchcut``), runs ``body`` and returns what the
body put in the dict ``result`` (as JSON). Its temp folder (where a legacy add-on keeps the worker's
descriptions) is the test's own, so a description cached by another test or run is never read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
#: The Python that is Blender: $MATCHCUT_BLENDER_PYTHON (another bpy, e.g. 4.2 or 4.4) or .venv-blender's (5.0.1).
#: A relative path is from the repository root.
BLENDER_PY = ROOT / (os.environ.get("MATCHCUT_BLENDER_PYTHON") or ".venv-blender/bin/python")
WORKER = Path(sys.executable).parent / "matchcut"
CREATE = "make blender-venv  (or: python3.11 -m venv .venv-blender && .venv-blender/bin/pip install bpy==5.0.1)"

PRELUDE = '''
import json, os, sys, traceback
sys.path.insert(0, {addons!r})
import bpy, addon_utils
addon_utils.enable("matchcut_blender", default_set=True, handle_error=None)
from matchcut_blender import strips as compat
bpy.ops.wm.save_as_mainfile(filepath={blend!r})  # results go to //matchcut/ beside it
result = {{}}
def pixel(path, x=0, y=0):
    """RGBA of one pixel of a file as Blender loads it (row 0 is the bottom in Blender)."""
    img = bpy.data.images.load(path, check_existing=False)
    w, h = img.size
    px = list(img.pixels[(y * w + x) * 4:(y * w + x) * 4 + 4])
    bpy.data.images.remove(img)
    return px
def add_sequence(name, folder, files, channel, start):
    editor = bpy.context.scene.sequence_editor_create()
    s = compat.strips_of(editor).new_image(name=name, filepath=os.path.join(folder, files[0]), channel=channel,
                                           frame_start=start, fit_method="ORIGINAL")
    for f in files[1:]:
        s.elements.append(f)
    s.frame_final_end = start + len(files)
    return s
'''


@pytest.fixture
def blender_python() -> Path:
    """Blender's Python (BLENDER_PY); FAILS (never skips) when missing, because `make test` creates it."""
    if not BLENDER_PY.exists():
        pytest.fail(f"{BLENDER_PY} is missing; create it with: {CREATE}")
    return BLENDER_PY


@pytest.fixture
def run_blender(blender_python, tmp_path):
    """Run a script body in real Blender with the add-on enabled; returns the body's ``result`` dict."""
    from matchcut.adapters import assemble, write_tree

    addons = tmp_path / "addons"
    write_tree(assemble("blender"), addons / "matchcut_blender")
    temp = tmp_path / "tmp"
    temp.mkdir()

    def run(body: str, timeout: float = 240, env: dict | None = None) -> dict:
        out = tmp_path / "result.json"
        script = tmp_path / "drive.py"
        script.write_text(PRELUDE.format(addons=str(addons), blend=str(tmp_path / 'shot.blend')) + textwrap.dedent(body) +
                          f"\nopen({str(out)!r}, 'w').write(json.dumps(result))\n")
        full_env = {**os.environ, "MATCHCUT_WORKER": str(WORKER), "TMPDIR": str(temp), **(env or {})}
        proc = subprocess.run([str(blender_python), str(script)], capture_output=True, text=True,
                              timeout=timeout, env=full_env, cwd=tmp_path)
        if proc.returncode != 0 or not out.exists():
            pytest.fail(f"Blender script failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text())

    return run


def write_exr(path: Path, pixels: np.ndarray) -> None:
    """A half-float RGB EXR (scene-linear) through OpenImageIO."""
    import OpenImageIO as oiio

    h, w, c = pixels.shape
    out = oiio.ImageOutput.create(str(path))
    assert out is not None, oiio.geterror()
    out.open(str(path), oiio.ImageSpec(w, h, c, "half"))
    out.write_image(np.ascontiguousarray(pixels, dtype=np.float32))
    out.close()


@pytest.fixture
def flat_sequence(tmp_path):
    """Frames 1001-1010 of a 32x24 plate; frame f is flat grey (f - 1000) / 20 (a value per frame)."""
    def make(name="plate", first=1001, count=10, size=(24, 32)):
        folder = tmp_path / name
        folder.mkdir()
        for f in range(first, first + count):
            write_exr(folder / f"{name}.{f}.exr", np.full(size + (3,), (f - first + 1) / 20.0, np.float32))
        return folder, [f"{name}.{f}.exr" for f in range(first, first + count)]
    return make


@pytest.fixture
def textured_pair(tmp_path):
    """Shots A and B (3 frames each, 192x256, scikit-image's astronaut); B has a 40x40 red patch planted at
    (150, 60) (x, y) that A lacks: a continuity difference with a known place."""
    from skimage import data, transform

    img = transform.resize(data.astronaut(), (192, 256), anti_aliasing=True).astype(np.float32) ** 2.2
    planted = img.copy()
    planted[60:100, 150:190] = (0.8, 0.05, 0.05)
    out = {}
    for name, pixels in (("shotA", img), ("shotB", planted)):
        folder = tmp_path / name
        folder.mkdir()
        for f in range(1001, 1004):
            write_exr(folder / f"{name}.{f}.exr", pixels)
        out[name] = (folder, [f"{name}.{f}.exr" for f in range(1001, 1004)])
    return out


@pytest.fixture
def exr():
    """``write_exr`` for tests that make their own frames."""
    return write_exr
