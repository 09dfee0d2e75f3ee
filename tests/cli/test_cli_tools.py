"""`matchcut tools`: the description hosts build their UI from."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

import matchcut
from matchcut.cli import tools as tools_cli
from matchcut.tools import TOOLS
from matchcut.tools.description import DESCRIPTION_VERSION


def _app() -> typer.Typer:
    app = typer.Typer()
    tools_cli.register(app)

    @app.callback()
    def _root() -> None:  # a group, so the command keeps its name
        pass

    return app


def test_tools_json_describes_every_tool_with_its_controls():
    out = CliRunner().invoke(_app(), ["tools", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["matchcut_tools"] == DESCRIPTION_VERSION and data["matchcut"] == matchcut.__version__
    described = data["tools"]
    assert set(described) == set(TOOLS)
    apply = described["apply"]
    assert apply["inputs"] == ["plate"] and apply["outputs"] == ["main"]
    names = {c["name"]: c for c in apply["controls"]}
    assert names["tile"]["type"] == "int" and names["tile"]["min"] == 0 and names["tile"]["default"] == 0


def test_tools_text_lists_parameters():
    out = CliRunner().invoke(_app(), ["tools"])
    assert out.exit_code == 0 and "apply (Apply Model):" in out.output and "--set tile=" in out.output
