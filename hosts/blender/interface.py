"""Everything that touches Blender: preferences, the tool operators, progress, and results as strips and images.

The one module that imports bpy. Operators come from the worker's tools description; each builds a job, runs
the worker out of process and brings the result back: modal with a window (a timer drains the events, Esc
cancels), synchronous in background mode. bpy is touched on the main thread only (reader threads fill a queue).
"""

import os

import bpy

from . import edit as edit_files
from . import jobs as job_files
from . import monitor as monitors
from . import strips as strip_math
from . import tools as tool_specs
from .client import coverage as covered
from .client import events
from .client import farm as farms
from .client import jobs as client_jobs
from .client import tools as described
from .client import worker as workers

PACKAGE = __package__
#: tools: the worker's descriptions; classes: the registered tool operators; error: why there are none (one
#: line); note: why they may be stale or incomplete; running: the JobMonitors of modal jobs (stopped if the
#: add-on is disabled mid-job).
_state = {"tools": {}, "classes": [], "error": "", "note": "", "running": []}


# --- preferences -----------------------------------------------------------------------------------------

def prefs(context=None):
    """The add-on's preferences (worker path, device, precision, output folder)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(PACKAGE)
    return addon.preferences if addon else None


class MATCHCUT_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    worker_path: bpy.props.StringProperty(
        name="Worker", subtype="FILE_PATH", default=tool_specs.preset_worker(),  # as `hosts install blender` wrote it
        description="The matchcut executable of the Matchcut environment (empty: MATCHCUT_WORKER, then PATH)")
    device: bpy.props.EnumProperty(
        name="Device", default="AUTO", description="Where the worker runs models",
        items=[("AUTO", "Auto", "The GPU when onnxruntime has one, else the CPU"),
               ("GPU", "GPU", "CUDA; the job fails with a clear message when it is not available"),
               ("CPU", "CPU", "Always the CPU")])
    precision: bpy.props.EnumProperty(
        name="Precision", default="fp32", items=[("fp32", "Full (fp32)", ""), ("fp16", "Half (fp16)", "")])
    output_root: bpy.props.StringProperty(
        name="Results folder", subtype="DIR_PATH", default="//matchcut/",
        description="Where result versions go (// is the .blend file's folder; unsaved files use the temp folder)")
    doctor_report: bpy.props.StringProperty(name="Worker check", default="")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "worker_path")
        row = layout.row()
        row.prop(self, "device")
        row.prop(self, "precision")
        layout.prop(self, "output_root")
        row = layout.row()
        row.operator(MATCHCUT_OT_doctor.bl_idname, icon="CHECKMARK")
        row.operator(MATCHCUT_OT_reload.bl_idname, icon="FILE_REFRESH")
        for line in self.doctor_report.split(" | "):
            if line:
                layout.label(text=line)
        if _state["error"]:
            layout.label(text=_state["error"], icon="ERROR")
        if _state["note"]:
            layout.label(text=_state["note"], icon="INFO")


def worker_path(context=None):
    p = prefs(context)
    return workers.find_worker(p.worker_path if p else "")


def cache_folder():
    """Where the worker's descriptions are kept (tools.cache_folder): the extension's user folder when the
    add-on is an extension."""
    try:
        extension = bpy.utils.extension_path_user(PACKAGE, path="cache", create=True)
    except (ValueError, AttributeError):  # enabled as a legacy add-on, not an extension
        extension = ""
    return tool_specs.cache_folder(extension_folder=extension)


class MATCHCUT_OT_doctor(bpy.types.Operator):
    """Run `matchcut doctor --json` and show what the worker found"""
    bl_idname = "matchcut.doctor"
    bl_label = "Test worker"

    def execute(self, context):
        p = prefs(context)
        try:
            exe = worker_path(context)
            data = workers.query(exe, ["doctor", "--json"])
        except workers.WorkerError as exc:
            if p:
                p.doctor_report = str(exc)
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        lines = workers.doctor_lines(exe, data)
        if p:
            p.doctor_report = " | ".join(lines)
        self.report({"INFO"} if data.get("ok") else {"WARNING"}, "; ".join(lines))
        return {"FINISHED"}


class MATCHCUT_OT_reload(bpy.types.Operator):
    """Ask the worker again which tools and models it has and rebuild the operators"""
    bl_idname = "matchcut.reload_tools"
    bl_label = "Reload tools"

    def execute(self, context):
        unregister_tools()
        register_tools(context, refresh=True)
        if _state["error"]:
            self.report({"ERROR"}, _state["error"])
            return {"CANCELLED"}
        self.report({"INFO"}, "Matchcut tools: %s" % ", ".join(sorted(_state["tools"])))
        return {"FINISHED"}


# --- sources: strips and images ---------------------------------------------------------------------------

def strip_source(strip):
    """A Source for an image-sequence or movie strip; ValueError for any other kind."""
    anim = getattr(strip, "animation_offset_start", 0)
    space = strip.colorspace_settings.name
    if strip.type == "IMAGE":
        folder = bpy.path.abspath(strip.directory)
        names = [e.filename for e in strip.elements]
        use = strip_math.strip_use(names, strip.frame_start, strip.frame_final_start, strip.frame_final_end, anim)
        pattern = strip_math.frame_pattern(names[0])[0] if use.frames[0] is not None else names[0]
        return strip_math.Source(strip.name, os.path.normpath(os.path.join(folder, pattern)), use, space, strip)
    if strip.type == "MOVIE":
        use = strip_math.movie_use(strip.frame_duration, strip.frame_start, strip.frame_final_start,
                                   strip.frame_final_end, anim)
        return strip_math.Source(strip.name, os.path.normpath(bpy.path.abspath(strip.filepath)), use, space, strip)
    raise ValueError("strip '%s' is a %s strip; Matchcut works on image-sequence and movie strips"
                     % (strip.name, strip.type.lower()))


def image_source(image):
    """A Source for an Image Editor image: its file, one frame."""
    path = bpy.path.abspath(image.filepath)
    if not path or image.packed_file is not None:
        raise ValueError("image '%s' has no file on disk to read (save or unpack it first)" % image.name)
    use = strip_math.StripUse([None], 0, 1, 0, 0)
    # results are named after the shot: "still.exr" gives still_apply.exr
    return strip_math.Source(os.path.splitext(image.name)[0], os.path.normpath(path), use, image.colorspace_settings.name)


def selected_sources(context, main_strip):
    """The other selected image and movie strips (the references), in channel order."""
    editor = context.scene.sequence_editor
    others = [s for s in strip_math.all_strips_of(editor)
              if s.select and s != main_strip and s.type in ("IMAGE", "MOVIE")]
    return sorted(others, key=lambda s: (s.channel, s.frame_final_start))


def results_root(context):
    p = prefs(context)
    root = p.output_root if p else "//matchcut/"
    if root.startswith("//") and not bpy.data.filepath:
        # Blender's own temp folder goes when Blender quits; results must outlive the session.
        try:
            return bpy.utils.extension_path_user(PACKAGE, path="results", create=True)
        except (ValueError, AttributeError):  # enabled as a legacy add-on, not an extension
            import tempfile

            return os.path.join(tempfile.gettempdir(), "matchcut-blender")
    return os.path.normpath(bpy.path.abspath(root))


# --- the run: start, progress, finish ---------------------------------------------------------------------

class RunMixin:
    """Shared by every tool operator: build the job, run it (modal or synchronous), bring back the result.

    ``plan`` is the operator's tools.OperatorPlan (the tool's description, its model, its properties).
    """

    plan = None
    tool_name = ""
    model_id = ""
    target = "STRIP"  # or IMAGE

    def values(self, prefixes):
        return {k: getattr(self, k) for k in self.__annotations__ if k.startswith(prefixes)}

    def job_params(self):
        tool = self.plan.tool
        params = tool_specs.params_from(self.plan.controls, self.values(("p_", "use_")))
        model = described.model_param(tool)
        if model and self.model_id:
            params[model] = self.model_id
        lights = tool_specs.light_param(tool)
        if lights and not params.get(lights) and getattr(self, "use_light", False):
            params[lights] = [tool_specs.light_from(self.values(("light_",)))]
        return params

    def prepare(self, context):
        """Build and write the job; returns None or an error message."""
        if self.tool_name not in _state["tools"]:
            return "Matchcut tool '%s' is not offered by the worker any more; reload tools" % self.tool_name
        tool = self.plan.tool
        self._stage, self._trained = "", None
        try:
            self._worker = worker_path(context)
            if described.stands_on_edit(tool):  # coverage: the scene's strips are the edit, no active strip
                return self.prepare_edit(context, tool)
            main, others = self.sources(context, tool)
        except (ValueError, workers.WorkerError) as exc:
            return str(exc)
        p = prefs(context)
        if described.trains(tool):
            return self.prepare_training(context, tool, main, others)
        self._folder = job_files.new_version_folder(results_root(context), main.name, self.tool_name)
        try:
            job, outputs = job_files.plan_job(tool, main, others, self.job_params(), self._folder,
                                              handles=getattr(self, "handles", 0), passes=self.wants_passes(),
                                              artifacts=tool_specs.wanted_artifacts(tool, self.values(("write_",))),
                                              device=p.device if p else "AUTO",
                                              precision=p.precision if p else "fp32")
            self._job_path = job_files.write_job(job, self._folder)
        except (ValueError, OSError) as exc:
            job_files.remove_version_folder(self._folder)
            return str(exc)
        self._tool, self._main, self._others, self._outputs = tool, main, others, outputs
        return None

    def prepare_edit(self, context, tool):
        """A tool that stands on an edit (coverage): the scene's strips written as an edit (edit.edit_document),
        the preview range, when set, as the record frames it covers; its job in a folder of its own
        (jobs.plan_edit), kept when it is cancelled (the frames rendered: running it again carries on). Returns
        None or an error message."""
        scene, p = context.scene, prefs(context)
        editor = scene.sequence_editor
        if editor is None:
            return "the scene has no strips in the Sequencer: nothing to cover"
        try:
            rate = scene.render.fps / scene.render.fps_base
            edit, origin, notes = edit_files.edit_document(scene.name, rate, [strip_facts(s) for s in
                                                                              strip_math.strips_of(editor)],
                                                           channel_facts(editor))
            params = self.job_params()
            param = described.record_range_param(tool)
            if param and scene.use_preview_range and not params.get(param):
                params[param] = edit_files.record_range(scene.frame_preview_start, scene.frame_preview_end, origin)
            job, outputs, folder, edit_path = job_files.plan_edit(
                tool, edit, params, results_root(context), scene.name, device=p.device if p else "AUTO",
                precision=p.precision if p else "fp32")
            job_files.write_edit(edit, edit_path)
            self._job_path = job_files.write_job(job, folder)
        except (ValueError, OSError) as exc:
            return str(exc)
        for note in notes:
            self.report({"WARNING"}, "Matchcut %s: %s" % (self.tool_name, note))
        self._folder, self._edit_folder, self._stage, self._origin = None, folder, "edit", origin
        self._tool, self._main, self._others, self._outputs = tool, None, {}, outputs
        return None

    def prepare_training(self, context, tool, main, others):
        """A tool that trains: its job in the training's own folder (jobs.training_folder), which a cancel or an
        error keeps (its checkpoint: running it again carries on). Returns None or an error message."""
        p = prefs(context)
        try:
            job, outputs, folder = job_files.plan_training(tool, main, others, self.job_params(),
                                                           results_root(context), device=p.device if p else "AUTO",
                                                           precision=p.precision if p else "fp32")
            self._job_path = job_files.write_job(job, folder)
        except (ValueError, OSError) as exc:
            return str(exc)
        self._folder, self._training_folder, self._stage = None, folder, "train"
        self._tool, self._main, self._others, self._outputs = tool, main, others, outputs
        return None

    def start_model_run(self, context, trained):
        """After a training is done (``trained``: its final state): run what it learned on the active strip or
        image with the tool that runs a chosen model, in a version folder of its own (removed if that run does
        not finish; the model stays). Returns None or an error message."""
        runner = described.model_runner(_state["tools"])
        if runner is None:
            return "the worker has no tool that runs a chosen model; reload tools"
        model = self._outputs[described.model_outputs(self._tool, list(self._outputs))[0]]
        p = prefs(context)
        folder = job_files.new_version_folder(results_root(context), self._main.name, self.tool_name)
        try:
            job, outputs = job_files.plan_model_run(_state["tools"][runner], self._main, model, folder,
                                                    device=p.device if p else "AUTO",
                                                    precision=p.precision if p else "fp32")
            self._job_path = job_files.write_job(job, folder)
            run = workers.JobRun(self._worker, self._job_path)
        except (ValueError, OSError, workers.WorkerError) as exc:
            job_files.remove_version_folder(folder)
            return str(exc)
        self._trained, self._stage, self._folder = trained, "run", folder
        self._tool, self._others, self._outputs = _state["tools"][runner], {}, outputs
        self._monitor = monitors.JobMonitor(run, runner, folder)
        return None

    def wants_passes(self):
        """Whether the artist asked for the passes' node group (alone, or in the compositor too)."""
        return getattr(self, "wire_passes", False) or getattr(self, "to_compositor", False)

    def sources(self, context, tool):
        """(main Source, {input name: Source}) from the selection; ValueError says what is missing."""
        names = {spec["name"]: getattr(self, "in_" + spec["name"], "") for spec in described.secondary_inputs(tool)}
        if self.target == "IMAGE":
            image = bpy.data.images.get(self.image) if self.image else getattr(context.space_data, "image", None)
            if image is None:
                raise ValueError("no image: open one in the Image Editor (or name it in the operator)")
            chosen = {}
            for name, chosen_name in names.items():
                if chosen_name:
                    chosen[name] = bpy.data.images.get(chosen_name)
                    if chosen[name] is None:
                        raise ValueError("%s image '%s' not found" % (name, chosen_name))
            others = tool_specs.assign_inputs(tool, chosen, [], "IMAGE")
            return image_source(image), {name: image_source(i) for name, i in others.items()}
        editor = context.scene.sequence_editor
        strip = editor.active_strip if editor else None
        if strip is None:
            raise ValueError("no active strip: click an image-sequence or movie strip in the Sequencer")
        main = strip_source(strip)
        chosen = {}
        for name, chosen_name in names.items():
            if chosen_name:
                chosen[name] = strip_math.all_strips_of(editor).get(chosen_name)
                if chosen[name] is None:
                    raise ValueError("%s strip '%s' not found" % (name, chosen_name))
        others = tool_specs.assign_inputs(tool, chosen, selected_sources(context, strip), "STRIP", strip.name)
        return main, {name: strip_source(s) for name, s in others.items()}

    # Blender calls invoke for a click in the UI; execute from scripts, and for INVOKE_DEFAULT as well in
    # background mode (it has no event there).
    def invoke(self, context, event):
        if bpy.app.background or self.synchronous or getattr(self, "send_to_farm", False):
            return self.execute(context)  # no event loop: a modal operator would never get a timer
        return self.start_modal(context)

    def submit_to_farm(self, context):
        """Send to farm: write the job and submit it to the chosen farm through the worker instead of running
        it; the farm's job id goes to the status bar and the last result. Nothing is added to the scene: the
        results land in the version folder as the farm writes them."""
        error = self.prepare(context)
        if error:
            self.report({"ERROR"}, error)
            return {"CANCELLED"}
        try:
            answer = farms.submit(self._worker, self._job_path, self.farm)
        except (ValueError, workers.WorkerError) as exc:
            job_files.remove_version_folder(self._folder)
            _remember(context, "error: " + str(exc))
            self.report({"ERROR"}, "Matchcut %s: %s" % (self.tool_name, exc))
            return {"CANCELLED"}
        line = farms.result_line(answer)
        _remember(context, "farm: " + line)
        # not submitted (the farm's client is not on this machine): the job files stay, with what to run
        level = {"INFO"} if answer["submitted"] else {"WARNING"}
        # a training's: its model folder; a coverage's: its own folder
        where = self._folder or getattr(self, "_training_folder", "") or getattr(self, "_edit_folder", "")
        self.report(level, "Matchcut %s: %s; results in %s" % (self.tool_name, line, where))
        return {"FINISHED"}

    def start_job(self, context):
        """Build the job and start the worker; False (the error reported) when the job cannot be built."""
        error = self.prepare(context)
        if error:
            self.report({"ERROR"}, error)
            return False
        try:
            run = workers.JobRun(self._worker, self._job_path)
        except OSError as exc:  # the worker cannot be started (removed, not executable)
            job_files.remove_version_folder(self._folder)
            self.report({"ERROR"}, "Matchcut %s: the worker did not start: %s" % (self.tool_name, exc))
            return False
        self._monitor = monitors.JobMonitor(run, self.tool_name, self._folder)
        return True

    def start_modal(self, context):
        """Start the worker and return to Blender: a timer drives ``modal``, which follows the job."""
        if not self.start_job(context):
            return {"CANCELLED"}
        _state["running"].append(self._monitor)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.2, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        show_step(context, self._monitor.begin())
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        # the decisions are monitor.JobMonitor's (plain Python); here they are only shown
        step = self._monitor.handle(event.type, event.value)
        show_step(context, step)
        if step.ended:
            return self.end(context)
        return {step.reply}

    def end(self, context):
        state = self._monitor.state
        if self._stage == "train" and state.status == "done":  # trained: now run it on the active strip
            _state["running"].remove(self._monitor)
            error = self.start_model_run(context, state)
            if error is None:
                _state["running"].append(self._monitor)
                show_step(context, self._monitor.begin())
                return {"RUNNING_MODAL"}
            self.stop_showing(context)
            return self.failed(context, error)
        self.stop_showing(context)
        return self.finish(context, state)

    def failed(self, context, error):
        _remember(context, "error: " + error)
        self.report({"ERROR"}, "Matchcut %s: %s" % (self.tool_name, error))
        return {"CANCELLED"}

    def stop_showing(self, context):
        """Remove the timer, the progress and the status line (once)."""
        timer, self._timer = getattr(self, "_timer", None), None
        if timer is not None:
            wm = context.window_manager
            wm.event_timer_remove(timer)
            wm.progress_end()
            _status(context, None)
        if getattr(self, "_monitor", None) in _state["running"]:
            _state["running"].remove(self._monitor)

    def cancel(self, context):
        # Blender ends the modal operator itself (a file loaded, Blender quitting): stop the worker, add nothing
        monitor = getattr(self, "_monitor", None)
        if monitor is not None and monitor.phase != "ended":
            monitor.abort()
            _remember(context, "cancelled")
        self.stop_showing(context)

    def execute(self, context):
        if getattr(self, "send_to_farm", False):
            return self.submit_to_farm(context)
        if not self.start_job(context):
            return {"CANCELLED"}
        self._monitor.wait()  # Ctrl+C on a render farm stops the worker cleanly too
        if self._stage == "train" and self._monitor.state.status == "done":  # trained: now run it
            error = self.start_model_run(context, self._monitor.state)
            if error is not None:
                return self.failed(context, error)
            self._monitor.wait()
        return self.finish(context, self._monitor.state)

    def finish(self, context, state):
        for text in state.warnings:
            self.report({"WARNING"}, "Matchcut %s: %s" % (self.tool_name, text))
        if state.status != "done":  # the monitor has removed the version folder (a training's stays)
            if state.status == "cancelled" and self._stage == "train":
                line = "%s in %s" % (events.progress_text(state, "Matchcut " + self.tool_name),
                                     self._training_folder)
                _remember(context, "cancelled: " + line)
                self.report({"WARNING"}, line)
            elif state.status == "cancelled" and self._stage == "edit":
                line = "Matchcut %s cancelled; nothing was added: the frames rendered are kept in %s, running it " \
                       "again carries on" % (self.tool_name, self._edit_folder)
                _remember(context, "cancelled: " + line)
                self.report({"WARNING"}, line)
            elif state.status == "cancelled":
                _remember(context, "cancelled")
                self.report({"WARNING"}, "Matchcut %s cancelled; nothing was added" % self.tool_name)
            else:
                _remember(context, "error: " + state.error)
                self.report({"ERROR"}, "Matchcut %s: %s" % (self.tool_name, state.error))
            return {"CANCELLED"}
        try:
            added = bring_back(context, self, state)
        except (RuntimeError, ValueError, OSError) as exc:
            _remember(context, "error: " + str(exc))
            self.report({"ERROR"}, "Matchcut %s: the result could not be loaded: %s" % (self.tool_name, exc))
            return {"CANCELLED"}
        if self._trained is not None:  # what the training made, and how it did, before what it made of the shot
            figures = events.result_line(events.training_summary(self._trained))
            added.insert(0, "model %s%s" % (self._training_folder, " (%s)" % figures if figures else ""))
        _remember(context, "done: " + "; ".join(added))
        self.report({"INFO"}, "Matchcut %s: %s" % (self.tool_name, "; ".join(added) or "nothing to add"))
        return {"FINISHED"}


