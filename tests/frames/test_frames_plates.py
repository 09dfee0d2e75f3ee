"""Reading and writing plates: EXR round trips, formats, compression, metadata, atomic writes, bad files."""

from __future__ import annotations

import os

import numpy as np
import pytest

from matchcut.errors import FrameReadError, FrameWriteError, PixelValueError, SettingError, ShapeMismatchError
from matchcut.frames.plates import EXR_COMPRESSIONS, Plate, read_metadata, read_plate, write_plate
from matchcut.provenance import Provenance

RNG = np.random.default_rng(1234)


def random_pixels(height: int, width: int, channels: int, scale: float = 4.0) -> np.ndarray:
    # Scene-linear values above 1 and below 0, as real plates have.
    return (RNG.standard_normal((height, width, channels)) * scale).astype(np.float32)


def smooth_pixels(height: int, width: int, channels: int) -> np.ndarray:
    # Lossy codecs (B44, DWA, JPEG) are only close on picture-like content, not on noise.
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    layers = [0.5 + 0.4 * np.sin(x / width * (2 + c) + y / height * (1 + c)) for c in range(channels)]
    return np.stack(layers, axis=2).astype(np.float32)


def by_name(plate: Plate) -> dict[str, np.ndarray]:
    return {name: plate.channel(name) for name in plate.channels}


def half_close(a: np.ndarray, b: np.ndarray) -> bool:
    return np.allclose(a, b, rtol=1e-3, atol=1e-4)


def leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if ".tmp-" in name]


@pytest.mark.parametrize(
    "channels",
    [
        ("R", "G", "B"),
        ("R", "G", "B", "A"),
        ("Y",),
        ("Y", "A"),
        ("R", "G", "B", "A", "depth.Z"),
        ("R", "G", "B", "N.X", "N.Y"),
    ],
)
def test_exr_round_trip_channels(tmp_path, channels):
    pixels = random_pixels(6, 7, len(channels))
    plate = Plate(pixels, channels)
    out = write_plate(tmp_path / "rt.exr", plate, dtype="float")
    back = read_plate(out)
    assert set(back.channels) == set(channels)
    assert back.pixels.dtype == np.float32 and back.pixels.flags.c_contiguous
    assert back.pixels.shape == (6, 7, len(channels))
    original = by_name(plate)
    for name, values in by_name(back).items():
        np.testing.assert_array_equal(values, original[name])
    assert back.source == str(out)


def test_exr_half_and_float(tmp_path):
    import OpenImageIO as oiio

    pixels = random_pixels(5, 4, 3)
    write_plate(tmp_path / "h.exr", pixels, dtype="half")
    write_plate(tmp_path / "f.exr", pixels, dtype="float")
    formats = {}
    for name in ("h.exr", "f.exr"):
        inp = oiio.ImageInput.open(str(tmp_path / name))
        formats[name] = str(inp.spec().format)
        inp.close()
    assert formats == {"h.exr": "half", "f.exr": "float"}
    half = read_plate(tmp_path / "h.exr").pixels
    full = read_plate(tmp_path / "f.exr").pixels
    np.testing.assert_array_equal(full, pixels)
    assert half_close(half, pixels)
    assert not np.array_equal(half, pixels)  # half really rounds
    np.testing.assert_array_equal(half, pixels.astype(np.float16).astype(np.float32))


def test_one_channel_2d_array_pitfall(tmp_path):
    # OpenImageIO 3.2.2 misreads 2-D arrays; write_plate must hand it (H, W, 1).
    matte = RNG.random((9, 13), dtype=np.float32)
    write_plate(tmp_path / "matte.exr", matte, kind="matte")
    back = read_plate(tmp_path / "matte.exr")
    assert back.pixels.shape == (9, 13, 1)
    assert back.channels == ("Y",)
    assert np.isfinite(back.pixels).all()
    np.testing.assert_array_equal(back.pixels[:, :, 0], matte.astype(np.float16).astype(np.float32))
    write_plate(tmp_path / "alpha.exr", matte, channels=("A",), dtype="float")
    alpha = read_plate(tmp_path / "alpha.exr")
    assert alpha.channels == ("A",)
    np.testing.assert_array_equal(alpha.alpha, matte)


