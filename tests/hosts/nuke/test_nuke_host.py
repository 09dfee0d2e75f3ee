"""host.py against the strict fake `nuke` (tests/hosts/nuke/fake_nuke.py, which follows the Nuke Python API
reference: nuke.nodes, Knob classes, execute(node, start, end, incr), ProgressTask.setProgress(int), message)."""
import pathlib
import stat
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "hosts" / "nuke"))
sys.path.insert(0, str(HERE))

TOOL = {"name": "match", "inputs": ["plate", "reference"], "outputs": ["plate"],
        "controls": [{"name": "mode", "type": "choice", "choices": ["lut", "cdl"], "default": "lut"},
                     {"name": "strength", "type": "float", "min": 0, "max": 1, "default": 1.0}]}


@pytest.fixture
def host(monkeypatch, tmp_path):
    import fake_nuke
    monkeypatch.setitem(sys.modules, "nuke", fake_nuke)
    sys.modules.pop("matchcut_nuke.host", None)
    import matchcut_nuke.host as host
    monkeypatch.setattr(host, "CACHE_ROOT", str(tmp_path / "cache"))
    fake_nuke.calls.clear()
    return host, fake_nuke


def fake_worker(tmp_path, lines, code=0):
    script = tmp_path / "matchcut"
    body = "\n".join(f"print({line!r}, flush=True)" for line in lines)
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\nsys.exit({code})\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_create_node_builds_knobs_and_hidden_state(host):
    host, nuke = host
    group = host.create_node(TOOL)
    assert isinstance(group["mode"], nuke.Enumeration_Knob) and group["strength"].value() == 1.0
    assert group["mix"].value() == 1.0 and group.node("matchcut_mix")["which"]._expr == "parent.mix"
    assert '"tool": "match"' in group[host.STATE_KNOB].value()


def test_process_renders_inputs_runs_worker_and_reads_result(host, tmp_path, monkeypatch):
    host, nuke = host
    monkeypatch.setenv("MATCHCUT_WORKER", fake_worker(tmp_path, ['{"event": "start"}', '{"event": "frame", "fraction": 0.5}',
                                                                 '{"event": "done", "artifacts": {}}']))
    group = host.create_node(TOOL)
    group.setInput(0, nuke.nodes.Read(name="plate_read", file="/shots/a.####.exr"))
    assert host.process(group, TOOL, 1001, 1003)
    assert [c for c in nuke.calls if c[0] == "execute"][0][2:] == (1001, 1003, 1)
    assert ("progress", 50) in nuke.calls and group["status"].value().startswith("up to date")
    assert group.node("matchcut_result")["file"].value().endswith("out_plate.####.exr")
    nuke.calls.clear()
    assert host.process(group, TOOL, 1001, 1003) and not nuke.calls  # cached: nothing re-rendered
    group["strength"].setValue(0.5)
    assert host.process(group, TOOL, 1001, 1003) and any(c[0] == "execute" for c in nuke.calls)


def test_process_shows_worker_one_line_error(host, tmp_path, monkeypatch):
    host, nuke = host
    monkeypatch.setenv("MATCHCUT_WORKER", fake_worker(tmp_path, ['{"event": "error", "message": "plate.1001.exr: missing", "exit_code": 3}'], 3))
    group = host.create_node(TOOL)
    group.setInput(0, nuke.nodes.Read(name="plate_read"))
    assert not host.process(group, TOOL, 1, 2)
    assert group["status"].value() == "error: plate.1001.exr: missing" and ("message", "Matchcut: plate.1001.exr: missing") in nuke.calls


def test_fake_rejects_wrong_api(host):
    host, nuke = host
    with pytest.raises(TypeError):
        nuke.Enumeration_Knob("m", "m", "lut cdl")
    with pytest.raises(AttributeError):
        nuke.nodes.NoSuchNode()
