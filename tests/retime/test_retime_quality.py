"""Quality on known motion: two real photos in known layered motion, frames dropped and rebuilt, every method
scored on the same frames in one run (figures in docs/quality.md)."""

import pytest

from matchcut.retime.quality import measure


@pytest.mark.zoo
def test_rife_beats_the_blend_everywhere_and_hdv3_beats_dis_on_psnr(zoo_model):
    zoo_model("rife-4.25")
    zoo_model("rife-hdv3")
    scores = measure(device={"provider": "cpu"})
    blend, dis = scores["50/50 blend"], scores["DIS flow + warp"]
    assert blend["frames"] == dis["frames"] == 8
    for model in ("rife-4.25", "rife-hdv3"):
        for (p, s), (pb, sb) in zip(scores[model]["per_frame"], blend["per_frame"]):
            assert p > pb + 3 and s > sb + 0.2
    # The issue's bound against DIS holds only in part (see docs/quality.md): rife-hdv3's mean PSNR beats
    # DIS, its SSIM and rife-4.25 do not.
    assert scores["rife-hdv3"]["psnr"] > dis["psnr"]
