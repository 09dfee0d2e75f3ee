"""The Blender takes of the continuity evaluation set: each layout's props, cameras and lights as the spec
``blender_takes.bpy`` renders (Cycles, in real Blender's Python, cached), and the renders read back with the
truth a continuity check needs (what B sees that A cannot: reprojected through both renders' depth)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matchcut.color import REC709_LUMA

TAKE_SIZE = (270, 480)  # (H, W) of the Blender takes
SAMPLES = 32
LAYOUTS = {1: "tune", 2: "tune", 3: "held-out", 4: "held-out"}
#: The object indices blender_takes.bpy gives the floor and the back wall (props have their own, 1 up).
FLOOR_INDEX, WALL_INDEX = 101, 102
#: Per layout: floor, wall and the props' photos (scikit-image names; None: a flat colour).
LAYOUT_TEXTURES = {
    1: ("gravel", "brick", ("astronaut", "coffee", "chelsea", None, "rocket", None, "coffee", "chelsea", None)),
    2: ("brick", "gravel", ("rocket", None, "astronaut", "chelsea", None, "coffee", None, "astronaut", "rocket")),
    3: ("grass", "text", ("cat", "hubble_deep_field", None, "immunohistochemistry", "retina", None, "cat", None,
                          "hubble_deep_field")),
    4: ("text", "grass", ("immunohistochemistry", None, "cat", "retina", "hubble_deep_field", None, "retina", "cat",
                          None)),
}
#: Camera steps of B from A: (name, offset of the camera (x, y, z) in m, of the target, B's lens, moving).
STEPS = (("small step", (0.2, 0.0, 0.0), (0.15, 0.0, 0.0), 28.0, False),
         ("medium step", (0.5, 0.2, 0.15), (0.2, 0.0, 0.0), 33.0, False),
         ("large step", (1.0, 0.3, -0.15), (0.1, 0.0, 0.05), 28.0, False),
         ("camera move", (0.25, 0.5, 0.1), (0.1, 0.0, 0.0), 28.0, True))
CAMERA_A = ((0.0, -6.5, 1.5), (0.0, 2.0, 0.6), 28.0)


def project_root() -> Path:
    return Path(__file__).resolve().parents[3]


def cache_folder() -> Path:
    """Where rendered takes are kept: the checkout's build/continuity-takes, else Matchcut's cache."""
    root = project_root()
    if (root / "build").is_dir() and (root / "core" / "matchcut").is_dir():
        return root / "build" / "continuity-takes"
    from matchcut import settings

    return settings.cache_dir() / "eval" / "continuity-takes"


def blender_python() -> Path | None:
    """Blender's Python: $MATCHCUT_BLENDER_PYTHON, else the checkout's .venv-blender; None when neither exists."""
    env = os.environ.get("MATCHCUT_BLENDER_PYTHON")
    path = Path(env) if env else project_root() / ".venv-blender" / "bin" / "python"
    if not path.is_absolute():
        path = project_root() / path
    return path if path.exists() else None


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def read_layers(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every channel of every part of a (multi-part, multilayer) EXR as (H, W) float32, by full channel name."""
    import OpenImageIO as oiio

    from matchcut.errors import FrameReadError

    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise FrameReadError(str(path), oiio.geterror() or "cannot open")
    out, k = {}, 0
    try:
        while inp.seek_subimage(k, 0):
            spec = inp.spec()
            pixels = inp.read_image(k, 0, 0, spec.nchannels, "float")
            for j, name in enumerate(spec.channelnames):
                out[name] = np.ascontiguousarray(pixels[..., j], np.float32)
            k += 1
    finally:
        inp.close()
    return out


def photo_png(name: str, folder: Path) -> str:
    """scikit-image's photo ``name`` as an 8-bit sRGB PNG in ``folder`` (written once), for a Blender texture."""
    import cv2
    import skimage.data

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    if not path.is_file():
        image = getattr(skimage.data, name)()
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        cv2.imwrite(str(path), np.ascontiguousarray(image[..., :3][..., ::-1]))
    return str(path)


