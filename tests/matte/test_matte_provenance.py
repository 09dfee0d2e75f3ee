"""The written headers say what ran: auto mode's pick, the keyer for screens, the models and their sha256 for people."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matchcut.frames import read_metadata, write_plate
from matchcut.jobs.events import ListSink
from matchcut.jobs.runner import run_job
from matchcut.jobs.spec import job_from_dict
from matchcut.testing.mattes import screen_shot, soft_alpha
from matchcut.testing.photos import photo
from matchcut.tools.matte import MatteTool

H, W = 96, 144


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch, request):
    if request.node.get_closest_marker("zoo") is None:  # zoo tests need the installed models' cache
        monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))


def _run(tmp_path, frames, **params):
    for f, image in enumerate(frames, start=1):
        write_plate(tmp_path / "plates" / f"sh.{f:04d}.exr", image, dtype="float")
    job = job_from_dict({"matchcut_job": 1, "tool": "matte", "inputs": {"plate": "plates/sh.####.exr"},
                         "outputs": {"matte": "out/m.####.exr", "foreground": "out/fg.####.exr"}, "params": params,
                         "device": {"provider": "cpu"}}, tmp_path, where="job.json")
    sink = ListSink()
    run_job(MatteTool(), job, sink)
    return sink


@pytest.mark.parametrize("mode", ["auto", "screen"])
def test_screen_key_records_the_keyer_and_no_model(tmp_path, mode):
    alpha, fg = soft_alpha(H, W), photo("coffee", colorspace="scene_linear", size=(H, W))
    _run(tmp_path, [screen_shot(fg, alpha, "green", noise=0.02, seed=f) for f in (1, 2)], mode=mode)
    for name in ("m.0001", "fg.0002"):
        meta = read_metadata(tmp_path / f"out/{name}.exr")
        assert meta["matchcut/model"] == "none"
        assert "matchcut/models" not in meta
        ran = json.loads(meta["matchcut/params"])["ran"]
        assert ran["mode"] == "screen" and ran["keyer"] == "screen-model" and ran["screen"] == "green"
        assert np.allclose(ran["screen_color"], [0.08, 0.42, 0.12], atol=0.01)
        assert ran["screen_model"] == "fitted on frame 1, shared while the camera holds"
        assert ("auto picked screen" in ran["chosen"]) == (mode == "auto")


@pytest.mark.zoo
def test_person_matte_records_every_model_with_its_sha256(tmp_path, zoo_model):
    models = [zoo_model(m) for m in ("selfie-segmentation", "face-detection", "face-landmarks")]
    from matchcut.runtime import DeviceOptions
    from matchcut.testing.mattes import astronaut_truth

    image, truth = astronaut_truth(160, DeviceOptions(provider="cpu"))
    back = photo("rocket", colorspace="scene_linear", size=(160, 160))
    shot = image * truth[..., None] + back * (1 - truth[..., None])
    sink = _run(tmp_path, [shot, shot], mode="auto")
    assert any("auto picked person" in e["message"] for e in sink.of("info"))
    meta = read_metadata(tmp_path / "out/m.0002.exr")
    assert meta["matchcut/model"] == f"selfie-segmentation@{models[0].sha256}"
    assert meta["matchcut/models"] == ",".join(f"{m.id}@{m.sha256}" for m in models)
    ran = json.loads(meta["matchcut/params"])["ran"]
    assert ran["mode"] == "person" and ran["refine"] == "guided" and "blue on 1 of 4 sides" in ran["chosen"]
