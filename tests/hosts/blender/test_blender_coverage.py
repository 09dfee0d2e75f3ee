"""Real Blender: Coverage on the Sequencer's strips (a small production, matchcut.testing.productions) with the real
worker and zoo: the strips written as an edit, the preview range as the record frames, the proposals back as image
strips above the hole, muted but the best; the artist's strips untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.blender, pytest.mark.zoo, pytest.mark.slow]


def test_coverage_adds_each_proposal_above_the_hole_muted_but_the_best(run_blender, tmp_path, zoo_model):
    from matchcut.testing.productions import make_production
    from matchcut.timelines import read_edit

    for model in ("rife-hdv3", "rife-4.25", "waifu2x-photo-2x"):
        zoo_model(model)
    prod = make_production(tmp_path / "production", size=(96, 160))
    close = sorted(p.name for p in (prod.media / "sc01_close").glob("*.exr"))
    wide = sorted(p.name for p in (prod.media / "sc02_wide").glob("*.exr"))
    res = run_blender(f'''
        scene = bpy.context.scene
        a = add_sequence("sc01_close", {str(prod.media / "sc01_close")!r}, {close!r}, channel=1, start=1)
        a.frame_final_end = 13                      # 1-12 shows 1001-1012; nothing shows at 13-18
        b = add_sequence("sc02_wide", {str(prod.media / "sc02_wide")!r}, {wide!r}, channel=1, start=19)
        scene.use_preview_range = True
        scene.frame_preview_start, scene.frame_preview_end = 1, 24
        editor = scene.sequence_editor
        keys = ("channel", "frame_start", "frame_final_start", "frame_final_end", "mute")
        before = {{s.name: [getattr(s, k) for k in keys] for s in compat.strips_of(editor)}}
        r = bpy.ops.matchcut.strip_coverage(p_media={str(prod.media)!r}, p_quality="preview", p_compare=False)
        result["op"] = sorted(r)
        result["before"] = before
        result["after"] = {{s.name: [getattr(s, k) for k in keys] for s in compat.strips_of(editor)
                            if s.name in before}}
        result["new"] = [[s.name, s.channel, s.frame_final_start, s.frame_final_end, s.mute,
                          bpy.path.abspath(s.directory), [e.filename for e in s.elements]]
                         for s in compat.strips_of(editor) if s.name not in before]
        result["last"] = bpy.context.window_manager.matchcut_last_result
    ''', timeout=600)
    assert res["op"] == ["FINISHED"], res
    assert res["after"] == res["before"]  # the artist's strips as they were
    assert res["last"].startswith("done: 1 hole(s)"), res["last"]
    folder = next((tmp_path / "matchcut").glob("Scene_coverage_*"))
    job = json.loads((folder / "job.json").read_text())
    assert job["params"]["range"] == "0-23" and job["params"]["quality"] == "preview"
    edit = read_edit(job["inputs"]["timeline"])
    assert [(type(i).__name__, i.record) for i in edit.tracks[0].items] == [
        ("Clip", (0, 11)), ("Gap", (12, 17)), ("Clip", (18, 27))]
    data = json.loads((folder / "coverage.json").read_text())
    (hole,) = data["holes"]
    assert hole["record"] == [12, 17] and len(hole["proposals"]) >= 2
    new = {name: rest for name, *rest in res["new"]}
    assert len(new) == len(hole["proposals"])
    channels = []
    for rank, p in enumerate(hole["proposals"]):
        channel, start, end, mute, directory, files = new["{} (hole 1)".format(p["label"])]
        assert (start, end) == (1 + p["record"][0], 2 + p["record"][1])  # record 0 is frame 1, the first strip's
        assert mute is (rank > 0)  # the best plays
        assert Path(directory) == Path(p["rendered"]["pattern"]).parent and len(files) == p["frames"]
        channels.append(channel)
    assert channels == sorted(channels) and channels[0] == 2  # the first free channels above the hole's
