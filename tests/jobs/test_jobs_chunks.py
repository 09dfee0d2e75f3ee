"""run_job's farm tasks with a temporal tool defined here: a chunk plans the whole job and makes only its own
frames, byte for byte the one-piece run's; the final task writes the artifact once every frame is made."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matchcut.errors import JobError
from matchcut.frames import read_metadata, read_plate, write_plate
from matchcut.jobs import ListSink, job_from_dict, run_job
from matchcut.provenance import HASH_KEY, Provenance
from matchcut.tools import Tool, WorkItem
from matchcut.tools.base import job_frames
from matchcut.tools.description import Artifact, Timing
from matchcut.models.manifest import Control


class SmearTool(Tool):
    """A temporal tool whose output depends on the whole range: frame f is the mean of f-1, f and f+1 (within the
    job), scaled by a gain fitted in prepare() over every frame of the job; finish() writes the gain."""

    name = "smear"
    timing = Timing(handles=1)
    controls = (Control("report", "string", ""),)
    artifacts = (Artifact("report", "report", ".json"),)

    def __init__(self) -> None:
        self.gain = None
        self.prepared = 0

    def plan(self, job):
        frames = job_frames(job)
        out = job.output_path("main").replace("####", "{:04d}")
        return [WorkItem(f, {"plate": [g for g in (f - 1, f, f + 1) if g in frames]}, {"main": Path(out.format(f))})
                for f in frames]

    def prepare(self, job, emit):
        from matchcut.frames import open_source

        source = open_source(job.input_path("plate"))
        self.gain = float(1.0 / np.mean([source.read(f).pixels.mean() for f in job_frames(job)]))
        self.prepared += 1
        emit("info", message=f"gain {self.gain:.3f} over the shot")
        for f in (1002, 1007):  # what a tool finds about single frames (fill: the frames it rebuilds)
            emit("warning", message=f"frame {f} looks odd", frame=f)

    def process(self, item, plates):
        stack = np.mean([p.pixels for p in plates["plate"]], axis=0) * np.float32(self.gain)
        return {"main": plates["plate"][0].with_pixels(stack.astype(np.float32))}

    def finish(self, job, emit):
        path = job.params.get("report")
        if not path:
            return {}
        if self.gain is None:
            self.prepare(job, emit)
        Path(path).write_text(json.dumps({"gain": self.gain}))
        return {"report": path}

    def provenance(self, job):
        return Provenance(tool=self.name, params={"report": bool(job.params.get("report"))})


class ReportTool(SmearTool):
    name = "reporter"
    frameless = True


def _shot(folder: Path) -> None:
    for f in range(1001, 1009):
        pixels = np.random.default_rng(f).random((6, 8, 3), dtype=np.float32) + 0.1 * (f - 1001)
        write_plate(folder / "plates" / f"plate.{f:04d}.exr", pixels, dtype="float")


def _job(folder: Path, out: str, tool: str = "smear"):
    data = {"matchcut_job": 1, "tool": tool, "inputs": {"plate": "plates/plate.####.exr"},
            "outputs": {"main": f"{out}/r.####.exr"}, "frames": "1001-1008", "output_options": {"dtype": "float"},
            "params": {"report": str(folder / out / "report.json")}}
    return job_from_dict(data, folder, where="job.json")


def _frames(folder: Path) -> list[int]:
    return sorted(int(p.name.split(".")[1]) for p in folder.glob("r.*.exr"))


def test_chunks_plan_the_whole_job_and_equal_the_one_piece_run(tmp_path):
    _shot(tmp_path)
    run_job(SmearTool(), _job(tmp_path, "one"), ListSink())
    chunked = _job(tmp_path, "farm")
    tools = []
    for chunk in ([1001, 1002, 1003], [1004, 1005, 1006], [1007, 1008]):
        sink, tool = ListSink(), SmearTool()
        result = run_job(tool, chunked, sink, chunk=chunk)
        tools.append(tool)
        # each chunk writes only its own frames and leaves the artifact to the final task
        assert result.frames_written == len(chunk) and result.artifacts == {}
        assert [e["frame"] for e in sink.of("frame")] == chunk and sink.of("start")[0]["total"] == len(chunk)
        assert _frames(tmp_path / "farm") == list(range(1001, chunk[-1] + 1))
        # the shot's note in every chunk's log, a frame's only in the log of the chunk that makes it
        assert len(sink.of("info")) == 1 and [e["frame"] for e in sink.of("warning")] == [f for f in (1002, 1007)
                                                                                           if f in chunk]
    assert not (tmp_path / "farm" / "report.json").exists()
    for f in range(1001, 1009):
        one, farm = (tmp_path / d / f"r.{f:04d}.exr" for d in ("one", "farm"))
        # frame 1004 reads 1003 (the chunk before) and 1005: the neighbours and the whole-job gain
        assert read_plate(one).pixels.tobytes() == read_plate(farm).pixels.tobytes()
        assert read_metadata(one)[HASH_KEY] == read_metadata(farm)[HASH_KEY]
    final = ListSink()
    result = run_job(SmearTool(), chunked, final, finish_only=True)
    assert result.frames_written == 0 and result.frames_skipped == 8
    assert (tmp_path / "farm" / "report.json").read_text() == (tmp_path / "one" / "report.json").read_text()
    assert final.of("done")[0]["artifacts"] == {"report": str(tmp_path / "farm" / "report.json")}


def test_a_retried_chunk_skips_its_frames_and_a_chunk_never_writes_another_chunks_frames(tmp_path):
    _shot(tmp_path)
    spec = _job(tmp_path, "farm")
    run_job(SmearTool(), spec, ListSink(), chunk=[1001, 1002, 1003, 1004])
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "farm").glob("*.exr")}
    sink, tool = ListSink(), SmearTool()
    result = run_job(tool, spec, sink, chunk=[1001, 1002, 1003, 1004])
    assert result.frames_written == 0 and result.frames_skipped == 4 and tool.prepared == 0  # nothing to redo
    assert all(e["skipped"] for e in sink.of("frame"))
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "farm").glob("*.exr")} == before


def test_the_final_task_before_every_chunk_ran_names_the_frames_not_made(tmp_path):
    _shot(tmp_path)
    spec = _job(tmp_path, "farm")
    run_job(SmearTool(), spec, ListSink(), chunk=[1001, 1002, 1003, 1004])
    with pytest.raises(JobError, match=r"frame\(s\) 1005-1008 are not made yet") as err:
        run_job(SmearTool(), spec, ListSink(), finish_only=True)
    assert "job.json" in str(err.value)
    assert not (tmp_path / "farm" / "report.json").exists()
    with pytest.raises(JobError, match="give one of them"):
        run_job(SmearTool(), spec, ListSink(), chunk=[1005], finish_only=True)


def test_a_chunk_outside_the_plan_warns_and_a_frameless_tool_runs_in_one_piece(tmp_path):
    _shot(tmp_path)
    sink = ListSink()
    result = run_job(SmearTool(), _job(tmp_path, "farm"), sink, chunk=[1201, 1202])
    assert result.frames_written == 0 and not (tmp_path / "farm").exists()
    assert "makes none of these frames (it makes 1001-1008)" in sink.of("warning")[0]["message"]
    with pytest.raises(JobError, match="makes a report, not frames: it runs in one piece"):
        run_job(ReportTool(), _job(tmp_path, "report", tool="reporter"), ListSink(), chunk=[1001])
