"""The client's cache folder follows the core's rule on every platform (host code cannot import the core)."""
from __future__ import annotations

import importlib

import pytest

from matchcut import settings


@pytest.mark.parametrize("platform, env", [
    ("linux", {"HOME": "/home/ana"}),
    ("linux", {"HOME": "/home/ana", "XDG_CACHE_HOME": "/scratch/cache"}),
    ("darwin", {"HOME": "/Users/ana"}),
    ("win32", {"USERPROFILE": "C:\\Users\\ana", "LOCALAPPDATA": "C:\\Users\\ana\\AppData\\Local"}),
    ("linux", {"HOME": "/home/ana", "MATCHCUT_CACHE_DIR": "/show/cache"}),
])
def test_cache_root_agrees_with_the_core(client, platform, env):
    folders = importlib.import_module("mc_client.folders")
    assert folders.cache_root(env, platform) == str(settings.cache_dir(platform, env))
    assert folders.host_cache("nuke", env).endswith("nuke")
