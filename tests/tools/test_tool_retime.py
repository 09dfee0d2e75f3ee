"""The retime tool end to end: half speed, frame-rate change, cuts, bad settings, the CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from matchcut import color
from matchcut.errors import SettingError
from matchcut.frames import Plate, read_metadata, read_plate, write_plate
from matchcut.jobs import ListSink, job_from_dict, run_job
from matchcut.testing.metrics import psnr
from matchcut.testing.photos import photo as load_photo
from matchcut.testing.sequences import warped_frame
from matchcut.tools.retime import RetimeTool

SIZE = (64, 96)


@pytest.fixture(scope="module")
def img():
    return load_photo("astronaut", colorspace="srgb")


def _write(folder, img, frames=range(1001, 1004), other=None, cut_at=None):
    (folder / "plates").mkdir(exist_ok=True)
    for f in frames:
        source = other if cut_at is not None and f >= cut_at else img
        display = warped_frame(source, SIZE, 2 * (f - 1001))
        write_plate(folder / "plates" / f"p.{f:04d}.exr",
                    Plate(color.convert(display, color.SRGB_DISPLAY, color.SCENE_LINEAR)), dtype="float")


def _job(folder, frames=None, **params):
    data = {"matchcut_job": 1, "tool": "retime", "inputs": {"plate": "plates/p.####.exr"},
            "outputs": {"main": "out/o.####.exr"}, "frames": frames, "params": params,
            "device": {"provider": "cpu"}, "output_options": {"dtype": "float"}}
    return job_from_dict(data, folder, where="job.json")


@pytest.mark.zoo
def test_half_speed_makes_in_betweens_numbered_from_the_first_frame(tmp_path, img, zoo_model):
    zoo_model("rife-4.25")
    _write(tmp_path, img)
    result = run_job(RetimeTool(), _job(tmp_path, speed=0.5), ListSink())
    assert [p.name for p in result.outputs] == [f"o.{f}.exr" for f in range(1001, 1006)]
    for out, src in ((1001, 1001), (1003, 1002), (1005, 1003)):
        assert np.array_equal(read_plate(tmp_path / f"out/o.{out}.exr").pixels,
                              read_plate(tmp_path / f"plates/p.{src}.exr").pixels)
    made = color.convert(read_plate(tmp_path / "out/o.1002.exr").pixels, color.SCENE_LINEAR, color.SRGB_DISPLAY)
    truth = warped_frame(img, SIZE, 1)
    assert psnr(made, truth) > psnr(0.5 * (warped_frame(img, SIZE, 0) + warped_frame(img, SIZE, 2)), truth) + 3
    meta = read_metadata(tmp_path / "out/o.1002.exr")
    assert "interpolated from frames 1001 and 1002" in meta["matchcut:rebuilt"]
    assert meta["matchcut/rebuilt"] == "1002, 1004"


@pytest.mark.zoo
def test_fps_change_24_to_30(tmp_path, img, zoo_model):
    zoo_model("rife-4.25")
    _write(tmp_path, img, frames=range(1001, 1006))
    result = run_job(RetimeTool(), _job(tmp_path, fps_from=24, fps_to=30), ListSink())
    assert len(result.outputs) == 6  # 4 intervals / 0.8 -> positions 0, 0.8, ..., 4.0
    assert np.array_equal(read_plate(tmp_path / "out/o.1006.exr").pixels, read_plate(tmp_path / "plates/p.1005.exr").pixels)


def test_retime_never_blends_across_a_cut(tmp_path, img):
    _write(tmp_path, img, frames=range(1001, 1005), other=load_photo("coffee", colorspace="srgb"), cut_at=1003)
    sink = ListSink()
    run_job(RetimeTool(), _job(tmp_path, frames="1002-1003", speed=0.5), sink)
    assert [e["frame"] for e in sink.of("warning")] == [1003]
    assert "scene cut between frames 1002 and 1003" in sink.of("warning")[0]["message"]
    assert np.array_equal(read_plate(tmp_path / "out/o.1003.exr").pixels, read_plate(tmp_path / "plates/p.1003.exr").pixels)


def test_speed_or_fps_is_required(tmp_path, img):
    _write(tmp_path, img)
    with pytest.raises(SettingError, match="speed"):
        run_job(RetimeTool(), _job(tmp_path), ListSink())
    with pytest.raises(SettingError, match="either a speed or fps"):
        run_job(RetimeTool(), _job(tmp_path, speed=0.5, fps_from=24, fps_to=25), ListSink())


@pytest.mark.zoo
def test_a_dropped_plate_inside_the_range_is_bridged_with_a_warning(tmp_path, img, zoo_model):
    zoo_model("rife-4.25")
    _write(tmp_path, img, frames=range(1001, 1006))
    (tmp_path / "plates/p.1003.exr").unlink()
    sink = ListSink()
    result = run_job(RetimeTool(), _job(tmp_path, speed=1.0), sink)
    assert [p.name for p in result.outputs] == [f"o.{f}.exr" for f in range(1001, 1006)]
    assert any("source frame(s) 1003 missing" in e["message"] for e in sink.of("warning"))
    made = color.convert(read_plate(tmp_path / "out/o.1003.exr").pixels, color.SCENE_LINEAR, color.SRGB_DISPLAY)
    truth = warped_frame(img, SIZE, 4)  # _write moves two steps a frame
    blend = 0.5 * (warped_frame(img, SIZE, 2) + warped_frame(img, SIZE, 6))
    assert psnr(made, truth) > psnr(blend, truth) + 3
    assert "interpolated from frames 1002 and 1004 at t=0.5000" in read_metadata(tmp_path / "out/o.1003.exr")["matchcut:rebuilt"]


@pytest.mark.zoo
def test_cli_retime_and_the_same_job_through_run(tmp_path, img, zoo_model):
    zoo_model("rife-4.25")
    _write(tmp_path, img)
    proc = subprocess.run([sys.executable, "-m", "matchcut", "retime", "--input", str(tmp_path / "plates/p.####.exr"),
                           "--output", str(tmp_path / "out/o.####.exr"), "--speed", "0.5", "--device", "cpu",
                           "--events", "jsonl"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    done = [json.loads(line) for line in proc.stdout.splitlines()][-1]
    assert done["event"] == "done" and done["frames_written"] == 5
    job = {"matchcut_job": 1, "tool": "retime", "inputs": {"plate": "plates/p.####.exr"},
           "outputs": {"main": "out/o.####.exr"}, "params": {"speed": 0.5}, "device": {"provider": "cpu"},
           "output_options": {"dtype": "float"}}
    (tmp_path / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([sys.executable, "-m", "matchcut", "run", str(tmp_path / "job.json"), "--events", "jsonl"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    done = [json.loads(line) for line in proc.stdout.splitlines()][-1]
    assert done["frames_skipped"] == 5  # the same job and parameters: the CLI's frames are resumed


@pytest.mark.zoo
def test_preview_quality_from_the_cli_marks_its_frames_and_names_the_model_it_ran(tmp_path, img, zoo_model):
    zoo_model("rife-hdv3")
    _write(tmp_path, img)
    proc = subprocess.run([sys.executable, "-m", "matchcut", "retime", "--input", str(tmp_path / "plates/p.####.exr"),
                           "--output", str(tmp_path / "out/o.####.exr"), "--speed", "0.5", "--quality", "preview",
                           "--device", "cpu", "--events", "jsonl"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert any(e["event"] == "info" and "preview quality: rife-hdv3's motion" in e["message"] for e in events)
    meta = read_metadata(tmp_path / "out/o.1002.exr")
    assert meta["matchcut:rebuilt"].endswith("at t=0.5000 (preview quality)")
    assert meta["matchcut/model"].startswith("rife-hdv3") and json.loads(meta["matchcut/params"])["quality"] == "preview"
    made = color.convert(read_plate(tmp_path / "out/o.1002.exr").pixels, color.SCENE_LINEAR, color.SRGB_DISPLAY)
    truth = warped_frame(img, SIZE, 1)
    assert psnr(made, truth) > psnr(0.5 * (warped_frame(img, SIZE, 0) + warped_frame(img, SIZE, 2)), truth) + 3