def show_step(context, step):
    """A monitor Step's progress in the window manager's indicator and its line in the status bar."""
    if step.percent is not None:
        context.window_manager.progress_update(step.percent)
    if step.status is not None:
        _status(context, step.status)


def _status(context, text):
    workspace = getattr(context, "workspace", None)
    if workspace is not None:
        workspace.status_text_set(text)


def _remember(context, text):
    context.window_manager.matchcut_last_result = text


# --- results ----------------------------------------------------------------------------------------------

def bring_back(context, op, state):
    """Add what the job wrote: the primary output as a strip (or image), the other frame outputs as pass images
    and their node group, a JSON result's regions as markers, and the report's and artifacts' paths."""
    tool, main = op._tool, op._main
    if described.stands_on_edit(tool):
        return add_coverage_strips(context, op, state)
    added = []
    frames = described.frame_outputs(tool, list(op._outputs))
    primary = described.primary_output(tool, frames)
    op._pass_images = {}
    for name in sorted(frames):
        pattern = op._outputs[name]
        files = strip_math.sequence_files(pattern)
        if not files:
            raise ValueError("the worker reported success but wrote no %s files (%s)" % (name, pattern))
        if name != primary:
            added.append(load_pass_images(op, name, files))
        elif op.target == "IMAGE":
            image = bpy.data.images.load(files[0][1], check_existing=False)
            image.colorspace_settings.name = main.colorspace
            added.append("image '%s'" % image.name)
        else:
            added.append(add_result_strip(context, op, files))
    pass_names = sorted(op._pass_images)
    to_compositor = getattr(op, "to_compositor", False)
    if pass_names and op.wants_passes():
        group = passes_node_group(tool, main.name, {n: op._pass_images[n] for n in pass_names},
                                  main.use.timeline_start)
        added.append("node group '%s'" % group.name)
        if to_compositor:
            added.append(add_to_compositor(context.scene, group))
    for name in [n for n in op._outputs if n not in frames]:
        path = state.artifacts.get(name) or op._outputs[name]
        plans = job_files.read_regions(path) if described.output_kind(tool, name) == "json" else None
        if plans is not None:
            added.append(add_markers(context, op, plans) if op.target == "STRIP" else region_notes(plans))
        elif name in state.artifacts:
            added.append("%s %s" % (name, path))
    labels = {a["name"]: a.get("label") or a["name"] for a in tool.get("artifacts") or []}
    for name, path in sorted(state.artifacts.items()):
        if name not in op._outputs:
            added.append("%s %s" % (labels.get(name, name), path))
    return added


