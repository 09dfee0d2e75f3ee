"""The `continuity` tool: flag what changed between two shots (or every cut of an edit); patch a region from A.

Inputs: ``a`` (the reference shot) and ``b`` (the shot compared with it), or ``timeline`` (an .otio, EDL or
FCP XML file). Outputs: ``report`` (a folder: index.html and continuity.json), optional ``json`` (the JSON
elsewhere, for a host), and with ``params.patch`` set: ``main`` (B with the region rebuilt from A) and
``patch`` (the region alone, RGBA premultiplied, for the artist's own comp). Frameless: the comparison runs
in prepare(), the report is written in finish(); only a patch makes frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.errors import JobError, SettingError
from matchcut.models.manifest import Control
from matchcut.tools.base import Emit, Tool, WorkItem
from matchcut.tools.description import Input, Output

if TYPE_CHECKING:
    from matchcut.continuity.timeline import CutPlan
    from matchcut.frames import Plate
    from matchcut.jobs.spec import JobSpec
    from matchcut.paths import PathMap

WORKING = "Linear Rec.709 (sRGB)"
#: Offline sources warned about one by one; the report lists every one.
WARNED = 20


def job_path_map(values: dict[str, Any], job: JobSpec) -> PathMap:
    """A timeline job's path mapping rules (controls path_map and path_map_file, the file relative to the job's
    folder), then $MATCHCUT_PATH_MAP: what every tool on an edit maps its media paths with."""
    from matchcut.jobs.spec import resolve_job_path
    from matchcut.paths import load_path_map, rules_from_text

    text, file = values["path_map"], values["path_map_file"]
    rules = rules_from_text(text, "path_map") if text else []
    where = f"{job.where}: 'params.path_map_file'"
    return load_path_map(rules, [resolve_job_path(file, job.base_dir, where)] if file else [])


class ContinuityTool(Tool):
    name = "continuity"
    label = "Continuity"
    category = "edit"
    description = "Find continuity differences between two shots or across an edit's cuts; patch one from the reference."
    frameless = True
    controls = (
        Control("frames_a", "string", "", label="Frames of A", ui="host",
                help="frames of A to compare, e.g. 1040-1048 (the last one is compared); empty: A's last frame",
                cli_help="Frames of A; the last is compared (default: A's last frame)."),
        Control("frames_b", "string", "", label="Frames of B", ui="host",
                help="frames of B to compare, e.g. 1001-1008 (the first one is compared); empty: B's first frame",
                cli_help="Frames of B; the first is compared (default: B's first frame)."),
        Control("sensitivity", "float", 0.5, min=0.0, max=1.0, label="Sensitivity",
                help="1 flags the faintest differences, 0 only the strongest",
                cli_help="0 to 1; 1 flags the faintest differences."),
        Control("min_area", "float", 0.001, min=0.0, max=0.25, label="Smallest region",
                help="as a fraction of the frame", cli_help="Smallest region, a fraction of the frame."),
        Control("person", "bool", True, label="Person or set", help="tell wardrobe and hair from the set (zoo models)",
                cli_help="Look for a person (wardrobe/hair vs set)."),
        Control("refine", "bool", True, label="Align with depth",
                help="align per pixel, so a scene with depth seen from another camera position (parallax, a "
                     "camera move) lines up; what A cannot see is marked not comparable; off: one homography "
                     "(a flat scene or a locked-off camera)",
                cli_help="Align per pixel with depth (off: one homography)."),
        Control("patch", "int", None, min=1, label="Patch region", ui="followup",
                help="rebuild this region (its number in the report) of B from A; writes outputs main and patch",
                cli_help="Rebuild this region (its number in the report) from A."),
        Control("feather", "float", 0.0, min=0.0, max=500.0, label="Feather (px)",
                help="the patch matte's soft edge; 0: 4 % of the region's size",
                cli_help="Patch matte softness in px (0: 4 % of the region)."),
        Control("colorspace_a", "string", "", label="A colour space", help="OCIO name; empty: from the file",
                ui="colorspace", cli_help="A's OCIO colour space (default: from the file)."),
        Control("colorspace_b", "string", "", label="B colour space", help="OCIO name; empty: from the file",
                ui="colorspace", cli_help="B's OCIO colour space (default: from the file)."),
        Control("edl_rate", "float", 24.0, min=1.0, max=240.0, label="EDL frame rate",
                help="frames per second of an EDL's timecodes (an EDL does not say; .otio and FCP XML do)",
                cli_help="Frames per second of an EDL's timecodes (EDLs do not say)."),
        Control("path_map", "string", "", label="Path map", ui="host",
                help="path mapping rules for a timeline's media, FROM=TO one per line or ';'-separated (e.g. "
                     "S:\\show=/mnt/show); before path_map_file's and $MATCHCUT_PATH_MAP's, the longest FROM wins"),
        Control("path_map_file", "string", "", label="Path map file", ui="host", flag="--map-file",
                help="a file of path mapping rules, one FROM=TO a line ('#' comments); relative to the job's folder",
                cli_help="A file of path mapping rules, one FROM=TO a line ('#' comments)."),
    )
    # B is the shot under review (the host's current one), A the earlier shot it must agree with
    input_specs = (
        Input("a", "shot", required=True, label="A", pick=True, frames_param="frames_a",
              help="Shot A, the reference (e.g. the wide): a sequence, still or movie."),
        Input("b", "main", required=True, label="B", frames_param="frames_b",
              help="Shot B, compared with A (e.g. the close-up)."),
        Input("timeline", "edit", label="Timeline", help="An .otio, .edl or FCP .xml: compare every cut."),
    )
    output_specs = (
        Output("report", "report", label="Report", help="Folder for the HTML report (index.html) and continuity.json."),
        Output("json", "json", label="JSON", help="Also write the JSON here (for hosts)."),
        Output("main", "plate", label="Patched B", needs=("param:patch",), flag="--output",
               help="With --patch: B patched, e.g. out/sh020_fix.####.exr."),
        Output("patch", "pass", label="Patch", needs=("param:patch",), flag="--patch-output",
               help="With --patch: the RGBA patch alone (default: NAME_patch beside --output)."),
    )
    primary_outputs = ("main",)
    inputs = None  # a and b, or timeline: checked in check()
    outputs = None

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.sections: list = []
        self.missing: list[dict] = []
        self.skipped: list[dict] = []
        self.frames: tuple[int, int] | None = None
        self.cut_plan: CutPlan | None = None  # a timeline job's cuts
        self.not_compared: dict[str, int] = {}  # why pairs were not compared: kind -> count
        self.summary: dict = {}

    # --- checking and planning ------------------------------------------------------------------------

    def check(self, job: JobSpec) -> None:
        super().check(job)
        self.values = v = self.params(job)
        names = set(job.inputs)
        if names not in ({"a", "b"}, {"timeline"}):
            raise JobError(f"{job.where}: 'inputs'", "tool 'continuity' needs inputs a and b (two shots) or "
                           f"timeline (an .otio, .edl or .xml file), got {', '.join(sorted(names))}")
        unknown = sorted(set(job.outputs) - {"report", "json", "main", "patch"})
        if unknown or "report" not in job.outputs:
            raise JobError(f"{job.where}: 'outputs'", "tool 'continuity' writes report (a folder), optionally json, "
                           f"and main and patch with params.patch; got {', '.join(sorted(job.outputs))}")
        wants_patch = v["patch"] is not None
        if wants_patch != ({"main", "patch"} <= set(job.outputs)) or (not wants_patch and
                                                                     {"main", "patch"} & set(job.outputs)):
            raise JobError(f"{job.where}: 'outputs'", "params.patch (a region number) goes with outputs main and "
                           "patch, both or neither")
        if wants_patch and "timeline" in names:
            raise SettingError("patch", "patching works on one pair of shots (inputs a and b), not a timeline")

    def _pair_frames(self, job: JobSpec) -> tuple[int, int]:
        from matchcut.frames import open_source, parse_frames

        picked = []
        for name, key, pick in (("a", "frames_a", -1), ("b", "frames_b", 0)):
            text = self.values.get(key) or ""
            if text:
                picked.append(parse_frames(text)[pick])
                continue
            frames = list(open_source(job.input_path(name)).frames)
            if not frames:
                raise JobError(f"{job.where}: 'inputs.{name}'", f"no frames on disk for {job.input_path(name)}")
            picked.append(frames[pick])  # the tail of A against the head of B: the frames either side of the cut
        return picked[0], picked[1]

    def plan(self, job: JobSpec) -> list[WorkItem]:
        from matchcut.frames import parse_pattern

        self.values = self.values or self.params(job)
        if "timeline" in job.inputs:
            return []
        fa, fb = self.frames = self._pair_frames(job)
        if self.values["patch"] is None:
            return []
        outs = {n: Path(parse_pattern(job.output_path(n)).path_for(fb)) for n in ("main", "patch")}
        return [WorkItem(fb, {"a": [fa], "b": [fb]}, outs)]

    # --- the comparison -------------------------------------------------------------------------------

    def _linear(self, plate: Plate, key: str) -> np.ndarray:
        from matchcut.color import convert, default_colorspace, resolve_colorspace

        space = resolve_colorspace(self.values.get(key) or plate.colorspace or default_colorspace(plate.source))
        if not all(c in plate.channels for c in ("R", "G", "B")):
            from matchcut.errors import ShapeMismatchError

            raise ShapeMismatchError(f"{plate.source}: continuity needs R, G and B channels, it has "
                                     f"{', '.join(plate.channels)}")
        return convert(np.ascontiguousarray(plate.rgb), space, WORKING).astype(np.float32)

    def _compare(self, a_path: str, fa: int, b_path: str, fb: int, label: str, job: JobSpec, emit: Emit,
                 origins: tuple[int, int] = (1, 1)):
        """``origins``: the frame number of each movie's first frame (1, as the runner numbers them, for a pair)."""
        from matchcut.continuity.compare import compare
        from matchcut.continuity.report import comparison_dict
        from matchcut.frames import open_source

        pa = open_source(a_path, first_frame=origins[0]).read(fa, nonfinite=job.nonfinite)
        pb = open_source(b_path, first_frame=origins[1]).read(fb, nonfinite=job.nonfinite)
        a, b = self._linear(pa, "colorspace_a"), self._linear(pb, "colorspace_b")
        if (pa.width, pa.height) != (pb.width, pb.height):
            emit("info", message=f"{label}: A is {pa.width}x{pa.height}, B {pb.width}x{pb.height}; A is aligned onto "
                 "B's frame and regions are in B's pixels")
        c = compare(a, b, sensitivity=self.values["sensitivity"], min_area=self.values["min_area"],
                    alignment="depth" if self.values["refine"] else "homography", person=self.values["person"],
                    device=job.device, where=label, warn=lambda m: emit("warning", message=m))
        info = comparison_dict(c, label, pa.source or a_path, pb.source or b_path, fa, fb)
        hidden = info["not_comparable"]
        emit("info", message=f"{label}: {len(c.regions)} region(s) flagged; alignment {c.alignment.inliers} of "
             f"{c.alignment.matches} matches ({c.alignment.stats.get('model', 'homography')}); not comparable: "
             f"{100 * hidden['outside_a']:.0f} % beyond A's frame, {100 * hidden['occluded']:.0f} % hidden from A")
        if c.sharpness.get("note"):
            emit("info", message=f"{label}: {c.sharpness['note']}")
        return c, info, a, b, pb

    def _path_map(self, job: JobSpec) -> PathMap:
        return job_path_map(self.values, job)

    def _timeline(self, job: JobSpec, emit: Emit) -> None:
        """Compare every cut of the timeline; list what is not compared, offline media by file, the summary."""
        from collections import Counter

        from matchcut.continuity.align import AlignmentError
        from matchcut.continuity.report import timeline_summary
        from matchcut.continuity.timeline import plan_cuts
        from matchcut.errors import InputError

        plan = self.cut_plan = plan_cuts(job.input_path("timeline"), rate=float(self.values["edl_rate"]),
                                      paths=self._path_map(job))
        for message in plan.edit.warnings:
            emit("warning", message=message)
        self.missing = [g.to_dict(plan.edit) for g in plan.offline]
        for group in plan.offline[:WARNED]:
            emit("warning", message=f"offline media: {group.message()}")
        if len(plan.offline) > WARNED:
            emit("warning", message=f"offline media: {len(plan.offline) - WARNED} more; the report lists all "
                 f"{len(plan.offline)}")
        self.not_compared = Counter()

        def skip(cut, kind: str, reason: str) -> None:
            self.skipped.append({"label": cut.label, "reason": reason})
            self.not_compared[kind] += 1

        for cut in plan.pairs:
            generated = [s for s in (cut.a, cut.b) if s.generated]
            if not cut.meets:
                seen = f"; seen there: {', '.join(cut.gap.covered_by)}" if cut.gap.covered_by else ""
                skip(cut, "apart", f"not cut together: {cut.gap.describe()} between them{seen}")
            elif generated:
                what = ", ".join(f"'{s.name}' ({s.generated})" for s in generated)
                skip(cut, "generated", f"generated, nothing to compare: {what}")
            elif cut.a.offline or cut.b.offline:
                skip(cut, "offline", "media offline")
            else:
                try:
                    c, info, *_ = self._compare(cut.a.pattern, cut.a.last, cut.b.pattern, cut.b.first, cut.label,
                                                job, emit, origins=(cut.a.origin, cut.b.origin))
                except AlignmentError as exc:
                    skip(cut, "alignment", str(exc))
                    emit("warning", message=str(exc))
                    continue
                except InputError as exc:  # unreadable past its header, no RGB: this cut only
                    skip(cut, "unreadable", str(exc))
                    emit("warning", message=f"{cut.label}: {exc}")
                    continue
                if cut.transition:
                    info["transition"] = cut.transition
                self.sections.append((c, info))
        if not plan.pairs:
            emit("warning", message=f"{job.input_path('timeline')}: no two successive clips on any video track")
        self.summary = timeline_summary(plan, len(self.sections), self.not_compared)
        emit("info", message=f"summary: {self.summary['text']}")

    def prepare(self, job: JobSpec, emit: Emit) -> None:
        """Compare the pair (or every cut of the timeline); keep what the patch and the report need."""
        self.values = self.values or self.params(job)
        self.sections, self.missing, self.skipped, self.cut_plan, self.summary = [], [], [], None, {}
        if "timeline" in job.inputs:
            self._timeline(job, emit)
            return
        fa, fb = self.frames or self._pair_frames(job)
        c, info, *_ = self._compare(job.input_path("a"), fa, job.input_path("b"), fb, "A / B", job, emit)
        self.sections = [(c, info)]

    def process(self, item: WorkItem, plates: dict[str, list[Plate]]) -> dict[str, Plate]:
        """The patch: B with the chosen region rebuilt from A, and the region alone as RGBA."""
        from matchcut.color import convert, default_colorspace, resolve_colorspace
        from matchcut.continuity.patch import patch_region

        c, _ = self.sections[0]
        wanted = self.values["patch"]
        region = next((r for r in c.regions if r.id == wanted), None)
        if region is None:
            raise SettingError("patch", f"no region {wanted} in this comparison",
                               [str(r.id) for r in c.regions])
        a, b = self._linear(plates["a"][0], "colorspace_a"), self._linear(plates["b"][0], "colorspace_b")
        composite, patch = patch_region(a, b, c.alignment, region, c.fit, feather=self.values["feather"])
        pb = plates["b"][0]
        space = resolve_colorspace(self.values.get("colorspace_b") or pb.colorspace or default_colorspace(pb.source))
        pixels = np.array(pb.pixels, dtype=np.float32, copy=True)
        out = convert(composite, WORKING, space)
        for j, ch in enumerate(("R", "G", "B")):
            pixels[..., pb.channels.index(ch)] = out[..., j]
        alpha = patch[..., 3:4]
        # Premultiply in B's own colour space, so the patch comps over B as it is.
        straight = convert(np.ascontiguousarray(patch[..., :3] / np.maximum(alpha, 1e-6)), WORKING, space)
        rgba = np.concatenate([straight * alpha, alpha], -1).astype(np.float32)
        return {"main": pb.with_pixels(pixels),
                "patch": pb.with_pixels(rgba, channels=("R", "G", "B", "A"))}

    def finish(self, job: JobSpec, emit: Emit) -> dict[str, str]:
        """Write the HTML report and the JSON; they are the job's artifacts."""
        from matchcut.continuity.report import timeline_dict, write_report

        if not self.sections and not self.skipped and not self.missing and "timeline" not in job.inputs:
            self.prepare(job, emit)  # a resumed patch job: prepare did not run
        folder = Path(job.output_path("report"))
        json_path = Path(job.output_path("json")) if "json" in job.outputs else None
        title = "Continuity: " + (Path(job.input_path("timeline")).name if "timeline" in job.inputs else
                                  f"{Path(job.input_path('a')).name} / {Path(job.input_path('b')).name}")
        timeline = timeline_dict(self.cut_plan, self.summary) if self.cut_plan is not None else None
        page, data = write_report(folder, title, self.sections, json_path=json_path, missing=self.missing,
                                  skipped=self.skipped, timeline=timeline)
        return {"report": str(page), "json": str(data)}
