"""Real Blender: the Sequencer operators against the real worker on tiny frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.blender, pytest.mark.zoo]


def test_apply_adds_a_trimmed_strip_above_lined_up_frame_for_frame(run_blender, flat_sequence, tmp_path):
    folder, files = flat_sequence()
    res = run_blender(f'''
        scene = bpy.context.scene
        src = add_sequence("sh010", {str(folder)!r}, {files!r}, channel=1, start=101)
        src.frame_offset_start = 2      # the edit shows source frames 1003-1007
        src.frame_offset_end = 3
        editor = scene.sequence_editor
        editor.active_strip = src
        src.select = True
        before = {{k: getattr(src, k) for k in ("channel", "frame_start", "frame_final_start", "frame_final_end")}}
        r = bpy.ops.matchcut.strip_apply_degrain_small(p_strength=0.0)
        new = editor.active_strip
        result["op"] = sorted(r)
        result["source_after"] = {{k: getattr(src, k) for k in before}}
        result["source_before"] = before
        result["new"] = {{"name": new.name, "channel": new.channel, "start": new.frame_final_start,
                         "end": new.frame_final_end, "dir": bpy.path.abspath(new.directory)}}
        result["shown"] = {{}}
        for t in range(new.frame_final_start, new.frame_final_end):
            f = new.elements[t - int(new.frame_start)].filename
            s = src.elements[t - int(src.frame_start)].filename
            result["shown"][t] = [f, s, pixel(os.path.join(bpy.path.abspath(new.directory), f))[0],
                                  pixel(os.path.join({str(folder)!r}, s))[0]]
        result["strips"] = len(compat.strips_of(editor))
        result["last"] = bpy.context.window_manager.matchcut_last_result
    ''')
    assert res["op"] == ["FINISHED"], res
    assert res["source_after"] == res["source_before"]  # the source is untouched
    assert res["strips"] == 2
    new = res["new"]
    assert new["channel"] == 2
    assert (new["start"], new["end"]) == (res["source_before"]["frame_final_start"], res["source_before"]["frame_final_end"])
    assert (new["start"], new["end"]) == (103, 108)
    job = json.loads((Path(new["dir"]) / "job.json").read_text())
    assert job["tool"] == "apply" and job["frames"] == "1003-1007" and job["handles"] == 0
    assert job["params"] == {"model": "degrain-small", "tile": 0, "strength": 0.0}
    written = sorted(p.name for p in Path(new["dir"]).glob("*.exr"))
    assert written == [f"sh010_apply.{f}.exr" for f in range(1003, 1008)]
    assert str(tmp_path / "plate") not in new["dir"]  # never written beside (or over) the source
    for t, (out_name, src_name, out_value, src_value) in res["shown"].items():
        assert out_name.split(".")[1] == src_name.split(".")[1]  # same source frame at the same timeline frame
        assert out_value == pytest.approx(src_value, abs=2e-3)  # strength 0 is the plate itself
    assert sorted(res["shown"]) == [str(t) for t in range(103, 108)]


def test_continuity_regions_become_markers_and_a_patch_becomes_a_strip_and_passes(run_blender, textured_pair):
    (fa, a_files), (fb, b_files) = textured_pair["shotA"], textured_pair["shotB"]
    res = run_blender(f'''
        scene = bpy.context.scene
        a = add_sequence("shotA", {str(fa)!r}, {a_files!r}, channel=1, start=1)
        b = add_sequence("shotB", {str(fb)!r}, {b_files!r}, channel=1, start=4)
        editor = scene.sequence_editor
        a.select = b.select = True
        editor.active_strip = b
        r = bpy.ops.matchcut.strip_continuity(p_person=False, p_refine=False)
        result["op"] = sorted(r)
        result["markers"] = [(m.name, m.frame) for m in scene.timeline_markers]
        result["last"] = bpy.context.window_manager.matchcut_last_result
        region = int(scene.timeline_markers[0].name.split()[0][1:])
        r = bpy.ops.matchcut.strip_continuity(p_person=False, p_refine=False, use_patch=True, p_patch=region,
                                              wire_passes=True)
        result["op2"] = sorted(r)
        new = editor.active_strip
        result["new"] = [new.name, new.channel, new.frame_final_start, new.frame_final_end]
        result["images"] = [i.name for i in bpy.data.images]
        groups = [g for g in bpy.data.node_groups if g.name.startswith("Matchcut")]
        result["groups"] = [(g.name, g.bl_idname, [s.name for s in g.interface.items_tree],
                             [n.image.name for n in g.nodes if n.bl_idname == "CompositorNodeImage"]) for g in groups]
        f = new.elements[0].filename
        d = bpy.path.abspath(new.directory)
        result["patched"] = pixel(os.path.join(d, f), 170, 191 - 80)  # inside the planted patch (Blender: y up)
        result["b_pixel"] = pixel(os.path.join({str(fb)!r}, {b_files[0]!r}), 170, 191 - 80)
        result["a_pixel"] = pixel(os.path.join({str(fa)!r}, {a_files[0]!r}), 170, 191 - 80)
    ''')
    assert res["op"] == ["FINISHED"], res
    assert res["markers"], res["last"]
    for name, frame in res["markers"]:
        assert frame == 4  # B's first (compared) frame on the timeline
        assert name.startswith("#")
    assert res["op2"] == ["FINISHED"], res
    assert res["new"][1] == 2 and res["new"][2] == 4
    (group_name, idname, sockets, images), = res["groups"]
    assert idname == "CompositorNodeTree" and sockets == ["patch"] and len(images) == 1
    # the planted red is gone: the patched pixel is A's, not B's
    assert abs(res["patched"][0] - res["a_pixel"][0]) < abs(res["patched"][0] - res["b_pixel"][0])


def test_match_uses_the_other_selected_strip_as_reference(run_blender, tmp_path, exr):
    rng = np.random.default_rng(3)
    base = rng.uniform(0.05, 0.6, (24, 32, 3)).astype(np.float32)
    plate, ref = tmp_path / "plate", tmp_path / "ref"
    plate.mkdir(), ref.mkdir()
    for f in (1001, 1002, 1003):
        exr(plate / f"plate.{f}.exr", base * np.array([0.6, 0.8, 1.3], np.float32))
        exr(ref / f"ref.{f}.exr", base)
    res = run_blender(f'''
        scene = bpy.context.scene
        p = add_sequence("plate", {str(plate)!r}, ["plate.1001.exr", "plate.1002.exr", "plate.1003.exr"], 1, 1)
        r = add_sequence("ref", {str(ref)!r}, ["ref.1001.exr", "ref.1002.exr", "ref.1003.exr"], 3, 20)
        p.select = r.select = True
        scene.sequence_editor.active_strip = p
        result["op"] = sorted(bpy.ops.matchcut.strip_match(write_lut=True))
        new = scene.sequence_editor.active_strip
        result["new"] = [new.channel, new.frame_final_start, new.frame_final_end, bpy.path.abspath(new.directory)]
        result["last"] = bpy.context.window_manager.matchcut_last_result
    ''')
    assert res["op"] == ["FINISHED"]
    assert res["new"][:3] == [2, 1, 4]
    job = json.loads((Path(res["new"][3]) / "job.json").read_text())
    assert job["inputs"]["reference"] == str(ref / "ref.####.exr")
    assert "mask" not in job["inputs"] and job["params"]["reference_frame"] == 1002  # the strip's middle frame
    lut = Path(res["new"][3]) / "plate_match.cube"  # asked for: the grade as a 3D LUT beside the frames
    assert job["params"]["lut"] == str(lut) and lut.is_file() and f"3D LUT {lut}" in res["last"]
    assert "cdl" not in job["params"]
    import OpenImageIO as oiio

    out = oiio.ImageBuf(str(Path(res["new"][3]) / "plate_match.1002.exr")).get_pixels(oiio.FLOAT)[..., :3]
    # the cast is gone: the result's channel means are the reference's, not the plate's
    np.testing.assert_allclose(out.reshape(-1, 3).mean(0), base.reshape(-1, 3).mean(0), atol=0.02)


def test_apply_on_a_trimmed_movie_strip(run_blender, tmp_path):
    import av

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as box:
        stream = box.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(12):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, np.uint8), format="rgb24")
            box.mux(stream.encode(frame))
        box.mux(stream.encode(None))
    res = run_blender(f'''
        scene = bpy.context.scene
        editor = scene.sequence_editor_create()
        m = compat.strips_of(editor).new_movie(name="clip", filepath={str(path)!r}, channel=1, frame_start=1)
        m.frame_offset_start = 4     # shows movie frames 5-8 (numbered from 1)
        m.frame_offset_end = 4
        editor.active_strip = m
        result["src"] = [m.frame_final_start, m.frame_final_end, m.frame_duration]
        # as a menu click does: invoke; without a window (background) it runs synchronously
        result["op"] = sorted(bpy.ops.matchcut.strip_apply_degrain_small("INVOKE_DEFAULT", p_strength=0.0))
        new = editor.active_strip
        result["new"] = [new.channel, new.frame_final_start, new.frame_final_end, bpy.path.abspath(new.directory),
                         [e.filename for e in new.elements]]
        result["spaces"] = [m.colorspace_settings.name, new.colorspace_settings.name]
    ''')
    assert res["op"] == ["FINISHED"] and res["src"] == [5, 9, 12]
    channel, start, end, folder, names = res["new"]
    assert (channel, start, end) == (2, 5, 9)
    assert json.loads((Path(folder) / "job.json").read_text())["frames"] == "5-8"
    assert names == ["clip_apply.%04d.exr" % f for f in range(5, 9)]
    import OpenImageIO as oiio

    values = [float(oiio.ImageBuf(str(Path(folder) / n)).get_pixels(oiio.FLOAT)[..., 1].mean()) for n in names]
    # movie frame 5 (grey 80 of 255) comes first, values kept in the movie's sRGB encoding...
    assert values[0] == pytest.approx(80 / 255, abs=0.01) and values == sorted(values)
    # ...so the result strip is read as the source is, not as linear
    assert res["spaces"][0] == res["spaces"][1]


def _screen_shot(tmp_path, exr):
    """A green-screen plate (a grey square in the middle) and a flat orange background, frames 1001-1002."""
    plate, back = tmp_path / "gs", tmp_path / "bg"
    plate.mkdir(), back.mkdir()
    img = np.zeros((48, 64, 3), np.float32) + np.array([0.05, 0.6, 0.08], np.float32)
    img[16:32, 24:40] = 0.3
    for f in (1001, 1002):
        exr(plate / f"gs.{f}.exr", img)
        exr(back / f"bg.{f}.exr", np.full((48, 64, 3), (0.7, 0.3, 0.05), np.float32))
    return plate, back


def test_matte_comps_over_the_other_selected_strip_and_loads_passes(run_blender, tmp_path, exr):
    plate, back = _screen_shot(tmp_path, exr)
    res = run_blender(f'''
        scene = bpy.context.scene
        p = add_sequence("gs", {str(plate)!r}, ["gs.1001.exr", "gs.1002.exr"], 1, 1)
        b = add_sequence("bg", {str(back)!r}, ["bg.1001.exr", "bg.1002.exr"], 4, 1)
        p.select = b.select = True
        scene.sequence_editor.active_strip = p
        result["op"] = sorted(bpy.ops.matchcut.strip_matte(p_mode="screen", wire_passes=True))
        new = scene.sequence_editor.active_strip
        d = bpy.path.abspath(new.directory)
        result["new"] = [new.name, new.channel, new.frame_final_start, new.frame_final_end, d]
        f = os.path.join(d, new.elements[0].filename)
        result["outside"], result["inside"] = pixel(f, 2, 2), pixel(f, 32, 24)
        g, = [g for g in bpy.data.node_groups if g.name.startswith("Matchcut")]
        result["sockets"] = [s.name for s in g.interface.items_tree]
        result["matte_socket"] = [[l.from_socket.name, l.to_socket.name] for l in g.links if l.to_socket.name == "matte"]
        result["matte_is_data"] = [i.colorspace_settings.is_data for i in bpy.data.images if i.name.endswith("matte")]
    ''')
    assert res["op"] == ["FINISHED"]
    name, channel, start, end, folder = res["new"]
    assert channel == 2 and (start, end) == (1, 3) and name.endswith("matte")
    job = json.loads((Path(folder) / "job.json").read_text())
    assert job["inputs"]["background"] == str(back / "bg.####.exr")
    assert set(job["outputs"]) == {"matte", "foreground", "comp"}
    assert res["outside"][:3] == pytest.approx([0.7, 0.3, 0.05], abs=0.03)  # the new background
    assert res["inside"][:3] == pytest.approx([0.3, 0.3, 0.3], abs=0.03)  # the subject
    assert res["sockets"] == ["foreground", "matte"] and res["matte_is_data"] == [True]
    assert res["matte_socket"] == [["Alpha", "matte"]]  # the one-channel matte is read into alpha


def test_matte_over_a_colour_when_no_background_strip_is_selected(run_blender, tmp_path, exr):
    plate, _ = _screen_shot(tmp_path, exr)
    res = run_blender(f'''
        scene = bpy.context.scene
        p = add_sequence("gs", {str(plate)!r}, ["gs.1001.exr", "gs.1002.exr"], 1, 1)
        scene.sequence_editor.active_strip = p
        result["op"] = sorted(bpy.ops.matchcut.strip_matte(p_mode="screen", use_background_color=True,
                                                           p_background_color=(0.1, 0.2, 0.9)))
        new = scene.sequence_editor.active_strip
        d = bpy.path.abspath(new.directory)
        result["outside"] = pixel(os.path.join(d, new.elements[0].filename), 2, 2)
        result["dir"] = d
    ''')
    assert res["op"] == ["FINISHED"]
    job = json.loads((Path(res["dir"]) / "job.json").read_text())
    assert "background" not in job["inputs"] and job["params"]["background_color"] == pytest.approx([0.1, 0.2, 0.9])
    assert res["outside"][:3] == pytest.approx([0.1, 0.2, 0.9], abs=0.03)


def test_relight_with_a_key_light_from_properties_and_passes_in_a_node_group(run_blender, flat_sequence):
    folder, files = flat_sequence(count=2, size=(32, 48))
    res = run_blender(f'''
        scene = bpy.context.scene
        src = add_sequence("sh070", {str(folder)!r}, {files!r}, channel=1, start=1)
        scene.sequence_editor.active_strip = src
        result["op"] = sorted(bpy.ops.matchcut.strip_relight(
            p_faces=False, p_person=False, p_background="plane", light_type="directional",
            light_direction=(0.0, 0.0, 1.0), light_intensity=2.0, light_color=(1.0, 0.5, 0.25), wire_passes=True))
        new = scene.sequence_editor.active_strip
        d = bpy.path.abspath(new.directory)
        result["new"] = [new.channel, new.frame_final_start, new.frame_final_end, d]
        result["relit"] = pixel(os.path.join(d, new.elements[0].filename), 10, 10)
        result["source"] = pixel(os.path.join({str(folder)!r}, {files[0]!r}), 10, 10)
        g, = [g for g in bpy.data.node_groups if g.name.startswith("Matchcut")]
        result["sockets"] = {{s.name: s.socket_type for s in g.interface.items_tree}}
        result["links"] = len(g.links)
    ''')
    assert res["op"] == ["FINISHED"]
    channel, start, end, folder_out = res["new"]
    assert (channel, start, end) == (2, 1, 3)
    job = json.loads((Path(folder_out) / "job.json").read_text())
    assert job["params"]["lights"] == [{"type": "directional", "color": [1.0, 0.5, 0.25], "intensity": 2.0,
                                        "direction": [0.0, 0.0, 1.0]}]
    assert "passes" in job["outputs"]
    # a light facing a flat plate head on adds light in its colour: red gains most, blue least
    gain = [r / s for r, s in zip(res["relit"][:3], res["source"][:3])]
    assert gain[0] > gain[1] > gain[2] > 1.0
    assert {"normals", "shading", "matte"} <= set(res["sockets"])
    assert res["sockets"]["normals"] == "NodeSocketVector" and res["links"] == len(res["sockets"])