def strip_facts(strip):
    """A strip's numbers as edit.edit_document reads them (plain values; paths absolute)."""
    facts = {"name": strip.name, "type": strip.type, "channel": strip.channel, "frame_start": strip.frame_start,
             "frame_final_start": strip.frame_final_start, "frame_final_end": strip.frame_final_end,
             "anim_offset_start": getattr(strip, "animation_offset_start", 0), "mute": strip.mute}
    if strip.type == "IMAGE":
        facts.update(directory=bpy.path.abspath(strip.directory), files=[e.filename for e in strip.elements])
    elif strip.type == "MOVIE":
        facts.update(filepath=bpy.path.abspath(strip.filepath), frame_duration=strip.frame_duration)
    return facts


def channel_facts(editor):
    """{channel: {"name", "mute"}} of the Sequencer's channels (``editor.channels``, Blender 3.3 and later: index
    n is channel n)."""
    found = {}
    for index, channel in enumerate(getattr(editor, "channels", None) or []):
        if index:
            found[index] = {"name": channel.name, "mute": channel.mute}
    return found


def add_coverage_strips(context, op, state):
    """A coverage's proposals (client coverage.placements) as image strips on the first free channel above their
    hole's channel at their record frame, named by their option and hole; each hole's best plays, the others are
    muted. Nothing of the artist's is moved or changed. Returns the lines the operator reports."""
    data = covered.read_result(state.artifacts.get("json") or op._outputs.get("json"))
    editor = context.scene.sequence_editor
    occupied = [(s.channel, s.frame_final_start, s.frame_final_end) for s in strip_math.strips_of(editor)]
    channels = []
    for placement in covered.placements(data):
        files = [client_jobs.frame_path(placement["pattern"], f)
                 for f in range(placement["first"], placement["first"] + covered.shown_frames(placement))]
        start = op._origin + placement["record"][0]
        end = start + len(files)
        channel = strip_math.free_channel(occupied, placement["track"], start, end)
        # the rendered frames are scene-linear EXRs: Blender's default colour space for EXR reads them so
        strip = strip_math.strips_of(editor).new_image(name=covered.clip_name(placement), filepath=files[0],
                                                       channel=channel, frame_start=start, fit_method="ORIGINAL")
        for path in files[1:]:
            strip.elements.append(os.path.basename(path))
        strip.frame_final_end = end
        strip.mute = not placement["enabled"]
        occupied.append((channel, start, end))
        channels.append(channel)
    lines = [str(data.get("summary") or "")] + [covered.hole_line(h) for h in data.get("holes") or []]
    if channels:
        lines.append("%d strip(s) on channels %d-%d, each hole's best playing, the others muted" % (
            len(channels), min(channels), max(channels)))
    if state.artifacts.get("report"):
        lines.append("report %s" % state.artifacts["report"])
    return [line for line in lines if line]


