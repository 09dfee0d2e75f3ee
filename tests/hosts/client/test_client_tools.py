"""Tool descriptions in the client: version checks, the per-worker cache, and what hosts derive from them."""
from __future__ import annotations

import json
import time

import pytest


def _counting_worker(script, tmp_path, real_worker):
    log = tmp_path / "calls.log"
    return script(f'echo "$@" >> {log}\nexec {real_worker} "$@"'), log


def test_descriptions_are_cached_per_worker_and_a_hung_worker_never_blocks(client, script, tmp_path, real_worker):
    tools = client["tools"]
    exe, log = _counting_worker(script, tmp_path, real_worker)
    cache = str(tmp_path / "cache")
    first, note = tools.load_descriptions(exe, cache)
    assert "match" in first and note == ""
    again, _ = tools.load_descriptions(exe, cache)
    assert again == first and log.read_text().count("tools --json") == 1  # not asked again
    # the worker changes (an upgrade rewrites it) and now hangs: start-up waits the timeout, then the old answer
    with open(exe, "w") as fh:
        fh.write("#!/bin/sh\nsleep 30\n")
    start = time.monotonic()
    stale, note = tools.load_descriptions(exe, cache, timeout=1.0)
    assert time.monotonic() - start < 5 and stale == first and "no answer in 1 s" in note
    with pytest.raises(client["worker"].WorkerError, match="no answer"):
        tools.load_descriptions(exe, str(tmp_path / "empty-cache"), timeout=1.0)


@pytest.mark.parametrize("answer, says", [
    ({"tools": {}}, "older than this adapter"),
    ({"matchcut_tools": 1, "matchcut": "0.0.9", "tools": {}}, "update the worker environment"),
    ({"matchcut_tools": 99, "matchcut": "9.0", "tools": {}}, "update the adapter"),
])
def test_a_worker_of_another_version_says_which_side_to_update(client, script, answer, says):
    exe = script("echo '{}'".format(json.dumps(answer)))
    with pytest.raises(client["tools"].DescriptionError, match=says):
        client["tools"].load_descriptions(exe)


def test_hosts_derive_inputs_outputs_and_timing_from_the_description(client, real_worker):
    tools, _ = client["tools"].load_descriptions(real_worker)
    t = client["tools"]
    assert t.main_input(tools["continuity"]) == "b" and t.picked_inputs(tools["continuity"]) == ["a"]
    assert t.picked_inputs(tools["match"]) == ["reference"] and t.required_inputs(tools["match"]) == ["plate", "reference"]
    assert t.job_outputs(tools["matte"], [], {}) == ["foreground", "matte"]
    assert t.job_outputs(tools["matte"], ["background"], {}) == ["foreground", "matte", "comp"]
    assert t.primary_output(tools["matte"], ["foreground", "matte", "comp"]) == "comp"
    assert t.job_outputs(tools["relight"], [], {}, extras=False) == ["main"]
    assert t.job_outputs(tools["continuity"], [], {"patch": 2}) == ["report", "json", "main", "patch"]
    assert t.host_params(tools["continuity"]) == ["frames_a", "frames_b", "path_map", "path_map_file"]
    assert set(t.host_params(tools["match"])) == {"cdl", "lut", "reference_frame"}
    assert t.default_handles(tools["fill"]) == 2 and t.render_range(tools["retime"], 1001, 1010, 1) == (1001, 1011)
    assert t.render_range(tools["fill"], 1001, 1010, 2, available=(1000, 1010)) == (1000, 1010)
    assert t.output_range(tools["retime"], {"speed": 0.5}, 1001, 1011) == (1001, 1021)
    assert t.output_range(tools["fill"], {}, 1001, 1011) == (1001, 1011)
    assert t.model_param(tools["apply"]) == "model"
    arts = t.artifact_params(tools["match"], "/shots/sh010_v001", "sh010")
    assert arts == {"lut": "/shots/sh010_v001/sh010_match.cube", "cdl": "/shots/sh010_v001/sh010_match.cc"}
