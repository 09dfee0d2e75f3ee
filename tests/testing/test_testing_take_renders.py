"""The continuity set's Blender takes (matchcut.testing.take_renders): the reprojection truth and a tiny real
Blender render whose passes agree with each other."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matchcut.testing import take_renders


def _camera(x: float) -> np.ndarray:
    """A Blender camera's 4x4 world matrix at (x, -10, 0), looking along world +Y (its own -Z), world +Z up."""
    m = np.eye(4)
    m[:3, :3] = [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]
    m[:3, 3] = (x, -10.0, 0.0)
    return m


def _render(depth: np.ndarray, x: float) -> take_renders.Render:
    h, w = depth.shape
    return take_renders.Render(np.zeros((h, w, 3), np.float32), depth.astype(np.float32), np.zeros((h, w), np.int32),
                        _camera(x), 100.0)


def test_reprojection_finds_the_frame_edge_and_what_stands_in_front():
    # A wall 10 m away, and in A's view a box 5 m away in the middle: B stands 1 m to the right.
    h, w = 60, 80
    wall = np.full((h, w), 10.0)
    a = wall.copy()
    a[20:40, 30:50] = 5.0
    b = _render(wall, 1.0)
    xa, ya, za = take_renders.reproject(b, _render(a, 0.0))
    # A point of the wall seen by B lands 100 px * 1 m / 10 m = 10 px to the right in A, at the same depth.
    assert xa[30, 5] - 5 == pytest.approx(10.0, abs=1e-3) and ya[30, 5] == pytest.approx(30.0, abs=1e-3)
    assert za[30, 5] == pytest.approx(10.0, abs=1e-4)
    hidden = take_renders.not_comparable_truth(b, _render(a, 0.0))
    # B's right edge is beyond A's frame; where A's box covers the wall, B's wall is hidden from A.
    assert hidden[30, w - 3] and not hidden[30, 5]
    assert hidden[30, 25] and not hidden[30, 15]  # the wall behind the box (A x 30..49 <- B x 20..39)
    assert hidden.mean() < 0.5


def test_a_tiny_blender_render_carries_its_truth(tmp_path):
    python = take_renders.blender_python()
    if python is None:
        pytest.fail("no Blender Python: make blender-venv")
    # One prop in front of the wall; B one metre to the right, the prop recoloured.
    lay = {"props": [{"name": "p1", "shape": "box", "location": [0.0, 0.0, 0.5], "size": 1.0, "angle": 0.0,
                      "texture": None, "color": [0.6, 0.1, 0.1], "index": 1}]}
    spec = {"size": [96, 54], "samples": 4, "denoise": False,
            "set": {"floor": take_renders.photo_png("gravel", tmp_path), "wall": take_renders.photo_png("brick", tmp_path)},
            "props": lay["props"],
            "renders": [{"name": "a", "light": "day", "camera": {"location": [0, -6, 1], "target": [0, 2, 0.6],
                                                                  "lens": 28}},
                        {"name": "b", "light": "dusk", "camera": {"location": [1, -6, 1], "target": [0, 2, 0.6],
                                                                   "lens": 28}, "changes": {"p1": {"hue": 0.5}}}]}
    folder = take_renders.render_spec(spec, tmp_path / "out")
    assert folder is not None
    a, b = take_renders.read_render(folder, "a"), take_renders.read_render(folder, "b")
    assert a.rgb.shape == (54, 96, 3) and np.isfinite(a.rgb).all() and a.rgb.max() > 0.05
    assert {1, take_renders.FLOOR_INDEX, take_renders.WALL_INDEX} <= set(np.unique(b.index).tolist())
    cam = json.loads((folder / "b.json").read_text())
    assert cam["lens"] == 28 and np.allclose(np.array(cam["matrix_world"])[:3, 3], [1, -6, 1], atol=1e-5)
    # B's pixels that A sees show the same object in both renders (the reprojection is right), and what A
    # cannot see is a minority: the frame edge and the wall beside the box.
    xa, ya, _ = take_renders.reproject(b, a)
    hidden = take_renders.not_comparable_truth(b, a)
    xi = np.clip(np.rint(xa), 0, 95).astype(int)
    yi = np.clip(np.rint(ya), 0, 53).astype(int)
    same = a.index[yi, xi] == b.index
    assert same[~hidden].mean() > 0.95
    assert 0.01 < hidden.mean() < 0.4
    # The prop was recoloured: its hue turned, where it covers the same pixels.
    prop = (b.index == 1) & (a.index[yi, xi] == 1) & ~hidden
    assert prop.sum() > 50
    ratio_b = b.rgb[prop].mean(0)
    ratio_a = a.rgb[yi[prop], xi[prop]].mean(0)
    assert np.argmax(ratio_a) == 0 and np.argmax(ratio_b) != 0
