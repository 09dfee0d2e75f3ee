"""The `matte` tool end to end: jobs on tiny EXR sequences with known alphas, outputs, bad input, the CLI."""

from __future__ import annotations

import json

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


# --- the screen model in the job: clean plates, bad input, frames of one shot ------------------------------


def _keying_shot(tmp_path, recipe, frames=FRAMES, shift=(0.0, 0.0), name="gs", size=(H, W)):
    """Frames of a synthetic subject over a keying-set recipe (fresh noise each frame), written as EXR; returns
    the plates (keying_set.KeyingPlate) in frame order."""
    from matchcut.testing.keying_set import make_plate, synthetic_subject

    subject = synthetic_subject(*size)
    plates = []
    for i, f in enumerate(frames):
        plate = make_plate(subject, recipe, 0, noise_seed=i, shift=(shift[0] * i, shift[1] * i))
        write_plate(tmp_path / "plates" / f"{name}.{f:04d}.exr", plate.plate, dtype="float")
        plates.append(plate)
    return plates


def test_clean_plate_keys_the_shot_and_is_checked(tmp_path):
    from matchcut.testing.keying_set import Recipe

    recipe = Recipe("green", "falloff", ("wrinkles", "markers"), 1.0, "low")
    plates = _keying_shot(tmp_path, recipe)
    write_plate(tmp_path / "clean.exr", plates[0].clean, dtype="float")
    run_job(MatteTool(), _job(tmp_path, {"plate": "plates/gs.####.exr", "clean_plate": "clean.exr"}, mode="screen"),
            ListSink())
    from matchcut.testing.keyers import plain_key

    matte = read_plate(tmp_path / "out/m.0002.exr").pixels[..., 0]
    plain = np.abs(plain_key(plates[1].plate, "green") - plates[1].alpha).mean()
    assert np.abs(matte - plates[1].alpha).mean() < 0.35 * plain
    meta = read_plate(tmp_path / "out/m.0002.exr").metadata
    assert json.loads(meta["matchcut/params"])["ran"]["screen_model"] == "clean plate"
    # Another size: said, with both sizes.
    write_plate(tmp_path / "small.exr", plates[0].clean[::2, ::2], dtype="float")
    with pytest.raises(ShapeMismatchError, match=r"small.exr \(clean plate\): it is 72x48, the plate 144x96"):
        run_job(MatteTool(), _job(tmp_path, {"plate": "plates/gs.####.exr", "clean_plate": "small.exr"},
                                  {"matte": "out/s.####.exr"}, mode="screen"), ListSink())
    # Another camera position: the screen's tape and seams are somewhere else.
    write_plate(tmp_path / "moved.exr", np.roll(plates[0].clean, 7, axis=1), dtype="float")
    offset = r"another camera position .*offset by \+(6\.[5-9]|7\.[0-4]), [+-]0\.\d px"
    with pytest.raises(ShapeMismatchError, match=offset):
        run_job(MatteTool(), _job(tmp_path, {"plate": "plates/gs.####.exr", "clean_plate": "moved.exr"},
                                  {"matte": "out/v.####.exr"}, mode="screen"), ListSink())
    # The same set-up lit otherwise (a stop darker): it does not match the plate's screen.
    write_plate(tmp_path / "dark.exr", plates[0].clean * 0.5, dtype="float")
    with pytest.raises(ShapeMismatchError, match="does not match the plate's"):
        run_job(MatteTool(), _job(tmp_path, {"plate": "plates/gs.####.exr", "clean_plate": "dark.exr"},
                                  {"matte": "out/d.####.exr"}, mode="screen"), ListSink())
    assert not (tmp_path / "out/s.0001.exr").exists() and not (tmp_path / "out/v.0001.exr").exists()


