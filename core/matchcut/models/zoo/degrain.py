"""degrain-small: Matchcut's own small grain-reduction U-Net, trained at install time on scikit-image photos.

The training data are five sample photographs inside the pinned scikit-image 0.26.0 wheel (public domain or
CC0, see SKIMAGE_LICENCES); one of them (coffee) is held out of training to measure the PSNR gain that the
manifest's description reports. Grain is synthetic: signal-dependent gaussian noise, partly shared across
channels and slightly blurred, like film grain or a high-ISO sensor seen through a debayer. PyTorch is
imported only inside the functions that train and export; this module's constants are cheap to import.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from matchcut import settings

# --- the pinned source: scikit-image's sample images ----------------------------------------------------

SKIMAGE_PACKAGE = "scikit-image"
SKIMAGE_VERSION = "0.26.0"
#: sha256 of scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl (checked against
#: the file pypi.org serves); the data members are identical in every platform's wheel.
SKIMAGE_WHEEL_SHA256 = "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af"
SKIMAGE_WHEEL_GLOB = "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
SKIMAGE_PIP_ARGS = ("--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64")
SKIMAGE_LICENCE_MEMBER = "scikit_image-0.26.0.dist-info/LICENSE.txt"

#: role -> path inside the wheel. The roles are the images' names in ``skimage.data``.
SKIMAGE_MEMBERS = {
    "astronaut": "skimage/data/astronaut.png",
    "chelsea": "skimage/data/chelsea.png",
    "rocket": "skimage/data/rocket.jpg",
    "hubble_deep_field": "skimage/data/hubble_deep_field.jpg",
    "coffee": "skimage/data/coffee.png",
}
#: role -> sha256 of the member (identical to skimage/data/_registry.py's entries for these files).
SKIMAGE_MEMBER_SHA256 = {
    "astronaut": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "chelsea": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    "rocket": "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
    "hubble_deep_field": "3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4",
    "coffee": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
}
#: Each image's terms as the docstrings of skimage/data/_fetchers.py (scikit-image 0.26.0) state them.
SKIMAGE_LICENCES = {
    "astronaut": "public domain (NASA; 'No known copyright restrictions, released into the public domain')",
    "chelsea": "CC0 (photographer Stefan van der Walt; 'No copyright restrictions')",
    "rocket": "public domain (SpaceX photos, released into the public domain)",
    "hubble_deep_field": "public domain (NASA; 'may be freely used in the public domain')",
    "coffee": "CC0 (photographer Rachel Michetti; 'No copyright restrictions')",
}
#: The model is Matchcut's own work, trained on the images above.
DEGRAIN_LICENCE = "Apache-2.0"
DEGRAIN_LICENCE_NOTE = ("weights trained at install by Matchcut on scikit-image 0.26.0 sample photos: astronaut, "
                        "rocket, hubble_deep_field (public domain), chelsea, coffee (CC0)")
DEGRAIN_ID = "degrain-small"
BUILDER = "matchcut.models.zoo.degrain:build"

#: The image never trained on; the build measures the PSNR gain on it.
HELD_OUT = "coffee"
#: Training steps of a full build: about 50 s on one core of a busy 2-core machine, +3.0 dB on the held-out
#: image there (300 steps gave +1.8 dB). ``$MATCHCUT_DEGRAIN_STEPS`` overrides it.
DEFAULT_STEPS = 700
STEPS_VAR = settings.DEGRAIN_STEPS_VAR
SIZE_MULTIPLE = 4  # two 2x2 average pools
#: One thread, not two: the build runs in CI and `make demo` beside other work, and on a shared 2-core
#: machine two OpenMP threads spin on each other's barriers (measured 0.54 s/step against 0.07 s/step with
#: one under load); one thread also makes the weights bit-identical whatever the core count.
TRAIN_THREADS = 1
CROP = 64
BATCH = 8
#: Grain on the held-out image for the reported figure: sigma = A * sqrt(v) + B on sRGB-encoded values v
#: (half of its variance shared by R, G and B, blur 0.3: mid-range of what training sees).
EVAL_GRAIN = (0.05, 0.01)

# The network, level by level, as (layer kind, the pixel scale it runs at): every conv is 3x3.
_LAYERS = [("conv", 1), ("conv", 1), ("pool", 1), ("conv", 2), ("conv", 2), ("pool", 2), ("conv", 4),
           ("conv", 4), ("up", 2), ("conv", 2), ("up", 1), ("conv", 1), ("conv", 1)]


def receptive_field(layers: list[tuple[str, int]] = _LAYERS) -> int:
    """The network's receptive-field radius in input pixels: how far from a pixel its output can look.

    Summed per layer on one side: a 3x3 conv at scale s (input pixels per feature) adds s; a 2x2 stride-2
    average pool from scale s adds s; a bilinear 2x upsample to scale s blends coarse samples up to 2s away,
    adding 2s. It is an upper bound (the pool and upsample phases do not all reach the same side); the
    impulse response of the trained network stays inside it (tested). Use it as the tiling overlap.
    """
    return sum({"conv": s, "pool": s, "up": 2 * s}[kind] for kind, s in layers)


def make_network():
    """A fresh DegrainNet (torch.nn.Module, ~81k parameters): NCHW float32 RGB in, the same shape out.

    Residual: output = input - predicted grain, so an untrained network (zeroed head) is the identity and
    the Strength control can mix input and output linearly. Levels of 16/32/64 channels; H and W must be
    multiples of 4.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    def conv(cin: int, cout: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.1))

    class DegrainNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc0 = nn.Sequential(conv(3, 16), conv(16, 16))
            self.enc1 = nn.Sequential(conv(16, 32), conv(32, 32))
            self.mid = nn.Sequential(conv(32, 64), conv(64, 32))
            self.dec1 = conv(32 + 32, 32)
            self.dec0 = nn.Sequential(conv(32 + 16, 16), conv(16, 16))
            self.head = nn.Conv2d(16, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            e0 = self.enc0(x)
            e1 = self.enc1(F.avg_pool2d(e0, 2))
            m = self.mid(F.avg_pool2d(e1, 2))
            d1 = self.dec1(torch.cat([F.interpolate(m, scale_factor=2.0, mode="bilinear"), e1], 1))
            d0 = self.dec0(torch.cat([F.interpolate(d1, scale_factor=2.0, mode="bilinear"), e0], 1))
            return x - self.head(d0)

    net = DegrainNet()
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
            nn.init.zeros_(module.bias)
    nn.init.zeros_(net.head.weight)  # start as the identity: training only ever has to learn the grain
    return net


def load_image(path: Path) -> np.ndarray:
    """An 8-bit RGB image file as float32 (H, W, 3) sRGB-encoded values in [0, 1]."""
    import cv2

    from matchcut.errors import FrameReadError

    data = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if data is None:
        raise FrameReadError(str(path), "not an image OpenCV can decode (expected an 8-bit PNG or JPEG)")
    return np.ascontiguousarray(data[..., ::-1], dtype=np.float32) / 255.0


def add_grain(clean, a, b, rng_or_generator, shared=0.5, blur=0.0):
    """Clean NCHW float32 torch tensor -> the same with synthetic grain, sigma = a * sqrt(v) + b per pixel.

    a, b: (N,) tensors or floats. shared: the fraction of grain variance common to R, G and B (film grain is
    mostly luminance). blur: 0..1, how much the grain is smoothed by a 3x3 kernel (grain larger than a pixel),
    renormalised to unit variance so sigma keeps its meaning. ``rng_or_generator`` is a torch.Generator.
    """
    import torch
    import torch.nn.functional as F

    n, c, h, w = clean.shape
    gen = rng_or_generator
    shared = torch.as_tensor(shared, dtype=clean.dtype).reshape(-1, 1, 1, 1)
    own = torch.randn(clean.shape, generator=gen)
    common = torch.randn((n, 1, h, w), generator=gen)
    noise = torch.sqrt(1 - shared) * own + torch.sqrt(shared) * common
    blur_t = torch.as_tensor(blur, dtype=clean.dtype).reshape(-1, 1, 1, 1)
    if float(blur_t.max()) > 0:
        k = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0
        norm = float(torch.sqrt((k**2).sum()))
        smooth = F.conv2d(F.pad(noise, (1, 1, 1, 1), mode="reflect"), k.expand(c, 1, 3, 3), groups=c) / norm
        cov = float(k[1, 1]) / norm  # correlation of white noise with its own smoothed, unit-variance version
        mixed_var = (1 - blur_t) ** 2 + blur_t**2 + 2 * blur_t * (1 - blur_t) * cov
        noise = ((1 - blur_t) * noise + blur_t * smooth) / torch.sqrt(mixed_var)
    a_t = torch.as_tensor(a, dtype=clean.dtype).reshape(-1, 1, 1, 1)
    b_t = torch.as_tensor(b, dtype=clean.dtype).reshape(-1, 1, 1, 1)
    sigma = a_t * torch.sqrt(clean.clamp(min=0)) + b_t
    return clean + sigma * noise


def _batch(images: list[np.ndarray], gen, size: int = CROP, count: int = BATCH):
    """Random crops (flipped and rotated) of the training images, NCHW float32 torch tensor."""
    import torch

    crops = []
    for _ in range(count):
        img = images[int(torch.randint(len(images), (1,), generator=gen))]
        y = int(torch.randint(img.shape[0] - size + 1, (1,), generator=gen))
        x = int(torch.randint(img.shape[1] - size + 1, (1,), generator=gen))
        crop = img[y:y + size, x:x + size]
        crop = np.rot90(crop, int(torch.randint(4, (1,), generator=gen)))
        if int(torch.randint(2, (1,), generator=gen)):
            crop = crop[:, ::-1]
        crops.append(np.ascontiguousarray(crop.transpose(2, 0, 1)))
    return torch.from_numpy(np.stack(crops))


def train(images: list[np.ndarray], steps: int, log: Callable[[str], None] = lambda _: None, seed: int = 0):
    """Train a DegrainNet on random crops of ``images`` (float32 (H, W, 3) sRGB-encoded, [0, 1]) for ``steps``
    Adam steps with synthetic grain; deterministic for a given seed. Returns the network in eval mode.

    Uses TRAIN_THREADS CPU threads (the previous setting is restored afterwards).
    """
    import torch

    previous_threads = torch.get_num_threads()
    torch.manual_seed(seed)
    torch.set_num_threads(TRAIN_THREADS)
    try:
        gen = torch.Generator().manual_seed(seed)
        net = make_network().train()
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(steps, 2), pct_start=0.1)
        running = None
        for step in range(steps):
            clean = _batch(images, gen)
            n = clean.shape[0]
            a = torch.rand(n, generator=gen) * 0.08  # grain strength ~ sqrt(signal) ...
            b = torch.rand(n, generator=gen) * 0.03  # ... plus a floor, both varied per crop
            shared = torch.rand(n, generator=gen) * 0.8
            blur = torch.rand(n, generator=gen) * 0.7
            noisy = add_grain(clean, a, b, gen, shared, blur)
            loss = torch.nn.functional.l1_loss(net(noisy), clean)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            value = float(loss.detach())
            running = value if running is None else 0.95 * running + 0.05 * value
            if (step + 1) % 100 == 0 or step + 1 == steps:
                log(f"degrain-small: step {step + 1}/{steps}, L1 {running:.4f}")
        return net.eval()
    finally:
        torch.set_num_threads(previous_threads)


