"""Tool commands built from the tools' declarations: every control an option, typed; the job they build."""

from __future__ import annotations

import importlib
import json

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from matchcut.cli import commands
from matchcut.errors import SettingError
from matchcut.models.manifest import Control
from matchcut.tools import TOOLS, get_tool
from matchcut.tools.base import Tool
from matchcut.tools.description import Input, Output

#: command -> (cli module, the tool's controls that command options of its own stand for)
TOOL_COMMANDS = {"apply": ("run", set()), "match": ("match", set()), "fill": ("retime", set()),
                 "retime": ("retime", set()), "matte": ("matte", {"background_color"}),
                 "relight": ("relight", {"lights"}), "continuity": ("continuity", {"path_map"})}


class ProbeTool(Tool):
    name = "probe"
    controls = (
        Control("gain", "float", 1.0, min=0.0, max=4.0, label="Gain", help="how much"),
        Control("count", "int", None, min=1, label="Count"),
        Control("size", "choice", "33", choices=("17", "33", "65"), label="Size", cli_help="17, 33 or 65."),
        Control("tint", "color", None, label="Tint"),
        Control("soft", "bool", True, label="Soft edges"),
        Control("loud", "bool", False, label="Loud"),
        Control("even", "bool", True, label="Even", flag="--even/--odd"),
        Control("note", "string", "", label="Note"),
        Control("report", "string", "", label="Report"),
    )
    input_specs = (Input("plate", "main", required=True, help="The plate.", flag="--input"),
                   Input("clean_plate", "frames", help="A clean plate."))
    output_specs = (Output("main", "plate", help="The result.", flag="--output"), Output("extra_pass", "pass"))


@pytest.fixture
def probe(monkeypatch, tmp_path):
    """Invoke `probe ARGS` in tmp_path; returns (result, the job built or None)."""
    monkeypatch.setitem(TOOLS, "probe", f"{__name__}:ProbeTool")
    built = []

    def execute(build, events):
        built.append(build())

    monkeypatch.setattr(commands, "execute", execute)
    monkeypatch.chdir(tmp_path)
    app = typer.Typer()
    app.command("probe")(commands.tool_command("probe"))

    @app.callback()
    def _root() -> None:
        pass

    def invoke(*args):
        built.clear()
        result = CliRunner().invoke(app, ["probe", *args])
        return result, (built[0] if built else None)

    return invoke


def test_every_control_input_and_output_becomes_a_typed_option(probe, tmp_path):
    result, job = probe("--input", "p.####.exr", "--output", "o.####.exr", "--clean-plate", "cp.exr", "--gain", "2",
                        "--count", "3", "--size", "65", "--tint", "0.1, 0.2,0.3", "--no-soft", "--loud", "--odd",
                        "--frames", "1-2", "--compression", "zip", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert job.params == {"gain": 2.0, "count": 3, "size": "65", "tint": [0.1, 0.2, 0.3], "soft": False,
                          "loud": True, "even": False, "note": "", "report": ""}
    assert job.inputs == {"plate": str(tmp_path / "p.####.exr"), "clean_plate": str(tmp_path / "cp.exr")}
    assert job.outputs == {"main": str(tmp_path / "o.####.exr")}
    assert job.frames == [1, 2] and job.output_options["compression"] == "zip" and job.device.provider == "cpu"
    _, default = probe("--input", "p.####.exr", "--output", "o.####.exr")
    assert default.params == {c.name: c.default for c in ProbeTool.controls}


def test_choices_colours_and_bounds_are_checked_where_the_job_is_built(probe):
    args = ("--input", "p.####.exr", "--output", "o.####.exr")
    result, _ = probe(*args, "--size", "34")
    assert isinstance(result.exception, SettingError)
    assert str(result.exception) == "setting 'size': '34' is not a choice of tool 'probe' (valid: 17, 33, 65)"
    result, _ = probe(*args, "--tint", "red")
    assert str(result.exception) == "setting 'tint': expected three numbers r,g,b, got 'red'"
    result, _ = probe(*args, "--gain", "5")
    assert "setting 'gain': 5.0 is outside [0.0, 4.0]" in str(result.exception)
    result, _ = probe("--output", "o.####.exr")
    assert result.exit_code == 2 and "Missing option '--input'" in result.output


def test_help_comes_from_the_declarations(probe):
    result, _ = probe("--help")
    text = " ".join(result.output.split())
    for expected in ("--gain", "How much.", "--size", "17, 33 or 65.", "--soft --no-soft", "--even --odd",
                     "--loud", "--clean-plate", "A clean plate.", "--extra-pass", "--frames", "--compression"):
        assert expected in text


def test_a_flag_taken_twice_is_named():
    class Clash(Tool):
        name = "clash"
        controls = (Control("input", "string", "", label="Input"),)

    with pytest.raises(ValueError, match="tool 'clash': param_input and input_plate both take --input"):
        commands._parameters(Clash(), {}, set(), set(), commands.FRAMES_HELP)


@pytest.mark.parametrize("command", sorted(TOOL_COMMANDS))
def test_every_tool_command_has_an_option_for_each_of_its_tools_controls(command):
    module, own = TOOL_COMMANDS[command]
    app = typer.Typer()
    importlib.import_module(f"matchcut.cli.{module}").register(app)

    @app.callback()
    def _root() -> None:
        pass

    click = get_command(app).commands[command]
    options = {p.name.removeprefix("param_") for p in click.params if p.name.startswith("param_")}
    assert options == {c.name for c in get_tool(command).controls} - own


def test_continuity_takes_a_timeline_or_both_shots(monkeypatch, tmp_path, capsys):
    from matchcut.cli.app import main

    for args, message in ((["--timeline", "cut.otio", "--a", "a.exr"], "give either --timeline or --a and --b"),
                          (["--a", "a.exr"], "setting '--a/--b': give --a and --b, or --timeline"),
                          (["--a", "a.exr", "--b", "b.exr", "--patch", "1"], "--patch REGION and --output PATTERN")):
        with pytest.raises(SystemExit):
            main(["continuity", *args, "--report", str(tmp_path / "rep"), "--events", "jsonl"])
        event = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert event["event"] == "error" and message in event["message"]
