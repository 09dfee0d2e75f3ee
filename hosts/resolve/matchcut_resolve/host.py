"""The one module that talks to Resolve: item facts, render, import, takes, tracks, mattes, CDL, markers, dialog.

Every function takes Resolve's objects (resolve, project, timeline, item, media pool ...) as arguments, so tests
drive it with a fake object model. Method names and argument shapes follow Resolve's scripting README (copies
up to July 2026); the behaviours behind them are in docs/hosts/resolve.md, "Verified against public sources".
"""
from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional, Tuple

from matchcut_resolve import events, jobs, media, results, settings, widgets, worker

BIN_NAME = "Matchcut"
PREVIOUS = "(previous item)"
NONE = "(none)"


class HostError(RuntimeError):
    """Something in Resolve is not as the tool needs it (no project, no item ...); one line for the artist."""


def connect(resolve: Any = None) -> Any:
    """Resolve's app object: the one a script run from Workspace > Scripts gets, else an external connection."""
    if resolve is not None:
        return resolve
    try:
        import DaVinciResolveScript as dvr_script  # only for external interpreters (Studio, scripting enabled)
    except ImportError:
        raise HostError("not running inside Resolve and DaVinciResolveScript is not importable (set "
                        "RESOLVE_SCRIPT_API/RESOLVE_SCRIPT_LIB, see docs/hosts/resolve.md)")
    app = dvr_script.scriptapp("Resolve")
    if app is None:
        raise HostError("cannot connect to Resolve: is it running, with external scripting set to Local?")
    return app


def dispatcher(fusion: Any, bmd: Any, resolve: Any) -> Tuple[Any, Any]:
    """(ui, disp): Fusion's UIManager and a UIDispatcher for it (``bmd`` is a global of Resolve's script runner;
    outside it, the BlackmagicFusion module gives it)."""
    if bmd is None:
        try:
            import BlackmagicFusion as bmd
        except ImportError:
            raise HostError("no UIDispatcher: run the script from Resolve's Workspace > Scripts menu")
    ui = (fusion or resolve.Fusion()).UIManager
    return ui, bmd.UIDispatcher(ui)


def _call(obj: Any, method: str, *args: Any) -> Any:
    """obj.method(*args), or None where this Resolve version lacks the method."""
    try:
        return getattr(obj, method)(*args)
    except (AttributeError, TypeError):
        return None


def context(resolve: Any) -> Tuple[Any, Any]:
    """(project, current timeline); HostError when either is missing."""
    project = resolve.GetProjectManager().GetCurrentProject()
    if not project:
        raise HostError("no project is open")
    timeline = project.GetCurrentTimeline()
    if not timeline:
        raise HostError("no timeline is open: open one on the Edit or Color page")
    return project, timeline


def timeline_facts(project: Any, timeline: Any) -> Dict[str, Any]:
    """Name, frame rate, first frame and project name of the timeline (jobs.plan_source's ``timeline``)."""
    fps = _call(timeline, "GetSetting", "timelineFrameRate") or project.GetSetting("timelineFrameRate")
    return {"name": timeline.GetName(), "fps": fps, "start_frame": timeline.GetStartFrame(),
            "project": project.GetName()}


def item_facts(item: Any) -> Dict[str, Any]:
    """The facts of one timeline item and its media (jobs.ITEM_KEYS); HostError for an item without media."""
    mpi = item.GetMediaPoolItem()
    if not mpi:
        raise HostError("{}: no media pool item (a generator, title or adjustment clip?)".format(item.GetName()))
    props = mpi.GetClipProperty() or {}
    track = _call(item, "GetTrackTypeAndIndex")
    return {"name": item.GetName(), "file_path": props.get("File Path", ""), "clip_start": props.get("Start"),
            "clip_end": props.get("End"), "clip_fps": props.get("FPS"), "clip_frames": props.get("Frames"),
            "record_start": item.GetStart(), "duration": item.GetDuration(),
            "source_start": _call(item, "GetSourceStartFrame"), "source_end": _call(item, "GetSourceEndFrame"),
            "source_start_time": _call(item, "GetSourceStartTime"), "source_end_time": _call(item, "GetSourceEndTime"),
            "left_offset": _call(item, "GetLeftOffset"), "right_offset": _call(item, "GetRightOffset"),
            "track": track[1] if isinstance(track, (list, tuple)) and len(track) == 2 else None,
            "unique_id": _call(item, "GetUniqueId")}


