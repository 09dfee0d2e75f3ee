"""Every path of a farm job mapped by the show's rules and refused, naming it, when the workers cannot see it."""

from __future__ import annotations

from pathlib import Path

import pytest

from matchcut.errors import FarmPathError, PathEscapeError
from matchcut.farm.paths import farm_job, farm_path, job_paths, local_reason
from matchcut.jobs.spec import job_from_dict
from matchcut.paths import PathMap, parse_rule
from matchcut.tools import get_tool

HOME = {"HOME": "/home/ann"}


def _map(*rules):
    return PathMap([parse_rule(r) for r in rules])


def _match_job(base, plate, lut="", **extra):
    data = {"matchcut_job": 1, "tool": "match", "inputs": {"plate": plate, "reference": "/show/ref/hero.exr"},
            "outputs": {"main": "/show/out/sh010.####.exr"}, "params": {"lut": lut, **extra}}
    return job_from_dict(data, base, where="job.json")


def test_temporary_and_home_folders_are_local_and_shared_storage_is_not():
    assert "a temporary folder (/tmp)" in local_reason("/tmp/x/plate.####.exr", HOME)
    assert "a temporary folder (/var/tmp)" in local_reason("/var/tmp/plate.exr", HOME)
    assert "the user's home (/home/ann)" in local_reason("/home/ann/shots/plate.exr", HOME)
    assert local_reason("/mnt/show/sh010/plate.####.exr", HOME) == ""
    assert local_reason("/home/annie/plate.exr", HOME) == ""  # a folder, not a prefix
    assert local_reason("S:\\show\\plate.exr", HOME) == ""  # mapped for Windows workers: none of this machine's


def test_a_relative_temporary_or_home_path_is_refused_naming_the_setting_and_the_path(tmp_path):
    with pytest.raises(FarmPathError) as err:
        farm_path("job.json: 'inputs.plate'", "plates/p.####.exr", tmp_path, PathMap(), False, HOME)
    message = str(err.value)
    assert message.startswith("job.json: 'inputs.plate': plates/p.####.exr is relative") and "--allow-local-paths" in message
    with pytest.raises(FarmPathError, match=r"'outputs.main': /tmp/out/o.####.exr is in a temporary folder \(/tmp\)"):
        farm_path("job.json: 'outputs.main'", "/tmp/out/o.####.exr", tmp_path, PathMap(), False, HOME)
    with pytest.raises(FarmPathError, match=r"/home/ann/p.exr is in the user's home \(/home/ann\), which farm workers"):
        farm_path("x", "/home/ann/p.exr", tmp_path, PathMap(), False, HOME)
    # a rule that maps into a local folder is named with where it led
    with pytest.raises(FarmPathError, match=r"/show/p.exr \(mapped to /tmp/show/p.exr\) is in a temporary folder"):
        farm_path("x", "/show/p.exr", tmp_path, _map("/show=/tmp/show"), False, HOME)


def test_allow_local_keeps_local_paths_and_resolves_relative_ones_inside_the_job_folder(tmp_path):
    assert farm_path("x", "/tmp/p.exr", tmp_path, PathMap(), True, HOME) == "/tmp/p.exr"
    assert farm_path("x", "plates/p.####.exr", tmp_path, PathMap(), True, HOME) == str(tmp_path / "plates" / "p.####.exr")
    with pytest.raises(PathEscapeError):
        farm_path("x", "../elsewhere/p.exr", tmp_path, PathMap(), True, HOME)


def test_mapping_rules_apply_to_every_path_of_the_job_artifacts_included(tmp_path):
    spec = _match_job(tmp_path, "/Volumes/show/sh010/plate.####.exr", lut="/Volumes/show/grades/sh010.cube")
    assert job_paths(spec, get_tool("match")) == {
        "inputs.plate": "/Volumes/show/sh010/plate.####.exr", "inputs.reference": "/show/ref/hero.exr",
        "outputs.main": "/show/out/sh010.####.exr", "params.lut": "/Volumes/show/grades/sh010.cube"}
    data = farm_job(spec, get_tool("match"), _map("/Volumes/show=/mnt/show", "/show=S:\\show"), environ=HOME)
    assert data["inputs"] == {"plate": "/mnt/show/sh010/plate.####.exr", "reference": "S:\\show\\ref\\hero.exr"}
    assert data["outputs"] == {"main": "S:\\show\\out\\sh010.####.exr"}
    assert data["params"] == {"lut": "/mnt/show/grades/sh010.cube"}  # parameters as the job gave them
    assert data["tool"] == "match" and data["matchcut_job"] == 1
    with pytest.raises(FarmPathError, match=r"job.json: 'params.lut': /tmp/sh010.cube is in a temporary folder"):
        farm_job(_match_job(tmp_path, "/show/p.####.exr", lut="/tmp/sh010.cube"), get_tool("match"), PathMap(),
                 environ=HOME)


def test_continuitys_path_map_file_is_a_path_of_the_job_too(tmp_path):
    data = {"matchcut_job": 1, "tool": "continuity", "inputs": {"a": "/show/a.exr", "b": "/show/b.exr"},
            "outputs": {"report": "/show/report"}, "params": {"path_map_file": "/home/ann/rules.txt"}}
    spec = job_from_dict(data, tmp_path, where="cut.json")
    with pytest.raises(FarmPathError, match=r"cut.json: 'params.path_map_file': /home/ann/rules.txt is in the user's home"):
        farm_job(spec, get_tool("continuity"), PathMap(), environ=HOME)
    assert Path(farm_job(spec, get_tool("continuity"), PathMap(), True, HOME)["params"]["path_map_file"]).name == "rules.txt"


def test_a_model_folder_is_a_path_of_the_job_and_a_model_id_is_not(tmp_path):
    def apply_job(model):
        data = {"matchcut_job": 1, "tool": "apply", "inputs": {"plate": "/Volumes/show/p.####.exr"},
                "outputs": {"main": "/Volumes/show/out/p.####.exr"}, "params": {"model": model}}
        return job_from_dict(data, tmp_path, where="job.json")

    rules = _map("/Volumes/show=/mnt/show")
    learned = farm_job(apply_job("/Volumes/show/models/sh010_fix"), get_tool("apply"), rules, environ=HOME)
    assert learned["params"]["model"] == "/mnt/show/models/sh010_fix"  # `matchcut learn`'s folder, as workers see it
    assert farm_job(apply_job("degrain-small"), get_tool("apply"), rules, environ=HOME)["params"]["model"] == \
        "degrain-small"
    with pytest.raises(FarmPathError, match=r"'params.model': /tmp/m is in a temporary folder"):
        farm_job(apply_job("/tmp/m"), get_tool("apply"), PathMap(), environ=HOME)
