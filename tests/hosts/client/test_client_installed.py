"""The installed adapter's record and the one line each host shows when it was installed from another Matchcut
than the worker it talks to (client.tools.installed_record / version_mismatch, used by Nuke's descriptions,
Blender's catalog and Resolve's dialog and free run)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from matchcut import __version__
from matchcut.adapters import RECORD, RECORD_PATHS, assemble, make_record, with_record, write_tree


def _record(folder: Path, **fields) -> Path:
    path = folder / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(make_record("nuke", "/env/bin/matchcut"))
    data.update(fields)
    path.write_text(json.dumps(data))
    return path


def test_the_record_and_the_mismatch_line(client, tmp_path):
    tools = client["tools"]
    assert tools.RECORD == RECORD
    assert tools.installed_record(str(tmp_path)) is None  # run from a checkout: no record, no line
    _record(tmp_path, version="0.0.9")
    record = tools.installed_record(str(tmp_path))
    assert record["version"] == "0.0.9" and record["worker"] == "/env/bin/matchcut" and record["installed"]
    line = tools.version_mismatch(record, {"matchcut_tools": 2, "matchcut": "0.2.0", "tools": {}}, "nuke")
    assert line == ("the Nuke adapter was installed from Matchcut 0.0.9, the worker is 0.2.0: run `matchcut hosts "
                    "install nuke` from the worker environment")
    assert tools.version_mismatch(record, "0.0.9", "blender") == ""
    assert "Blender adapter" in tools.version_mismatch(record, "1.0", "blender")
    assert tools.version_mismatch(None, "1.0", "nuke") == "" and tools.version_mismatch(record, {}, "nuke") == ""
    (tmp_path / RECORD).write_text("{not json")
    assert tools.installed_record(str(tmp_path)) is None
    (tmp_path / RECORD).write_text(json.dumps({"version": "1"}))  # not a Matchcut record
    assert tools.installed_record(str(tmp_path)) is None


def test_load_answer_keeps_the_workers_version(client, tmp_path, real_worker):
    answer, note = client["tools"].load_answer(real_worker, str(tmp_path / "cache"))
    assert answer["matchcut"] == __version__ and "match" in answer["tools"] and note == ""
    cached, _ = client["tools"].load_answer(real_worker, str(tmp_path / "cache"))
    assert cached == answer


def _run(code: str, path: Path, env: dict) -> str:
    done = subprocess.run([sys.executable, "-I", "-c", code, str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, env={**os.environ, **env}, timeout=120)
    assert done.returncode == 0, done.stdout
    return done.stdout.strip().splitlines()[-1]


def _older(folder: Path, host: str) -> None:
    """Make the installed record say it came from Matchcut 0.0.9."""
    path = folder.joinpath(*RECORD_PATHS[host].split("/"))
    data = json.loads(path.read_text())
    path.write_text(json.dumps(dict(data, version="0.0.9")))


def test_nuke_says_which_to_update_in_one_line(tmp_path, real_worker):
    folder = tmp_path / "nuke"
    write_tree(with_record("nuke", assemble("nuke"), real_worker), folder)
    env = {"MATCHCUT_WORKER": real_worker, "MATCHCUT_CACHE_DIR": str(tmp_path / "cache")}
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from matchcut_nuke import descriptions\n"
            "entries, message = descriptions.menu_entries()\n"
            "print(len(entries), repr(message))\n")
    count, message = _run(code, folder, env).split(" ", 1)
    assert int(count) >= 7 and message == "''"  # the same version: nothing to say
    _older(folder, "nuke")
    count, message = _run(code, folder, env).split(" ", 1)
    assert int(count) >= 7  # the tools are still offered
    assert message == repr(f"the Nuke adapter was installed from Matchcut 0.0.9, the worker is {__version__}: run "
                           "`matchcut hosts install nuke` from the worker environment")


def test_blender_says_which_to_update_and_presets_the_worker(tmp_path, real_worker):
    addon = tmp_path / "addons" / "matchcut_blender"
    write_tree(with_record("blender", assemble("blender"), "/studio/env/bin/matchcut"), addon)
    _older(addon, "blender")
    code = ("import sys, os; sys.path.insert(0, os.path.dirname(sys.argv[1]))\n"
            "from matchcut_blender import tools\n"
            "catalog = tools.load_catalog(os.environ['MATCHCUT_WORKER'])\n"
            "print(repr((tools.preset_worker(), sorted(catalog.tools)[:2], catalog.note)))\n")
    preset, names, note = eval(_run(code, addon, {"MATCHCUT_WORKER": real_worker}))
    assert preset == "/studio/env/bin/matchcut" and names == ["apply", "continuity"]
    assert note.startswith("the Blender adapter was installed from Matchcut 0.0.9, the worker is ")
    assert note.endswith("run `matchcut hosts install blender` from the worker environment")


def test_resolve_free_run_warns_in_one_line(tmp_path, real_worker):
    from matchcut.installs import resolve as resolve_install
    from matchcut.installs.files import adapter_source

    dest = tmp_path / "Scripts"
    resolve_install.install(adapter_source("resolve"), dest, worker=real_worker)
    _older(dest / "Matchcut", "resolve")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"tool": "no-such-tool", "worker": real_worker}))
    done = subprocess.run([sys.executable, "-I", str(dest / "Matchcut" / "matchcut_resolve" / "freerun.py"),
                           str(facts)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=120, cwd=str(tmp_path))
    lines = done.stdout.splitlines()
    assert (f"warning: the Resolve adapter was installed from Matchcut 0.0.9, the worker is {__version__}: run "
            "`matchcut hosts install resolve` from the worker environment") in lines
    assert "matchcut-result-status: error" in lines
