"""Headless run for the free version's Lua stubs: item facts (JSON) in, a job run by the worker, one result line out.

Usage: python -m matchcut_resolve.freerun FACTS.json  (FACTS: {"tool", "timeline", "item", "previous"}).
The last lines on stdout are "matchcut-result-status: done|error|cancelled", "matchcut-result-message: ...",
"matchcut-result-path: ..." (for the Lua stubs) and then JSON: {"matchcut_resolve": 1, "status", "message",
"folder", "outputs", "artifacts", "warnings", "exit_code", "kinds", "primary", "artifact_names"}; the exit code
is 0 when the job is done, else the worker's (or 1).
"""

import json
import os
import sys
from typing import Any, Dict, List, Optional

if not __package__:  # run as a file (the Lua stubs): the package's folder goes on the path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from matchcut_resolve import jobs, media, results, settings, widgets
from matchcut_resolve.client import tools, worker


def plan_from_facts(facts: Dict[str, Any], tool: Dict[str, Any], saved: Dict[str, Any],
                    root: Optional[str] = None, models: Optional[List[str]] = None) -> jobs.JobPlan:
    """The job plan for a facts file, with the tool's saved values (Studio dialog) or its defaults.

    The inputs the tool needs from another clip (widgets.neighbour_inputs: a shot match's reference,
    continuity's A) are the previous item on the track; a model-running tool without a saved model takes the
    first of ``models`` (the worker's image models)."""
    name = tool["name"]
    if tools.stands_on_edit(tool):  # coverage: Resolve's timeline export, the new tracks and markers
        raise jobs.JobFailure("{}: works on the whole timeline, which only the Studio scripts export and lay the "
                              "results on (Workspace > Scripts > Edit > Matchcut > {})".format(
                                  widgets.label(tool), widgets.label(tool)))
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
    for second in widgets.neighbour_inputs(tool):
        previous = facts.get("previous")
        if not isinstance(previous, dict):
            raise jobs.JobFailure("{}: needs the previous item on the track as {}; there is none".format(
                name, tools.input_spec(tool, second).get("label") or second))
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
    model = tools.model_param(tool)
    if model and not params.get(model):
        params[model] = saved.get(model) or (models[0] if models else "")
        if not params[model]:
            raise jobs.JobFailure("{}: no model installed to run (see `matchcut models list`)".format(name))
    out_root = root or saved.get("output") or settings.default_output()
    return jobs.build_job(tool, plate, extras, params, out_root, timeline, str(saved.get("provider") or "auto"))


def run_plan(exe: str, plan: jobs.JobPlan, echo: Any = None) -> Dict[str, Any]:
    """Write and run the job (blocking), printing progress to ``echo``; a job whose CDL did not fit runs again
    without it (the frames are kept, so that run only writes the other artifacts)."""
    jobs.write_job(plan)
    state = worker.JobRun(exe, plan.job_path).wait()
    cdl = results.cdl_artifact(plan.description)
    if state.status == "error" and cdl is not None and results.cdl_not_fitting(state.error, cdl["param"]):
        plan.job["params"].pop(cdl["param"], None)
        jobs.write_job(plan)
        note = state.error
        state = worker.JobRun(exe, plan.job_path).wait()
        state.warnings.insert(0, "no CDL: " + str(note))
    if echo is not None:
        for line in state.infos + ["warning: " + w for w in state.warnings]:
            echo(line)
    names = [a["name"] for a in plan.description.get("artifacts") or []]
    return {"matchcut_resolve": 1, "status": state.status, "message": state.error or "", "folder": plan.folder,
            "outputs": plan.outputs, "artifacts": state.artifacts, "warnings": state.warnings,
            "exit_code": state.exit_code or (0 if state.status == "done" else 1),
            "kinds": plan.kinds, "primary": tools.primary_output(plan.description, list(plan.kinds)),
            "artifact_names": names}


def result_path(result: Dict[str, Any]) -> str:
    """What the artist opens: the report, else the primary result (with its frames on disk), and the tool's
    artifacts (a LUT, a CDL)."""
    artifacts, outputs = result.get("artifacts") or {}, result.get("outputs") or {}
    kinds = result.get("kinds") or {}
    for name, kind in kinds.items():
        if kind == "report" and (artifacts.get(name) or outputs.get(name)):
            return str(artifacts.get(name) or outputs[name])
    parts = []
    primary = result.get("primary")
    if primary in outputs:
        frames = media.frames_on_disk(outputs[primary])
        parts.append(outputs[primary] + (" ({}-{})".format(frames[0], frames[-1]) if frames else ""))
    parts += [str(artifacts[k]) for k in result.get("artifact_names") or [] if artifacts.get(k)]
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
        exe = worker.find_worker(str(facts.get("worker") or ""))
        answer = worker.query(exe, ["tools", "--json"])
        described = tools.tools_from(answer)
        mismatch = tools.version_mismatch(tools.installed_record(os.path.dirname(os.path.abspath(__file__))),
                                          answer, "resolve")
        if mismatch:  # installed from another Matchcut than this worker
            print("warning: " + mismatch)
        name = str(facts.get("tool") or "")
        if name not in described:
            raise jobs.JobFailure("no tool {!r} in this worker (available: {}): run `matchcut hosts install "
                                  "resolve` again from the worker environment".format(
                                      name, ", ".join(sorted(described))))
        tool = described[name]
        saved = settings.load(settings.settings_path()).get(name, {})
        models = None
        if tools.model_param(tool) and not saved.get(tools.model_param(tool)):
            models = tools.image_models(worker.query(exe, ["models", "list", "--json"]))
        plan = plan_from_facts(facts, tool, saved, facts.get("output") or None, models)
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
