"""`matchcut demo`: run the tools on the sample footage and write an HTML report (what `make demo` calls)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("build/demo"), "--out", help="Folder for the footage, results and index.html."),
    ) -> None:
        """Generate sample footage, run every tool on it through the CLI, and write OUT/index.html."""
        from matchcut.demo import run_demo

        run_demo(out, log=lambda line: typer.echo(line, err=True))
