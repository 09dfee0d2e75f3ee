"""Alignment: the known camera change is recovered; shots with nothing in common say so; sizes may differ."""

import cv2
import numpy as np
import pytest

from matchcut.continuity.align import AlignmentError, align, scaled_homography
from matchcut.continuity.compare import compare, display
from matchcut.testing.photos import photo
from matchcut.testing.planted import make_pair


def test_recovers_the_known_homography():
    pair = make_pair("astronaut", seed=1, size=(256, 320), changes=())
    al = align(display(pair.a), display(pair.b))
    corners = np.float32([[0, 0], [320, 0], [320, 256], [0, 256]]).reshape(-1, 1, 2)
    got = cv2.perspectiveTransform(corners, scaled_homography(al, 1.0, 1.0))
    want = cv2.perspectiveTransform(corners, pair.homography)
    assert np.abs(got - want).max() < 2.0
    assert al.inliers >= 15 and al.matches >= al.inliers
    assert float(np.abs(al.flow).max()) <= 0.01 * 320 + 1e-6  # the refinement stays small and smooth
    # The other way round (B is a closer framing), part of A's frame is not seen by B: not compared.
    back = align(display(pair.b), display(pair.a))
    assert 0.5 < back.valid.mean() < 0.98


def test_nothing_in_common_says_so_with_the_match_count():
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.random((200, 260, 3)).astype(np.float32), (0, 0), 3.0)
    flat = np.full((200, 260, 3), 0.4, np.float32)
    with pytest.raises(AlignmentError, match=r"no alignment found: \d+ feature match\(es\), \d+ consistent"):
        compare(flat, noise, person=False)
    a, b = photo("camera", colorspace="linear"), photo("coffee", colorspace="linear")
    with pytest.raises(AlignmentError, match="no alignment found"):
        compare(a[:256, :256], b[:256, :256], person=False)


def test_different_resolution_and_aspect_ratio():
    pair = make_pair("chelsea", seed=2, size=(240, 320), changes=("paste",))
    # A at a higher resolution and cropped to another aspect ratio: B's pixels stay the reference frame.
    big_a = cv2.resize(pair.a, (960, 720), interpolation=cv2.INTER_CUBIC)[:, 80:880]  # long side > 720: rescaled
    c = compare(big_a, pair.b, person=False)
    assert c.size_b == (240, 320)
    from matchcut.testing.metrics import region_iou

    assert any(region_iou(r.box, pair.boxes[0]) >= 0.3 for r in c.regions)
    for r in c.regions:
        x, y, w, h = r.box
        assert 0 <= x and 0 <= y and x + w <= 320 and y + h <= 240


def test_smooth_refinement_corrects_a_bend_the_homography_cannot():
    # The method before depth (alignment="smooth", the quality benchmark's peer) still works as it did.
    # B = A under a homography plus a smooth non-planar displacement (a depth-dependent shift of up to 5 px).
    pair = make_pair("coffee", seed=6, size=(288, 384), changes=(), noise=0.002)
    h, w = pair.b.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx = 5.0 * np.sin(np.pi * ys / h) * np.sin(np.pi * xs / w)
    bent = cv2.remap(pair.b, xs + dx, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    plain = compare(pair.a, bent, person=False, alignment="homography")
    refined = compare(pair.a, bent, person=False, alignment="smooth")
    assert float(np.abs(refined.alignment.flow).max()) > 0.5
    residual = [float(np.median(np.abs(c.aligned_a - c.display_b)[c.valid])) for c in (plain, refined)]
    assert residual[1] < 0.9 * residual[0]
    assert len(refined.regions) <= len(plain.regions)
