"""A node's status: whether its saved result is current, the one-line text it shows, and how it looks in the
graph (the validity Switch passes the result, or the plate while there is no current result)."""
from __future__ import annotations

import os
from typing import Any, Dict, Tuple

from matchcut_nuke import cache
from matchcut_nuke.client import events, jobs, tools

UP_TO_DATE = "up to date"
STALE = "stale \u2014 press Process"
NOT_PROCESSED = "not processed \u2014 press Process"
CANCELLED = "cancelled \u2014 press Process"
#: The status of a node whose job is on the farm and not all written yet (the farm's job id follows).
ON_FARM = "on the farm"
#: The status of a node that trained a model which is on disk (its figures follow).
TRAINED = "trained"
#: Nuke's tile colour (0xRRGGBBAA) of a node with no current result; 0 is Nuke's default colour.
FLAG_COLOUR = 0xCC3333FF


def result_on_disk(result: Dict[str, Any]) -> bool:
    """True when the first file of every output the result names is there and every model folder it names holds
    an exported model, not just a checkpoint (a cleaned cache is no result)."""
    files = result.get("files") or {}
    models = result.get("models") or {}
    return bool(files or models) and all(os.path.exists(path) for path in files.values()) and \
        all(tools.model_ready(folder) for folder in models.values())


def result_complete(result: Dict[str, Any]) -> bool:
    """True when every file of the result is there: each frame first..last of every output pattern (``####``),
    each other output (a report, a JSON file, a folder of an edit's proposals) as it is named."""
    outputs = result.get("outputs") or {}
    first, last = result.get("first"), result.get("last")
    if not outputs or (first is None or last is None) and any("#" in p for p in outputs.values()):
        return False
    for name, pattern in outputs.items():
        if name in (result.get("models") or {}):
            if not tools.model_ready(pattern):  # made at the training's start; complete once exported
                return False
            continue
        paths = [jobs.frame_path(pattern, f) for f in range(int(first), int(last) + 1)] if "#" in pattern else [pattern]
        if not all(os.path.exists(path) for path in paths):
            return False
    return True


def on_farm(saved: Dict[str, Any], key: str) -> bool:
    """True while the job of cache ``key`` was sent to the farm (the Farm button) and not every file of its
    result is written yet."""
    last_run = saved["extra"].get("last_run") or {}
    return last_run.get("status") == "farm" and last_run.get("key") == key and not result_complete(saved["result"])


def is_current(saved: Dict[str, Any], key: str) -> bool:
    """True when the ``saved`` state (state.load_state) holds a result made for cache ``key`` and still on disk
    (a farm's result: once all of it is written)."""
    return (not cache.is_stale(saved["cache_key"], key) and result_on_disk(saved["result"])
            and not on_farm(saved, key))


def assess_result(saved: Dict[str, Any], key: str) -> Tuple[str, bool, str]:
    """(status text, show the result, graph label) for a node whose job has cache ``key`` now: up to date; on the
    farm (its job id; the result shows once the farm wrote all of it); the last run for this key cancelled or
    failed; stale (a result made for other inputs, range or settings is never shown); or not processed."""
    last_run = saved["extra"].get("last_run") or {}
    if on_farm(saved, key):
        return "{}: {}".format(ON_FARM, last_run.get("message", "")), False, "FARM"
    if is_current(saved, key):
        first, last = saved["result"].get("first"), saved["result"].get("last")
        if "training" in saved["result"]:  # the frames it learned from, which may have gaps
            figures = events.result_line(saved["result"]["training"] or {})
            frames = saved["result"].get("corrected") or "{}-{}".format(first, last)
            return "{} (frames {}){}".format(TRAINED, frames, ": " + figures if figures else ""), True, ""
        if first is None:  # an edit's result showing no proposal (a hole with none)
            return UP_TO_DATE, True, ""
        return "{} (frames {}-{})".format(UP_TO_DATE, first, last), True, ""
    if last_run.get("key") == key and last_run.get("status") in ("cancelled", "error"):
        if last_run["status"] == "cancelled":
            said = last_run.get("message")
            return CANCELLED + (" ({})".format(said) if said else ""), False, "CANCELLED"
        return "error: " + str(last_run.get("message", "")), False, "ERROR"
    if saved["cache_key"]:
        return STALE, False, "STALE"
    return NOT_PROCESSED, False, ""


def name_button(text: str, button: str) -> str:
    """A status text naming the node's own button: "press Process" becomes "press Train" on a node that trains."""
    return text.replace("press Process", "press " + button) if button != "Process" else text


def training_label(figures: Dict[str, Any]) -> str:
    """The graph label of a node that trains, from a training's figures (client events.training_summary): its
    step, loss and held-out dB, one a line, so the node itself shows how training goes and went."""
    lines = []
    if figures.get("step") is not None:
        lines.append("step {}/{}".format(figures["step"], figures.get("steps")))
    if figures.get("loss") is not None:
        lines.append("loss {:.3g}".format(figures["loss"]))
    psnr = figures.get("best_psnr") if figures.get("best_psnr") is not None else figures.get("psnr")
    if psnr is not None:
        before = figures.get("psnr_before")
        lines.append("{:.1f} dB".format(psnr) + (" (was {:.1f})".format(before) if before is not None else ""))
    return "\n".join(lines)


def cancelled_training(figures: Dict[str, Any]) -> str:
    """What a cancelled training's node says after "cancelled": where it stopped and that Train carries on."""
    return "stopped at step {}/{}; the last good checkpoint is kept: Train carries on from it".format(
        figures.get("step"), figures.get("steps"))


def first_line(error: Any) -> str:
    """The first line of an exception or message, never empty (an exception may have no message at all)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__ if isinstance(error, BaseException) else "unknown error"


def assess_failure(message: str, waiting: bool) -> Tuple[str, bool, str]:
    """(status text, show the result, graph label) when no job can be planned: ``waiting`` for an input (no flag),
    else an error; the text is the first line of ``message``."""
    return ("waiting: " if waiting else "error: ") + first_line(message), False, "" if waiting else "ERROR"


def choose_look(valid: bool, label: str = "") -> Dict[str, Any]:
    """Knob values that show a node's result (``valid``) or pass the plate through, flagged red and labelled:
    the validity Switch's "which", the node's "tile_color" and "label"."""
    return {"which": 1 if valid else 0, "tile_color": 0 if valid else FLAG_COLOUR, "label": "" if valid else label}
