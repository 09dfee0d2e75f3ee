"""The one module that talks to Resolve: item facts, render, import, takes, tracks, mattes, CDL, markers, dialog.

Every function takes Resolve's objects (resolve, project, timeline, item, media pool ...) as arguments, so tests
drive it with a fake object model; it reads plain values from them and leaves every decision to the plain
modules (scope, renders, results, batch, jobs). Method names and argument shapes follow Resolve's scripting
README (copies up to July 2026); the behaviours behind them are in docs/hosts/resolve.md, "Verified against
public sources".
"""

import os
import shutil
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

from matchcut_resolve import batch, edits, jobs, media, renders, results, scope, training, widgets
from matchcut_resolve.client import coverage, tools
from matchcut_resolve.client import jobs as client_jobs
from matchcut_resolve.errors import HostError


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


def _has(obj: Any, method: str) -> bool:
    """Whether this Resolve version has ``obj.method`` (absent methods are version gaps, not errors)."""
    try:
        return callable(getattr(obj, method, None))
    except Exception:  # a remote object may raise on unknown attributes
        return False


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
    return {"name": item.GetName(), "file_path": props.get("File Path", ""), "clip_start": props.get("Start"),
            "clip_end": props.get("End"), "clip_fps": props.get("FPS"), "clip_frames": props.get("Frames"),
            "record_start": item.GetStart(), "duration": item.GetDuration(),
            "source_start": _call(item, "GetSourceStartFrame"), "source_end": _call(item, "GetSourceEndFrame"),
            "source_start_time": _call(item, "GetSourceStartTime"), "source_end_time": _call(item, "GetSourceEndTime"),
            "left_offset": _call(item, "GetLeftOffset"), "right_offset": _call(item, "GetRightOffset"),
            "track": scope.track_index(_call(item, "GetTrackTypeAndIndex")), "unique_id": _call(item, "GetUniqueId")}


def video_items(timeline: Any) -> List[Tuple[int, Any]]:
    """Every video item as (track index, item), track by track (tracks are 1-based)."""
    found = []
    for index in range(1, int(timeline.GetTrackCount("video")) + 1):
        for item in timeline.GetItemListInTrack("video", index) or []:
            found.append((index, item))
    return found


def labelled_items(timeline: Any) -> Dict[str, Any]:
    """Every video item by its input label (scope.item_label), in timeline order."""
    return {scope.item_label(track, item.GetName(), item.GetStart()): item for track, item in video_items(timeline)}


def current_item(timeline: Any) -> Any:
    """The video item under the playhead; HostError when there is none."""
    item = timeline.GetCurrentVideoItem()
    if not item:
        raise HostError("no video item under the playhead")
    return item


def track_of(timeline: Any, item: Any) -> int:
    """The item's video track (GetTrackTypeAndIndex, else a search by unique id); 1 when not found."""
    track = scope.track_index(_call(item, "GetTrackTypeAndIndex"))
    if track is not None:
        return int(track)
    wanted = _call(item, "GetUniqueId")
    for track, other in video_items(timeline):
        if other is item or (wanted and _call(other, "GetUniqueId") == wanted):
            return track
    return 1


def previous_item(timeline: Any, item: Any) -> Any:
    """The item before ``item`` on its track (the shot before the cut), or None."""
    others = timeline.GetItemListInTrack("video", track_of(timeline, item)) or []
    index = scope.previous_index([other.GetStart() for other in others], item.GetStart())
    return None if index is None else others[index]


