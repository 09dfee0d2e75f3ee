"""Real Blender: the Image Editor operators (match, matte, relight, continuity) on single images, and the
passes' node group put into the scene's compositor."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.blender, pytest.mark.zoo]

# Runs in Blender: what an image holds (size, its file, two pixels, the mean colour) read from the datablock.
IMAGES = '''
def look(img, points=((2, 2),)):
    w, h = img.size
    if not w:  # a multi-layer EXR: Blender reads its layers when a node shows it, not as pixels
        return {"name": img.name, "size": [w, h], "file": bpy.path.abspath(img.filepath),
                "is_data": img.colorspace_settings.is_data}
    px = list(img.pixels)
    n = w * h
    mean = [sum(px[i::4]) / n for i in range(3)]
    return {"name": img.name, "size": [w, h], "file": bpy.path.abspath(img.filepath), "mean": mean,
            "px": [px[(y * w + x) * 4:(y * w + x) * 4 + 4] for x, y in points], "is_data": img.colorspace_settings.is_data}
def new_images(before):
    return [bpy.data.images[k] for k in bpy.data.images.keys() if k not in before]
'''


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_image_match_with_a_reference_image(run_blender, tmp_path, exr):
    rng = np.random.default_rng(5)
    base = rng.uniform(0.05, 0.6, (24, 32, 3)).astype(np.float32)
    plate, ref = tmp_path / "plate.exr", tmp_path / "ref.exr"
    exr(plate, base * np.array([0.6, 0.8, 1.3], np.float32))
    exr(ref, base)
    digest = _digest(plate)
    res = run_blender(IMAGES + textwrap.dedent(f'''
        src = bpy.data.images.load({str(plate)!r})
        ref = bpy.data.images.load({str(ref)!r})
        result["src_before"] = look(src)
        before = set(bpy.data.images.keys())
        result["op"] = sorted(bpy.ops.matchcut.image_match(image=src.name, in_reference=ref.name))
        result["new"] = [look(i) for i in new_images(before)]
        result["src_after"] = look(src)
        try:
            bpy.ops.matchcut.image_match(image=src.name)
        except RuntimeError as exc:
            result["no_reference"] = str(exc)
    '''))
    assert res["op"] == ["FINISHED"], res
    (new,) = res["new"]
    assert new["name"] == "plate_match.exr" and new["size"] == [32, 24] and Path(new["file"]).is_file()
    # the cast is gone: the new image's channel means are the reference's, not the plate's
    np.testing.assert_allclose(new["mean"], base.reshape(-1, 3).mean(0), atol=0.02)
    job = json.loads((Path(new["file"]).parent / "job.json").read_text())
    assert job["inputs"] == {"plate": str(plate), "reference": str(ref)} and job["frames"] is None
    assert res["src_after"] == res["src_before"] and _digest(plate) == digest  # the source is untouched
    assert "needs the reference image" in res["no_reference"]


def test_image_matte_over_a_background_image_loads_matte_and_foreground(run_blender, tmp_path, exr):
    still, back = tmp_path / "gs.exr", tmp_path / "bg.exr"
    img = np.zeros((48, 64, 3), np.float32) + np.array([0.05, 0.6, 0.08], np.float32)
    img[16:32, 24:40] = 0.3
    exr(still, img)
    exr(back, np.full((48, 64, 3), (0.7, 0.3, 0.05), np.float32))
    digest = _digest(still)
    res = run_blender(IMAGES + textwrap.dedent(f'''
        src = bpy.data.images.load({str(still)!r})
        bg = bpy.data.images.load({str(back)!r})
        result["src_before"] = look(src)
        before = set(bpy.data.images.keys())
        result["op"] = sorted(bpy.ops.matchcut.image_matte(image=src.name, in_background=bg.name, p_mode="screen"))
        result["new"] = {{i.name: look(i, ((2, 2), (32, 24))) for i in new_images(before)}}
        result["src_after"] = look(src)
    '''))
    assert res["op"] == ["FINISHED"], res
    assert set(res["new"]) == {"gs_matte_comp.exr", "gs matte matte", "gs matte foreground"}
    comp, matte, fg = res["new"]["gs_matte_comp.exr"], res["new"]["gs matte matte"], res["new"]["gs matte foreground"]
    assert comp["size"] == matte["size"] == fg["size"] == [64, 48]
    outside, inside = comp["px"]
    assert outside[:3] == pytest.approx([0.7, 0.3, 0.05], abs=0.03)  # the background image
    assert inside[:3] == pytest.approx([0.3, 0.3, 0.3], abs=0.03)  # the subject
    # a one-channel matte file: Blender reads it into the image's alpha (0 outside, 1 on the subject)
    assert matte["is_data"] and matte["px"][0][3] == pytest.approx(0.0, abs=0.02)
    assert matte["px"][1][3] == pytest.approx(1.0, abs=0.02)
    assert not fg["is_data"] and fg["px"][1][:3] == pytest.approx([0.3, 0.3, 0.3], abs=0.03)
    assert res["src_after"] == res["src_before"] and _digest(still) == digest


def test_image_relight_with_passes_added_to_a_new_compositor(run_blender, tmp_path, exr):
    still = tmp_path / "face.exr"
    exr(still, np.full((32, 48, 3), 0.2, np.float32))
    digest = _digest(still)
    res = run_blender(IMAGES + textwrap.dedent(f'''
        scene = bpy.context.scene
        src = bpy.data.images.load({str(still)!r})
        result["src_before"] = look(src)
        new_api = hasattr(scene, "compositing_node_group")
        result["had_compositor"] = (scene.compositing_node_group is not None) if new_api else scene.use_nodes
        before = set(bpy.data.images.keys())
        result["op"] = sorted(bpy.ops.matchcut.image_relight(
            image=src.name, p_faces=False, p_person=False, p_background="plane", light_type="directional",
            light_direction=(0.0, 0.0, 1.0), light_intensity=2.0, light_color=(1.0, 0.5, 0.25), to_compositor=True))
        result["new"] = {{i.name: look(i, ((10, 10),)) for i in new_images(before)}}
        result["src_after"] = look(src)
        tree = scene.compositing_node_group if new_api else scene.node_tree
        result["links"] = sorted([l.from_node.bl_idname, l.from_socket.name, l.to_node.bl_idname, l.to_socket.name]
                                 for l in tree.links)
        result["group"] = [n.node_tree.name for n in tree.nodes if n.bl_idname == "CompositorNodeGroup"]
        def source_of(socket):  # through reroutes (4.5's default compositor has one)
            link = socket.links[0] if socket.links else None
            while link is not None and link.from_node.bl_idname == "NodeReroute":
                upstream = link.from_node.inputs[0].links
                link = upstream[0] if upstream else None
            return link.from_node.bl_idname if link is not None else None
        result["render_to_output"] = [source_of(n.inputs["Image"]) for n in tree.nodes
                                      if n.bl_idname in ("CompositorNodeComposite", "NodeGroupOutput")]
        result["last"] = bpy.context.window_manager.matchcut_last_result
    '''))
    assert res["op"] == ["FINISHED"], res
    assert not res["had_compositor"]
    assert set(res["new"]) == {"face_relight.exr", "face relight passes"}
    relit, passes = res["new"]["face_relight.exr"], res["new"]["face relight passes"]
    assert relit["size"] == [48, 32] and passes["is_data"]
    import OpenImageIO as oiio

    spec = oiio.ImageInput.open(passes["file"]).spec()  # the multi-layer pass file Blender loaded
    assert (spec.width, spec.height) == (48, 32) and "N.X" in spec.channelnames
    gain = [v / 0.2 for v in relit["px"][0][:3]]  # the light's colour: red gains most, blue least
    assert gain[0] > gain[1] > gain[2] > 1.0
    assert res["src_after"] == res["src_before"] and _digest(still) == digest
    # a compositor made for the passes keeps renders as they were: Render Layers straight to the output
    assert res["render_to_output"] == ["CompositorNodeRLayers"]
    assert res["group"] == ["Matchcut face relight passes"]
    assert ["CompositorNodeGroup", "normals", "CompositorNodeViewer", "Image"] in res["links"]
    assert "compositor nodes" in res["last"]


def _stills(tmp_path, exr):
    """Stills A and B (192x256, scikit-image's astronaut); B has a red 40x40 patch at (150, 60) that A lacks."""
    from skimage import data, transform

    img = transform.resize(data.astronaut(), (192, 256), anti_aliasing=True).astype(np.float32) ** 2.2
    planted = img.copy()
    planted[60:100, 150:190] = (0.8, 0.05, 0.05)
    a, b = tmp_path / "a.exr", tmp_path / "b.exr"
    exr(a, img)
    exr(b, planted)
    return a, b


def test_image_continuity_between_two_images_and_a_patch(run_blender, tmp_path, exr):
    a, b = _stills(tmp_path, exr)
    digest = _digest(b)
    res = run_blender(IMAGES + textwrap.dedent(f'''
        ia = bpy.data.images.load({str(a)!r})
        ib = bpy.data.images.load({str(b)!r})
        result["b_before"] = look(ib, ((170, 191 - 80),))
        before = set(bpy.data.images.keys())
        result["op"] = sorted(bpy.ops.matchcut.image_continuity(image=ib.name, in_a=ia.name, p_person=False,
                                                                p_refine=False))
        result["notes"] = bpy.context.window_manager.matchcut_last_result
        result["added_by_check"] = [i.name for i in new_images(before)]
        found = json.load(open(os.path.join(bpy.path.abspath("//matchcut"), "b_continuity_v001", "continuity.json")))
        result["boxes"] = {{r["id"]: r["box"] for r in found["comparisons"][0]["regions"]}}
        # the region over the planted patch (boxes are x, y, width, height from the top)
        region = next(i for i, (x, y, w, h) in result["boxes"].items() if x <= 170 < x + w and y <= 80 < y + h)
        result["op2"] = sorted(bpy.ops.matchcut.image_continuity(image=ib.name, in_a=ia.name, p_person=False,
                                                                 p_refine=False, use_patch=True, p_patch=region))
        result["new"] = {{i.name: look(i, ((170, 191 - 80), (5, 5))) for i in new_images(before)}}
        result["a"] = look(ia, ((170, 191 - 80),))
        result["b_after"] = look(ib, ((170, 191 - 80),))
    '''))
    assert res["op"] == ["FINISHED"], res
    n = len(res["boxes"])
    assert n >= 1 and f"{n} region(s): #" in res["notes"] and res["added_by_check"] == []  # a check adds no image
    assert res["op2"] == ["FINISHED"], res
    assert set(res["new"]) == {"b_continuity.exr", "b continuity patch"}
    patched, patch = res["new"]["b_continuity.exr"], res["new"]["b continuity patch"]
    assert patched["size"] == patch["size"] == [256, 192]
    # the planted red is gone: the patched pixel is A's, not B's
    assert patched["px"][0][:3] == pytest.approx(res["a"]["px"][0][:3], abs=0.03)
    assert abs(patched["px"][0][1] - res["b_before"]["px"][0][1]) > 0.3  # B's planted red has no green
    assert patch["px"][0][3] > 0.9 and patch["px"][1][3] == pytest.approx(0.0, abs=1e-3)  # the region alone
    assert res["b_after"] == res["b_before"] and _digest(b) == digest


def test_strip_passes_join_the_artists_compositor_without_relinking_it(run_blender, flat_sequence):
    folder, files = flat_sequence(count=2, size=(32, 48))
    res = run_blender(f'''
        scene = bpy.context.scene
        # the artist's chain: Render Layers -> Blur -> the composite output (5.0: the group output)
        if hasattr(scene, "compositing_node_group"):
            tree = bpy.data.node_groups.new("Artist comp", "CompositorNodeTree")
            tree.interface.new_socket(name="Image", in_out="OUTPUT", socket_type="NodeSocketColor")
            out = tree.nodes.new("NodeGroupOutput")
            scene.compositing_node_group = tree
        else:
            scene.use_nodes = True
            tree = scene.node_tree
            for n in list(tree.nodes):
                tree.nodes.remove(n)
            out = tree.nodes.new("CompositorNodeComposite")
        layers = tree.nodes.new("CompositorNodeRLayers")
        blur = tree.nodes.new("CompositorNodeBlur")
        tree.links.new(layers.outputs["Image"], blur.inputs["Image"])
        tree.links.new(blur.outputs["Image"], out.inputs["Image"])
        out.location = (600, 0)
        def links():
            return sorted([l.from_node.name, l.from_socket.name, l.to_node.name, l.to_socket.name] for l in tree.links)
        result["before"] = links()
        result["nodes_before"] = sorted(n.name for n in tree.nodes)
        src = add_sequence("sh090", {str(folder)!r}, {files!r}, channel=1, start=1)
        scene.sequence_editor.active_strip = src
        result["op"] = sorted(bpy.ops.matchcut.strip_relight(p_faces=False, p_person=False, p_background="plane",
                                                             to_compositor=True))
        result["same_tree"] = (scene.compositing_node_group if hasattr(scene, "compositing_node_group")
                               else scene.node_tree) == tree
        result["after"] = links()
        added = [n for n in tree.nodes if n.name not in result["nodes_before"]]
        result["added"] = sorted(n.bl_idname for n in added)
        group = next(n for n in added if n.bl_idname == "CompositorNodeGroup")
        result["group"] = [group.node_tree.name, [s.name for s in group.outputs], group.parent.label,
                           group.location.x > max(n.location.x for n in tree.nodes if n.name in result["nodes_before"])]
        inner = group.node_tree
        result["inner"] = sorted((n.image.name, n.frame_duration, n.frame_start, n.frame_offset) for n in inner.nodes
                                 if n.bl_idname == "CompositorNodeImage")
        result["viewer_in"] = [[l.from_node.name, l.from_socket.name] for l in tree.links
                               if l.to_node.bl_idname == "CompositorNodeViewer"]
        result["group_name"] = group.name
    ''')
    assert res["op"] == ["FINISHED"], res
    assert res["same_tree"]
    assert set(map(tuple, res["before"])) <= set(map(tuple, res["after"]))  # every link of the artist's is kept
    assert len(res["after"]) == len(res["before"]) + 1  # plus the group's output on the new Viewer
    assert res["added"] == ["CompositorNodeGroup", "CompositorNodeViewer", "NodeFrame"]
    name, outputs, frame_label, right_of_the_rest = res["group"]
    assert name == "Matchcut sh090 relight passes" and frame_label == name and right_of_the_rest
    assert {"normals", "shading", "gain", "matte", "source"} <= set(outputs)
    # the pass sequence on the strip's frames: 2 files from 1001, shown from timeline frame 1
    assert res["inner"] == [["sh090 relight passes", 2, 1, 1000]]
    assert res["viewer_in"] == [[res["group_name"], outputs[0]]]
