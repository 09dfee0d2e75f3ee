"""Super-resolution at run time (matchcut.vision.upscale): sizes, tiling, refusals, and fidelity against Lanczos."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import SettingError
from matchcut.runtime import DeviceOptions
from matchcut.vision.upscale import (DEFAULT_UPSCALE, TASK, lanczos, model_scale, restore_2x_psnr, shrink, upscale,
                                     upscale_to)

CPU = DeviceOptions(provider="cpu", threads=1)
ZOO_UPSCALERS = ("waifu2x-photo-2x", "waifu2x-cunet-2x", "realcugan-pro-2x-conservative")


def _photo(name="rocket", box=(slice(60, 188), slice(200, 362))):
    from matchcut.testing.photos import photo

    return np.ascontiguousarray(photo(name, colorspace="srgb")[box])


def test_shrink_and_lanczos_sizes():
    image = np.random.default_rng(0).random((30, 45, 3), dtype=np.float32)
    assert shrink(image, 2).shape == (15, 22, 3) and shrink(image, 1.5).shape == (20, 30, 3)
    flat = np.full((8, 12, 3), 0.25, np.float32)
    np.testing.assert_allclose(shrink(flat, 2), 0.25, atol=1e-6)
    np.testing.assert_allclose(lanczos(flat, 16, 24), 0.25, atol=1e-5)


def test_restore_2x_psnr_scores_a_run_against_lanczos():
    image = _photo()

    def upsample(x):
        return lanczos(x[0].transpose(1, 2, 0), 2 * x.shape[2], 2 * x.shape[3]).transpose(2, 0, 1)[None]

    model_db, lanczos_db = restore_2x_psnr(upsample, image)
    assert model_db == pytest.approx(lanczos_db) and 20 < lanczos_db < 40
    nearest = restore_2x_psnr(lambda x: x.repeat(2, axis=2).repeat(2, axis=3), image)[0]
    assert nearest < lanczos_db  # a worse restoration scores lower
    with pytest.raises(Exception, match="expected 162x128"):
        restore_2x_psnr(lambda x: x, image)


def test_upscale_to_only_enlarges():
    image = np.zeros((20, 30, 3), np.float32)
    with pytest.raises(SettingError, match="at least the picture's 20 px"):
        upscale_to(image, 19, 40)
    with pytest.raises(SettingError, match="width"):
        upscale_to(image, 20, 29.5)
    assert upscale_to(image, 20, 30) is not image and upscale_to(image, 20, 30).shape == (20, 30, 3)


@pytest.mark.zoo
def test_the_default_beats_lanczos_at_2x_and_at_a_1_5x_punch_in(zoo_model):
    from matchcut.testing.metrics import psnr

    assert zoo_model(DEFAULT_UPSCALE).task == TASK
    truth = _photo()[:126, :162]  # sides divisible by 2 and by 3
    small = shrink(truth, 2)
    out = upscale(small, device=CPU)
    assert out.shape == truth.shape and out.dtype == np.float32 and out.flags.c_contiguous
    assert 0.0 <= out.min() and out.max() <= 1.0
    ours, theirs = psnr(out, truth, dtype=np.float64), psnr(lanczos(small, 126, 162), truth, dtype=np.float64)
    print(f"2x: {DEFAULT_UPSCALE} {ours:.2f} dB, Lanczos {theirs:.2f} dB")
    assert ours > theirs + 0.5
    small = shrink(truth, 1.5)
    out = upscale_to(small, 126, 162, device=CPU)
    ours, theirs = psnr(out, truth, dtype=np.float64), psnr(lanczos(small, 126, 162), truth, dtype=np.float64)
    print(f"1.5x: {DEFAULT_UPSCALE} then Lanczos {ours:.2f} dB, Lanczos {theirs:.2f} dB")
    assert out.shape == truth.shape and ours > theirs + 0.5


@pytest.mark.zoo
def test_a_local_model_tiled_equals_the_whole_picture(zoo_model):
    zoo_model("waifu2x-photo-2x")
    image = _photo()
    whole = upscale(image, "waifu2x-photo-2x", device=CPU)
    tiled = upscale(image, "waifu2x-photo-2x", device=CPU, tile=48)  # overlap 7: many tiles
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


@pytest.mark.zoo
@pytest.mark.parametrize("model_id", ["waifu2x-cunet-2x", "realcugan-pro-2x-conservative"])
def test_a_model_with_channel_gates_tiled_stays_close(zoo_model, model_id):
    """Their squeeze-and-excitation gates average over what they see, so a tile differs a little from the whole
    picture; at a 96 px tile (overlap 18) the two stay above 40 dB PSNR of each other on a photo."""
    from matchcut.testing.metrics import psnr

    zoo_model(model_id)
    image = _photo()
    whole = upscale(image, model_id, device=CPU)
    tiled = upscale(image, model_id, device=CPU, tile=96)
    close = psnr(tiled, whole, dtype=np.float64)
    print(f"{model_id}: tiled (96 px) against whole: PSNR {close:.1f} dB, max {np.abs(tiled - whole).max():.3f}")
    assert close > 40.0


@pytest.mark.zoo
@pytest.mark.parametrize("model_id", ZOO_UPSCALERS)
def test_every_zoo_upscaler_doubles_odd_and_tiny_pictures(zoo_model, model_id):
    from matchcut.testing.metrics import psnr

    m = zoo_model(model_id)
    assert m.task == TASK and m.runtime.tileable and m.licence_note
    assert model_scale(model_id, device=CPU) == 2
    truth = _photo("chelsea", (slice(80, 200), slice(150, 330)))
    odd = shrink(truth, 2)[:59, :89]
    out = upscale(odd, model_id, device=CPU)
    assert out.shape == (118, 178, 3)
    assert psnr(out, truth[:118, :178], dtype=np.float64) > 25.0  # a restoration, not a broken graph (~10 dB)
    assert upscale(odd[:10, :12], model_id, device=CPU).shape == (20, 24, 3)  # edge-padded to MIN_SIDE first


@pytest.mark.zoo
def test_a_model_of_another_task_is_refused(zoo_model):
    zoo_model("degrain-small")
    with pytest.raises(SettingError, match="'degrain-small' is a image-to-image model, not a super-resolution"):
        upscale(np.zeros((40, 40, 3), np.float32), "degrain-small", device=CPU)


def test_the_default_is_a_zoo_upscaler():
    from matchcut.models.zoo.catalog import CATALOG
    from matchcut.models.zoo.upscalers import ZOO_NETS

    assert DEFAULT_UPSCALE in CATALOG and set(ZOO_UPSCALERS) == set(ZOO_NETS) <= set(CATALOG)
    assert all(CATALOG[i].builder.startswith("matchcut.models.zoo.upscalers:build_") for i in ZOO_NETS)
