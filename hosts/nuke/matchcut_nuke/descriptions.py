"""The worker's descriptions of its tools and models, asked once per session through the shared client, and what
a node and the menu are built from: a tool's description (with its chosen model's controls), knob specs, menu
entries.

Start-up never waits long on the worker: the tools' descriptions are cached on disk per worker build
(client.tools.load_descriptions, under the Nuke cache root), a worker asked anyway gets a few seconds, and a
failure is kept for the session (every node callback gets the same one-line error at once) until the menu's
"Refresh tools" asks again.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from matchcut_nuke import cache, knobs
from matchcut_nuke.client import tools, worker

#: Seconds `matchcut models list/info` may take (asked once a session, when a model-running node is made or a
#: script with one is opened; a healthy worker answers in well under a second).
MODELS_TIMEOUT = 10.0
#: Seconds the "Refresh tools" command waits (the artist asked: a cold worker gets longer than at start-up).
REFRESH_TIMEOUT = 30.0
#: The menu command that asks the worker again.
REFRESH_LABEL = "Refresh tools"

#: This session's tools: "tools" ({name: tool}) and "note" once loaded, or "error" (the exception of a failed
#: load, raised again without asking until ``refresh_descriptions``).
_SESSION: Dict[str, Any] = {}
#: argv (without --json) -> the worker's answer to a models question, or the WorkerError it gave.
_MODELS: Dict[Tuple[str, ...], Any] = {}


def cache_dir() -> str:
    """Where the tools' descriptions are cached: the Nuke cache root ($MATCHCUT_CACHE_DIR/nuke, else
    ~/.cache/matchcut/nuke), beside the nodes' result folders (whose names never hold a dot)."""
    return cache.default_root()


def load_tools(timeout: Optional[float] = None, refresh: bool = False) -> Dict[str, Dict[str, Any]]:
    """The worker's tools as {name: tool}, once per session: from the disk cache when the worker is unchanged,
    else asked with ``timeout`` seconds (default client.tools.STARTUP_TIMEOUT); ``refresh`` asks again. Raises
    worker.WorkerError (one line: no worker, no answer, another description version) when there is no answer
    and nothing cached; that error is raised again, without asking, for the rest of the session."""
    if refresh:
        _SESSION.clear()
    if "tools" in _SESSION:
        return _SESSION["tools"]
    if "error" in _SESSION:
        failed = _SESSION["error"]
        raise type(failed)(str(failed))
    try:
        exe = worker.find_worker()
        answer, note = tools.load_answer(exe, cache_dir(), tools.STARTUP_TIMEOUT if timeout is None else timeout,
                                         refresh=refresh)
        found = tools.tools_from(answer)
    except worker.WorkerError as exc:
        _SESSION["error"] = exc
        raise
    # installed by `matchcut hosts install nuke` from another Matchcut than this worker: one line saying so
    mismatch = tools.version_mismatch(tools.installed_record(os.path.dirname(os.path.abspath(__file__))), answer,
                                      "nuke")
    _SESSION.update(tools=found, note="; ".join(n for n in (mismatch, note) if n))
    return found


def tools_loaded() -> bool:
    """True once this session has the worker's tools (asked or cached)."""
    return "tools" in _SESSION


def refresh_descriptions() -> None:
    """Forget this session's tools, models and failures (the next question asks the worker)."""
    _SESSION.clear()
    _MODELS.clear()


def menu_entries(refresh: bool = False, timeout: Optional[float] = None) -> Tuple[List[Tuple[str, Dict[str, Any]]], str]:
    """The Matchcut menu: (label, tool) per tool, by label, and a one-line message for the script editor ("" when
    all is well: the error of a worker that is missing, hung or of another version, or the note of a stale
    cached answer). Never raises: a broken worker gives an empty menu and its error."""
    try:
        found = load_tools(timeout, refresh)
    except worker.WorkerError as exc:
        return [], "{} (Matchcut > {} asks again)".format(exc, REFRESH_LABEL)
    entries = sorted(((t.get("label") or name, t) for name, t in found.items()), key=lambda e: e[0].lower())
    return entries, _SESSION.get("note", "")


def ask_models(args: List[str]) -> Any:
    """`matchcut ARGS --json` for a models question, once per session (a failure too: a hung worker is waited
    for once). Raises worker.WorkerError with a one-line reason."""
    key = tuple(args)
    if key not in _MODELS:
        try:
            _MODELS[key] = worker.query(worker.find_worker(), list(args) + ["--json"], timeout=MODELS_TIMEOUT)
        except worker.WorkerError as exc:
            _MODELS[key] = exc
    answer = _MODELS[key]
    if isinstance(answer, worker.WorkerError):
        raise type(answer)(str(answer))
    return answer


def model_manifest(model: str) -> Dict[str, Any]:
    """`matchcut models info MODEL --json`; an uninstalled model gives no controls rather than an error, so a
    script opened where the model is missing still opens (Process then shows the worker's error)."""
    try:
        answer = ask_models(["models", "info", model])
    except worker.WorkerError:
        return {"id": model, "controls": []}
    return answer if isinstance(answer, dict) else {"id": model, "controls": []}


def installed_models() -> List[str]:
    """Model ids for a model-running node's menu; none when the worker is missing or fails."""
    try:
        return tools.image_models(ask_models(["models", "list"]))
    except worker.WorkerError:
        return []


def describe_tool(name: str, model: str = "", timeout: Optional[float] = None) -> Dict[str, Any]:
    """The worker's description of tool ``name``; for a tool that runs a chosen model (its ``ui: model``
    control), with ``model``'s manifest controls when a model is given. Raises RuntimeError naming the tools
    the worker has when it lacks ``name``, worker.WorkerError when there are no tools (see ``load_tools``)."""
    found = load_tools(timeout)
    if name not in found:
        raise RuntimeError("the worker has no tool '{}' (it has {})".format(name, ", ".join(sorted(found))))
    tool = found[name]
    if model and tools.model_param(tool):
        tool = knobs.without_taken_controls(tools.with_model_controls(tool, model_manifest(model)))
    return tool


def tool_specs(tool: Dict[str, Any], saved: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    """The knob specs of a tool's controls (less the switches the adapter always sets: a training's resume,
    client tools.host_switches); a model id control is a menu of the installed models (plus the id in ``saved``
    values or the tool when it is not installed here, so the value is not lost)."""
    switches = tools.host_switches(tool)
    specs = knobs.knob_specs([c for c in tool.get("controls", []) if c["name"] not in switches])
    param = tools.model_param(tool)
    if param and any(spec["name"] == param for spec in specs):
        specs = knobs.offer_models(specs, installed_models(), (saved or {}).get(param) or tool.get("model"), param)
    return specs


def pick_model(tool: Dict[str, Any], model: str = "") -> Dict[str, Any]:
    """A new model-running node's description: ``tool`` with the controls of ``model``, or of the first model
    its menu offers when none is given (unchanged when there is none, or the tool runs no chosen model)."""
    param = tools.model_param(tool)
    if not param:
        return tool
    specs = tool_specs(tool, {param: model} if model else {})
    model = model or next((s["default"] for s in specs if s["name"] == param), "")
    return knobs.without_taken_controls(tools.with_model_controls(tool, model_manifest(model))) if model else tool
