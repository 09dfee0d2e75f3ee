"""matchcut.vision end to end on tiny stand-in ONNX models made here: the geometry around the models."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matchcut.runtime.backends import DeviceOptions

CPU = DeviceOptions(provider="cpu", threads=1)


def _save_model(folder, model_id, nodes, initializers, in_shape, outputs: dict, manifest_extra):
    """Write <folder>/<id>/<id>.onnx (+ manifest): one NHWC float input named "input"; outputs: name -> shape."""
    import onnx
    from onnx import TensorProto, helper

    from matchcut.models.manifest import manifest_from_dict, sha256_file, write_manifest

    graph = helper.make_graph(
        nodes, model_id,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)) for name, shape in outputs.items()],
        initializer=[helper.make_tensor(n, TensorProto.FLOAT, v.shape, v.ravel().tolist()) for n, v in initializers],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.checker.check_model(model)
    sub = folder / model_id
    sub.mkdir(parents=True)
    onnx_path = sub / f"{model_id}.onnx"
    onnx.save(model, onnx_path)
    d = {"schema": 1, "id": model_id, "version": "test", "file": onnx_path.name, "sha256": sha256_file(onnx_path),
         "licence": "Apache-2.0", "runtime": {"fixed_size": list(in_shape[1:3]), "tileable": False},
         "outputs": [{"name": n, "layout": "other"} for n in outputs], **manifest_extra}
    write_manifest(manifest_from_dict(d, sub / f"{model_id}.toml"), sub / f"{model_id}.toml")


def _constant_outputs(folder, model_id, in_shape, values: dict[str, np.ndarray], input_range, task):
    """A model whose outputs are constants (plus 0 x the input's mean, so the input stays in the graph)."""
    from onnx import helper

    nodes = [helper.make_node("ReduceMean", ["input"], ["mean"], keepdims=0),
             helper.make_node("Mul", ["mean", "zero"], ["nothing"])]
    inits = [("zero", np.zeros((), np.float32))]
    for name, value in values.items():
        inits.append((f"{name}_value", value.astype(np.float32)))
        nodes.append(helper.make_node("Add", [f"{name}_value", "nothing"], [name]))
    spec = {"name": "input", "layout": "NHWC", "channels": ["R", "G", "B"], "range": list(input_range)}
    _save_model(folder, model_id, nodes, inits, in_shape, {k: v.shape for k, v in values.items()},
                {"task": task, "inputs": [spec]})


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    from matchcut.vision.sessions import clear_sessions

    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(folder))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))  # no installed zoo behind the stand-ins
    clear_sessions()
    yield folder
    clear_sessions()


# Stand-in detector output: one face on a stride-16 anchor, cell (x=3, y=4), plus a weaker overlapping twin.
CELL = 512 + (4 * 8 + 3) * 6
ANCHOR = np.array([(3 + 0.5) / 8 * 128, (4 + 0.5) / 8 * 128])  # (56, 72) in input pixels


def _detector(folder, logit=8.0):
    raw = np.zeros((1, 896, 16), np.float32)
    scores = np.full((1, 896, 1), -10.0, np.float32)
    # box centre +4, -2 px from the anchor, 32 x 40 px; eyes level, 16 px apart
    kps = [(-8, -6), (8, -6), (0, 2), (0, 10), (-15, -4), (15, -4)]
    raw[0, CELL] = [4, -2, 32, 40, *np.ravel(kps)]
    scores[0, CELL] = logit
    raw[0, CELL + 1] = [6, -2, 32, 40, *np.ravel(kps)]  # 2 px to the right: IoU 0.88, merged by weighted NMS
    scores[0, CELL + 1] = logit - 2.0
    _constant_outputs(folder, "face-detection", (1, 128, 128, 3), {"regressors": raw, "classificators": scores},
                      (-1.0, 1.0), "face-detection")


def test_detection_maps_back_through_the_letterbox(model_dir):
    from matchcut.vision import detect_faces

    _detector(model_dir)
    image = np.full((100, 200, 3), 0.5, np.float32)  # 2:1, so the 128-px square has 32 px bars top and bottom
    (face,) = detect_faces(image, device=CPU)
    w1, w2 = 1 / (1 + math.exp(-8)), 1 / (1 + math.exp(-6))
    cx = ANCHOR[0] + (4 * w1 + 6 * w2) / (w1 + w2)  # weighted mean of the two merged boxes
    cy = ANCHOR[1] - 2
    k = 200 / 128  # the long side (200 px) fills 128 px; the short side is centred: 100 px -> rows 32..96
    expect = [(cx - 16) * k, (cy - 20 - 32) * k, (cx + 16) * k, (cy + 20 - 32) * k]
    np.testing.assert_allclose(face.box, expect, atol=1e-3)
    assert face.score == pytest.approx(w1, abs=1e-6)
    right_eye = face.keypoint("right_eye")
    # keypoints are offsets from the anchor, the same in both merged boxes
    np.testing.assert_allclose(right_eye, [(ANCHOR[0] - 8) * k, (ANCHOR[1] - 6 - 32) * k], atol=1e-3)


