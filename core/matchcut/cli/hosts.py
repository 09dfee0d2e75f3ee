"""`matchcut hosts install|uninstall|status|build`: the command line over ``matchcut.installs``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from matchcut import __version__
from matchcut.adapters import assemble
from matchcut.errors import SettingError
from matchcut.installs.resolve import install, resolve_scripts_folder, uninstall
from matchcut.installs.records import forget_install, note_install, status
from matchcut.installs.nuke import install_nuke, uninstall_nuke
from matchcut.installs.files import HOSTS, check_host, adapter_source, check_writable, default_worker
from matchcut.installs.blender import BLENDER_ID, from_disk, blender_zip_folder, install_blender, uninstall_blender

hosts_app = typer.Typer(help="Install, remove, check (status) or build the Nuke, Resolve and Blender adapters.",
                        no_args_is_help=True)


# --- the commands ---------------------------------------------------------------------------------------------

_VERBS = {False: {"write": "wrote", "replace": "replaced", "remove": "removed", "same": "unchanged"},
          True: {"write": "would write", "replace": "would replace", "remove": "would remove", "same": "unchanged"}}


def _only_for(host: str, **given: Any) -> None:
    """SettingError for an option that is another host's."""
    owners = {"edition": "resolve", "python": "resolve", "blender": "blender", "zip_only": "blender"}
    for name, value in given.items():
        if value and owners[name] != host:
            raise SettingError("--" + name.replace("_", "-"), f"is for `hosts install {owners[name]}` only, not {host}")


