"""The fill tool end to end through the job runner and the CLI, on real EXR sequences written here."""

import json
import subprocess
import sys

import numpy as np
import pytest

from matchcut import color
from matchcut.errors import SettingError, ShapeMismatchError
from matchcut.frames import Plate, read_metadata, read_plate, write_plate
from matchcut.jobs import ListSink, job_from_dict, run_job
from matchcut.testing.metrics import psnr
from matchcut.testing.photos import photo as load_photo
from matchcut.testing.sequences import warped_frame
from matchcut.tools import get_tool

SIZE = (64, 96)


@pytest.fixture(scope="module")
def img():
    return load_photo("astronaut", colorspace="srgb")


def _write(folder, img, frames=range(1001, 1009), edit=None):
    (folder / "plates").mkdir(exist_ok=True)
    for f in frames:
        display = warped_frame(img, SIZE, f - 1001)
        display = edit(f, display) if edit else display
        if display is None:
            continue
        plate = Plate(color.convert(display, color.SRGB_DISPLAY, color.SCENE_LINEAR), metadata={"comment": f"take {f}"})
        write_plate(folder / "plates" / f"p.{f:04d}.exr", plate, dtype="float")


def _job(folder, frames=None, **params):
    data = {"matchcut_job": 1, "tool": "fill", "inputs": {"plate": "plates/p.####.exr"},
            "outputs": {"main": "out/o.####.exr"}, "frames": frames, "params": params,
            "device": {"provider": "cpu"}, "output_options": {"dtype": "float"}}
    return job_from_dict(data, folder, where="job.json")


def _display(path):
    return color.convert(read_plate(path).pixels, color.SCENE_LINEAR, color.SRGB_DISPLAY)


@pytest.mark.zoo
def test_auto_rebuilds_missing_flash_and_corrupt_and_copies_good_frames(tmp_path, img, zoo_model):
    zoo_model("rife-4.25")
    _write(tmp_path, img, edit=lambda f, d: None if f == 1003 else (np.clip(d + 0.6, 0, 1) if f == 1005 else d))
    (tmp_path / "plates" / "p.1006.exr").write_bytes(b"\x76\x2f\x31\x01 broken")
    sink = ListSink()
    result = run_job(get_tool("fill"), _job(tmp_path), sink)
    assert result.frames_written == 8
    infos = {e["frame"]: e["message"] for e in sink.of("info")}
    assert set(infos) == {1003, 1005, 1006}
    assert "missing" in infos[1003] and "flash" in infos[1005] and "unreadable" in infos[1006]
    for f in (1001, 1002, 1004, 1007, 1008):
        out, src = read_plate(tmp_path / f"out/o.{f:04d}.exr"), read_plate(tmp_path / f"plates/p.{f:04d}.exr")
        assert np.array_equal(out.pixels, src.pixels) and out.metadata["comment"] == f"take {f}"
        assert "matchcut:rebuilt" not in out.metadata
    for f in (1003, 1005, 1006):
        meta = read_metadata(tmp_path / f"out/o.{f:04d}.exr")
        assert "interpolated from frames" in meta["matchcut:rebuilt"]
        truth = warped_frame(img, SIZE, f - 1001)
        assert psnr(_display(tmp_path / f"out/o.{f:04d}.exr"), truth) > 24
    assert read_metadata(tmp_path / "out/o.1001.exr")["matchcut/rebuilt"] == "1003, 1005-1006"
    again = run_job(get_tool("fill"), _job(tmp_path), ListSink())  # resume: every frame is already made
    assert again.frames_skipped == 8 and again.frames_written == 0


@pytest.mark.zoo
def test_explicit_list_overrides_detection_and_hdv3_fills_a_run(tmp_path, img, zoo_model):
    zoo_model("rife-hdv3")
    _write(tmp_path, img, edit=lambda f, d: np.clip(d + 0.6, 0, 1) if f == 1002 else d)
    sink = ListSink()
    run_job(get_tool("fill"), _job(tmp_path, repair="1004-1006", model="rife-hdv3"), sink)
    assert sorted(e["frame"] for e in sink.of("info")) == [1004, 1005, 1006]
    assert np.array_equal(read_plate(tmp_path / "out/o.1002.exr").pixels, read_plate(tmp_path / "plates/p.1002.exr").pixels)
    for f in (1004, 1005, 1006):  # t = 0.25, 0.5, 0.75 between 1003 and 1007
        truth = warped_frame(img, SIZE, f - 1001)
        t = (f - 1003) / 4
        d0, d1 = warped_frame(img, SIZE, 2), warped_frame(img, SIZE, 6)
        assert psnr(_display(tmp_path / f"out/o.{f:04d}.exr"), truth) > psnr((1 - t) * d0 + t * d1, truth) + 3


def test_bad_run_at_the_start_is_held_with_a_warning(tmp_path, img):
    _write(tmp_path, img, frames=range(1001, 1006))
    sink = ListSink()
    run_job(get_tool("fill"), _job(tmp_path, repair="1001-1002"), sink)
    warned = {e["frame"] for e in sink.of("warning")}
    assert warned == {1001, 1002} and all("holding frame 1003" in e["message"] for e in sink.of("warning"))
    held = read_plate(tmp_path / "out/o.1001.exr")
    assert np.array_equal(held.pixels, read_plate(tmp_path / "plates/p.1003.exr").pixels)
    assert "held frame 1003" in held.metadata["matchcut:rebuilt"]


