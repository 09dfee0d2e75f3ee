"""`matchcut farm bundle|submit` on the command line: what it prints, --json, the farm from MATCHCUT_FARM, and
the one-line errors (a path the farm cannot see, an unknown farm)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from matchcut.cli import app as app_module
from matchcut.cli import farm as farm_cli
from matchcut.errors import FarmPathError, SettingError
from matchcut.frames import write_plate


@pytest.fixture
def app():
    app = typer.Typer()
    farm_cli.register(app)
    return app


def _job(folder, tool="retime", **params):
    for f in range(1001, 1006):
        write_plate(folder / "plates" / f"p.{f:04d}.exr", np.full((4, 6, 3), 0.1 * (f - 1000), np.float32))
    path = folder / "shot.json"
    path.write_text(json.dumps({"matchcut_job": 1, "tool": tool, "inputs": {"plate": "plates/p.####.exr"},
                                "outputs": {"main": "out/r.####.exr"}, "frames": "1001-1005",
                                "params": params or {"speed": 0.5}, "device": {"provider": "cpu"}}))
    return path


def test_farm_is_a_command_of_the_app():
    assert "farm" in app_module.COMMAND_MODULES


def test_bundle_prints_the_chunks_and_says_when_it_raised_the_chunk_size(tmp_path, app):
    result = CliRunner().invoke(app, ["farm", "bundle", str(_job(tmp_path)), "--out", str(tmp_path / "b"),
                                      "--chunk", "1", "--allow-local-paths"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{tmp_path / 'b'}: retime, frames 1001-1009 in chunks of 2"
    assert "note: chunk size raised from 1 to 2: one output frame of retime reads 2 source frames" in result.stderr
    result = CliRunner().invoke(app, ["farm", "bundle", str(_job(tmp_path)), "--out", str(tmp_path / "b"), "--json",
                                      "--allow-local-paths", "--no-gpu", "--worker", "matchcut"])
    described = json.loads(result.stdout)
    assert described["frames"] == "1001-1009" and described["chunk"] == 10 and described["window"] == 2
    assert described["worker"] == "matchcut" and described["gpu"] is False and described["finish"] is False


def test_relative_paths_are_refused_unless_allowed(tmp_path, app):
    result = CliRunner().invoke(app, ["farm", "bundle", str(_job(tmp_path)), "--out", str(tmp_path / "b")])
    assert isinstance(result.exception, FarmPathError)
    assert str(result.exception).startswith("shot.json: 'inputs.plate': plates/p.####.exr is relative")
    assert not (tmp_path / "b").exists()  # nothing written for a job the farm could not run


def test_submit_takes_the_farm_from_matchcut_farm_when_no_to_is_given(tmp_path, app, monkeypatch):
    job = _job(tmp_path, tool="fill", repair="1003", ensemble="1")
    monkeypatch.delenv("MATCHCUT_FARM", raising=False)
    result = CliRunner().invoke(app, ["farm", "submit", str(job)])
    assert isinstance(result.exception, SettingError) and "pass --to, or set MATCHCUT_FARM" in str(result.exception)
    monkeypatch.setenv("MATCHCUT_FARM", "deadline10")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = CliRunner().invoke(app, ["farm", "submit", str(job), "--allow-local-paths", "--json"])
    answer = json.loads(result.stdout)
    assert answer["farm"] == "deadline10" and answer["submitted"] is False and answer["job_id"] is None
    assert answer["bundle"] == str(tmp_path / "shot_farm") and answer["command"][0] == "deadlinecommand"
