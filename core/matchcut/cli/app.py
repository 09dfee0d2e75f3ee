"""The `matchcut` typer app and its single error boundary.

Each command module exposes ``register(app)``; errors become one line on stderr and the exit code of the
error's class (see README, "Exit codes"). ``--debug`` or ``MATCHCUT_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import typer

from matchcut import __version__, settings
from matchcut.errors import MatchcutError

#: Command modules under matchcut.cli, each with register(app).
COMMAND_MODULES = ("doctor", "models", "tools", "run", "match", "retime", "continuity", "matte", "relight", "learn",
                   "coverage", "hosts", "farm", "bench", "demo")

app = typer.Typer(
    name="matchcut",
    help="AI shot correction for compositors and colorists. Nothing is overwritten; every output records how it was made.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"matchcut {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    _state["debug"] = debug
    if debug:  # the runtime reads the variable: --debug also lets onnxruntime's own log through
        os.environ[settings.DEBUG_VAR] = "1"


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"matchcut.cli.{name}").register(app)


def _debugging() -> bool:
    return _state["debug"] or settings.debug() or "--debug" in sys.argv[1:]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `matchcut` script."""
    try:
        _register_commands()
        app(args=argv, prog_name="matchcut")
    except MatchcutError as exc:
        if _debugging():
            traceback.print_exc()
        print(f"matchcut: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("matchcut: cancelled", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the CLI boundary: anything unexpected still ends in one line
        if _debugging():
            traceback.print_exc()
        hint = "" if _debugging() else " (run with --debug for the traceback)"
        print(f"matchcut: internal error: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
        sys.exit(1)