def add_result_strip(context, op, files):
    """The result as a new image strip above the source, lined up frame for frame, trimmed like it."""
    main = op._main
    editor = context.scene.sequence_editor
    frames = [f for f, _ in files]
    start, before, after = job_files.result_placement(main.use, frames, described.timing(op._tool)["retimes"])
    end = start + len(files)
    occupied = [(s.channel, s.frame_final_start, s.frame_final_end) for s in strip_math.strips_of(editor)]
    channel = strip_math.free_channel(occupied, main.strip.channel, start + before, end - after)
    name = "%s %s" % (main.name, op.tool_name if not op.model_id else op.model_id)
    strip = strip_math.strips_of(editor).new_image(name=name, filepath=files[0][1], channel=channel,
                                                   frame_start=start, fit_method="ORIGINAL")
    for _, path in files[1:]:
        strip.elements.append(os.path.basename(path))
    strip.frame_final_end = end  # elements appended after creation extend the content, not the shown range
    if before:
        strip.frame_offset_start = before
    if after:
        strip.frame_offset_end = after
    try:
        strip.colorspace_settings.name = main.colorspace
    except TypeError:
        pass  # a colour space this Blender's OCIO config lacks: Blender's default for EXR stays
    strip.select = True
    main.strip.select = False
    editor.active_strip = strip
    return "strip '%s' on channel %d, frames %d-%d" % (strip.name, channel, strip.frame_final_start,
                                                      strip.frame_final_end - 1)


