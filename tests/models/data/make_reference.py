"""Regenerate the MediaPipe reference data that tests/models/test_mediapipe_parity.py compares against.

The references come from outside this project, so they are computed once in throwaway virtual environments
(MediaPipe 0.10.21 needs numpy<2 and protobuf<5, which the project's own environment does not allow) and
stored small here. Run from the repository root, exactly:

    python3.11 -m venv /tmp/mpvenv
    /tmp/mpvenv/bin/pip install --no-deps mediapipe==0.10.21
    /tmp/mpvenv/bin/pip install 'numpy<2' 'protobuf<5' scikit-image scipy opencv-python-headless \
        absl-py attrs flatbuffers matplotlib
    /tmp/mpvenv/bin/python tests/models/data/make_reference.py mediapipe

    python3.11 -m venv /tmp/litertvenv
    /tmp/litertvenv/bin/pip install ai-edge-litert==2.3.0 scikit-image opencv-python-headless
    /tmp/litertvenv/bin/python tests/models/data/make_reference.py litert --wheel \
        ~/.cache/matchcut/wheels/mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl

Files written next to this script:

``mediapipe`` (MediaPipe's own Python Solutions pipeline on ``skimage.data.astronaut()``, 512x512 RGB):
  astronaut_selfie_general.mediapipe.png     SelfieSegmentation(model_selection=0) mask, 8-bit, 512x512
  astronaut_selfie_landscape.mediapipe.png   SelfieSegmentation(model_selection=1) mask, 8-bit, 512x512
  astronaut_face.mediapipe.json              FaceDetection(model_selection=0) box and keypoints, FaceMesh
                                             (static_image_mode, refine_landmarks=False) 468 landmarks in image
                                             pixels (z scaled like x), and the same on the mirrored image
  face_mesh_mirror.json                      the left/right index permutation of the 468-point mesh, matched
                                             from the two FaceMesh runs and checked against the tessellation

``litert`` (the original .tflite files from the wheel run by LiteRT, pre-processed as matchcut does: RGB,
cv2.resize INTER_AREA to the model size, float in [0,1]):
  astronaut_selfie_general.litert.png        raw model output, 16-bit, 256x256
  astronaut_selfie_landscape.litert.png      raw model output, 16-bit, 144x256

LiteRT needs its default XNNPACK delegate for the selfie models: MediaPipe's custom op
Convolution2DTransposeBias is implemented there. With
``experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES`` ai-edge-litert 2.3.0 fails
with "RuntimeError: Encountered unresolved custom op: Convolution2DTransposeBias. ... Node number 244
(Convolution2DTransposeBias) failed to prepare."
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import skimage.data

HERE = Path(__file__).resolve().parent
SELFIE_MEMBERS = {
    "general": ("mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite", (256, 256)),
    "landscape": ("mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite", (144, 256)),
}
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")


def _round(values, digits: int = 3) -> list:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def _write_json(name: str, data: dict) -> None:
    """Indented JSON with each innermost list (a point, a permutation) on one line: small and diffable."""
    def dump(value, depth: int) -> str:
        pad = " " * depth
        if isinstance(value, dict):
            items = [f'{pad} {json.dumps(k)}: {dump(v, depth + 1).lstrip()}' for k, v in value.items()]
            return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
            return pad + "[\n" + ",\n".join(dump(v, depth + 1) for v in value) + "\n" + pad + "]"
        return pad + json.dumps(value)

    (HERE / name).write_text(dump(data, 0) + "\n")


def _face_mesh_points(mp, image: np.ndarray) -> np.ndarray:
    """FaceMesh's 468 landmarks on an RGB uint8 image, in pixels: (468, 3), z scaled by the image width."""
    h, w = image.shape[:2]
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False) as mesh:
        result = mesh.process(image)
    if not result.multi_face_landmarks:
        raise SystemExit("MediaPipe FaceMesh found no face on astronaut()")
    lms = result.multi_face_landmarks[0].landmark
    return np.array([[p.x * w, p.y * h, p.z * w] for p in lms], dtype=np.float64)


def _broken_edges(perm: np.ndarray, edges: set) -> list[tuple[int, int]]:
    return [(a, b) for a, b in edges if (min(perm[a], perm[b]), max(perm[a], perm[b])) not in edges]


