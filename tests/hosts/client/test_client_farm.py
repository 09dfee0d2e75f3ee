"""The client's farm submission (what every host's Farm button calls) against the real worker and a broken one."""
from __future__ import annotations

import importlib
import json

import pytest


@pytest.fixture
def farm(client):
    return importlib.import_module("mc_client.farm")  # the client fixture loaded the package


def test_the_farms_and_the_variable_are_the_cores(farm):
    from matchcut import settings
    from matchcut.farm import FARMS

    assert list(farm.FARMS) == list(FARMS) and farm.FARM_VAR == settings.FARM_VAR
    assert farm.default_farm({}) == "openjd-local" and farm.default_farm({"MATCHCUT_FARM": " opencue "}) == "opencue"
    assert farm.default_farm({"MATCHCUT_FARM": "slurm"}) == "openjd-local"  # not a farm the worker knows
    assert farm.submit_args("/show/job.json", "deadline10", chunk=8, priority=70) == [
        "farm", "submit", "/show/job.json", "--to", "deadline10", "--json", "--chunk", "8", "--priority", "70"]
    with pytest.raises(ValueError, match="farm 'slurm': expected one of openjd-local, deadline-cloud"):
        farm.submit_args("/show/job.json", "slurm")


def test_openjd_local_runs_the_job_and_the_answer_names_the_job(client, farm, real_worker, plates, tmp_path):
    jobs = client["jobs"]
    job = jobs.build_job("match", {"plate": str(plates / "sh010.####.exr"), "reference": str(plates / "ref.exr")},
                         {"main": str(tmp_path / "out" / "sh010_match.####.exr")}, "1001-1003", {}, provider="cpu")
    path = jobs.write_json_atomic(str(tmp_path / "job.json"), job)
    answer = farm.submit(real_worker, path, "openjd-local", chunk=2)
    assert answer["submitted"] and answer["chunk"] == 2 and answer["bundle"] == str(tmp_path / "job_farm")
    assert farm.result_line(answer) == "openjd-local: job openjd-local:{}".format(tmp_path / "job_farm")
    assert sorted(p.name for p in (tmp_path / "out").glob("*.exr")) == [f"sh010_match.{f}.exr" for f in (1001, 1002, 1003)]


def test_a_refused_submission_is_the_workers_one_line(client, farm, real_worker, plates, tmp_path):
    jobs = client["jobs"]
    job = jobs.build_job("match", {"plate": str(plates / "sh010.####.exr"), "reference": str(plates / "ref.exr")},
                         {"main": str(tmp_path / "out" / "sh010_match.####.exr")}, "1001-1003", {})
    path = jobs.write_json_atomic(str(tmp_path / "job.json"), job)
    with pytest.raises(client["worker"].WorkerError) as err:
        farm.submit(real_worker, path, "deadline10")
    message = str(err.value)
    assert "matchcut farm submit" in message and "'inputs.plate'" in message and "is in a temporary folder" in message
    assert "\n" not in message


def test_an_answer_without_a_submission_and_one_not_submitted(client, farm, script, tmp_path):
    odd = script("echo '{\"ok\": true}'")
    with pytest.raises(client["worker"].WorkerError, match="answered without a submission"):
        farm.submit(odd, str(tmp_path / "job.json"), "opencue")
    written = {"farm": "deadline10", "submitted": False, "job_id": None, "message": "deadlinecommand is not on PATH",
               "notes": ["chunk size raised from 1 to 5", "template validated with openjd-model 0.13.0"]}
    assert farm.result_line(written) == ("deadline10: not submitted: deadlinecommand is not on PATH; chunk size "
                                         "raised from 1 to 5")
    exe = script("echo '{}'".format(json.dumps(written)))
    assert farm.submit(exe, str(tmp_path / "job.json"), "deadline10") == written
