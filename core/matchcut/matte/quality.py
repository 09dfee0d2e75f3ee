"""Moved to matchcut.testing (mattes, metrics, photos). Only tests/tools/test_tool_matte.py still imports this
name; delete this file once it imports matchcut.testing.mattes and photos.photo(..., colorspace="scene_linear")."""

from __future__ import annotations

from matchcut.testing.mattes import astronaut_truth, screen_shot, soft_alpha

__all__ = ["astronaut_truth", "photo", "screen_shot", "soft_alpha"]


def photo(name: str, height: int, width: int):
    """``matchcut.testing.photos.photo(name, colorspace="scene_linear", size=(height, width))``, as this gave."""
    from matchcut.testing.photos import photo as load

    return load(name, colorspace="scene_linear", size=(height, width))
