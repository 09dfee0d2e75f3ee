"""matchcut.runtime.tiling: tile plans, padding, and tiled == whole-frame on a real U-Net through ONNX."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from matchcut.errors import SettingError, ShapeMismatchError
from matchcut.runtime import DeviceOptions, create_session, plan_tiles, run_tiled
from matchcut.runtime.tiling import crop, pad_to_multiple


@pytest.mark.parametrize("h, w, tile, overlap, multiple", [
    (300, 400, 128, 32, 4), (97, 131, 32, 8, 1), (64, 64, 64, 8, 8), (40, 300, 48, 10, 4), (129, 129, 128, 0, 1),
])
def test_plan_covers_frame_exactly_once(h, w, tile, overlap, multiple):
    tiles = plan_tiles(h, w, tile, overlap, multiple)
    written = np.zeros((h, w), np.int32)
    for t in tiles:
        assert 0 <= t.y0 and t.y0 + t.h <= h and 0 <= t.x0 and t.x0 + t.w <= w  # clamped, never padded
        assert t.h == min(tile, h) and t.w == min(tile, w)
        assert t.y0 <= t.out_y0 and t.out_y0 + t.out_h <= t.y0 + t.h  # write window inside the read window
        assert t.x0 <= t.out_x0 and t.out_x0 + t.out_w <= t.x0 + t.w
        # an interior edge keeps at least `overlap` pixels of context; a frame edge needs none
        for lo, hi, start, size, n in ((t.out_y0, t.out_y0 + t.out_h, t.y0, t.h, h),
                                       (t.out_x0, t.out_x0 + t.out_w, t.x0, t.w, w)):
            assert lo == 0 or lo - start >= overlap
            assert hi == n or start + size - hi >= overlap
        written[t.out_y0:t.out_y0 + t.out_h, t.out_x0:t.out_x0 + t.out_w] += 1
    assert (written == 1).all()


def test_plan_aligns_origins_to_multiple():
    tiles = plan_tiles(300, 400, 128, 30, multiple=4)  # step 68 is a multiple of 4 already
    assert all(t.y0 % 4 == 0 and t.x0 % 4 == 0 for t in tiles)
    tiles = plan_tiles(300, 400, 128, 31, multiple=4)  # step 66 is rounded down to 64
    assert all(t.y0 % 4 == 0 and t.x0 % 4 == 0 for t in tiles)
    assert sorted({t.x0 for t in tiles}) == [0, 64, 128, 192, 256, 272]


def test_small_frame_is_one_tile():
    (only,) = plan_tiles(50, 60, 128, 16, 4)
    assert (only.y0, only.x0, only.h, only.w, only.out_h, only.out_w) == (0, 0, 50, 60, 50, 60)


def test_plan_validation():
    with pytest.raises(SettingError, match="twice the overlap"):
        plan_tiles(300, 300, 64, 32)
    with pytest.raises(SettingError, match="multiple"):
        plan_tiles(300, 300, 100, 8, multiple=8)
    with pytest.raises(SettingError, match="overlap"):
        plan_tiles(300, 300, 64, -1)


@pytest.mark.parametrize("mode", ["reflect", "edge"])
def test_pad_and_crop(mode):
    x = np.arange(2 * 3 * 5 * 7, dtype=np.float32).reshape(2, 3, 5, 7)
    padded, size = pad_to_multiple(x, 4, mode=mode)
    assert padded.shape == (2, 3, 8, 8) and size == (5, 7)
    np.testing.assert_array_equal(crop(padded, size), x)
    expected = x[..., 3, :] if mode == "reflect" else x[..., 4, :]
    np.testing.assert_array_equal(padded[..., 5, :7], expected)
    hwc = x[0].transpose(1, 2, 0)
    padded, size = pad_to_multiple(hwc, 4, axes=(0, 1), mode=mode)
    assert padded.shape == (8, 8, 3)
    np.testing.assert_array_equal(crop(padded, size, axes=(0, 1)), hwc)
    same, _ = pad_to_multiple(x, 1)
    assert same is x


def _box_blur(radius):
    """A numpy box filter with zero padding: each output pixel depends on a (2r+1)^2 window."""
    def fn(x):
        k = 2 * radius + 1
        p = np.pad(x.astype(np.float64), [(0, 0), (0, 0), (radius, radius), (radius, radius)])
        c = p.cumsum(-1).cumsum(-2)
        c = np.pad(c, [(0, 0), (0, 0), (1, 0), (1, 0)])
        s = c[..., k:, k:] - c[..., :-k, k:] - c[..., k:, :-k] + c[..., :-k, :-k]
        return (s / k**2).astype(np.float32)
    return fn


def test_run_tiled_numpy_filter_and_channel_change():
    rng = np.random.default_rng(0)
    image = rng.random((1, 3, 70, 90), dtype=np.float32)
    blur = _box_blur(3)
    def to_two(x):  # 3 channels in, 2 out: a mean and a max "matte"
        b = blur(x)
        return np.concatenate([b.mean(1, keepdims=True), b.max(1, keepdims=True)], axis=1)
    whole = run_tiled(to_two, image, tile=256, overlap=0)
    tiled = run_tiled(to_two, image, tile=32, overlap=4)
    assert whole.shape == tiled.shape == (1, 2, 70, 90)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    seamy = run_tiled(to_two, image, tile=32, overlap=1)
    assert np.abs(seamy - whole).max() > 1e-3


def test_run_tiled_with_padding_and_scale():
    rng = np.random.default_rng(2)
    image = rng.random((1, 3, 45, 61), dtype=np.float32)
    blur = _box_blur(2)
    def up2(x):  # a blur, then 2x nearest upscaling (a stand-in for a super-resolution model)
        return blur(x).repeat(2, axis=-2).repeat(2, axis=-1)
    whole = run_tiled(up2, image, tile=512, overlap=0, multiple=4, scale=2)
    tiled = run_tiled(up2, image, tile=24, overlap=4, multiple=4, scale=2)
    assert whole.shape == tiled.shape == (1, 3, 90, 122)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    with pytest.raises(ShapeMismatchError, match="scale 2"):
        run_tiled(blur, image, tile=24, overlap=4, scale=2)


# --- tiled == whole frame on a real U-Net, through ONNX and onnxruntime -----------------------------------

# The net below, as (kind, scale of the level it runs at in input pixels). The receptive-field radius is
# how far one output pixel can see on one side: a 3x3 conv at level scale s adds s; a 2x2/2 average pool
# from scale s adds s (its window's far pixel); a bilinear 2x upsample to scale s (align_corners=False)
# blends the two nearest coarse samples, the farther up to one coarse step (2s) away, so it adds 2s.
# Sum: 29 px; the impulse response measured below reaches 25 (the pool and upsample phases never all line
# up on the same side), and tiling with a 24 px overlap already misses 1e-4 while 32 px is exact.
UNET_LAYERS = [("conv", 1), ("conv", 1), ("pool", 1), ("conv", 2), ("conv", 2), ("pool", 2), ("conv", 4),
               ("conv", 4), ("up", 2), ("conv", 2), ("conv", 2), ("up", 1), ("conv", 1), ("conv", 1)]


def _receptive_radius(layers):
    return sum({"conv": s, "pool": s, "up": 2 * s}[kind] for kind, s in layers)


def _export_unet(path):
    import torch
    from torch import nn
    import torch.nn.functional as F

    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.1),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.LeakyReLU(0.1))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.e0, self.e1, self.e2 = block(3, 16), block(16, 32), block(32, 64)
            self.d1, self.d0 = block(64 + 32, 32), block(32 + 16, 16)
            self.head = nn.Conv2d(16, 3, 1)

        def forward(self, x):
            e0 = self.e0(x)
            e1 = self.e1(F.avg_pool2d(e0, 2))
            e2 = self.e2(F.avg_pool2d(e1, 2))
            d1 = self.d1(torch.cat([F.interpolate(e2, scale_factor=2.0, mode="bilinear"), e1], 1))
            d0 = self.d0(torch.cat([F.interpolate(d1, scale_factor=2.0, mode="bilinear"), e0], 1))
            return self.head(d0)

    torch.manual_seed(0)
    net = UNet().eval()
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            # Variance-preserving init: PyTorch's default shrinks the signal layer by layer, so far pixels
            # would contribute ~nothing and a seam would hide below the tolerance.
            nn.init.kaiming_normal_(m.weight, a=0.1, nonlinearity="leaky_relu")
            nn.init.zeros_(m.bias)
    dummy = torch.zeros(1, 3, 64, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter announces its retirement
        torch.onnx.export(net, (dummy,), str(path), dynamo=False, opset_version=17, input_names=["image"],
                          output_names=["out"], dynamic_axes={"image": {2: "H", 3: "W"}, "out": {2: "H", 3: "W"}})
    return net


def _test_image(h, w):
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, 0.5 + 0.5 * np.sin(xx / 9.0) * np.cos(yy / 13.0)])
    img[:, h // 3:h // 2, w // 4:w // 2] += 0.4  # a hard-edged block
    img += 0.1 * rng.standard_normal(img.shape).astype(np.float32)
    return img[None].astype(np.float32)


@pytest.fixture(scope="module")
def unet_session(tmp_path_factory):
    path = tmp_path_factory.mktemp("unet") / "unet.onnx"
    _export_unet(path)
    return create_session(path, DeviceOptions(provider="cpu", threads=2))


def test_unet_receptive_field_bound_holds(unet_session):
    # An impulse response measured through onnxruntime must stay within the analytic radius.
    radius = _receptive_radius(UNET_LAYERS)
    base = np.zeros((1, 3, 96, 96), np.float32)
    impulse = base.copy()
    impulse[0, :, 48, 48] = 1.0
    run = lambda x: unet_session.run({"image": x})["out"]  # noqa: E731
    diff = np.abs(run(impulse) - run(base)).max(axis=(0, 1))
    ys, xs = np.nonzero(diff > 1e-7)
    reach = max(np.abs(ys - 48).max(), np.abs(xs - 48).max())
    assert reach <= radius
    assert reach >= radius // 2  # the analytic figure is a bound, not a gross overestimate


def test_unet_tiled_equals_whole_frame(unet_session):
    run = lambda x: unet_session.run({"image": x})["out"]  # noqa: E731
    image = _test_image(300, 400)
    whole = run(image)
    assert np.abs(whole).mean() > 0.05  # a live signal, not a dead network
    overlap = -(-_receptive_radius(UNET_LAYERS) // 4) * 4  # the radius, rounded up to the size multiple
    tiled = run_tiled(run, image, tile=128, overlap=overlap, multiple=4)
    assert tiled.shape == whole.shape
    assert np.abs(tiled - whole).max() < 1e-4
    # With too little overlap the zero padding at tile edges shows: the overlap is what makes it exact.
    seamy = run_tiled(run, image, tile=128, overlap=4, multiple=4)
    assert np.abs(seamy - whole).max() > 1e-4


# --- batched tiles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [2, 3, 64])
def test_batched_tiles_equal_unbatched(batch):
    image = np.random.default_rng(4).random((2, 3, 70, 90), dtype=np.float32)  # N = 2 images at once
    blur = _box_blur(3)
    seen = []

    def fn(x):
        seen.append(x.shape[0])
        return blur(x)

    single = run_tiled(blur, image, tile=32, overlap=4)
    batched = run_tiled(fn, image, tile=32, overlap=4, batch=batch)
    np.testing.assert_array_equal(batched, single)  # the same windows, the same pixels written
    tiles = len(plan_tiles(70, 90, 32, 4))
    assert sum(seen) == 2 * tiles and max(seen) == 2 * min(batch, tiles)
    with pytest.raises(SettingError, match="batch"):
        run_tiled(blur, image, tile=32, overlap=4, batch=0)


def test_a_batch_of_the_wrong_size_back_is_a_shape_error():
    image = np.zeros((1, 3, 64, 64), np.float32)
    with pytest.raises(ShapeMismatchError, match=r"2 32x32 tile\(s\) gave output shape \(1, 3, 32, 32\)"):
        run_tiled(lambda x: x[:1], image, tile=32, overlap=4, batch=2)


def _batch_conv_model(path):
    """conv 3x3 -> relu -> 2x2 average pool -> conv 3x3 -> nearest 2x upsample -> conv 3x3, seeded weights,
    float32 [N, 3, H, W] with N, H, W dynamic (H, W even): a receptive-field radius of 1 + 2 * 2 + 1 = 6 px."""
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(11)
    weights = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32) * 0.3, f"w{i}")
               for i, s in enumerate([(8, 3, 3, 3), (8, 8, 3, 3), (3, 8, 3, 3)])]
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    nodes = [helper.make_node("Conv", ["x", "w0"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("AveragePool", ["b"], ["c"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["c", "w1"], ["d"], pads=[1, 1, 1, 1]),
             helper.make_node("Resize", ["d", "", "scales"], ["e"], mode="nearest"),
             helper.make_node("Conv", ["e", "w2"], ["y"], pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "batchnet",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "H", "W"])],
                              weights + [scales])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save(model, str(path))


def test_batched_tiles_through_a_session_equal_unbatched_and_the_whole_frame(tmp_path):
    path = tmp_path / "batchnet.onnx"
    _batch_conv_model(path)
    session = create_session(path, DeviceOptions(provider="cpu", threads=1))
    assert session.takes_batch
    fn = session.image_fn("x", "y")
    image = _test_image(100, 140)
    whole = fn(image)
    single = run_tiled(fn, image, tile=48, overlap=8, multiple=2)
    batched = run_tiled(fn, image, tile=48, overlap=8, multiple=2, batch=4)
    np.testing.assert_allclose(batched, single, rtol=0, atol=1e-6)
    np.testing.assert_allclose(batched, whole, rtol=0, atol=1e-5)  # the exact-overlap rule holds batched
    plain = run_tiled(lambda x: session.run({"x": x})["y"], image, tile=48, overlap=8, multiple=2, batch=4)
    np.testing.assert_allclose(plain, batched, rtol=0, atol=1e-6)  # fn.map (pipelined) = plain calls