def test_detection_min_score_and_no_face(model_dir):
    from matchcut.errors import SettingError
    from matchcut.vision import detect_faces, gated_person_mask, person_present

    _detector(model_dir, logit=-3.0)  # sigmoid(-3) = 0.047
    image = np.full((64, 64, 3), 0.5, np.float32)
    assert detect_faces(image, device=CPU) == []
    assert len(detect_faces(image, min_score=0.04, device=CPU)) == 1
    assert person_present(image, device=CPU) is False
    mask, present = gated_person_mask(image, device=CPU)
    assert present is False and mask.shape == (64, 64) and not mask.any()
    with pytest.raises(SettingError, match="min_score"):
        detect_faces(image, min_score=1.5, device=CPU)


def test_landmarks_follow_the_rotated_roi(model_dir):
    from matchcut.vision import FaceDetection, face_landmarks

    points = np.zeros((1, 1, 1, 1404), np.float32)
    raw = points.reshape(468, 3)
    raw[:] = (96, 96, 0)
    raw[0] = (96, 96, 12)       # the crop's centre, z = 12 crop px
    raw[1] = (144, 96, 0)       # a quarter crop to the right of the centre: along the eye line
    raw[2] = (96, 48, 0)        # a quarter crop above the centre
    _constant_outputs(model_dir, "face-landmarks", (1, 192, 192, 3),
                      {"landmarks": points, "face_flag": np.full((1, 1, 1, 1), 2.0, np.float32)}, (0.0, 1.0),
                      "face-landmarks")
    angle = math.radians(30)  # the face leans: its left eye (image right) 30 degrees lower on screen
    centre = np.array([150.0, 120.0])
    eye_dir = np.array([math.cos(angle), math.sin(angle)])
    kps = np.zeros((6, 2), np.float32)
    kps[0], kps[1] = centre - 20 * eye_dir, centre + 20 * eye_dir
    face = FaceDetection((110.0, 90.0, 190.0, 150.0), 0.9, kps)  # 80 x 60 box: ROI side 1.5 x 80 = 120
    lm = face_landmarks(np.full((240, 300, 3), 0.3, np.float32), face, device=CPU)
    side = 120.0
    assert lm.score == pytest.approx(1 / (1 + math.exp(-2.0)))
    np.testing.assert_allclose(lm.points[0], [*centre, 12 * side / 192], atol=1e-3)
    np.testing.assert_allclose(lm.points[1, :2], centre + side / 4 * eye_dir, atol=1e-3)
    up = np.array([eye_dir[1], -eye_dir[0]])  # the crop's "up", perpendicular to the eye line
    np.testing.assert_allclose(lm.points[2, :2], centre + side / 4 * up, atol=1e-3)
    assert lm.roi.size == pytest.approx(side) and lm.roi.rotation == pytest.approx(angle)


def _selfie(folder, model_id, size, invert):
    """Stand-in selfie model: the mask is the mean of R, G, B (or one minus it)."""
    from onnx import helper

    inits = []
    if invert:
        nodes = [helper.make_node("ReduceMean", ["input"], ["mean"], axes=[3], keepdims=1),
                 helper.make_node("Sub", ["one", "mean"], ["segment"])]
        inits = [("one", np.ones((), np.float32))]
    else:
        nodes = [helper.make_node("ReduceMean", ["input"], ["segment"], axes=[3], keepdims=1)]
    _save_model(folder, model_id, nodes, inits, (1, *size, 3), {"segment": (1, *size, 1)}, {
        "task": "segmentation", "inputs": [{"name": "input", "layout": "NHWC", "range": [0.0, 1.0]}]})


@pytest.mark.parametrize("height, width, variant, inverted", [(100, 300, "auto", False), (200, 200, "auto", True),
                                                              (100, 300, "general", True)])
def test_person_mask_resamples_to_the_frame(model_dir, height, width, variant, inverted):
    from matchcut.vision import person_mask

    _selfie(model_dir, "selfie-segmentation", (256, 256), invert=True)
    _selfie(model_dir, "selfie-segmentation-landscape", (144, 256), invert=False)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([xx / width, yy / height, np.full_like(xx, 0.25)], axis=2)  # smooth ramps: easy to resample
    mask = person_mask(image, variant=variant, device=CPU)
    assert mask.shape == (height, width) and mask.dtype == np.float32
    expect = image.mean(axis=2)
    expect = 1 - expect if inverted else expect
    inner = (slice(4, -4), slice(4, -4))  # the model's edge pixels sample past the frame
    np.testing.assert_allclose(mask[inner], expect[inner], atol=0.02)


@pytest.mark.parametrize("flag, present", [(-4.0, False), (4.0, True)])
def test_person_present_needs_the_mesh_model_to_agree(model_dir, flag, present):
    from matchcut.vision import gated_person_mask, person_present

    _detector(model_dir)  # always finds a face
    points = np.full((1, 1, 1, 1404), 96.0, np.float32)
    _constant_outputs(model_dir, "face-landmarks", (1, 192, 192, 3),
                      {"landmarks": points, "face_flag": np.full((1, 1, 1, 1), flag, np.float32)}, (0.0, 1.0),
                      "face-landmarks")
    _selfie(model_dir, "selfie-segmentation", (256, 256), invert=False)
    image = np.full((120, 120, 3), 0.8, np.float32)
    assert person_present(image, device=CPU) is present
    mask, found = gated_person_mask(image, device=CPU)
    assert found is present
    # the model's last row and column sample half past the frame's edge (black, as MediaPipe): skip them
    np.testing.assert_allclose(mask[:-2, :-2], 0.8 if present else 0.0, atol=1e-5)
    assert present or not mask.any()
