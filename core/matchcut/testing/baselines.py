"""The baselines RIFE is measured against: a 50/50 (time-weighted) blend, OpenCV DIS flow warping, and FFmpeg's
motion-compensated ``minterpolate`` (through PyAV's libavfilter: what an editor reaches for without Matchcut)."""

from __future__ import annotations

import numpy as np


def blend(frame0: np.ndarray, frame1: np.ndarray, t: float) -> np.ndarray:
    """Cross-dissolve: (1 - t) * frame0 + t * frame1 (t = 0.5 is the 50/50 blend); float32 (H, W, 3)."""
    return np.ascontiguousarray((1 - t) * frame0 + t * frame1, dtype=np.float32)


def dis_flow(frame0: np.ndarray, frame1: np.ndarray) -> np.ndarray:
    """OpenCV DIS optical flow (preset MEDIUM) from frame0 to frame1: float32 (H, W, 2) in pixels (dx, dy).
    Frames: float32 (H, W, 3) display values in [0, 1]; the flow runs on their 8-bit grey."""
    import cv2

    def grey(frame: np.ndarray) -> np.ndarray:
        return cv2.cvtColor((np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2GRAY)

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(grey(frame0), grey(frame1), None)


def _warp(frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
    import cv2

    height, width = frame.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return cv2.remap(frame, xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def dis_interpolate(frame0: np.ndarray, frame1: np.ndarray, t: float) -> np.ndarray:
    """The frame at ``t`` by a simple bidirectional warp on DIS flow: frame0 pulled along t * flow(1 -> 0),
    frame1 along (1 - t) * flow(0 -> 1) (flows taken at the same pixel, the usual linear-motion shortcut),
    blended (1 - t) : t. Frames and result: float32 (H, W, 3) display values in [0, 1]."""
    f01 = dis_flow(frame0, frame1)
    f10 = dis_flow(frame1, frame0)
    w0 = _warp(frame0, np.float32(t) * f10)
    w1 = _warp(frame1, np.float32(1 - t) * f01)
    return np.ascontiguousarray(np.clip((1 - t) * w0 + t * w1, 0, 1), dtype=np.float32)


#: minterpolate's options: motion-compensated interpolation, overlapped blocks, bidirectional motion search and
#: variable-size blocks (FFmpeg's best-quality settings, as an editor would pick them for a slow-motion shot).
MINTERPOLATE = "mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1"


def _to_frame(frame: np.ndarray, pts: int):
    import av

    out = av.VideoFrame.from_ndarray((np.clip(frame, 0, 1) * 255.0 + 0.5).astype(np.uint8), format="rgb24")
    out.pts = pts
    return out


def minterpolate(frames: list[np.ndarray], factor: int) -> list[np.ndarray]:
    """FFmpeg's ``minterpolate`` raising the rate of evenly spaced ``frames`` (each (H, W, 3) float32 display
    values in [0, 1], quantised to 8 bits as a movie's are) by ``factor``: output k lies at input time
    k / factor, so the in-betweens of inputs i and i + 1 are outputs i * factor + 1 ... (i + 1) * factor - 1
    (it stops short of the last input's own in-betweens: give one frame more than needed). Returns float32 (H, W, 3) frames in [0, 1]."""
    from fractions import Fraction

    import av
    from av.filter import Graph

    height, width = frames[0].shape[:2]
    graph = Graph()
    source = graph.add_buffer(width=width, height=height, format="rgb24", time_base=Fraction(1, 1))
    interpolate = graph.add("minterpolate", f"fps={int(factor)}:{MINTERPOLATE}")
    rgb = graph.add("format", "rgb24")
    sink = graph.add("buffersink")
    source.link_to(interpolate)
    interpolate.link_to(rgb)
    rgb.link_to(sink)
    graph.configure()
    out: list[np.ndarray] = []

    def drain() -> None:
        while True:
            try:
                out.append(graph.pull().to_ndarray().astype(np.float32) / 255.0)
            except (av.error.BlockingIOError, av.error.EOFError):
                return

    for i, frame in enumerate(frames):
        graph.push(_to_frame(frame, i))
        drain()
    graph.push(None)
    drain()
    return out


def minterpolate_between(before: np.ndarray, frame0: np.ndarray, frame1: np.ndarray, after: np.ndarray,
                         times: list[float]) -> list[np.ndarray]:
    """The frames at ``times`` (each k / n for one n, 0 < t < 1) between ``frame0`` and ``frame1`` by
    ``minterpolate``, given the frames one gap before and after (its motion search looks both ways)."""
    from fractions import Fraction

    steps = [Fraction(t).limit_denominator(64) for t in times]
    factor = 1
    for s in steps:
        factor = factor * s.denominator // np.gcd(factor, s.denominator)
    out = minterpolate([before, frame0, frame1, after], factor)
    return [out[factor + int(s * factor)] for s in steps]
