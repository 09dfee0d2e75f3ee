"""The coverage tool through jobs and the CLI, on a small production written here (matchcut.testing.productions):
a gap, a clip whose media ends early, an offline clip and frames lost inside a shot; the real zoo's RIFE and
super-resolution models."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading

import numpy as np
import opentimelineio as otio
import pytest

from matchcut.errors import InputError, JobCancelled, SettingError
from matchcut.frames import read_metadata, read_plate
from matchcut.jobs.events import ListSink
from matchcut.jobs.runner import run_job
from matchcut.jobs.spec import job_from_dict
from matchcut.testing.productions import make_production
from matchcut.tools import get_tool
from matchcut.tools.fill import REBUILT_KEY

pytestmark = [pytest.mark.zoo, pytest.mark.slow]

FAST = {"quality": "preview"}


def _job(prod, out="out", **params):
    data = {"matchcut_job": 1, "tool": "coverage", "inputs": {"timeline": str(prod.timeline)},
            "outputs": {"out": out}, "params": {"media": str(prod.media), **FAST, **params},
            "device": {"provider": "cpu"}}
    return job_from_dict(data, prod.timeline.parent)


@pytest.fixture(scope="module")
def covered(tmp_path_factory):
    prod = make_production(tmp_path_factory.mktemp("production"), size=(180, 320))
    digest = hashlib.sha256(prod.timeline.read_bytes()).hexdigest()
    sink = ListSink()
    result = run_job(get_tool("coverage"), _job(prod), sink)
    data = json.loads((prod.timeline.parent / "out" / "report" / "coverage.json").read_text())
    return prod, result, sink, data, digest


def _frames(prop):
    pattern = prop["rendered"]["pattern"]
    return [pattern.replace("####", f"{f:04d}") for f in range(prop["rendered"]["first"], prop["rendered"]["last"] + 1)]


def test_every_hole_is_found_and_offered_what_applies(covered):
    _, _, _, data, _ = covered
    holes = data["holes"]
    assert [(h["kind"], h["record"]) for h in holes] == [("gap", [12, 17]), ("short", [28, 33]),
                                                         ("offline", [34, 38]), ("short", [43, 45])]
    kinds = [{p["kind"] for p in h["proposals"]} for h in holes]
    assert {"extend", "punch-in"} <= kinds[0]
    assert kinds[1] == {"slow"}  # its media ends: nothing after it to extend, and nothing wider of that scene
    assert {"extend", "punch-in"} <= kinds[2]
    assert {"bridge", "punch-in"} <= kinds[3]
    for h in holes:
        assert [p["rank"] for p in h["proposals"]] == list(range(1, len(h["proposals"]) + 1))
        assert [p["score"] for p in h["proposals"]] == sorted((p["score"] for p in h["proposals"]), reverse=True)
        assert h["not_applicable"] and all(r["why"] for r in h["not_applicable"])
    assert holes[0]["proposals"][0]["kind"] == "extend" and holes[0]["proposals"][0]["score"] == 100
    why = {r["kind"]: r["why"] for r in holes[1]["not_applicable"]}
    assert "0 frame(s) after it (the media ends there)" in why["extend"]


def test_an_extend_reuses_the_source_frames_bit_for_bit_and_says_so(covered):
    prod, _, _, data, _ = covered
    extend = data["holes"][0]["proposals"][0]
    for k, path in enumerate(_frames(extend)):
        source = prod.media / "sc01_close" / f"sc01_close.{1013 + k:04d}.exr"
        assert np.array_equal(read_plate(path).pixels, read_plate(source).pixels)
        meta = read_metadata(path)
        assert meta["matchcut/frame"] == "reused" and REBUILT_KEY not in meta
        assert json.loads(meta["matchcut/source"]) == [str(source)]


def test_made_frames_are_marked_synthetic_for_the_hosts(covered):
    _, _, _, data, _ = covered
    made = [p for h in data["holes"] for p in h["proposals"] if p["kind"] in ("slow", "bridge", "punch-in")]
    assert made
    for prop in made:
        marks = [read_metadata(path) for path in _frames(prop)]
        assert sum(m["matchcut/frame"] == "synthetic" for m in marks) == prop["synthetic_frames"] > 0
        assert all(REBUILT_KEY in m for m in marks if m["matchcut/frame"] == "synthetic")
        assert all(m["matchcut/tool"] == "coverage" and m["matchcut/model"] != "none" for m in marks
                   if m["matchcut/frame"] == "synthetic")


def test_a_punch_in_is_closer_to_the_true_close_up_than_a_lanczos_blow_up(covered):
    from matchcut import color
    from matchcut.testing.metrics import psnr
    from matchcut.vision.upscale import lanczos

    prod, _, _, data, _ = covered
    punch = next(p for p in data["holes"][3]["proposals"] if p["kind"] == "punch-in")
    assert "the same frame numbers" in punch["reason"] and 1.9 < punch["cost"]["upscale"] <= 2.0

    def show(plate):
        return np.clip(color.convert(np.ascontiguousarray(plate.rgb), color.plate_colorspace(plate),
                                     color.SRGB_DISPLAY), 0, 1)

    gains = []
    for k, path in enumerate(_frames(punch)):
        truth = show(read_plate(prod.truth / "sc01_close" / f"sc01_close.{1024 + k:04d}.exr"))
        wide = show(read_plate(prod.media / "sc01_wide" / f"sc01_wide.{1024 + k:04d}.exr"))
        h, w = truth.shape[:2]
        blow_up = np.clip(lanczos(wide[h // 4:h // 4 + h // 2, w // 4:w // 4 + w // 2], h, w), 0, 1)
        gains.append(psnr(show(read_plate(path)), truth) - psnr(blow_up, truth))
    assert min(gains) > 0.3, gains


def test_the_new_timeline_keeps_the_edit_and_puts_the_proposals_above(covered):
    prod, result, _, data, digest = covered
    assert hashlib.sha256(prod.timeline.read_bytes()).hexdigest() == digest  # the original is untouched
    new = otio.adapters.read_from_file(result.artifacts["timeline"])
    old = otio.adapters.read_from_file(str(prod.timeline))
    assert [t.name for t in new.tracks][:1] == ["V1"]
    assert [(c.name, c.source_range) for c in new.tracks[0].find_clips()] == \
        [(c.name, c.source_range) for c in old.tracks[0].find_clips()]
    coverage = {t.name: t for t in new.tracks[1:]}
    best = list(coverage["Coverage 1"].find_clips())
    assert len(best) == 4 and all(c.enabled for c in best)
    starts = sorted(int(c.range_in_parent().start_time.to_frames()) for c in best)
    firsts = sorted(h["proposals"][0]["record"][0] for h in data["holes"])
    assert starts == firsts
    others = [c for name, t in coverage.items() if name != "Coverage 1" for c in t.find_clips()]
    assert others and not any(c.enabled for c in others)
    for clip in best + others:
        assert clip.markers and clip.metadata["matchcut"]["id"]
        ref = clip.media_reference
        first = ref.target_url_base.removeprefix("file://") + ref.name_prefix + f"{ref.start_frame:04d}" + \
            ref.name_suffix
        assert read_plate(first).width == 320


def test_a_run_again_keeps_every_frame_and_a_cancel_resumes(covered, tmp_path):
    prod, _, sink, _, _ = covered
    total = sink.of("frame")[-1]["total"]
    again = ListSink()
    run_job(get_tool("coverage"), _job(prod), again)
    assert len(again.of("frame")) == total and all(e["skipped"] for e in again.of("frame"))

    cancel = threading.Event()

    class Sink(ListSink):
        def _write(self, event, fields):
            super()._write(event, fields)
            if event == "frame" and fields["index"] == 5:
                cancel.set()

    job = _job(prod, out=str(tmp_path / "cut"), compare=False)
    with pytest.raises(JobCancelled, match=r"after 5 frame\(s\) rendered; they are kept"):
        run_job(get_tool("coverage"), job, Sink(), cancel=cancel)
    resumed = ListSink()
    run_job(get_tool("coverage"), _job(prod, out=str(tmp_path / "cut"), compare=False), resumed)
    assert sum(e["skipped"] for e in resumed.of("frame")) == 5


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (make test does)")
def test_the_report_renders_in_a_headless_browser(covered, tmp_path):
    _, result, _, data, _ = covered
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path / 'u'}"]
    url = "file://" + result.artifacts["report"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    for h in data["holes"]:
        assert f"Hole {h['index']}:" in dom
        for p in h["proposals"]:
            assert f"id=\"{p['id']}\"" in dom
    assert dom.count("<img") == sum(3 * len(h["proposals"]) + len(h["sides"]) for h in data["holes"])
    shot = tmp_path / "page.png"
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", "--window-size=1000,2400", url], capture_output=True,
                   timeout=120)
    import cv2

    page = cv2.imread(str(shot))
    assert page is not None and page.std() > 20  # pictures, not an empty page


def test_bad_input_is_named(covered, tmp_path):
    prod, _, _, _, _ = covered
    with pytest.raises(SettingError, match=r"inside the media folder"):
        run_job(get_tool("coverage"), _job(prod, out=str(prod.media / "cov")), ListSink())
    empty = tmp_path / "elsewhere"
    (empty / "x").mkdir(parents=True)
    from matchcut.frames import write_plate

    write_plate(empty / "x" / "other.1001.exr", np.zeros((4, 4, 3), np.float32))
    write_plate(empty / "x" / "other.1002.exr", np.zeros((4, 4, 3), np.float32))
    with pytest.raises(SettingError, match=r"no clip named like the shots around the holes \(looked for "
                                           r"'sc01_close', 'sc01_close_tk2', 'sc02_wide'"):
        run_job(get_tool("coverage"), _job(prod, out=str(tmp_path / "o"), media=str(empty)), ListSink())
    bad = tmp_path / "cut.edl"
    bad.write_text("this is no edit\n")
    with pytest.raises(InputError, match=str(bad)):
        job = {"matchcut_job": 1, "tool": "coverage", "inputs": {"timeline": str(bad)},
               "outputs": {"out": str(tmp_path / "o2")}}
        run_job(get_tool("coverage"), job_from_dict(job, tmp_path), ListSink())


def test_a_punch_in_beyond_the_model_and_a_hole_nothing_covers_say_so(covered, tmp_path):
    prod, _, _, _, _ = covered
    sink = ListSink()
    run_job(get_tool("coverage"), _job(prod, out=str(tmp_path / "p"), punch=3.0, max_bridge=2, compare=False,
                                       max_slowdown=0.95), sink)
    data = json.loads((tmp_path / "p" / "report" / "coverage.json").read_text())
    refused = [r["why"] for h in data["holes"] for r in h["not_applicable"]]
    assert any("3.00x upscale, beyond the 2x of model 'waifu2x-photo-2x'" in w for w in refused)
    assert any("hole too long to bridge: 3 frames, at most 2" in w for w in refused)
    assert any("slower than --max-slowdown 0.95" in w for w in refused)
    nothing = [h for h in data["holes"] if not h["proposals"]]
    assert nothing and any(r["kind"] == "any" and "no option covers all" in r["why"]
                           for r in nothing[0]["not_applicable"])


def test_movie_media_at_another_rate_is_used_at_its_own_and_said(tmp_path):
    import av

    movie = tmp_path / "media" / "sh010.mov"
    movie.parent.mkdir()
    pictures = []
    with av.open(str(movie), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(20):
            picture = np.zeros((48, 64, 3), np.uint8)
            picture[:, :, 0] = 40 + 4 * index
            picture[8:24, 2 * index:2 * index + 16] = 220
            pictures.append(picture)
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    rng = otio.opentime.TimeRange(otio.opentime.RationalTime(1, 24), otio.opentime.RationalTime(8, 24))
    avail = otio.opentime.TimeRange(otio.opentime.RationalTime(1, 24), otio.opentime.RationalTime(20, 24))
    track.append(otio.schema.Clip(name="sh010", source_range=rng, media_reference=otio.schema.ExternalReference(
        target_url=movie.as_uri(), available_range=avail)))
    track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(3, 24)))
    track.append(otio.schema.Clip(name="sh010", source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(15, 24), otio.opentime.RationalTime(4, 24)),
        media_reference=otio.schema.ExternalReference(target_url=movie.as_uri(), available_range=avail)))
    timeline = otio.schema.Timeline(name="movie cut")
    timeline.tracks.append(track)
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    sink = ListSink()
    job = job_from_dict({"matchcut_job": 1, "tool": "coverage", "inputs": {"timeline": str(path)},
                         "outputs": {"out": "out"}, "params": {"compare": False, "quality": "preview"},
                         "device": {"provider": "cpu"}}, tmp_path)
    run_job(get_tool("coverage"), job, sink)
    assert any("runs at 25 fps, the timeline at 24" in e["message"] for e in sink.of("warning"))
    data = json.loads((tmp_path / "out" / "report" / "coverage.json").read_text())
    extend = next(p for p in data["holes"][0]["proposals"] if p["kind"] == "extend")
    first = extend["rendered"]["pattern"].replace("####", f"{extend['rendered']['first']:04d}")
    assert first.endswith(".png")  # a movie's frames are written again losslessly, not re-encoded
    from matchcut.frames import open_source

    source = open_source(str(movie), first_frame=1)
    frame = int(json.loads(read_metadata(first)["matchcut/source"])[0].rsplit("#", 1)[1]) + 1  # index -> frame
    assert np.array_equal(np.round(read_plate(first).pixels * 255), np.round(source.read(frame).pixels * 255))
