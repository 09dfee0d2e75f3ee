"""`matchcut hosts install|uninstall resolve`: per-user folders, scripts generated per tool with their paths filled
in, the package with its client, never over an artist's files."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from matchcut.installs import resolve as resolve_install
from matchcut.cli.app import main

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "hosts" / "resolve"


@pytest.fixture(autouse=True)
def _config_in_tmp(tmp_path, monkeypatch):
    """`hosts install` notes each install in the per-user config folder: keep it out of the user's."""
    monkeypatch.setenv("MATCHCUT_CONFIG_DIR", str(tmp_path / "config"))


def _cli(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def test_per_user_scripts_folder_on_each_platform():
    assert resolve_install.resolve_scripts_folder("linux", {"HOME": "/home/ann"}) == \
        pathlib.Path("/home/ann/.local/share/DaVinciResolve/Fusion/Scripts")
    assert resolve_install.resolve_scripts_folder("darwin", {"HOME": "/Users/ann"}) == pathlib.Path(
        "/Users/ann/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts")
    assert resolve_install.resolve_scripts_folder("win32", {"APPDATA": "C:/Users/ann/AppData/Roaming"}) == pathlib.Path(
        "C:/Users/ann/AppData/Roaming/Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts")
    from matchcut.errors import SettingError

    with pytest.raises(SettingError, match="APPDATA"):
        resolve_install.resolve_scripts_folder("win32", {})


def test_install_writes_scripts_with_paths_filled_in(tmp_path, capsys):
    dest = tmp_path / "Scripts"
    code, out, err = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--worker", "/env/bin/matchcut",
                           "--python", "/env/bin/python"], capsys)
    assert code == 0, err
    assert "installed in" in out
    py = (dest / "Color" / "Matchcut" / "Shot Match.py").read_text()
    assert "MATCHCUT_RESOLVE_LIB = {!r}".format(str(dest / "Matchcut")) in py
    assert "MATCHCUT_WORKER = '/env/bin/matchcut'" in py and "TOOL = 'match'" in py
    lua = (dest / "Utility" / "Matchcut (free)" / "Relight.lua").read_text()
    assert "local MATCHCUT_PYTHON = [==[/env/bin/python]==]" in lua and "[==[{}]==]".format(dest / "Matchcut") in lua
    lib = sorted(p.name for p in (dest / "Matchcut" / "matchcut_resolve").iterdir())
    assert "host.py" in lib and "free.lua" in lib and "freerun.py" in lib and "__pycache__" not in lib
    assert "worker.py" not in lib and (dest / "Matchcut" / "matchcut_resolve" / "client" / "worker.py").is_file()
    # one script per tool and page, named by the tool's label, as before the scripts were generated
    assert sorted(p.name for p in (dest / "Utility" / "Matchcut").iterdir()) == [
        "Apply Model.py", "Continuity.py", "Coverage.py", "Frame Fill.py", "Learn Fix.py", "Matchcut Tools.py",
        "Matte.py", "Relight.py", "Retime.py", "Shot Match.py"]
    assert sorted(p.name for p in (dest / "Color" / "Matchcut").iterdir()) == [
        "Learn Fix.py", "Matte.py", "Relight.py", "Shot Match.py"]
    assert sorted(p.name for p in (dest / "Edit" / "Matchcut").iterdir()) == ["Continuity.py", "Coverage.py",
                                                                            "Frame Fill.py", "Retime.py"]
    assert len(list((dest / "Utility" / "Matchcut (free)").glob("*.lua"))) == 9
    assert "TOOL = None" in (dest / "Utility" / "Matchcut" / "Matchcut Tools.py").read_text()
    assert "local TOOL = [==[fill]==]" in (dest / "Utility" / "Matchcut (free)" / "Frame Fill.lua").read_text()
    for page in ("Utility", "Color", "Edit"):
        assert list((dest / page / "Matchcut").glob("*.py"))
    manifest = json.loads((dest / "Matchcut" / "installed.json").read_text())
    assert manifest["files"]["Edit/Matchcut/Retime.py"] and not list(dest.rglob(".*.tmp-*"))
    code, out, _ = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--worker", "/env/bin/matchcut",
                         "--python", "/env/bin/python"], capsys)
    assert code == 0 and "wrote:" not in out and out.count("unchanged:") == len(manifest["files"])