@hosts_app.command("install")
def install_command(
    host: str = typer.Argument(..., help="The host: nuke, resolve or blender."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Nuke: a folder for NUKE_PATH (default: ~/.nuke/matchcut, "
                                        "loaded by one line added to ~/.nuke/init.py). Resolve: the Scripts folder "
                                        "(default: the per-user one). Blender: the folder for the extension zip "
                                        "(default: the Matchcut cache's blender/)."),
    force: bool = typer.Option(False, "--force", help="Replace files in the way that Matchcut did not install, and "
                               "another Matchcut version's adapter."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written; write nothing."),
    worker: str = typer.Option("", "--worker", help="The matchcut executable the adapter runs (default: this one)."),
    source: Optional[Path] = typer.Option(None, "--source", help="hosts/HOST to install from (default: this "
                                          "package's adapters)."),
    edition: str = typer.Option("both", "--edition", help="Resolve: studio (Python scripts), free (Lua stubs) or both."),
    python: str = typer.Option("", "--python", help="Resolve: the Python the Lua stubs run (default: this one)."),
    blender: Optional[str] = typer.Option(None, "--blender", help="Blender: the blender executable that installs the "
                                          "extension (default: blender on PATH)."),
    zip_only: bool = typer.Option(False, "--zip-only", help="Blender: only write the zip (for Install from Disk)."),
) -> None:
    """Install a host's adapter from this package, for this worker (never over an artist's own files)."""
    check_host(host)
    _only_for(host, edition=edition if edition != "both" else "", python=python, blender=blender, zip_only=zip_only)
    dest = dest.expanduser().absolute() if dest is not None else None
    verb = _VERBS[dry_run]
    if host == "resolve":
        dest = dest or resolve_scripts_folder().absolute()
        for action, path in install(source or adapter_source("resolve"), dest, edition, force, dry_run, worker, python):
            typer.echo(f"{verb[action]}: {path}")
        if not dry_run:
            note_install("resolve", dest)
            typer.echo(f"Matchcut {__version__} for Resolve installed in {dest}; restart Resolve, then Workspace > "
                       "Scripts > Matchcut")
    elif host == "nuke":
        done = install_nuke(dest, force, dry_run, worker, source=source)
        for action, path in done.actions:
            typer.echo(f"{verb[action]}: {path}")
        if done.line_action == "add":
            typer.echo(f"{'would add' if dry_run else 'added'} to {done.init}: {done.line}")
        elif done.line_action == "same":
            typer.echo(f"unchanged: {done.init} (already has: {done.line})")
        if not dry_run:
            note_install("nuke", done.folder)
            if dest is None:
                typer.echo(f"Matchcut {__version__} for Nuke installed in {done.folder}, loaded by {done.init}; "
                           "restart Nuke: the Matchcut menu is in the Nodes toolbar")
            else:
                typer.echo(f"Matchcut {__version__} for Nuke installed in {done.folder}: put it on NUKE_PATH (and on "
                           "the render nodes'), set MATCHCUT_WORKER there if this worker is not on PATH, restart Nuke")
    else:
        done_b = install_blender(dest, force, dry_run, worker, blender, zip_only, source)
        typer.echo(f"{verb[done_b.action]}: {done_b.zip}")
        if dry_run:
            typer.echo(f"would install it with {done_b.blender}" if done_b.blender else from_disk(done_b.zip))
            return
        note_install("blender", done_b.zip)
        for line in done_b.lines:
            typer.echo(line)
        typer.echo(f"Matchcut {__version__} for Blender: {done_b.zip}" +
                   (" (installed)" if done_b.installed else ""))


@hosts_app.command("uninstall")
def uninstall_command(
    host: str = typer.Argument(..., help="The host: nuke, resolve or blender."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Where it was installed (default: the default place)."),
    blender: Optional[str] = typer.Option(None, "--blender", help="Blender: the blender executable to remove the "
                                          "extension from (default: blender on PATH)."),
    zip_only: bool = typer.Option(False, "--zip-only", help="Blender: only remove the zip, not the installed extension."),
) -> None:
    """Remove what the installer wrote (files edited since are kept and listed; the line added to ~/.nuke/init.py)."""
    check_host(host)
    _only_for(host, blender=blender, zip_only=zip_only)
    dest = dest.expanduser().absolute() if dest is not None else None
    if host == "resolve":
        dest = dest or resolve_scripts_folder().absolute()
        removed, kept = uninstall(dest)
        for path in removed:
            typer.echo(f"removed: {path}")
        for path in kept:
            typer.echo(f"kept (edited since it was installed): {path}")
        if not kept:
            forget_install("resolve", dest)
    elif host == "nuke":
        done = uninstall_nuke(dest)
        if not done.found:
            typer.echo(f"no Matchcut for Nuke recorded in {done.folder}: nothing removed")
            return
        for path in done.removed:
            typer.echo(f"removed: {path}")
        for path in done.kept:
            typer.echo(f"kept (edited since it was installed): {path}")
        if done.line_action == "removed":
            typer.echo(f"removed from {done.init}: {done.line}")
        elif done.line_action == "missing":
            typer.echo(f"not in {done.init} any more (edited?): {done.line}; nothing changed there")
        elif done.line_action == "link":
            typer.echo(f"{done.init} is a link now: remove this line from it yourself: {done.line}")
        if not done.kept:
            forget_install("nuke", done.folder)
    else:
        folder = dest or blender_zip_folder()
        zips = sorted(folder.glob(f"{BLENDER_ID}-*.zip"))
        for line in uninstall_blender(folder, blender, zip_only):
            typer.echo(line)
        for path in zips:
            if not path.exists():
                forget_install("blender", path)


@hosts_app.command("status")
def status_command(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """What is installed where, which Matchcut version each is, and whether it matches this worker."""
    report = status()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"this worker: Matchcut {report['matchcut']} ({report['worker']})")
    for entry in report["installs"]:
        typer.echo(f"{entry['host']:<8} {entry['version']:<8} {entry['where']}: {entry['note']}")
    missing = [h for h in HOSTS if not any(e["host"] == h for e in report["installs"])]
    for host in missing:
        typer.echo(f"{host:<8} not installed (`matchcut hosts install {host}`)")


@hosts_app.command("build")
def build_command(
    host: str = typer.Argument(..., help="The host: nuke, resolve or blender."),
    out: Path = typer.Option(..., "--out", help="The folder to write the adapter to (a NUKE_PATH folder for Nuke, "
                             "the extension's source for Blender)."),
    worker: str = typer.Option("", "--worker", help="The worker its record names (default: this one; Blender "
                               "presets its Worker preference to it)."),
) -> None:
    """Write a host's adapter with its copy of the worker client and its record, as the host loads it."""
    from matchcut.adapters import with_record, write_tree

    check_host(host)
    out = out.expanduser().absolute()
    check_writable(out)
    written = write_tree(with_record(host, assemble(host), worker or default_worker()), out)
    typer.echo(f"Matchcut for {host}: {len(written)} files in {out}")


def register(app: typer.Typer) -> None:
    """Add the `hosts` command group to the app."""
    app.add_typer(hosts_app, name="hosts")