def test_windows_kept(tmp_path):
    plate = Plate(random_pixels(4, 6, 4), ("R", "G", "B", "A"), data_window=(10, 20, 6, 4), display_window=(0, 0, 64, 48))
    back = read_plate(write_plate(tmp_path / "win.exr", plate))
    assert back.data_window == (10, 20, 6, 4)
    assert back.display_window == (0, 0, 64, 48)
    again = read_plate(write_plate(tmp_path / "win2.exr", back))
    assert again.data_window == (10, 20, 6, 4) and again.display_window == (0, 0, 64, 48)


@pytest.mark.parametrize("compression", EXR_COMPRESSIONS)
def test_each_compression(tmp_path, compression):
    lossy = compression in ("b44", "b44a", "dwaa", "dwab")
    pixels = smooth_pixels(32, 40, 3) if lossy else random_pixels(20, 24, 3)
    out = write_plate(tmp_path / "c.exr", pixels, compression=compression)
    back = read_plate(out)
    assert back.metadata["compression"] == compression
    if lossy:
        assert np.abs(back.pixels - pixels).max() < 0.02
    else:
        np.testing.assert_array_equal(back.pixels, pixels.astype(np.float16).astype(np.float32))


def test_compression_default_by_kind(tmp_path):
    pixels = random_pixels(4, 4, 3)
    assert read_metadata(write_plate(tmp_path / "p.exr", pixels))["compression"] == "piz"
    assert read_metadata(write_plate(tmp_path / "m.exr", pixels, kind="matte"))["compression"] == "zip"
    assert read_metadata(write_plate(tmp_path / "s.exr", pixels, kind="pass"))["compression"] == "zip"
    assert read_metadata(write_plate(tmp_path / "d.exr", pixels, compression="dwaa:45"))["compression"] == "dwaa"


def test_unknown_compression_and_kind(tmp_path):
    with pytest.raises(SettingError, match=r"unknown EXR compression 'lzma'.*valid: b44, b44a, dwaa.*zips"):
        write_plate(tmp_path / "x.exr", random_pixels(4, 4, 3), compression="lzma")
    with pytest.raises(SettingError, match="kind"):
        write_plate(tmp_path / "x.exr", random_pixels(4, 4, 3), kind="beauty")
    with pytest.raises(SettingError, match="dtype"):
        write_plate(tmp_path / "x.exr", random_pixels(4, 4, 3), dtype="uint8")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "name, dtype, levels",
    [
        ("a.png", "uint8", 255),
        ("a.png", "uint16", 65535),
        ("a.png", "half", 65535),  # "half" means the format's usual depth: 16-bit PNG
        ("a.tif", "uint8", 255),
        ("a.tif", "uint16", 65535),
        ("a.dpx", "uint10", 1023),
        ("a.dpx", "half", 1023),
        ("a.jpg", "uint8", None),
    ],
)
def test_integer_formats_round_trip(tmp_path, name, dtype, levels):
    pixels = smooth_pixels(16, 24, 3) if levels is None else RNG.random((16, 12, 3), dtype=np.float32)
    back = read_plate(write_plate(tmp_path / name, pixels, dtype=dtype))
    assert back.channels == ("R", "G", "B")
    if levels is None:  # JPEG is lossy: only close
        assert np.abs(back.pixels - pixels).mean() < 0.02
    else:
        # Within half a step of the quantiser (plus float rounding inside OpenImageIO).
        assert np.abs(back.pixels - pixels).max() <= 0.51 / levels
        np.testing.assert_allclose(back.pixels * levels, np.round(back.pixels * levels), atol=1e-3)


def test_tiff_float_exact(tmp_path):
    pixels = random_pixels(5, 6, 4)
    back = read_plate(write_plate(tmp_path / "f.tif", pixels, dtype="float"))
    np.testing.assert_array_equal(back.pixels, pixels)


def test_integer_formats_clamp(tmp_path):
    pixels = np.array([[[-0.5, 0.25, 3.0], [np.nan, np.inf, -np.inf]]], dtype=np.float32)
    back = read_plate(write_plate(tmp_path / "c.png", pixels, dtype="uint8"))
    np.testing.assert_allclose(back.pixels, [[[0.0, 64 / 255, 1.0], [0.0, 1.0, 0.0]]], atol=1e-6)


