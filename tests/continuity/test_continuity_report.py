"""Report: one offline HTML page (inline images, no network) and JSON with the same regions."""

import json
import re

from matchcut.continuity.compare import compare
from matchcut.continuity.report import comparison_dict, write_report
from matchcut.testing.planted import make_pair


def test_report_is_offline_and_matches_the_json(tmp_path):
    pair = make_pair("camera", seed=5, size=(224, 288))
    c = compare(pair.a, pair.b, person=False)
    info = comparison_dict(c, "sh010 / sh020", "a.exr", "b.exr", 1040, 1001)
    page, data = write_report(tmp_path / "rep", "Continuity test", [(c, info)],
                              missing=[{"clip": "sh030", "path": "/nowhere/sh030.####.exr", "reason": "not on disk"}])
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    # Works offline: every image is inline and nothing is fetched from anywhere.
    assert not re.search(r"(src|href)\s*=\s*['\"](?!data:)", text)
    assert "http://" not in text and "https://" not in text
    assert text.count("<img") == 4 + 2 * len(c.regions)
    assert "sh030" in text
    loaded = json.loads(data.read_text())
    regions = loaded["comparisons"][0]["regions"]
    assert [r["id"] for r in regions] == list(range(1, len(c.regions) + 1))
    assert all(len(r["box"]) == 4 and r["category"] in ("appeared", "disappeared", "moved", "changed colour")
               for r in regions)
    assert loaded["offline"][0]["clip"] == "sh030"
    assert loaded["comparisons"][0]["alignment"]["inliers"] >= 15
    # B is x1.3 brighter: its highlights clip; the share is reported and the overlay hatches it.
    assert loaded["comparisons"][0]["clipped_fraction"] == round(float((c.clipped & c.valid).mean()), 4) > 0
    assert "hatched: clipped" in text
    # What cannot be compared is counted by why: beyond A's frame (B is a moved camera's view) and hidden from A.
    hidden = loaded["comparisons"][0]["not_comparable"]
    assert set(hidden) == {"fraction", "outside_a", "occluded"}
    assert hidden["fraction"] == round(float((~c.valid).mean()), 4) and 0 < hidden["outside_a"] <= hidden["fraction"]
    assert "cross-hatched" in text
    assert not [p for p in (tmp_path / "rep").iterdir() if p.name.startswith(".")]  # no temporary files left


def test_parallax_pair_report_hatches_what_a_cannot_see(tmp_path):
    from matchcut.testing.takes import stereo_pairs

    import cv2

    pair = stereo_pairs("tune")[0]
    small = [cv2.resize(x, (370, 250), interpolation=cv2.INTER_AREA) for x in (pair.a, pair.b)]
    c = compare(*small, person=False)
    info = comparison_dict(c, "left / right", "left.png", "right.png", 1, 1)
    page, data = write_report(tmp_path / "rep", "Parallax", [(c, info)])
    loaded = json.loads(data.read_text())["comparisons"][0]
    assert loaded["alignment"]["model"] == "dense" and loaded["not_comparable"]["occluded"] > 0.005
    for region in loaded["regions"]:
        assert region["origin"] is None or len(region["origin"]) == 4
    assert "hidden from A" in page.read_text()
