"""The learn tool through jobs and the CLI: train on corrected frames, apply to the shot, resume, cancel, refuse."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

pytest.importorskip("torch")

from matchcut.cli.app import main  # noqa: E402
from matchcut.errors import InputError, JobCancelled, JobError, MissingFramesError, SettingError  # noqa: E402
from matchcut.errors import ShapeMismatchError  # noqa: E402
from matchcut.frames import read_metadata, read_plate, write_plate  # noqa: E402
from matchcut.jobs.events import ListSink  # noqa: E402
from matchcut.jobs.runner import run_job  # noqa: E402
from matchcut.jobs.spec import job_from_dict  # noqa: E402
from matchcut.models.manifest import load_manifest  # noqa: E402
from matchcut.tools import get_tool  # noqa: E402

FRAMES = range(1001, 1009)
TAUGHT = (1001, 1004, 1007)
FAST = {"steps": 40, "crop": 16, "batch": 4, "learning_rate": 3e-3, "eval_every": 10, "threads": 1}


def _fix(x):
    """The artist's correction: a warmer grade (scene-linear)."""
    return x * np.array([1.3, 1.0, 0.75], np.float32)


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    """A small photo in a slow move (scene-linear EXRs), its fix on three frames, the fix on all for the truth."""
    from matchcut.testing.photos import photo
    from matchcut.testing.sequences import warped_frame

    folder = tmp_path_factory.mktemp("shot")
    img = photo("coffee", colorspace="scene_linear")
    for f in FRAMES:
        x = warped_frame(img, (40, 64), (f - 1001) * 0.8)
        write_plate(folder / f"src.{f:04d}.exr", x, dtype="float")
        write_plate(folder / f"truth.{f:04d}.exr", _fix(x), dtype="float")
        if f in TAUGHT:
            write_plate(folder / f"fix.{f:04d}.exr", _fix(x), dtype="float")
    return folder


def _job(folder, tool="learn", **extra):
    data = {"matchcut_job": 1, "tool": tool, "inputs": {"plate": "src.####.exr", "target": "fix.####.exr"},
            "outputs": {"model": "model"}, "params": dict(FAST), "device": {"provider": "cpu"}}
    for k, v in extra.items():
        data[k] = {**data.get(k, {}), **v} if isinstance(v, dict) else v
    return job_from_dict(data, folder)


@pytest.fixture(scope="module")
def learned(shot):
    sink = ListSink()
    result = run_job(get_tool("learn"), _job(shot), sink)
    return shot, result, sink


def test_learns_the_fix_and_apply_runs_it_on_the_whole_shot(learned):
    folder, result, sink = learned
    manifest = load_manifest(result.artifacts["model"])
    t = manifest.training
    assert t["frames"] == list(TAUGHT) and t["held_out"] == "frame 1004 held out" and t["steps"] == 40
    assert t["held_out_psnr"] > t["held_out_psnr_untouched"] + 3 and t["export_check"] < 1e-3
    assert manifest.runtime.receptive_field > 0 and manifest.runtime.size_multiple == 8
    assert manifest.inputs[0].colorspace == "ACEScg"  # the name, not the role
    steps = sink.of("step")
    assert len(steps) == 40 and all("loss" in e for e in steps) and steps[-1].get("preview")
    assert (folder / "model" / "preview.png").is_file()
    summary = json.loads((folder / "model" / "training.json").read_text())
    assert summary["sha256"] == manifest.sha256 and len(summary["history"]) == 4

    apply = job_from_dict({"matchcut_job": 1, "tool": "apply", "inputs": {"plate": "src.####.exr"},
                           "outputs": {"main": "out.####.exr"}, "params": {"model": str(folder / "model")},
                           "device": {"provider": "cpu"}}, folder)
    run_job(get_tool("apply"), apply, ListSink())
    for f in FRAMES:
        out, truth, src = (read_plate(folder / f"{n}.{f:04d}.exr").pixels[..., :3] for n in ("out", "truth", "src"))
        assert np.abs(out - truth).mean() < 0.5 * np.abs(src - truth).mean(), f
    meta = read_metadata(folder / "out.1005.exr")
    assert meta["matchcut/model"] == f"{manifest.id}@{manifest.sha256}"


