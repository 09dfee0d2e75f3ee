"""The free version's Lua stub, installed and run by a real Lua 5.1 against a strict Lua fake of Resolve's API,
with the real worker: facts out of Lua, the job through freerun.py, the result path back."""
from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from resolve_world import write_shot

LUA = shutil.which("luajit") or shutil.which("lua5.1") or shutil.which("lua")
ROOT = pathlib.Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(LUA is None, reason="no Lua interpreter (apt install lua5.1) to run the stubs")

# A strict fake: every object errors on a method the README does not list (Resolve's Lua API, same names as
# Python's). Frames as in the Python fake: GetSourceStartFrame 0-based, GetSourceEndFrame exclusive.
PRELUDE = r'''
local function strict(name, methods)
  return setmetatable(methods, {__index = function(_, key) error(name .. " has no method " .. tostring(key), 2) end})
end
local function clip(path)
  local props = {["File Path"] = path, FPS = "24", Frames = "6", Start = "1001", End = "1006"}
  return strict("MediaPoolItem", {GetClipProperty = function(self, key) if key then return props[key] end return props end,
                                  GetName = function() return path end})
end
local function item(name, path, start, source_start)
  return strict("TimelineItem", {
    GetName = function() return name end, GetMediaPoolItem = function() return clip(path) end,
    GetStart = function() return start end, GetDuration = function() return 3 end,
    GetSourceStartFrame = function() return source_start end, GetSourceEndFrame = function() return source_start + 3 end,
    GetLeftOffset = function() return source_start end, GetRightOffset = function() return 3 - source_start end,
    GetTrackTypeAndIndex = function() return {"video", 1} end, GetUniqueId = function() return name end})
end
local a = item("sh010", A_PATH, 86400, 2)
local b = item("sh020", B_PATH, 86403, 1)
local timeline = strict("Timeline", {
  GetName = function() return "Edit 1" end, GetStartFrame = function() return 86400 end,
  GetSetting = function(self, key) return ({timelineFrameRate = "24"})[key] end,
  GetCurrentVideoItem = function() return b end,
  GetItemListInTrack = function(self, kind, index) assert(kind == "video" and index == 1) return {a, b} end})
local project = strict("Project", {GetName = function() return "Show" end, GetCurrentTimeline = function() return timeline end,
                                   GetSetting = function(self, key) return "24" end})
resolve = strict("Resolve", {GetProjectManager = function()
  return strict("ProjectManager", {GetCurrentProject = function() return project end}) end})
'''


def _run_stub(tmp_path, stub_name, env_extra=None):
    scripts = tmp_path / "Scripts"
    subprocess.run([str(pathlib.Path(sys.executable).with_name("matchcut")), "hosts", "install", "resolve", "--dest",
                    str(scripts), "--edition", "free"], check=True, stdout=subprocess.PIPE)
    a = write_shot(tmp_path / "plates", "sh010", 1001, 1006)
    b = write_shot(tmp_path / "plates", "sh020", 1001, 1006)
    stub = scripts / "Utility" / "Matchcut (free)" / stub_name
    main = tmp_path / "main.lua"
    main.write_text(PRELUDE.replace("A_PATH", json.dumps(a)).replace("B_PATH", json.dumps(b)) +
                    "\nlocal runner = dofile({})\n".format(json.dumps(str(stub))))
    env = dict(__import__("os").environ, TMPDIR=str(tmp_path), **(env_extra or {}))
    return subprocess.run([LUA, str(main)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=env, timeout=300)


def test_free_stub_runs_continuity_and_shows_the_report(tmp_path, worker_env):
    done = _run_stub(tmp_path, "Continuity.lua", {"MATCHCUT_RESOLVE_OUTPUT": str(tmp_path / "out")})
    assert done.returncode == 0, done.stdout
    assert "Result: " in done.stdout and "index.html" in done.stdout, done.stdout
    report = done.stdout.split("Result: ")[1].split("\n")[0]
    assert pathlib.Path(report).is_file() and str(tmp_path / "out") in report
    data = json.loads(next(pathlib.Path(report).parents[1].glob("*_continuity.json")).read_text())
    # A (sh010) uses source 2..4 = files 1003-1005, B (sh020) 1..3 = 1002-1004: the last of A, the first of B.
    assert data["comparisons"][0]["a"]["frame"] == 1005 and data["comparisons"][0]["b"]["frame"] == 1002
    assert not list(tmp_path.glob("matchcut_continuity_*.json"))  # the facts file is cleaned up


def test_free_stub_reports_the_workers_error_line(tmp_path, worker_env):
    done = _run_stub(tmp_path, "Retime.lua", {"MATCHCUT_RESOLVE_OUTPUT": str(tmp_path / "out")})
    assert done.returncode == 0, done.stdout
    assert "Matchcut retime: error: retime: set a speed" in done.stdout, done.stdout


def test_lua_files_compile(tmp_path):
    luac = shutil.which("luac5.1") or shutil.which("luac")
    if luac is None:
        pytest.skip("no luac")
    # the runner and the template in the adapter, and the stubs the installer generates from the template
    files = sorted(str(p) for p in (ROOT / "hosts" / "resolve").rglob("*.lua"))
    assert [pathlib.Path(f).name for f in files] == ["free.lua", "tool.lua"]
    from matchcut.installs import resolve as resolve_install

    resolve_install.install(ROOT / "hosts" / "resolve", tmp_path / "Scripts", edition="free")
    stubs = sorted(str(p) for p in (tmp_path / "Scripts" / "Utility" / "Matchcut (free)").glob("*.lua"))
    from matchcut.tools.description import describe_all

    assert len(stubs) == len(describe_all()["tools"])  # one stub per tool the worker has
    subprocess.run([luac, "-p"] + files + stubs, check=True)
