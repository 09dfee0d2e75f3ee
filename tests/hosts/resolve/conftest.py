"""Shared set-up for the Resolve adapter's tests: the adapter on sys.path, the real worker, tiny EXR shots."""
from __future__ import annotations

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
ADAPTER = ROOT / "hosts" / "resolve"
sys.path.insert(0, str(ADAPTER))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
WORKER = pathlib.Path(sys.executable).with_name("matchcut")


@pytest.fixture
def worker_env(monkeypatch, tmp_path):
    """The real worker (this venv's matchcut) and a private cache/settings root."""
    assert WORKER.is_file(), "the project's matchcut executable is missing: {}".format(WORKER)
    monkeypatch.setenv("MATCHCUT_WORKER", str(WORKER))
    # A private cache (settings, default outputs); the installed zoo stays visible through the model path.
    from matchcut.settings import model_cache_dir

    models = os.pathsep.join(p for p in (os.environ.get("MATCHCUT_MODEL_PATH", ""), str(model_cache_dir())) if p)
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", models)
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MATCHCUT_RESOLVE_OUTPUT", raising=False)
    return str(WORKER)
