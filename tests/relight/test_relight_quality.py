"""The relight's quality on known answers: a rendered sphere and plane (analytic Lambert), the astronaut's face
(light side, mesh normals), flopping the image and the light, and a static shot's steadiness."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.frames import read_plate, write_plate
from matchcut.jobs.events import ListSink
from matchcut.jobs.runner import run_job
from matchcut.jobs.spec import job_from_dict
from matchcut.relight.scene import lambert, sphere_and_plane
from matchcut.tools.relight import RelightTool

AMBIENT = 0.8
#: Bounds docs/quality.md states (issue 8).
LAMBERT_TOLERANCE = 0.01
NORMAL_TOLERANCE_DEG = 25.0
FLIP_GAIN_MEAN = 0.002
STATIC_GAIN_MEAN = 0.005
#: Face-mesh landmarks and the direction a frontal face's normal has there (camera space, OpenGL).
NOSE_TIP, FOREHEAD, RIGHT_CHEEK, LEFT_CHEEK = 4, 151, 205, 425  # the person's right cheek is on the image's left
_C35, _S35, _C15, _S15 = np.cos(np.radians(35)), np.sin(np.radians(35)), np.cos(np.radians(15)), np.sin(np.radians(15))
EXPECTED = {NOSE_TIP: (0.0, 0.0, 1.0), FOREHEAD: (0.0, _S15, _C15), RIGHT_CHEEK: (-_S35, 0.0, _C35),
            LEFT_CHEEK: (_S35, 0.0, _C35)}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    import os

    from matchcut import settings

    # A private cache for the shading graph, with the installed zoo still found through the model path.
    zoo = os.pathsep.join(filter(None, [os.environ.get(settings.MODEL_PATH_VAR), str(settings.cache_dir() / "models")]))
    monkeypatch.setenv(settings.MODEL_PATH_VAR, zoo)
    monkeypatch.setenv(settings.CACHE_DIR_VAR, str(tmp_path / "cache"))


def _run(tmp_path, inputs, lights, outputs=None, frames="1", **params):
    sink = ListSink()
    job = job_from_dict({"matchcut_job": 1, "tool": "relight", "inputs": inputs,
                         "outputs": outputs or {"main": "out/relit.####.exr", "passes": "out/passes.####.exr"},
                         "frames": frames, "params": {"lights": lights, **params}, "device": {"provider": "cpu"},
                         "output_options": {"dtype": "float"}}, tmp_path, where="job.json")
    run_job(RelightTool(), job, sink)
    return sink


def _layer(plate, layer, names):
    return np.stack([plate.channel(f"{layer}.{n}") for n in names], axis=-1)


@pytest.mark.parametrize("convention, encoding", [("opengl", "signed"), ("directx", "unit")])
def test_sphere_and_plane_match_analytic_lambert(tmp_path, convention, encoding):
    normals, albedo = sphere_and_plane(120, 160)
    plate = albedo * AMBIENT
    stored = normals * np.array([1, -1 if convention == "directx" else 1, 1], np.float32)
    stored = stored * 0.5 + 0.5 if encoding == "unit" else stored
    write_plate(tmp_path / "scene.0001.exr", plate, dtype="float")
    write_plate(tmp_path / "normals.0001.exr", stored, channels=("R", "G", "B"), dtype="half", kind="pass")
    lights = [{"type": "directional", "direction": [-1, 0.6, 0.8], "intensity": 1.5, "color": [1, 0.8, 0.6]}]
    sink = _run(tmp_path, {"plate": "scene.####.exr", "normals": "normals.####.exr"}, lights, ambient=AMBIENT,
                normals_convention=convention, normals_encoding=encoding)
    relit = read_plate(tmp_path / "out" / "relit.0001.exr").pixels
    truth = albedo * (AMBIENT + lambert(normals, (-1, 0.6, 0.8), 1.5, (1, 0.8, 0.6)))
    rel = np.abs(relit - truth) / truth
    assert rel.max() < LAMBERT_TOLERANCE, rel.max()
    passes = read_plate(tmp_path / "out" / "passes.0001.exr")
    assert float(_layer(passes, "source", "A").min()) == 1.0  # the supplied pass covered every pixel
    assert not sink.of("warning")


def test_flopping_the_plate_and_the_light_flops_the_result_exactly_without_faces(tmp_path):
    import skimage.data

    display = skimage.data.coffee()[::4, ::4].astype(np.float32) / 255
    from matchcut import color

    linear = color.convert(display, color.SRGB_DISPLAY, color.SCENE_LINEAR)
    write_plate(tmp_path / "a.0001.exr", linear, dtype="float")
    write_plate(tmp_path / "b.0001.exr", linear[:, ::-1], dtype="float")
    light = {"type": "spot", "position": [-0.5, 0.3, 0.6], "cone": 50, "intensity": 2, "specular": 0.3}
    flopped = {**light, "position": [0.5, 0.3, 0.6]}
    for name, spec in (("a", light), ("b", flopped)):
        _run(tmp_path, {"plate": f"{name}.####.exr"}, [spec], {"main": f"out/{name}.####.exr"}, faces=False,
             person=False)
    a = read_plate(tmp_path / "out" / "a.0001.exr").pixels
    b = read_plate(tmp_path / "out" / "b.0001.exr").pixels[:, ::-1]
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    assert np.mean(a / np.maximum(linear, 1e-6)) > 1.05  # it did relight


# --- the zoo: faces and people ---------------------------------------------------------------------------


def _astronaut(tmp_path, name="astro", frames=(1,), flop=False, noise=0.0):
    import skimage.data

    from matchcut import color

    display = skimage.data.astronaut().astype(np.float32) / 255
    linear = color.convert(display, color.SRGB_DISPLAY, color.SCENE_LINEAR)
    linear = linear[:, ::-1] if flop else linear
    rng = np.random.default_rng(7)
    for f in frames:
        grain = rng.normal(0, noise, linear.shape).astype(np.float32) * linear if noise else 0
        write_plate(tmp_path / f"{name}.{f:04d}.exr", linear + grain, dtype="float")
    return linear


def _face_halves(linear, relit, mesh):
    import cv2

    hull = np.zeros(linear.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(mesh[:, :2]).astype(np.int32)), 1)
    xs = np.arange(linear.shape[1])[None, :]
    lum = np.array([0.2126, 0.7152, 0.0722], np.float32)
    raised = (relit[..., :3] - linear) @ lum
    left = (hull > 0) & (xs < mesh[NOSE_TIP, 0])
    right = (hull > 0) & (xs >= mesh[NOSE_TIP, 0])
    return float(raised[left].mean()), float(raised[right].mean())


@pytest.mark.zoo
def test_astronaut_light_from_the_left_raises_the_left_of_the_face(tmp_path, zoo_model):
    from matchcut.relight.normals import find_meshes
    from matchcut.runtime import DeviceOptions

    zoo_model("face-landmarks")
    linear = _astronaut(tmp_path)
    _run(tmp_path, {"plate": "astro.####.exr"}, ["directional direction=-1,0,0.4 intensity=1"])
    relit = read_plate(tmp_path / "out" / "relit.0001.exr").pixels
    display = np.clip(__import__("matchcut").color.convert(linear, "scene_linear", "sRGB Encoded Rec.709 (sRGB)"), 0, 1)
    mesh = find_meshes(display, device=DeviceOptions(provider="cpu"))[0]
    left, right = _face_halves(linear, relit, mesh)
    assert left > 2 * right > 0, (left, right)
    passes = read_plate(tmp_path / "out" / "passes.0001.exr")
    normals = _layer(passes, "N", "XYZ")
    for index, want in EXPECTED.items():
        x, y = mesh[index, :2].astype(int)
        got = normals[y, x] / np.linalg.norm(normals[y, x])
        angle = np.degrees(np.arccos(np.clip(got @ np.asarray(want), -1, 1)))
        assert angle < NORMAL_TOLERANCE_DEG, (index, got, angle)
    assert _layer(passes, "source", "R")[y, x] > 0.99  # the face mesh covered the face


@pytest.mark.zoo
def test_astronaut_flopped_with_the_light_gives_the_flopped_result(tmp_path, zoo_model):
    zoo_model("face-detection")
    _astronaut(tmp_path, "a")
    _astronaut(tmp_path, "b", flop=True)
    _run(tmp_path, {"plate": "a.####.exr"}, ["directional direction=-1,0.2,0.5"],
         {"main": "out/a.####.exr", "passes": "out/pa.####.exr"})
    _run(tmp_path, {"plate": "b.####.exr"}, ["directional direction=1,0.2,0.5"],
         {"main": "out/b.####.exr", "passes": "out/pb.####.exr"})
    ga = _layer(read_plate(tmp_path / "out" / "pa.0001.exr"), "gain", "RGB")
    gb = _layer(read_plate(tmp_path / "out" / "pb.0001.exr"), "gain", "RGB")[:, ::-1]
    assert float(np.abs(ga - gb).mean()) < FLIP_GAIN_MEAN
    assert float(np.abs(ga - 1).mean()) > 10 * FLIP_GAIN_MEAN  # the gain is far from trivial


@pytest.mark.zoo
def test_static_shot_gain_is_steady(tmp_path, zoo_model):
    zoo_model("selfie-segmentation")
    _astronaut(tmp_path, frames=range(1, 5), noise=0.01)
    _run(tmp_path, {"plate": "astro.####.exr"}, ["directional direction=-1,0,0.5"], frames="1-4")
    gains = [_layer(read_plate(tmp_path / "out" / f"passes.{f:04d}.exr"), "gain", "RGB") for f in range(1, 5)]
    changes = [float(np.abs(b - a).mean()) for a, b in zip(gains, gains[1:])]
    assert max(changes) < STATIC_GAIN_MEAN, changes