def load_pass_images(op, name, files):
    """A pass (normals, matte, shading) loaded as an image (a sequence when it has several frames)."""
    image = bpy.data.images.load(files[0][1], check_existing=False)
    image.name = "%s %s %s" % (op._main.name, op.tool_name, name)
    if len(files) > 1:
        image.source = "SEQUENCE"
    if described.output_kind(op._tool, name) == "plate":
        image.colorspace_settings.name = op._main.colorspace  # a foreground: pixels like the source's
    else:
        image.colorspace_settings.is_data = True  # normals, mattes, shading: numbers, not colours
    op._pass_images[name] = (image, files)
    return "pass image '%s'" % image.name


_SOCKETS = {"VECTOR": "NodeSocketVector", "VALUE": "NodeSocketFloat", "RGBA": "NodeSocketColor"}


def passes_node_group(tool, shot, images, timeline_start):
    """A compositor node group with one output per pass, fed by Image nodes the artist can rewire.

    A multi-layer pass file (relight's N, shading, gain, matte, source) gives one output per layer; a one-channel
    matte gives its Alpha (Blender reads the file's A channel there; RGB is black, or undefined in 5.0.1).
    """
    group = bpy.data.node_groups.new("Matchcut %s %s passes" % (shot, tool["name"]), "CompositorNodeTree")
    out = group.nodes.new("NodeGroupOutput")
    out.location = (400, 0)
    for i, (name, (image, files)) in enumerate(sorted(images.items())):
        node = group.nodes.new("CompositorNodeImage")
        node.image = image
        node.label = name
        node.location = (0, -300 * i)
        if len(files) > 1 and files[0][0] is not None:
            node.frame_duration = len(files)
            node.frame_start = timeline_start
            node.frame_offset = files[0][0] - 1
        layers = [o for o in node.outputs if o.enabled and o.name not in ("Image", "Alpha")]
        # an output of kind matte is one alpha channel: Blender reads such a file into the image's alpha
        alpha = described.output_kind(tool, name) == "matte"
        for socket in layers or [node.outputs["Alpha" if alpha else "Image"]]:
            label = tool_specs.pass_socket_name(socket.name) if layers else name
            # Blender before 5.0 gives a multi-layer EXR's N layer a colour socket: normals are vectors
            kind = "VECTOR" if label == "normals" else socket.type
            group.interface.new_socket(name=label, in_out="OUTPUT", socket_type=_SOCKETS.get(kind,
                                                                                             "NodeSocketColor"))
            group.links.new(socket, out.inputs[label])
    return group


