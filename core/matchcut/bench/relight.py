"""Relight benchmark: 1920x1080 frames per second for normals estimation and for shading, separately, each
against a baseline measured in the same run (gradient-only normals; the shading maths in NumPy)."""

from __future__ import annotations

import numpy as np

from matchcut.bench.timing import Result, median_seconds


def bench_relight(quick: bool = False) -> Result:
    from matchcut import settings
    from matchcut.bench.zoo import _hd_photo
    from matchcut.color import SCENE_LINEAR, SRGB_DISPLAY, convert
    from matchcut.relight.apply import ambient_estimate, relight_gain
    from matchcut.relight.lights import light_table, parse_lights
    from matchcut.relight.normals import estimate_normals, find_meshes, person_matte
    from matchcut.relight.shading import graph_path, shade, shade_reference
    from matchcut.runtime import DeviceOptions, create_session
    from matchcut.vision.faces_mesh import face_mesh_triangles

    repeat = 2 if quick else 3
    cpu = DeviceOptions(provider="cpu")
    display = _hd_photo()
    linear = convert(display, SRGB_DISPLAY, SCENE_LINEAR)
    triangles = face_mesh_triangles()
    res = Result("relight", "Relight per 1920x1080 frame, CPU", ["step", "ms / frame", "frames / s", "ratio"])

    def row(label: str, seconds: float, ratio: str) -> None:
        res.rows.append([label, f"{seconds * 1e3:.0f}", f"{1 / seconds:.2f}", ratio])

    meshes = find_meshes(display, device=cpu)
    t_base = median_seconds(lambda: estimate_normals(linear, meshes=[], person=None), repeat=repeat)
    row("normals, baseline: smoothed image gradients only", t_base, "1.00x (baseline)")
    t_faces = median_seconds(lambda: find_meshes(display, device=cpu), repeat=repeat)
    row(f"normals: face detection + 468-point mesh ({len(meshes)} face)", t_faces, f"{t_faces / t_base:.2f}x")
    t_person = median_seconds(lambda: person_matte(display, device=cpu), repeat=repeat)
    row("normals: person matte (selfie model, frame and its flop)", t_person, f"{t_person / t_base:.2f}x")
    matte = person_matte(display, device=cpu)
    t_blend = median_seconds(lambda: estimate_normals(linear, meshes=meshes, person=matte, triangles=triangles),
                             repeat=repeat)
    row("normals: mesh rasterised + silhouette inflation + gradients, blended", t_blend, f"{t_blend / t_base:.2f}x")
    t_all = t_faces + t_person + t_blend
    row("normals estimation, all of it", t_all, f"{t_all / t_base:.2f}x the baseline's time")

    field = estimate_normals(linear, meshes=meshes, person=matte, triangles=triangles)
    session = create_session(graph_path(), cpu)
    for label, specs in (("1 directional light", ["directional direction=-1,0,0.5 specular=0.3"]),
                         ("key spot + rim point + area fill (11 samples)",
                          ["spot position=-0.6,0.3,0.8 cone=40 softness=0.3 specular=0.3",
                           "point position=0.5,0.3,-0.2", "area position=0.2,0.5,0.6 size=0.5"])):
        table = light_table(parse_lights(specs))
        t_ref = median_seconds(lambda table=table: shade_reference(field.normals, table), repeat=1, warmup=0)
        t_graph = median_seconds(lambda table=table: shade(session, field.normals, table), repeat=repeat)
        diff = float(np.abs(shade(session, field.normals, table) - shade_reference(field.normals, table)).max())
        row(f"shading, {label}: NumPy reference", t_ref, "1.00x (baseline)")
        row(f"shading, {label}: ONNX graph, onnxruntime CPU", t_graph,
            f"{t_ref / t_graph:.2f}x faster (max abs diff {diff:.1e})")
    shading = shade(session, field.normals, light_table(parse_lights(["directional direction=-1,0,0.5"])))
    t_gain = median_seconds(lambda: linear * relight_gain(shading, ambient_estimate(linear)), repeat=repeat)
    row("apply: ambient estimate + gain on the plate", t_gain, "-")
    res.notes.append(f"Threads: {settings.threads()}. Normals and shading are separate stages: a host that brings "
                     "its own normals pass skips the first; the graph is what runs on a GPU.")
    return res
