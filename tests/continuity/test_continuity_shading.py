"""The lighting model of a static surface (matchcut.continuity.shading): another light on a prop that did not
change is explained; a recoloured prop, a removed one and a pasted one are not."""

import numpy as np
import pytest

from matchcut.continuity.detect import DEPTH_COLOUR, difference_map
from matchcut.continuity.shading import light_explains, relit

#: The score threshold of a pair aligned with depth at the default sensitivity (1.5 x 0.21).
THRESHOLD = 0.315


def _scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A textured floor (display values in [0, 1], (96, 128, 3)) with a flat purple prop standing on it; the
    prop's mask; the floor alone."""
    import cv2

    rng = np.random.default_rng(seed)
    floor = cv2.GaussianBlur(rng.uniform(0.35, 0.65, (96, 128)).astype(np.float32), (0, 0), 1.5)
    img = np.repeat(floor[..., None], 3, -1)
    bare = img.copy()
    prop = np.zeros((96, 128), bool)
    prop[24:72, 44:84] = True
    img[prop] = (0.30, 0.25, 0.55)
    return img.astype(np.float32), prop, bare.astype(np.float32)


def _region(prop: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.dilate(prop.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0


def _explains(a, b, prop) -> tuple[float, float]:
    """(the region's share over the threshold as compared, the share the lighting model explains)."""
    score, _, _ = difference_map(a, b, np.ones(a.shape[:2], bool), weights=DEPTH_COLOUR)
    region = _region(prop)
    return float((score[region] > THRESHOLD).mean()), light_explains(a, b, region, THRESHOLD, DEPTH_COLOUR)


def test_another_light_on_a_static_prop_is_explained():
    a, prop, _ = _scene()
    b = a.copy()
    # A fill light on the prop: brighter, and a grey sheen that makes it look paler.
    b[prop] = np.clip(1.4 * a[prop] + 0.12, 0, 1)
    flagged, explained = _explains(a, b, prop)
    assert flagged > 0.3  # the comparison alone sees a difference there
    assert explained >= 0.9


@pytest.mark.parametrize("change", ["recoloured", "removed", "pasted"])
def test_a_changed_prop_is_not_explained_by_light(change):
    a, prop, bare = _scene()
    b = a.copy()
    if change == "recoloured":
        b[prop] = a[prop][:, [2, 0, 1]]  # the hue turned
    elif change == "removed":
        b = bare  # the floor where the prop stood
    else:  # another texture where the prop was
        b[prop] = np.random.default_rng(2).uniform(0.0, 1.0, (int(prop.sum()), 3)).astype(np.float32)
    flagged, explained = _explains(a, b, prop)
    assert flagged > 0.3
    assert explained < 0.5


def test_relit_keeps_shape_and_range():
    a, _, _ = _scene()
    b = np.clip(a * 1.3, 0, 1)
    out = relit(a, b)
    assert out.shape == a.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    # A global gain is one surface's gain everywhere: the relit A is B.
    assert float(np.abs(out - b).mean()) < 0.02
