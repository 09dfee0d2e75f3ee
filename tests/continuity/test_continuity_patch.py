"""Patch: the reference's region warped, colour-matched and composited back; the RGBA patch on its own."""

import numpy as np

from matchcut.continuity.compare import compare
from matchcut.continuity.patch import feathered_matte, patch_region
from matchcut.testing.metrics import region_iou
from matchcut.testing.planted import make_pair


def test_patch_restores_the_planted_region():
    size = (256, 320)
    pair = make_pair("astronaut", seed=4, size=size, changes=("paste",), noise=0.0, light=1.0)
    clean = make_pair("astronaut", seed=4, size=size, changes=(), noise=0.0, light=1.0)
    c = compare(pair.a, pair.b, person=False)
    region = max(c.regions, key=lambda r: region_iou(r.box, pair.boxes[0]))
    assert region_iou(region.box, pair.boxes[0]) >= 0.3
    composite, patch = patch_region(pair.a, pair.b, c.alignment, region, c.fit)
    x, y, w, h = pair.boxes[0]
    inner = (slice(y + 3, y + h - 3), slice(x + 3, x + w - 3))
    before = float(np.abs(pair.b[inner] - clean.b[inner]).mean())
    after = float(np.abs(composite[inner] - clean.b[inner]).mean())
    assert after < 0.25 * before
    # Outside the matte B is untouched; the patch is premultiplied RGBA, opaque over the region.
    assert np.array_equal(composite[:, :5], pair.b[:, :5]) or x < 20
    assert patch.shape == (*size, 4)
    assert float(patch[inner][..., 3].min()) > 0.99
    assert float(patch[..., 3][0:2, 0:2].max()) == 0.0 or (x < 40 and y < 40)
    assert np.all(patch[..., :3] <= patch[..., 3:4] * max(1.0, float(composite.max())) + 1e-5)


def test_feathered_matte_is_soft_and_bounded():
    m = feathered_matte((100, 120), (40, 30, 20, 20), 6.0)
    assert m.dtype == np.float32 and 0.0 <= m.min() and m.max() <= 1.0
    assert m[40, 50] > 0.99 and m[0, 0] == 0.0
    assert 0.05 < m[30, 34] < 0.95  # the edge is soft


def test_patch_with_parallax_rebuilds_an_added_prop_from_what_a_sees_behind_it():
    # The motorcycle pair (real parallax) with a pasted patch in B: the region is rebuilt from A through the
    # per-pixel alignment, so what lies behind it comes from where A sees it, not from a homography's guess.
    import cv2

    from matchcut.testing.takes import stereo_pairs

    pair = stereo_pairs("tune")[0]
    size = (481, 325)
    a, b, clean = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (pair.a, pair.b, pair.clean_b))
    added = next(ch for ch in pair.changes if ch.kind == "added")
    box = tuple(int(round(v * 0.65)) for v in added.box)
    c = compare(a, b, person=False)
    assert c.alignment.stats["model"] == "dense"
    region = max(c.regions, key=lambda r: region_iou(r.box, box))
    assert region_iou(region.box, box) >= 0.3
    composite, _ = patch_region(a, b, c.alignment, region, c.fit)
    x, y, w, h = box
    inner = (slice(y + 3, y + h - 3), slice(x + 3, x + w - 3))
    before = float(np.abs(b[inner] - clean[inner]).mean())
    after = float(np.abs(composite[inner] - clean[inner]).mean())
    assert after < 0.5 * before  # both shots carry their own grain: what is left is mostly noise
