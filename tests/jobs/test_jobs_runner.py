"""run_job with small tools defined here, on tiny EXRs: outputs, provenance, resume, checks, cancel, threads."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from matchcut.errors import (
    FrameReadError,
    FrameWriteError,
    JobCancelled,
    JobError,
    MissingFramesError,
    PixelValueError,
    ShapeMismatchError,
    ToolNotFoundError,
)
from matchcut.frames import read_metadata, read_plate, write_plate
from matchcut.jobs import ListSink, job_from_dict, run_job
from matchcut.provenance import HASH_KEY
from matchcut.tools import Tool, get_tool
from matchcut.tools.description import Output


class DoubleTool(Tool):
    """Multiplies every channel by 2 (params are recorded in provenance only)."""

    name = "double"
    inputs = ("plate",)

    def process(self, item, plates):
        plate = plates["plate"][0]
        return {name: plate.with_pixels(plate.pixels * 2.0) for name in item.outputs}


class CancellingTool(DoubleTool):
    """Sets ``event`` while processing frame ``at`` (or sends ``sig`` to this process), to cancel midway;
    first waits (up to 10 s) for ``wait_for`` to exist, so a cancel comes after a frame is on disk."""

    name = "cancelling"
    event: threading.Event | None = None
    sig: int | None = None
    at = 1003
    wait_for: Path | None = None

    def process(self, item, plates):
        if item.frame == self.at:
            deadline = time.monotonic() + 10
            while self.wait_for is not None and not self.wait_for.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            if self.sig is not None:
                os.kill(os.getpid(), self.sig)
            else:
                self.event.set()
        return super().process(item, plates)


class FailingTool(DoubleTool):
    """Raises a MatchcutError while processing frame 1002."""

    name = "failing"

    def process(self, item, plates):
        if item.frame == 1002:
            raise ShapeMismatchError(f"frame {item.frame}: made-up mismatch")
        return super().process(item, plates)


class SplitTool(Tool):
    """Two outputs per frame: the plate times 2 and a one-channel matte."""

    name = "split"
    output_specs = (Output("main", "plate"), Output("matte", "matte"))

    def process(self, item, plates):
        plate = plates["plate"][0]
        return {"main": plate.with_pixels(plate.pixels * 2.0),
                "matte": plate.with_pixels(plate.pixels[..., :1] > 0.5, channels=("A",))}


#: The tools these jobs name; the runner is handed one, as a command hands it the registry's.
TEST_TOOLS = {cls.name: cls for cls in (DoubleTool, CancellingTool, FailingTool, SplitTool)}


def _run(spec, sink, **options):
    return run_job(TEST_TOOLS[spec.tool](), spec, sink, **options)


def _plate_pixels(frame: int) -> np.ndarray:
    rng = np.random.default_rng(frame)
    return rng.random((6, 8, 3), dtype=np.float32)


def _plates(folder: Path, frames, name: str = "plate") -> Path:
    for f in frames:
        write_plate(folder / "plates" / f"{name}.{f:04d}.exr", _plate_pixels(f), dtype="float")
    return folder / "plates"


def _job(folder: Path, tool: str = "double", frames: str | None = "1001-1004", **extra):
    data = {
        "matchcut_job": 1,
        "tool": tool,
        "inputs": {"plate": "plates/plate.####.exr"},
        "outputs": {"main": "out/result.####.exr"},
        "frames": frames,
        "device": {"provider": "cpu"},
        "output_options": {"dtype": "float"},
        **extra,
    }
    return job_from_dict(data, folder, where="job.json")


def _out(folder: Path, frame: int, name: str = "result") -> Path:
    return folder / "out" / f"{name}.{frame:04d}.exr"


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob(".*") if p.is_file()]


def test_runs_every_frame_with_provenance_and_events(tmp_path):
    _plates(tmp_path, range(1001, 1005))
    sink = ListSink()
    result = _run(_job(tmp_path, params={"gain": 2}), sink)
    assert (result.frames_written, result.frames_skipped) == (4, 0)
    assert result.outputs == [_out(tmp_path, f) for f in range(1001, 1005)]
    for f in range(1001, 1005):
        plate = read_plate(_out(tmp_path, f))
        np.testing.assert_array_equal(plate.pixels, _plate_pixels(f) * 2.0)
        meta = read_metadata(_out(tmp_path, f))
        assert meta["matchcut/tool"] == "double"
        assert json.loads(meta["matchcut/params"]) == {"gain": 2}
        assert json.loads(meta["matchcut/source"]) == [str(tmp_path.resolve() / "plates" / f"plate.{f:04d}.exr")]
        assert len(meta[HASH_KEY]) == 64
    start = sink.of("start")[0]
    assert start["job"] == "double" and start["frames"] == [1001, 1004] and start["total"] == 4 and start["time"]
    frames = sink.of("frame")
    assert sorted(e["frame"] for e in frames) == [1001, 1002, 1003, 1004]
    assert [e["index"] for e in frames] == [1, 2, 3, 4]
    assert [e["fraction"] for e in frames] == [0.25, 0.5, 0.75, 1.0]
    assert all(e["skipped"] is False and e["seconds"] >= 0 and len(e["outputs"]) == 1 for e in frames)
    assert sink.events[-1]["event"] == "done" and sink.events[-1]["frames_written"] == 4
    assert _no_temp_files(tmp_path)


def test_resume_skips_finished_frames_and_redoes_stale_ones(tmp_path):
    _plates(tmp_path, range(1001, 1005))
    _run(_job(tmp_path, params={"gain": 2}), ListSink())
    stamps = {f: _out(tmp_path, f).stat().st_mtime_ns for f in range(1001, 1005)}

    sink = ListSink()
    result = _run(_job(tmp_path, params={"gain": 2}), sink)
    assert (result.frames_written, result.frames_skipped) == (0, 4)
    assert all(e["skipped"] for e in sink.of("frame"))
    assert {f: _out(tmp_path, f).stat().st_mtime_ns for f in range(1001, 1005)} == stamps

    # Frame 1002 is made again with other params: its hash no longer matches the first job's.
    _run(_job(tmp_path, frames="1002", params={"gain": 3}), ListSink())
    _out(tmp_path, 1004).unlink()
    sink = ListSink()
    result = _run(_job(tmp_path, params={"gain": 2}), sink)
    assert (result.frames_written, result.frames_skipped) == (2, 2)
    assert sorted(e["frame"] for e in sink.of("frame") if not e["skipped"]) == [1002, 1004]
    assert json.loads(read_metadata(_out(tmp_path, 1002))["matchcut/params"]) == {"gain": 2}

    # Changing the params redoes every frame.
    result = _run(_job(tmp_path, params={"gain": 5}), ListSink())
    assert (result.frames_written, result.frames_skipped) == (4, 0)


def test_missing_input_frames_are_listed_before_anything_is_written(tmp_path):
    _plates(tmp_path, [1001, 1002, 1004, 1006])
    sink = ListSink()
    with pytest.raises(MissingFramesError) as info:
        _run(_job(tmp_path, frames="1001-1006"), sink)
    assert info.value.frames == [1003, 1005]
    assert "missing frame(s) 1003, 1005" in str(info.value)
    assert not (tmp_path / "out").exists()
    assert sink.events == [{"event": "error", "message": str(info.value), "type": "MissingFramesError", "exit_code": 3}]


def test_output_that_is_an_input_is_refused(tmp_path):
    _plates(tmp_path, range(1001, 1003))
    spec = _job(tmp_path, frames="1001-1002")
    spec.outputs = {"main": "plates/plate.####.exr"}
    with pytest.raises(FrameWriteError, match="would overwrite an input"):
        _run(spec, ListSink())
    np.testing.assert_array_equal(read_plate(tmp_path / "plates" / "plate.1001.exr").pixels, _plate_pixels(1001))


def test_output_without_frame_token_for_many_frames_is_refused(tmp_path):
    _plates(tmp_path, range(1001, 1003))
    spec = _job(tmp_path, frames="1001-1002")
    spec.outputs = {"main": "out/single.exr"}
    with pytest.raises(JobError, match="frames 1001 and 1002 would both write"):
        _run(spec, ListSink())


def test_frames_default_to_the_first_input_on_disk_and_handles_widen_a_range(tmp_path):
    _plates(tmp_path, range(1001, 1006))
    assert _run(_job(tmp_path, frames=None), ListSink()).frames_written == 5
    result = _run(_job(tmp_path, frames="1003", handles=1, params={"h": 1}), ListSink())
    assert [p.name for p in result.outputs] == ["result.1002.exr", "result.1003.exr", "result.1004.exr"]


def test_two_outputs_per_frame_each_with_its_kind(tmp_path):
    _plates(tmp_path, [1001])
    spec = _job(tmp_path, tool="split", frames="1001")
    spec.outputs = {"main": "out/result.####.exr", "matte": "out/matte.####.exr"}
    spec.output_options = {"dtype": "half", "compression": None}
    _run(spec, ListSink())
    assert read_metadata(_out(tmp_path, 1001))["compression"] == "piz"
    matte = read_plate(_out(tmp_path, 1001, "matte"))
    assert read_metadata(_out(tmp_path, 1001, "matte"))["compression"] == "zip"
    assert matte.channels == ("A",)
    np.testing.assert_array_equal(matte.pixels[..., 0], (_plate_pixels(1001)[..., 0] > 0.5).astype(np.float32))


class _Item:
    """The part of a WorkItem DoubleTool looks at."""

    def __init__(self, frame):
        self.frame, self.outputs = frame, {"main": None}


def test_threaded_run_equals_a_sequential_run(tmp_path):
    frames = range(1001, 1013)
    _plates(tmp_path, frames)
    _run(_job(tmp_path, frames="1001-1012"), ListSink())
    tool = DoubleTool()
    for f in frames:
        plate = read_plate(tmp_path / "plates" / f"plate.{f:04d}.exr")
        expected = tool.process(_Item(f), {"plate": [plate]})["main"]
        np.testing.assert_array_equal(read_plate(_out(tmp_path, f)).pixels, expected.pixels)


def test_cancel_event_midway_keeps_only_complete_frames(tmp_path, monkeypatch):
    _plates(tmp_path, range(1001, 1009))
    cancel = threading.Event()
    monkeypatch.setattr(CancellingTool, "event", cancel)
    monkeypatch.setattr(CancellingTool, "wait_for", _out(tmp_path, 1001))
    sink = ListSink()
    with pytest.raises(JobCancelled, match="run it again to resume"):
        _run(_job(tmp_path, tool="cancelling", frames="1001-1008"), sink, cancel=cancel)
    written = sorted((tmp_path / "out").glob("*.exr"))
    assert 1 <= len(written) < 8
    assert _no_temp_files(tmp_path)
    for path in written:  # every file there is complete and would be skipped on resume
        assert read_plate(path).pixels.shape == (6, 8, 3)
    assert sink.events[-1] == {"event": "cancelled", "frames_written": len(written)}
    assert not sink.of("done")

    monkeypatch.setattr(CancellingTool, "at", None)
    result = _run(_job(tmp_path, tool="cancelling", frames="1001-1008"), ListSink())
    assert (result.frames_skipped, result.frames_written) == (len(written), 8 - len(written))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_cancels_and_restores_the_previous_handlers(tmp_path, monkeypatch, sig):
    _plates(tmp_path, range(1001, 1007))
    monkeypatch.setattr(CancellingTool, "sig", sig)
    monkeypatch.setattr(CancellingTool, "at", 1002)
    monkeypatch.setattr(CancellingTool, "wait_for", _out(tmp_path, 1001))
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(JobCancelled):
        _run(_job(tmp_path, tool="cancelling", frames="1001-1006"), ListSink(), install_signal_handlers=True)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert 1 <= len(list((tmp_path / "out").glob("*.exr"))) < 6
    assert _no_temp_files(tmp_path)


def test_reader_error_reaches_the_caller_as_itself(tmp_path):
    _plates(tmp_path, range(1001, 1005))
    broken = tmp_path / "plates" / "plate.1003.exr"
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 2])
    sink = ListSink()
    with pytest.raises(FrameReadError, match="plate.1003.exr"):
        _run(_job(tmp_path), sink)
    assert sink.events[-1]["event"] == "error" and sink.events[-1]["type"] == "FrameReadError"
    assert not _out(tmp_path, 1003).exists() and not _out(tmp_path, 1004).exists()
    assert _no_temp_files(tmp_path)


def test_tool_error_stops_the_threads_and_reaches_the_caller(tmp_path):
    _plates(tmp_path, range(1001, 1006))
    sink = ListSink()
    with pytest.raises(ShapeMismatchError, match="frame 1002: made-up mismatch"):
        _run(_job(tmp_path, tool="failing", frames="1001-1005"), sink)
    assert sink.events[-1]["event"] == "error" and sink.events[-1]["exit_code"] == 3
    assert not _out(tmp_path, 1002).exists()
    assert _no_temp_files(tmp_path)
    assert not [t for t in threading.enumerate() if t.name.startswith("matchcut-")]


def test_writer_error_reaches_the_caller_as_itself(tmp_path):
    _plates(tmp_path, range(1001, 1004))
    (tmp_path / "out").write_text("a file where the output folder should be")
    with pytest.raises(FrameWriteError, match="result.1001.exr"):
        _run(_job(tmp_path, frames="1001-1003"), ListSink())


def test_nonfinite_pixels_stop_by_default_and_are_fixed_on_request(tmp_path):
    _plates(tmp_path, [1001, 1003])
    bad = _plate_pixels(1002)
    bad[1, 2, 0] = np.nan
    bad[3, 4, 1] = np.inf
    write_plate(tmp_path / "plates" / "plate.1002.exr", bad, dtype="float")
    with pytest.raises(PixelValueError, match=r"plate\.1002\.exr: frame 1002: 1 pixel\(s\) with NaN and 1 with Inf"):
        _run(_job(tmp_path, frames="1001-1003"), ListSink())

    sink = ListSink()
    _run(_job(tmp_path, frames="1001-1003", nonfinite="fix"), sink)
    warning = sink.of("warning")
    assert len(warning) == 1 and warning[0]["frame"] == 1002
    assert "replaced 2 NaN/Inf value(s) with 0" in warning[0]["message"] and "plate.1002.exr" in warning[0]["message"]
    out = read_plate(_out(tmp_path, 1002)).pixels
    assert np.isfinite(out).all() and out[1, 2, 0] == 0 and out[3, 4, 1] == 0
    assert "matchcut/nonfinite" not in read_metadata(_out(tmp_path, 1002))


def test_unknown_tool_another_tool_and_wrong_input_names(tmp_path):
    _plates(tmp_path, [1001])
    with pytest.raises(ToolNotFoundError, match=r"no tool 'nope' \(available: .*apply"):
        get_tool("nope")  # the lookup is the caller's, before the runner
    sink = ListSink()
    with pytest.raises(JobError, match="job.json: 'tool': the job names tool 'double', it was given tool 'split'"):
        run_job(SplitTool(), _job(tmp_path, frames="1001"), sink)
    assert sink.events[-1]["type"] == "JobError"
    spec = _job(tmp_path, frames="1001")
    spec.inputs = {"source": "plates/plate.####.exr"}
    with pytest.raises(JobError, match="tool 'double' missing plate"):
        _run(spec, ListSink())


def test_finish_artifacts_and_frameless_tools(tmp_path):
    """A tool's finish() runs after the last item; its artifacts reach the done event and the result.
    A frameless tool (a report, no frames) runs prepare and finish with no items."""
    import json

    from matchcut.jobs.events import ListSink
    from matchcut.jobs.runner import run_job
    from matchcut.jobs.spec import JobSpec
    from matchcut.tools.base import Tool

    class ReportTool(Tool):
        name = "report-test"
        frameless = True
        input_specs = output_specs = ()

        def plan(self, job):
            return []

        def prepare(self, job, emit):
            self.seen = "prepared"

        def finish(self, job, emit):
            out = tmp_path / "report.json"
            out.write_text(json.dumps({"state": self.seen}))
            return {"report": out}

    sink = ListSink()
    result = run_job(ReportTool(), JobSpec(tool="report-test", inputs={}, outputs={}, base_dir=tmp_path), sink)
    done = sink.of("done")[0]
    assert done["artifacts"] == {"report": str(tmp_path / "report.json")}
    assert result.artifacts == done["artifacts"] and result.frames_written == 0
    assert json.loads((tmp_path / "report.json").read_text()) == {"state": "prepared"}


def test_a_plate_that_changes_resolution_midway_is_named(tmp_path):
    _plates(tmp_path, range(1001, 1005))
    odd = np.random.default_rng(0).random((7, 8, 3), dtype=np.float32)
    write_plate(tmp_path / "plates" / "plate.1003.exr", odd, dtype="float")
    with pytest.raises(ShapeMismatchError, match=r"plate\.1003\.exr: frame 1003 is 8x7, frame 1001 .* is 8x6"):
        _run(_job(tmp_path), ListSink())
    assert not _out(tmp_path, 1003).exists() and _no_temp_files(tmp_path)