def layout(number: int) -> dict:
    """The props of Blender layout ``number`` (LAYOUTS) and the changes of its two change sets.

    Nine props: seven stand in take A (at 3.5 to 10 m from camera A, none touching), two are spares a change
    set adds. Returns {"floor", "wall", "props": [spec dicts as blender_takes.bpy reads them], "sets": [{prop
    name: blender_takes change dict}, ...], "kinds": [{prop name: kind}, ...]}.
    """
    rng = np.random.default_rng(1000 + number)
    floor, wall, textures = LAYOUT_TEXTURES[number]
    shapes = ("box", "cylinder", "sphere")
    placed: list[tuple[float, float, float]] = []

    def free_spot(radius: float, near: tuple[float, float] | None = None, tries: int = 400):
        for _ in range(tries):
            if near is None:
                x, y = rng.uniform(-2.6, 2.6), rng.uniform(-2.8, 3.2)
            else:
                ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(1.0, 1.8)
                x, y = near[0] + dist * np.cos(ang), near[1] + dist * np.sin(ang) * 0.6
                if not (-2.8 < x < 2.8 and -2.8 < y < 3.4):
                    continue
            # Farther props stand wider apart in x so that most of each stays in view.
            if all(np.hypot(x - px, y - py) > radius + pr + 0.35 for px, py, pr in placed):
                return float(x), float(y)
        return None

    props = []
    for i in range(9):
        size = float(rng.uniform(0.55, 1.0))
        shape = shapes[int(rng.integers(0, 3))]
        spot = free_spot(0.75 * size)
        if spot is None:
            continue
        placed.append((*spot, 0.75 * size))
        z = 0.5 * size if shape != "cylinder" else 0.8 * size
        tex = textures[i % len(textures)]
        colour = [float(v) for v in rng.uniform(0.1, 0.8, 3)]
        props.append({"name": f"p{i + 1}", "shape": shape, "location": [spot[0], spot[1], z], "size": size,
                      "angle": float(rng.uniform(-40, 40)), "texture": tex, "color": colour, "index": i + 1,
                      "scale": 1.0})
    visible, spares = props[:7], props[7:]
    # Changes go to props in the middle of the set (the frame edges cut the others), two sets, no prop twice.
    central = [p for p in visible if abs(p["location"][0]) < 2.0]
    order = [p["name"] for p in central] + [p["name"] for p in visible if p not in central]
    sets, kinds = [], []
    for s in range(2):
        chosen = order[3 * s:3 * s + 3]
        while len(chosen) < 3:
            chosen.append(order[len(chosen) % len(order)])
        removed, moved, recoloured = chosen
        change = {removed: {"hidden": True}, recoloured: {"hue": float(rng.uniform(0.3, 0.7))}}
        p = next(q for q in props if q["name"] == moved)
        placed_without = [t for t in placed if (t[0], t[1]) != tuple(p["location"][:2])]
        saved, placed[:] = placed[:], placed_without
        spot = free_spot(0.75 * p["size"], near=(p["location"][0], p["location"][1])) or \
            (p["location"][0] + 1.2, p["location"][1])
        placed[:] = saved
        change[moved] = {"location": [spot[0], spot[1], p["location"][2]], "angle": p["angle"] + 25.0}
        kinds_s = {removed: "removed", moved: "moved", recoloured: "recoloured"}
        if s < len(spares):
            kinds_s[spares[s]["name"]] = "added"
        sets.append(change)
        kinds.append(kinds_s)
    return {"floor": floor, "wall": wall, "props": props, "spares": [p["name"] for p in spares],
            "sets": sets, "kinds": kinds}


def cameras(number: int) -> list[tuple[str, dict, dict | None]]:
    """B's camera per step (STEPS) for a layout: (step name, camera dict, move dict or None); the side of the
    step alternates with the layout."""
    side = 1.0 if number % 2 else -1.0
    (loc, target, _), out = CAMERA_A, []
    for name, offset, toff, lens, moving in STEPS:
        o = np.array(offset) * (side, 1, 1)
        t = np.array(toff) * (side, 1, 1)
        cam = {"location": [float(v) for v in np.add(loc, o)], "target": [float(v) for v in np.add(target, t)],
               "lens": lens}
        move = None
        if moving:  # the shutter covers a fifth of the move again: the camera travels 0.1 m during it
            o2 = o + np.array([0.04 * side, 0.09, 0.01])
            move = {"location": [float(v) for v in np.add(loc, o2)], "target": cam["target"]}
        out.append((name, cam, move))
    return out