def scene_compositor(scene):
    """The scene's compositor node tree, made when it has none: ``scene.compositing_node_group`` (Blender 5.0+)
    or ``scene.node_tree`` after ``use_nodes`` (4.2-4.5, which adds Render Layers -> Composite itself)."""
    if not hasattr(scene, "compositing_node_group"):
        if not scene.use_nodes:
            scene.use_nodes = True
        return scene.node_tree
    tree = scene.compositing_node_group
    if tree is None:
        # as Blender's own New button does: the render passes through, so switching compositing on changes
        # no render
        tree = bpy.data.node_groups.new("Compositor Nodes", "CompositorNodeTree")
        tree.interface.new_socket(name="Image", in_out="OUTPUT", socket_type="NodeSocketColor")
        layers = tree.nodes.new("CompositorNodeRLayers")
        out = tree.nodes.new("NodeGroupOutput")
        out.location = (400, 0)
        tree.links.new(layers.outputs["Image"], out.inputs["Image"])
        scene.compositing_node_group = tree
    return tree


def add_to_compositor(scene, group):
    """The passes group as a node in the scene's compositor, right of the artist's nodes, its first output on a
    new Viewer; in a frame named after it. Nothing of the artist's is relinked or removed."""
    tree = scene_compositor(scene)
    right = max([n.location.x + n.width for n in tree.nodes if n.parent is None] + [0.0]) + 200
    top = max([n.location.y for n in tree.nodes if n.parent is None] + [0.0])
    frame = tree.nodes.new("NodeFrame")
    frame.label = group.name
    node = tree.nodes.new("CompositorNodeGroup")
    node.node_tree = group
    node.parent = frame
    node.location = (right, top)
    viewer = tree.nodes.new("CompositorNodeViewer")
    viewer.parent = frame
    viewer.location = (right + node.width + 150, top)
    tree.links.new(node.outputs[0], viewer.inputs[0])
    return "compositor nodes '%s' (group, viewer of %s)" % (node.name, node.outputs[0].name)


