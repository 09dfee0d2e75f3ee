"""Shared fixtures: the installed model zoo, and a clean per-test environment."""

from __future__ import annotations

import pytest


@pytest.fixture
def zoo_model():
    """Return the installed zoo model's manifest by id.

    Fails (does not skip) when the model is missing: `make test` installs the zoo first, so a missing model
    is a broken set-up, not a reason to pass. Run `matchcut models install` (or `make zoo`) to fix it.
    """
    from matchcut.errors import ModelNotFoundError
    from matchcut.models.registry import find_model

    def get(model_id: str):
        try:
            return find_model(model_id)
        except ModelNotFoundError as exc:
            pytest.fail(f"{exc}; install the model zoo with `matchcut models install` (make zoo)")

    return get