def lights(number: int) -> tuple[str, list[str]]:
    """A's light and B's per step: lit two ways, B under the other light for half the steps."""
    a = "day" if number % 2 else "dusk"
    other = "dusk" if a == "day" else "day"
    return a, [other, a, other, a] if number <= 2 else [a, other, a, other]


def render_layout(number: int, log=lambda message: None) -> Path | None:
    """Render layout ``number``'s takes once (cached, keyed by the script and the spec) and return the folder;
    None when Blender's Python is missing or the render failed (said through ``log``)."""
    lay = layout(number)
    script = Path(__file__).with_name("blender_takes.bpy")
    base = cache_folder()
    textures = base / "textures"
    light_a, lights_b = lights(number)
    a_cam = {"location": list(CAMERA_A[0]), "target": list(CAMERA_A[1]), "lens": CAMERA_A[2]}
    renders = [{"name": "a", "light": light_a, "camera": a_cam, "changes": spares_hidden(lay)}]
    for i, (step, cam, move) in enumerate(cameras(number)):
        key = step.replace(" ", "_")
        common = {"light": lights_b[i], "camera": cam, **({"move": move} if move else {})}
        renders.append({"name": f"{key}_clean", **common, "changes": spares_hidden(lay)})
        for s, change in enumerate(lay["sets"]):
            shown = {n: c for n, c in spares_hidden(lay).items() if lay["kinds"][s].get(n) != "added"}
            renders.append({"name": f"{key}_set{s + 1}", **common, "changes": {**shown, **change}})
    spec = {"size": [TAKE_SIZE[1], TAKE_SIZE[0]], "samples": SAMPLES, "denoise": True,
            # Textures repeat as little as the view allows: a photo tiled across the set matches itself.
            "set": {"floor": lay["floor"], "wall": lay["wall"], "floor_size": 24.0, "floor_scale": [2.0, 2.0],
                    "wall_width": 16.0, "wall_scale": [1.0, 1.0], "wall_y": 6.0},
            "props": lay["props"], "renders": renders}
    key = hashlib.sha256((script.read_text(encoding="utf-8") + json.dumps(spec, sort_keys=True)).encode()).hexdigest()
    folder = base / f"layout{number}-{key[:12]}"
    if (folder / "done").is_file():
        return folder
    full = json.loads(json.dumps(spec))
    full["set"]["floor"] = photo_png(lay["floor"], textures)
    full["set"]["wall"] = photo_png(lay["wall"], textures)
    for p in full["props"]:
        p["texture"] = photo_png(p["texture"], textures) if p["texture"] else None
    log(f"rendering blender layout {number}: {len(renders)} Cycles renders at {TAKE_SIZE[1]}x{TAKE_SIZE[0]}")
    return render_spec(full, folder, log, key=key)


def render_spec(spec: dict, folder: Path, log=lambda message: None, *, key: str = "") -> Path | None:
    """Render a blender_takes.bpy spec (textures as PNG paths) into ``folder`` with Blender's Python; the folder,
    or None when Blender's Python is missing or a render failed (said through ``log``). A file ``done`` (holding
    ``key``) marks a finished folder."""
    python = blender_python()
    if python is None:
        log("blender takes left out: no Blender Python (make blender-venv)")
        return None
    script = Path(__file__).with_name("blender_takes.bpy")
    folder.mkdir(parents=True, exist_ok=True)
    full = {**spec, "out": str(folder)}
    (folder / "spec.json").write_text(json.dumps(full, indent=1), encoding="utf-8")
    proc = subprocess.run([str(python), str(script), str(folder / "spec.json")], capture_output=True, text=True)
    if proc.returncode != 0 or not all((folder / f"{r['name']}.exr").is_file() for r in spec["renders"]):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        log(f"blender takes left out: Blender failed ({tail[0]})")
        return None
    (folder / "done").write_text(key, encoding="utf-8")
    return folder


