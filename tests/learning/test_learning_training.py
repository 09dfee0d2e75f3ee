"""Training a learned fix on tiny pairs: it learns, it measures, it checkpoints, resumes, cancels and stops."""

from __future__ import annotations

import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from matchcut.errors import ProviderError, SettingError  # noqa: E402
from matchcut.learning import training  # noqa: E402
from matchcut.learning.pairs import Pair, split_pairs  # noqa: E402
from matchcut.learning.training import (  # noqa: E402
    TrainingError, TrainSettings, checkpoint_path, learning_rate, load_checkpoint, pick_device, predict, train)

FAST = dict(crop=16, batch=4, lr=3e-3, eval_every=5, threads=1, device="cpu")


def _pairs(count=3, size=(32, 48)):
    """Smooth random pictures (linear, 0..2) and their fix: warmer (R up, B down)."""
    import cv2

    out = []
    for f in range(count):
        rng = np.random.default_rng(f)
        x = cv2.resize(rng.random((8, 12, 3), dtype=np.float32) * 2.0, size[::-1], interpolation=cv2.INTER_CUBIC)
        y = x * np.array([1.3, 1.0, 0.75], np.float32)
        out.append(Pair(1001 + 2 * f, np.ascontiguousarray(x), np.ascontiguousarray(y)))
    return out


class Events:
    def __init__(self):
        self.events = []

    def __call__(self, event, **fields):
        self.events.append({"event": event, **fields})

    def of(self, kind):
        return [e for e in self.events if e["event"] == kind]


def _train(tmp_path, steps=30, **kw):
    train_pairs, held, how = split_pairs(_pairs())
    events = Events()
    settings = TrainSettings(steps=steps, **{**FAST, **kw.pop("settings", {})})
    result = train(train_pairs, held, settings, shaped=True, folder=tmp_path, key="k", held_out=how, emit=events, **kw)
    return result, events, held


def test_training_beats_doing_nothing_and_reports_every_step(tmp_path):
    result, events, held = _train(tmp_path, steps=40)
    steps = events.of("step")
    assert [e["step"] for e in steps] == list(range(1, 41)) and steps[-1]["fraction"] == 1.0
    measured = [e for e in steps if "psnr" in e]
    assert [e["step"] for e in measured] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert result.best_psnr > result.before_psnr + 3.0 and result.stopped == "steps" and result.steps_done == 40
    assert "CPU" in events.of("info")[0]["message"]
    net = training.make_network()
    net.load_state_dict(result.state)
    fixed = predict(net, held[0].input, shaped=True)
    assert fixed.shape == held[0].input.shape
    assert np.abs(fixed - held[0].goal).mean() < 0.5 * np.abs(held[0].input - held[0].goal).mean()
    saved = load_checkpoint(checkpoint_path(tmp_path))
    assert saved["step"] == 40 and saved["key"] == "k"


def test_resume_carries_on_from_the_checkpoint(tmp_path):
    _train(tmp_path, steps=10)
    result, events, _ = _train(tmp_path, steps=20, resume=True)
    assert [e["step"] for e in events.of("step")] == list(range(11, 21))
    assert any("resumed at step 10" in e["message"] for e in events.of("info"))
    assert result.steps_done == 20


def test_a_cancel_ends_the_step_and_keeps_the_checkpoint(tmp_path):
    stop = threading.Event()
    events = Events()

    def emit(event, **fields):
        events(event, **fields)
        if event == "step" and fields["step"] == 7:
            stop.set()

    train_pairs, held, how = split_pairs(_pairs())
    result = train(train_pairs, held, TrainSettings(steps=50, **FAST), shaped=True, folder=tmp_path, key="k",
                   held_out=how, emit=emit, stop=stop)
    assert result.stopped == "cancelled" and result.steps_done == 7
    assert load_checkpoint(checkpoint_path(tmp_path))["step"] == 7


def test_a_loss_that_is_not_finite_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    real = training.loss_of
    calls = {"n": 0}

    def loss(kind, out, goal):
        calls["n"] += 1
        value = real(kind, out, goal)
        return value * float("nan") if calls["n"] == 8 else value

    monkeypatch.setattr(training, "loss_of", loss)
    with pytest.raises(TrainingError, match=r"step 8: the training loss became nan; the last good checkpoint .*kept"):
        _train(tmp_path, steps=20)
    assert load_checkpoint(checkpoint_path(tmp_path))["step"] == 5


def test_it_stops_early_when_the_held_out_part_stops_improving(tmp_path, monkeypatch):
    scores = iter([30.0, 31.0] + [31.0] * 50)
    monkeypatch.setattr(training, "psnr_of", lambda out, goal: next(scores))
    result, events, _ = _train(tmp_path, steps=200)
    # the first call is the untouched measure; then 31 at step 5 is the best, and PATIENCE measures without gain
    assert result.stopped == "early" and result.best_step == 5
    assert result.steps_done == 5 * (1 + training.PATIENCE)
    assert any("stopped early" in e["message"] for e in events.of("info"))


def test_settings_are_checked_and_the_rate_warms_up_then_decays():
    with pytest.raises(SettingError, match="loss"):
        TrainSettings(loss="l2").check()
    with pytest.raises(SettingError, match="multiple of 8"):
        TrainSettings(crop=100).check()
    with pytest.raises(SettingError, match="device"):
        TrainSettings(device="tensorrt").check()
    s = TrainSettings(steps=100, lr=1e-3)
    rates = [learning_rate(s, i) for i in range(100)]
    assert rates[0] < rates[4] == pytest.approx(1e-3) and rates[-1] < 0.1e-3 and min(rates) > 0


def test_asking_for_cuda_without_one_says_so():
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here")
    with pytest.raises(ProviderError, match="no CUDA GPU"):
        pick_device("cuda")
    assert pick_device("auto")[0].type == "cpu"


def test_l1_ssim_loss_trains_too(tmp_path):
    result, _, _ = _train(tmp_path, steps=30, settings={"loss": "l1+ssim"})
    assert result.best_psnr > result.before_psnr + 2.0
