"""The dialog: a UIManager window per tool built from the worker's description of it, Run, Cancel, progress;
the Scripts menu's entry.

It drives Fusion's UIManager objects that host.dispatcher hands it (it imports no Resolve module itself) and
leaves every Resolve call to host.py.
"""

import os
from typing import Any, Dict, List, Optional, Tuple

from matchcut_resolve import settings, widgets
from matchcut_resolve.client import tools, worker
from matchcut_resolve.errors import HostError
from matchcut_resolve.host import (Batch, EditBatch, connect, context, current_item, dispatcher, labelled_items,
                                   scoped_items)

WINDOW = "MatchcutWin"
TIMER = "MatchcutPoll"


def _widget(ui: Any, spec: Dict[str, Any]) -> Any:
    return getattr(ui, spec["widget"])(dict(spec["props"]))


def build_window(ui: Any, disp: Any, title: str, description: str, specs: List[Dict[str, Any]]) -> Any:
    """A UIManager window: one labelled row per spec, Run/Send to farm/Cancel/Close and a progress label."""
    rows = [ui.Label({"ID": "mc_description", "Text": description, "WordWrap": True})]
    for spec in specs:
        label = "" if spec["widget"] == "CheckBox" else spec["label"]
        rows.append(ui.HGroup({"Weight": 0}, [ui.Label({"Text": label, "ToolTip": spec.get("tooltip", ""),
                                                        "Weight": 0.35}), _widget(ui, spec)]))
    rows.append(ui.HGroup({"Weight": 0}, [ui.Button({"ID": "mc_run", "Text": "Run"}),
                                          ui.Button({"ID": "mc_send", "Text": "Send to farm"}),
                                          ui.Button({"ID": "mc_cancel", "Text": "Cancel", "Enabled": False}),
                                          ui.Button({"ID": "mc_close", "Text": "Close"})]))
    rows.append(ui.Label({"ID": "mc_status", "Text": "ready", "WordWrap": True}))
    win = disp.AddWindow({"ID": WINDOW, "WindowTitle": title, "Geometry": [200, 150, 520, 90 + 32 * len(specs)]},
                         ui.VGroup(rows))
    found = win.GetItems()
    for spec in specs:
        if spec["widget"] == "ComboBox":
            found[spec["id"]].AddItems(list(spec["items"]))
            found[spec["id"]].CurrentIndex = int(spec.get("index", 0))
    return win


