"""Per-pixel camera-space normals from the best source available: a supplied pass, the face mesh, the person
silhouette, then a background plane or smoothed image gradients; with the weight each source got per pixel.

Normals are float32 (H, W, 3) unit vectors in camera space, OpenGL convention: x right, y up, z towards the
camera (a surface facing the lens is 0, 0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matchcut.color import REC709_LUMA
from matchcut.errors import SettingError, ShapeMismatchError

CONVENTIONS = ("opengl", "directx")
ENCODINGS = ("auto", "signed", "unit")
BACKGROUNDS = ("gradient", "plane")
#: The debug pass's channels: which source covered a pixel, as blend weights summing to 1.
SOURCES = ("face", "person", "background", "supplied")
#: Supplied vectors shorter than this are holes (no normal there): estimated sources fill them.
MIN_LENGTH = 0.1
#: Supplied vectors whose length is off 1 by more than this count as unnormalised (reported, then normalised).
LENGTH_TOLERANCE = 0.05
#: The long side, in pixels, silhouette inflation works at (its relief is far smoother than a pixel).
INFLATION_SIZE = 512
#: The gradient normals' blur, a fraction of the frame's width: forms, not grain (grain would flicker the relight).
GRADIENT_BLUR = 0.01
#: A landmark-set matches one in a neighbouring frame when their centres are closer than this x face width.
TRACK_DISTANCE = 0.5


@dataclass
class NormalField:
    """normals (H, W, 3) float32 unit camera-space; weights: SOURCES name -> (H, W) float32 (summing to 1);
    subject: (H, W) float32 matte of what the estimate found (faces and people, or the supplied pass's alpha);
    notes: what the caller should tell the artist."""

    normals: np.ndarray
    weights: dict[str, np.ndarray]
    subject: np.ndarray
    notes: list[str] = field(default_factory=list)


def normalize(v: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis (zero vectors become 0, 0, 1); float32."""
    v = np.asarray(v, np.float32)
    length = np.sqrt(np.einsum("...i,...i->...", v, v))
    out = v / np.maximum(length, 1e-8)[..., None]
    zero = length <= 1e-8
    if zero.any():
        out[zero] = (0.0, 0.0, 1.0)
    return out


def decode_normals(pixels: np.ndarray, *, convention: str = "opengl", encoding: str = "auto",
                   size: tuple[int, int] | None = None, where: str = "normals") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A supplied normals pass as camera-space OpenGL unit normals.

    pixels: (H, W, 3) float32 vectors (signed -1..1, or "unit"-encoded 0..1 as n * 0.5 + 0.5; "auto": unit
    when no sample is negative); convention "directx" has y down, so y is negated. size: (height, width) of
    the plate: a pass of the same aspect ratio is resampled (with a note), another aspect is ShapeMismatchError.
    Returns (normals (H, W, 3), valid (H, W) bool, notes). Vectors shorter than MIN_LENGTH are not valid;
    the others are normalised, and a note counts those that were not unit length.
    """
    import cv2

    if convention not in CONVENTIONS:
        raise SettingError("normals_convention", f"unknown convention {convention!r}", CONVENTIONS)
    if encoding not in ENCODINGS:
        raise SettingError("normals_encoding", f"unknown encoding {encoding!r}", ENCODINGS)
    v = np.asarray(pixels, np.float32)
    if v.ndim != 3 or v.shape[2] < 3:
        raise ShapeMismatchError(f"{where}: a normals pass needs three channels (x, y, z), got shape {v.shape}")
    v = v[..., :3]
    notes = []
    if size is not None and v.shape[:2] != tuple(size):
        (h, w), (ph, pw) = size, v.shape[:2]
        if abs(pw / ph - w / h) > 0.01:
            raise ShapeMismatchError(f"{where}: the normals pass is {pw}x{ph}, the plate {w}x{h}; a pass of another "
                                     "aspect ratio cannot be lined up with the plate")
        v = cv2.resize(v, (w, h), interpolation=cv2.INTER_LINEAR)
        notes.append(f"{where}: the normals pass is {pw}x{ph}, resampled to the plate's {w}x{h}")
    if encoding == "unit" or (encoding == "auto" and float(np.nanmin(v)) >= 0.0):
        v = v * 2.0 - 1.0
    if convention == "directx":
        v = v * np.array([1, -1, 1], np.float32)
    length = np.linalg.norm(v, axis=-1)
    valid = np.isfinite(length) & (length >= MIN_LENGTH)
    off = valid & (np.abs(length - 1.0) > LENGTH_TOLERANCE)
    if off.any():
        notes.append(f"{where}: {int(off.sum())} vector(s) were not unit length (up to {float(length[off].max()):.2f}); "
                     "normalised")
    if (~valid).any():
        notes.append(f"{where}: {int((~valid).sum())} pixel(s) have no normal (length < {MIN_LENGTH}); estimated there")
    out = normalize(np.where(valid[..., None], v, 0.0))
    return out, valid, notes


def vertex_normals(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals of a mesh in camera space: (V, 3) float32 unit, facing the camera (z > 0).

    points: (V, 3) face-mesh landmarks in image pixels (x right, y down, z negative towards the camera, as
    vision.faces_mesh); triangles: (T, 3) indices.
    """
    p = np.asarray(points, np.float64) * np.array([1.0, -1.0, -1.0])  # image -> camera axes
    a, b, c = p[triangles[:, 0]], p[triangles[:, 1]], p[triangles[:, 2]]
    face = np.cross(b - a, c - a)  # length = twice the area: larger triangles count more
    face *= np.where(face[:, 2:3] < 0, -1.0, 1.0)
    acc = np.zeros_like(p)
    for k in range(3):
        np.add.at(acc, triangles[:, k], face)
    return normalize(acc)


def rasterise_mesh(points: np.ndarray, triangles: np.ndarray, values: np.ndarray, height: int,
                   width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel values of a mesh, interpolated barycentrically, the triangle nearest the camera winning.

    points: (V, 3) image pixels (z negative towards the camera); values: (V, C) per vertex. Returns
    (image (H, W, C) float32, covered (H, W) bool); pixel centres are at +0.5.
    """
    out = np.zeros((height, width, values.shape[1]), np.float32)
    depth = np.full((height, width), np.inf, np.float32)
    p = np.asarray(points, np.float64)
    for tri in triangles:
        (x0, y0, z0), (x1, y1, z1), (x2, y2, z2) = p[tri]
        left, right = max(int(np.floor(min(x0, x1, x2))), 0), min(int(np.ceil(max(x0, x1, x2))), width)
        top, bottom = max(int(np.floor(min(y0, y1, y2))), 0), min(int(np.ceil(max(y0, y1, y2))), height)
        if left >= right or top >= bottom:
            continue
        det = (y1 - y2) * (x0 - x2) + (x2 - x1) * (y0 - y2)
        if abs(det) < 1e-9:
            continue
        ys, xs = np.mgrid[top:bottom, left:right].astype(np.float64) + 0.5
        w0 = ((y1 - y2) * (xs - x2) + (x2 - x1) * (ys - y2)) / det
        w1 = ((y2 - y0) * (xs - x2) + (x0 - x2) * (ys - y2)) / det
        w2 = 1.0 - w0 - w1
        inside = (w0 >= -1e-6) & (w1 >= -1e-6) & (w2 >= -1e-6)
        if not inside.any():
            continue
        z = w0 * z0 + w1 * z1 + w2 * z2
        box_depth = depth[top:bottom, left:right]
        win = inside & (z < box_depth)
        if not win.any():
            continue
        box_depth[win] = z[win]
        v = w0[win, None] * values[tri[0]] + w1[win, None] * values[tri[1]] + w2[win, None] * values[tri[2]]
        out[top:bottom, left:right][win] = v
    return out, np.isfinite(depth)


def face_normals(points: np.ndarray, triangles: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """One face's normals and weight: ((H, W, 3) float32 unit camera-space, (H, W) float32 0..1).

    Vertex normals are interpolated across the mesh's triangles (smooth, Phong-style); the eye and mouth holes
    are filled by normalised convolution from the skin around them; the weight is the mesh's outline, feathered
    by 3 % of the face's size so the face blends into the silhouette normals around it.
    """
    import cv2

    size = float(np.ptp(points[:, 0]) + np.ptp(points[:, 1])) / 2
    feather = max(0.5, 0.03 * size)
    # Work in the face's box (with room for the feather): a face is a small part of a 2K frame.
    margin = int(np.ceil(3 * feather)) + 2
    x0 = max(int(np.floor(points[:, 0].min())) - margin, 0)
    y0 = max(int(np.floor(points[:, 1].min())) - margin, 0)
    x1 = min(int(np.ceil(points[:, 0].max())) + margin, width)
    y1 = min(int(np.ceil(points[:, 1].max())) + margin, height)
    normals_full = np.zeros((height, width, 3), np.float32)
    normals_full[..., 2] = 1.0
    weight_full = np.zeros((height, width), np.float32)
    if x0 >= x1 or y0 >= y1:
        return normals_full, weight_full
    local = np.asarray(points, np.float32) - np.array([x0, y0, 0], np.float32)
    h, w = y1 - y0, x1 - x0
    normals, covered = rasterise_mesh(local, triangles, vertex_normals(points, triangles), h, w)
    outline = np.zeros((h, w), np.uint8)
    hull = cv2.convexHull(np.round(local[:, :2] * 4).astype(np.int32))  # quarter-pixel precision
    cv2.fillConvexPoly(outline, hull, 1, lineType=cv2.LINE_AA, shift=2)
    cover = covered.astype(np.float32)
    sigma = max(1.0, 0.06 * size)
    blurred = cv2.GaussianBlur(normals * cover[..., None], (0, 0), sigma)
    weight_sum = cv2.GaussianBlur(cover, (0, 0), sigma)
    filled = blurred / np.maximum(weight_sum, 1e-6)[..., None]
    normals = np.where(covered[..., None], normals, filled)
    weight = cv2.GaussianBlur(outline.astype(np.float32), (0, 0), feather)
    weight = np.clip(weight * 2.0 - 1.0, 0.0, 1.0) * np.clip(weight_sum * 4.0, 0.0, 1.0)  # fades inside the outline
    normals_full[y0:y1, x0:x1] = normalize(normals)
    weight_full[y0:y1, x0:x1] = weight
    return normals_full, weight_full


def inflation_normals(matte: np.ndarray) -> np.ndarray:
    """Normals of a silhouette inflated into a smooth relief: (H, W, 3) float32 unit camera-space.

    matte: (H, W) float32 0..1 person matte. Height is a circle profile of the distance to the silhouette's
    edge (sqrt(d (2R - d)), R = 60 % of the deepest point), smoothed by 20 % of R (at least 1 % of the frame); the
    normal is the height field's gradient, so the silhouette's edge turns away from the camera.
    """
    import cv2

    h, w = matte.shape
    # The relief is smooth on the scale of the body: work at most INFLATION_SIZE px on the long side, then upsample.
    scale = min(1.0, INFLATION_SIZE / max(h, w))
    small = matte if scale == 1.0 else cv2.resize(matte, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                   interpolation=cv2.INTER_AREA)
    inside = (small >= 0.5).astype(np.uint8)
    if not inside.any():
        return np.broadcast_to(np.array([0, 0, 1], np.float32), (h, w, 3)).copy()
    d = cv2.distanceTransform(inside, cv2.DIST_L2, 5).astype(np.float32)
    radius = max(0.6 * float(d.max()), 1.0)
    d = np.minimum(d, radius)
    height = np.sqrt(d * (2 * radius - d))
    # A blur on the scale of the body's width rounds off the crease the profile has along thin parts' middles.
    height = cv2.GaussianBlur(height, (0, 0), max(1.0, 0.01 * max(small.shape), 0.2 * radius))
    gy, gx = np.gradient(height)
    n = np.stack([-gx, gy, np.ones_like(gx)], axis=-1)
    if scale != 1.0:
        n = cv2.resize(n, (w, h), interpolation=cv2.INTER_LINEAR)
    return normalize(n)


def gradient_normals(luminance: np.ndarray, detail: float) -> np.ndarray:
    """Normals from smoothed image gradients (brighter reads as nearer): (H, W, 3) float32 unit camera-space.

    luminance: (H, W) scene-linear; detail: 0 (a flat plane facing the camera) .. 1 (a stop per 1/64 of the
    frame's width tilts the surface 45 degrees). Log luminance, smoothed by GRADIENT_BLUR of the width, so the relief
    follows forms rather than grain; the operators are symmetric, so a flopped plate gives flopped normals.
    """
    import cv2

    h, w = luminance.shape
    if detail <= 0:
        return np.broadcast_to(np.array([0, 0, 1], np.float32), (h, w, 3)).copy()
    log = np.log2(np.maximum(luminance, 1e-4)).astype(np.float32)
    log = cv2.GaussianBlur(log, (0, 0), max(1.0, GRADIENT_BLUR * w), borderType=cv2.BORDER_REFLECT)
    gy, gx = np.gradient(log)
    k = detail * w / 64.0
    return normalize(np.stack([-k * gx, k * gy, np.ones_like(gx)], axis=-1))


def find_meshes(display: np.ndarray, *, device=None, min_score: float = 0.5) -> list[np.ndarray]:
    """Face meshes in a frame: a (468, 3) float32 landmark array per face the detector finds and the mesh
    model confirms (presence > 0.5, the gate vision.person_present uses). display: (H, W, 3) sRGB 0..1."""
    from matchcut.vision.faces import detect_faces
    from matchcut.vision.faces_mesh import face_landmarks
    from matchcut.vision.segmentation import MAX_CANDIDATES, MIN_MESH_PRESENCE

    meshes = []
    for face in detect_faces(display, min_score=min_score, device=device, max_faces=MAX_CANDIDATES):
        marks = face_landmarks(display, face, device=device)
        if marks.score > MIN_MESH_PRESENCE:
            meshes.append(marks.points)
    return meshes


def person_matte(display: np.ndarray, *, device=None) -> np.ndarray:
    """The person matte, averaged with the matte of the flopped frame flopped back: (H, W) float32 0..1.

    display: (H, W, 3) sRGB 0..1. The selfie model is not mirror-symmetric (its matte of a flopped frame differs
    by ~3 % of the person's area); the average is, so flopping the plate and the light flops the relight, and
    the matte is steadier. Call it only where a person is known to be present (vision.person_present).
    """
    from matchcut.vision.segmentation import person_mask

    matte = person_mask(display, device=device)
    flopped = person_mask(np.ascontiguousarray(display[:, ::-1]), device=device)[:, ::-1]
    return (0.5 * (matte + flopped)).astype(np.float32)


def smooth_meshes(frames: list[list[np.ndarray]], centre: int, weights: list[float] | None = None) -> list[np.ndarray]:
    """The centre frame's meshes averaged with the same faces in neighbouring frames (temporal smoothing).

    frames: per frame (in time order) its meshes as find_meshes returns; centre: index of the frame to smooth;
    weights: per frame (default binomial about the centre). A face is followed into a neighbour when a mesh
    there has its centre within TRACK_DISTANCE x the face's width; frames without it drop out of its average.
    """
    if weights is None:
        weights = [1.0 / (1 + abs(i - centre)) for i in range(len(frames))]
    out = []
    for mesh in frames[centre]:
        middle = mesh[:, :2].mean(axis=0)
        reach = TRACK_DISTANCE * float(np.ptp(mesh[:, 0]))
        total, acc = 0.0, np.zeros_like(mesh, dtype=np.float64)
        for wgt, meshes in zip(weights, frames, strict=True):
            if not meshes:
                continue
            dist = [float(np.linalg.norm(m[:, :2].mean(axis=0) - middle)) for m in meshes]
            best = int(np.argmin(dist))
            if dist[best] <= reach:
                acc += wgt * meshes[best]
                total += wgt
        out.append((acc / total).astype(np.float32))
    return out


def estimate_normals(linear: np.ndarray, *, meshes: list[np.ndarray], person: np.ndarray | None,
                     supplied: tuple[np.ndarray, np.ndarray] | None = None, background: str = "gradient",
                     detail: float = 0.5, triangles: np.ndarray | None = None) -> NormalField:
    """Blend every source into one normal field, best first: supplied > face > person > background.

    linear: (H, W, 3) scene-linear RGB (for the gradient background); meshes: smoothed face meshes in image
    pixels (find_meshes / smooth_meshes); person: (H, W) person matte 0..1 or None; supplied: (normals, valid)
    from decode_normals; background: "gradient" or "plane"; detail: the gradient relief (gradient_normals).
    Faces lie over the person, the person over the background; a supplied pass wins wherever it is valid.
    """
    if background not in BACKGROUNDS:
        raise SettingError("background", f"unknown background {background!r}", BACKGROUNDS)
    h, w = linear.shape[:2]
    zeros = np.zeros((h, w), np.float32)
    notes: list[str] = []
    supplied_w = zeros if supplied is None else supplied[1].astype(np.float32)
    weights = {"face": zeros.copy(), "person": zeros.copy(), "background": zeros.copy(), "supplied": supplied_w}
    if supplied is not None and bool(supplied[1].all()):
        return NormalField(supplied[0], weights, np.ones((h, w), np.float32), notes)
    lum = np.ascontiguousarray(linear[..., :3], np.float32) @ REC709_LUMA
    acc = gradient_normals(lum, detail if background == "gradient" else 0.0)
    person_w = zeros if person is None else np.clip(person, 0.0, 1.0).astype(np.float32)
    if person_w.any():
        acc = acc * (1 - person_w[..., None]) + inflation_normals(person_w) * person_w[..., None]
    face_w = zeros.copy()
    if meshes:
        if triangles is None:
            from matchcut.vision.faces_mesh import face_mesh_triangles

            triangles = face_mesh_triangles()
        for mesh in meshes:
            n, wgt = face_normals(mesh, triangles, h, w)
            face_w = np.maximum(face_w, wgt)
            acc = acc * (1 - wgt[..., None]) + n * wgt[..., None]
    if not meshes and (person is None or not person_w.any()):
        notes.append("no face and no person found: normals from the "
                     + ("smoothed image gradients" if background == "gradient" and detail > 0 else "background plane"))
    estimated = 1.0 - supplied_w
    weights["face"] = face_w * estimated
    weights["person"] = person_w * (1 - face_w) * estimated
    weights["background"] = (1 - person_w) * (1 - face_w) * estimated
    normals = normalize(acc)
    subject = np.maximum(face_w, person_w)
    if supplied is not None:
        normals = np.where(supplied[1][..., None], supplied[0], normals)
        subject = np.maximum(subject, supplied_w)
    return NormalField(normals, weights, subject.astype(np.float32), notes)
