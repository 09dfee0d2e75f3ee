"""The `match` tool end to end: jobs on tiny EXR sequences, artifacts, mask and mix, bad input, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from matchcut import color
from matchcut.errors import InputError, JobError, MissingFramesError, PixelValueError, ShapeMismatchError
from matchcut.frames import read_plate, write_plate
from matchcut.jobs.events import ListSink
from matchcut.jobs.runner import run_job
from matchcut.jobs.spec import job_from_dict
from matchcut.matching.lab import delta_e2000, rgb_to_lab
from matchcut.tools.match import MatchTool

CAST = np.array([1.2, 1.0, 0.8], np.float32) * 1.3
FRAMES = range(1001, 1005)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))


def _scene(tmp_path, *, size=(96, 128), alpha=False, ref_size=None) -> np.ndarray:
    """A reference still and a cast plate sequence (ACEScg EXR) from a real photo; returns the truth (ACEScg)."""
    import cv2
    import skimage.data

    display = cv2.resize(skimage.data.chelsea().astype(np.float32) / 255, size[::-1], interpolation=cv2.INTER_AREA)
    truth = color.convert(display, color.SRGB_DISPLAY, "ACEScg")
    ref = truth if ref_size is None else cv2.resize(truth, ref_size[::-1], interpolation=cv2.INTER_AREA)
    write_plate(tmp_path / "ref.exr", ref, channels=("R", "G", "B"), colorspace="ACEScg")
    for f in FRAMES:
        plate = truth * CAST
        channels = ("R", "G", "B")
        if alpha:
            plate = np.concatenate([plate, np.full(plate.shape[:2] + (1,), 0.5, np.float32)], axis=2)
            channels += ("A",)
        write_plate(tmp_path / "plates" / f"sh.{f:04d}.exr", plate, channels=channels, colorspace="ACEScg",
                    dtype="float")
    return truth


def _job(tmp_path, inputs=None, **params):
    return job_from_dict({
        "matchcut_job": 1, "tool": "match",
        "inputs": inputs or {"plate": "plates/sh.####.exr", "reference": "ref.exr"},
        "outputs": {"main": "out/sh.####.exr"}, "frames": "1001-1004",
        "params": {"keyframes": "2", **params}, "device": {"provider": "cpu"},
        "output_options": {"dtype": "float"},
    }, tmp_path, where="job.json")


def _de(a, b) -> float:
    lin = [color.convert(x, "ACEScg", "Linear Rec.709 (sRGB)") for x in (a, b)]
    return float(delta_e2000(rgb_to_lab(lin[0]), rgb_to_lab(lin[1])).mean())


def test_match_job_corrects_frames_and_writes_lut_and_cdl(tmp_path):
    truth = _scene(tmp_path)
    sink = ListSink()
    result = run_job(MatchTool(), _job(tmp_path, lut="out/grade.cube", cdl="out/grade.cc", method="reinhard",
                                       fit="statistics"), sink)
    assert result.frames_written == 4
    for f in FRAMES:
        out = read_plate(tmp_path / "out" / f"sh.{f:04d}.exr")
        assert _de(out.pixels, truth) < 1.0 < _de(truth * CAST, truth)
    assert out.metadata["matchcut/tool"] == "match" and out.metadata["matchcut/model"].startswith("match-correction")
    assert set(result.artifacts) == {"lut", "cdl"}
    assert (tmp_path / "out" / "grade.cube").is_file() and (tmp_path / "out" / "grade.cc").is_file()
    infos = [e["message"] for e in sink.of("info")]
    assert any("residual" in m and "statistics" in m for m in infos) and any("OpenColorIO" in m for m in infos)
    assert any("the LUT and CDL carry the global correction (the reinhard colour fit)" in m for m in infos)
    # Resume: nothing left to do, the artifacts are still written.
    again = run_job(MatchTool(), _job(tmp_path, lut="out/grade.cube", cdl="out/grade.cc", method="reinhard",
                                      fit="statistics"), ListSink())
    assert again.frames_skipped == 4 and set(again.artifacts) == {"lut", "cdl"}


def _reframed(tmp_path) -> np.ndarray:
    """A reframed pair as EXRs: the reference a shifted framing of coffee, the plate another framing under light
    that falls off across the frame and is warmer; returns the plate's truth (ACEScg)."""
    from matchcut.testing import shotpairs as sp

    pair = sp.photo_pair("coffee", sp.scene_of("coffee"), "all", "shifted")
    to_aces = lambda x: color.convert(np.ascontiguousarray(x, np.float32), "Linear Rec.709 (sRGB)", "ACEScg")  # noqa: E731
    write_plate(tmp_path / "ref.exr", to_aces(pair.reference), channels=("R", "G", "B"), colorspace="ACEScg")
    for f in FRAMES:
        write_plate(tmp_path / "plates" / f"sh.{f:04d}.exr", to_aces(pair.input), channels=("R", "G", "B"),
                    colorspace="ACEScg", dtype="float")
    return to_aces(pair.target)


def test_default_fits_light_from_the_overlap_and_says_what_the_lut_carries(tmp_path):
    truth = _reframed(tmp_path)
    sink = ListSink()
    result = run_job(MatchTool(), _job(tmp_path, lut="out/grade.cube"), sink)
    before = _de(read_plate(tmp_path / "plates" / "sh.1002.exr").pixels, truth)
    after = _de(read_plate(tmp_path / "out" / "sh.1002.exr").pixels, truth)
    assert after < 0.2 * before and after < 2.5, (before, after)
    infos = [e["message"] for e in sink.of("info")]
    fitted = [m for m in infos if "corresponding pixels" in m]
    assert len(fitted) == 3 and all(m.startswith("keyframe 100") and "overlap" in m for m in fitted), fitted
    carries = next(m for m in infos if "the LUT and CDL carry" in m)
    assert "gains, colour matrix and Lab stage" in carries and "light across the frame" in carries
    assert sum("carry the global correction only" in e["message"] for e in sink.of("warning")) == 1
    assert set(result.artifacts) == {"lut"}


