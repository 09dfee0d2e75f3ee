"""The per-user cache folder, by the same rule as the core's (matchcut.settings.cache_dir; a test checks that
they agree): host code cannot import the core, and an adapter's results and caches belong beside the worker's."""

import os
import sys


def cache_root(env=None, platform=None):
    """``$MATCHCUT_CACHE_DIR``, else Linux ``$XDG_CACHE_HOME/matchcut`` or ``~/.cache/matchcut``; macOS
    ``~/Library/Caches/Matchcut``; Windows ``%LOCALAPPDATA%\\Matchcut\\Cache``."""
    env = os.environ if env is None else env
    if env.get("MATCHCUT_CACHE_DIR"):
        return os.path.expanduser(env["MATCHCUT_CACHE_DIR"])
    platform = platform or sys.platform
    home = env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~")
    if platform == "darwin":
        return os.path.join(home, "Library", "Caches", "Matchcut")
    if platform.startswith(("win", "cygwin")):
        return os.path.join(env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "Matchcut", "Cache")
    return os.path.join(env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "matchcut")


def host_cache(host, env=None):
    """An adapter's own folder in the cache root (``nuke``, ``resolve``, ``blender``)."""
    return os.path.join(cache_root(env), host)