def selected_items(timeline: Any) -> List[Any]:
    """The video items selected on the timeline, by track then record frame (scope.selected_order).

    Timeline.GetSelectedClips() is in the scripting README from Resolve 21.0.4 (it returns a list; a dict or
    table is accepted too)."""
    if not _has(timeline, "GetSelectedClips"):
        raise HostError("scope selected needs Resolve 21.0.4 or later (Timeline.GetSelectedClips); use in-out "
                        "or clip-colour on this version")
    found = timeline.GetSelectedClips() or []
    if isinstance(found, dict):
        found = [found[k] for k in sorted(found)]
    records = [{"pair": _call(item, "GetTrackTypeAndIndex"), "media": bool(item.GetMediaPoolItem()),
                "start": item.GetStart()} for item in found]
    return [found[index] for index in scope.selected_order(records)]


def mark_range(timeline: Any) -> Tuple[int, int]:
    """The timeline's In and Out as absolute record frames, Out inclusive (Timeline.GetMarkInOut, Resolve 19.1
    and later; scope.mark_range reads it)."""
    if not _has(timeline, "GetMarkInOut"):
        raise HostError("scope in-out needs Resolve 19.1 or later (Timeline.GetMarkInOut)")
    return scope.mark_range(timeline.GetMarkInOut() or {}, timeline.GetStartFrame(), timeline.GetEndFrame())


def in_out_record_range(timeline: Any) -> Optional[str]:
    """The timeline's In..Out as the record frames a tool that stands on the edit covers ("120-239", from the
    timeline's start), or None when no In and Out are set (or this Resolve has no GetMarkInOut: before 19.1)."""
    if not _has(timeline, "GetMarkInOut"):
        return None
    marks = timeline.GetMarkInOut() or {}
    if not (marks.get("video") or marks.get("audio")):
        return None
    low, high = scope.mark_range(marks, timeline.GetStartFrame(), timeline.GetEndFrame())
    return edits.record_range(low, high, timeline.GetStartFrame())


def export_timeline(resolve: Any, timeline: Any, path: str) -> None:
    """Resolve's own OpenTimelineIO export of ``timeline`` to ``path`` (Timeline.Export with resolve.EXPORT_OTIO,
    Resolve 18.5 and later; the subtype resolve.EXPORT_NONE where the constant exists). HostError when this
    Resolve has no OTIO export or wrote nothing."""
    kind = getattr(resolve, "EXPORT_OTIO", None)
    if kind is None:
        raise HostError("{}: exporting the timeline needs Resolve {} or later (Timeline.Export with "
                        "resolve.EXPORT_OTIO)".format(timeline.GetName(), edits.OTIO_SINCE))
    subtype = getattr(resolve, "EXPORT_NONE", None)
    done = timeline.Export(path, kind, subtype) if subtype is not None else timeline.Export(path, kind)
    if not done or not os.path.isfile(path):
        raise HostError("{}: Resolve could not export the timeline to {}".format(timeline.GetName(), path))


def items_above(timeline: Any, item: Any) -> List[Any]:
    """The video items on the tracks above ``item``'s that overlap its record frames, lowest track first (the
    corrected frames an artist laid over a clip)."""
    found = [(track, other) for track, other in video_items(timeline) if other is not item]
    spans = [(track, other.GetStart(), other.GetEnd()) for track, other in found]
    return [found[index][1] for index in scope.above(spans, track_of(timeline, item), item.GetStart(), item.GetEnd())]


def target_items(timeline: Any, item: Any, choice: str) -> List[Any]:
    """The items a training's target choice names (training.CHOICES or an item label), ``item`` (its source)
    left out; HostError naming the choice when it names none."""
    if choice == training.ABOVE:
        found = items_above(timeline, item)
        if not found:
            raise HostError("no clip on a track above {}: lay the corrected frames over it, or choose the clips "
                            "another way".format(item.GetName()))
        return found
    if choice == training.SELECTED:
        wanted = _call(item, "GetUniqueId")
        found = [other for other in selected_items(timeline)
                 if other is not item and not (wanted and _call(other, "GetUniqueId") == wanted)]
        if not found:
            raise HostError("select the clips with the corrected frames as well as {}".format(item.GetName()))
        return found
    other = labelled_items(timeline).get(choice)
    if other is None:
        raise HostError("no item {} on the timeline".format(choice))
    return [other]


