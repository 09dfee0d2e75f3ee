"""The two baselines RIFE is measured against: a 50/50 (time-weighted) blend and OpenCV DIS flow warping."""

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
