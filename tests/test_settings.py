"""matchcut.settings: the cache and config folders follow each platform's convention; the variables override."""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

from matchcut import settings


def _win(path: Path) -> PureWindowsPath:
    return PureWindowsPath(str(path))


def test_cache_folder_per_platform():
    assert settings.cache_dir("linux", {"HOME": "/home/ann"}) == Path("/home/ann/.cache/matchcut")
    assert settings.cache_dir("linux", {"HOME": "/home/ann", "XDG_CACHE_HOME": "/scratch/ann"}) == \
        Path("/scratch/ann/matchcut")
    assert settings.cache_dir("freebsd14", {"HOME": "/home/ann"}) == Path("/home/ann/.cache/matchcut")
    assert settings.cache_dir("darwin", {"HOME": "/Users/ann"}) == Path("/Users/ann/Library/Caches/Matchcut")
    local = r"C:\Users\ann\AppData\Local"
    assert _win(settings.cache_dir("win32", {"LOCALAPPDATA": local})) == PureWindowsPath(local, "Matchcut", "Cache")
    assert _win(settings.cache_dir("win32", {"USERPROFILE": r"C:\Users\ann"})) == \
        PureWindowsPath(r"C:\Users\ann\AppData\Local\Matchcut\Cache")


def test_config_folder_per_platform():
    assert settings.config_dir("linux", {"HOME": "/home/ann"}) == Path("/home/ann/.config/matchcut")
    assert settings.config_dir("linux", {"HOME": "/home/ann", "XDG_CONFIG_HOME": "/etc/xdg-ann"}) == \
        Path("/etc/xdg-ann/matchcut")
    assert settings.config_dir("darwin", {"HOME": "/Users/ann"}) == \
        Path("/Users/ann/Library/Application Support/Matchcut")
    roaming = r"C:\Users\ann\AppData\Roaming"
    assert _win(settings.config_dir("win32", {"APPDATA": roaming})) == PureWindowsPath(roaming, "Matchcut")


def test_the_variables_override_on_every_platform(tmp_path):
    for platform in ("linux", "darwin", "win32"):
        env = {"HOME": "/home/ann", "LOCALAPPDATA": "L", "APPDATA": "A", "MATCHCUT_CACHE_DIR": str(tmp_path / "c"),
               "MATCHCUT_CONFIG_DIR": str(tmp_path / "k")}
        assert settings.cache_dir(platform, env) == tmp_path / "c"
        assert settings.config_dir(platform, env) == tmp_path / "k"


def test_the_process_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MATCHCUT_CONFIG_DIR", str(tmp_path / "config"))
    assert settings.model_cache_dir() == tmp_path / "cache" / "models"
    assert settings.provider_probe_file() == tmp_path / "cache" / "providers.json"
    assert settings.installs_file() == tmp_path / "config" / "installs.json"
    monkeypatch.delenv("MATCHCUT_CACHE_DIR")
    monkeypatch.setattr(settings.sys, "platform", "darwin")
    monkeypatch.setenv("HOME", str(tmp_path / "ann"))
    assert settings.cache_dir() == tmp_path / "ann" / "Library" / "Caches" / "Matchcut"
