"""The `relight` tool end to end: jobs on tiny EXR sequences, passes, mask, bad input, the CLI."""

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
from matchcut.relight.scene import sphere_and_plane
from matchcut.tools.relight import PASS_CHANNELS, RelightTool

LIGHT = {"type": "directional", "direction": [-1, 0, 0.5], "intensity": 1.0}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    import os

    from matchcut import settings

    zoo = os.pathsep.join(filter(None, [os.environ.get(settings.MODEL_PATH_VAR), str(settings.cache_dir() / "models")]))
    monkeypatch.setenv(settings.MODEL_PATH_VAR, zoo)
    monkeypatch.setenv(settings.CACHE_DIR_VAR, str(tmp_path / "cache"))


def _scene(tmp_path, frames=(1001, 1002), size=(48, 64), alpha=True):
    normals, albedo = sphere_and_plane(*size)
    for f in frames:
        pixels = albedo * 0.5
        channels = ("R", "G", "B")
        if alpha:
            pixels = np.concatenate([pixels, np.full(size + (1,), 0.25, np.float32)], axis=-1)
            channels += ("A",)
        write_plate(tmp_path / "plates" / f"sh.{f}.exr", pixels, channels=channels, dtype="float")
        write_plate(tmp_path / "normals" / f"n.{f}.exr", normals, channels=("R", "G", "B"), dtype="float")
    return normals, albedo


def _job(tmp_path, inputs=None, outputs=None, **params):
    params.setdefault("lights", [LIGHT])
    params.setdefault("faces", False)  # these tests need no zoo; the zoo's part is in tests/relight
    params.setdefault("person", False)
    return job_from_dict({"matchcut_job": 1, "tool": "relight",
                          "inputs": inputs or {"plate": "plates/sh.####.exr", "normals": "normals/n.####.exr"},
                          "outputs": outputs or {"main": "out/sh.####.exr", "passes": "out/passes.####.exr"},
                          "frames": "1001-1002", "params": params, "device": {"provider": "cpu"},
                          "output_options": {"dtype": "float"}}, tmp_path, where="job.json")


def test_describe_lists_inputs_outputs_and_controls():
    described = RelightTool().describe()
    assert described["inputs"] == ["plate", "normals", "mask"]
    assert described["optional_inputs"] == ["normals", "mask"]
    assert described["outputs"] == ["main", "passes"] and described["optional_outputs"] == ["passes"]
    assert described["output_kinds"] == {"main": "plate", "passes": "pass"}
    assert {c["name"] for c in described["controls"]} >= {"lights", "strength", "ambient", "dark_floor", "faces",
                                                          "person", "background", "detail", "temporal",
                                                          "normals_convention", "normals_encoding"}


def test_job_relights_writes_passes_keeps_alpha_and_resumes(tmp_path):
    _scene(tmp_path)
    result = run_job(RelightTool(), _job(tmp_path), ListSink())
    assert result.frames_written == 2
    plate = read_plate(tmp_path / "plates" / "sh.1001.exr")
    relit = read_plate(tmp_path / "out" / "sh.1001.exr")
    assert relit.channels == plate.channels
    np.testing.assert_array_equal(relit.channel("A"), plate.channel("A"))
    ratio = relit.channel("G") / plate.channel("G")
    assert ratio[:, :20].mean() > ratio[:, -20:].mean() >= 1.0 - 1e-6  # light from the left
    passes = read_plate(tmp_path / "out" / "passes.1001.exr")
    assert set(passes.channels) == set(PASS_CHANNELS)
    assert passes.metadata["matchcut/tool"] == "relight"
    np.testing.assert_allclose(passes.channel("gain.G"), ratio, rtol=1e-4)
    again = run_job(RelightTool(), _job(tmp_path), ListSink())
    assert again.frames_skipped == 2 and again.frames_written == 0


def test_mask_limits_the_relight_and_strength_scales_it(tmp_path):
    _scene(tmp_path)
    mask = np.zeros((48, 64), np.float32)
    mask[:, 32:] = 1.0
    for f in (1001, 1002):
        write_plate(tmp_path / "masks" / f"m.{f}.exr", mask[..., None], channels=("A",), kind="matte")
    inputs = {"plate": "plates/sh.####.exr", "normals": "normals/n.####.exr", "mask": "masks/m.####.exr"}
    run_job(RelightTool(), _job(tmp_path, inputs, strength=2.0), ListSink())
    gain = read_plate(tmp_path / "out" / "passes.1001.exr").channel("gain.G")
    assert np.all(gain[:, :32] == 1.0) and gain[:, 32:].max() > 1.0
    bad = np.zeros((8, 8, 1), np.float32)
    for f in (1001, 1002):
        write_plate(tmp_path / "masks" / f"m.{f}.exr", bad, channels=("A",), kind="matte")
    with pytest.raises(ShapeMismatchError, match="the mask is 8x8"):
        run_job(RelightTool(), _job(tmp_path, inputs, strength=1.5), ListSink())


