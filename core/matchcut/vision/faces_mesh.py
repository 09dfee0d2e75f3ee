"""The 468-point face mesh (MediaPipe face_landmark): the ROI from a detection, the crop, landmarks, triangles."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from matchcut.runtime.backends import DeviceOptions
from matchcut.vision.faces import FaceDetection

MODEL_ID = "face-landmarks"
TESSELLATION_FILE = "face-landmarks.tessellation.json"
NUM_POINTS = 468
CROP_SIZE = 192
#: face_detection_front_detection_to_roi.pbtxt: box grown 1.5x, square on its long side, eyes level.
ROI_SCALE = 1.5


@dataclass(frozen=True)
class FaceRoi:
    """A rotated square around a face, in image pixels: centre (cx, cy), side length, rotation (radians).

    rotation turns the crop so the eyes are level: a crop point (u, v) maps to the image by rotating its offset
    from the crop centre by ``rotation`` (counter-clockwise in maths axes, i.e. clockwise on screen, y down).
    """

    cx: float
    cy: float
    size: float
    rotation: float

    def crop_to_image(self, crop_size: int = CROP_SIZE) -> np.ndarray:
        """(2, 3) float64 affine: crop pixel (u, v, 1) -> image pixel (x, y); the crop is crop_size square."""
        s = self.size / crop_size
        c, n = math.cos(self.rotation) * s, math.sin(self.rotation) * s
        half = crop_size / 2.0
        return np.array([[c, -n, self.cx - c * half + n * half],
                         [n, c, self.cy - n * half - c * half]], dtype=np.float64)

    def corners(self) -> np.ndarray:
        """(4, 2) float64 image pixels of the ROI's corners: top-left, top-right, bottom-right, bottom-left."""
        a = self.crop_to_image(1)
        uv = np.array([[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=np.float64)
        return uv @ a.T


@dataclass(frozen=True, eq=False)
class FaceLandmarks:
    """The 468-point mesh of one face.

    points: (468, 3) float32 in image pixels (x right, y down); z is depth in the same pixel scale as x,
    negative towards the camera, relative to the face's centre (as MediaPipe). score: face presence in [0, 1]
    (sigmoid of the model's face flag; below ~0.5 the crop held no face). roi: the crop the model saw;
    transform: its (2, 3) crop-to-image affine (192-px crop).
    """

    points: np.ndarray
    score: float
    roi: FaceRoi
    transform: np.ndarray


def face_roi(face: FaceDetection) -> FaceRoi:
    """The landmark model's ROI for a detection, as MediaPipe computes it from the detector's output.

    Centre of the detector's box; side 1.5x the box's longer side; rotation from the right-eye -> left-eye
    keypoint vector so the crop has the eyes level (target angle 0).
    """
    x0, y0, x1, y1 = face.box
    right_eye, left_eye = face.keypoints[0].astype(np.float64), face.keypoints[1].astype(np.float64)
    angle = -math.atan2(-(left_eye[1] - right_eye[1]), left_eye[0] - right_eye[0])
    angle = (angle + math.pi) % (2 * math.pi) - math.pi
    size = max(x1 - x0, y1 - y0) * ROI_SCALE
    return FaceRoi((x0 + x1) / 2.0, (y0 + y1) / 2.0, float(size), float(angle))


def crop_face(rgb01: np.ndarray, roi: FaceRoi, crop_size: int = CROP_SIZE, *, antialias: bool = True) -> np.ndarray:
    """The ROI resampled to a (crop_size, crop_size, 3) float32 crop, pixels past the image edge replicated.

    antialias=False: bilinear point samples exactly as MediaPipe; the default area-averages first when the face
    is over twice the crop's size (see sessions.sample_affine).
    """
    from matchcut.vision.sessions import sample_affine

    return sample_affine(rgb01, roi.crop_to_image(crop_size), crop_size, crop_size, border="replicate",
                         antialias=antialias)


def face_landmarks(image: np.ndarray, face: FaceDetection, *, device: DeviceOptions | None = None,
                   antialias: bool = True) -> FaceLandmarks:
    """The 468-point mesh of the face found by detect_faces.

    image: (H, W, 3) float32 sRGB-encoded display values in [0, 1] (uint8 accepted), the same image the
    detection came from. The ROI (face_roi) is warped to 192x192, run through the `face-landmarks` model in
    the input range its manifest declares, and the points mapped back with the ROI's transform.
    antialias: see crop_face (False reproduces MediaPipe's own numbers, as the parity tests check).
    """
    from matchcut.vision.sessions import (
        as_rgb01,
        fixed_size,
        model_session,
        output_by_size,
        run_nhwc,
        to_input_range,
    )

    rgb = as_rgb01(image, "face_landmarks image")
    manifest, session = model_session(MODEL_ID, device)
    crop_size = fixed_size(manifest)[0]
    roi = face_roi(face)
    crop = crop_face(rgb, roi, crop_size, antialias=antialias)
    spec = manifest.inputs[0] if manifest.inputs else None
    batch = (to_input_range(crop, spec) if spec is not None else crop)[None]
    outputs = run_nhwc(manifest, session, batch)
    raw = output_by_size(manifest, outputs, NUM_POINTS * 3, "landmark").reshape(NUM_POINTS, 3).astype(np.float64)
    flag = float(output_by_size(manifest, outputs, 1, "face flag")[0])
    transform = roi.crop_to_image(crop_size)
    points = np.empty((NUM_POINTS, 3), np.float32)
    points[:, :2] = raw[:, :2] @ transform[:, :2].T + transform[:, 2]
    points[:, 2] = raw[:, 2] * (roi.size / crop_size)
    score = 1.0 / (1.0 + math.exp(-max(-100.0, min(100.0, flag))))
    return FaceLandmarks(points, score, roi, transform)


def face_mesh_triangles(manifest=None) -> np.ndarray:
    """The face mesh's triangles: (T, 3) int32 indices into the 468 landmarks.

    Read from the `face-landmarks` model's tessellation data file (listed and sha256-checked in its manifest;
    852 triangles for MediaPipe's mesh, a disc with holes at the eyes and mouth). manifest: the face-landmarks
    ModelManifest (default: the installed one).
    """
    from matchcut.errors import ManifestError
    from matchcut.models.registry import cached_sha256, find_model

    manifest = manifest if manifest is not None else find_model(MODEL_ID)
    path = manifest.data_path(TESSELLATION_FILE)
    expected = next(d.sha256 for d in manifest.data if d.file == TESSELLATION_FILE)
    actual = cached_sha256(path)
    if actual != expected:
        from matchcut.errors import ChecksumError

        raise ChecksumError(str(path), expected, actual)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ManifestError(str(path), f"tessellation data is not readable JSON: {exc}") from exc
    if not isinstance(data, dict) or "triangles" not in data:
        raise ManifestError(str(path), "tessellation data has no 'triangles' list")
    try:
        tris = np.asarray(data["triangles"], dtype=np.int32).reshape(-1, 3)
    except (TypeError, ValueError) as exc:
        raise ManifestError(str(path), f"tessellation 'triangles' is not a list of index triples: {exc}") from exc
    if tris.size == 0 or tris.min() < 0 or tris.max() >= NUM_POINTS:
        raise ManifestError(str(path), f"tessellation indices must lie in 0..{NUM_POINTS - 1}")
    return tris
