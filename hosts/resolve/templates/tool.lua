-- Matchcut: a tool, for the free DaVinci Resolve (21.1 and later run Python scripts in Studio only; Lua still
-- runs). The template of every free-version stub: `matchcut hosts install resolve` writes one per tool the
-- worker describes, named by its label, with the tool and the three paths below filled in. A stub runs the
-- worker on the item under the playhead with the tool's saved (or default) settings and shows the result.
local TOOL = [==[]==]  -- a tool of `matchcut tools --json`
local MATCHCUT_PYTHON = [==[]==]  -- the worker environment's python
local MATCHCUT_RESOLVE_LIB = [==[]==]  -- the folder that holds matchcut_resolve
local MATCHCUT_WORKER = [==[]==]  -- the worker's matchcut executable

local lib = os.getenv("MATCHCUT_RESOLVE_LIB") or MATCHCUT_RESOLVE_LIB
if lib == "" or TOOL == "" then
  print("Matchcut: run `matchcut hosts install resolve` (or set MATCHCUT_RESOLVE_LIB) first")
  return
end
local runner = dofile(lib .. "/matchcut_resolve/free.lua")
runner.run(TOOL, os.getenv("MATCHCUT_PYTHON") or MATCHCUT_PYTHON, os.getenv("MATCHCUT_WORKER") or MATCHCUT_WORKER, lib)
