"""Submitting through each farm's own client: Deadline 10's info files and deadlinecommand, an OpenCue outline
serialised by pyoutline, Deadline Cloud's create_job_from_job_bundle; what is missing or not configured is named.

What needs a farm (an AWS account, a Deadline 10 repository, a Cuebot) is stood in for at the client's edge: a
deadlinecommand script that answers as Deadline's does, pycue's launchSpecAndWait, Deadline Cloud's
create_job_from_job_bundle. The live submissions run only when MATCHCUT_LIVE_FARM names that farm.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import xml.etree.ElementTree as ET

import pytest

from farm_shots import matchcut, write_job
from matchcut.errors import FarmClientError, SettingError
from matchcut.farm import FARMS, submit
from matchcut.farm.bundle import write_bundle

LIVE = os.environ.get("MATCHCUT_LIVE_FARM", "")


@pytest.fixture
def match_bundle(shot, tmp_path):
    return write_bundle(write_job(shot, tmp_path, "match"), tmp_path / "b", chunk=5, allow_local=True)


def _info(path):
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_an_unknown_farm_lists_the_known_ones_and_priority_is_checked(match_bundle):
    with pytest.raises(SettingError, match=r"unknown farm 'slurm' \(valid: deadline-cloud, deadline10, opencue, "
                                           r"openjd-local\)"):
        submit(match_bundle, "slurm")
    with pytest.raises(SettingError, match="pass --to, or set MATCHCUT_FARM"):
        submit(match_bundle, "")
    with pytest.raises(SettingError, match="setting '--priority': expected 0 to 100"):
        submit(match_bundle, "deadline10", priority=101)
    assert list(FARMS) == ["openjd-local", "deadline-cloud", "deadline10", "opencue"]


def test_deadline10_files_are_written_and_the_command_given_without_deadlinecommand(match_bundle, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("DEADLINE_PATH", raising=False)
    done = submit(match_bundle, "deadline10", priority=70)
    assert not done.submitted and done.job_id is None
    assert done.message.startswith("deadlinecommand is not on PATH (it comes with the Thinkbox Deadline 10 Client")
    folder = match_bundle.folder / "deadline10"
    assert done.command == ["deadlinecommand", "-SubmitMultipleJobs", "-dependent",
                            "-job", str(folder / "frames_job_info.txt"), str(folder / "frames_plugin_info.txt"),
                            "-job", str(folder / "finish_job_info.txt"), str(folder / "finish_plugin_info.txt")]
    frames = _info(folder / "frames_job_info.txt")
    assert frames == {"Plugin": "CommandLine", "BatchName": match_bundle.name, "Priority": "70",
                      "Name": f"{match_bundle.name} frames", "Frames": "1001-1012", "ChunkSize": "5"}
    plugin = _info(folder / "frames_plugin_info.txt")
    assert plugin["Executable"] == match_bundle.worker
    assert plugin["Arguments"] == f"run {match_bundle.job_file} --chunk <STARTFRAME>-<ENDFRAME> --events jsonl"
    finish = _info(folder / "finish_job_info.txt")
    assert finish["Frames"] == "0" and finish["ChunkSize"] == "1"
    assert _info(folder / "finish_plugin_info.txt")["Arguments"].endswith("--finish-only --events jsonl")


def test_deadline10_submits_with_deadlinecommand_and_returns_the_job_ids(match_bundle, monkeypatch, tmp_path):
    bin_dir = tmp_path / "deadline" / "bin"
    bin_dir.mkdir(parents=True)
    calls = tmp_path / "calls.json"
    script = bin_dir / "deadlinecommand"
    # answers as deadlinecommand does: a "Result=Success" block with the JobID of each job submitted
    script.write_text(f"#!{sys.executable}\nimport json, sys\n"
                      f"open({str(calls)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
                      "print('Deadline Command 10.3.2.1 [v10.3.2.1 Release (9c3cd1a43)]')\n"
                      "for n in range(sys.argv.count('-job')):\n"
                      "    print('Result=Success'); print('JobID=6553f7a2c4b1%04d' % n)\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("DEADLINE_PATH", str(bin_dir))
    done = submit(match_bundle, "deadline10")
    assert done.submitted and done.job_id == "6553f7a2c4b10000" and "finish job 6553f7a2c4b10001" in done.message
    argv = json.loads(calls.read_text())
    assert argv[:2] == ["-SubmitMultipleJobs", "-dependent"] and argv.count("-job") == 2
    assert _info(match_bundle.folder / "deadline10" / "frames_job_info.txt")["Priority"] == "50"


def test_opencue_outline_has_a_layer_per_step_with_range_chunk_and_dependency(match_bundle, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CUEBOT_HOSTS", raising=False)
    monkeypatch.delenv("OPENCUE_CONFIG_FILE", raising=False)
    monkeypatch.delenv("OPENCUE_CONF", raising=False)
    match_bundle.gpu = True
    done = submit(match_bundle, "opencue", priority=80)
    assert not done.submitted and "no Cuebot configured (set CUEBOT_HOSTS" in done.message
    spec = ET.fromstring((match_bundle.folder / "opencue" / "job.xml").read_text())
    job = spec.find("job")
    assert job.get("name") == "matchcut_match_match" and job.findtext("priority") == "80"
    layers = {layer.get("name"): layer for layer in job.find("layers")}
    assert list(layers) == ["frames", "finish"]
    frames = layers["frames"]
    assert frames.findtext("range") == "1001-1012" and frames.findtext("chunk") == "5" and frames.findtext("gpus") == "1"
    assert frames.findtext("cmd") == (f"{match_bundle.worker} run {match_bundle.job_file} --chunk "
                                      "#FRAME_START#-#FRAME_END# --events jsonl")
    assert layers["finish"].findtext("cmd").endswith("--finish-only --events jsonl")
    depend = spec.find("depends/depend")
    assert depend.get("type") == "LAYER_ON_LAYER" and (depend.findtext("deplayer"), depend.findtext("onlayer")) == \
        ("finish", "frames")
    assert not (tmp_path / "home" / ".opencue").exists()  # pyoutline's session files stay in the bundle
    assert any((match_bundle.folder / "opencue" / "sessions").iterdir())


def test_opencue_launches_when_a_cuebot_is_configured(match_bundle, monkeypatch):
    import opencue.api

    launched = []

    class Job:
        def id(self):
            return "4f0e1c2a-job"

        def name(self):
            return "testing-default-artist_matchcut_match_match"

    monkeypatch.setenv("CUEBOT_HOSTS", "cuebot.example:8443")
    monkeypatch.setattr(opencue.api, "launchSpecAndWait", lambda spec: launched.append(spec) or [Job()])
    done = submit(match_bundle, "opencue")
    assert done.submitted and done.job_id == "4f0e1c2a-job" and "testing-default-artist" in done.message
    assert launched == [(match_bundle.folder / "opencue" / "job.xml").read_text()]


def test_deadline_cloud_names_what_is_missing_and_submits_the_bundle_when_configured(match_bundle, monkeypatch,
                                                                                      tmp_path):
    import deadline.client.api as api

    config = tmp_path / "deadline" / "config"
    config.parent.mkdir()
    config.write_text("")
    monkeypatch.setenv("DEADLINE_CONFIG_FILE_PATH", str(config))
    with pytest.raises(FarmClientError, match=r"^deadline: not configured: no defaults.farm_id and no "
                                              r"defaults.queue_id .* deadline config set defaults.farm_id"):
        submit(match_bundle, "deadline-cloud")
    from deadline.client.config import set_setting

    set_setting("defaults.farm_id", "farm-0123456789abcdef0123456789abcdef")  # what `deadline config set` writes
    set_setting("defaults.queue_id", "queue-0123456789abcdef0123456789abcdef")
    calls = []
    monkeypatch.setattr(api, "create_job_from_job_bundle",
                        lambda folder, **kw: calls.append((folder, kw)) or "job-0123456789abcdef0123456789abcdef")
    done = submit(match_bundle, "deadline-cloud", priority=60)
    assert done.submitted and done.job_id == "job-0123456789abcdef0123456789abcdef"
    assert "queue-0123456789abcdef0123456789abcdef" in done.message
    folder, kw = calls[0]
    assert folder == str(match_bundle.folder) and kw["priority"] == 60 and kw["name"] == match_bundle.name
    assert kw["submitter_name"] == "Matchcut"


def test_each_missing_client_is_named_with_how_to_install_it(match_bundle, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "deadline.client", None)
    with pytest.raises(FarmClientError, match=r"^deadline: not installed .* pip install deadline"):
        submit(match_bundle, "deadline-cloud")
    monkeypatch.setitem(sys.modules, "outline", None)
    with pytest.raises(FarmClientError, match=r"^pyoutline: not installed .* pip install opencue-pyoutline"):
        submit(match_bundle, "opencue")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "elsewhere" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FarmClientError, match=r"^openjd: not installed .* pip install openjd-cli"):
        submit(match_bundle, "openjd-local")


def test_the_command_line_submits_and_says_what_was_not(shot, tmp_path, monkeypatch):
    job = write_job(shot, tmp_path, "match")
    done = matchcut("farm", "submit", str(job), "--to", "slurm", check=False)
    assert done.returncode == 3 and done.stderr.strip() == ("matchcut: error: setting '--to': unknown farm 'slurm' "
                                                            "(valid: deadline-cloud, deadline10, opencue, openjd-local)")
    refused = matchcut("farm", "submit", str(job), "--to", "deadline10", check=False)
    assert refused.returncode == 3 and "'inputs.plate'" in refused.stderr and "is in a temporary folder" in refused.stderr
    env = dict(os.environ, PATH=str(tmp_path / "empty"))
    env.pop("DEADLINE_PATH", None)
    import subprocess

    from farm_shots import WORKER

    text = subprocess.run([str(WORKER), "farm", "submit", str(job), "--to", "deadline10", "--allow-local-paths"],
                          capture_output=True, text=True, env=env)
    assert text.returncode == 0 and text.stdout.startswith("deadline10: not submitted: deadlinecommand is not on PATH")
    assert (tmp_path / "match_farm" / "deadline10" / "frames_job_info.txt").is_file()  # default: JOB_farm beside it


@pytest.mark.skipif(LIVE not in ("deadline-cloud", "deadline10", "opencue"),
                    reason="a live submission needs a configured farm: set MATCHCUT_LIVE_FARM to deadline-cloud, "
                           "deadline10 or opencue (and the job's paths on storage that farm sees)")
def test_live_submission_returns_the_farms_job_id(shot, tmp_path):
    job = write_job(shot, tmp_path, "match")
    answer = json.loads(matchcut("farm", "submit", str(job), "--to", LIVE, "--allow-local-paths", "--json").stdout)
    assert answer["submitted"] and answer["job_id"]
