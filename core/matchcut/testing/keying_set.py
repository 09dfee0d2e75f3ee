"""The keying evaluation set: subjects rendered in real Blender (true alpha) over screens lit the ways sets are.

Subjects (``blender_subjects.bpy``, Cycles in bpy 5.0.1 from .venv-blender, 480x270, transparent film, textured
with scikit-image's photos: public domain or CC0, in the installed package): ``hair`` (a head with curly
particle hair, shoulders to the bottom edge), ``throw`` (a box and a ball thrown, a rod: motion blur),
``curtain`` (a woven semi-transparent voile in front of a figure), ``fur`` (a furry creature, hair all round),
``spin`` (a spinning ring and a falling ball: motion blur), ``veil`` (a head under a semi-transparent veil with
long fine hair), ``drape`` (a figure in a dyed blue jacket behind a semi-transparent shawl: subject close to a
blue screen's colour, under and beside see-through cloth). Split by subject, so a held-out subject is never
seen while tuning: tune = hair, throw, curtain, drape; held-out = fur, spin, veil.

Each subject is composited (premultiplied, linear Rec.709) over every recipe in ``RECIPES``: a green or blue
screen (``screens.screen_plate``) lit even, falling off or by two colour temperatures, with wrinkles and seams
and/or tracking markers, spill of the screen's light onto the subject, sensor noise and sometimes JPEG. A plate
is then converted to the config's scene_linear (what the matte tool works in). Renders are cached under the
repository's build/eval (else the user cache), keyed by the script and the settings: rendered once.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matchcut.testing.photos import LINEAR_REC709

SIZE = (270, 480)  # (H, W)
SAMPLES = 32
TUNE_SUBJECTS = ("hair", "throw", "curtain", "drape")
HELD_OUT_SUBJECTS = ("fur", "spin", "veil")
SPLITS = ("tune", "held-out")
TEXTURES = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field", "camera",
            "gravel")


@dataclass(frozen=True)
class Recipe:
    """How one plate is shot: the screen, its light and dressing, spill on the subject, the camera."""

    screen: str
    lighting: str
    dressing: tuple[str, ...]
    spill: float
    noise: str
    jpeg: int = 0

    @property
    def label(self) -> str:
        parts = [self.screen, self.lighting, *self.dressing]
        if self.spill:
            parts.append(f"spill x{self.spill:g}")
        parts.append(f"{self.noise} noise")
        if self.jpeg:
            parts.append(f"jpeg {self.jpeg}")
        return ", ".join(parts)


#: Every subject over every recipe: half green, half blue; half of them even screens.
RECIPES = (
    Recipe("green", "even", (), 0.0, "low"),
    Recipe("blue", "even", (), 0.0, "low"),
    Recipe("green", "even", ("markers",), 1.0, "high", 85),
    Recipe("blue", "even", ("markers",), 1.0, "low"),
    Recipe("green", "falloff", ("wrinkles",), 1.0, "low"),
    Recipe("blue", "falloff", ("markers",), 2.0, "high"),
    Recipe("green", "two temperatures", ("wrinkles", "markers"), 1.0, "low", 85),
    Recipe("blue", "two temperatures", ("wrinkles",), 2.0, "high", 85),
)


@dataclass
class Subject:
    """A rendered subject: foreground (premultiplied, linear Rec.709, (H, W, 3) float32), its true alpha
    (H, W) float32 in [0, 1], and screen_light: the subject lit only by a white light where the screen is
    (premultiplied, (H, W, 3)), which spill tints."""

    name: str
    split: str
    foreground: np.ndarray
    alpha: np.ndarray
    screen_light: np.ndarray


@dataclass
class KeyingPlate:
    """One evaluation plate. plate, clean: scene-linear (config's scene_linear) (H, W, 3) float32, the subject over
    the screen and the same screen without it (its own noise); alpha: the truth (H, W) float32 in [0, 1];
    foreground: the premultiplied subject without spill, scene-linear; dressing: the marker and seam pixels."""

    name: str
    subject: str
    split: str
    recipe: Recipe
    plate: np.ndarray
    clean: np.ndarray
    alpha: np.ndarray
    foreground: np.ndarray
    dressing: np.ndarray


def synthetic_subject(height: int, width: int, *, photo_name: str = "coffee", seed: int = 0) -> Subject:
    """A small stand-in subject for tests (no Blender): a scikit-image photo (linear Rec.709) cut by
    ``mattes.soft_alpha`` (a feathered ellipse and hair-thin strands), lit from behind on its rim
    (screen_light: the alpha times how much screen surrounds each pixel, blurred over 3 % of the frame)."""
    import cv2

    from matchcut.testing.mattes import soft_alpha
    from matchcut.testing.photos import photo

    alpha = soft_alpha(height, width, seed=seed)
    fg = photo(photo_name, colorspace="linear", size=(height, width)) * alpha[..., None]
    around = cv2.GaussianBlur(1.0 - alpha, (0, 0), 0.03 * max(height, width))
    light = np.repeat((0.25 * alpha * around)[..., None], 3, axis=2)
    return Subject(f"synthetic {photo_name}", "tests", fg.astype(np.float32), alpha, light.astype(np.float32))


def split_of(subject: str) -> str:
    """"tune" or "held-out" for a subject name."""
    return "tune" if subject in TUNE_SUBJECTS else "held-out"


def cache_root() -> Path:
    """Where renders are kept: the repository's build/eval when this runs from a checkout, else the cache."""
    from matchcut import settings

    root = Path(__file__).resolve().parents[3]
    if (root / "pyproject.toml").is_file():
        return root / "build" / "eval"
    return settings.cache_dir() / "eval"


def render_subjects(subjects: tuple[str, ...] = TUNE_SUBJECTS + HELD_OUT_SUBJECTS, *, size: tuple[int, int] = SIZE,
                    samples: int = SAMPLES, cache: Path | None = None, log=lambda message: None) -> dict[str, Subject]:
    """The subjects rendered once in Blender and cached (under ``cache``, default cache_root()); {name: Subject}.
    size: (H, W). SettingError (naming MATCHCUT_BLENDER_PYTHON) when there is no Blender Python; MatchcutError
    with Blender's last line when a render fails."""
    import imageio.v3 as iio
    import skimage.data

    from matchcut.errors import MatchcutError, SettingError
    from matchcut.testing.shotpairs import blender_python

    script = Path(__file__).with_name("blender_subjects.bpy")
    spec = {"size": [size[1], size[0]], "samples": samples, "subjects": list(subjects)}
    key = hashlib.sha256((script.read_text() + json.dumps(spec, sort_keys=True)).encode()).hexdigest()[:16]
    folder = (cache or cache_root()) / f"keying-{key}"
    paths = {n: folder / f"{n}.exr" for n in subjects}
    if not all(p.is_file() for p in paths.values()):
        python = blender_python()
        if python is None:
            raise SettingError("MATCHCUT_BLENDER_PYTHON", "no Blender Python to render the keying subjects "
                               "(make blender-venv, or point MATCHCUT_BLENDER_PYTHON at a Python with bpy)")
        folder.mkdir(parents=True, exist_ok=True)
        textures = {}
        for name in TEXTURES:
            image = getattr(skimage.data, name)()
            if image.ndim == 2:
                image = np.repeat(image[..., None], 3, axis=2)
            textures[name] = str(folder / f"{name}.png")
            iio.imwrite(textures[name], np.ascontiguousarray(image[..., :3]))
        full = {**spec, "textures": textures, "out": str(folder)}
        (folder / "spec.json").write_text(json.dumps(full, indent=1))
        log(f"rendering {len(subjects)} keying subjects in Blender (Cycles, {samples} samples, a few seconds each)")
        proc = subprocess.run([str(python), str(script), str(folder / "spec.json")], capture_output=True, text=True)
        if proc.returncode != 0 or not all(p.is_file() for p in paths.values()):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise MatchcutError(f"{script.name}: Blender failed to render the keying subjects ({tail[0]})")
    return {n: read_subject(n, p) for n, p in paths.items()}


def read_subject(name: str, path: Path) -> Subject:
    """A subject from its multilayer EXR (Combined alpha, the key and screen light groups)."""
    import OpenImageIO as oiio

    from matchcut.errors import FrameReadError

    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise FrameReadError(str(path), oiio.geterror())
    layers: dict[str, np.ndarray] = {}
    index = 0
    while inp.seek_subimage(index, 0):
        pixels = inp.read_image(oiio.FLOAT)
        layers.update({c: pixels[..., i] for i, c in enumerate(inp.spec().channelnames)})
        index += 1
    inp.close()

    def rgb(group: str) -> np.ndarray:
        return np.ascontiguousarray(np.dstack([layers[f"ViewLayer.{group}.{c}"] for c in "RGB"]), np.float32)

    alpha = np.clip(layers["ViewLayer.Combined.A"], 0.0, 1.0).astype(np.float32)
    return Subject(name, split_of(name), rgb("Combined_key"), alpha, rgb("Combined_screen"))


def plate_seed(*parts: str) -> int:
    """A stable seed from names (the same plate gets the same screen and noise in every run)."""
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:8], 16)


