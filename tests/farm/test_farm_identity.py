"""A job split into farm chunks and run by `openjd run` gives the frames of the same job run in one piece: the
same pixels (bytes), header and provenance hash, for apply, match, fill and retime on tiny EXRs made here."""

from __future__ import annotations

import json

import pytest

from farm_shots import OPENJD, matchcut, write_job
from matchcut.frames import read_metadata, read_plate
from matchcut.provenance import HASH_KEY
from matchcut.tools.fill import REBUILT_KEY

#: Header attributes OpenImageIO stamps at write time: two runs in one piece differ there as well.
WRITE_TIME = ("DateTime",)
CHUNK = "3"  # fill's is raised to its window, 5
#: The zoo model each tool runs here (shot match's correction graph is built in code).
MODELS = {"apply": "degrain-small", "fill": "rife-hdv3", "retime": "rife-4.25"}


def _header(path):
    return {k: v for k, v in read_metadata(path).items() if k not in WRITE_TIME}


@pytest.mark.zoo
@pytest.mark.slow
@pytest.mark.parametrize("tool", ["apply", "match", "fill", "retime"])
def test_openjd_run_of_the_chunked_bundle_equals_the_job_in_one_piece(shot, tmp_path, tool, zoo_model):
    if tool in MODELS:
        zoo_model(MODELS[tool])
    one = write_job(shot, tmp_path / "one", tool)
    matchcut("run", str(one))
    farm = write_job(shot, tmp_path / "farm", tool)
    bundle = tmp_path / "bundle"
    done = matchcut("farm", "submit", str(farm), "--to", "openjd-local", "--chunk", CHUNK, "--out", str(bundle),
                    "--json")
    answer = json.loads(done.stdout)
    assert answer["submitted"] and answer["job_id"] == f"openjd-local:{bundle}"
    log = (bundle / "openjd-run.log").read_text()
    chunks = [line.split("= ")[1] for line in log.splitlines() if "Frame(CHUNK[INT]) = " in line]
    assert len(chunks) > 1, log[-2000:]  # really chunked: every chunk a task of its own
    a = sorted((tmp_path / "one" / "out").glob("*.exr"))
    b = sorted((tmp_path / "farm" / "out").glob("*.exr"))
    assert [p.name for p in a] == [p.name for p in b] and len(a) == (23 if tool == "retime" else 12)
    for x, y in zip(a, b):
        assert read_plate(x).pixels.tobytes() == read_plate(y).pixels.tobytes(), y.name
        assert read_metadata(x)[HASH_KEY] == read_metadata(y)[HASH_KEY], y.name
        assert _header(x) == _header(y), y.name
    if tool == "match":  # the final step wrote the grade once, the same as the one-piece run's
        assert "Finish" in log and answer["finish"]
        for name in ("match.cube", "match.cc"):
            assert (tmp_path / "one" / "out" / name).read_bytes() == (tmp_path / "farm" / "out" / name).read_bytes()
    if tool == "fill":  # rebuilt from neighbours that other chunks own: 1004 | 1005, 1008 | 1009
        assert answer["chunk"] == 5 and any("raised from 3 to 5" in note for note in answer["notes"])
        rebuilt = [p.name for p in b if REBUILT_KEY in read_metadata(p)]
        assert rebuilt == ["fill.1005.exr", "fill.1008.exr"]
        assert chunks == ["1001-1004", "1005-1008", "1009-1012"]


@pytest.mark.zoo
def test_openjd_checks_the_bundle_and_a_retried_chunk_skips_what_it_wrote(shot, tmp_path, zoo_model):
    import subprocess

    zoo_model("degrain-small")
    job = write_job(shot, tmp_path, "apply")
    bundle = tmp_path / "bundle"
    matchcut("farm", "bundle", str(job), "--out", str(bundle), "--chunk", "4", "--allow-local-paths")
    checked = subprocess.run([str(OPENJD), "check", str(bundle / "template.json")], capture_output=True, text=True)
    assert checked.returncode == 0 and "passes validation checks" in checked.stdout
    job_file = json.loads((bundle / "parameter_values.json").read_text())["parameterValues"][0]["value"]
    first = matchcut("run", job_file, "--chunk", "1005-1008", "--events", "jsonl")
    again = matchcut("run", job_file, "--chunk", "1005-1008", "--events", "jsonl")
    # a chunk's log is the job's JSON-lines events; the retry writes nothing
    for done, written in ((first, 4), (again, 0)):
        events = [json.loads(line) for line in done.stdout.splitlines()]
        assert events[0]["event"] == "start" and events[0]["frames"] == [1005, 1008] and events[0]["total"] == 4
        assert [e["frame"] for e in events if e["event"] == "frame"] == [1005, 1006, 1007, 1008]
        assert events[-1]["event"] == "done" and events[-1]["frames_written"] == written
    assert sorted(p.name for p in (tmp_path / "out").glob("*.exr")) == [f"apply.{f}.exr" for f in range(1005, 1009)]
