"""Shot match: fit a colour and lighting correction from one shot to a reference, apply it, export it."""

from matchcut.matching.fit import METHODS, ColorFit, apply_color, fit_color

__all__ = ["METHODS", "ColorFit", "apply_color", "fit_color"]