def export(net, out_onnx: Path) -> None:
    """Write ``net`` as ONNX (opset 17, input ``image``, output ``degrained``, dynamic H/W) atomically."""
    import torch

    out_onnx = Path(out_onnx)
    tmp = out_onnx.with_name(out_onnx.name + ".tmp")
    dummy = torch.zeros(1, 3, 64, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(net, (dummy,), str(tmp), dynamo=False, opset_version=17, input_names=["image"],
                          output_names=["degrained"],
                          dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "degrained": {0: "N", 2: "H", 3: "W"}})
    os.replace(tmp, out_onnx)


def evaluate(run: Callable[[np.ndarray], np.ndarray], image: np.ndarray, seed: int = 1) -> tuple[float, float]:
    """(PSNR of noisy, PSNR of denoised) in dB on ``image`` (float32 (H, W, 3), [0, 1]) with EVAL_GRAIN.

    ``run`` maps NCHW float32 to NCHW float32 (an onnxruntime session or the torch network); the image is
    cropped to a multiple of SIZE_MULTIPLE. Outputs are clipped to [0, 1], as an 8-bit delivery would be.
    """
    import torch

    from matchcut.testing.metrics import psnr

    h, w = (image.shape[0] // SIZE_MULTIPLE) * SIZE_MULTIPLE, (image.shape[1] // SIZE_MULTIPLE) * SIZE_MULTIPLE
    clean = torch.from_numpy(np.ascontiguousarray(image[:h, :w].transpose(2, 0, 1))[None])
    gen = torch.Generator().manual_seed(seed)
    noisy = add_grain(clean, EVAL_GRAIN[0], EVAL_GRAIN[1], gen, shared=0.5, blur=0.3).numpy()
    denoised = run(noisy.astype(np.float32))
    ref = clean.numpy()
    # in float64 and uncapped (identical images: inf), as the manifest's figures have always been measured
    noisy_db = psnr(np.clip(noisy, 0, 1), ref, clip=False, cap=None, dtype=np.float64)
    return noisy_db, psnr(np.clip(denoised, 0, 1), ref, clip=False, cap=None, dtype=np.float64)


def manifest_fields(noisy_db: float, denoised_db: float, steps: int) -> dict[str, Any]:
    """The manifest fields this builder knows (see install.py): tensors, runtime, the Strength control."""
    from matchcut.color import SRGB_DISPLAY

    rgb = {"layout": "NCHW", "channels": ["R", "G", "B"], "range": [0.0, 1.0], "colorspace": SRGB_DISPLAY}
    return {
        "task": "image-to-image",
        "description": (
            f"Matchcut's small grain-reduction U-Net (16/32/64 channels), trained at install on four public-domain/"
            f"CC0 scikit-image photos with synthetic signal-dependent grain ({steps} steps); on the held-out "
            f"'{HELD_OUT}' photo (sigma = {EVAL_GRAIN[0]}*sqrt(v)+{EVAL_GRAIN[1]}) PSNR {noisy_db:.2f} dB -> "
            f"{denoised_db:.2f} dB ({denoised_db - noisy_db:+.2f} dB)."),
        "inputs": [{"name": "image", **rgb, "description": "grainy RGB, sRGB-encoded display values"}],
        "outputs": [{"name": "degrained", **rgb, "description": "the same with grain reduced (not clipped)"}],
        "runtime": {"size_multiple": SIZE_MULTIPLE, "receptive_field": receptive_field(), "temporal_window": 1,
                    "fp16": False, "tileable": True},
        "controls": [{"name": "strength", "type": "float", "default": 1.0, "min": 0.0, "max": 1.0,
                      "label": "Strength",
                      "help": "Mix between the plate (0) and the degrained result (1)."}],
        "data": [],
    }


def build(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None], *,
          steps: int | None = None) -> dict[str, Any]:
    """Zoo builder for ``degrain-small``: train on every member but HELD_OUT, export ONNX, measure PSNR.

    members: role -> extracted, sha256-checked image file (SKIMAGE_MEMBERS' roles). steps: training steps;
    default ``$MATCHCUT_DEGRAIN_STEPS`` or DEFAULT_STEPS. The PSNR figures come from the exported ONNX model
    run by onnxruntime on the CPU, so they describe the file that ships.
    """
    from matchcut.errors import ModelError, SettingError
    from matchcut.runtime import DeviceOptions, create_session

    if steps is None:
        raw = os.environ.get(STEPS_VAR, "").strip()
        if raw and not (raw.isdigit() and int(raw) > 0):
            raise SettingError(STEPS_VAR, f"expected a positive integer, got '{raw}'")
        steps = int(raw) if raw else DEFAULT_STEPS
    missing = sorted(set(SKIMAGE_MEMBERS) - set(members))
    if missing:
        raise ModelError(f"{BUILDER}: members {', '.join(missing)} not given (expected {', '.join(SKIMAGE_MEMBERS)})")
    training = [load_image(members[role]) for role in SKIMAGE_MEMBERS if role != HELD_OUT]
    log(f"degrain-small: training {steps} steps on {len(training)} images ({HELD_OUT} held out)")
    net = train(training, steps, log)
    export(net, Path(out_onnx))
    session = create_session(Path(out_onnx), DeviceOptions(provider="cpu", threads=2))
    noisy_db, denoised_db = evaluate(lambda x: session.run({"image": x})["degrained"], load_image(members[HELD_OUT]))
    log(f"degrain-small: held-out {HELD_OUT}: PSNR {noisy_db:.2f} dB -> {denoised_db:.2f} dB")
    return manifest_fields(noisy_db, denoised_db, steps)