def region_notes(plans):
    """An Image Editor result's regions (jobs.read_regions) as the report's text (a still has no timeline for
    markers)."""
    return "%d region(s)%s" % (len(plans), (": " + ", ".join(label for _, _, label in plans)) if plans else "")


def add_markers(context, op, plans):
    """Regions (jobs.read_regions) as timeline markers at the active strip's first shown frame (the compared
    frame of shot B), named with the region's note."""
    frame = op._main.use.timeline_start
    markers = context.scene.timeline_markers
    for _, _region, label in plans:
        markers.new(label, frame=frame)
    return "%d marker(s) at frame %d" % (len(plans), frame)


# --- operator classes from the tools description -----------------------------------------------------------

_PROPS = {"bool": "BoolProperty", "int": "IntProperty", "float": "FloatProperty", "string": "StringProperty",
          "enum": "EnumProperty", "color": "FloatVectorProperty", "vector": "FloatVectorProperty"}


def _prop(kind, opts):
    opts = dict(opts)
    if kind == "color":
        opts["subtype"] = "COLOR"
    elif kind == "vector":
        opts["subtype"] = "XYZ"
    return getattr(bpy.props, _PROPS[kind])(**opts)


def operator_class(plan):
    """A new Operator class from a tools.OperatorPlan (one tool, or one model of a model-running tool)."""
    annotations = {pid: _prop(kind, opts) for pid, kind, opts in plan.properties}
    return type("MATCHCUT_OT_" + plan.ident, (RunMixin, bpy.types.Operator), {
        "bl_idname": "matchcut." + plan.ident, "bl_label": plan.label, "bl_description": plan.description,
        "bl_options": {"REGISTER"}, "__annotations__": annotations, "__doc__": plan.description,
        "plan": plan, "tool_name": plan.tool["name"], "model_id": plan.model, "target": plan.target})