def video_items(timeline: Any) -> List[Tuple[int, Any]]:
    """Every video item as (track index, item), track by track (tracks are 1-based)."""
    found = []
    for index in range(1, int(timeline.GetTrackCount("video")) + 1):
        for item in timeline.GetItemListInTrack("video", index) or []:
            found.append((index, item))
    return found


def item_label(track: int, item: Any) -> str:
    return "V{} {} @{}".format(track, item.GetName(), item.GetStart())


def track_of(timeline: Any, item: Any) -> int:
    """The item's video track (GetTrackTypeAndIndex, else a search by unique id); 1 when not found."""
    pair = _call(item, "GetTrackTypeAndIndex")
    if isinstance(pair, (list, tuple)) and len(pair) == 2:
        return int(pair[1])
    wanted = _call(item, "GetUniqueId")
    for track, other in video_items(timeline):
        if other is item or (wanted and _call(other, "GetUniqueId") == wanted):
            return track
    return 1


def previous_item(timeline: Any, item: Any) -> Any:
    """The item before ``item`` on its track (the shot before the cut), or None."""
    track = track_of(timeline, item)
    before = [i for i in timeline.GetItemListInTrack("video", track) or [] if i.GetStart() < item.GetStart()]
    return max(before, key=lambda i: i.GetStart()) if before else None


def _has(obj: Any, method: str) -> bool:
    """Whether this Resolve version has ``obj.method`` (absent methods are version gaps, not errors)."""
    try:
        return callable(getattr(obj, method, None))
    except Exception:  # a remote object may raise on unknown attributes
        return False


def selected_items(timeline: Any) -> List[Any]:
    """The video items selected on the timeline, by track then record frame.

    Timeline.GetSelectedClips() is in the scripting README from Resolve 21.0.4 (it returns a list; a dict or
    table is accepted too). Audio items and items without media (titles, generators) are left out."""
    if not _has(timeline, "GetSelectedClips"):
        raise HostError("scope selected needs Resolve 21.0.4 or later (Timeline.GetSelectedClips); use in-out "
                        "or clip-colour on this version")
    found = timeline.GetSelectedClips() or []
    if isinstance(found, dict):
        found = [found[k] for k in sorted(found)]
    chosen = []
    for item in found:
        pair = _call(item, "GetTrackTypeAndIndex")
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] != "video":
            continue
        if not item.GetMediaPoolItem():
            continue
        chosen.append((int(pair[1]) if isinstance(pair, (list, tuple)) and len(pair) == 2 else 0, item))
    if not chosen:
        raise HostError("scope selected: select one or more video clips on the timeline first")
    return [item for _, item in sorted(chosen, key=lambda pair: (pair[0], pair[1].GetStart()))]


def mark_range(timeline: Any) -> Tuple[int, int]:
    """The timeline's In and Out as absolute record frames, Out inclusive.

    Timeline.GetMarkInOut() (Resolve 19.1 and later) gives {"video": {"in", "out"}, "audio": {...}}, a key
    left out when not set; the values are frames from the timeline's start, as marker frames are (public
    scripts read them so, see docs/hosts/resolve.md). A value that only fits the timeline as an absolute frame
    is taken as one, so a build that answers absolute frames still selects the right items."""
    if not _has(timeline, "GetMarkInOut"):
        raise HostError("scope in-out needs Resolve 19.1 or later (Timeline.GetMarkInOut)")
    marks = timeline.GetMarkInOut() or {}
    pair = marks.get("video") or marks.get("audio") or {}
    if "in" not in pair or "out" not in pair:
        raise HostError("scope in-out: set In and Out on the timeline first")
    start, end = int(timeline.GetStartFrame()), int(timeline.GetEndFrame())

    def absolute(value: Any) -> int:
        frame = int(round(float(value)))
        if start > 0 and start + frame > end and start <= frame <= end:
            return frame
        return start + frame

    low, high = absolute(pair["in"]), absolute(pair["out"])
    if high < low:
        raise HostError("scope in-out: Out ({}) is before In ({})".format(pair["out"], pair["in"]))
    return low, high


