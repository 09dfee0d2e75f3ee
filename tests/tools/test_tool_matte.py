"""The `matte` tool end to end: jobs on tiny EXR sequences with known alphas, outputs, bad input, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from matchcut.errors import JobError, SettingError, ShapeMismatchError
from matchcut.frames import read_plate, write_plate
from matchcut.jobs.events import ListSink
from matchcut.jobs.runner import run_job
from matchcut.jobs.spec import job_from_dict
from matchcut.testing.mattes import screen_shot, soft_alpha
from matchcut.testing.photos import photo as load_photo
from matchcut.tools.matte import MatteTool

H, W = 96, 144
FRAMES = (1, 2)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch, request):
    if request.node.get_closest_marker("zoo") is None:  # zoo tests need the installed models' cache
        monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))


def _screen_shot(tmp_path, screen="green", uneven=0.3):
    alpha, fg = soft_alpha(H, W), load_photo("coffee", colorspace="scene_linear", size=(H, W))
    for f in FRAMES:
        write_plate(tmp_path / "plates" / f"gs.{f:04d}.exr", screen_shot(fg, alpha, screen, uneven=uneven, seed=f),
                    dtype="float")
    return alpha, fg


def _job(tmp_path, inputs=None, outputs=None, **params):
    return job_from_dict({
        "matchcut_job": 1, "tool": "matte",
        "inputs": inputs or {"plate": "plates/gs.####.exr"},
        "outputs": outputs or {"matte": "out/m.####.exr"},
        "params": params, "device": {"provider": "cpu"}, "output_options": {"dtype": "float"},
    }, tmp_path, where="job.json")


def test_screen_job_writes_matte_foreground_and_comp(tmp_path):
    alpha, fg = _screen_shot(tmp_path)
    bg = load_photo("rocket", colorspace="scene_linear", size=(H, W))
    write_plate(tmp_path / "bg.exr", bg, dtype="float")
    sink = ListSink()
    job = _job(tmp_path, {"plate": "plates/gs.####.exr", "background": "bg.exr"},
               {"matte": "out/m.####.exr", "foreground": "out/fg.####.exr", "comp": "out/c.####.exr"})
    result = run_job(MatteTool(), job, sink)
    assert result.frames_written == 2
    assert any("screen" in e["message"] for e in sink.of("info"))
    matte = read_plate(tmp_path / "out/m.0001.exr")
    assert matte.channels == ("A",) and matte.metadata["compression"] == "zip"
    assert np.abs(matte.pixels[..., 0] - alpha).mean() < 0.03
    rgba = read_plate(tmp_path / "out/fg.0001.exr")
    assert rgba.channels == ("R", "G", "B", "A")
    assert np.abs(rgba.pixels[..., :3] - (fg * alpha[..., None])).mean() < 0.03
    comp = read_plate(tmp_path / "out/c.0001.exr").pixels
    truth = fg * alpha[..., None] + bg * (1 - alpha[..., None])
    green_shot = read_plate(tmp_path / "plates/gs.0001.exr").pixels
    assert np.abs(comp - truth).mean() < 0.25 * np.abs(green_shot - truth).mean()
    for name in ("m", "fg", "c"):
        meta = read_plate(tmp_path / f"out/{name}.0002.exr").metadata
        assert meta["matchcut/tool"] == "matte" and "gs.0002.exr" in meta["matchcut/source"]
    # Resume: nothing changed, nothing re-made.
    assert run_job(MatteTool(), job, ListSink()).frames_skipped == 2


def test_background_of_another_size_is_fitted_with_a_warning(tmp_path):
    _screen_shot(tmp_path)
    write_plate(tmp_path / "bg.exr", load_photo("rocket", colorspace="scene_linear", size=(200, 100)), dtype="float")
    sink = ListSink()
    run_job(MatteTool(), _job(tmp_path, {"plate": "plates/gs.####.exr", "background": "bg.exr"},
                 {"matte": "out/m.####.exr", "comp": "out/c.####.exr"}, background_fit="fit"), sink)
    warnings = [e["message"] for e in sink.of("warning")]
    assert len(warnings) == 1 and "100x200" in warnings[0] and "fit" in warnings[0]
    comp = read_plate(tmp_path / "out/c.0001.exr").pixels
    assert comp.shape == (H, W, 3)
    # Letterboxed (pillarboxed here): the background's side bars are black where the screen was.
    assert comp[H // 2, 0].max() < 0.02


def test_flat_colour_background_and_garbage_holdout(tmp_path):
    alpha, _ = _screen_shot(tmp_path)
    garbage = np.zeros((H // 2, W // 2), np.float32)
    garbage[:, : W // 4] = 1  # kill the left half
    holdout = np.zeros((H, W), np.float32)
    holdout[-8:, -8:] = 1
    write_plate(tmp_path / "garbage.exr", garbage, channels=("A",), kind="matte")
    write_plate(tmp_path / "holdout.exr", holdout, channels=("Y",), kind="matte")
    sink = ListSink()
    run_job(MatteTool(), _job(tmp_path, {"plate": "plates/gs.####.exr", "garbage": "garbage.exr", "holdout": "holdout.exr"},
                 {"matte": "out/m.####.exr", "comp": "out/c.####.exr"}, background_color=[0.2, 0.3, 0.4]), sink)
    matte = read_plate(tmp_path / "out/m.0001.exr").pixels[..., 0]
    assert matte[:, : W // 2 - 1].max() == 0 and matte[-8:, -8:].min() == 1
    assert np.abs(matte[:, W // 2 + 1:-8] - alpha[:, W // 2 + 1:-8]).mean() < 0.03
    comp = read_plate(tmp_path / "out/c.0001.exr").pixels
    assert np.allclose(comp[0, 0], [0.2, 0.3, 0.4], atol=1e-3)
    assert any("garbage" in e["message"] and "stretched" in e["message"] for e in sink.of("warning"))


def test_garbage_matte_of_another_aspect_is_an_error(tmp_path):
    _screen_shot(tmp_path)
    write_plate(tmp_path / "garbage.exr", np.zeros((50, 50), np.float32), channels=("A",), kind="matte")
    with pytest.raises(ShapeMismatchError, match="aspect"):
        run_job(MatteTool(), _job(tmp_path, {"plate": "plates/gs.####.exr", "garbage": "garbage.exr"}), ListSink())


def test_screen_that_is_not_green_or_blue(tmp_path):
    alpha, fg = soft_alpha(H, W), load_photo("coffee", colorspace="scene_linear", size=(H, W))
    red = fg * alpha[..., None] + np.array([0.5, 0.04, 0.04], np.float32) * (1 - alpha[..., None])
    write_plate(tmp_path / "plates/gs.0001.exr", red, dtype="float")
    with pytest.raises(SettingError, match="not a green or blue screen"):
        run_job(MatteTool(), _job(tmp_path, mode="screen"), ListSink())
    with pytest.raises(SettingError, match="not a green or blue screen"):
        run_job(MatteTool(), _job(tmp_path, mode="screen", screen_color=[0.5, 0.04, 0.04]), ListSink())
    assert not (tmp_path / "out").exists()


def test_bad_jobs(tmp_path):
    _screen_shot(tmp_path)
    with pytest.raises(JobError, match="needs a background"):
        run_job(MatteTool(), _job(tmp_path, outputs={"comp": "out/c.####.exr"}), ListSink())
    with pytest.raises(JobError, match="unknown main"):
        run_job(MatteTool(), _job(tmp_path, outputs={"main": "out/c.####.exr"}), ListSink())
    with pytest.raises(SettingError, match="black_point"):
        run_job(MatteTool(), _job(tmp_path, black_point=0.6, white_point=0.4), ListSink())
    with pytest.raises(SettingError, match="refine"):
        run_job(MatteTool(), _job(tmp_path, refine="magic"), ListSink())


def test_tools_json_lists_matte_controls():
    from matchcut.tools import get_tool

    described = get_tool("matte").describe()
    names = {c["name"] for c in described["controls"]}
    assert {"mode", "screen_color", "despill", "refine", "light_wrap", "match", "background_fit"} <= names
    assert described["output_kinds"]["matte"] == "matte"


@pytest.mark.zoo
def test_person_job_warns_when_nobody_is_there(tmp_path, zoo_model):
    zoo_model("selfie-segmentation")
    for f in FRAMES:
        write_plate(tmp_path / "plates" / f"gs.{f:04d}.exr",
                    load_photo("coffee", colorspace="scene_linear", size=(H, W)), dtype="float")
    sink = ListSink()
    run_job(MatteTool(), _job(tmp_path, mode="person"), sink)
    assert len([e for e in sink.of("warning") if "no person" in e["message"]]) == 2
    assert not read_plate(tmp_path / "out/m.0001.exr").pixels.any()


@pytest.mark.zoo
def test_person_job_auto_mode_mattes_the_astronaut(tmp_path, zoo_model):
    zoo_model("selfie-segmentation")
    from matchcut.testing.mattes import astronaut_truth
    from matchcut.runtime import DeviceOptions

    image, truth = astronaut_truth(160, DeviceOptions(provider="cpu"))
    bg = load_photo("rocket", colorspace="scene_linear", size=(160, 160))
    for f in FRAMES:
        write_plate(tmp_path / "plates" / f"gs.{f:04d}.exr", image * truth[..., None] + bg * (1 - truth[..., None]),
                    dtype="float")
    sink = ListSink()
    run_job(MatteTool(), _job(tmp_path, outputs={"matte": "out/m.####.exr", "foreground": "out/fg.####.exr"}), sink)
    assert any("person" in e["message"] for e in sink.of("info"))
    matte = read_plate(tmp_path / "out/m.0002.exr").pixels[..., 0]
    assert np.logical_and(matte > 0.5, truth > 0.5).sum() / np.logical_or(matte > 0.5, truth > 0.5).sum() > 0.9


def test_cli_matte(tmp_path, monkeypatch):
    import typer

    from matchcut.cli import matte as matte_cli

    app = typer.Typer()
    matte_cli.register(app)

    @app.callback()
    def _root() -> None:
        pass

    alpha, _ = _screen_shot(tmp_path, screen="blue")
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(app, ["matte", "--input", "plates/gs.####.exr", "--output", "out/m.####.exr",
                                   "--mode", "screen", "--background", "0.1,0.1,0.1", "--comp", "out/c.####.exr",
                                   "--despill", "limit", "--light-wrap", "0.3", "--device", "cpu"])
    assert out.exit_code == 0, out.output
    assert np.abs(read_plate(tmp_path / "out/m.0002.exr").pixels[..., 0] - alpha).mean() < 0.03
    assert (tmp_path / "out/c.0001.exr").exists()
    bad = CliRunner().invoke(app, ["matte", "--input", "plates/gs.####.exr", "--output", "out/x.####.exr",
                                   "--screen-color", "red", "--device", "cpu"])
    assert bad.exit_code != 0 and isinstance(bad.exception, SettingError) and "screen_color" in str(bad.exception)
