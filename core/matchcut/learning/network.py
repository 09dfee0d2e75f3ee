"""The network a learned fix trains: a compact residual U-Net, and the shaper scene-linear plates go through.

The network predicts a change to its input (output = input + head(features), the head zeroed at the start), so
an untrained model is the identity and training only has to learn the fix. Scene-linear plates are shaped by a
log-like curve first (``shape``) and back after (``unshape``), both inside the exported graph: highlights do not
dominate the loss, and the model still takes and returns the plate's own scene-linear values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from matchcut.models.zoo.degrain import receptive_field as _radius

#: Channels per level (pixel scales 1, 2, 4, 8): about 0.3 M parameters, fast enough to train on a CPU.
WIDTHS = (16, 32, 64, 96)
#: Three 2x2 average pools: height and width must be multiples of this (apply pads to it).
SIZE_MULTIPLE = 8
#: The layers, as (kind, pixel scale it runs at), every conv 3x3; gives the receptive field for tiling.
LAYERS = [("conv", 1), ("conv", 1), ("pool", 1), ("conv", 2), ("conv", 2), ("pool", 2), ("conv", 4), ("conv", 4),
          ("pool", 4), ("conv", 8), ("conv", 8), ("up", 4), ("conv", 4), ("up", 2), ("conv", 2), ("up", 1),
          ("conv", 1), ("conv", 1)]

#: The log-like shaper of scene-linear values: s(x) = sign(x) log2(1 + |x| / SHAPER_TOE) / log2(1 + SHAPER_TOP /
#: SHAPER_TOE); 0 -> 0, 0.18 -> 0.40, 1.0 -> 0.63, 16 -> 1 (values above go on growing, slowly).
SHAPER_TOE = 0.01
SHAPER_TOP = 16.0
_SHAPER_SCALE = math.log2(1.0 + SHAPER_TOP / SHAPER_TOE)


def receptive_field() -> int:
    """How far (px) from a pixel the network's output can look: the tiling overlap of the exported model."""
    return _radius(LAYERS)


def shape(x: Any) -> Any:
    """Scene-linear values -> the shaper's log-like values (see SHAPER_TOE); a torch tensor or a NumPy array."""
    if isinstance(x, np.ndarray):
        return (np.sign(x) * np.log2(1.0 + np.abs(x) / SHAPER_TOE) / _SHAPER_SCALE).astype(np.float32)
    import torch

    return torch.sign(x) * torch.log2(1.0 + torch.abs(x) / SHAPER_TOE) / _SHAPER_SCALE


def unshape(y: Any) -> Any:
    """The inverse of ``shape``; a torch tensor or a NumPy array."""
    if isinstance(y, np.ndarray):
        return (np.sign(y) * SHAPER_TOE * (np.exp2(np.abs(y) * _SHAPER_SCALE) - 1.0)).astype(np.float32)
    import torch

    # exp, not exp2: ONNX has no Exp2
    return torch.sign(y) * SHAPER_TOE * (torch.exp(torch.abs(y) * (_SHAPER_SCALE * math.log(2.0))) - 1.0)


def make_network(widths: tuple[int, ...] = WIDTHS) -> Any:
    """A fresh FixNet (torch.nn.Module): NCHW float32 RGB in the working values (shaped or display-referred) in,
    the same shape out; H and W multiples of SIZE_MULTIPLE. Starts as the identity (the head is zeroed)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    w0, w1, w2, w3 = widths

    def conv(cin: int, cout: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.1))

    def up(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)

    class FixNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc0 = nn.Sequential(conv(3, w0), conv(w0, w0))
            self.enc1 = nn.Sequential(conv(w0, w1), conv(w1, w1))
            self.enc2 = nn.Sequential(conv(w1, w2), conv(w2, w2))
            self.mid = nn.Sequential(conv(w2, w3), conv(w3, w2))
            self.dec2 = conv(w2 + w2, w2)
            self.dec1 = conv(w2 + w1, w1)
            self.dec0 = nn.Sequential(conv(w1 + w0, w0), conv(w0, w0))
            self.head = nn.Conv2d(w0, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            e0 = self.enc0(x)
            e1 = self.enc1(F.avg_pool2d(e0, 2))
            e2 = self.enc2(F.avg_pool2d(e1, 2))
            m = self.mid(F.avg_pool2d(e2, 2))
            d2 = self.dec2(torch.cat([up(m), e2], 1))
            d1 = self.dec1(torch.cat([up(d2), e1], 1))
            d0 = self.dec0(torch.cat([up(d1), e0], 1))
            return x + self.head(d0)

    net = FixNet()
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
            nn.init.zeros_(module.bias)
    nn.init.zeros_(net.head.weight)  # the identity before training: an untrained model changes nothing
    return net


def plate_model(net: Any, shaped: bool) -> Any:
    """``net`` wrapped to take and return the plate's own values: shape, the network, unshape (scene-linear
    plates), or the network alone (display-referred plates). What the ONNX export and the checks run."""
    from torch import nn

    class PlateModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x):  # noqa: ANN001 - a torch tensor
            return unshape(self.net(shape(x))) if shaped else self.net(x)

    return PlateModel()