def test_a_screen_of_two_hues_points_to_person_mode(tmp_path):
    from matchcut.testing.keying_set import Recipe

    green = _keying_shot(tmp_path, Recipe("green", "even", (), 0.0, "low"), frames=(1,), name="g")[0].plate
    blue = _keying_shot(tmp_path, Recipe("blue", "even", (), 0.0, "low"), frames=(1,), name="b")[0].plate
    both = green.copy()
    both[:, W // 2:] = blue[:, W // 2:]
    write_plate(tmp_path / "plates/gs.0001.exr", both, dtype="float")
    with pytest.raises(SettingError, match="not one hue.*--mode person"):
        run_job(MatteTool(), _job(tmp_path, mode="screen"), ListSink())


def test_a_close_up_with_no_screen_at_the_border_is_keyed_from_the_screen_inside(tmp_path):
    from matchcut.testing.keying_set import Recipe

    plates = _keying_shot(tmp_path, Recipe("blue", "even", (), 0.0, "low"), frames=(1,))
    close = plates[0].plate.copy()
    edge = np.ones((H, W), bool)
    edge[16:-16, 24:-24] = False
    close[edge] = (0.3, 0.2, 0.15)  # the subject fills the edges of the frame
    write_plate(tmp_path / "plates/gs.0001.exr", close, dtype="float")
    run_job(MatteTool(), _job(tmp_path, mode="screen"), ListSink())
    matte = read_plate(tmp_path / "out/m.0001.exr").pixels[..., 0]
    assert matte[edge].min() > 0.999
    inside = ~edge
    assert np.abs(matte[inside] - plates[0].alpha[inside]).mean() < 0.03


def test_a_static_shot_does_not_chatter_and_a_camera_move_is_said(tmp_path):
    from matchcut.testing.keying_set import Recipe

    frames = (1, 2, 3, 4, 5)
    plates = _keying_shot(tmp_path, Recipe("green", "falloff", ("wrinkles", "markers"), 1.0, "low"), frames=frames)

    def change(prefix):
        mattes = [read_plate(tmp_path / f"out/{prefix}.{f:04d}.exr").pixels[..., 0] for f in frames]
        return np.mean([np.abs(b - a).mean() for a, b in zip(mattes[:-1], mattes[1:])])

    run_job(MatteTool(), _job(tmp_path, outputs={"matte": "out/m.####.exr"}), ListSink())
    run_job(MatteTool(), _job(tmp_path, outputs={"matte": "out/p.####.exr"}, temporal=0.0, share_screen=False),
            ListSink())
    assert change("m") < 0.8 * change("p")  # shared and steadied against fitted on every frame, unsteadied
    from matchcut.testing.keyers import plain_key

    for f, plate in zip(frames, plates):
        error = np.abs(read_plate(tmp_path / f"out/m.{f:04d}.exr").pixels[..., 0] - plate.alpha).mean()
        assert error < 0.5 * np.abs(plain_key(plate.plate, "green") - plate.alpha).mean()
    # The camera pans on frame 4 (the screen's folds and seams move): that frame and the next are keyed with
    # their own screen model, and it says so once. (A pan over a screen with no detail cannot be seen, and
    # does no harm.)
    def pan(image):  # 12 px to the right; what comes into view on the left is the mirror of the edge
        return np.pad(image, ((0, 0), (12, 0)) + ((0, 0),) * (image.ndim - 2), mode="reflect")[:, :W]

    for f in (4, 5):
        write_plate(tmp_path / "plates" / f"gs.{f:04d}.exr", pan(plates[f - 1].plate), dtype="float")
    sink = ListSink()
    run_job(MatteTool(), _job(tmp_path, outputs={"matte": "out/c.####.exr"}), sink)
    moved = [e for e in sink.of("warning") if "the screen differs from frame 1's" in e["message"]]
    assert len(moved) == 1 and moved[0]["frame"] == 4
    truth, panned = pan(plates[3].alpha), pan(plates[3].plate)
    error = np.abs(read_plate(tmp_path / "out/c.0004.exr").pixels[..., 0] - truth).mean()
    assert error < 0.5 * np.abs(plain_key(panned, "green") - truth).mean()


def test_cli_screen_model_options(tmp_path, monkeypatch):
    import typer

    from matchcut.cli import matte as matte_cli
    from matchcut.testing.keying_set import Recipe

    app = typer.Typer()
    matte_cli.register(app)

    @app.callback()
    def _root() -> None:
        pass

    plates = _keying_shot(tmp_path, Recipe("blue", "even", ("markers",), 1.0, "low"))
    write_plate(tmp_path / "clean.exr", plates[0].clean, dtype="float")
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(app, ["matte", "--input", "plates/gs.####.exr", "--output", "out/m.####.exr",
                                   "--mode", "screen", "--clean-plate", "clean.exr", "--despot", "0.2",
                                   "--screen-per-frame", "--temporal", "0", "--device", "cpu"])
    assert out.exit_code == 0, out.output
    params = json.loads(read_plate(tmp_path / "out/m.0001.exr").metadata["matchcut/params"])
    assert params["despot"] == 0.2 and params["share_screen"] is False and params["temporal"] == 0.0
    assert params["ran"]["screen_model"] == "clean plate"
