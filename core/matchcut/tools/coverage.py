"""The `coverage` tool: find the holes in an edit and offer real coverage for each, from the production's footage.

Input ``timeline`` (an .otio, EDL or FCP XML). Outputs: ``out`` (a folder: each proposal rendered as an image
sequence, and the new timeline ``NAME.coverage.otio`` with the proposals on tracks above; the original is never
touched), ``report`` (index.html and coverage.json; default ``OUT/report``) and optionally ``json``. Frameless:
prepare() finds the holes, builds, renders and ranks the proposals (a frame event per frame rendered, cancel
between frames, frames already rendered with the same provenance kept); finish() writes the timeline and report.
``matchcut.missing_shots`` does the work; this module wires it to a job.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matchcut.errors import JobError, SettingError
from matchcut.models.manifest import Control
from matchcut.tools.base import Emit, Tool, WorkItem
from matchcut.tools.continuity import ContinuityTool, job_path_map
from matchcut.tools.description import Input, Output
from matchcut.tools.fill import QUALITY_CONTROL, FillTool
from matchcut.tools.retime import RetimeTool
from matchcut.vision.upscale import DEFAULT_UPSCALE

if TYPE_CHECKING:
    from matchcut.jobs.spec import JobSpec
    from matchcut.missing_shots.render import Interpolation

#: The timeline's controls, as continuity has them (one declaration).
_SHARED = {c.name: c for c in ContinuityTool.controls if c.name in ("edl_rate", "path_map", "path_map_file")}


def _defaults(tool: type[Tool]) -> dict[str, Any]:
    return {c.name: c.default for c in tool.controls}


def interpolation_for(kind: str, quality: str) -> Interpolation:
    """How a slow (the retime tool's defaults) or a bridge (the fill tool's) makes its in-betweens."""
    from matchcut.missing_shots.render import Interpolation

    d = _defaults(RetimeTool if kind == "slow" else FillTool)
    return Interpolation(d["model"], int(d["ensemble"]), int(d["depth"]), quality)


def split_folders(text: str) -> list[str]:
    """The media folders of the ``media`` control: one per line, or separated by ';'."""
    return [p.strip() for line in (text or "").splitlines() for p in line.split(";") if p.strip()]


class CoverageTool(Tool):
    name = "coverage"
    label = "Coverage"
    category = "edit"
    description = ("Find the holes in an edit (gaps, offline or too-short clips, placeholders) and propose real "
                   "coverage for each from the production's footage: extend, slow, punch-in, bridge.")
    frameless = True
    controls = (
        Control("media", "string", "", label="Media folders",
                help="folders holding the production's footage (other takes, wider set-ups), one per line or "
                     "';'-separated; searched three levels down"),
        Control("max_slowdown", "float", 0.5, min=0.05, max=1.0, label="Slowest speed",
                help="a slow proposal plays no slower than this (0.5: half speed)",
                cli_help="Slowest speed a slow proposal may play at (0.5: half speed)."),
        Control("max_bridge", "int", 8, min=1, max=48, label="Longest bridge",
                help="frames a bridge may interpolate inside one shot", cli_help="Most frames one bridge makes."),
        Control("punch", "float", 0.0, min=0.0, max=8.0, label="Punch-in",
                help="0: the neighbour's own framing cut from a wider take; 1.5: that much closer than the wider "
                     "take, centred on a face when one is found",
                cli_help="0: the neighbour's framing; 1.5: 1.5x closer than the wider take, centred on a face."),
        Control("upscale_model", "string", DEFAULT_UPSCALE, label="Super-resolution model",
                help="the zoo model a punch-in is brought to full resolution with",
                cli_help="Zoo model for punch-ins: waifu2x-photo-2x, waifu2x-cunet-2x or "
                         "realcugan-pro-2x-conservative."),
        Control("marker", "string", "", label="Placeholder marker",
                help="clips with a marker of this name (name:TBD) or colour (colour:RED) are holes too",
                cli_help="Clips with this marker are placeholders: name:TBD, colour:RED or a bare word."),
        Control("range", "string", "", label="Record range", ui="host",
                help="only holes within these record frames, counted from the timeline's start, e.g. 0-120 (a "
                     "host's In/Out range)",
                cli_help="Only holes within these record frames (counted from the timeline's start)."),
        Control("compare", "bool", True, label="Check continuity",
                help="rank proposals with the continuity check at the cuts they make (slower)",
                cli_help="Rank with the continuity check at each new cut."),
        QUALITY_CONTROL,
        _SHARED["edl_rate"],
        _SHARED["path_map"],
        _SHARED["path_map_file"],
    )
    input_specs = (Input("timeline", "edit", required=True, label="Timeline", frames_param="range",
                         help="An .otio, .edl or FCP .xml whose holes to cover."),)
    output_specs = (
        Output("out", "edit", label="Coverage", help="Folder for the rendered proposals and NAME.coverage.otio."),
        Output("report", "report", label="Report",
               help="Folder for index.html and coverage.json (default OUT/report)."),
        Output("json", "json", label="JSON", help="Also write the JSON here (for hosts)."),
    )
    primary_outputs = ("out",)
    inputs = None  # the timeline, checked in check()
    outputs = None

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.stop: threading.Event | None = None
        self.data: dict[str, Any] = {}
        self.pictures: dict[Any, dict] = {}
        self.rendered = 0

    # --- checking -------------------------------------------------------------------------------------------

    def check(self, job: JobSpec) -> None:
        self.values = v = self.params(job)
        if set(job.inputs) != {"timeline"}:
            raise JobError(f"{job.where}: 'inputs'", "tool 'coverage' needs one input, timeline (an .otio, .edl or "
                           f".xml file), got {', '.join(sorted(job.inputs)) or 'none'}")
        unknown = sorted(set(job.outputs) - {"out", "report", "json"})
        if unknown or "out" not in job.outputs:
            raise JobError(f"{job.where}: 'outputs'", "tool 'coverage' writes out (a folder), optionally report and "
                           f"json; got {', '.join(sorted(job.outputs)) or 'none'}")
        out = Path(job.output_path("out"))
        timeline = Path(job.input_path("timeline"))
        for folder in self.media_folders(job):
            inside = Path(os.path.abspath(out))
            if inside == Path(folder) or Path(folder) in inside.parents:
                raise SettingError("out", f"{out} is inside the media folder {folder}: coverage writes new frames "
                                   "and must not mix them with the production's footage; choose another folder")
        if out.exists() and not out.is_dir():
            raise SettingError("out", f"{out} is a file; coverage writes a folder")
        if v["range"]:
            from matchcut.frames import parse_frames

            try:
                parse_frames(v["range"])
            except Exception as exc:
                raise SettingError("range", f"expected record frames like 86400-86520, got {v['range']!r}") from exc
        if not timeline.is_file():
            from matchcut.errors import InputError

            raise InputError(f"{timeline}: no such timeline file")

    def media_folders(self, job: JobSpec) -> list[str]:
        from matchcut.jobs.spec import resolve_job_path

        return [os.path.abspath(resolve_job_path(p, job.base_dir, f"{job.where}: 'params.media'"))
                for p in split_folders(self.values.get("media", ""))]

    def plan(self, job: JobSpec) -> list[WorkItem]:
        self.values = self.values or self.params(job)
        return []

    @property
    def cancel_note(self) -> str:
        return (f"coverage cancelled after {self.rendered} frame(s) rendered; they are kept, and a run of the same "
                "job goes on from there")

    # --- the work -------------------------------------------------------------------------------------------

    def _relink(self, edit, footage, emit: Emit) -> None:
        """Clips whose media is offline in the timeline, found by name in the media folders."""
        from matchcut.missing_shots.takes import named
        from matchcut.timelines.media import Media, check_media

        for clip in edit.clips:
            if not clip.media.offline or clip.generated or not footage:
                continue
            found = named(footage, clip.name)
            if len(found) != 1:
                continue
            media = check_media(Media(found[0].pattern, clip.source[0], clip.source[1], 1, clip.media.written))
            if not media.offline:
                emit("info", message=f"{clip.describe()}: offline in the timeline, found in the media folders as "
                     f"{found[0].pattern}")
                clip.media = media

    def _check_rates(self, edit, emit: Emit) -> None:
        from matchcut.frames.movies import MOVIE_EXTENSIONS, movie_info

        seen = set()
        for clip in edit.clips:
            pattern = clip.media.pattern
            if not pattern or clip.media.offline or pattern in seen:
                continue
            seen.add(pattern)
            if os.path.splitext(pattern)[1].lower() in MOVIE_EXTENSIONS:
                fps = float(movie_info(pattern).fps)
                if abs(fps - edit.rate) > 0.01:
                    emit("warning", message=f"{pattern}: the movie runs at {fps:g} fps, the timeline at "
                         f"{edit.rate:g}: its own frames are used, one per record frame")

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        from matchcut.frames import parse_frames
        from matchcut.missing_shots.holes import MarkerRule, find_holes
        from matchcut.missing_shots.proposals import Limits, build
        from matchcut.missing_shots.shots import sides_of
        from matchcut.missing_shots.takes import index_media
        from matchcut.timelines import read_edit

        v = self.values or self.params(job)
        self.values, self.pictures, self.rendered = v, {}, 0
        path = job.input_path("timeline")
        edit = read_edit(path, rate=float(v["edl_rate"]), paths=job_path_map(v, job))
        for message in edit.warnings:
            emit("warning", message=message)
        folders = self.media_folders(job)
        footage = index_media(folders)
        self._relink(edit, footage, emit)
        self._check_rates(edit, emit)
        holes = find_holes(edit, MarkerRule.parse(v["marker"]) if v["marker"] else None)
        if v["range"]:
            wanted = set(parse_frames(v["range"]))
            holes = [h for h in holes if h.record[0] in wanted or h.record[1] in wanted]
        if folders and not footage:
            raise SettingError("media", f"no footage (image sequences, stills or movies) in {', '.join(folders)}")
        if folders:
            self._check_names(edit, holes, footage)
        limits = Limits(float(v["max_slowdown"]), int(v["max_bridge"]), float(v["punch"]), v["upscale_model"])
        emit("info", message=f"{path}: {len(holes)} hole(s) on {len(edit.tracks)} video track(s); "
             f"{len(footage)} clip(s) in the media folders")
        built = []
        for index, hole in enumerate(holes):
            sides = sides_of(hole)
            proposals, refusals, offered = build(index, hole, footage, limits, sides)
            built.append((hole, sides, proposals, refusals, offered))
            emit("info", message=f"hole {index + 1} ({hole.kind}, {hole.frames} frame(s) at "
                 f"{edit.timecode(hole.record[0])}): {len(proposals)} proposal(s)" +
                 "".join(f"; {r.kind}: {r.why}" for r in refusals if r.kind == "any"))
        self._render_all(job, edit, built, emit)

    def _check_names(self, edit, holes, footage) -> None:
        """Media folders that hold none of the clips next to a hole: say which names were looked for."""
        from matchcut.missing_shots.takes import named, scene_of

        names = sorted({c.name for h in holes for c in (h.before, h.after, h.clip) if c is not None})
        scenes = {scene_of(n) for n in names}
        if names and not any(named(footage, n) for n in names) and not any(f.scene in scenes for f in footage):
            shown = ", ".join(f"'{n}'" for n in names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            raise SettingError("media", f"the media folders hold no clip named like the shots around the holes "
                               f"(looked for {shown} and their scenes' other takes); found "
                               f"{', '.join(f.name for f in footage[:6])}{' ...' if len(footage) > 6 else ''}")

    def _render_all(self, job: JobSpec, edit, built, emit: Emit) -> None:
        from matchcut.missing_shots.ranking import measure_punch, score
        from matchcut.missing_shots.render import render
        from matchcut.missing_shots.shots import thumbnail

        out = Path(job.output_path("out"))
        total = sum(len(p.frames) for _, _, proposals, _, _ in built for p in proposals)
        index, started = 0, time.monotonic()
        base = self.provenance(job)
        holes_data = []
        for hole_index, (hole, sides, proposals, refusals, offered) in enumerate(built):
            self.pictures[hole_index + 1] = {w: thumbnail(s.edge_plate, 240) for w, s in sides.items()}
            self.pictures[hole_index + 1]["names"] = {w: s.name for w, s in sides.items()}
            entries = []
            for p in proposals:
                if self.stop is not None and self.stop.is_set():
                    return
                interpolation = interpolation_for(p.kind, self.values["quality"])

                def on_frame(k: int, what: str, p=p) -> None:
                    nonlocal index
                    index += 1
                    self.rendered += 1
                    emit("frame", frame=p.record[0] + k, index=index,
                         total=total, fraction=round(index / max(total, 1), 6), outputs=[str(out / p.id)],
                         skipped=what == "kept from an earlier run", seconds=round(time.monotonic() - started, 3))

                prov = base.with_sources([], proposal=p.id)
                model_prov = self._model_provenance(p, interpolation)
                rendered = render(p, out / p.id, model_prov or prov, interpolation=interpolation,
                                  upscale_model=self.values["upscale_model"], device=job.device, on_frame=on_frame,
                                  on_warning=lambda m: emit("warning", message=m), stop=self.stop)
                if self.stop is not None and self.stop.is_set():
                    return
                if p.kind == "punch-in":
                    measure_punch(p, self._first_source(p), job.device)
                ends = self._ends(rendered)
                s = score(p, ends, sides, check_continuity=bool(self.values["compare"]), device=job.device)
                self.pictures[p.id] = rendered.thumbs
                entries.append(self._proposal_dict(p, rendered, s))
            entries.sort(key=lambda e: -e["score"])
            for rank, e in enumerate(entries):
                e["rank"], e["enabled"] = rank + 1, rank == 0
            holes_data.append(self._hole_dict(hole_index, hole, edit, entries, refusals))
            holes_data[-1]["sides"] = {w: {"clip": s.name, "frame": s.edge_frame, "pattern": s.pattern,
                                           "handles": offered[w]["frames"], "handles_end": offered[w]["why"]}
                                       for w, s in sides.items()}
        self.data = {"timeline": job.input_path("timeline"), "edit": edit.name, "rate": edit.rate,
                     "holes": holes_data, "warnings": list(edit.warnings), "summary": self._summary(holes_data)}

    def _model_provenance(self, p, interpolation):
        """The job's provenance with the model this proposal runs (RIFE, or the super-resolution model)."""
        from matchcut.models.registry import find_model
        from matchcut.provenance import Provenance
        from matchcut.tools.fill import InterpolatingTool

        model = None
        if p.kind in ("slow", "bridge") and p.synthetic_frames:
            model = InterpolatingTool.run_model({"model": interpolation.model, "quality": interpolation.quality})
        elif p.kind == "punch-in":
            model = self.values["upscale_model"]
        if model is None:
            return None
        manifest = find_model(model)
        base = self._base
        params = {**base.params, "interpolation": vars(interpolation)} if p.kind != "punch-in" else base.params
        return Provenance(base.tool, params, manifest.id, manifest.sha256, extra={**base.extra, "proposal": p.id})

    @staticmethod
    def _first_source(p):
        from matchcut.frames import open_source

        make = p.frames[0]
        return open_source(make.pattern, first_frame=make.origin).read(make.left)

    @staticmethod
    def _ends(rendered) -> dict[str, Any]:
        from matchcut.frames import parse_pattern, read_plate
        from matchcut.missing_shots.shots import INCOMING, OUTGOING

        seq = parse_pattern(rendered.pattern)
        first, last = seq.path_for(rendered.first), seq.path_for(rendered.last)
        if not first.is_file() or not last.is_file():
            return {}
        return {OUTGOING: read_plate(first), INCOMING: read_plate(last)}

    @staticmethod
    def _proposal_dict(p, rendered, s) -> dict:
        return {"id": p.id, "kind": p.kind, "label": p.label, "record": list(p.record),
                "frames": len(p.frames), "synthetic_frames": p.synthetic_frames, "reason": p.reason,
                "source": p.source, "size": list(p.size), "score": s.points, "score_text": s.text,
                "terms": [{"points": round(t, 1), "words": w} for t, w in s.terms], "continuity": s.continuity,
                "cost": {k: v for k, v in p.cost.items()},
                "rendered": {"pattern": rendered.pattern, "first": rendered.first, "last": rendered.last,
                             "kept": rendered.kept}}

    @staticmethod
    def _hole_dict(index: int, hole, edit, entries: list[dict], refusals) -> dict:
        return {"index": index + 1, "track": hole.track, "kind": hole.kind, "record": list(hole.record),
                "record_timecode": edit.timecode(hole.record[0]), "frames": hole.frames, "why": hole.why,
                "before": hole.before.name if hole.before is not None else None,
                "after": hole.after.name if hole.after is not None else None,
                "proposals": entries, "not_applicable": [{"kind": r.kind, "why": r.why} for r in refusals]}

    @staticmethod
    def _summary(holes: list[dict]) -> str:
        made = sum(len(h["proposals"]) for h in holes)
        bare = [h["index"] for h in holes if not h["proposals"]]
        text = f"{len(holes)} hole(s), {made} proposal(s)"
        if bare:
            text += f"; no proposal for hole(s) {', '.join(map(str, bare))}"
        return text if holes else "no holes: every frame of the edit shows a shot"

    def provenance(self, job: JobSpec):
        from matchcut.provenance import Provenance

        values = self.values or self.params(job)
        # what decides a proposal's pixels beyond its frames' sources (those are recorded per frame)
        params = {k: values[k] for k in ("quality", "upscale_model", "punch")}
        self._base = Provenance(tool=self.name, params=params)
        return self._base

    def finish(self, job: JobSpec, emit: Emit) -> dict[str, str]:
        """Write the new timeline beside the original and the report."""
        from matchcut.missing_shots.report import write_report
        from matchcut.missing_shots.timeline import assign_levels, write_timeline

        if not self.data:
            self.prepare(job, emit)
        out = Path(job.output_path("out"))
        timeline = Path(job.input_path("timeline"))
        dest = out / f"{timeline.stem}.coverage.otio"
        assign_levels(self.data["holes"])
        write_timeline(timeline, dest, self.data["holes"], self.data["rate"], edl_rate=float(self.values["edl_rate"]))
        self.data["new_timeline"] = str(dest)
        folder = Path(job.output_path("report")) if "report" in job.outputs else out / "report"
        json_path = Path(job.output_path("json")) if "json" in job.outputs else None
        page, data = write_report(folder, f"Coverage: {timeline.name}", self.data, self.pictures, json_path=json_path)
        emit("info", message=f"summary: {self.data['summary']}; new timeline {dest}")
        return {"timeline": str(dest), "report": str(page), "json": str(data)}
