"""The learned fix's network: identity before training, the shaper, the receptive field used for tiling."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from matchcut.learning.network import SIZE_MULTIPLE, make_network, plate_model, receptive_field, shape, unshape  # noqa: E402


def test_an_untrained_model_changes_nothing():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 4 * SIZE_MULTIPLE, 5 * SIZE_MULTIPLE) * 4.0
    with torch.no_grad():
        assert torch.equal(make_network()(x), x)  # the head is zeroed: exactly the input
        shaped = plate_model(make_network(), shaped=True)(x)
    assert float(((shaped - x).abs() / x.abs().clamp(min=1e-3)).max()) < 1e-4  # float32 log and exp round trip


def test_shaper_is_log_like_and_inverts_in_numpy_and_torch():
    values = np.array([-2.0, -0.01, 0.0, 0.001, 0.18, 1.0, 16.0, 100.0], np.float32)
    s = shape(values)
    assert s[2] == 0.0 and np.all(np.diff(s) > 0)
    assert s[4] == pytest.approx(0.40, abs=0.01) and s[6] == pytest.approx(1.0, abs=1e-6)
    assert np.allclose(unshape(s), values, rtol=1e-4, atol=1e-7)
    t = shape(torch.from_numpy(values))
    assert np.allclose(t.numpy(), s, atol=1e-6)
    assert np.allclose(unshape(t).numpy(), values, rtol=1e-4, atol=1e-7)


def test_the_output_never_looks_past_the_receptive_field():
    torch.manual_seed(1)
    net = make_network()
    for p in net.head.parameters():  # a trained-like head, so the features reach the output
        torch.nn.init.normal_(p, std=0.5)
    size, c = 192, 96
    base = torch.zeros(1, 3, size, size)
    poked = base.clone()
    poked[0, :, c, c] = 1.0
    with torch.no_grad():
        change = (net(poked) - net(base)).abs().sum(dim=1)[0]
    ys, xs = torch.nonzero(change > 1e-6, as_tuple=True)
    reach = int(max((ys - c).abs().max(), (xs - c).abs().max()))
    assert 0 < reach <= receptive_field()
