"""degrain-small: the pinned scikit-image members, the network, training, ONNX export and the PSNR gain."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from matchcut.models.zoo import degrain

STEPS = 40  # a short build: enough to show a gain on the held-out image, far from the full DEFAULT_STEPS


@pytest.fixture(scope="module")
def members() -> dict[str, Path]:
    """The sample images from the installed scikit-image (the same bytes as the pinned wheel's members)."""
    spec = importlib.util.find_spec("skimage")
    site = Path(spec.submodule_search_locations[0]).parent
    return {role: site / member for role, member in degrain.SKIMAGE_MEMBERS.items()}


@pytest.fixture(scope="module")
def built(members, tmp_path_factory):
    out = tmp_path_factory.mktemp("degrain") / "degrain-small.onnx"
    lines: list[str] = []
    fields = degrain.build(members, out, lines.append, steps=STEPS)
    return out, fields, lines


def test_member_pins_match_files(members):
    assert set(degrain.SKIMAGE_MEMBERS) == set(degrain.SKIMAGE_MEMBER_SHA256) == set(degrain.SKIMAGE_LICENCES)
    assert degrain.HELD_OUT in degrain.SKIMAGE_MEMBERS
    for role, path in members.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == degrain.SKIMAGE_MEMBER_SHA256[role], role
    assert len(degrain.SKIMAGE_WHEEL_SHA256) == 64 and int(degrain.SKIMAGE_WHEEL_SHA256, 16) >= 0


def test_network_size_and_receptive_field():
    import torch

    torch.manual_seed(0)
    net = degrain.make_network().eval()
    params = sum(p.numel() for p in net.parameters())
    assert 50_000 <= params <= 100_000
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        np.testing.assert_array_equal(net(x).numpy(), x.numpy())  # zeroed head: the identity before training
        torch.nn.init.normal_(net.head.weight, std=0.5)
        base = torch.zeros(1, 3, 96, 96)
        impulse = base.clone()
        impulse[0, :, 48, 48] = 1.0
        diff = (net(impulse) - net(base)).abs().amax(dim=(0, 1)).numpy()
    ys, xs = np.nonzero(diff > 1e-7)
    reach = max(np.abs(ys - 48).max(), np.abs(xs - 48).max())
    radius = degrain.receptive_field()
    assert 16 <= reach <= radius  # the analytic figure bounds the measured one and is not far above it


def test_grain_has_the_asked_sigma():
    import torch

    gen = torch.Generator().manual_seed(3)
    clean = torch.full((2, 3, 128, 128), 0.36)
    for blur in (0.0, 0.6):
        noise = degrain.add_grain(clean, 0.05, 0.01, gen, shared=0.5, blur=blur) - clean
        assert float(noise.std()) == pytest.approx(0.05 * 0.6 + 0.01, rel=0.05)


def test_training_is_deterministic(members):
    images = [degrain.load_image(members["chelsea"])]
    a = degrain.train(images, 3, seed=5).state_dict()
    b = degrain.train(images, 3, seed=5).state_dict()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


def test_build_fields_describe_a_valid_manifest(built, tmp_path):
    from matchcut import color
    from matchcut.models.manifest import manifest_from_dict

    out, fields, lines = built
    assert fields["task"] == "image-to-image"
    assert fields["runtime"]["size_multiple"] == 4
    assert fields["runtime"]["receptive_field"] == degrain.receptive_field()
    (strength,) = fields["controls"]
    assert (strength["name"], strength["default"], strength["min"], strength["max"]) == ("strength", 1.0, 0.0, 1.0)
    assert strength["label"] == "Strength"
    assert color.resolve_colorspace(fields["inputs"][0]["colorspace"]) == color.resolve_colorspace(color.SRGB_DISPLAY)
    assert "dB" in fields["description"] and degrain.HELD_OUT in fields["description"]
    assert any("held-out" in line for line in lines)
    manifest = manifest_from_dict({"schema": 1, "id": "degrain-small", "version": "1", "file": out.name,
                                   "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
                                   "licence": degrain.DEGRAIN_LICENCE, **fields}, out.with_suffix(".toml"))
    assert manifest.controls[0].name == "strength" and manifest.runtime.size_multiple == 4


def test_exported_model_matches_torch_and_runs_any_size(members, tmp_path):
    import torch

    from matchcut.runtime import DeviceOptions, create_session

    net = degrain.train([degrain.load_image(members["astronaut"])], 15, seed=1)
    path = tmp_path / "d.onnx"
    degrain.export(net, path)
    session = create_session(path, DeviceOptions(provider="cpu", threads=1))
    for shape in ((1, 3, 68, 92), (2, 3, 32, 48)):
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        with torch.no_grad():
            expected = net(torch.from_numpy(x)).numpy()
        got = session.run({"image": x})["degrained"]
        assert got.shape == shape
        assert np.abs(got - expected).max() < 1e-4
        assert np.abs(got - x).max() > 1e-3  # trained: not the identity any more


def test_build_reduces_noise_on_held_out_image(built, members):
    from matchcut.runtime import DeviceOptions, create_session

    out, _, _ = built
    session = create_session(out, DeviceOptions(provider="cpu", threads=1))
    image = degrain.load_image(members[degrain.HELD_OUT])
    noisy_db, denoised_db = degrain.evaluate(lambda x: session.run({"image": x})["degrained"], image, seed=9)
    assert 20.0 < noisy_db < 35.0  # the grain is there
    assert denoised_db > noisy_db  # and the model takes some of it away


def test_steps_from_environment(members, monkeypatch, tmp_path):
    from matchcut.errors import SettingError

    monkeypatch.setenv(degrain.STEPS_VAR, "many")
    with pytest.raises(SettingError, match=degrain.STEPS_VAR):
        degrain.build(members, tmp_path / "x.onnx", lambda _: None)


def test_tiled_run_matches_whole_frame_with_declared_overlap(built, members):
    from matchcut.runtime import DeviceOptions, create_session, run_tiled

    out, fields, _ = built
    session = create_session(out, DeviceOptions(provider="cpu", threads=1))
    run = lambda x: session.run({"image": x})["degrained"]  # noqa: E731
    image = degrain.load_image(members[degrain.HELD_OUT])[:300, :400].transpose(2, 0, 1)[None].copy()
    whole = run(image)
    tiled = run_tiled(run, image, tile=128, overlap=fields["runtime"]["receptive_field"],
                      multiple=fields["runtime"]["size_multiple"])
    assert np.abs(tiled - whole).max() < 1e-4