def test_editions_and_dry_run(tmp_path, capsys):
    studio = tmp_path / "studio"
    assert _cli(["hosts", "install", "resolve", "--dest", str(studio), "--edition", "studio"], capsys)[0] == 0
    assert list(studio.rglob("*.py")) and not list((studio / "Utility").rglob("*.lua"))
    free = tmp_path / "free"
    assert _cli(["hosts", "install", "resolve", "--dest", str(free), "--edition", "free"], capsys)[0] == 0
    assert not list((free / "Utility").rglob("*.py")) and (free / "Matchcut" / "matchcut_resolve" / "freerun.py").is_file()
    code, out, _ = _cli(["hosts", "install", "resolve", "--dest", str(tmp_path / "dry"), "--dry-run"], capsys)
    assert code == 0 and "would write:" in out and not (tmp_path / "dry").exists()
    code, _, err = _cli(["hosts", "install", "resolve", "--dest", str(tmp_path / "x"), "--edition", "lite"], capsys)
    assert code == 3 and "edition" in err
    code, _, err = _cli(["hosts", "install", "maya", "--dest", str(tmp_path / "x")], capsys)
    assert code == 3 and "unknown host 'maya'" in err and "(valid: blender, nuke, resolve)" in err
    code, _, err = _cli(["hosts", "install", "nuke", "--dest", str(tmp_path / "x"), "--edition", "free"], capsys)
    assert code == 3 and "--edition" in err and "resolve` only" in err and not (tmp_path / "x").exists()


def test_an_artists_file_is_never_replaced_without_force(tmp_path, capsys):
    dest = tmp_path / "Scripts"
    mine = dest / "Color" / "Matchcut" / "Relight.py"
    mine.parent.mkdir(parents=True)
    mine.write_text("# the colorist's own relight script\n")
    code, _, err = _cli(["hosts", "install", "resolve", "--dest", str(dest)], capsys)
    assert code == 4 and "Relight.py: cannot write: exists and is not a file Matchcut installed" in err
    assert mine.read_text() == "# the colorist's own relight script\n"
    assert not (dest / "Matchcut").exists()  # nothing half-installed
    code, out, _ = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--force"], capsys)
    assert code == 0 and "replaced: {}".format(mine) in out and "TOOL = 'relight'" in mine.read_text()


def _copy_adapter(tmp_path):
    """hosts/resolve and the client beside it (hosts/common), copied: an adapter source to edit."""
    for part in ("resolve", "common"):
        shutil.copytree(ROOT / "hosts" / part, tmp_path / "src" / "hosts" / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "src" / "hosts" / "resolve"


def test_upgrade_replaces_our_files_but_not_edited_ones(tmp_path, capsys):
    source = _copy_adapter(tmp_path)
    dest = tmp_path / "Scripts"
    assert _cli(["hosts", "install", "resolve", "--dest", str(dest), "--source", str(source)], capsys)[0] == 0
    (source / "matchcut_resolve" / "timing.py").write_text((source / "matchcut_resolve" / "timing.py").read_text() + "\n")
    code, out, _ = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--source", str(source)], capsys)
    assert code == 0 and "replaced: {}".format(dest / "Matchcut" / "matchcut_resolve" / "timing.py") in out
    edited = dest / "Edit" / "Matchcut" / "Retime.py"
    edited.write_text(edited.read_text() + "# tweaked by the artist\n")
    (source / "templates" / "tool.py").write_text((source / "templates" / "tool.py").read_text() + "# new release\n")
    code, _, err = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--source", str(source)], capsys)
    assert code == 4 and "Retime.py" in err and "tweaked by the artist" in edited.read_text()
    assert "new release" not in (dest / "Edit" / "Matchcut" / "Frame Fill.py").read_text()  # nothing half-installed
    # the client is part of the package: a change to it is an upgrade too
    client = source.parent / "common" / "client" / "events.py"
    client.write_text(client.read_text() + "\n")
    code, out, _ = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--source", str(source), "--force"],
                        capsys)
    assert code == 0 and "replaced: {}".format(dest / "Matchcut" / "matchcut_resolve" / "client" / "events.py") in out
    assert "new release" in edited.read_text()
    edited.write_text(edited.read_text() + "# tweaked again\n")
    code, out, _ = _cli(["hosts", "uninstall", "resolve", "--dest", str(dest)], capsys)
    assert code == 0 and "kept (edited since it was installed): {}".format(edited) in out
    assert edited.is_file() and not (dest / "Color").exists() and not (dest / "Matchcut" / "matchcut_resolve").exists()


