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
    assert not [p for p in (tmp_path / "rep").iterdir() if p.name.startswith(".")]  # no temporary files left
