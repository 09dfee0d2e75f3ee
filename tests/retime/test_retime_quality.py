"""Quality on known motion: two real photos in known layered motion, frames dropped and rebuilt, every method
scored on the same frames in one run (figures in docs/quality.md)."""

import pytest

from matchcut.testing.sequences import measure_quality


@pytest.mark.zoo
def test_rife_beats_both_baselines(zoo_model):
    zoo_model("rife-4.25")
    zoo_model("rife-hdv3")
    scores = measure_quality(device={"provider": "cpu"})
    blend, dis = scores["50/50 blend"], scores["DIS flow + warp"]
    assert blend["frames"] == dis["frames"] == 8
    for model in ("rife-4.25", "rife-hdv3"):
        for (p, s), (pb, sb) in zip(scores[model]["per_frame"], blend["per_frame"]):
            assert p > pb + 3 and s > sb + 0.2
    assert scores["rife-hdv3"]["psnr"] > dis["psnr"]
    # The bound, RIFE beats both baselines, holds for the fill tool's default (a 4-run flip ensemble):
    # rife-hdv3 x4 beats DIS on mean PSNR and mean SSIM (a single run of rife-hdv3 trails DIS on SSIM by 0.003).
    best = scores["rife-hdv3 x4"]
    assert best["psnr"] > dis["psnr"] and best["ssim"] > dis["ssim"], (best["psnr"], best["ssim"], dis["psnr"], dis["ssim"])
    for (p, s), (pb, sb) in zip(best["per_frame"], blend["per_frame"]):
        assert p > pb + 3 and s > sb + 0.2