def _mirror_permutation(points: np.ndarray, mirrored: np.ndarray, width: int, edges: set) -> tuple[list, list]:
    """perm[i] = the index that point i becomes on the mirrored face.

    On the mirrored image, landmark j sits on the physical feature that landmark perm[j] marks on the
    original, so after flipping x back the two point sets match one-to-one. The matching is an involution, so
    the cost is made symmetric (i<->j costs the mean of both directions) before the Hungarian assignment;
    pairs the model's few-pixel noise got wrong are then repaired by 2-opt swaps between nearby candidates
    until every tessellation edge maps to an edge (the mirror must be an automorphism of the mesh).
    """
    from scipy.optimize import linear_sum_assignment

    back = mirrored.copy()
    back[:, 0] = (width - 1) - back[:, 0]
    cost = np.linalg.norm(points[:, None, :2] - back[None, :, :2], axis=-1)
    cost = (cost + cost.T) / 2.0
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(points), dtype=int)
    perm[cols] = rows
    if not np.array_equal(perm[perm], np.arange(len(perm))):
        raise SystemExit("mirror matching is not an involution; refine by hand")
    broken = _broken_edges(perm, edges)
    for _ in range(100):
        if not broken:
            break
        best = (len(broken), None)
        suspects = {v for e in broken for v in e}
        for v in suspects:
            for u in np.flatnonzero(cost[v] < 6.0):
                # re-pair v<->u and their old partners with each other, keeping an involution
                trial = perm.copy()
                pv, pu = perm[v], perm[u]
                rest = list({pv, pu} - {v, u})
                trial[v], trial[u] = u, v
                if len(rest) == 2:
                    trial[rest[0]], trial[rest[1]] = rest[1], rest[0]
                elif rest:
                    trial[rest[0]] = rest[0]
                n = len(_broken_edges(trial, edges))
                if n < best[0]:
                    best = (n, trial)
        if best[1] is None:
            break
        perm = best[1]
        broken = _broken_edges(perm, edges)
    if not np.array_equal(perm[perm], np.arange(len(perm))):
        raise SystemExit("mirror matching is not an involution after repair; refine by hand")
    # MediaPipe's tessellation is not perfectly symmetric: a few quads are split along the same diagonal on
    # both sides. Such an edge maps to the quad's other diagonal; anything else means a wrong pair.
    neighbours: dict[int, set[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    for a, b in broken:
        pa, pb = perm[a], perm[b]
        common = sorted(neighbours[pa] & neighbours[pb])
        if not (len(common) == 2 and (common[0], common[1]) in edges):
            raise SystemExit(f"mirror matching breaks tessellation edge {(a, b)} -> {(pa, pb)}; refine by hand")
    return perm.tolist(), broken


def make_mediapipe() -> None:
    import mediapipe as mp
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    image = skimage.data.astronaut()  # RGB uint8, 512x512
    h, w = image.shape[:2]
    for selection, variant in enumerate(("general", "landscape")):
        with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=selection) as seg:
            mask = seg.process(image).segmentation_mask
        png = np.clip(np.round(mask * 255.0), 0, 255).astype(np.uint8)
        cv2.imwrite(str(HERE / f"astronaut_selfie_{variant}.mediapipe.png"), png)

    with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5) as det:
        detections = det.process(image).detections or []
    faces = []
    for d in detections:
        box = d.location_data.relative_bounding_box
        faces.append({
            "score": round(float(d.score[0]), 4),
            "box_xyxy": _round([box.xmin * w, box.ymin * h, (box.xmin + box.width) * w, (box.ymin + box.height) * h]),
            "keypoints": {n: _round([k.x * w, k.y * h])
                          for n, k in zip(KEYPOINTS, d.location_data.relative_keypoints, strict=True)},
        })

    points = _face_mesh_points(mp, image)
    mirrored = _face_mesh_points(mp, np.ascontiguousarray(image[:, ::-1]))
    _write_json("astronaut_face.mediapipe.json", {
        "source": "mediapipe 0.10.21 Python Solutions on skimage.data.astronaut() (512x512 RGB)",
        "units": "pixels; x right, y down; z scaled like x, negative towards the camera",
        "face_detection": faces,
        "face_mesh": _round(points),
        "face_mesh_mirrored_image": _round(mirrored),
    })
    edges = {(min(a, b), max(a, b)) for a, b in FACEMESH_TESSELATION}
    perm, flipped = _mirror_permutation(points, mirrored, w, edges)
    _write_json("face_mesh_mirror.json", {
        "description": "perm[i]: the face-mesh index that landmark i becomes when the face is mirrored left-right",
        "derived_from": "astronaut_face.mediapipe.json (Hungarian matching, checked against FACEMESH_TESSELATION)",
        "asymmetric_edges": [list(map(int, e)) for e in sorted(flipped)],
        "permutation": perm,
    })


def make_litert(wheel: Path) -> None:
    from ai_edge_litert.interpreter import Interpreter

    image = skimage.data.astronaut()
    with zipfile.ZipFile(wheel) as zf:
        for variant, (member, (mh, mw)) in SELFIE_MEMBERS.items():
            interpreter = Interpreter(model_content=zf.read(member))
            interpreter.allocate_tensors()
            x = cv2.resize(image, (mw, mh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x[None])
            interpreter.invoke()
            mask = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0, :, :, 0]
            png = np.clip(np.round(mask * 65535.0), 0, 65535).astype(np.uint16)
            cv2.imwrite(str(HERE / f"astronaut_selfie_{variant}.litert.png"), png)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("mediapipe", help="run MediaPipe 0.10.21's own pipelines")
    lit = sub.add_parser("litert", help="run the original .tflite files with LiteRT")
    lit.add_argument("--wheel", type=Path, required=True, help="the mediapipe-0.10.21 wheel")
    args = parser.parse_args()
    if args.mode == "mediapipe":
        make_mediapipe()
    else:
        make_litert(args.wheel.expanduser())


if __name__ == "__main__":
    main()
