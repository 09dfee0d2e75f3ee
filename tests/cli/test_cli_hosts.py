"""`matchcut hosts install|uninstall resolve`: per-user folders, filled-in scripts, never over an artist's files."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from matchcut.cli import hosts as hosts_cli
from matchcut.cli.app import main

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "hosts" / "resolve"


def _cli(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def test_per_user_scripts_folder_on_each_platform():
    assert hosts_cli.resolve_scripts_folder("linux", {"HOME": "/home/ann"}) == \
        pathlib.Path("/home/ann/.local/share/DaVinciResolve/Fusion/Scripts")
    assert hosts_cli.resolve_scripts_folder("darwin", {"HOME": "/Users/ann"}) == pathlib.Path(
        "/Users/ann/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts")
    assert hosts_cli.resolve_scripts_folder("win32", {"APPDATA": "C:/Users/ann/AppData/Roaming"}) == pathlib.Path(
        "C:/Users/ann/AppData/Roaming/Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts")
    from matchcut.errors import SettingError

    with pytest.raises(SettingError, match="APPDATA"):
        hosts_cli.resolve_scripts_folder("win32", {})


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
    code, _, err = _cli(["hosts", "install", "nuke", "--dest", str(tmp_path / "x")], capsys)
    assert code == 3 and "unknown host 'nuke'" in err and "(valid: resolve)" in err


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


def test_upgrade_replaces_our_files_but_not_edited_ones(tmp_path, capsys):
    source = tmp_path / "src"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
    dest = tmp_path / "Scripts"
    assert _cli(["hosts", "install", "resolve", "--dest", str(dest), "--source", str(source)], capsys)[0] == 0
    (source / "matchcut_resolve" / "timing.py").write_text((source / "matchcut_resolve" / "timing.py").read_text() + "\n")
    code, out, _ = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--source", str(source)], capsys)
    assert code == 0 and "replaced: {}".format(dest / "Matchcut" / "matchcut_resolve" / "timing.py") in out
    edited = dest / "Edit" / "Matchcut" / "Retime.py"
    edited.write_text(edited.read_text() + "# tweaked by the artist\n")
    (source / "Scripts" / "Edit" / "Matchcut" / "Retime.py").write_text(
        (source / "Scripts" / "Edit" / "Matchcut" / "Retime.py").read_text() + "# new release\n")
    code, _, err = _cli(["hosts", "install", "resolve", "--dest", str(dest), "--source", str(source)], capsys)
    assert code == 4 and "Retime.py" in err and "tweaked by the artist" in edited.read_text()
    code, out, _ = _cli(["hosts", "uninstall", "resolve", "--dest", str(dest)], capsys)
    assert code == 0 and "kept (edited since it was installed): {}".format(edited) in out
    assert edited.is_file() and not (dest / "Color").exists() and not (dest / "Matchcut" / "matchcut_resolve").exists()


def test_the_installed_studio_script_opens_its_dialog(tmp_path):
    dest = tmp_path / "Scripts"
    hosts_cli.install(SOURCE, dest, worker=str(pathlib.Path(sys.executable).with_name("matchcut")))
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
    assert lib_file.startswith(str(dest / "Matchcut")) and title == "Matchcut: relight"