def scoped_items(timeline: Any, item: Any, scope_name: str) -> List[Any]:
    """The items a run covers: the current one, those selected on the timeline, those on its track inside the
    timeline's In/Out marks, or those on its track with its clip colour."""
    if scope_name == "current":
        return [item]
    if scope_name == "selected":
        return selected_items(timeline)
    track = track_of(timeline, item)
    on_track = sorted(timeline.GetItemListInTrack("video", track) or [], key=lambda i: i.GetStart())
    if scope_name == "in-out":
        low, high = mark_range(timeline)
        chosen = scope.within_marks([(i.GetStart(), i.GetEnd()) for i in on_track], low, high, track)
    elif scope_name == "clip-colour":
        chosen = scope.with_colour([i.GetClipColor() for i in on_track], item.GetClipColor())
    else:
        raise scope.unknown_scope(scope_name)
    return [on_track[index] for index in chosen] or [item]


# --- render, import, placement -----------------------------------------------------------------------


def start_render(project: Any, item: Any, folder: str, name: str) -> Tuple[str, Dict[str, Any]]:
    """Queue and start a render of the item's record range to an EXR sequence in ``folder`` (the current
    render settings are kept to be restored by finish_render). Returns (job id, saved settings)."""
    saved = {"format": project.GetCurrentRenderFormatAndCodec(), "mode": project.GetCurrentRenderMode()}
    os.makedirs(folder, exist_ok=True)
    if not project.SetCurrentRenderFormatAndCodec("exr", renders.exr_codec(project.GetRenderCodecs("exr") or {})):
        raise HostError("cannot set the render format to EXR")
    project.SetCurrentRenderMode(1)
    if not project.SetRenderSettings(renders.render_settings(item.GetStart(), item.GetEnd(), folder, name)):
        raise HostError("{}: Resolve refused the render settings".format(item.GetName()))
    job_id = project.AddRenderJob()
    if not job_id or not project.StartRendering([job_id], False):
        raise HostError("{}: could not start the render to EXR".format(item.GetName()))
    return job_id, saved


def render_status(project: Any, job_id: str) -> Tuple[str, float]:
    """(JobStatus, percentage) of a render job: "Rendering", "Complete", "Failed", "Cancelled" ..."""
    return renders.job_status(project.GetRenderJobStatus(job_id))


def finish_render(project: Any, job_id: str, saved: Dict[str, Any]) -> None:
    """Take the job off the render queue and put the artist's render format, codec and mode back."""
    project.DeleteRenderJob(job_id)
    fmt, mode = renders.restored_settings(saved)
    if fmt is not None:
        project.SetCurrentRenderFormatAndCodec(*fmt)
    if mode is not None:
        project.SetCurrentRenderMode(mode)


def results_bin(media_pool: Any) -> Any:
    """The "Matchcut" bin under the media pool's root (made once)."""
    root = media_pool.GetRootFolder()
    for folder in root.GetSubFolderList() or []:
        if folder.GetName() == results.BIN_NAME:
            return folder
    made = media_pool.AddSubFolder(root, results.BIN_NAME)
    if not made:
        raise HostError("cannot make the media pool bin {!r}".format(results.BIN_NAME))
    return made


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
    mpi.SetClipProperty("FPS", results.fps_text(fps))
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
    paths = media.frame_files(pattern, first, last)
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
        frame, moved = results.marker_slot(list((timeline.GetMarkers() or {}).keys()), marker, last_frame)
        notes += moved
        if frame is not None and not timeline.AddMarker(frame, marker["color"], marker["name"], marker["note"],
                                                        marker["duration"], marker["custom_data"]):
            notes.append("Resolve refused the marker at frame {}".format(frame))
    return notes


# --- one run over the chosen items ----------------------------------------------------------------------