def register_tools(context=None, refresh=False):
    """Read the worker's tools (cached per worker: registering never waits long on a slow worker) and the
    models its model-running tools offer, and register an operator per tool (per model) and target. A worker
    that is missing, or of another version, leaves one line in the preferences and the menus, no operators."""
    _state["error"], _state["note"] = "", ""
    try:
        exe = worker_path(context)
        timeout = workers.QUERY_TIMEOUT if refresh else described.STARTUP_TIMEOUT
        catalog = tool_specs.load_catalog(exe, cache_folder(), refresh=refresh, timeout=timeout)
    except workers.WorkerError as exc:
        _state["error"] = str(exc)
        return
    plans, problems = tool_specs.operator_plans(catalog)
    _state["tools"] = catalog.tools
    _state["note"] = "; ".join(([catalog.note] if catalog.note else []) + problems)
    classes = [operator_class(plan) for plan in plans]
    for cls in classes:
        bpy.utils.register_class(cls)
    _state["classes"] = classes


def unregister_tools():
    for cls in reversed(_state["classes"]):
        bpy.utils.unregister_class(cls)
    _state["classes"] = []


def tool_operators(target):
    """The registered tool operators for a menu: [(bl_idname, label)]."""
    return [(c.bl_idname, c.bl_label) for c in _state["classes"] if c.target == target]


def _menu(target):
    def draw(self, context):
        for ident, label in tool_operators(target):
            self.layout.operator(ident, text=label)
        if not _state["classes"]:
            self.layout.label(text=_state["error"] or "no tools: check the worker in the preferences")
    name = "MATCHCUT_MT_" + target.lower()
    return type(name, (bpy.types.Menu,), {"bl_idname": name, "bl_label": "Matchcut", "draw": draw})


MATCHCUT_MT_strip, MATCHCUT_MT_image = _menu("STRIP"), _menu("IMAGE")


def _strip_menu(self, context):
    self.layout.menu(MATCHCUT_MT_strip.bl_idname)


def _image_menu(self, context):
    self.layout.menu(MATCHCUT_MT_image.bl_idname)


_STATIC = (MATCHCUT_AP_preferences, MATCHCUT_OT_doctor, MATCHCUT_OT_reload, MATCHCUT_MT_strip, MATCHCUT_MT_image)


def register():
    for cls in _STATIC:
        bpy.utils.register_class(cls)
    bpy.types.WindowManager.matchcut_last_result = bpy.props.StringProperty(default="")
    bpy.types.SEQUENCER_MT_strip.append(_strip_menu)
    bpy.types.IMAGE_MT_image.append(_image_menu)
    register_tools()


def unregister():
    for monitor in list(_state["running"]):  # disabled mid-job: the worker must not run on unseen
        monitor.abort()
    _state["running"] = []
    bpy.types.IMAGE_MT_image.remove(_image_menu)
    bpy.types.SEQUENCER_MT_strip.remove(_strip_menu)
    unregister_tools()
    del bpy.types.WindowManager.matchcut_last_result
    for cls in reversed(_STATIC):
        bpy.utils.unregister_class(cls)