def make_plate(subject: Subject, recipe: Recipe, index: int, *, noise_seed: int = 0,
               shift: tuple[float, float] = (0.0, 0.0)) -> KeyingPlate:
    """``subject`` over ``recipe``'s screen: (premultiplied foreground + spill) + (1 - alpha) x screen, through
    the camera; the clean plate is the same screen through the camera with its own noise. ``shift``: the
    subject moved by (dx, dy) pixels (a moving subject over a locked-off screen); ``noise_seed``: another
    frame's noise."""
    import cv2

    from matchcut import color

    h, w = subject.alpha.shape
    fg, alpha, light = subject.foreground, subject.alpha, subject.screen_light
    if shift != (0.0, 0.0):
        m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])

        def move(image):
            return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

        fg, alpha, light = move(fg), np.clip(move(alpha), 0.0, 1.0), move(light)
    seed = plate_seed(subject.name, recipe.label, str(index))
    screen, dressing = _screen(h, w, recipe, seed)
    from matchcut.testing.screens import camera, spill

    fg_spilled = fg + spill(light, screen, recipe.spill) if recipe.spill else fg
    shot = fg_spilled + screen * (1.0 - alpha[..., None])
    plate = camera(shot, recipe.noise, jpeg=recipe.jpeg, seed=seed + 1 + 7919 * noise_seed)
    clean = camera(screen, recipe.noise, jpeg=recipe.jpeg, seed=seed + 2)

    def working(image):
        return color.convert(np.ascontiguousarray(image, np.float32), LINEAR_REC709, color.SCENE_LINEAR)

    return KeyingPlate(f"{subject.name} / {recipe.label}", subject.name, subject.split, recipe, working(plate),
                       working(clean), alpha.astype(np.float32), working(fg), dressing)