def test_bad_lights_are_named(tmp_path):
    _scene(tmp_path)
    with pytest.raises(SettingError, match=r"light 1: intensty.*valid:.*intensity"):
        run_job(RelightTool(), _job(tmp_path, lights=[{"type": "directional", "intensty": 2}]), ListSink())
    with pytest.raises(SettingError, match="light 1: intensity.*must be > 0"):
        run_job(RelightTool(), _job(tmp_path, lights=["directional intensity=0"]), ListSink())
    with pytest.raises(SettingError, match="light 2: intensity"):
        run_job(RelightTool(), _job(tmp_path, lights=[LIGHT, {**LIGHT, "intensity": -1}]), ListSink())
    with pytest.raises(SettingError, match="at least one light"):
        run_job(RelightTool(), _job(tmp_path, lights=""), ListSink())
    with pytest.raises(SettingError, match="no parameter 'strenght'.*valid:.*strength"):
        run_job(RelightTool(), _job(tmp_path, strenght=2), ListSink())
    with pytest.raises(JobError, match="unknown depth.*main, and optionally passes"):
        run_job(RelightTool(), _job(tmp_path, outputs={"main": "out/a.####.exr", "depth": "out/d.####.exr"}), ListSink())


def test_normals_pass_of_another_size_or_unnormalised(tmp_path):
    normals, _ = _scene(tmp_path, frames=(1001, 1002))
    for f in (1001, 1002):  # half resolution, same aspect: resampled and said
        write_plate(tmp_path / "normals" / f"n.{f}.exr", normals[::2, ::2] * 2.5, channels=("R", "G", "B"),
                    dtype="float")
    sink = ListSink()
    run_job(RelightTool(), _job(tmp_path), sink)
    messages = " ".join(e["message"] for e in sink.of("warning"))
    assert "resampled to the plate's 64x48" in messages and "not unit length" in messages
    n = read_plate(tmp_path / "out" / "passes.1001.exr")
    length = np.sqrt(sum(n.channel(c) ** 2 for c in ("N.X", "N.Y", "N.Z")))
    np.testing.assert_allclose(length, 1.0, atol=1e-5)
    for f in (1001, 1002):
        write_plate(tmp_path / "normals" / f"n.{f}.exr", normals[:, :40], channels=("R", "G", "B"), dtype="float")
    with pytest.raises(ShapeMismatchError, match="the normals pass is 40x48, the plate 64x48"):
        run_job(RelightTool(), _job(tmp_path, strength=1.1), ListSink())


def test_png_plate_is_relit_in_scene_linear_and_never_clipped(tmp_path):
    import skimage.data

    display = skimage.data.coffee()[::8, ::8]
    write_plate(tmp_path / "png" / "c.1001.png", display.astype(np.float32) / 255, dtype="uint8")
    write_plate(tmp_path / "png" / "c.1002.png", display.astype(np.float32) / 255, dtype="uint8")
    sink = ListSink()
    run_job(RelightTool(), _job(tmp_path, {"plate": "png/c.####.png"}, {"main": "out/c.####.exr"},
                 lights=["directional direction=-1,0,0.3 intensity=4"]), sink)
    assert any("no face and no person" in e["message"] for e in sink.of("warning"))
    out = read_plate(tmp_path / "out" / "c.1001.exr").pixels  # EXR out of an sRGB plate: the plate's space kept
    assert out.max() > 1.0  # brighter than the PNG could hold, not clipped
    assert np.isfinite(out).all()


@pytest.mark.zoo
def test_no_face_and_no_person_falls_back_to_gradients_and_says_so(tmp_path, zoo_model):
    import skimage.data

    from matchcut import color

    zoo_model("face-detection")
    linear = color.convert(skimage.data.coffee()[::4, ::4].astype(np.float32) / 255, color.SRGB_DISPLAY,
                           color.SCENE_LINEAR)
    for f in (1001, 1002):
        write_plate(tmp_path / "plates" / f"sh.{f}.exr", linear, dtype="float")
    sink = ListSink()
    run_job(RelightTool(), _job(tmp_path, {"plate": "plates/sh.####.exr"}, faces=True, person=True), sink)
    warnings = [e for e in sink.of("warning") if "no face and no person" in e["message"]]
    assert len(warnings) == 1 and "gradients" in warnings[0]["message"]  # once, then info for later frames
    assert any("no face and no person" in e["message"] for e in sink.of("info"))
    source = read_plate(tmp_path / "out" / "passes.1001.exr")
    assert source.channel("source.B").min() == 1.0


def test_relight_command(tmp_path, monkeypatch):
    import typer

    from matchcut.cli import relight as relight_cli

    _scene(tmp_path)
    (tmp_path / "lights.json").write_text(json.dumps({"lights": [{"type": "point", "position": [0.4, 0.2, 0.5]}]}))
    app = typer.Typer()
    relight_cli.register(app)

    @app.callback()
    def _root() -> None:
        pass

    monkeypatch.chdir(tmp_path)
    args = ["relight", "--input", "plates/sh.####.exr", "--normals", "normals/n.####.exr", "--output",
            "cli/sh.####.exr", "--passes", "cli/p.####.exr", "--light", "directional direction=-1,0,0.5 intensity=0.5",
            "--lights", "lights.json", "--no-faces", "--no-person", "--device", "cpu", "--events", "jsonl"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert '"event": "done"' in out.output
    job_params = json.loads(read_plate(tmp_path / "cli" / "p.1001.exr").metadata["matchcut/params"])
    assert [light["type"] for light in job_params["lights"]] == ["directional", "point"]
    bad = CliRunner().invoke(app, [*args[:9], "--light", "directional intensty=2", "--events", "jsonl"])
    assert bad.exit_code != 0 and "intensty" in bad.output
