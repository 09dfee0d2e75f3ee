"""Quality on shot pairs with a known answer: recall >= 0.9, at most one false positive per pair on average."""

import numpy as np

from matchcut.continuity.compare import compare
from matchcut.continuity.detect import ssim_regions
from matchcut.continuity.planted import PHOTOS, make_pair, score_detections

SIZE = (288, 384)


def test_planted_changes_found_despite_camera_light_and_noise():
    tp = fp = missed = fp_clean = 0
    base_tp = base_fp = base_missed = 0
    for seed, name in enumerate(PHOTOS):
        pair = make_pair(name, seed=seed, size=SIZE)
        c = compare(pair.a, pair.b, person=False)
        t, f, m = score_detections([r.box for r in c.regions], pair.boxes)
        tp, fp, missed = tp + t, fp + f, missed + m
        bt, bf, bm = score_detections(ssim_regions(c.aligned_a, c.display_b, c.valid), pair.boxes)
        base_tp, base_fp, base_missed = base_tp + bt, base_fp + bf, base_missed + bm
        clean = make_pair(name, seed=seed, size=SIZE, changes=())
        fp_clean += len(compare(clean.a, clean.b, person=False).regions)
    recall = tp / (tp + missed)
    precision = tp / max(1, tp + fp)
    base_recall = base_tp / (base_tp + base_missed)
    print(f"continuity: recall {recall:.3f} precision {precision:.3f} FP on planted pairs {fp}, on clean pairs "
          f"{fp_clean} over {len(PHOTOS)} pairs each; SSIM baseline recall {base_recall:.3f} FP {base_fp}")
    assert recall >= 0.9
    assert fp_clean / len(PHOTOS) <= 1.0
    assert fp / len(PHOTOS) <= 1.0


def test_lighting_change_alone_is_not_a_continuity_error():
    # Nearly a stop brighter (x1.8) and a white-balance shift, no planted change: normalisation must absorb it.
    pair = make_pair("coffee", seed=3, size=SIZE, changes=(), light=1.8)
    c = compare(pair.a, pair.b, person=False)
    assert len(c.regions) <= 1
    assert float(np.percentile(c.score[c.valid], 99)) < 0.3
