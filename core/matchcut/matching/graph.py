"""The shot-match correction as an ONNX graph, so the same maths runs on the GPU in every host.

Built by the project with onnx.helper (no weights: every fitted parameter is a graph input), written once
into the user cache and run through matchcut.runtime like any model. Inputs:

    image   (N, 3, H, W) float32   linear Rec.709 RGB, scene-linear values (not clipped)
    gains   (3,)                   per-channel gains in linear light
    mix     (3, 3)                 a linear-light colour matrix after the gains (identity: none)
    matrix  (3, 3), offset (3,)    the affine part in Lab
    curves  (3, K), curve_lo (3,), curve_hi (3,)   per-channel Lab tone curves on a uniform grid
    gain    (N, G, H, W)           the local correction: a smooth per-pixel gain after the colour fit (1: none);
                                   G = 1 (one gain for R, G and B) or 3 (a gain per channel: coloured light)
    weight  (N, 1, H, W)           how much of the correction each pixel gets (strength x matte), 0..1

Output ``corrected`` (N, 3, H, W) = image + weight * (gain * correction(image) - image). matching.fit.apply_color is
the NumPy reference the tests hold it to.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from matchcut.matching.lab import EPS, KAPPA, RGB_TO_XYZ, WHITE, XYZ_TO_RGB

VERSION = 3
NAME = f"match-correction-v{VERSION}.onnx"
# Lab from f(X/Xn), f(Y/Yn), f(Z/Zn) is linear: L = 116 fy - 16, a = 500 (fx - fy), b = 200 (fy - fz).
_F_TO_LAB = np.array([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])
_LAB_TO_F = np.linalg.inv(_F_TO_LAB)


def build_graph():
    """The correction as an onnx.ModelProto (opset 17)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    def const_i(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, np.int64), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    # (N, 3, H, W) -> (N, 3, H*W) so the colour maths are matrix products over the channel axis.
    shape = node("Shape", ["image"], "shape")
    n = node("Slice", [shape, const_i("s0", [0]), const_i("s1", [1])], "n")
    flat_shape = node("Concat", [n, const_i("three", [3]), const_i("minus1", [-1])], "flat_shape", axis=0)
    x = node("Reshape", ["image", flat_shape], "x")
    x = node("Mul", [x, node("Unsqueeze", ["gains", const_i("ax1", [1])], "gains_col")], "x_gained")
    x = node("MatMul", ["mix", x], "x_mixed")

    # Linear Rec.709 -> XYZ / white -> f() -> Lab
    t = node("MatMul", [const("rgb_to_xyzn", RGB_TO_XYZ / WHITE[:, None]), x], "xyzn")
    cube = node("Pow", [node("Max", [t, const("eps", EPS)], "t_safe"), const("third", 1.0 / 3.0)], "cube")
    toe = node("Div", [node("Add", [node("Mul", [t, const("kappa", KAPPA)], "kt"), const("c16", 16.0)], "kt16"),
                       const("c116", 116.0)], "toe")
    f = node("Where", [node("Greater", [t, "eps"], "above"), cube, toe], "f")
    lab = node("Add", [node("MatMul", [const("f_to_lab", _F_TO_LAB), f], "lab0"),
                       const("lab_bias", [[-16.0], [0.0], [0.0]])], "lab")

    # Per-channel curves: linear interpolation on a uniform grid, slope 1 beyond the grid.
    lo = node("Unsqueeze", ["curve_lo", "ax1"], "lo")
    hi = node("Unsqueeze", ["curve_hi", "ax1"], "hi")
    k = node("Cast", [node("Slice", [node("Shape", ["curves"], "cshape"), "s1", const_i("s2", [2])], "k_i")],
             "k", to=TensorProto.FLOAT)
    km1 = node("Sub", [k, const("one", 1.0)], "km1")
    pos = node("Mul", [node("Div", [node("Sub", [lab, lo], "rel"), node("Sub", [hi, lo], "span")], "unit"), km1], "pos")
    pos_in = node("Min", [node("Max", [pos, const("zero", 0.0)], "pos_pos"), km1], "pos_in")
    i0 = node("Floor", [node("Min", [pos_in, node("Sub", [km1, "one"], "km2")], "pos_lo")], "i0f")
    frac = node("Sub", [pos_in, i0], "frac")
    idx0 = node("Cast", [i0], "idx0", to=TensorProto.INT64)
    idx1 = node("Add", [idx0, const_i("one_i", 1)], "idx1")
    curves_n = node("Expand", ["curves", node("Concat", [n, "three", node("Slice", [node("Shape", ["curves"], "cs2"),
                    "s1", "s2"], "k_i2")], "cn_shape", axis=0)], "curves_n")
    y0 = node("GatherElements", [curves_n, idx0], "y0", axis=2)
    y1 = node("GatherElements", [curves_n, idx1], "y1", axis=2)
    inner = node("Add", [y0, node("Mul", [frac, node("Sub", [y1, y0], "dy")], "fdy")], "inner")
    first = node("GatherElements", [curves_n, node("Mul", [idx0, const_i("zero_i", 0)], "zeros_i")], "first", axis=2)
    last_idx = node("Add", ["zeros_i", node("Cast", [km1], "km1_i", to=TensorProto.INT64)], "last_idx")
    last = node("GatherElements", [curves_n, last_idx], "last", axis=2)
    below = node("Add", [first, node("Sub", [lab, lo], "under")], "below")
    above = node("Add", [last, node("Sub", [lab, hi], "over")], "above_v")
    curved = node("Where", [node("Less", [lab, lo], "is_below"), below,
                            node("Where", [node("Greater", [lab, hi], "is_above"), above, inner], "not_below")], "curved")

    # Affine part in Lab, then Lab -> f -> XYZ -> linear Rec.709
    lab2 = node("Add", [node("MatMul", ["matrix", curved], "mlab"), node("Unsqueeze", ["offset", "ax1"], "off")], "lab2")
    f2 = node("Add", [node("MatMul", [const("lab_to_f", _LAB_TO_F), lab2], "f2a"),
                      const("f_bias", (_LAB_TO_F @ np.array([[16.0], [0.0], [0.0]])))], "f2")
    f2_cubed = node("Mul", [node("Mul", [f2, f2], "f2sq"), f2], "f2_cubed")
    lin_toe = node("Div", [node("Sub", [node("Mul", [f2, "c116"], "f116"), "c16"], "f116m"), "kappa"], "lin_toe")
    t2 = node("Where", [node("Greater", [f2, const("knee", 6.0 / 29.0)], "above2"), f2_cubed, lin_toe], "t2")
    rgb = node("MatMul", [const("xyzn_to_rgb", XYZ_TO_RGB * WHITE[None, :]), t2], "rgb_flat")
    corrected_full = node("Mul", [node("Reshape", [rgb, shape], "corrected_global"), "gain"], "corrected_full")
    delta = node("Sub", [corrected_full, "image"], "delta")
    node("Add", ["image", node("Mul", ["weight", delta], "weighted")], "corrected")

    f32 = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("image", f32, ["N", 3, "H", "W"]),
              helper.make_tensor_value_info("gains", f32, [3]),
              helper.make_tensor_value_info("mix", f32, [3, 3]),
              helper.make_tensor_value_info("matrix", f32, [3, 3]),
              helper.make_tensor_value_info("offset", f32, [3]),
              helper.make_tensor_value_info("curves", f32, [3, "K"]),
              helper.make_tensor_value_info("curve_lo", f32, [3]),
              helper.make_tensor_value_info("curve_hi", f32, [3]),
              helper.make_tensor_value_info("gain", f32, ["N", "G", "H", "W"]),
              helper.make_tensor_value_info("weight", f32, ["N", 1, "H", "W"])]
    outputs = [helper.make_tensor_value_info("corrected", f32, ["N", 3, "H", "W"])]
    from matchcut.runtime.graphs import make_model

    return make_model(nodes, "matchcut_shot_match", inputs, outputs, inits)


def graph_path() -> Path:
    """The graph's file in the user cache, written (atomically) the first time it is needed."""
    from matchcut.runtime.graphs import cached_graph

    return cached_graph(NAME, build_graph)


def feeds(fit, image: np.ndarray, weight: np.ndarray, gain: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Graph inputs for a fit: image (N, 3, H, W), weight (N, 1, H, W), gain (N, 1 or 3, H, W) float32
    (gain None: 1)."""
    f32 = np.float32
    if gain is None:
        gain = np.ones_like(weight, dtype=f32)
    return {"image": np.ascontiguousarray(image, f32), "gains": fit.gains.astype(f32),
            "mix": np.ascontiguousarray(fit.mix, f32),
            "matrix": fit.matrix.astype(f32), "offset": fit.offset.astype(f32), "curves": fit.curves.astype(f32),
            "curve_lo": fit.curve_lo.astype(f32), "curve_hi": fit.curve_hi.astype(f32),
            "gain": np.ascontiguousarray(gain, f32), "weight": np.ascontiguousarray(weight, f32)}