def test_png_alpha_is_associated(tmp_path):
    # Plates hold premultiplied colour; PNG stores straight alpha, so the round trip passes through /A and *A.
    pixels = RNG.random((8, 8, 4), dtype=np.float32)
    pixels[..., 3] = 0.5 + 0.5 * pixels[..., 3]
    pixels[..., :3] *= pixels[..., 3:]
    back = read_plate(write_plate(tmp_path / "a.png", pixels, dtype="uint16"))
    assert back.channels == ("R", "G", "B", "A")
    assert np.abs(back.pixels - pixels).max() < 3 / 65535


def test_channel_count_limits(tmp_path):
    with pytest.raises(FrameWriteError, match="jpeg holds 1, 3 channels"):
        write_plate(tmp_path / "x.jpg", random_pixels(4, 4, 2))
    with pytest.raises(FrameWriteError, match="png holds"):
        write_plate(tmp_path / "x.png", random_pixels(4, 4, 5))
    with pytest.raises(FrameWriteError, match="unknown image extension '.bmpx'"):
        write_plate(tmp_path / "x.bmpx", random_pixels(4, 4, 3))


@pytest.mark.parametrize("name", ["p.exr", "p.png", "p.tif", "p.dpx", "p.jpg"])
def test_provenance_and_colorspace_in_header(tmp_path, name):
    provenance = Provenance("apply", {"model": "denoise", "strength": 0.5}, "denoise", "ab" * 32, ("in.1001.exr",))
    out = write_plate(tmp_path / name, RNG.random((4, 5, 3), dtype=np.float32), provenance=provenance,
                      colorspace="ACEScg")
    header = read_metadata(out)
    for key, value in provenance.attributes().items():
        assert header[key] == value, key
    assert header["matchcut/hash"] == provenance.hash
    assert read_plate(out).colorspace == "ACEScg"


def test_colorspace_none_when_file_is_silent(tmp_path):
    assert read_plate(write_plate(tmp_path / "a.exr", random_pixels(3, 3, 3))).colorspace is None
    assert read_plate(write_plate(tmp_path / "a.png", RNG.random((3, 3, 3), dtype=np.float32))).colorspace is None


def test_metadata_carried_and_stale_provenance_dropped(tmp_path):
    first = Provenance("relight", {"a": 1})
    src = write_plate(tmp_path / "src.exr", random_pixels(4, 4, 3), provenance=first, compression="zip")
    plate = read_plate(src)
    plate.metadata["shot"] = "sh010"
    plate.metadata["worldToCamera"] = tuple(float(i) for i in range(16))
    plate.metadata["FramesPerSecond"] = (24000, 1001)
    plate.metadata["lens"] = np.array([35.0, 1.5, 0.25], np.float32)
    plate.metadata["offset"] = (3, 4)
    plate.metadata["too_big"] = 2**40  # a header int is 32 bits: skipped, not a failed write
    plate.metadata["nothing"] = None
    out = write_plate(tmp_path / "out.exr", plate)
    header = read_metadata(out)
    assert header["lens"] == (35.0, 1.5, 0.25)
    assert header["offset"] == (3, 4)
    assert "too_big" not in header and "nothing" not in header
    assert header["shot"] == "sh010"
    assert header["worldToCamera"] == tuple(float(i) for i in range(16))
    assert header["FramesPerSecond"] == (24000, 1001)
    assert header["compression"] == "piz"  # the output's own, not the input's zip
    assert "matchcut/hash" not in header  # the input's hash does not describe this output
    second = Provenance("shotmatch", {"b": 2})
    assert read_metadata(write_plate(tmp_path / "out2.exr", plate, provenance=second))["matchcut/hash"] == second.hash


def test_tiff_description_kept_beside_provenance(tmp_path):
    plate = Plate(RNG.random((3, 3, 3), dtype=np.float32), metadata={"ImageDescription": "grade v2"})
    out = write_plate(tmp_path / "d.tif", plate, provenance=Provenance("apply"))
    header = read_metadata(out)
    assert header["ImageDescription"] == "grade v2"
    assert header["matchcut/tool"] == "apply"


