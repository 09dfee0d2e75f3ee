"""A rendered sphere-and-plane scene with known normals and albedo: the analytic check of the relight."""

from __future__ import annotations

import numpy as np


def sphere_and_plane(height: int, width: int, *, radius: float = 0.3, centre: tuple[float, float] = (0.0, 0.0),
                     tilt: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """Camera-space normals and albedo of a sphere in front of a tilted plane, at pixel centres.

    Returns (normals (H, W, 3) float32 unit, OpenGL camera space; albedo (H, W, 3) float32 0..1). The sphere
    (radius and centre in frame widths from the frame's centre) faces the orthographic camera; the plane behind
    it leans back by ``tilt`` degrees (its normal is 0, sin(tilt), cos(tilt)). Albedo: a warm grey sphere and a
    blue-grey plane with a soft checker, so the scene has texture the gain must keep.
    """
    from matchcut.relight.shading import pixel_positions

    p = pixel_positions(height, width)
    dx, dy = p[..., 0] - centre[0], p[..., 1] - centre[1]
    r2 = (dx * dx + dy * dy) / (radius * radius)
    on_sphere = r2 < 1.0
    normals = np.zeros((height, width, 3), np.float32)
    t = np.radians(tilt)
    normals[...] = (0.0, np.sin(t), np.cos(t))
    z = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    sphere = np.stack([dx / radius, dy / radius, z], axis=-1)
    normals[on_sphere] = sphere[on_sphere] / np.linalg.norm(sphere[on_sphere], axis=-1, keepdims=True)
    checker = ((np.floor(p[..., 0] * 8) + np.floor(p[..., 1] * 8)) % 2)[..., None]
    albedo = np.where(on_sphere[..., None], np.array([0.55, 0.45, 0.4], np.float32),
                      np.array([0.25, 0.3, 0.4], np.float32) * (0.8 + 0.4 * checker))
    return normals.astype(np.float32), albedo.astype(np.float32)


def lambert(normals: np.ndarray, direction, intensity: float = 1.0, color=(1.0, 1.0, 1.0)) -> np.ndarray:
    """The analytic irradiance of one directional light: (H, W, 3) float32 = intensity x color x max(0, n . l).

    normals: (H, W, 3) unit camera-space; direction: towards the light (normalised here)."""
    d = np.asarray(direction, np.float64)
    d = d / np.linalg.norm(d)
    cos = np.maximum(normals.astype(np.float64) @ d, 0.0)[..., None]
    return (intensity * np.asarray(color, np.float64) * cos).astype(np.float32)