def test_strength_and_mask_limit_the_correction_and_alpha_passes_through(tmp_path):
    truth = _scene(tmp_path, alpha=True)
    mask = np.zeros(truth.shape[:2] + (1,), np.float32)
    mask[:, : truth.shape[1] // 2] = 1.0
    for f in FRAMES:
        write_plate(tmp_path / "masks" / f"m.{f:04d}.exr", mask, channels=("A",), kind="matte", dtype="float")
    run_job(MatchTool(), _job(tmp_path, {"plate": "plates/sh.####.exr", "reference": "ref.exr", "mask": "masks/m.####.exr"}),
            ListSink())
    out = read_plate(tmp_path / "out" / "sh.1002.exr")
    src = read_plate(tmp_path / "plates" / "sh.1002.exr")
    half = truth.shape[1] // 2
    assert np.allclose(out.pixels[:, half + 2:, :3], src.pixels[:, half + 2:, :3], atol=1e-6)  # masked out
    assert _de(out.pixels[:, : half - 2, :3], truth[:, : half - 2]) < 1.0
    assert np.array_equal(out.pixels[..., 3], src.pixels[..., 3]) and out.channels == ("R", "G", "B", "A")
    run_job(MatchTool(), _job(tmp_path, strength=0.0, keyframes="4"), ListSink())
    assert np.allclose(read_plate(tmp_path / "out" / "sh.1001.exr").pixels[..., :3], src.pixels[..., :3], atol=1e-6)


def test_reference_of_another_size_is_fine_and_said(tmp_path):
    truth = _scene(tmp_path, ref_size=(60, 80))
    sink = ListSink()
    run_job(MatchTool(), _job(tmp_path), sink)
    assert any("framing may differ" in e["message"] for e in sink.of("info"))
    assert _de(read_plate(tmp_path / "out" / "sh.1001.exr").pixels, truth) < 2.0


def test_bad_input_is_named(tmp_path):
    _scene(tmp_path)
    write_plate(tmp_path / "black.exr", np.zeros((32, 32, 3), np.float32), channels=("R", "G", "B"))
    with pytest.raises(InputError, match=r"black\.exr.*black, clipped"):
        run_job(MatchTool(), _job(tmp_path, {"plate": "plates/sh.####.exr", "reference": "black.exr"}), ListSink())
    (tmp_path / "plates" / "sh.1003.exr").unlink()
    with pytest.raises(MissingFramesError, match="1003"):
        run_job(MatchTool(), _job(tmp_path), ListSink())
    nan = read_plate(tmp_path / "plates" / "sh.1002.exr").pixels.copy()
    nan[3, 4, 1] = np.nan
    write_plate(tmp_path / "plates" / "sh.1003.exr", nan, channels=("R", "G", "B"), dtype="float")
    write_plate(tmp_path / "plates" / "sh.1004.exr", nan, channels=("R", "G", "B"), dtype="float")
    with pytest.raises(PixelValueError, match="sh.100[34].exr"):
        run_job(MatchTool(), _job(tmp_path), ListSink())
    with pytest.raises(JobError, match="missing reference"):
        run_job(MatchTool(), _job(tmp_path, {"plate": "plates/sh.####.exr"}), ListSink())
    write_plate(tmp_path / "masks" / "m.1001.exr", np.ones((8, 8, 1), np.float32), channels=("A",), kind="matte")
    write_plate(tmp_path / "plates" / "sh.1003.exr", read_plate(tmp_path / "plates" / "sh.1002.exr"))
    write_plate(tmp_path / "plates" / "sh.1004.exr", read_plate(tmp_path / "plates" / "sh.1002.exr"))
    job = job_from_dict({"matchcut_job": 1, "tool": "match", "frames": "1001",
                         "inputs": {"plate": "plates/sh.####.exr", "reference": "ref.exr", "mask": "masks/m.####.exr"},
                         "outputs": {"main": "out/sh.####.exr"}, "device": {"provider": "cpu"}}, tmp_path)
    with pytest.raises(ShapeMismatchError, match="the mask is 8x8"):
        run_job(MatchTool(), job, ListSink())


def test_match_command(tmp_path, monkeypatch):
    import typer

    from matchcut.cli import match as match_cli

    truth = _scene(tmp_path)
    app = typer.Typer()
    match_cli.register(app)

    @app.callback()
    def _root() -> None:
        pass

    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(app, ["match", "--reference", "ref.exr", "--input", "plates/sh.####.exr", "--output",
                                   "cli/sh.####.exr", "--lut", "cli/g.cube", "--keyframes", "2", "--device", "cpu",
                                   "--events", "jsonl"])
    assert out.exit_code == 0, out.output
    assert '"event": "done"' in out.output and "g.cube" in out.output
    assert _de(read_plate(tmp_path / "cli" / "sh.1004.exr").pixels, truth) < 2.0


def test_describe_names_the_inputs_a_host_must_wire():
    from matchcut.tools.match import MatchTool

    described = MatchTool().describe()
    assert described["inputs"] == ["plate", "reference", "mask"]
    assert described["optional_inputs"] == ["mask"]
    assert {c["name"] for c in described["controls"]} >= {"method", "regional", "local", "strength", "keyframes",
                                                          "lut", "lut_size", "cdl"}