def scoped_items(timeline: Any, item: Any, scope: str) -> List[Any]:
    """The items a run covers: the current one, those selected on the timeline, those on its track inside the
    timeline's In/Out marks, or those on its track with its clip colour."""
    if scope == "current":
        return [item]
    if scope == "selected":
        return selected_items(timeline)
    track = track_of(timeline, item)
    on_track = sorted(timeline.GetItemListInTrack("video", track) or [], key=lambda i: i.GetStart())
    if scope == "in-out":
        low, high = mark_range(timeline)
        chosen = [i for i in on_track if i.GetStart() <= high and i.GetEnd() > low]
        if not chosen:
            raise HostError("scope in-out: no item on track V{} between In and Out".format(track))
    elif scope == "clip-colour":
        colour = item.GetClipColor()
        if not colour:
            raise HostError("scope clip-colour: give the current item a clip colour first")
        chosen = [i for i in on_track if i.GetClipColor() == colour]
    else:
        raise HostError("unknown scope {!r} (valid: {})".format(scope, ", ".join(widgets.SCOPES)))
    return chosen or [item]


# --- render, import, placement -----------------------------------------------------------------------


def _exr_codec(project: Any) -> str:
    codecs = project.GetRenderCodecs("exr") or {}
    for description, codec in codecs.items():
        if "half" in description.lower():
            return codec
    if not codecs:
        raise HostError("this Resolve offers no EXR render format")
    return next(iter(codecs.values()))


def start_render(project: Any, item: Any, folder: str, name: str) -> Tuple[str, Dict[str, Any]]:
    """Queue and start a render of the item's record range to an EXR sequence in ``folder`` (the current
    render settings are kept to be restored by finish_render). Returns (job id, saved settings)."""
    saved = {"format": project.GetCurrentRenderFormatAndCodec(), "mode": project.GetCurrentRenderMode()}
    os.makedirs(folder, exist_ok=True)
    if not project.SetCurrentRenderFormatAndCodec("exr", _exr_codec(project)):
        raise HostError("cannot set the render format to EXR")
    project.SetCurrentRenderMode(1)
    ok = project.SetRenderSettings({"SelectAllFrames": False, "MarkIn": int(item.GetStart()),
                                    "MarkOut": int(item.GetEnd()) - 1, "TargetDir": folder, "CustomName": name,
                                    "ExportVideo": True, "ExportAudio": False})
    if not ok:
        raise HostError("{}: Resolve refused the render settings".format(item.GetName()))
    job_id = project.AddRenderJob()
    if not job_id or not project.StartRendering([job_id], False):
        raise HostError("{}: could not start the render to EXR".format(item.GetName()))
    return job_id, saved


def render_status(project: Any, job_id: str) -> Tuple[str, float]:
    """(JobStatus, percentage) of a render job: "Rendering", "Complete", "Failed", "Cancelled" ..."""
    status = project.GetRenderJobStatus(job_id) or {}
    return str(status.get("JobStatus", "")), float(status.get("CompletionPercentage") or 0)


def finish_render(project: Any, job_id: str, saved: Dict[str, Any]) -> None:
    """Take the job off the render queue and put the artist's render format, codec and mode back."""
    project.DeleteRenderJob(job_id)
    fmt = saved.get("format") or {}
    if fmt.get("format") and fmt.get("codec"):
        project.SetCurrentRenderFormatAndCodec(fmt["format"], fmt["codec"])
    if saved.get("mode") in (0, 1):
        project.SetCurrentRenderMode(saved["mode"])


def results_bin(media_pool: Any) -> Any:
    """The "Matchcut" bin under the media pool's root (made once)."""
    root = media_pool.GetRootFolder()
    for folder in root.GetSubFolderList() or []:
        if folder.GetName() == BIN_NAME:
            return folder
    made = media_pool.AddSubFolder(root, BIN_NAME)
    if not made:
        raise HostError("cannot make the media pool bin {!r}".format(BIN_NAME))
    return made


def fps_text(fps: Any) -> str:
    """A clip FPS property value: "24", "23.976", "29.97", "12.5"."""
    value = float(fps)
    text = "{:.3f}".format(value).rstrip("0").rstrip(".")
    return text


def import_sequence(media_pool: Any, pattern: str, first: int, last: int, fps: Any, note: str) -> Any:
    """Import an EXR sequence into the Matchcut bin (the current bin is restored), set its frame rate to the
    source's and note how it was made in its Comments. Returns the media pool item."""
    keep = media_pool.GetCurrentFolder()
    media_pool.SetCurrentFolder(results_bin(media_pool))
    try:
        made = media_pool.ImportMedia([media.import_clip_info(pattern, first, last)])
    finally:
        if keep:
            media_pool.SetCurrentFolder(keep)
    if not made:
        raise HostError("Resolve could not import {} ({}-{})".format(pattern, first, last))
    mpi = made[0]
    # Image sequences import at the project's rate; a 50p source's result must play at 50p like its source.
    mpi.SetClipProperty("FPS", fps_text(fps))
    mpi.SetMetadata({"Comments": note})
    return mpi


