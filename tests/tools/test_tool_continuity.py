"""The continuity tool through jobs and the CLI: report artifacts, the patch outputs, bad jobs."""

import json

import numpy as np
import pytest

from matchcut.cli.app import main
from matchcut.testing.planted import make_pair
from matchcut.errors import JobError, SettingError
from matchcut.frames import read_plate, write_plate
from matchcut.jobs.events import ListSink
from matchcut.jobs.runner import run_job
from matchcut.jobs.spec import job_from_dict
from matchcut.tools import get_tool


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shots")
    pair = make_pair("astronaut", seed=0, size=(224, 288), changes=("paste", "recolour"))
    for f in (1001, 1002, 1003):
        write_plate(folder / f"a.{f:04d}.exr", pair.a)
    for f in (1010, 1011):
        write_plate(folder / f"b.{f:04d}.exr", pair.b)
    return folder, pair


def _job(folder, **extra):
    data = {"matchcut_job": 1, "tool": "continuity", "inputs": {"a": "a.####.exr", "b": "b.####.exr"},
            "outputs": {"report": "rep"}, "params": {"person": False}, "device": {"provider": "cpu"}}
    for k, v in extra.items():
        data[k] = {**data.get(k, {}), **v} if isinstance(v, dict) else v
    return job_from_dict(data, folder)


def test_job_writes_report_and_json_for_tail_of_a_against_head_of_b(shots):
    folder, pair = shots
    result = run_job(get_tool("continuity"), _job(folder, outputs={"json": "cont.json"}), ListSink())
    data = json.loads((folder / "cont.json").read_text())
    comp = data["comparisons"][0]
    assert comp["a"]["frame"] == 1003 and comp["b"]["frame"] == 1010
    assert len(comp["regions"]) >= 2
    assert result.artifacts["report"].endswith("index.html") and (folder / "rep" / "index.html").is_file()
    assert result.frames_written == 0


def test_patch_job_writes_main_and_rgba_patch_with_provenance(shots):
    folder, pair = shots
    job = _job(folder, outputs={"main": "fix.####.exr", "patch": "fix_patch.####.exr"},
               params={"patch": 1, "frames_a": "1002"})
    result = run_job(get_tool("continuity"), job, ListSink())
    assert result.frames_written == 1
    main, patch = read_plate(folder / "fix.1010.exr"), read_plate(folder / "fix_patch.1010.exr")
    assert main.metadata["matchcut/tool"] == "continuity" and patch.metadata["matchcut/tool"] == "continuity"
    assert patch.channels == ("R", "G", "B", "A")
    assert float(patch.channel("A").max()) > 0.99 and float(patch.channel("A").min()) == 0.0
    b = read_plate(folder / "b.1010.exr")
    assert not np.array_equal(main.pixels, b.pixels)  # the region changed, the input file did not
    assert np.array_equal(read_plate(folder / "b.1010.exr").pixels, b.pixels)


def test_patch_of_unknown_region_lists_the_valid_ones(shots):
    folder, _ = shots
    job = _job(folder, outputs={"main": "x.####.exr", "patch": "xp.####.exr"}, params={"patch": 99})
    with pytest.raises(SettingError, match="no region 99"):
        run_job(get_tool("continuity"), job, ListSink())


def test_bad_jobs_are_named():
    tool = get_tool("continuity")
    with pytest.raises(JobError, match="inputs a and b"):
        tool.check(job_from_dict({"matchcut_job": 1, "tool": "continuity", "inputs": {"a": "/x/a.exr"},
                                  "outputs": {"report": "/x/r"}}, "/tmp"))
    with pytest.raises(JobError, match="both or neither"):
        tool.check(job_from_dict({"matchcut_job": 1, "tool": "continuity", "inputs": {"a": "/x/a.exr", "b": "/x/b.exr"},
                                  "outputs": {"report": "/x/r", "main": "/x/m.####.exr"}}, "/tmp"))
    described = tool.describe()
    assert described["frameless"] is True
    assert {c["name"] for c in described["controls"]} >= {"sensitivity", "patch", "frames_a", "frames_b"}


def _cli(args, capsys):
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_reports_and_says_when_shots_have_nothing_in_common(shots, tmp_path, capsys):
    folder, pair = shots
    code, stdout, _ = _cli(["continuity", "--a", str(folder / "a.####.exr"), "--b", str(folder / "b.####.exr"),
                              "--report", str(tmp_path / "rep"), "--no-person", "--device", "cpu",
                              "--events", "jsonl"], capsys)
    assert code == 0, stdout
    done = [json.loads(line) for line in stdout.splitlines() if '"done"' in line][0]
    assert done["artifacts"]["json"].endswith("continuity.json")
    flat = tmp_path / "flat.exr"
    write_plate(flat, np.full((100, 140, 3), 0.3, np.float32))
    code, _, err = _cli(["continuity", "--a", str(folder / "a.####.exr"), "--b", str(flat),
                         "--report", str(tmp_path / "rep2"), "--no-person", "--device", "cpu"], capsys)
    assert code == 3
    assert "no alignment found" in err and "feature match" in err
