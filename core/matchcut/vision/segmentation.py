"""Person masks from MediaPipe's selfie segmentation models, gated by face detection."""

from __future__ import annotations

import numpy as np

from matchcut.runtime.backends import DeviceOptions

#: variant -> zoo model id. "general" is 256x256, "landscape" 144x256 (16:9).
VARIANTS = {"general": "selfie-segmentation", "landscape": "selfie-segmentation-landscape"}
VARIANT_CHOICES = ("auto", *VARIANTS)
#: Frames at least this wide for their height use the landscape model under variant="auto".
LANDSCAPE_MIN_ASPECT = 1.5
#: person_present: the face-mesh presence score a detected face needs, and how many detections to try.
MIN_MESH_PRESENCE = 0.5
MAX_CANDIDATES = 5


def choose_variant(height: int, width: int, variant: str = "auto") -> str:
    """The model variant for a frame: "general" or "landscape".

    "auto" picks "landscape" for frames at least 1.5x as wide as tall (16:9, 2.39:1 plates): MediaPipe
    stretches the frame to the model's size without keeping aspect, and the landscape model's 16:9 input
    keeps a 16:9 frame undistorted (the general model would squash it 1.8x horizontally) at the same 256-px
    horizontal resolution. Square-ish and portrait frames use the general model.
    """
    from matchcut.errors import SettingError

    if variant not in VARIANT_CHOICES:
        raise SettingError("variant", f"unknown selfie segmentation variant '{variant}'", VARIANT_CHOICES)
    if variant != "auto":
        return variant
    return "landscape" if width >= LANDSCAPE_MIN_ASPECT * height else "general"


def person_mask(image: np.ndarray, *, variant: str = "auto", device: DeviceOptions | None = None,
                antialias: bool = True) -> np.ndarray:
    """The selfie model's person probability for every pixel: (H, W) float32 in [0, 1].

    image: (H, W, 3) float32 sRGB-encoded display values in [0, 1] (uint8 accepted). Pre-processed as
    MediaPipe's SelfieSegmentation: stretched to the model's fixed size without keeping aspect (corners to
    corners), values in the model's declared input range ([0, 1]); the mask is upsampled bilinearly back to
    (H, W). antialias (default) area-averages large frames first, which keeps the mask steady on detailed
    2K/4K plates; antialias=False samples exactly as MediaPipe (see sessions.sample_affine).
    The model assumes a person is there (a cat comes out 92 % "person"): use gated_person_mask unless
    presence is known. No edge refinement here (the matte tool does it).
    """
    import cv2

    from matchcut.vision.sessions import (
        as_rgb01,
        fixed_size,
        model_session,
        output_by_size,
        run_nhwc,
        sample_affine,
        to_input_range,
    )

    rgb = as_rgb01(image, "person_mask image")
    h, w = rgb.shape[:2]
    manifest, session = model_session(VARIANTS[choose_variant(h, w, variant)], device)
    mh, mw = fixed_size(manifest)
    to_image = np.array([[w / mw, 0.0, 0.0], [0.0, h / mh, 0.0]])
    small = sample_affine(rgb, to_image, mw, mh, border="zero", antialias=antialias)
    spec = manifest.inputs[0] if manifest.inputs else None
    batch = (to_input_range(small, spec) if spec is not None else small)[None]
    outputs = run_nhwc(manifest, session, batch)
    mask = output_by_size(manifest, outputs, mh * mw, "mask").reshape(mh, mw).astype(np.float32)
    out_spec = manifest.outputs[0] if manifest.outputs else None
    if out_spec is not None and out_spec.range is not None and tuple(out_spec.range) != (0.0, 1.0):
        lo, hi = out_spec.range
        mask = (mask - np.float32(lo)) / np.float32(hi - lo)
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(mask, 0.0, 1.0)


def person_present(image: np.ndarray, *, min_face_score: float = 0.5, device: DeviceOptions | None = None,
                   antialias: bool = True) -> bool:
    """Whether a person is in the frame: a face the detector scores at least min_face_score and the face-mesh
    model confirms (its face-presence score above 0.5, the gate MediaPipe's FaceMesh puts on its landmarks).

    image as for person_mask. A face is the gate because the selfie model cannot say "nobody": it labels most
    of a cat or an empty room as person. The detector alone is not enough: it scores a cat's face 0.55 and
    scikit-image's colour wheel 0.58, where the mesh model gives them at most 0.02 (people: 0.67 to 1.0).
    Faces smaller than ~1/10 of the frame's long side, backs of heads and profiles past ~60 degrees are not
    detected, so a person seen that way counts as absent.
    """
    from matchcut.vision.faces import detect_faces
    from matchcut.vision.faces_mesh import face_landmarks
    from matchcut.vision.sessions import as_rgb01

    rgb = as_rgb01(image, "person_present image")
    for face in detect_faces(rgb, min_score=min_face_score, device=device, max_faces=MAX_CANDIDATES,
                             antialias=antialias):
        if face_landmarks(rgb, face, device=device, antialias=antialias).score > MIN_MESH_PRESENCE:
            return True
    return False


def gated_person_mask(image: np.ndarray, *, variant: str = "auto", min_face_score: float = 0.5,
                      device: DeviceOptions | None = None, antialias: bool = True) -> tuple[np.ndarray, bool]:
    """(mask, present): person_mask where person_present holds, else an all-zero (H, W) float32 mask.

    The caller warns when present is False (a plate with nobody in it gets no matte, never a hallucinated one).
    """
    from matchcut.vision.sessions import as_rgb01

    rgb = as_rgb01(image, "gated_person_mask image")
    if not person_present(rgb, min_face_score=min_face_score, device=device, antialias=antialias):
        return np.zeros(rgb.shape[:2], np.float32), False
    return person_mask(rgb, variant=variant, device=device, antialias=antialias), True
