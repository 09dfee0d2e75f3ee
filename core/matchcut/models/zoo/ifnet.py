"""IFNet, RIFE's flow network (ECCV2022 HDv3 and Practical-RIFE v4.25), in PyTorch with an export-friendly warp.

Both networks take two frames ``img0, img1`` (N, 3, H, W) float32 in [0, 1] (sRGB-encoded display values, as they
were trained) and return the frame between them, same shape and range. H and W must be multiples of
``model.size_multiple`` (64, or 128 for the half-scale flow variant); callers pad.

The layer names match the published state dicts, so the original weights load strictly. The warp builds its
sampling grid from ``torch.arange`` of the runtime shape inside the graph (no grid cached by device or shape,
no grid input), so an ONNX export works at any H and W; the grid stays float32 whatever the precision,
because an fp16 grid misplaces samples by up to a pixel at 4K.

This module imports torch at the top: it is only imported by the zoo builders and tests, never by ``matchcut``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from matchcut.errors import ConversionError, SettingError

#: Flow scales accepted by ``scale=``: 1.0 computes flow at full resolution; 0.5 at half (for 4K plates).
SCALES = (0.25, 0.5, 1.0)


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward-warp ``image`` by ``flow``: output pixel (x, y) samples ``image`` at (x + fx, y + fy).

    image: (N, C, H, W), any float dtype. flow: (N, 2, H, W) in pixels, channel 0 = x, channel 1 = y.
    Bilinear, border padding, ``align_corners=True`` (pixel centres at -1 and +1), as RIFE was trained.
    The sampling coordinates are computed and kept in float32; the result has ``image``'s dtype.
    """
    height, width = flow.shape[2], flow.shape[3]
    flow = flow.float()
    # Pixel coordinates first, then normalise: exact for integer flows and no cached base grid.
    xs = torch.arange(width, dtype=torch.float32, device=flow.device).view(1, 1, width)
    ys = torch.arange(height, dtype=torch.float32, device=flow.device).view(1, height, 1)
    gx = (xs + flow[:, 0]) * (2.0 / (width - 1.0)) - 1.0
    gy = (ys + flow[:, 1]) * (2.0 / (height - 1.0)) - 1.0
    grid = torch.stack((gx, gy), dim=3)
    out = F.grid_sample(image.float(), grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out.to(image.dtype)


def _resize(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Bilinear resize by ``factor`` (half-pixel centres), a no-op at 1."""
    if factor == 1.0:
        return x
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False, recompute_scale_factor=False)


def _check_size(model: nn.Module, img0: torch.Tensor, img1: torch.Tensor) -> None:
    """Eager-mode check of the input shapes (skipped while tracing for export, where shapes are symbolic)."""
    if torch.jit.is_tracing():
        return
    m = model.size_multiple
    if img0.shape != img1.shape or img0.dim() != 4 or img0.shape[1] != 3 or img0.shape[2] % m or img0.shape[3] % m:
        raise SettingError("frame size", f"{type(model).__name__} needs two (N, 3, H, W) frames with H, W multiples "
                                         f"of {m}; got {tuple(img0.shape)} and {tuple(img1.shape)}")


def _check_scale(scale: float) -> float:
    if float(scale) not in SCALES:
        raise SettingError("scale", f"{scale} is not a supported flow scale", [str(s) for s in SCALES])
    return float(scale)


# --- RIFE HDv3 (ECCV2022-RIFE train_log, 3 blocks, t = 0.5 only) ----------------------------------------


def _conv_prelu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=True), nn.PReLU(cout))


class _BlockHDv3(nn.Module):
    """One coarse-to-fine step of HDv3: (frames, mask, flow) at 1/scale -> flow (4 ch) and mask (1 ch) residuals."""

    def __init__(self, cin: int, c: int):
        super().__init__()
        self.conv0 = nn.Sequential(_conv_prelu(cin, c // 2, 2), _conv_prelu(c // 2, c, 2))
        for i in range(4):
            setattr(self, f"convblock{i}", nn.Sequential(_conv_prelu(c, c), _conv_prelu(c, c)))
        # conv1 -> 4 flow channels (0->t and 1->t), conv2 -> 1 blend-mask channel; both back to the input size.
        self.conv1 = nn.Sequential(nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.PReLU(c // 2),
                                   nn.ConvTranspose2d(c // 2, 4, 4, 2, 1))
        self.conv2 = nn.Sequential(nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.PReLU(c // 2),
                                   nn.ConvTranspose2d(c // 2, 1, 4, 2, 1))

    def forward(self, x: torch.Tensor, flow: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        x = _resize(x, 1.0 / scale)
        flow = _resize(flow, 1.0 / scale) * (1.0 / scale)
        feat = self.conv0(torch.cat((x, flow), 1))
        for block in (self.convblock0, self.convblock1, self.convblock2, self.convblock3):
            feat = block(feat) + feat
        flow = _resize(self.conv1(feat), scale) * scale
        mask = _resize(self.conv2(feat), scale)
        return flow, mask


class IFNetHDv3(nn.Module):
    """RIFE HDv3 IFNet (ECCV2022-RIFE ``train_log``; 3.04 M parameters): predicts the middle frame only.

    ``forward(img0, img1, timestep=0.5)``: img0, img1 (N, 3, H, W) float32 in [0, 1] sRGB-encoded; returns the
    frame at t = 0.5, same shape and range. Other times are reached by recursive halving; any timestep other
    than 0.5 raises ``SettingError``. ``scale`` 0.5 computes flow at half resolution (4K plates).
    ``width``: channels of every block (90 in the published weights; smaller only for quick tests).
    The training-only teacher block (``block_tea``) is not built; its weights are reported as unused.
    """

    has_timestep = False

    def __init__(self, scale: float = 1.0, width: int = 90):
        super().__init__()
        self.scale = _check_scale(scale)
        self.block0 = _BlockHDv3(7 + 4, width)
        self.block1 = _BlockHDv3(7 + 4, width)
        self.block2 = _BlockHDv3(7 + 4, width)

    @property
    def size_multiple(self) -> int:
        """H and W must be multiples of this (64 at scale 1, 128 at scale 0.5)."""
        return int(round(64 / self.scale))

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep: float = 0.5) -> torch.Tensor:
        return self.motion(img0, img1, timestep)[0]

    def motion(self, img0: torch.Tensor, img1: torch.Tensor,
               timestep: float = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(frame, flow, weight): the frame as ``forward`` gives it, and how it was made from the two inputs.

        flow (N, 4, H, W) in pixels: channels 0-1 warp img0 to the frame, 2-3 warp img1 (``warp``);
        weight (N, 1, H, W) in [0, 1]: frame = warp(img0) * weight + warp(img1) * (1 - weight). Other
        channels (an alpha) carried by the same flow and weight move exactly as the picture does.
        """
        if isinstance(timestep, torch.Tensor) or float(timestep) != 0.5:
            raise SettingError("timestep", f"RIFE HDv3 predicts only t = 0.5, got {timestep}; "
                                           "halve recursively or use rife-4.25")
        _check_size(self, img0, img1)
        scales = [4.0 / self.scale, 2.0 / self.scale, 1.0 / self.scale]
        zero = img0[:, :1] * 0.0
        flow = torch.cat((zero, zero, zero, zero), 1)
        mask = zero
        warped0, warped1 = img0, img1
        for block, scale in zip((self.block0, self.block1, self.block2), scales):
            # The block runs both ways (0->1 and 1->0) and the two estimates are averaged, as trained.
            f0, m0 = block(torch.cat((warped0, warped1, mask), 1), flow, scale)
            f1, m1 = block(torch.cat((warped1, warped0, -mask), 1), torch.cat((flow[:, 2:4], flow[:, :2]), 1), scale)
            flow = flow + (f0 + torch.cat((f1[:, 2:4], f1[:, :2]), 1)) / 2
            mask = mask + (m0 - m1) / 2
            warped0 = warp(img0, flow[:, :2])
            warped1 = warp(img1, flow[:, 2:4])
        weight = torch.sigmoid(mask)
        return warped0 * weight + warped1 * (1 - weight), flow, weight


# --- Practical-RIFE v4.25 (5 blocks + feature head, any timestep) ---------------------------------------


def _conv_lrelu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=True), nn.LeakyReLU(0.2))