class EditBatch(batch.Batch):
    """Runs a tool that stands on an edit (coverage) on the whole timeline: Resolve's OTIO export of it (its
    In..Out as the tool's record range when set), the worker with progress and cancel (batch.Batch), then each
    proposal imported into the Matchcut bin and laid on new video tracks above the others at its record frame,
    each hole's best enabled and the others disabled, with a marker each. Existing tracks and clips are never
    touched."""

    def __init__(self, resolve: Any, project: Any, timeline: Any, tool: Dict[str, Any], options: Dict[str, Any],
                 exe: str) -> None:
        super().__init__(tool, options, exe)
        self.resolve, self.project, self.timeline = resolve, project, timeline
        self.tl = timeline_facts(project, timeline)
        self._work = self._all()

    def _all(self):
        name = str(self.tl["name"])
        prefix = "{} ({}): ".format(widgets.label(self.tool), name)
        try:
            for text in self._run(name):
                yield prefix + text
        except batch.FAILURES as exc:  # a coverage result that cannot be read is a ValueError too
            self.fail(name, exc)
            yield prefix + "error"

    def _run(self, name: str):
        opts, root = self.options, batch.output_root(self.options)
        params = dict(opts.get("params", {}))
        shown = in_out_record_range(self.timeline)
        param = tools.record_range_param(self.tool)
        if shown and param and not params.get(param):
            params[param] = shown
        yield "exporting the timeline"
        os.makedirs(root, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=".matchcut-export-", dir=root)
        try:
            exported = os.path.join(scratch, client_jobs.safe_name(name) + ".otio")
            export_timeline(self.resolve, self.timeline, exported)
            edit = edits.read_export(exported)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        plan = edits.build_job(self.tool, edit, params, root, self.tl, opts.get("provider", "auto"))
        client_jobs.write_json_atomic(plan.edit_path, plan.edit)
        if param and params.get(param):
            self.note(name, ["holes within record frames {} (the timeline's In/Out)".format(params[param])])
        if opts.get("send_to_farm"):  # the farm renders the proposals; nothing is placed here
            self.note(name, [self.send_to_farm(plan), "results: " + plan.folder])
            yield "sent to the farm"
            return
        state = yield from self.run_job(plan)
        if self.settle(name, [], state):
            self.note(name, self.place(plan, state))
            yield "done"

    def place(self, plan: edits.EditPlan, state: Any) -> List[str]:
        """The finished job's proposals on new tracks above the timeline's (edits.track_plan), each imported and
        appended at its record frame (edits.clip_info), the waiting ones disabled, a marker on each. Returns the
        summary lines."""
        data = coverage.read_result(edits.result_path(plan, state.artifacts))
        placed = coverage.placements(data)
        pool = self.project.GetMediaPool()
        base = int(self.timeline.GetTrackCount("video"))
        tracks = edits.track_plan(placed, base)
        for index, track_name in tracks:
            if not self.timeline.AddTrack("video"):
                raise HostError("cannot add a video track for the proposals")
            if _has(self.timeline, "SetTrackName"):
                self.timeline.SetTrackName("video", index, track_name)
        start, report, disabled = self.timeline.GetStartFrame(), str(state.artifacts.get("report") or ""), None
        for placement in placed:
            mpi = import_sequence(pool, placement["pattern"], placement["first"], placement["last"], self.tl["fps"],
                                  edits.import_note(placement, str(self.tl["name"]), plan.tool))
            info = dict(edits.clip_info(placement, base, start), mediaPoolItem=mpi)
            made = pool.AppendToTimeline([info])
            if not made:
                raise HostError("{}: AppendToTimeline refused the proposal".format(coverage.clip_name(placement)))
            item = made[0]
            if not placement["enabled"]:
                off = bool(_has(item, "SetClipEnabled") and item.SetClipEnabled(False))
                disabled = off if disabled is None else disabled and off
            mark = edits.marker(placement, report, plan.tool)
            if not item.AddMarker(mark["frame"], mark["color"], mark["name"], mark["note"], mark["duration"],
                                  mark["custom_data"]):
                self.note(str(self.tl["name"]), ["Resolve refused the marker of {}".format(
                    coverage.clip_name(placement))])
        return edits.summary_lines(data, placed, tracks, plan, state.artifacts, disabled)


