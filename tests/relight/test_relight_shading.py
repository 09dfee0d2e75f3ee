"""The shading graph: the project's ONNX export against its NumPy statement and against analytic answers."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from matchcut.relight.lights import light_table, parse_lights
from matchcut.relight.scene import lambert, sphere_and_plane
from matchcut.relight.shading import build_graph, graph_path, pixel_positions, shade, shade_reference


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def session():
    from matchcut.runtime import DeviceOptions, create_session

    return create_session(graph_path(), DeviceOptions(provider="cpu"))


def _random_normals(h, w, seed=0):
    n = np.random.default_rng(seed).normal(size=(h, w, 3)).astype(np.float32)
    n[..., 2] = np.abs(n[..., 2])
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def test_graph_is_valid_onnx_and_written_once(tmp_path):
    onnx.checker.check_model(build_graph())
    path = graph_path()
    stamp = path.stat().st_mtime_ns
    assert graph_path() == path and path.stat().st_mtime_ns == stamp
    assert not list(path.parent.glob(".*tmp*"))


def test_graph_matches_the_numpy_statement_for_every_light_type(session):
    lights = parse_lights(["directional direction=-1,0.3,0.5 intensity=2 wrap=0.3 specular=0.5 roughness=0.3",
                           "spot position=-0.6,0.3,0.8 cone=40 softness=0.3 color=1,0.85,0.7 intensity=1.5",
                           "point position=0.3,0.2,0.5 falloff=linear specular=1",
                           "area position=0,0.5,0.5 size=0.4 falloff=none"])
    normals = _random_normals(70, 600)  # wider than a tile: the tiled run must join up
    got = shade(session, normals, light_table(lights))
    want = shade_reference(normals, light_table(lights))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert got.min() >= 0


def test_directional_lambert_is_the_analytic_answer(session):
    normals, _ = sphere_and_plane(96, 128)
    got = shade(session, normals, light_table(parse_lights(["directional direction=-1,0.5,1 intensity=3"])))
    np.testing.assert_allclose(got, lambert(normals, (-1, 0.5, 1), 3.0), rtol=1e-5, atol=1e-6)


def test_spot_cone_softness_and_falloff(session):
    h, w = 64, 64
    facing = np.zeros((h, w, 3), np.float32)
    facing[..., 2] = 1
    hard = shade(session, facing, light_table(parse_lights(["spot position=0,0,1 cone=20 softness=0 falloff=none"])))
    p = pixel_positions(h, w)
    angle = np.degrees(np.arctan2(np.hypot(p[..., 0], p[..., 1]), 1.0))
    assert np.all(hard[angle > 10.5] == 0) and np.all(hard[angle < 9.5] > 0)
    soft = shade(session, facing, light_table(parse_lights(["spot position=0,0,1 cone=20 softness=1 falloff=none"])))
    assert np.all(soft <= hard + 1e-6) and soft[h // 2, w // 2, 0] > 0.99
    # Quadratic falloff: the intensity holds at the frame's centre, a point twice as far gets a quarter.
    point = shade(session, facing, light_table(parse_lights(["point position=0,0,0.5 falloff=quadratic"])))
    assert point[h // 2, w // 2, 0] == pytest.approx(1.0, rel=1e-3)
    d = np.linalg.norm(p - np.array([0, 0, 0.5]), axis=-1)
    np.testing.assert_allclose(point[..., 0], (0.5 / d) ** 2 * (0.5 / d), rtol=1e-4)  # falloff x cosine


def test_wrap_reaches_past_the_terminator_and_specular_peaks_at_the_half_vector(session):
    normals, _ = sphere_and_plane(128, 128, radius=0.45, tilt=0)
    plain = shade(session, normals, light_table(parse_lights(["directional direction=-1,0,0"])))
    wrapped = shade(session, normals, light_table(parse_lights(["directional direction=-1,0,0 wrap=0.5"])))
    assert (wrapped[..., 0] > 0).sum() > (plain[..., 0] > 0).sum()
    shiny = shade(session, normals, light_table(parse_lights(["directional direction=-1,0,1 specular=1 roughness=0.1"])))
    spec = shiny[..., 0] - lambert(normals, (-1, 0, 1))[..., 0]
    y, x = np.unravel_index(np.argmax(spec), spec.shape)
    half = np.array([-1, 0, 1]) / np.sqrt(2) + np.array([0, 0, 1])
    half /= np.linalg.norm(half)
    assert np.degrees(np.arccos(np.clip(normals[y, x] @ half, -1, 1))) < 5
