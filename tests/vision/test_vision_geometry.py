"""matchcut.vision's pieces on synthetic inputs: anchors, decoding, NMS, letterbox, ROI, crops, inputs, data."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest


def test_anchor_grid_is_blazeface_short_range():
    from matchcut.vision.faces import ssd_anchors

    a = ssd_anchors()
    assert a.shape == (896, 2) and a.dtype == np.float32
    fine, coarse = a[:512], a[512:]
    # stride 8: a 16x16 grid, 2 anchors a cell; the three stride-16 layers: an 8x8 grid, 6 a cell
    assert len(np.unique(fine, axis=0)) == 256 and len(np.unique(coarse, axis=0)) == 64
    np.testing.assert_allclose(np.unique(fine[:, 0]), (np.arange(16) + 0.5) / 16)
    np.testing.assert_allclose(np.unique(coarse[:, 1]), (np.arange(8) + 0.5) / 8)
    assert (fine[0] == fine[1]).all() and (coarse[:6] == coarse[0]).all() and (coarse[6] != coarse[0]).any()
    # row-major: x varies fastest
    assert fine[2, 0] > fine[0, 0] and fine[2, 1] == fine[0, 1]


def test_decode_scores_clip_filter_and_sort():
    from matchcut.vision.faces import decode_detections, ssd_anchors

    anchors = ssd_anchors()
    raw = np.zeros((896, 16), np.float32)
    raw[10, :4] = [12.8, -6.4, 25.6, 12.8]  # in 128-px input units
    logits = np.full(896, -50.0, np.float32)
    logits[10], logits[20], logits[30] = 1e6, 0.3, -0.1  # 1e6 is clipped to 100 before the sigmoid
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in exp
        boxes, kps, scores = decode_detections(raw, logits, anchors, min_score=0.5)
    assert len(scores) == 2 and scores[0] == pytest.approx(1.0) and scores[1] == pytest.approx(1 / (1 + math.exp(-0.3)))
    cx, cy = anchors[10] + [0.1, -0.05]
    np.testing.assert_allclose(boxes[0], [cx - 0.1, cy - 0.05, cx + 0.1, cy + 0.05], atol=1e-6)
    np.testing.assert_allclose(kps[0], np.repeat(anchors[10][None], 6, 0), atol=1e-6)
    assert decode_detections(raw, logits, anchors, min_score=0.99)[2].shape == (1,)


def test_box_iou():
    from matchcut.vision.faces import box_iou

    box = np.array([0, 0, 2, 2], np.float32)
    others = np.array([[0, 0, 2, 2], [1, 0, 3, 2], [5, 5, 6, 6], [1, 1, 1, 1]], np.float32)
    np.testing.assert_allclose(box_iou(box, others), [1.0, 2 / 6, 0.0, 0.0])


def test_weighted_nms_merges_overlaps_and_keeps_the_rest():
    from matchcut.vision.faces import weighted_nms

    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [0, 0, 10, 30]], np.float32)
    kps = np.zeros((4, 6, 2), np.float32)
    kps[:, :, 0] = np.array([1, 3, 7, 9])[:, None]
    scores = np.array([0.9, 0.6, 0.8, 0.7], np.float32)
    out_boxes, out_kps, out_scores = weighted_nms(boxes, kps, scores)
    # box 3 overlaps box 0 by IoU 1/3 > 0.3: merged too; box 2 is apart
    assert out_scores.tolist() == pytest.approx([0.9, 0.8])
    w = np.array([0.9, 0.6, 0.7])
    np.testing.assert_allclose(out_boxes[0], (boxes[[0, 1, 3]] * w[:, None]).sum(0) / w.sum(), rtol=1e-6)
    np.testing.assert_allclose(out_kps[0, :, 0], (1 * 0.9 + 3 * 0.6 + 9 * 0.7) / w.sum(), rtol=1e-6)
    np.testing.assert_allclose(out_boxes[1], boxes[2])
    empty = weighted_nms(np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros(0, np.float32))
    assert [e.shape[0] for e in empty] == [0, 0, 0]


def test_letterbox_pads_the_short_side_black():
    from matchcut.vision.faces import letterbox_transform
    from matchcut.vision.sessions import sample_affine

    image = np.ones((200, 100, 3), np.float32)  # portrait: bars left and right
    t = letterbox_transform(200, 100, 128)
    square = sample_affine(image, t, 128, 128, border="zero")
    assert square.shape == (128, 128, 3)
    assert square[:, :31].max() == 0 and square[:, 97:].max() == 0
    assert square[:, 33:95].min() == pytest.approx(1.0)
    # tensor corners and centre land on the padded square around the image
    np.testing.assert_allclose(t @ [0, 0, 1], [-50, 0])
    np.testing.assert_allclose(t @ [64, 64, 1], [50, 100])


def test_sample_affine_antialias_averages_instead_of_aliasing():
    from matchcut.vision.sessions import sample_affine

    checker = (np.indices((512, 512)).sum(0) % 2).astype(np.float32)[:, :, None].repeat(3, 2)
    t = np.array([[8.0, 0, 0], [0, 8.0, 0]])
    point = sample_affine(checker, t, 64, 64)
    smooth = sample_affine(checker, t, 64, 64, antialias=True)
    assert abs(point.mean() - 0.5) > 0.45  # every sample hits the same colour: a 50 % texture turns solid
    assert smooth.std() < 0.02 and smooth.mean() == pytest.approx(0.5, abs=0.02)


def test_face_roi_is_a_rotated_square_1_5x_the_box():
    from matchcut.vision import FaceDetection, face_roi

    kps = np.zeros((6, 2), np.float32)
    kps[0], kps[1] = (100, 100), (100 + 40 * math.cos(-0.4), 100 + 40 * math.sin(-0.4))  # left eye higher
    roi = face_roi(FaceDetection((50.0, 60.0, 150.0, 140.0), 0.9, kps))
    assert (roi.cx, roi.cy, roi.size) == pytest.approx((100.0, 100.0, 150.0))
    assert roi.rotation == pytest.approx(-0.4, abs=1e-6)
    c = roi.corners()
    sides = np.linalg.norm(np.roll(c, -1, 0) - c, axis=1)
    np.testing.assert_allclose(sides, 150.0)
    np.testing.assert_allclose(c.mean(0), [100, 100], atol=1e-9)
    top = c[1] - c[0]
    assert math.atan2(top[1], top[0]) == pytest.approx(-0.4)


@pytest.mark.parametrize("antialias", [False, True])
def test_crop_face_puts_image_content_where_the_transform_says(antialias):
    from matchcut.vision import FaceDetection, face_roi
    from matchcut.vision.faces_mesh import crop_face

    h, w = 900, 1200
    yy, xx = np.mgrid[0:h, 0:w]
    spot = np.array([640.0, 380.0])
    blob = np.exp(-((xx - spot[0]) ** 2 + (yy - spot[1]) ** 2) / (2 * 12.0 ** 2)).astype(np.float32)
    image = np.repeat(blob[:, :, None], 3, 2)
    kps = np.zeros((6, 2), np.float32)
    kps[0], kps[1] = (560, 420), (660, 380)
    roi = face_roi(FaceDetection((450.0, 250.0, 750.0, 550.0), 0.9, kps))  # 450-px ROI: 2.3x the crop
    crop = crop_face(image, roi, 192, antialias=antialias)
    v, u = np.unravel_index(np.argmax(crop[:, :, 0]), crop.shape[:2])
    a = roi.crop_to_image(192)
    found = a[:, :2] @ [u, v] + a[:, 2]
    assert np.linalg.norm(found - spot) < roi.size / 192 * 1.5  # within ~1 crop pixel


def test_as_rgb01_accepts_and_rejects():
    from matchcut.errors import PixelValueError, ShapeMismatchError
    from matchcut.vision.sessions import as_rgb01, to_input_range

    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 7
    out = as_rgb01(rgba)
    assert out.shape == (4, 5, 3) and out.dtype == np.float32 and out[..., 0].min() == 1.0
    assert as_rgb01(np.full((2, 2, 3), 1.7))[0, 0, 0] == 1.0
    with pytest.raises(ShapeMismatchError, match=r"plate\.exr: expected an \(H, W, 3\)"):
        as_rgb01(np.zeros((4, 5)), "plate.exr")
    bad = np.zeros((3, 3, 3), np.float32)
    bad[1, 1, 1] = np.nan
    with pytest.raises(PixelValueError, match="NaN"):
        as_rgb01(bad)
    from matchcut.models.manifest import TensorSpec

    spec = TensorSpec("x", range=(-1.0, 1.0))
    np.testing.assert_allclose(to_input_range(np.array([0.0, 0.5, 1.0]), spec), [-1, 0, 1])


def test_choose_variant():
    from matchcut.errors import SettingError
    from matchcut.vision.segmentation import choose_variant

    assert choose_variant(1080, 1920) == "landscape"
    assert choose_variant(1080, 1440) == "general"
    assert choose_variant(1080, 1920, "general") == "general"
    with pytest.raises(SettingError, match="valid: auto, general, landscape"):
        choose_variant(10, 10, "portrait")


def _landmark_manifest(tmp_path, tessellation: dict, tamper: bool = False):
    from matchcut.models.manifest import manifest_from_dict, sha256_file

    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "face-landmarks.onnx").write_bytes(b"unused here")
    data = tmp_path / "face-landmarks.tessellation.json"
    data.write_text(json.dumps(tessellation))
    sha = sha256_file(data)
    if tamper:
        data.write_text(json.dumps({"triangles": [[0, 1, 2]]}))
    d = {"schema": 1, "id": "face-landmarks", "version": "t", "task": "face-landmarks", "file": "face-landmarks.onnx",
         "sha256": "0" * 64, "licence": "Apache-2.0", "data": [{"file": data.name, "sha256": sha}]}
    return manifest_from_dict(d, tmp_path / "face-landmarks.toml")


def test_face_mesh_triangles_read_and_checked(tmp_path):
    from matchcut.errors import ChecksumError, ManifestError
    from matchcut.vision import face_mesh_triangles

    tris = face_mesh_triangles(_landmark_manifest(tmp_path, {"triangles": [[0, 1, 2], [2, 1, 467]]}))
    assert tris.dtype == np.int32 and tris.tolist() == [[0, 1, 2], [2, 1, 467]]
    with pytest.raises(ChecksumError):
        face_mesh_triangles(_landmark_manifest(tmp_path / "a", {"triangles": [[0, 1, 3]]}, tamper=True))
    with pytest.raises(ManifestError, match="0..467"):
        face_mesh_triangles(_landmark_manifest(tmp_path / "b", {"triangles": [[0, 1, 468]]}))
    with pytest.raises(ManifestError, match="no 'triangles'"):
        face_mesh_triangles(_landmark_manifest(tmp_path / "c", {"edges": [[0, 1]]}))


def test_sessions_are_cached_per_model_and_device(tmp_path, monkeypatch):
    import onnx
    from onnx import TensorProto, helper

    from matchcut.errors import ModelNotFoundError
    from matchcut.models.manifest import manifest_from_dict, sha256_file, write_manifest
    from matchcut.runtime.backends import DeviceOptions
    from matchcut.vision.sessions import clear_sessions, model_session

    folder = tmp_path / "models" / "tiny"
    folder.mkdir(parents=True)
    graph = helper.make_graph([helper.make_node("Identity", ["input"], ["out"])], "tiny",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2, 2, 3])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 2, 2, 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), folder / "tiny.onnx")
    d = {"schema": 1, "id": "tiny", "version": "1", "task": "image-to-image", "file": "tiny.onnx",
         "sha256": sha256_file(folder / "tiny.onnx"), "licence": "MIT"}
    write_manifest(manifest_from_dict(d, folder / "tiny.toml"), folder / "tiny.toml")
    monkeypatch.setenv("MATCHCUT_MODEL_PATH", str(tmp_path / "models"))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    clear_sessions()
    try:
        one = DeviceOptions(provider="cpu", threads=1)
        m, s = model_session("tiny", one)
        assert m.id == "tiny" and model_session("tiny", one)[1] is s
        assert model_session("tiny", DeviceOptions(provider="cpu", threads=2))[1] is not s
        x = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
        np.testing.assert_array_equal(s.run({"input": x})["out"], x)
        clear_sessions()
        assert model_session("tiny", one)[1] is not s
        with pytest.raises(ModelNotFoundError, match="face-detection.*available: tiny"):
            model_session("face-detection", one)
    finally:
        clear_sessions()