def test_the_installed_studio_script_opens_its_dialog(tmp_path):
    dest = tmp_path / "Scripts"
    resolve_install.install(SOURCE, dest, worker=str(pathlib.Path(sys.executable).with_name("matchcut")))
    driver = tmp_path / "driver.py"
    driver.write_text(
        "import sys\n"
        "import fake_resolve as fr\n"
        "timeline = fr.Timeline('Edit 1')\n"
        "item = fr.TimelineItem('sh010', fr.media_item('/s/sh010.[1001-1010].exr'), 86400, 5, 0, '24')\n"
        "timeline.add_item(1, item)\n"
        "timeline.playhead_item = item\n"
        "resolve = fr.Resolve(fr.Project('Show', timeline), fr.Fusion())\n"
        "made = []\n"
        "class Closing(fr.UIDispatcher):\n"
        "    def __init__(self, ui):\n"
        "        super().__init__(ui)\n"
        "        self.script = [fr.click('mc_close')]\n"
        "        made.append(self)\n"
        "bmd = fr.Bmd()\n"
        "bmd.UIDispatcher = Closing\n"
        "path = sys.argv[1]\n"
        "exec(compile(open(path).read(), path, 'exec'), {'resolve': resolve, 'fusion': resolve.Fusion(), 'bmd': bmd})\n"
        "import matchcut_resolve\n"
        "print(matchcut_resolve.__file__)\n"
        "print(made[0].windows[0].props['WindowTitle'])\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests" / "hosts" / "resolve"), MATCHCUT_WORKER="")
    done = subprocess.run([sys.executable, str(driver), str(dest / "Color" / "Matchcut" / "Relight.py")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          cwd=str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stdout
    lib_file, title = done.stdout.strip().splitlines()[-2:]
    assert lib_file.startswith(str(dest / "Matchcut")) and title == "Matchcut: Relight"


def test_the_installed_package_carries_its_client(tmp_path):
    """The installed lib works without the checkout: only it (and the standard library) on sys.path."""
    dest = tmp_path / "Scripts"
    resolve_install.install(SOURCE, dest, worker="/env/bin/matchcut", python="/env/bin/python")
    lib = dest / "Matchcut"
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "import matchcut_resolve, matchcut_resolve.client as client\n"
            "from matchcut_resolve.client import events, jobs, tools, worker\n"
            "from matchcut_resolve import batch, dialog, freerun, host, results, widgets\n"
            "print(client.__file__); print(worker.CANCEL_GRACE, client.DESCRIPTION_VERSION)\n"
            "print(len(matchcut_resolve.__path__), any('matchcut' in p and 'site-packages' in p for p in sys.path))\n")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(lib)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, cwd=str(tmp_path), timeout=60)
    assert done.returncode == 0, done.stdout
    client_file, numbers, path = done.stdout.strip().splitlines()
    assert client_file == str(lib / "matchcut_resolve" / "client" / "__init__.py")
    assert numbers.split()[1] == "2" and path == "1 False"  # no path into the checkout's hosts/common


