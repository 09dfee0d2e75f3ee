"""Normals sources: a supplied pass (conventions, encodings, bad passes), mesh rasterising, inflation, gradients."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import SettingError, ShapeMismatchError
from matchcut.relight.normals import (
    decode_normals,
    estimate_normals,
    face_normals,
    gradient_normals,
    inflation_normals,
    rasterise_mesh,
    smooth_meshes,
    vertex_normals,
)
from matchcut.relight.scene import sphere_and_plane


def _angle(a, b):
    return np.degrees(np.arccos(np.clip(np.sum(a * b, axis=-1), -1, 1)))


def _hemisphere_mesh(cx=64.0, cy=60.0, r=40.0):
    """A hemisphere facing the camera as landmark-style points (image px, z negative towards the camera)."""
    from scipy.spatial import Delaunay

    rings = [(0.0, 1)] + [(k / 8, 6 * k) for k in range(1, 9)]
    pts = []
    for rho, count in rings:
        for j in range(count):
            a = 2 * np.pi * j / count
            x, y = rho * np.cos(a), rho * np.sin(a)
            pts.append((cx + r * x, cy + r * y, -r * np.sqrt(max(0.0, 1 - x * x - y * y))))
    pts = np.array(pts, np.float32)
    return pts, Delaunay(pts[:, :2]).simplices.astype(np.int32)


def test_supplied_pass_conventions_and_encodings():
    normals, _ = sphere_and_plane(32, 48)
    got, valid, notes = decode_normals(normals)
    assert valid.all() and not notes
    np.testing.assert_allclose(got, normals, atol=1e-6)
    directx = normals * np.array([1, -1, 1], np.float32)
    np.testing.assert_allclose(decode_normals(directx, convention="directx")[0], normals, atol=1e-6)
    packed = normals * 0.5 + 0.5
    np.testing.assert_allclose(decode_normals(packed)[0], normals, atol=1e-5)  # auto: no negatives -> unit
    np.testing.assert_allclose(decode_normals(packed, encoding="unit")[0], normals, atol=1e-5)
    with pytest.raises(SettingError, match="normals_convention.*valid: directx, opengl"):
        decode_normals(normals, convention="vulkan")


def test_unnormalised_and_empty_vectors_are_normalised_or_left_to_estimation():
    normals, _ = sphere_and_plane(32, 48)
    scaled = normals * 3.0
    scaled[:4, :4] = 0.0
    got, valid, notes = decode_normals(scaled, encoding="signed")
    assert not valid[:4, :4].any() and valid.sum() == 32 * 48 - 16
    np.testing.assert_allclose(got[valid], normals[valid], atol=1e-6)
    assert any("not unit length" in n for n in notes) and any("16 pixel(s) have no normal" in n for n in notes)


def test_a_pass_of_another_size():
    normals, _ = sphere_and_plane(32, 48)
    got, valid, notes = decode_normals(normals, size=(64, 96), where="n.exr")
    assert got.shape == (64, 96, 3) and valid.all() and "resampled to the plate's 96x64" in notes[0]
    with pytest.raises(ShapeMismatchError, match="n.exr: the normals pass is 48x32, the plate 64x64"):
        decode_normals(normals, size=(64, 64), where="n.exr")
    with pytest.raises(ShapeMismatchError, match="three channels"):
        decode_normals(normals[..., :2])


def test_mesh_normals_are_smooth_and_follow_the_surface():
    pts, tris = _hemisphere_mesh()
    vn = vertex_normals(pts, tris)
    assert np.all(vn[:, 2] > 0)
    n, weight = face_normals(pts, tris, 120, 128)
    ys, xs = np.mgrid[0:120, 0:128] + 0.5
    dx, dy = (xs - 64) / 40, (ys - 60) / 40
    inside = dx ** 2 + dy ** 2 < 0.8 ** 2
    truth = np.stack([dx, -dy, np.sqrt(np.clip(1 - dx ** 2 - dy ** 2, 0, 1))], -1)
    err = _angle(n[inside], truth[inside])
    assert np.median(err) < 3 and err.max() < 12
    assert weight[60, 64] == pytest.approx(1.0) and weight[5, 5] == 0.0


def test_rasterise_keeps_the_nearest_triangle():
    pts = np.array([[0, 0, -5], [20, 0, -5], [0, 20, -5], [0, 0, 5], [20, 0, 5], [0, 20, 5]], np.float32)
    tris = np.array([[3, 4, 5], [0, 1, 2]], np.int32)
    values = np.array([[1.0]] * 3 + [[2.0]] * 3, np.float32)
    out, covered = rasterise_mesh(pts, tris, values, 20, 20)
    assert covered[2, 2] and out[2, 2, 0] == 1.0 and not covered[19, 19]


def test_inflation_turns_the_silhouette_edge_away_from_the_camera():
    h, w = 96, 96
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    matte = (((xs - 48) ** 2 + (ys - 48) ** 2) < 30 ** 2).astype(np.float32)
    n = inflation_normals(matte)
    assert n[48, 48, 2] > 0.95
    assert n[48, 20, 0] < -0.5 and n[48, 76, 0] > 0.5 and n[20, 48, 1] > 0.5  # left, right, top edges
    np.testing.assert_allclose(inflation_normals(np.zeros((8, 8), np.float32)), np.tile([0, 0, 1], (8, 8, 1)))


def test_gradient_normals_flip_with_the_image_and_vanish_at_zero_detail():
    import skimage.data

    lum = (skimage.data.camera().astype(np.float32) / 255)[::4, ::4] ** 2.2
    n = gradient_normals(lum, 0.5)
    flopped = gradient_normals(lum[:, ::-1].copy(), 0.5)[:, ::-1]
    np.testing.assert_allclose(flopped * np.array([-1, 1, 1]), n, atol=1e-5)
    assert np.all(gradient_normals(lum, 0.0) == np.array([0, 0, 1], np.float32))
    assert _angle(n, np.array([0, 0, 1])).max() > 10  # the relief is there


def test_landmarks_are_smoothed_with_the_same_face_only():
    face = np.zeros((468, 3), np.float32)
    face[:, 0] = np.linspace(100, 200, 468)
    face[:, 1] = 100
    other = face + np.array([1000, 0, 0], np.float32)
    frames = [[face + 2, other], [face], [other, face - 2]]
    smoothed = smooth_meshes(frames, 1)
    np.testing.assert_allclose(smoothed[0], face, atol=1e-5)  # +2 and -2 cancel, the far face is not mixed in
    assert smooth_meshes([[], [face], []], 1)[0] is not None


def test_estimate_says_when_nothing_was_found_and_weights_sum_to_one():
    rng = np.random.default_rng(1)
    linear = rng.uniform(0.05, 1, (40, 60, 3)).astype(np.float32)
    field = estimate_normals(linear, meshes=[], person=None)
    assert any("no face and no person" in note and "gradients" in note for note in field.notes)
    total = sum(field.weights.values())
    np.testing.assert_allclose(total, 1.0)
    assert field.weights["background"].min() == 1.0
    with pytest.raises(SettingError, match="background.*valid: gradient, plane"):
        estimate_normals(linear, meshes=[], person=None, background="sky")


def test_inflation_of_a_large_frame_works_at_reduced_size_and_agrees():
    import cv2

    h, w = 600, 1024  # over INFLATION_SIZE: worked smaller, upsampled
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    matte = (((xs - 512) ** 2 + (ys - 300) ** 2) < 200 ** 2).astype(np.float32)
    n = inflation_normals(matte)
    assert n.shape == (h, w, 3)
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1.0, atol=1e-5)
    small = inflation_normals(cv2.resize(matte, (512, 300), interpolation=cv2.INTER_AREA))
    up = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    assert np.median(_angle(n[matte > 0], up[matte > 0] / np.linalg.norm(up[matte > 0], axis=-1, keepdims=True))) < 2
    assert n[300, 320, 0] < -0.5 and n[300, 704, 0] > 0.5
