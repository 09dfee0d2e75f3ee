"""A continuity report's regions as every host shows them (hosts/common/client/regions.py), read from a JSON the
real continuity tool wrote."""
from __future__ import annotations

import importlib
import json

import pytest


@pytest.fixture()
def regions(client):
    return importlib.import_module("mc_client.regions")


def test_lines_and_labels_name_a_moves_origin(regions, tmp_path):
    path = tmp_path / "continuity.json"
    path.write_text(json.dumps({"matchcut_continuity": 1, "comparisons": [{"size_b": [288, 224], "regions": [
        {"id": 1, "box": [32, 155, 41, 43], "score": 0.8669, "category": "disappeared", "on": "set", "area": 900},
        {"id": 2, "box": [120, 40, 30, 20], "score": 0.61, "category": "moved", "on": "set",
         "origin": [80, 22, 30, 20]},
        {"id": 3, "box": [1, 2, 3, 4], "score": 0.5, "category": "x" * 80}]}]}))
    found, height = regions.first_regions(str(path))
    assert height == 224 and found[0]["box"] == [32, 155, 41, 43] and found[0]["origin"] is None
    assert regions.region_line(found[0]) == "#1 disappeared 0.87 on set at x 32 y 155, 41x43 px"
    assert regions.region_line(found[1]) == "#2 moved 0.61 on set at x 120 y 40, 30x20 px, from x 80 y 22"
    assert regions.region_label(found[1]) == "#2 moved (set) 0.61"
    assert found[2]["on"] == "unknown" and len(regions.region_label(found[2])) == 63


def test_a_file_that_is_not_a_report_is_named(regions, tmp_path):
    with pytest.raises(regions.ReportError, match="nope.json"):
        regions.first_regions(str(tmp_path / "nope.json"))
    (tmp_path / "other.json").write_text(json.dumps({"stats": [1]}))
    with pytest.raises(regions.ReportError, match="other.json.*comparisons"):
        regions.read_report(str(tmp_path / "other.json"))