def add_take(item: Any, mpi: Any, start: int, end: int) -> int:
    """The result as a new take on the item, selected (take 1 stays the original). Returns the take index."""
    if not item.AddTake(mpi, int(start), int(end)):
        raise HostError("{}: AddTake refused the result".format(item.GetName()))
    index = int(item.GetTakesCount())
    item.SelectTakeByIndex(index)
    return index


def add_on_new_track(timeline: Any, media_pool: Any, item: Any, mpi: Any, start: int, end: int) -> Any:
    """The result on a new video track above every other, at the item's record frame. Returns the new item."""
    if not timeline.AddTrack("video"):
        raise HostError("cannot add a video track")
    track = int(timeline.GetTrackCount("video"))
    made = media_pool.AppendToTimeline([{"mediaPoolItem": mpi, "startFrame": int(start), "endFrame": int(end),
                                         "mediaType": 1, "trackIndex": track, "recordFrame": int(item.GetStart())}])
    if not made:
        raise HostError("{}: AppendToTimeline refused the result".format(item.GetName()))
    return made[0]


def attach_matte(media_storage: Any, media_pool: Any, source_mpi: Any, pattern: str, first: int,
                 last: int) -> Tuple[int, Optional[int]]:
    """The matte sequence as clip mattes of the source's media pool item: every frame file is passed, the way
    MediaStorage.AddClipMattesToMediaPool(MediaPoolItem, [paths], stereoEye) takes media files. Returns (files
    passed, mattes the item lists afterwards by MediaPool.GetClipMatteList, or None where this version lacks
    it), so the summary shows what Resolve made of them."""
    paths = [p for p in (media.frame_path(pattern, f) for f in range(first, last + 1)) if os.path.isfile(p)]
    if not paths:
        raise HostError("{}: no matte frames in {}".format(source_mpi.GetName(), pattern))
    if not media_storage.AddClipMattesToMediaPool(source_mpi, paths):
        raise HostError("{}: AddClipMattesToMediaPool refused the matte".format(source_mpi.GetName()))
    listed = media_pool.GetClipMatteList(source_mpi) if _has(media_pool, "GetClipMatteList") else None
    return len(paths), (len(listed) if isinstance(listed, (list, tuple, dict)) else None)


def apply_cdl(item: Any, cdl: Dict[str, str]) -> None:
    """Set the CDL on a node of the item's grade, for the colorist to refine."""
    if not item.SetCDL(cdl):
        raise HostError("{}: SetCDL refused node {} (does the grade have that many nodes?)".format(
            item.GetName(), cdl["NodeIndex"]))


def add_markers(timeline: Any, markers: List[Dict[str, Any]], last_frame: int) -> List[str]:
    """Add markers (results.continuity_markers) at their frames or the next free one up to ``last_frame``
    (relative frames); returns a note per marker that had to move or could not be placed."""
    notes = []
    for marker in markers:
        taken = list((timeline.GetMarkers() or {}).keys())
        frame = results.free_frame(taken, marker["frame"], last_frame)
        if frame is None:
            notes.append("no free frame for the marker {!r}".format(marker["name"]))
            continue
        if frame != marker["frame"]:
            notes.append("marker moved from frame {} to {} (a marker was there)".format(marker["frame"], frame))
        if not timeline.AddMarker(frame, marker["color"], marker["name"], marker["note"], marker["duration"],
                                  marker["custom_data"]):
            notes.append("Resolve refused the marker at frame {}".format(frame))
    return notes


# --- one run over the chosen items ----------------------------------------------------------------------


