"""Face detection with MediaPipe's BlazeFace short-range model: anchors, box decoding, weighted NMS, letterbox."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from matchcut.runtime.backends import DeviceOptions

MODEL_ID = "face-detection"
#: The detector's six keypoints, in the model's order (the person's right eye is on the image's left).
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")

# face_detection_short_range.pbtxt (MediaPipe 0.10.21): SsdAnchorsCalculator and TensorsToDetectionsCalculator.
INPUT_SIZE = 128
STRIDES = (8, 16, 16, 16)
NUM_ANCHORS = 896
NUM_COORDS = 16
SCORE_CLIP = 100.0
SUPPRESSION_IOU = 0.3


@dataclass(frozen=True, eq=False)
class FaceDetection:
    """One detected face, in image pixels (x right, y down, origin at the top-left pixel's corner).

    box: (x0, y0, x1, y1) float, not clipped (a face at the frame edge reaches past it);
    score: detector confidence in [0, 1];
    keypoints: (6, 2) float32 (x, y), in KEYPOINT_NAMES order.
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray

    def keypoint(self, name: str) -> np.ndarray:
        """The (x, y) of one keypoint by name (see KEYPOINT_NAMES)."""
        from matchcut.errors import SettingError

        if name not in KEYPOINT_NAMES:
            raise SettingError("keypoint", f"unknown keypoint '{name}'", KEYPOINT_NAMES)
        return self.keypoints[KEYPOINT_NAMES.index(name)]


def ssd_anchors() -> np.ndarray:
    """BlazeFace short-range anchor centres: (896, 2) float32 (x, y) normalised to [0, 1] of the 128-px input.

    As MediaPipe's SsdAnchorsCalculator with fixed_anchor_size: layers of equal stride share one grid, each
    layer adds two anchors per cell (aspect 1.0 plus the interpolated scale), so stride 8 gives 16x16x2 and the
    three stride-16 layers 8x8x6; every anchor has width and height 1, so only centres matter.
    """
    centres = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        per_cell = 0
        while layer < len(STRIDES) and STRIDES[layer] == stride:
            per_cell += 2
            layer += 1
        size = int(np.ceil(INPUT_SIZE / stride))
        ys, xs = np.meshgrid((np.arange(size) + 0.5) / size, (np.arange(size) + 0.5) / size, indexing="ij")
        cell = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cell, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray,
                      min_score: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn the detector's raw outputs into candidate boxes, before non-maximum suppression.

    raw_boxes: (896, 16) float32 (x, y, w, h, then six keypoint (x, y)) in 128-px input units relative to the
    anchor; raw_scores: (896,) logits; anchors: (896, 2) from ssd_anchors(). Scores are sigmoid(clip(logit,
    +-100)). Returns (boxes (N, 4) x0, y0, x1, y1, keypoints (N, 6, 2), scores (N,)), all float32, normalised
    to [0, 1] of the square input, only for scores >= min_score, highest score first.
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float32).reshape(-1, NUM_COORDS)
    logits = np.clip(np.asarray(raw_scores, dtype=np.float32).reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))  # float32 exp overflows at 100
    keep = np.flatnonzero(scores >= min_score)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    r, a = raw_boxes[keep] / np.float32(INPUT_SIZE), anchors[keep]
    cx, cy = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
    half_w, half_h = r[:, 2] / 2, r[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    keypoints = r[:, 4:].reshape(-1, 6, 2) + a[:, None, :]
    return boxes.astype(np.float32), keypoints.astype(np.float32), scores[keep].astype(np.float32)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (4,) box with (N, 4) boxes, all (x0, y0, x1, y1); (N,) float."""
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    union = _area(box) + _area(boxes) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _area(b: np.ndarray) -> np.ndarray:
    return np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 iou_threshold: float = SUPPRESSION_IOU) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's WEIGHTED non-maximum suppression.

    Takes the best remaining detection, gathers every remaining one overlapping it by IoU > iou_threshold
    (itself included), and outputs their score-weighted mean box and keypoints with the best one's score.
    Inputs as decode_detections returns them (sorted by score); returns the same three arrays, merged.
    """
    order = np.argsort(-scores, kind="stable")
    out_boxes, out_kps, out_scores = [], [], []
    while order.size:
        top = order[0]
        overlap = box_iou(boxes[top], boxes[order]) > iou_threshold
        overlap[0] = True
        group = order[overlap]
        weights = scores[group][:, None]
        total = weights.sum()
        out_boxes.append((boxes[group] * weights).sum(0) / total)
        out_kps.append((keypoints[group] * weights[:, :, None]).sum(0) / total)
        out_scores.append(scores[top])
        order = order[~overlap]
    if not out_scores:
        return (np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros((0,), np.float32))
    return (np.array(out_boxes, np.float32), np.array(out_kps, np.float32), np.array(out_scores, np.float32))


def letterbox_transform(height: int, width: int, size: int = INPUT_SIZE) -> np.ndarray:
    """(2, 3) affine taking a pixel of the size x size letterboxed input to image pixels.

    As MediaPipe's keep_aspect_ratio: the image's long side fills the square, centred, the rest padded;
    the padding is exact (fractional), so the map back to image pixels is too.
    """
    side = max(height, width)
    k = side / size
    return np.array([[k, 0.0, -(side - width) / 2.0], [0.0, k, -(side - height) / 2.0]], dtype=np.float64)


def detect_faces(image: np.ndarray, *, min_score: float = 0.5, device: DeviceOptions | None = None,
                 max_faces: int | None = None, antialias: bool = True) -> list[FaceDetection]:
    """Faces in an image, best first, with MediaPipe's short-range BlazeFace (faces within ~2 m of the camera).

    image: (H, W, 3) float32 sRGB-encoded display values in [0, 1] (uint8 accepted). The image is letterboxed
    to 128x128 (black borders; antialias=False samples exactly as MediaPipe, the default area-averages large
    frames first, see sessions.sample_affine), run through the `face-detection` model in its declared input
    range, decoded, merged by weighted NMS and mapped back to image pixels. Faces smaller than about 1/10 of
    the image's longer side are usually missed (the model's smallest anchors); crop first for wide shots.
    A detection alone can be a false face (a cat scores 0.55): person_present confirms with the mesh model.
    Returns FaceDetection objects with score >= min_score, at most max_faces of them.
    """
    from matchcut.errors import SettingError
    from matchcut.vision.sessions import (
        as_rgb01,
        model_session,
        output_by_size,
        run_nhwc,
        sample_affine,
        to_input_range,
    )

    if not 0.0 <= min_score <= 1.0:
        raise SettingError("min_score", f"expected a score in [0, 1], got {min_score}")
    rgb = as_rgb01(image, "detect_faces image")
    manifest, session = model_session(MODEL_ID, device)
    to_image = letterbox_transform(*rgb.shape[:2])
    square = sample_affine(rgb, to_image, INPUT_SIZE, INPUT_SIZE, border="zero", antialias=antialias)
    spec = manifest.inputs[0] if manifest.inputs else None
    batch = to_input_range(square, spec)[None] if spec is not None else square[None]
    outputs = run_nhwc(manifest, session, batch)
    raw_boxes = output_by_size(manifest, outputs, NUM_ANCHORS * NUM_COORDS, "box regressor")
    raw_scores = output_by_size(manifest, outputs, NUM_ANCHORS, "score")
    boxes, kps, scores = decode_detections(raw_boxes, raw_scores, _anchors(), min_score)
    boxes, kps, scores = weighted_nms(boxes, kps, scores)
    faces = []
    for box, kp, score in zip(boxes, kps, scores, strict=True):
        corners = box.reshape(2, 2).astype(np.float64) * INPUT_SIZE @ to_image[:, :2].T + to_image[:, 2]
        kx = kp.astype(np.float64) * INPUT_SIZE @ to_image[:, :2].T + to_image[:, 2]
        bx = corners.reshape(4)
        faces.append(FaceDetection(tuple(float(v) for v in bx), float(score), kx.astype(np.float32)))
    return faces[:max_faces] if max_faces is not None else faces


@functools.lru_cache(maxsize=1)
def _anchors() -> np.ndarray:
    anchors = ssd_anchors()
    anchors.flags.writeable = False  # shared between calls
    return anchors