def _screen(h: int, w: int, recipe: Recipe, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from matchcut.testing.screens import screen_plate

    return screen_plate(h, w, recipe.screen, recipe.lighting, recipe.dressing, seed=seed)


def evaluation_plates(splits: tuple[str, ...] = SPLITS, *, subjects: dict[str, Subject] | None = None,
                      log=lambda message: None) -> list[KeyingPlate]:
    """Every subject of the named splits over every recipe, in a fixed order (subject, then recipe)."""
    subjects = subjects if subjects is not None else render_subjects(log=log)
    out = []
    for name in TUNE_SUBJECTS + HELD_OUT_SUBJECTS:
        if name in subjects and split_of(name) in splits:
            out += [make_plate(subjects[name], recipe, i) for i, recipe in enumerate(RECIPES)]
    return out


# --- the quality run --------------------------------------------------------------------------------------

#: The keyers measured, in the order they are reported: Matchcut's screen model, then the peers, then the screen
#: model given the plate's clean plate (the same screen shot without the subject, with its own noise).
KEYERS = ("screen model", "plain key", "fitted plane", "previous keyer", "screen model + clean plate")
#: The static and moving sequences: a held-out subject over an uneven, dressed, noisy screen.
SEQUENCE_SUBJECT = "fur"
SEQUENCE_RECIPE = Recipe("green", "falloff", ("wrinkles", "markers"), 1.0, "high")
SEQUENCE_FRAMES = 8


def screen_model_key(plate: np.ndarray) -> np.ndarray:
    """Matchcut's keyer as the matte tool runs it on one frame with its defaults: the screen found from the
    border, the screen model fitted to the frame, the key against it; alpha (H, W) float32 in [0, 1]."""
    from matchcut.matte.keying import key_screen, screen_model

    return key_screen(plate, model=screen_model(plate))[0]


def key_plate(name: str, plate: KeyingPlate) -> np.ndarray:
    """Keyer ``name`` (one of KEYERS) on ``plate``; the peers are told the screen, Matchcut finds it."""
    from matchcut.testing.keyers import PEERS

    from matchcut.matte.keying import key_screen, screen_model

    if name == "screen model":
        return screen_model_key(plate.plate)
    if name == "screen model + clean plate":
        return key_screen(plate.plate, model=screen_model(plate.plate, clean_plate=plate.clean))[0]
    return PEERS[name](plate.plate, plate.recipe.screen)


def foreground_error(premult: np.ndarray, plate: KeyingPlate) -> float:
    """The error of a premultiplied foreground (H, W, 3) against the plate's (the subject without the spill),
    scene-linear: the sum over the frame of the mean absolute error of the three channels, in thousands (as
    SAD is; a foreground left where the screen is counts as much as one missing on the subject)."""
    return float(np.abs(premult.astype(np.float64) - plate.foreground).mean(axis=-1).sum() / 1000.0)


def foregrounds(plate: KeyingPlate) -> dict[str, float]:
    """{"screen model", "previous"}: foreground_error of the matte tool's screen finish (the screen model
    subtracted, screen despill) and of the finish before it (average despill, pymatting's foreground
    estimation on the previous keyer's matte), both with the tool's defaults otherwise."""
    from matchcut.matte.composite import estimate_foreground
    from matchcut.matte.despill import despill
    from matchcut.matte.keying import key_screen, screen_model
    from matchcut.matte.shot import screen_foreground
    from matchcut.testing.keyers import previous_key
    from matchcut.tools.matte import MatteTool

    values = {c.name: c.default for c in MatteTool.controls}
    model = screen_model(plate.plate)
    alpha = key_screen(plate.plate, model=model)[0]
    ours = screen_foreground(plate.plate, alpha, model, values)
    old_alpha = previous_key(plate.plate, plate.recipe.screen)
    old = estimate_foreground(despill(plate.plate, plate.recipe.screen, "average"), old_alpha) * old_alpha[..., None]
    return {"screen model": foreground_error(ours, plate), "previous": foreground_error(old, plate)}


def measure_plates(plates: list[KeyingPlate], keyers: tuple[str, ...] = KEYERS,
                   fg: bool = True) -> list[dict]:
    """Per plate: {"plate", "split", "errors": {keyer: metrics.matte_errors}, "foreground": foregrounds() or {}}."""
    from matchcut.testing.metrics import matte_errors

    rows = []
    for plate in plates:
        errors = {k: matte_errors(key_plate(k, plate), plate.alpha) for k in keyers}
        rows.append({"plate": plate.name, "split": plate.split, "errors": errors,
                     "foreground": foregrounds(plate) if fg else {}})
    return rows


def summary(rows: list[dict], split: str, keyers: tuple[str, ...] = KEYERS) -> dict[str, dict[str, float]]:
    """{keyer: {"sad", "mse", "grad", "conn" (summed over the split's plates; mse the mean), "ratio" (SAD /
    the plain key's), "beats plain", "beats plane" (plates with a lower SAD than each), "plates"}}."""
    mine = [r for r in rows if r["split"] == split]
    out = {}
    for k in keyers:
        e = [r["errors"][k] for r in mine]
        out[k] = {"sad": sum(x["sad"] for x in e), "mse": float(np.mean([x["mse"] for x in e])) if e else 0.0,
                  "grad": sum(x["grad"] for x in e), "conn": sum(x["conn"] for x in e),
                  "beats plain": sum(r["errors"][k]["sad"] < r["errors"]["plain key"]["sad"] for r in mine),
                  "beats plane": sum(r["errors"][k]["sad"] < r["errors"]["fitted plane"]["sad"] for r in mine),
                  "plates": len(mine)}
    base = out["plain key"]["sad"] if "plain key" in out else 0.0
    for k in keyers:
        out[k]["ratio"] = out[k]["sad"] / base if base else float("nan")
    return out


def sequence(subject: Subject, *, moving: bool, frames: int = SEQUENCE_FRAMES) -> list[KeyingPlate]:
    """A shot of ``frames`` frames over SEQUENCE_RECIPE's locked-off screen, fresh noise every frame: the subject
    static (``moving`` False) or moving 3 px right and 1 px down a frame."""
    return [make_plate(subject, SEQUENCE_RECIPE, 0, noise_seed=f, shift=(3.0 * f, 1.0 * f) if moving else (0.0, 0.0))
            for f in range(frames)]


#: How a sequence is keyed (sequence_mattes): the screen model three ways, then the peers frame by frame.
SEQUENCE_KEYERS = ("screen model, shared and steadied (default)", "screen model, shared", "screen model, per frame",
                   "plain key", "fitted plane", "previous keyer")


def sequence_mattes(shot: list[KeyingPlate], keyer: str) -> list[np.ndarray]:
    """The mattes of a sequence by ``keyer`` (one of SEQUENCE_KEYERS): the screen model fitted on every frame
    ("per frame"), or fitted on the first frame and shared while the camera holds (screen.frame_model), and
    then also keyed on the plate steadied over time (screen.steady_plate with the tool's default temporal
    strength), as the matte tool does by default; the peers frame by frame."""
    from matchcut.matte.keying import key_screen, screen_model
    from matchcut.matte.screen import frame_model, steady_plate
    from matchcut.tools.matte import MatteTool

    if keyer == "screen model, per frame":
        return [key_plate("screen model", p) for p in shot]
    if not keyer.startswith("screen model"):
        return [key_plate(keyer, p) for p in shot]
    strength = next(c.default for c in MatteTool.controls if c.name == "temporal") if "steadied" in keyer else 0.0
    shared = screen_model(shot[0].plate)
    keyed = shot[0].plate
    out = [key_screen(keyed, model=shared)[0]]
    for p in shot[1:]:
        model, _ = frame_model(shared, p.plate)
        keyed = steady_plate(keyed, p.plate, model, strength)
        out.append(key_screen(keyed, model=model)[0])
    return out


def chatter(mattes: list[np.ndarray], truth: np.ndarray | None = None) -> dict[str, float]:
    """Frame-to-frame change of a static subject's matte: {"mean": mean |alpha_t - alpha_t-1| over the frame,
    "edge": the same over the truth's soft edge (0 < alpha < 1, dilated 2 px) when ``truth`` is given}, both
    averaged over consecutive pairs."""
    import cv2

    diffs = [np.abs(b - a) for a, b in zip(mattes[:-1], mattes[1:])]
    out = {"mean": float(np.mean([d.mean() for d in diffs]))}
    if truth is not None:
        edge = ((truth > 0) & (truth < 1)).astype(np.uint8)
        edge = cv2.dilate(edge, np.ones((5, 5), np.uint8)).astype(bool)
        out["edge"] = float(np.mean([d[edge].mean() for d in diffs]))
    return out
