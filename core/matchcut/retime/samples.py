"""Moved to matchcut.testing (photos.photo, sequences). Only tests/tools still imports this name; delete this file
once test_tool_fill.py and test_tool_retime.py use photos.photo(name, colorspace="srgb") and sequences."""

from __future__ import annotations

from matchcut.testing.sequences import warped_frame

__all__ = ["photo", "warped_frame"]


def photo(name: str = "astronaut"):
    """``matchcut.testing.photos.photo(name, colorspace="srgb")``: display values, as this helper gave."""
    from matchcut.testing.photos import photo as load

    return load(name, colorspace="srgb")
