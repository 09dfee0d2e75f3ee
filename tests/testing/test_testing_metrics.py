"""matchcut.testing.metrics on tiny arrays with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matchcut.testing.metrics import (PSNR_CAP, connectivity_error, gradient_error, mask_iou, matte_errors, mse, psnr,
                                      region_iou, sad, score_detections, ssim)


def test_psnr_known_values():
    a = np.zeros((4, 4, 3), np.float32)
    assert psnr(a, a + np.float32(0.1)) == pytest.approx(20.0, abs=1e-4)  # MSE 0.01 -> 20 dB at peak 1
    assert psnr(a, a) == PSNR_CAP == 120.0  # identical images: capped by default
    assert psnr(a, a, cap=None) == math.inf
    assert psnr(a, a, cap=60.0) == 60.0
    # clip (default): values beyond [0, 1] count as 0 and 1, as a display would show them
    assert psnr(a - 1, a) == 120.0
    assert psnr(a - 1, a, clip=False, cap=None) == pytest.approx(0.0)
    b = np.full((4, 4, 3), 0.5, np.float32)
    assert psnr(b, a, dtype=np.float64) == pytest.approx(10 * math.log10(4.0))


def test_psnr_keeps_the_inputs_precision_unless_told():
    rng = np.random.default_rng(0)
    a, b = (rng.random((64, 64, 3), dtype=np.float32) for _ in range(2))
    in_float32 = float(np.mean((a - b) ** 2))  # how the retime and demo figures have been measured
    assert psnr(a, b) == 10 * float(np.log10(1.0 / in_float32))
    in_float64 = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))  # degrain's figures
    assert psnr(a, b, clip=False, cap=None, dtype=np.float64) == 10.0 * math.log10(1.0 / in_float64)


def test_ssim_of_identical_images_is_one():
    a = np.random.default_rng(1).random((32, 32, 3), dtype=np.float32)
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, 1 - a) < 0.5


def test_matte_errors_known_values():
    truth = np.zeros((10, 10), np.float32)
    truth[2:6, 2:6] = 1.0  # 16 px
    alpha = truth.copy()
    alpha[2:6, 6:8] = 1.0  # 8 px too many
    assert sad(alpha, truth) == pytest.approx(8 / 1000)
    assert mse(alpha, truth) == pytest.approx(8 / 100)
    assert mask_iou(alpha, truth) == pytest.approx(16 / 24)
    assert mask_iou(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0  # both empty: the same
    assert gradient_error(truth, truth) == 0.0 and gradient_error(truth + 0.25, truth) == pytest.approx(0.0)
    assert gradient_error(alpha, truth) > 0
    e = matte_errors(alpha, truth)
    assert set(e) == {"sad", "mse", "grad", "conn", "iou"} and e["sad"] == sad(alpha, truth)


def test_connectivity_error_counts_disconnected_pieces():
    truth = np.zeros((20, 20), np.float32)
    truth[5:15, 5:15] = 1.0
    assert connectivity_error(truth, truth) == 0.0
    # A solid island away from the subject: at every threshold it is outside the largest shared region, so its
    # level is 0 and phi = 0 there against the truth's 1: 4 pixels x 1.
    island = truth.copy()
    island[0:2, 0:2] = 1.0
    assert connectivity_error(island, truth) == pytest.approx(4 / 1000)
    # A hole of 0.5 punched in the subject, 2x2: the pixels leave the source above 0.5 (level 0.5), so the
    # matte's d = 0 (phi 1) and the truth's d = 0.5 (phi 0.5): 0.5 each.
    hole = truth.copy()
    hole[9:11, 9:11] = 0.5
    assert connectivity_error(hole, truth) == pytest.approx(4 * 0.5 / 1000)
    # Half-transparent pixels cut off from the subject: level 0, d = 0.5 >= 0.15, phi = 0.5 against the truth's
    # phi 1 (its 0 there): 0.5 each.
    faint = truth.copy()
    faint[0, 0:4] = 0.5
    assert connectivity_error(faint, truth) == pytest.approx(4 * 0.5 / 1000)


def test_region_iou_and_detection_scores():
    assert region_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert region_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert region_iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert region_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0
    planted = [(0, 0, 10, 10), (50, 50, 10, 10)]
    detected = [(1, 1, 10, 10), (100, 100, 4, 4)]
    assert score_detections(detected, planted) == (1, 1, 1)  # (found, false positives, missed)
    assert score_detections([], planted) == (0, 0, 2)