def test_a_folder_holding_another_model_is_refused_without_force(learned):
    folder, _, _ = learned
    with pytest.raises(JobError, match=r"already holds model 'learned-model'.*--force"):
        run_job(get_tool("learn"), _job(folder, params={"seed": 5}), ListSink())
    (folder / "notes").mkdir(exist_ok=True)
    (folder / "notes" / "mine.txt").write_text("the artist's own file")
    with pytest.raises(JobError, match=r"holds mine\.txt, which learn did not write"):
        run_job(get_tool("learn"), _job(folder, outputs={"model": "notes"}), ListSink())


def test_cancel_keeps_the_checkpoint_and_resume_carries_on(shot):
    cancel = threading.Event()

    class Sink(ListSink):
        def _write(self, event, fields):
            super()._write(event, fields)
            if event == "step" and fields["step"] == 12:
                cancel.set()

    job = _job(shot, outputs={"model": "cancelled"})
    with pytest.raises(JobCancelled, match=r"training stopped at step 12; its checkpoint is kept.*--resume"):
        run_job(get_tool("learn"), job, Sink(), cancel=cancel)
    assert (shot / "cancelled" / ".learn" / "checkpoint.pt").is_file()
    assert not list((shot / "cancelled").glob("*.onnx"))  # nothing half made is offered as a model
    sink = ListSink()
    run_job(get_tool("learn"), _job(shot, outputs={"model": "cancelled"}, params={"resume": True}), sink)
    assert sink.of("step")[0]["step"] == 13
    assert load_manifest(next((shot / "cancelled").glob("*.toml"))).training["steps"] == 40


def test_bad_pairs_are_named(shot, tmp_path):
    with pytest.raises(MissingFramesError, match=r"fix\.####\.exr: missing frame\(s\) 1002"):
        run_job(get_tool("learn"), _job(shot, params={"frames": "1001,1002"}, outputs={"model": "m2"}), ListSink())
    for f in (1001, 1002):
        write_plate(tmp_path / f"src.{f:04d}.exr", np.full((24, 32, 3), 0.2, np.float32))
        write_plate(tmp_path / f"fix.{f:04d}.exr", np.full((24, 32, 3), 0.2, np.float32))
    write_plate(tmp_path / "big.1001.exr", np.full((32, 32, 3), 0.2, np.float32))
    with pytest.raises(InputError, match=r"every target frame \(1001, 1002\) is identical to its input.*nothing"):
        run_job(get_tool("learn"), _job(tmp_path), ListSink())
    with pytest.raises(ShapeMismatchError, match=r"big\.1001\.exr: target frame 1001 is 32x32, its input .*src\.1001"
                       r"\.exr is 32x24"):
        run_job(get_tool("learn"), _job(tmp_path, inputs={"target": "big.####.exr"}, outputs={"model": "m3"}),
                ListSink())
    with pytest.raises(SettingError, match="learn trains with PyTorch on auto, cpu, cuda, not 'tensorrt'"):
        run_job(get_tool("learn"), _job(shot, device={"provider": "tensorrt"}), ListSink())


def test_the_command_line_trains_and_says_how_to_apply(shot, capsys):
    args = ["learn", "--input", str(shot / "src.####.exr"), "--target", str(shot / "fix.####.exr"),
            "--model", str(shot / "cli"), "--frames", "1001,1007", "--steps", "10", "--crop", "16", "--batch", "2",
            "--eval-every", "5", "--threads", "1", "--device", "cpu", "--events", "jsonl"]
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code in (0, None)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("step") == 10
    assert any("right 20% of each frame held out" in e.get("message", "") for e in events)
    assert any("matchcut apply --model" in e.get("message", "") for e in events)


def test_a_large_frame_in_tiles_gives_what_the_whole_frame_gives(learned, tmp_path):
    """The manifest's receptive field is the tiling overlap: tiles leave no seams."""
    from matchcut.testing.photos import photo

    folder, _, _ = learned
    write_plate(tmp_path / "big.1001.exr", photo("astronaut", colorspace="scene_linear", size=(256, 336)), dtype="float")
    outs = {}
    for tile in (0, 160):
        job = job_from_dict({"matchcut_job": 1, "tool": "apply", "inputs": {"plate": "big.####.exr"},
                             "outputs": {"main": f"t{tile}.####.exr"}, "output_options": {"dtype": "float"},
                             "params": {"model": str(folder / "model"), "tile": tile}, "device": {"provider": "cpu"}},
                            tmp_path)
        run_job(get_tool("apply"), job, ListSink())
        outs[tile] = read_plate(tmp_path / f"t{tile}.1001.exr").pixels
    assert np.abs(outs[0] - outs[160]).max() < 1e-4