class _ResConv(nn.Module):
    """3x3 conv scaled per channel by ``beta``, plus the input, then LeakyReLU."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones((1, c, 1, 1)))
        self.relu = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x) * self.beta + x)


class _Head(nn.Module):
    """Per-frame feature encoder: RGB -> 4 feature channels at full resolution."""

    def __init__(self):
        super().__init__()
        self.cnn0 = nn.Conv2d(3, 16, 3, 2, 1)
        self.cnn1 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn2 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(16, 4, 4, 2, 1)
        self.relu = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.cnn0(x))
        x = self.relu(self.cnn1(x))
        x = self.relu(self.cnn2(x))
        return self.cnn3(x)


class _Block425(nn.Module):
    """One coarse-to-fine step of v4.25: inputs at 1/scale -> flow (4), mask (1) and features (8), full size."""

    def __init__(self, cin: int, c: int):
        super().__init__()
        self.conv0 = nn.Sequential(_conv_lrelu(cin, c // 2, 2), _conv_lrelu(c // 2, c, 2))
        self.convblock = nn.Sequential(*[_ResConv(c) for _ in range(8)])
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 4 * 13, 4, 2, 1), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, scale: float):
        x = _resize(x, 1.0 / scale)
        if flow is not None:
            x = torch.cat((x, _resize(flow, 1.0 / scale) * (1.0 / scale)), 1)
        feat = self.convblock(self.conv0(x))
        out = _resize(self.lastconv(feat), scale)
        return out[:, :4] * scale, out[:, 4:5], out[:, 5:]


class IFNet425(nn.Module):
    """Practical-RIFE v4.25 IFNet (6.14 M parameters with the training-only parts; 5 blocks c = 192..32).

    ``forward(img0, img1, timestep=0.5)``: img0, img1 (N, 3, H, W) float32 in [0, 1] sRGB-encoded; timestep a
    float in [0, 1] or a tensor (N, 1, 1, 1); returns the frame at that time, (N, 3, H, W) in [0, 1].
    ``scale`` 0.5 computes flow at half resolution (Practical-RIFE's advice for 4K): every block's working
    resolution halves, so H and W must be multiples of 128 instead of 64.
    ``widths``: channels of the five blocks (the published weights' by default; smaller only for quick tests).
    """

    has_timestep = True

    def __init__(self, scale: float = 1.0, widths: tuple[int, int, int, int, int] = (192, 128, 96, 64, 32)):
        super().__init__()
        self.scale = _check_scale(scale)
        if len(widths) != 5:
            raise SettingError("widths", f"IFNet425 has five blocks, got {len(widths)} widths")
        self.block0 = _Block425(7 + 8, widths[0])
        self.block1 = _Block425(8 + 4 + 8 + 8, widths[1])
        self.block2 = _Block425(8 + 4 + 8 + 8, widths[2])
        self.block3 = _Block425(8 + 4 + 8 + 8, widths[3])
        self.block4 = _Block425(8 + 4 + 8 + 8, widths[4])
        self.encode = _Head()

    @property
    def size_multiple(self) -> int:
        """H and W must be multiples of this (64 at scale 1, 128 at scale 0.5)."""
        return int(round(64 / self.scale))

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep: float | torch.Tensor = 0.5) -> torch.Tensor:
        return self.motion(img0, img1, timestep)[0]

    def motion(self, img0: torch.Tensor, img1: torch.Tensor,
               timestep: float | torch.Tensor = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(frame, flow, weight), as ``IFNetHDv3.motion`` describes."""
        _check_size(self, img0, img1)
        # Broadcasting a multiply keeps H and W dynamic in the exported graph (no repeat with traced sizes).
        tmap = torch.ones_like(img0[:, :1]) * timestep
        f0 = self.encode(img0)
        f1 = self.encode(img1)
        scales = [16.0 / self.scale, 8.0 / self.scale, 4.0 / self.scale, 2.0 / self.scale, 1.0 / self.scale]
        blocks = (self.block0, self.block1, self.block2, self.block3, self.block4)
        flow, mask, feat = blocks[0](torch.cat((img0, img1, f0, f1, tmap), 1), None, scales[0])
        warped0 = warp(img0, flow[:, :2])
        warped1 = warp(img1, flow[:, 2:4])
        for block, scale in zip(blocks[1:], scales[1:]):
            wf0 = warp(f0, flow[:, :2])
            wf1 = warp(f1, flow[:, 2:4])
            x = torch.cat((warped0, warped1, wf0, wf1, tmap, mask, feat), 1)
            delta, mask, feat = block(x, flow, scale)
            flow = flow + delta
            warped0 = warp(img0, flow[:, :2])
            warped1 = warp(img1, flow[:, 2:4])
        weight = torch.sigmoid(mask)
        return warped0 * weight + warped1 * (1 - weight), flow, weight


# --- weights -------------------------------------------------------------------------------------------


def load_weights(model: nn.Module, path: str | Path) -> list[str]:
    """Load a RIFE ``flownet.pkl`` into ``model`` strictly; return the file's keys the model does not use.

    Only ``torch.load(weights_only=True)`` is used (no arbitrary unpickling). A ``module.`` prefix (from
    DataParallel training) is stripped. Every parameter of the model must be in the file with the same shape,
    else ``ConversionError``. The unused keys are the training-only parts (``block_tea.*`` for HDv3,
    ``teacher.*`` and ``caltime.*`` for v4.25). The model is put in eval mode.
    """
    path = Path(path)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for unsafe or corrupt pickles
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise ConversionError(f"{path}: not a weights-only PyTorch state dict: {detail}") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise ConversionError(f"{path}: expected a state dict of tensors, got {type(raw).__name__}")
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in raw.items()}
    wanted = model.state_dict()
    missing = [k for k in wanted if k not in state]
    if missing:
        shown = ", ".join(missing[:5]) + (f", … ({len(missing)} in all)" if len(missing) > 5 else "")
        raise ConversionError(f"{path}: not {type(model).__name__} weights: missing {shown}")
    for key, value in wanted.items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise ConversionError(f"{path}: {key} has shape {tuple(state[key].shape)}, "
                                  f"{type(model).__name__} expects {tuple(value.shape)}")
    model.load_state_dict({k: state[k].float() for k in wanted}, strict=True)
    model.eval()
    return sorted(k for k in state if k not in wanted)