def spares_hidden(lay: dict) -> dict:
    return {name: {"hidden": True} for name in lay["spares"]}


@dataclass
class Render:
    """One Blender render: rgb linear Rec.709 (H, W, 3), depth (H, W) in m along the view axis, index (H, W)
    int (prop index, 101 floor, 102 wall), camera: the 4x4 world matrix, lens and sensor width (mm)."""

    rgb: np.ndarray
    depth: np.ndarray
    index: np.ndarray
    matrix: np.ndarray
    focal_px: float


def read_render(folder: Path, name: str) -> Render:
    layers = read_layers(folder / f"{name}.exr")

    def pick(suffix):
        return next(v for k, v in layers.items() if k.endswith(suffix))

    rgb = np.stack([pick("Combined.R"), pick("Combined.G"), pick("Combined.B")], -1)
    depth = pick("Depth.Z")
    index = np.rint(next(v for k, v in layers.items() if "Index" in k)).astype(np.int32)
    cam = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    width = cam["size"][0]
    return Render(rgb, depth, index, np.array(cam["matrix_world"], np.float64),
                  cam["lens"] / cam["sensor_width"] * width)


def reproject(b: Render, a: Render) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each pixel of B's render lands in A's: (x, y) pixel coordinates (H, W) float32 each, and A's depth
    of that point (H, W) float32 (m along A's view axis). Blender cameras look down -Z with +Y up."""
    h, w = b.depth.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    d = b.depth.astype(np.float64)
    cam = np.stack([(xs + 0.5 - w / 2) / b.focal_px * d, -(ys + 0.5 - h / 2) / b.focal_px * d, -d, np.ones_like(d)], -1)
    world = cam @ b.matrix.T
    in_a = world @ np.linalg.inv(a.matrix).T
    za = -in_a[..., 2]
    ha, wa = a.depth.shape
    safe = np.where(za > 1e-6, za, 1e-6)
    xa = in_a[..., 0] / safe * a.focal_px + wa / 2 - 0.5
    ya = -in_a[..., 1] / safe * a.focal_px + ha / 2 - 0.5
    return xa.astype(np.float32), ya.astype(np.float32), za.astype(np.float32)


def not_comparable_truth(b: Render, a: Render, *, tolerance: float = 0.03) -> np.ndarray:
    """(H, W) bool in B's frame: B's point is outside A's frame, or A sees something nearer there (occluded in
    A; disoccluded in B) by more than ``tolerance`` of the depth (both renders of the same props)."""
    xa, ya, za = reproject(b, a)
    ha, wa = a.depth.shape
    inside = (xa >= 0) & (ya >= 0) & (xa <= wa - 1) & (ya <= ha - 1) & (za > 0)
    xi = np.clip(np.rint(xa), 0, wa - 1).astype(np.int64)
    yi = np.clip(np.rint(ya), 0, ha - 1).astype(np.int64)
    seen = a.depth[yi, xi]
    hidden = seen < za * (1.0 - tolerance)
    return ~inside | hidden


def cast_by_changes(take: Render, clean: Render, props: list[int], *, level: float = 0.08) -> list:
    """Boxes (x, y, w, h) in B of what the changed props do to the rest of the picture: their shadows, their
    light bounced onto the floor, their reflections. The two renders share camera, light and sampling seed, so
    where neither shows a changed prop and their pixels differ by more than ``level`` of the local brightness,
    the change is the cause. A detection there is neither a find nor a false alarm (``TakePair.ignore``)."""
    import cv2

    props_mask = np.isin(take.index, props) | np.isin(clean.index, props)
    luma = REC709_LUMA
    base = cv2.GaussianBlur((clean.rgb @ luma).astype(np.float32), (0, 0), 3.0)
    diff = np.abs(take.rgb - clean.rgb).max(-1)
    cast = (diff > level * (base + 0.02)) & ~props_mask
    cast = cv2.morphologyEx(cast.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(cast, connectivity=8)
    h, w = cast.shape
    return [tuple(int(v) for v in stats[i][:4]) for i in range(1, count) if stats[i][4] >= 0.0005 * h * w]