class Batch(batch.Batch):
    """Runs a tool over items, one at a time: render what Matchcut cannot read, write the job, run the worker,
    bring the results back (batch.Batch: progress, cancel, the worker; this class: the Resolve steps)."""

    def __init__(self, resolve: Any, project: Any, timeline: Any, tool: Dict[str, Any], items: List[Any],
                 options: Dict[str, Any], exe: str) -> None:
        super().__init__(tool, options, exe)
        self.resolve, self.project, self.timeline, self.items = resolve, project, timeline, list(items)
        self.tl = timeline_facts(project, timeline)
        self._work = self._all()

    def _all(self):
        for number, item in enumerate(self.items, 1):
            if self.cancelled:
                self.skipped = len(self.items) - number + 1
                break
            prefix = batch.progress_prefix(widgets.label(self.tool), number, len(self.items), item.GetName())
            try:
                for text in self._one(item):
                    yield prefix + text
            except batch.FAILURES as exc:
                self.fail(item.GetName(), exc)
                yield prefix + "error"

    def _render(self, item: Any, plan: jobs.SourcePlan, root: str):
        folder = renders.render_folder(root, self.tl["project"], item.GetName())
        name = renders.render_name(item.GetName())
        job_id, saved = start_render(self.project, item, folder, name)
        try:
            while True:
                status, percent = render_status(self.project, job_id)
                if status == "Complete":
                    break
                if renders.render_stopped(status, self.cancelled):
                    if self.cancelled:
                        self.project.StopRendering()
                    raise HostError(renders.failure_text(item.GetName(), status))
                yield renders.progress_text(item.GetName(), percent)
                time.sleep(0.05)
        finally:
            finish_render(self.project, job_id, saved)
        found = media.find_rendered_sequence(folder, name)
        if found is None:
            raise HostError("{}: the render left no EXR frames in {}".format(item.GetName(), folder))
        return jobs.rendered_source(plan, *found)

    def _extra_items(self, item: Any) -> Dict[str, Any]:
        labels = labelled_items(self.timeline)
        chosen = {}
        for input_name, choice in batch.input_choices(self.tool, self.options).items():
            other = previous_item(self.timeline, item) if choice == widgets.PREVIOUS else labels.get(choice)
            if other is None:
                raise batch.missing_input(input_name, choice)
            chosen[input_name] = other
        return chosen

    def _one(self, item: Any):
        tool, opts, root = self.tool, self.options, batch.output_root(self.options)
        plate = jobs.plan_source(item_facts(item), self.tl, batch.handles_of(tool, opts))
        if plate.needs_render:
            plate = yield from self._render(item, plate, root)
        if tools.trains(tool):
            yield from self._train(item, plate, root)
            return
        extras = {}
        for input_name, other in self._extra_items(item).items():
            extra = jobs.plan_source(item_facts(other), self.tl, 0)
            if batch.needs_render(tool, input_name, extra):
                extra = yield from self._render(other, extra, root)
            extras[input_name] = extra
        batch.check_inputs(tool, extras)
        plan = jobs.build_job(tool, plate, extras, opts.get("params", {}), root, self.tl, opts.get("provider", "auto"))
        if opts.get("send_to_farm"):  # the farm writes the results; they are not placed on the timeline here
            self.note(item.GetName(), [self.send_to_farm(plan), "results: " + ", ".join(plan.outputs.values())])
            yield "sent to the farm"
            return
        state = yield from self.run_job(plan)
        if self.settle(item.GetName(), plate.warnings, state):
            self.note(item.GetName(), self.place(item, plan, state, extras))
            yield "done"

    def _train(self, item: Any, plate: jobs.SourcePlan, root: str):
        """A tool that trains: its target clips (training.CHOICES or one clip) and mask, rendered where Matchcut
        cannot read them; the training; then the model run on the whole clip by the tool that runs one, its
        result placed as that tool's (a take). A cancelled training keeps its checkpoint: Run carries on."""
        tool, opts = self.tool, self.options
        targets: Dict[str, List[jobs.SourcePlan]] = {}
        for input_name, choice in batch.input_choices(tool, opts).items():
            chosen = target_items(self.timeline, item, choice) if input_name in training.paired_inputs(tool) \
                else [self._labelled(choice, input_name)]
            targets[input_name] = []
            for other in chosen:
                extra = jobs.plan_source(item_facts(other), self.tl, 0)
                if batch.needs_render(tool, input_name, extra):
                    extra = yield from self._render(other, extra, root)
                targets[input_name].append(extra)
        plan = training.build_training(tool, plate, targets, opts.get("params", {}), root, self.tl,
                                       opts.get("provider", "auto"))
        if opts.get("send_to_farm"):  # the farm trains; run the model on the clip once it is done
            self.note(item.GetName(), [self.send_to_farm(plan), "model: " + training.model_folder(plan)])
            yield "sent to the farm"
            return
        state = yield from self.run_job(plan)
        if not self.settle(item.GetName(), plate.warnings, state):
            return
        self.note(item.GetName(), training.result_lines(plan, state))
        runner = batch.model_runner(opts, self.exe)
        fix = training.build_apply(runner, plate, training.model_folder(plan), root, self.tl,
                                   opts.get("provider", "auto"))
        state = yield from self.run_job(fix)
        if self.settle(item.GetName(), [], state):
            self.note(item.GetName(), self.place(item, fix, state, {}))
            yield "done"

    def _labelled(self, choice: str, input_name: str) -> Any:
        other = labelled_items(self.timeline).get(choice)
        if other is None:
            raise batch.missing_input(input_name, choice)
        return other

    def place(self, item: Any, plan: jobs.JobPlan, state: Any, extras: Dict[str, Any]) -> List[str]:
        """Bring a finished job's outputs back: take or track, clip matte, bin, CDL, markers. Returns notes."""
        notes: List[str] = []
        pool = self.project.GetMediaPool()
        tool = plan.description
        for step in results.placement_steps(plan, state.artifacts, results.placement_of(tool, self.options)):
            action = step["action"]
            if action == "note":
                notes.append(step["text"])
            elif action == "markers":
                markers, line = results.continuity_plan(plan, state.artifacts, extras)
                last = results.marker_limit(item.GetEnd(), self.timeline.GetStartFrame())
                notes += add_markers(self.timeline, markers, last) + [line]
            elif action == "matte":
                notes.append(results.placed_line(step, attach_matte(
                    self.resolve.GetMediaStorage(), pool, item.GetMediaPoolItem(), step["pattern"], step["first"],
                    step["last"])))
            else:
                mpi = import_sequence(pool, step["pattern"], step["first"], step["last"], step["fps"], step["note"])
                if action == "take":
                    notes.append(results.placed_line(step, add_take(item, mpi, step["start"], step["end"])))
                elif action == "track":
                    add_on_new_track(self.timeline, pool, item, mpi, step["start"], step["end"])
                    notes.append(results.placed_line(step, item.GetStart()))
                else:
                    notes.append(results.placed_line(step))
        notes += results.artifact_lines(tool, state.artifacts)
        node = results.cdl_node(tool, self.options, state.artifacts)
        if node is not None:
            apply_cdl(item, results.read_cdl(results.cdl_file(tool, state.artifacts), node))
            notes.append(results.cdl_line(node))
        return notes
