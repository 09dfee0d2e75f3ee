"""Training a learned fix on a CUDA GPU, where PyTorch finds one (`pytest -m gpu`, .ci/bench-gpu); skipped here."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="PyTorch finds no CUDA GPU here")]


def test_training_runs_on_the_gpu_says_so_and_learns(tmp_path):
    from matchcut.learning.pairs import Pair, split_pairs
    from matchcut.learning.training import TrainSettings, train

    rng = np.random.default_rng(0)
    pairs = []
    for f in range(3):
        x = np.ascontiguousarray(rng.random((64, 96, 3), dtype=np.float32))
        pairs.append(Pair(1001 + f, x, x * np.array([1.3, 1.0, 0.75], np.float32)))
    said = []
    training, held, how = split_pairs(pairs)
    result = train(training, held, TrainSettings(steps=60, crop=32, batch=8, lr=3e-3, eval_every=20, device="cuda"),
                   shaped=True, folder=tmp_path, key="gpu", held_out=how,
                   emit=lambda event, **fields: said.append(fields.get("message", "")))
    assert result.device.startswith("cuda") and "training on the GPU" in said[0]
    assert result.best_psnr > result.before_psnr + 3.0