def test_missing_last_frames_are_held_from_the_last_good(tmp_path, img):
    _write(tmp_path, img, frames=range(1001, 1005))
    sink = ListSink()
    run_job(get_tool("fill"), _job(tmp_path, frames="1001-1004", repair="1004"), sink)
    assert [e["frame"] for e in sink.of("warning")] == [1004]
    assert np.array_equal(read_plate(tmp_path / "out/o.1004.exr").pixels, read_plate(tmp_path / "plates/p.1003.exr").pixels)


def test_requested_frames_outside_the_sequence_are_refused(tmp_path, img):
    _write(tmp_path, img, frames=range(1001, 1005))
    with pytest.raises(SettingError, match="1005-1006 are outside the sequence"):
        run_job(get_tool("fill"), _job(tmp_path, frames="1003-1006"), ListSink())
    with pytest.raises(SettingError, match="1010 are not in the job's frames"):
        run_job(get_tool("fill"), _job(tmp_path, repair="1002,1010"), ListSink())


def test_all_bad_sequence_is_refused(tmp_path, img):
    _write(tmp_path, img, frames=range(1001, 1004))
    with pytest.raises(SettingError, match="every frame of 1001-1003 is bad"):
        run_job(get_tool("fill"), _job(tmp_path, repair="1001-1003"), ListSink())


def test_neighbours_of_different_sizes_are_refused(tmp_path, img):
    _write(tmp_path, img, frames=range(1001, 1004))
    write_plate(tmp_path / "plates/p.1004.exr", Plate(np.zeros((32, 32, 3), np.float32)))
    with pytest.raises(ShapeMismatchError, match="frame 1004 is 32x32"):
        run_job(get_tool("fill"), _job(tmp_path, repair="1003"), ListSink())


def test_fill_across_a_cut_holds_the_nearer_frame(tmp_path, img):
    other = load_photo("coffee", colorspace="srgb")
    _write(tmp_path, img, frames=range(1001, 1006),
           edit=lambda f, d: warped_frame(other, SIZE, f - 1001) if f >= 1004 else d)
    sink = ListSink()
    run_job(get_tool("fill"), _job(tmp_path, repair="1003"), sink)
    assert any("scene cut between frames 1002 and 1004" in e["message"] for e in sink.of("warning"))
    assert np.array_equal(read_plate(tmp_path / "out/o.1003.exr").pixels, read_plate(tmp_path / "plates/p.1004.exr").pixels)


def test_controls_describe_every_parameter_and_bad_values_are_refused(tmp_path, img):
    names = [c["name"] for c in get_tool("fill").describe()["controls"]]
    assert names == ["repair", "model", "flash_threshold", "cut_threshold", "depth", "ensemble", "quality"]
    _write(tmp_path, img, frames=range(1001, 1004))
    with pytest.raises(SettingError, match="model"):
        run_job(get_tool("fill"), _job(tmp_path, model="degrain-small"), ListSink())
    with pytest.raises(SettingError, match="repair"):
        run_job(get_tool("fill"), _job(tmp_path, repair="every other"), ListSink())


@pytest.mark.zoo
def test_cli_fill_reports_rebuilt_frames_as_json_events(tmp_path, img, zoo_model):
    zoo_model("rife-4.25")
    _write(tmp_path, img, frames=range(1001, 1005), edit=lambda f, d: None if f == 1002 else d)
    proc = subprocess.run([sys.executable, "-m", "matchcut", "fill", "--input", str(tmp_path / "plates/p.####.exr"),
                           "--output", str(tmp_path / "out/o.####.exr"), "--device", "cpu", "--events", "jsonl"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [e["frame"] for e in events if e["event"] == "info"] == [1002]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"o.{f}.exr" for f in range(1001, 1005)]


@pytest.mark.zoo
def test_cli_fill_writes_png_at_pngs_depth_and_rebuilds_a_two_frame_flash(tmp_path, img, zoo_model):
    zoo_model("rife-hdv3")
    (tmp_path / "png").mkdir()
    for k in range(6):
        display = warped_frame(img, SIZE, k)
        write_plate(tmp_path / "png" / f"p.{1001 + k}.png", Plate(np.clip(display + 0.5, 0, 1) if k in (2, 3) else display))
    proc = subprocess.run([sys.executable, "-m", "matchcut", "fill", "--input", str(tmp_path / "png/p.####.png"),
                           "--output", str(tmp_path / "out/o.####.png"), "--device", "cpu", "--ensemble", "1",
                           "--events", "jsonl"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [e["frame"] for e in events if e["event"] == "info"] == [1003, 1004]
    for f in (1003, 1004):
        rebuilt = read_plate(tmp_path / f"out/o.{f}.png").pixels[..., :3]
        truth, flashed = warped_frame(img, SIZE, f - 1001), read_plate(tmp_path / f"png/p.{f}.png").pixels[..., :3]
        assert psnr(rebuilt, truth) > psnr(flashed, truth) + 10


def test_handles_widen_the_range_as_far_as_the_plate_goes(tmp_path, img):
    from matchcut.tools.fill import fill_range

    _write(tmp_path, img, frames=range(1001, 1009))
    job = job_from_dict({**_job(tmp_path, frames="1002-1006").to_dict(), "handles": 2}, tmp_path, where="job.json")
    assert fill_range(job, list(range(1001, 1009))) == list(range(1001, 1009))  # 1000 is not on disk
    job = job_from_dict({**_job(tmp_path, frames="1004").to_dict(), "handles": 1}, tmp_path, where="job.json")
    assert fill_range(job, list(range(1001, 1009))) == [1003, 1004, 1005]
