"""Shading: Lambert (with wrap) plus a Blinn-Phong specular term, as an ONNX graph the project builds.

The graph has no weights: every light is a row of the ``lights`` input (see lights.light_table), so one graph
serves any rig and runs through matchcut.runtime on the CPU or a GPU. Inputs:

    geometry  (N, 6, H, W) float32   camera-space unit normals (x right, y up, z to camera), then positions
                                      (frame widths from the frame centre, the plate at z = 0)
    lights    (L, 17) float32        light table, columns lights.TABLE_COLUMNS

Output ``shading`` (N, 3, H, W): the scene-linear irradiance the lights add, in RGB, per pixel. The camera is
orthographic (view vector 0, 0, 1). shade_reference is the NumPy statement of the same maths the tests hold
the graph to.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

VERSION = 1
NAME = f"relight-shading-v{VERSION}.onnx"
EPS = 1e-6
#: Pixels per side of the windows the graph runs on (it holds L x 3 x tile^2 intermediates).
TILE = 512


def build_graph():
    """The shading graph as an onnx.ModelProto (opset 17)."""
    from onnx import TensorProto, helper, numpy_helper

    from matchcut.relight.lights import TABLE_COLUMNS

    nodes, inits = [], []

    def const(name: str, value, dtype=np.float32) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    # Light columns -> (L, 1, k, 1, 1) so they broadcast over (1, N, 3, H, W) pixel tensors.
    def column(name: str, first: str, count: int = 1) -> str:
        i = TABLE_COLUMNS.index(first)
        cols = node("Gather", ["lights", const(f"{name}_idx", list(range(i, i + count)), np.int64)], f"{name}_c", axis=1)
        return node("Reshape", [cols, const(f"{name}_shape", [-1, 1, count, 1, 1], np.int64)], name)

    color, wrap, spec_amount, shininess = column("color", "r", 3), column("wrap", "wrap"), \
        column("spec_amount", "specular"), column("shininess", "shininess")
    vec, positional, axis = column("vec", "vx", 3), column("positional", "positional"), column("axis", "ax", 3)
    cos_outer, cos_inner = column("cos_outer", "cos_outer"), column("cos_inner", "cos_inner")
    falloff, reference = column("falloff", "falloff"), column("reference", "reference")

    zero_i, ax0, ax2 = const("zero_i", [0], np.int64), const("ax0", [0], np.int64), const("ax2", [2], np.int64)
    normals = node("Unsqueeze", [node("Slice", ["geometry", zero_i, const("three_i", [3], np.int64),
                                                const("ch", [1], np.int64)], "n4"), ax0], "normals")
    points = node("Unsqueeze", [node("Slice", ["geometry", "three_i", const("six_i", [6], np.int64), "ch"], "p4"),
                                ax0], "points")
    eps, one, zero = const("eps", EPS), const("one", 1.0), const("zero", 0.0)

    # Towards the light: its direction (directional) or position - point (positional).
    not_pos = node("Sub", [one, positional], "not_pos")
    d = node("Add", [node("Mul", [positional, node("Sub", [vec, points], "to_light")], "d_pos"),
                     node("Mul", [not_pos, vec], "d_dir")], "d")
    dist = node("Max", [node("Sqrt", [node("ReduceSum", [node("Mul", [d, d], "d2"), ax2], "d2s", keepdims=1)],
                             "dist0"), eps], "dist")
    ldir = node("Div", [d, dist], "ldir")
    ndl = node("ReduceSum", [node("Mul", [normals, ldir], "nl"), ax2], "ndl", keepdims=1)
    diffuse = node("Relu", [node("Div", [node("Add", [ndl, wrap], "ndl_w"), node("Add", [one, wrap], "one_w")],
                                 "wrapped")], "diffuse")
    # Distance falloff relative to the reference distance (positional lights only).
    falls = node("Pow", [node("Div", [reference, dist], "rel_dist"), falloff], "falls")
    att = node("Add", [node("Mul", [positional, falls], "att_pos"), not_pos], "att")
    # Spot cone: smoothstep between the outer and inner cosines of the angle off the light's axis.
    cos_axis = node("Neg", [node("ReduceSum", [node("Mul", [ldir, axis], "la"), ax2], "la_s", keepdims=1)], "cos_axis")
    span = node("Max", [node("Sub", [cos_inner, cos_outer], "span0"), eps], "span")
    t = node("Clip", [node("Div", [node("Sub", [cos_axis, cos_outer], "t0"), span], "t1"), zero, one], "t")
    spot = node("Mul", [node("Mul", [t, t], "tt"), node("Sub", [const("three", 3.0),
                                                               node("Mul", [const("two", 2.0), t], "t2")], "s32")], "spot")
    # Blinn-Phong: half vector with the orthographic view (0, 0, 1); no highlight where the light is behind.
    half = node("Add", [ldir, const("view", np.array([0, 0, 1], np.float32).reshape(1, 1, 3, 1, 1))], "half0")
    half_len = node("Max", [node("Sqrt", [node("ReduceSum", [node("Mul", [half, half], "h2"), ax2], "h2s",
                                               keepdims=1)], "hl0"), eps], "half_len")
    ndh = node("Relu", [node("ReduceSum", [node("Mul", [normals, node("Div", [half, half_len], "hn")], "nh"), ax2],
                             "ndh0", keepdims=1)], "ndh")
    facing = node("Cast", [node("Greater", [ndl, zero], "lit")], "facing", to=TensorProto.FLOAT)
    spec = node("Mul", [node("Mul", [spec_amount, node("Pow", [ndh, shininess], "lobe")], "spec0"), facing], "spec")
    lit = node("Mul", [node("Mul", [att, spot], "att_spot"), node("Add", [diffuse, spec], "brdf")], "lit_amount")
    node("ReduceSum", [node("Mul", [color, lit], "per_light"), ax0], "shading", keepdims=0)

    inputs = [helper.make_tensor_value_info("geometry", TensorProto.FLOAT, ["N", 6, "H", "W"]),
              helper.make_tensor_value_info("lights", TensorProto.FLOAT, ["L", len(TABLE_COLUMNS)])]
    outputs = [helper.make_tensor_value_info("shading", TensorProto.FLOAT, ["N", 3, "H", "W"])]
    from matchcut.runtime.graphs import make_model

    return make_model(nodes, "matchcut_relight_shading", inputs, outputs, inits)


def graph_path() -> Path:
    """The graph's file in the user cache, written (atomically) the first time it is needed."""
    from matchcut.runtime.graphs import cached_graph

    return cached_graph(NAME, build_graph)