def read_values(win: Any, specs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Each spec's raw widget value by id (CurrentText, Checked, Value or Text)."""
    found = win.GetItems()
    attribute = {"ComboBox": "CurrentText", "CheckBox": "Checked", "SpinBox": "Value", "DoubleSpinBox": "Value"}
    return {spec["id"]: getattr(found[spec["id"]], attribute.get(spec["widget"], "Text")) for spec in specs}


def _options(tool: Dict[str, Any], own: List[Dict[str, Any]], specs: List[Dict[str, Any]],
             raw: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(batch options, values to save) from the dialog's raw values."""
    mine = {s["control"]: widgets.parse_value(s, raw[s["id"]]) for s in own}
    params = widgets.params_from_values(specs, raw)
    inputs = {name: mine.pop("input_" + name) for name in widgets.extra_inputs(tool) if "input_" + name in mine}
    options = dict(mine, params=params, inputs=inputs)
    saved = dict(mine, **params)
    saved.update({"input_" + k: v for k, v in inputs.items()})
    return options, saved


def run_dialog(resolve: Any, ui: Any, disp: Any, tool: Dict[str, Any], exe: str, model: str = "",
               note: str = "", described: Optional[Dict[str, Dict[str, Any]]] = None) -> Optional[str]:
    """Show one tool's dialog until closed (``note``: a line its status starts with, instead of "ready";
    ``described``: every tool the worker has, so a training hands its model to the tool that runs one without
    asking again). Returns a model id when the model of a model-running tool changed (the caller opens the
    dialog again with that model's controls), else None."""
    project, timeline = context(resolve)
    path = settings.settings_path()
    saved = settings.load(path).get(tool["name"], {})
    models = None
    model_param = tools.model_param(tool)
    if model_param:
        models = tools.image_models(worker.query(exe, ["models", "list", "--json"]))
        model = model or str(saved.get(model_param) or (models[0] if models else ""))
        saved = dict(saved, **{model_param: model})
        if model:
            tool = tools.with_model_controls(tool, worker.query(exe, ["models", "info", model, "--json"]))
    # the further inputs the tool needs default to the item before the cut (widgets.neighbour_inputs)
    own = widgets.own_specs(tool, saved, [widgets.PREVIOUS] + list(labelled_items(timeline)))
    specs = widgets.tool_specs(tool, saved, models)
    win = build_window(ui, disp, "Matchcut: " + widgets.label(tool), tool.get("description", ""), specs + own)
    found = win.GetItems()
    active: Dict[str, Any] = {"batch": None, "model": None, "route": None}
    timer = None
    try:
        timer = ui.Timer({"ID": TIMER, "Interval": 200})
    except (AttributeError, TypeError):
        timer = None  # an old UIManager: the run blocks the dialog but still reports progress at the end

    def status(text: str) -> None:
        found["mc_status"].Text = text

    if note:
        status(note)

    def finish(batch: Any) -> None:
        if timer is not None:
            timer.Stop()
        active["batch"] = None
        found["mc_run"].Enabled, found["mc_send"].Enabled, found["mc_cancel"].Enabled = True, True, False
        status(batch.outcome() + ("\n" + "\n".join(batch.summary) if batch.summary else ""))

    def on_tick(ev: Any) -> None:
        batch = active["batch"]
        if batch is None:
            return
        text = batch.tick()
        if text is None:
            finish(batch)
        else:
            status(text)

    def route(name: str):
        """A Timeout handler for one registration route. Public Resolve scripts receive a UIManager timer's
        event on the dispatcher's generic disp.On.Timeout, its "who" naming the timer; some register
        disp.On.<ID>.Timeout as well. Both are registered here; the first route that fires is kept, so a
        build that fires both still ticks once per interval."""
        def handler(ev: Any) -> None:
            who = ev.get("who") if isinstance(ev, dict) else getattr(ev, "who", None)
            if who not in (None, TIMER):
                return  # another timer's event
            if active["route"] is None:
                active["route"] = name
            if active["route"] == name:
                on_tick(ev)
        return handler

    def on_run(ev: Any, to_farm: bool = False) -> None:
        if active["batch"] is not None:
            return
        on_edit = tools.stands_on_edit(tool)  # coverage: the whole timeline, not the clips under the playhead
        try:
            options, keep = _options(tool, own, specs, read_values(win, specs + own))
            settings.save(path, tool["name"], keep)
            items = [] if on_edit else scoped_items(timeline, current_item(timeline), options.get("scope", "current"))
        except (HostError, ValueError, OSError) as exc:
            status("error: " + " ".join(str(exc).split()))
            return
        # Send to farm: each item's job goes to the chosen farm (its job id in the summary), nothing runs here
        runner = tools.model_runner(described or {})
        options = dict(options, send_to_farm=to_farm, runner=described[runner] if runner else None)
        if on_edit:
            batch = EditBatch(resolve, project, timeline, tool, options, exe)
            status("{}: timeline {}".format(widgets.label(tool), timeline.GetName()))
        else:
            batch = Batch(resolve, project, timeline, tool, items, options, exe)
            status("{}: {} item(s)".format(widgets.label(tool), len(items)))
        active["batch"] = batch
        found["mc_run"].Enabled, found["mc_send"].Enabled, found["mc_cancel"].Enabled = False, False, True
        if timer is not None:
            timer.Start()
            return
        while True:
            text = batch.tick()
            if text is None:
                break
        finish(batch)

    def on_cancel(ev: Any) -> None:
        if active["batch"] is not None:
            active["batch"].cancel()
            status("cancelling...")

    def on_close(ev: Any) -> None:
        if timer is not None:
            timer.Stop()
        if active["batch"] is not None:  # closing mid-run cancels it (finished frames stay for a resume)
            active["batch"].cancel()
            while active["batch"].tick() is not None:
                pass
            active["batch"] = None
        disp.ExitLoop()

    def on_model(ev: Any) -> None:
        chosen = found[widgets.PARAM_PREFIX + str(model_param)].CurrentText
        if chosen and chosen != model and active["batch"] is None:
            active["model"] = chosen
            disp.ExitLoop()

    win.On.mc_run.Clicked = on_run
    win.On.mc_send.Clicked = lambda ev: on_run(ev, to_farm=True)
    win.On.mc_cancel.Clicked = on_cancel
    win.On.mc_close.Clicked = on_close
    getattr(win.On, WINDOW).Close = on_close
    if models is not None:
        getattr(win.On, widgets.PARAM_PREFIX + str(model_param)).CurrentIndexChanged = on_model
    if timer is not None:
        disp.On.Timeout = route("generic")
        getattr(disp.On, TIMER).Timeout = route("named")
    win.Show()
    disp.RunLoop()
    win.Hide()
    return active["model"]


def pick_tool(ui: Any, disp: Any, described: Dict[str, Dict[str, Any]]) -> Optional[str]:
    """A small window listing the worker's tools by label (any new tool shows up here); the chosen tool's name,
    or None."""
    by_label = {widgets.label(tool): name for name, tool in described.items()}
    names = sorted(by_label)
    win = disp.AddWindow({"ID": "MatchcutPick", "WindowTitle": "Matchcut", "Geometry": [200, 150, 320, 90]},
                         ui.VGroup([ui.ComboBox({"ID": "mc_tool"}),
                                    ui.HGroup([ui.Button({"ID": "mc_open", "Text": "Open"}),
                                               ui.Button({"ID": "mc_close", "Text": "Close"})])]))
    found = win.GetItems()
    found["mc_tool"].AddItems(names)
    chosen: Dict[str, Optional[str]] = {"name": None}

    def on_open(ev: Any) -> None:
        chosen["name"] = by_label.get(found["mc_tool"].CurrentText)
        disp.ExitLoop()

    win.On.mc_open.Clicked = on_open
    win.On.mc_close.Clicked = lambda ev: disp.ExitLoop()
    win.On.MatchcutPick.Close = lambda ev: disp.ExitLoop()
    win.Show()
    disp.RunLoop()
    win.Hide()
    return chosen["name"]


def main(resolve: Any = None, fusion: Any = None, bmd: Any = None, tool_name: Optional[str] = None) -> int:
    """The Scripts menu entry: the dialog of ``tool_name`` (None: a picker first). Returns 0, or 1 on error."""
    try:
        resolve = connect(resolve)
        context(resolve)
        ui, disp = dispatcher(fusion, bmd, resolve)
        exe = worker.find_worker()
        # the worker's own description of its tools; one of another version says which side to update
        answer = worker.query(exe, ["tools", "--json"])
        described = tools.tools_from(answer)
        # installed from another Matchcut than this worker: one line (console and the dialog's status)
        mismatch = tools.version_mismatch(tools.installed_record(os.path.dirname(os.path.abspath(__file__))),
                                          answer, "resolve")
        if mismatch:
            print("Matchcut: " + mismatch)
        if tool_name is None:
            tool_name = pick_tool(ui, disp, described)
            if tool_name is None:
                return 0
        if tool_name not in described:
            raise HostError("the worker has no tool {!r} (it has {}): run `matchcut hosts install resolve` again "
                            "from the worker environment".format(tool_name, ", ".join(sorted(described))))
        model = ""
        while True:
            model = run_dialog(resolve, ui, disp, described[tool_name], exe, model, mismatch, described) or ""
            if not model:
                return 0
    except (HostError, worker.WorkerError) as exc:
        print("Matchcut: " + " ".join(str(exc).split()))
        return 1