def test_refuses_to_overwrite_inputs(tmp_path):
    src = write_plate(tmp_path / "in.exr", random_pixels(4, 4, 3))
    before = src.read_bytes()
    plate = read_plate(src)
    with pytest.raises(FrameWriteError, match="would overwrite an input"):
        write_plate(src, plate)  # its own source
    other = tmp_path / "other.exr"
    with pytest.raises(FrameWriteError, match="would overwrite an input"):
        write_plate(other, random_pixels(4, 4, 3), protect=[other])
    link = tmp_path / "link.exr"
    link.symlink_to(src)
    with pytest.raises(FrameWriteError, match="would overwrite an input"):
        write_plate(link, random_pixels(4, 4, 3), protect=[str(src)])
    with pytest.raises(FrameWriteError, match="would overwrite an input"):
        write_plate(tmp_path / "sub" / ".." / "in.exr", random_pixels(4, 4, 3), protect=[src])
    assert src.read_bytes() == before
    assert not other.exists()
    assert leftovers(tmp_path) == []


def test_unwritable_folder(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"not a folder")
    with pytest.raises(FrameWriteError, match="cannot create folder") as info:
        write_plate(blocker / "out" / "x.exr", random_pixels(4, 4, 3))
    assert str(blocker / "out" / "x.exr") in str(info.value)
    assert blocker.read_bytes() == b"not a folder"


def test_creates_missing_folders(tmp_path):
    out = write_plate(tmp_path / "a" / "b" / "x.exr", random_pixels(4, 4, 3))
    assert out.is_file()
    assert leftovers(out.parent) == []


def test_failed_encode_leaves_no_temp_and_keeps_old_file(tmp_path):
    dest = tmp_path / "two.dpx"
    dest.write_bytes(b"previous")
    with pytest.raises(FrameWriteError) as info:
        write_plate(dest, RNG.random((4, 4, 2), dtype=np.float32), dtype="uint10")  # DPX has no 2-channel layout
    assert str(dest) in str(info.value)
    assert dest.read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["two.dpx"]


def test_failed_rename_removes_finished_temp(tmp_path, monkeypatch):
    import matchcut.frames.plates as plates

    seen = []

    def failing_replace(src, dst):
        seen.append(os.path.basename(src))
        assert os.path.getsize(src) > 0  # the temporary file was fully written beside the destination
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(plates.os, "replace", failing_replace)
    dest = tmp_path / "sh010.1001.exr"
    with pytest.raises(FrameWriteError, match=r"sh010\.1001\.exr: cannot write: Permission denied"):
        write_plate(dest, random_pixels(4, 4, 3))
    assert len(seen) == 1 and seen[0].startswith(".sh010.1001.tmp-") and seen[0].endswith(".exr")
    assert os.listdir(tmp_path) == []


def test_overwrite_is_atomic_replace(tmp_path):
    dest = tmp_path / "x.exr"
    write_plate(dest, np.zeros((4, 4, 3), np.float32))
    write_plate(dest, np.ones((4, 4, 3), np.float32))
    np.testing.assert_array_equal(read_plate(dest).pixels, 1.0)
    assert os.listdir(tmp_path) == ["x.exr"]


def test_missing_file(tmp_path):
    with pytest.raises(FrameReadError, match="no such file"):
        read_plate(tmp_path / "nope.exr")
    with pytest.raises(FrameReadError, match="frame 1001: no such file"):
        read_plate(tmp_path / "nope.1001.exr", frame=1001)
    with pytest.raises(FrameReadError, match="no such file"):
        read_metadata(tmp_path / "nope.exr")


@pytest.mark.parametrize("name", ["t.exr", "t.png", "t.tif", "t.dpx", "t.jpg"])
def test_truncated_files(tmp_path, name):
    path = write_plate(tmp_path / name, RNG.random((64, 64, 3), dtype=np.float32))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FrameReadError) as info:
        read_plate(path)
    assert str(path) in str(info.value)


def test_corrupt_files(tmp_path):
    garbage = tmp_path / "g.exr"
    garbage.write_bytes(b"\x76\x2f\x31\x01" + bytes(range(256)) * 4)  # EXR magic, then nonsense
    with pytest.raises(FrameReadError):
        read_plate(garbage)
    text = tmp_path / "t.png"
    text.write_text("not an image")
    with pytest.raises(FrameReadError, match=str(text)):
        read_plate(text)


