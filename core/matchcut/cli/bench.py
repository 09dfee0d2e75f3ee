"""`matchcut bench`: benchmarks as ratios against a baseline measured in the same run."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("bench")
    def bench(
        only: list[str] = typer.Option(None, "--only", help="Run just these benchmarks (repeatable)."),
        write: Path = typer.Option(None, "--write", help="Update this markdown file (e.g. docs/benchmarks.md)."),
        quick: bool = typer.Option(False, "--quick", help="Fewer repeats and frames (a smoke run)."),
        quality: str = typer.Option(None, "--quality", help="Run a quality benchmark instead (match: shot match on "
                                    "the evaluation set; matte: screen keying on the keying set; continuity: takes "
                                    "with depth; upscale: super-resolution against Lanczos; learn: a learned fix on "
                                    "footage with a known correction; coverage: punch-ins and slowed shots against "
                                    "the frames a camera gave); --write then names docs/quality.md."),
        device: str = typer.Option("cpu", "--device", help="Where the device benchmarks (throughput) run: cpu or "
                                   "cuda (fails in one line when no GPU is found); without --only, --device cuda "
                                   "runs just them."),
    ) -> None:
        """Measure I/O, inference, tiling, the job runner and the model zoo; print or write markdown."""
        from matchcut.bench import render_markdown, run_benchmarks, run_quality, write_results

        if quality:
            markdown = run_quality(quality, quick, log=lambda s: typer.echo(s, err=True), write=write)
            typer.echo(f"wrote {write}" if write else markdown, err=bool(write))
            return

        from matchcut.bench import device as bench_device

        bench_device.set_device(device)
        names = list(only) if only else (list(bench_device.DEVICE_BENCHMARKS) if device != "cpu" else None)
        results = run_benchmarks(names, quick, log=lambda s: typer.echo(s, err=True))
        if write:
            write_results(write, results)
            typer.echo(f"wrote {write}", err=True)
        else:
            typer.echo(render_markdown(results))
