"""Auto detection of bad frames and scene cuts on real sequences written in the test."""

import numpy as np
import pytest

from matchcut.errors import ShapeMismatchError
from matchcut.frames import Plate, open_source, write_plate
from matchcut.retime.cuts import cut_distance, is_cut
from matchcut.retime.defects import check_sizes, find_defects, scan
from matchcut.testing.photos import photo
from matchcut.testing.sequences import warped_frame


@pytest.fixture(scope="module")
def img():
    return photo("astronaut", colorspace="srgb")


def _sequence(folder, img, count=8, edit=None):
    folder.mkdir(exist_ok=True)
    for k in range(count):
        f = 1001 + k
        pixels = warped_frame(img, (64, 80), k)
        pixels = edit(f, pixels) if edit else pixels
        if pixels is not None:
            write_plate(folder / f"p.{f:04d}.png", Plate(pixels))
    return open_source(str(folder / "p.####.png"))


def test_finds_missing_unreadable_black_flash_and_duplicate_with_reasons(tmp_path, img):
    frames = {}

    def edit(f, px):
        frames[f] = px
        return {1002: None, 1003: px * 0, 1005: np.clip(px + 0.5, 0, 1), 1007: frames.get(1006)}.get(f, px)

    source = _sequence(tmp_path, img, edit=edit)
    (tmp_path / "p.1004.png").write_bytes(b"not a png")
    all_frames = list(range(1001, 1009))
    stats, reasons = scan(source, all_frames)
    reasons.update(find_defects(stats, all_frames))
    assert reasons[1002] == "missing file"
    assert reasons[1004].startswith("unreadable")
    assert reasons[1003].startswith("black frame")
    assert reasons[1005].startswith("flash frame")
    assert reasons[1007] == "exact duplicate of frame 1006"
    assert set(reasons) == {1002, 1003, 1004, 1005, 1007}, reasons


@pytest.mark.parametrize("run", [(1004, 1005), (1003, 1004, 1005)])
def test_a_flash_over_several_frames_is_found_but_a_lasting_light_change_is_not(tmp_path, img, run):
    flashed = _sequence(tmp_path / "flash", img, count=9,
                        edit=lambda f, px: np.clip(px + 0.5, 0, 1) if f in run else px)
    frames = list(range(1001, 1010))
    stats, _ = scan(flashed, frames)
    reasons = find_defects(stats, frames)
    assert set(reasons) == set(run), reasons
    assert all(r.startswith(f"flash frame, one of {len(run)} ({run[0]}-{run[-1]}") for r in reasons.values())

    # The same jump that stays (a light switched on): nothing to rebuild.
    lit = _sequence(tmp_path / "lit", img, count=9, edit=lambda f, px: np.clip(px + 0.5, 0, 1) if f >= run[0] else px)
    stats, _ = scan(lit, frames)
    assert find_defects(stats, frames) == {}


def test_clean_moving_sequence_has_no_defects(tmp_path, img):
    source = _sequence(tmp_path, img)
    frames = list(range(1001, 1009))
    stats, reasons = scan(source, frames)
    assert reasons == {} and find_defects(stats, frames) == {}


def test_mixed_sizes_are_named(tmp_path, img):
    source = _sequence(tmp_path, img, count=3)
    write_plate(tmp_path / "p.1004.png", Plate(warped_frame(img, (60, 80), 3)))
    stats, _ = scan(open_source(str(tmp_path / "p.####.png")), [1001, 1002, 1003, 1004])
    with pytest.raises(ShapeMismatchError, match="frame 1004 is 80x60"):
        check_sizes(stats, "p.####.png")
    del source


def test_cut_between_two_photos_but_not_across_motion(img):
    a, b = warped_frame(img, (128, 160), 0), warped_frame(img, (128, 160), 4)
    other = warped_frame(photo("coffee", colorspace="srgb"), (128, 160), 0)
    assert cut_distance(a, b) < 0.2
    assert not is_cut(a, b)
    assert is_cut(a, other)