def test_scripts_follow_the_tools_the_worker_describes(tmp_path, capsys, monkeypatch):
    """A tool the core gains gets its scripts at the next install, one the worker loses has its removed; an
    edited one stays."""
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "hosts"))
    import fake_tool

    dest = tmp_path / "Scripts"
    with_grain = fake_tool.described()
    actions = dict((p, a) for a, p in resolve_install.install(SOURCE, dest, description=with_grain))
    grain = [dest / "Utility" / "Matchcut" / "Match Grain.py", dest / "Color" / "Matchcut" / "Match Grain.py",
             dest / "Utility" / "Matchcut (free)" / "Match Grain.lua"]
    assert all(actions[p] == "write" for p in grain) and not (dest / "Edit" / "Matchcut" / "Match Grain.py").exists()
    assert "TOOL = 'grain'" in grain[1].read_text() and "local TOOL = [==[grain]==]" in grain[2].read_text()
    grain[2].write_text(grain[2].read_text() + "-- the artist's\n")
    code, out, _ = _cli(["hosts", "install", "resolve", "--dest", str(dest)], capsys)  # the real worker: no grain
    assert code == 0 and "removed: {}".format(grain[0]) in out and "removed: {}".format(grain[1]) in out
    assert not grain[0].exists() and not grain[1].exists() and grain[2].is_file()
    code, out, _ = _cli(["hosts", "uninstall", "resolve", "--dest", str(dest)], capsys)
    assert "kept (edited since it was installed): {}".format(grain[2]) in out


def test_tools_that_cannot_name_a_script_and_sources_that_are_not_the_adapter(tmp_path):
    from matchcut.errors import SettingError

    described = {"matchcut_tools": 2, "tools": {"x": {"name": "x", "label": "a/b", "category": "color"}}}
    with pytest.raises(SettingError, match="cannot name a script file"):
        resolve_install.plan_install(SOURCE, tmp_path, description=described)
    twice = {"matchcut_tools": 2, "tools": {"x": {"label": "Same"}, "y": {"label": "Same"}}}
    with pytest.raises(SettingError, match="same label 'Same'"):
        resolve_install.plan_install(SOURCE, tmp_path, description=twice)
    alone = tmp_path / "resolve"
    shutil.copytree(SOURCE, alone, ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.raises(SettingError, match="no worker client beside it"):
        resolve_install.plan_install(alone, tmp_path / "d")
    with pytest.raises(SettingError, match="named resolve"):
        resolve_install.plan_install(ROOT / "hosts" / "nuke", tmp_path / "d")
    (alone / "templates" / "tool.py").unlink()
    with pytest.raises(SettingError, match="not the Resolve adapter"):
        resolve_install.plan_install(alone, tmp_path / "d")


def test_the_install_records_its_version_and_another_version_needs_force(tmp_path, capsys):
    """The package carries the record the dialog compares with its worker; a Scripts folder of another Matchcut
    version is named, and replaced only with --force."""
    from matchcut import __version__

    dest = tmp_path / "Scripts"
    assert _cli(["hosts", "install", "resolve", "--dest", str(dest), "--worker", "/env/bin/matchcut"], capsys)[0] == 0
    record = dest / "Matchcut" / "matchcut_resolve" / "matchcut_installed.json"
    data = json.loads(record.read_text())
    assert data["version"] == __version__ and data["worker"] == "/env/bin/matchcut" and data["host"] == "resolve"
    assert "Matchcut/matchcut_resolve/matchcut_installed.json" in json.loads(
        (dest / "Matchcut" / "installed.json").read_text())["files"]  # ours: replaced and removed like the rest
    code, out, _ = _cli(["hosts", "status"], capsys)
    assert f"resolve  {__version__:<8} {dest}: runs another worker: /env/bin/matchcut" in out
    record.write_text(json.dumps(dict(data, version="0.0.9")))
    code, _, err = _cli(["hosts", "install", "resolve", "--dest", str(dest)], capsys)
    assert code == 4 and "it holds the Resolve adapter of Matchcut 0.0.9" in err and "--force" in err
    code, out, _ = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--force"], capsys)
    assert code == 0 and f"replaced: {record}" in out and json.loads(record.read_text())["version"] == __version__
    code, out, _ = _cli(["hosts", "uninstall", "resolve", "--dest", str(dest)], capsys)
    assert code == 0 and f"removed: {record}" in out and not (dest / "Matchcut").exists()
    code, out, _ = _cli(["hosts", "status", "--json"], capsys)
    assert [e for e in json.loads(out)["installs"] if e["where"] == str(dest)] == []
