"""`matchcut tools`: every tool with its inputs, outputs and controls (hosts build their UI from --json)."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    @app.command("tools")
    def tools(as_json: bool = typer.Option(False, "--json", help="The tools' descriptions as one JSON object "
                                           "(format version, worker version, tool name -> description).")) -> None:
        """List the tools, their inputs, outputs and parameters."""
        from matchcut.tools.description import describe_all

        described = describe_all()
        if as_json:
            typer.echo(json.dumps(described, indent=2, default=str))
            return
        for name, d in described["tools"].items():
            typer.echo(f"{name} ({d['label']}): {d['description']}")
            typer.echo(f"  inputs: {', '.join(d['inputs']) or 'any'}   outputs: {', '.join(d['outputs']) or 'any'}")
            for c in d["controls"]:
                rng = f" [{c['min']}, {c['max']}]" if c["min"] is not None or c["max"] is not None else ""
                choices = f" ({', '.join(c['choices'])})" if c["choices"] else ""
                typer.echo(f"  --set {c['name']}=…  {c['type']}{rng}{choices}, default {c['default']!r}: {c['label']}")
