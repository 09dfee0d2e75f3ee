"""The worker's descriptions of its tools and models (`matchcut tools/models ... --json`), asked once per session,
and what a node is built from: a tool's description (for the Model node, with its model's controls) and knob specs.
"""
from __future__ import annotations

import json
import subprocess
from typing import Any, Dict, List, Optional, Tuple

from matchcut_nuke import knobs, worker

#: argv (without --json) -> the worker's parsed answer; tools and models do not change while Nuke runs.
_DESCRIPTIONS: Dict[Tuple[str, ...], Any] = {}


def ask_worker(args: List[str]) -> Any:
    """Run `matchcut ARGS --json` and return its parsed stdout, once per session (`refresh_descriptions` forgets
    the answers). Raises RuntimeError when the worker is not found, CalledProcessError/ValueError when it fails."""
    key = tuple(args)
    if key not in _DESCRIPTIONS:
        exe = worker.find_worker()
        if exe is None:
            raise RuntimeError("Matchcut worker not found: set MATCHCUT_WORKER to the matchcut executable")
        _DESCRIPTIONS[key] = json.loads(subprocess.check_output([exe] + args + ["--json"], text=True))
    return _DESCRIPTIONS[key]


def refresh_descriptions() -> None:
    """Forget the cached tool and model descriptions (after installing a model)."""
    _DESCRIPTIONS.clear()


def model_manifest(model: str) -> Dict[str, Any]:
    """`matchcut models info MODEL --json`; an uninstalled model gives no controls rather than an error, so a
    script opened where the model is missing still opens (Process then shows the worker's error)."""
    try:
        return ask_worker(["models", "info", model])
    except (subprocess.CalledProcessError, ValueError):
        return {"id": model, "controls": []}


def installed_models() -> List[str]:
    """Model ids for the Model node's menu; none when the worker is missing or fails."""
    try:
        return knobs.model_choices(ask_worker(["models", "list"]))
    except (subprocess.CalledProcessError, ValueError, RuntimeError):
        return []


def describe_tool(name: str, model: str = "") -> Dict[str, Any]:
    """The worker's description of tool ``name``; for apply (the Model node) with ``model``'s manifest controls
    when a model is given. Raises RuntimeError naming the tools the worker has when it lacks ``name``."""
    tools = knobs.tools_by_name(ask_worker(["tools"]))
    if name not in tools:
        raise RuntimeError("the worker has no tool '{}' (it has {})".format(name, ", ".join(sorted(tools))))
    tool = tools[name]
    if name == "apply" and model:
        tool = knobs.model_tool(tool, model_manifest(model))
    return tool


def tool_specs(tool: Dict[str, Any], saved: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    """The knob specs of a tool's controls; the Model node's model id is a menu of the installed models (plus the
    id in ``saved`` values or the tool when it is not installed here, so the value is not lost)."""
    specs = knobs.knob_specs(tool.get("controls", []))
    if tool["name"] == "apply" and any(spec["name"] == "model" for spec in specs):
        specs = knobs.offer_models(specs, installed_models(), (saved or {}).get("model") or tool.get("model"))
    return specs


def pick_model(tool: Dict[str, Any], model: str = "") -> Dict[str, Any]:
    """A new Model node's description: the apply ``tool`` with the controls of ``model``, or of the first model
    its menu offers when none is given (unchanged when there is none)."""
    specs = tool_specs(tool, {"model": model} if model else {})
    model = model or next(s["default"] for s in specs if s["name"] == "model")
    return knobs.model_tool(tool, model_manifest(model)) if model else tool
