"""The farm tests' shot: tiny EXR sequences written once per session (farm_shots.write_shot)."""

import pytest

from farm_shots import write_shot


@pytest.fixture(scope="session")
def shot(tmp_path_factory):
    return write_shot(tmp_path_factory.mktemp("shot"))
