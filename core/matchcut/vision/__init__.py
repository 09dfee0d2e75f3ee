"""People in frames: person masks, face detection and the 468-point face mesh (MediaPipe models, ONNX).

Import-light: OpenCV and onnxruntime are imported inside the functions that run the models.
"""

from matchcut.vision.faces import KEYPOINT_NAMES, FaceDetection, detect_faces
from matchcut.vision.faces_mesh import FaceLandmarks, FaceRoi, face_landmarks, face_mesh_triangles, face_roi
from matchcut.vision.segmentation import gated_person_mask, person_mask, person_present
from matchcut.vision.sessions import clear_sessions, model_session

__all__ = [
    "KEYPOINT_NAMES",
    "FaceDetection",
    "FaceLandmarks",
    "FaceRoi",
    "clear_sessions",
    "detect_faces",
    "face_landmarks",
    "face_mesh_triangles",
    "face_roi",
    "gated_person_mask",
    "model_session",
    "person_mask",
    "person_present",
]