class Batch:
    """Runs a tool over items, one at a time: render what Matchcut cannot read, write the job, run the worker,
    bring the results back. ``tick()`` does a little and returns the progress text (None when finished), so a
    UIManager timer can drive it without blocking Resolve."""

    def __init__(self, resolve: Any, project: Any, timeline: Any, tool: Dict[str, Any], items: List[Any],
                 options: Dict[str, Any], exe: str) -> None:
        self.resolve, self.project, self.timeline, self.tool = resolve, project, timeline, tool
        self.items, self.options, self.exe = list(items), options, exe
        self.tl = timeline_facts(project, timeline)
        self.summary: List[str] = []
        self.failures = 0
        self.cancelled = False
        self.run: Optional[worker.Run] = None
        self.states: List[events.RunState] = []
        self._work = self._all()

    def tick(self) -> Optional[str]:
        try:
            return next(self._work)
        except StopIteration:
            return None

    def cancel(self) -> None:
        self.cancelled = True
        if self.run is not None:
            self.run.cancel()

    def _all(self):
        total = len(self.items)
        for number, item in enumerate(self.items, 1):
            if self.cancelled:
                break
            prefix = "{} {}/{} ({}): ".format(self.tool["name"], number, total, item.GetName())
            try:
                for text in self._one(item):
                    yield prefix + text
            except (HostError, jobs.JobFailure, worker.WorkerError, OSError, ValueError) as exc:
                self.failures += 1
                self.summary.append("{}: error: {}".format(item.GetName(), " ".join(str(exc).split())))
                yield prefix + "error"

    def _render(self, item: Any, plan: jobs.SourcePlan, folder: str):
        name = jobs.safe_name(item.GetName()) + "_render"
        job_id, saved = start_render(self.project, item, folder, name)
        try:
            while True:
                status, percent = render_status(self.project, job_id)
                if status == "Complete":
                    break
                if status in ("Failed", "Cancelled") or self.cancelled:
                    if self.cancelled:
                        self.project.StopRendering()
                    raise HostError("{}: the render to EXR {}".format(item.GetName(), status.lower() or "stopped"))
                yield "rendering {} to EXR ({:.0f} %)".format(item.GetName(), percent)
                time.sleep(0.05)
        finally:
            finish_render(self.project, job_id, saved)
        found = media.find_rendered_sequence(folder, name)
        if found is None:
            raise HostError("{}: the render left no EXR frames in {}".format(item.GetName(), folder))
        return jobs.rendered_source(plan, *found)

    def _extra_items(self, item: Any) -> Dict[str, Any]:
        chosen = {}
        labels = {item_label(track, other): other for track, other in video_items(self.timeline)}
        for input_name in widgets.extra_inputs(self.tool):
            choice = self.options.get("inputs", {}).get(input_name) or NONE
            if choice == NONE:
                continue
            other = previous_item(self.timeline, item) if choice == PREVIOUS else labels.get(choice)
            if other is None:
                raise HostError("input {}: {}".format(input_name, "there is no previous item on the track"
                                                      if choice == PREVIOUS else "no item " + choice))
            chosen[input_name] = other
        return chosen

    def _one(self, item: Any):
        tool, opts = self.tool, self.options
        handles = 0 if tool.get("frameless") else int(opts.get("handles") or 0)
        root = opts.get("output") or settings.default_output()
        render_root = os.path.join(root, jobs.safe_name(self.tl["project"]), "_renders")
        plate = jobs.plan_source(item_facts(item), self.tl, handles)
        if plate.needs_render:
            plate = yield from self._render(item, plate, os.path.join(render_root, jobs.safe_name(item.GetName())))
        extras = {}
        singles = jobs.SINGLE_FRAME_INPUTS.get(tool["name"], ()) + (("a",) if tool["name"] == "continuity" else ())
        for input_name, other in self._extra_items(item).items():
            extra = jobs.plan_source(item_facts(other), self.tl, 0)
            # A per-frame input must be a sequence (it is renumbered to the plate's frames): movies are rendered.
            if extra.needs_render or (input_name not in singles and media.clip_path(extra.pattern).is_movie):
                extra = yield from self._render(other, extra, os.path.join(render_root, jobs.safe_name(other.GetName())))
            extras[input_name] = extra
        if tool["name"] == "continuity" and "a" not in extras:
            raise HostError("continuity: choose shot A (the previous item, or another)")
        plan = jobs.build_job(tool, plate, extras, opts.get("params", {}), root, self.tl, opts.get("provider", "auto"))
        state = yield from self._run(plan)
        for warning in plate.warnings + state.warnings:
            self.summary.append("{}: warning: {}".format(item.GetName(), warning))
        if state.status == "cancelled":
            self.summary.append("{}: cancelled (finished frames are kept; Run resumes)".format(item.GetName()))
            return
        if state.status != "done":
            raise HostError(state.error or "the worker failed")
        for line in self.place(item, plan, state, extras):
            self.summary.append("{}: {}".format(item.GetName(), line))
        yield "done"

    def _run(self, plan: jobs.JobPlan):
        jobs.write_job(plan)
        for attempt in (1, 2):
            self.run = worker.Run(self.exe, plan.job_path)
            while True:
                state = self.run.poll()
                if state.finished:
                    break
                yield events.progress_text(state, plan.tool)
                time.sleep(0.05)
            self.run = None
            self.states.append(state)
            if attempt == 1 and state.status == "error" and plan.tool == "match" and results.cdl_not_fitting(state.error):
                plan.job["params"].pop("cdl", None)  # the LUT still carries the grade; the frames are kept
                jobs.write_job(plan)
                self.summary.append("no CDL: {}".format(state.error))
                continue
            return state
        return state

    def place(self, item: Any, plan: jobs.JobPlan, state: events.RunState, extras: Dict[str, Any]) -> List[str]:
        """Bring a finished job's outputs back: take or track, clip matte, bin, CDL, markers. Returns notes."""
        notes: List[str] = []
        tool, opts = plan.tool, self.options
        placement = "track" if tool == "retime" else opts.get("placement", "take")
        pool = self.project.GetMediaPool()
        plate = plan.plate
        rng = plate.range if plate is not None else None
        for name, action in results.actions(plan.kinds, placement).items():
            pattern = plan.outputs[name]
            if action == "markers":
                notes += self._markers(item, plan, extras, state)
                continue
            if action == "artifact":
                notes.append("report: " + str(state.artifacts.get("report") or pattern))
                continue
            frames = media.frames_on_disk(pattern)
            if not frames or rng is None:
                notes.append("{}: no frames written".format(name))
                continue
            first, last = frames[0], frames[-1]
            if action == "matte":
                passed, listed = attach_matte(self.resolve.GetMediaStorage(), pool, item.GetMediaPoolItem(),
                                              pattern, first, last)
                notes.append("{} attached as a clip matte: frames {}-{} ({} file(s){})".format(
                    name, first, last, passed, "" if listed is None else "; the clip lists {} matte(s)".format(listed)))
                continue
            fps = plate.fps
            if tool == "retime" and plan.job["params"].get("fps_to"):
                fps = plan.job["params"]["fps_to"]
            same_frames = (first, last) == (rng.file_first, rng.file_last)
            if action == "track" and same_frames and abs(rng.speed) != 1.0:
                fps = float(plate.fps) * abs(rng.speed)  # a constant speed change, played back as the item shows it
            note = "Matchcut {} ({}) from {}".format(tool, os.path.basename(plan.folder), plate.name)
            mpi = import_sequence(pool, pattern, first, last, fps, note)
            start, end = rng.take_range() if same_frames else (0, last - first + 1)
            if action == "take":
                index = add_take(item, mpi, start, end)
                notes.append("{} added as take {}".format(name, index))
            elif action == "track":
                add_on_new_track(self.timeline, pool, item, mpi, start, end)
                notes.append("{} placed on a new track at record frame {}".format(name, item.GetStart()))
            else:
                notes.append("{} imported into the {} bin".format(name, BIN_NAME))
        for key in ("lut", "cdl"):
            if state.artifacts.get(key):
                notes.append("{}: {}".format(key.upper(), state.artifacts[key]))
        if tool == "match" and opts.get("apply_cdl") and state.artifacts.get("cdl"):
            apply_cdl(item, results.read_cdl(state.artifacts["cdl"], int(opts.get("cdl_node") or 1)))
            notes.append("CDL set on node {} of the grade".format(int(opts.get("cdl_node") or 1)))
        return notes

    def _markers(self, item: Any, plan: jobs.JobPlan, extras: Dict[str, Any], state: events.RunState) -> List[str]:
        import json

        path = state.artifacts.get("json") or plan.outputs.get("json")
        with open(str(path), encoding="utf-8") as handle:
            data = json.load(handle)
        report = str(state.artifacts.get("report") or plan.outputs.get("report"))
        a_name = extras["a"].name if "a" in extras else "A"
        markers = results.continuity_markers(data, plan.plate.range, report, str(path), a_name, plan.plate.name)
        last = item.GetEnd() - 1 - self.timeline.GetStartFrame()
        notes = add_markers(self.timeline, markers, last)
        regions = sum(len(c.get("regions") or []) for c in data.get("comparisons", []))
        return notes + ["{} continuity marker(s), {} region(s); report {}".format(len(markers), regions, report)]