def make_nonfinite(tmp_path):
    pixels = np.ones((4, 5, 3), np.float32)
    pixels[1, 2, 1] = np.nan
    pixels[1, 2, 2] = np.inf
    pixels[3, 0, 0] = -np.inf
    pixels[3, 4, 2] = np.nan
    return write_plate(tmp_path / "nf.exr", Plate(pixels, data_window=(100, 200, 5, 4)), dtype="float"), pixels


def test_nonfinite_error(tmp_path):
    path, _ = make_nonfinite(tmp_path)
    with pytest.raises(PixelValueError) as info:
        read_plate(path, frame=1001)
    message = str(info.value)
    assert str(path) in message and "frame 1001" in message
    assert "2 pixel(s) with NaN and 2 with Inf" in message
    assert "x=102 y=201 channel 'G'" in message


def test_nonfinite_warn_and_fix(tmp_path):
    path, pixels = make_nonfinite(tmp_path)
    warned = read_plate(path, nonfinite="warn")
    assert warned.metadata["matchcut/nonfinite"] == 3
    np.testing.assert_array_equal(np.isfinite(warned.pixels), np.isfinite(pixels))
    fixed = read_plate(path, nonfinite="fix")
    assert fixed.metadata["matchcut/nonfinite"] == 3
    assert np.isfinite(fixed.pixels).all()
    np.testing.assert_array_equal(fixed.pixels, np.where(np.isfinite(pixels), pixels, 0))
    clean = read_plate(write_plate(tmp_path / "ok.exr", np.ones((2, 2, 3), np.float32)), nonfinite="warn")
    assert "matchcut/nonfinite" not in clean.metadata
    with pytest.raises(SettingError, match="nonfinite"):
        read_plate(path, nonfinite="ignore")


def test_plate_helpers():
    pixels = random_pixels(3, 4, 5)
    plate = Plate(pixels, ("R", "G", "B", "A", "depth.Z"), source="in.exr")
    assert (plate.height, plate.width, plate.nchannels) == (3, 4, 5)
    assert np.shares_memory(plate.rgb, plate.pixels)
    np.testing.assert_array_equal(plate.rgb, pixels[:, :, :3])
    np.testing.assert_array_equal(plate.alpha, pixels[:, :, 3])
    np.testing.assert_array_equal(plate.channel("depth.Z"), pixels[:, :, 4])
    with pytest.raises(ShapeMismatchError, match="in.exr: no channel 'N.X' .*depth.Z"):
        plate.channel("N.X")
    shuffled = Plate(pixels[:, :, :3], ("B", "R", "G"))
    np.testing.assert_array_equal(shuffled.rgb, pixels[:, :, [1, 2, 0]])
    assert shuffled.alpha is None
    with pytest.raises(ShapeMismatchError, match="no channel 'R'"):
        Plate(pixels[:, :, :1], ("Y",)).rgb  # noqa: B018


def test_plate_validation_and_with_pixels():
    with pytest.raises(ShapeMismatchError, match="2 channel name"):
        Plate(np.zeros((2, 2, 3)), ("R", "G"))
    with pytest.raises(ShapeMismatchError, match="duplicate"):
        Plate(np.zeros((2, 2, 2)), ("R", "R"))
    with pytest.raises(ShapeMismatchError, match=r"\(H, W, C\)"):
        Plate(np.zeros((2, 2, 2, 2)))
    plate = Plate(np.zeros((2, 3), np.float64), data_window=(5, 6, 3, 2), display_window=(0, 0, 10, 10),
                  metadata={"shot": "a"}, colorspace="ACEScg", source="s.exr")
    assert plate.pixels.dtype == np.float32 and plate.pixels.shape == (2, 3, 1)
    same = plate.with_pixels(np.ones((2, 3, 1)))
    assert same.channels == ("Y",) and same.data_window == (5, 6, 3, 2) and same.display_window == (0, 0, 10, 10)
    assert same.metadata == {"shot": "a"} and same.metadata is not plate.metadata
    assert same.colorspace == "ACEScg" and same.source == "s.exr"
    bigger = plate.with_pixels(np.ones((4, 6, 3)), channels=("R", "G", "B"))
    assert bigger.data_window == bigger.display_window == (0, 0, 6, 4)
    with pytest.raises(ShapeMismatchError, match="need names"):
        plate.with_pixels(np.ones((2, 3, 3)))
