"""Headless run for the free version's Lua stubs: item facts (JSON) in, a job run by the worker, one result line out.

Usage: python -m matchcut_resolve.freerun FACTS.json  (FACTS: {"tool", "timeline", "item", "previous"}).
The last lines on stdout are "matchcut-result-status: done|error|cancelled", "matchcut-result-message: ...",
"matchcut-result-path: ..." (for the Lua stubs) and then JSON: {"matchcut_resolve": 1, "status", "message",
"folder", "outputs", "artifacts", "warnings", "exit_code"}; the exit code is 0 when the job is done, else the
worker's (or 1).
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List, Optional

if not __package__:  # run as a file (the Lua stubs): the package's folder goes on the path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from matchcut_resolve import jobs, results, settings, widgets, worker

#: Which neighbour a stub uses for a tool's second input: continuity compares the previous item with the current
#: one; shot match takes the previous item as the reference (the shot before the cut).
PREVIOUS_AS = {"continuity": "a", "match": "reference"}


def plan_from_facts(facts: Dict[str, Any], tool: Dict[str, Any], saved: Dict[str, Any],
                    root: Optional[str] = None) -> jobs.JobPlan:
    """The job plan for a facts file, with the tool's saved values (Studio dialog) or its defaults."""
    name = tool["name"]
    timeline = facts.get("timeline") or {}
    item = facts.get("item")
    if not isinstance(item, dict):
        raise jobs.JobFailure("no timeline item under the playhead: move the playhead onto a video clip")
    handles = int(saved.get("handles") or 0)
    plate = jobs.plan_source(item, timeline, 0 if tool.get("frameless") else handles)
    if plate.needs_render:
        raise jobs.JobFailure("{}: {} media cannot be read by Matchcut and the free version cannot render it; "
                              "render the item to EXR, or use the Studio scripts".format(
                                  plate.name, os.path.splitext(plate.pattern)[1] or "this"))
    extras = {}
    second = PREVIOUS_AS.get(name)
    if second:
        previous = facts.get("previous")
        if not isinstance(previous, dict):
            raise jobs.JobFailure("{}: needs the previous item on the track as {}; there is none".format(name, second))
        extra = jobs.plan_source(previous, timeline, 0)
        if extra.needs_render:
            raise jobs.JobFailure("{}: {} cannot be read by Matchcut (render it to EXR first)".format(name, extra.name))
        extras[second] = extra
    specs = widgets.tool_specs(tool)
    params = {}
    for spec in specs:
        if spec["control"] in saved and saved[spec["control"]] is not None:
            params[spec["control"]] = saved[spec["control"]]
        else:
            default = next((c.get("default") for c in tool.get("controls", []) if c["name"] == spec["control"]), None)
            if default is not None:
                params[spec["control"]] = default
    if name == "apply" and not params.get("model"):
        params["model"] = saved.get("model") or "degrain-small"
    out_root = root or saved.get("output") or settings.default_output()
    return jobs.build_job(tool, plate, extras, params, out_root, timeline, str(saved.get("provider") or "auto"))


def run_plan(exe: str, plan: jobs.JobPlan, echo: Any = None) -> Dict[str, Any]:
    """Write and run the job (blocking), printing progress to ``echo``; a shot match whose correction is not a
    CDL runs again without it (the frames are kept, so that run only writes the LUT)."""
    jobs.write_job(plan)
    state = worker.Run(exe, plan.job_path).wait()
    if state.status == "error" and plan.tool == "match" and results.cdl_not_fitting(state.error):
        plan.job["params"].pop("cdl", None)
        jobs.write_job(plan)
        note = state.error
        state = worker.Run(exe, plan.job_path).wait()
        state.warnings.insert(0, "no CDL: " + str(note))
    if echo is not None:
        for line in state.infos + ["warning: " + w for w in state.warnings]:
            echo(line)
    return {"matchcut_resolve": 1, "status": state.status, "message": state.error or "", "folder": plan.folder,
            "outputs": plan.outputs, "artifacts": state.artifacts, "warnings": state.warnings,
            "exit_code": state.exit_code or (0 if state.status == "done" else 1)}


def result_path(result: Dict[str, Any]) -> str:
    """What the artist opens: the report, else the main plate result (with its frames on disk), and any LUT/CDL."""
    from matchcut_resolve import media

    artifacts, outputs = result.get("artifacts") or {}, result.get("outputs") or {}
    if artifacts.get("report"):
        return str(artifacts["report"])
    parts = []
    for name in ("comp", "main", "foreground") + tuple(outputs):
        if name in outputs:
            frames = media.frames_on_disk(outputs[name])
            parts.append(outputs[name] + (" ({}-{})".format(frames[0], frames[-1]) if frames else ""))
            break
    parts += [str(artifacts[k]) for k in ("lut", "cdl") if artifacts.get(k)]
    return "; ".join(parts) or str(result.get("folder") or "")


def main(argv: Optional[List[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    result: Dict[str, Any]
    try:
        with open(args[0], encoding="utf-8") as handle:
            facts = json.load(handle)
        exe = worker.require_worker(str(facts.get("worker") or ""))
        tools = widgets.tools_by_name(worker.run_json(exe, ["tools"]))
        name = str(facts.get("tool") or "")
        if name not in tools:
            raise jobs.JobFailure("no tool {!r} in this worker (available: {})".format(name, ", ".join(sorted(tools))))
        saved = settings.load(settings.settings_path()).get(name, {})
        plan = plan_from_facts(facts, tools[name], saved, facts.get("output") or None)
        for warning in (plan.plate.warnings if plan.plate else []):
            print("warning: " + warning)
        result = run_plan(exe, plan, echo=print)
    except (OSError, ValueError, worker.WorkerError) as exc:
        result = {"matchcut_resolve": 1, "status": "error", "message": " ".join(str(exc).split()), "folder": "",
                  "outputs": {}, "artifacts": {}, "warnings": [], "exit_code": 1}
    print("matchcut-result-status: " + result["status"])
    print("matchcut-result-message: " + result["message"])
    print("matchcut-result-path: " + result_path(result))
    print(json.dumps(result, sort_keys=True))
    sys.stdout.flush()
    return int(result["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