def pixel_positions(height: int, width: int) -> np.ndarray:
    """Camera-space positions of pixel centres on the plate plane: (H, W, 3) float32, frame widths from the
    frame centre, x right, y up, z 0."""
    xs = ((np.arange(width, dtype=np.float32) + 0.5) - width / 2) / width
    ys = (height / 2 - (np.arange(height, dtype=np.float32) + 0.5)) / width
    out = np.zeros((height, width, 3), np.float32)
    out[..., 0] = xs[None, :]
    out[..., 1] = ys[:, None]
    return out


def shade(session, normals: np.ndarray, table: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
    """Added irradiance for every pixel: (H, W, 3) float32 scene-linear RGB, >= 0.

    session: a matchcut.runtime session of graph_path(); normals: (H, W, 3) float32 unit camera-space normals;
    table: lights.light_table(); positions: (H, W, 3) camera-space points (default pixel_positions()).
    Runs in TILE-pixel windows (shading is per pixel, so no overlap is needed).
    """
    from matchcut.runtime import run_tiled

    h, w = normals.shape[:2]
    if positions is None:
        positions = pixel_positions(h, w)
    geometry = np.ascontiguousarray(np.concatenate([normals, positions], axis=-1).transpose(2, 0, 1)[None],
                                    dtype=np.float32)
    lights = np.ascontiguousarray(table, np.float32)

    def run(window: np.ndarray) -> np.ndarray:
        return session.run({"geometry": np.ascontiguousarray(window), "lights": lights})["shading"]

    out = run_tiled(run, geometry, tile=TILE, overlap=0, multiple=1)
    return np.ascontiguousarray(out[0].transpose(1, 2, 0), dtype=np.float32)


def shade_reference(normals: np.ndarray, table: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
    """The graph's maths in NumPy (float64 inside): same arguments and result as shade()."""
    h, w = normals.shape[:2]
    p = (pixel_positions(h, w) if positions is None else positions).astype(np.float64)
    n = normals.astype(np.float64)
    out = np.zeros((h, w, 3))
    for row in np.asarray(table, np.float64):
        color, wrap, amount, shin = row[0:3], row[3], row[4], row[5]
        vec, positional, axis = row[6:9], row[9], row[10:13]
        outer, inner, falloff, reference = row[13], row[14], row[15], row[16]
        d = positional * (vec - p) + (1 - positional) * vec
        dist = np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), EPS)
        ldir = d / dist
        ndl = np.sum(n * ldir, axis=-1, keepdims=True)
        diffuse = np.maximum((ndl + wrap) / (1 + wrap), 0)
        att = positional * (reference / dist) ** falloff + (1 - positional)
        t = np.clip((-np.sum(ldir * axis, axis=-1, keepdims=True) - outer) / max(inner - outer, EPS), 0, 1)
        half = ldir + np.array([0.0, 0.0, 1.0])
        half /= np.maximum(np.linalg.norm(half, axis=-1, keepdims=True), EPS)
        ndh = np.maximum(np.sum(n * half, axis=-1, keepdims=True), 0)
        spec = amount * ndh ** shin * (ndl > 0)
        out += color * att * t * t * (3 - 2 * t) * (diffuse + spec)
    return out.astype(np.float32)
