-- Matchcut's runner for the free version's Lua stubs (Lua 5.1 / LuaJIT, as Resolve's Fusion runs Lua).
-- It reads the item under the playhead (and the one before it on its track) through Resolve's scripting API,
-- writes those facts as JSON, runs `python freerun.py FACTS` of the worker environment (which builds the same
-- job as the Studio scripts and runs `matchcut run`), and shows the result path. No pixels pass through Lua.
local M = {}

local function escape(s)
  s = tostring(s)
  s = s:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return named[c] or string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

-- JSON for the facts: tables with [1] are arrays, other tables objects; nil values are left out.
local function encode(value)
  local kind = type(value)
  if kind == "nil" then return "null" end
  if kind == "boolean" then return value and "true" or "false" end
  if kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then return "null" end
    return string.format("%.10g", value)
  end
  if kind == "string" then return escape(value) end
  if kind == "table" then
    local parts = {}
    if value[1] ~= nil then
      for _, v in ipairs(value) do parts[#parts + 1] = encode(v) end
      return "[" .. table.concat(parts, ", ") .. "]"
    end
    local keys = {}
    for k in pairs(value) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = escape(k) .. ": " .. encode(value[k]) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return escape(tostring(value))
end
M.encode = encode

-- obj:method(...), or nil where this Resolve lacks the method.
local function call(obj, method, ...)
  if obj == nil then return nil end
  local found, fn = pcall(function() return obj[method] end)
  if not found or fn == nil then return nil end
  local ok, result = pcall(fn, obj, ...)
  if ok then return result end
  return nil
end

local function item_facts(item)
  if item == nil then return nil end
  local mpi = call(item, "GetMediaPoolItem")
  if mpi == nil then return nil end
  local props = call(mpi, "GetClipProperty") or {}
  local track = call(item, "GetTrackTypeAndIndex")
  return {
    name = call(item, "GetName"), file_path = props["File Path"], clip_start = props["Start"],
    clip_end = props["End"], clip_fps = props["FPS"], clip_frames = props["Frames"],
    record_start = call(item, "GetStart"), duration = call(item, "GetDuration"),
    source_start = call(item, "GetSourceStartFrame"), source_end = call(item, "GetSourceEndFrame"),
    source_start_time = call(item, "GetSourceStartTime"), source_end_time = call(item, "GetSourceEndTime"),
    left_offset = call(item, "GetLeftOffset"), right_offset = call(item, "GetRightOffset"),
    track = track and track[2] or nil, unique_id = call(item, "GetUniqueId"),
  }
end
M.item_facts = item_facts

-- The item before `item` on its track (the shot before the cut), or nil.
local function previous_item(timeline, item)
  local track = call(item, "GetTrackTypeAndIndex")
  local index = (track and track[2]) or 1
  local best = nil
  for _, other in pairs(call(timeline, "GetItemListInTrack", "video", index) or {}) do
    if other:GetStart() < item:GetStart() and (best == nil or other:GetStart() > best:GetStart()) then
      best = other
    end
  end
  return best
end

local windows = package.config:sub(1, 1) == "\\"

local function quote(text)
  if windows then return '"' .. text .. '"' end
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

local function show(title, text)
  print(title .. "\n" .. text)
  local fusion = fu or call(resolve, "Fusion")
  if fusion == nil or bmd == nil then return end
  local ok = pcall(function()
    local ui = fusion.UIManager
    local disp = bmd.UIDispatcher(ui)
    local win = disp:AddWindow({ ID = "MatchcutResult", WindowTitle = title, Geometry = { 200, 200, 560, 180 } },
      ui:VGroup({ ui:Label({ ID = "text", Text = text, WordWrap = true }), ui:Button({ ID = "ok", Text = "OK" }) }))
    function win.On.ok.Clicked(ev) disp:ExitLoop() end
    function win.On.MatchcutResult.Close(ev) disp:ExitLoop() end
    win:Show()
    disp:RunLoop()
    win:Hide()
  end)
  return ok
end

-- Run `tool` on the current item; returns status, message, path (also shown to the artist).
function M.run(tool, python, worker, lib)
  local app = resolve or (Resolve and Resolve())
  local project = app and app:GetProjectManager():GetCurrentProject()
  local timeline = project and project:GetCurrentTimeline()
  if timeline == nil then
    show("Matchcut " .. tool, "Open a timeline first.")
    return "error", "no timeline", ""
  end
  local item = timeline:GetCurrentVideoItem()
  local facts = {
    tool = tool, worker = worker,
    timeline = { name = timeline:GetName(), start_frame = timeline:GetStartFrame(), project = project:GetName(),
                 fps = call(timeline, "GetSetting", "timelineFrameRate") or project:GetSetting("timelineFrameRate") },
    item = item_facts(item),
    previous = item and item_facts(previous_item(timeline, item)) or nil,
  }
  local folder = os.getenv("TEMP") or os.getenv("TMPDIR") or "/tmp"
  local facts_path = folder .. "/matchcut_" .. tool .. "_" .. tostring(os.time()) .. ".json"
  local handle = assert(io.open(facts_path, "w"))
  handle:write(encode(facts))
  handle:close()
  local command = quote(python ~= "" and python or "python3") .. " " .. quote(lib .. "/matchcut_resolve/freerun.py")
    .. " " .. quote(facts_path) .. " 2>&1"
  if windows then command = '"' .. command .. '"' end  -- cmd.exe strips one outer pair of quotes
  local pipe = io.popen(command)
  local output = pipe:read("*a") or ""
  pipe:close()
  os.remove(facts_path)
  local status = output:match("matchcut%-result%-status: ([^\r\n]*)") or "error"
  local message = output:match("matchcut%-result%-message: ([^\r\n]*)") or ""
  local path = output:match("matchcut%-result%-path: ([^\r\n]*)") or ""
  if status ~= "done" and message == "" then
    message = output:gsub("%s+$", ""):match("[^\r\n]*$") or "the worker did not run"
  end
  local text = (status == "done") and ("Result: " .. path .. "\nImport it from the Media page.")
    or ("Matchcut " .. tool .. ": " .. status .. ": " .. message)
  show("Matchcut " .. tool, text)
  return status, message, path
end

return M
