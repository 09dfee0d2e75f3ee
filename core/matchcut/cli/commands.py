"""Tool commands built from what each tool declares: one option per input, output and control.

An input, output or control is declared once, on the tool (``matchcut.tools.description``, ``Control``); its
command-line option follows from that: the flag (``flag``, else ``--<name with dashes>``), the type, the default
and the help (a control's ``cli_help``, else its ``help``). A command module adds the few options that are no
input, output or control (relight's ``--light``) and a hook that puts them into the job. Every tool command
builds the job a host writes and runs it through ``launch.execute``, so the CLI and the hosts share one path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from matchcut.cli.launch import Compression, Device, Events, absolute, check_device, execute
from matchcut.errors import SettingError

if TYPE_CHECKING:
    from matchcut.jobs.spec import JobSpec
    from matchcut.models.manifest import Control
    from matchcut.tools.base import Tool

#: ``hook(data, extra)``: edits the job data (inputs, outputs, params, output_options as typed, before paths are
#: made absolute) with the values of the command's own options (``extra``: name -> value).
Hook = Callable[[dict[str, Any], dict[str, Any]], None]
#: An option a command module adds: name -> (annotation, ``typer.Option(default, "--flag", help=...)``).
Extra = dict[str, tuple[Any, Any]]

FRAMES_HELP = "Frames, e.g. 1001-1100 (default: all on disk)."
#: Output kinds written as frames, which the runner writes with ``--compression``.
FRAME_KINDS = ("plate", "matte", "pass")
#: Options every tool command has (launch.py); no input, output or control may take one of them.
SHARED_FLAGS = ("--device", "--compression", "--events", "--help")
_NUMBERS = {"float": float, "int": int}
_KEYWORD = inspect.Parameter.KEYWORD_ONLY


def parse_color(text: str | None) -> list[float] | None:
    """``"r,g,b"`` (three numbers) as a list of floats, else None (the text is something else, such as a path)."""
    if not text:
        return None
    parts = text.replace(" ", "").split(",")
    if len(parts) != 3:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError:
        return None


def flag_of(name: str, flag: str = "") -> str:
    """The option of an input, output or control: its own ``flag``, else ``--<name with dashes>``."""
    return flag or "--" + name.replace("_", "-")


def control_help(control: Control) -> str:
    """A control's one-line option help: ``cli_help``, else its ``help`` (or label) as a sentence."""
    if control.cli_help:
        return control.cli_help
    text = control.help or control.label
    return f"{text[:1].upper()}{text[1:]}{'' if text.endswith('.') else '.'}" if text else ""


def control_option(control: Control, required: bool = False) -> tuple[Any, Any]:
    """(annotation, typer option) for a control: numbers and bools typed; choices and colours taken as text and
    checked when the job is built (``control_value``), so a bad one is an error event like any other."""
    flag, kind, default = flag_of(control.name, control.flag), control.type, control.default
    if kind == "bool":
        if not control.flag and default:
            flag = f"{flag}/--no-{control.name.replace('_', '-')}"
        return bool, typer.Option(bool(default), flag, help=control_help(control))
    annotation = _NUMBERS.get(kind, str)
    if kind == "color" and default is not None:
        default = ",".join(str(v) for v in default)
    if required:
        default = ...
    option = typer.Option(default, flag, help=control_help(control))
    return (annotation if default is not None else Optional[annotation]), option


def _path_option(flag: str, help: str, required: bool) -> tuple[Any, Any]:
    """(annotation, typer option) for an input or output path: text, None when not given."""
    if required:
        return str, typer.Option(..., flag, help=help)
    return Optional[str], typer.Option(None, flag, help=help)


def _param_value(control: Control, raw: Any, owner: str) -> Any:
    from matchcut.tools.controls import control_value

    if raw is None:
        return None
    value = raw
    if control.type == "color":
        value = parse_color(raw)
        if value is None:
            raise SettingError(control.name, f"expected three numbers r,g,b, got {raw!r}")
    return control_value(control, value, owner)


def _required_first(pairs: list[tuple[Any, bool]]) -> list[tuple[Any, bool]]:
    """(spec, required) pairs with the required ones first, as --help lists them."""
    return sorted(pairs, key=lambda pair: not pair[1])


def _check_edit(tool: Tool, inputs: dict[str, str]) -> None:
    """With an edit input (continuity's --timeline) the tool reads either it or its required shots, not both."""
    edit = next((i for i in tool.input_specs if i.role == "edit"), None)
    if edit is None:
        return
    shots = [i for i in tool.input_specs if i.required and i.role != "edit"]
    flags = [flag_of(i.name, i.flag) for i in shots]
    edit_flag = flag_of(edit.name, edit.flag)
    given = [i for i in shots if i.name in inputs]
    if edit.name in inputs and given:
        raise SettingError(edit_flag, f"give either {edit_flag} or {' and '.join(flags)}, not both")
    if edit.name not in inputs and len(given) < len(shots):
        raise SettingError("/".join(flags), f"give {' and '.join(flags)}, or {edit_flag}")


def _check_flags(tool: Tool, options: list[tuple[str, tuple[Any, Any]]]) -> None:
    """Two options with one flag (a control named like an output) would shadow each other: say so at once."""
    seen = dict.fromkeys(SHARED_FLAGS, "a shared option")
    for key, (_, option) in options:
        for flag in (f.strip() for f in option.param_decls[0].split("/")):
            if flag in seen:
                raise ValueError(f"tool '{tool.name}': {key} and {seen[flag]} both take {flag}")
            seen[flag] = key


def _parameters(tool: Tool, extra: Extra, skip: set[str], required: set[str],
                frames_help: str) -> list[inspect.Parameter]:
    """The command's options as keyword parameters named input_*, output_*, extra_*, param_* and the shared ones."""
    # with an edit input the shots are its alternative, checked later; a tool of an edit alone (coverage) needs it
    edit = any(i.role == "edit" for i in tool.input_specs) and \
        any(i.required and i.role != "edit" for i in tool.input_specs)
    ins = [(i, i.required and not edit) for i in tool.input_specs if i.name not in skip]
    outs = [(o, o.name in required or (flag_of(o.name, o.flag) == "--output" and not o.needs))
            for o in tool.output_specs if o.name not in skip]
    params = [(c, c.name in required) for c in tool.controls if c.name not in skip]
    options: list[tuple[str, tuple[Any, Any]]] = []
    options += [(f"input_{i.name}", _path_option(flag_of(i.name, i.flag), i.help, need))
                for i, need in _required_first(ins)]
    options += [(f"output_{o.name}", _path_option(flag_of(o.name, o.flag), o.help, need))
                for o, need in _required_first(outs)]
    options += [(f"extra_{name}", spec) for name, spec in extra.items()]
    if not tool.frameless:
        options.append(("frames", (Optional[str], typer.Option(None, "--frames", help=frames_help))))
    options += [(f"param_{c.name}", control_option(c, need)) for c, need in _required_first(params)]
    _check_flags(tool, options)
    options.append(("device", (Device, "auto")))
    if any(o.kind in FRAME_KINDS for o in tool.output_specs):
        options.append(("compression", (Compression, None)))
    options.append(("events", (Events, "text")))
    return [inspect.Parameter(key, _KEYWORD, annotation=annotation, default=default)
            for key, (annotation, default) in options]


def _given(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {key[len(prefix):]: value for key, value in values.items() if key.startswith(prefix)}


def _job(tool: Tool, command: str, values: dict[str, Any], hook: Hook | None) -> JobSpec:
    """The job the options' values describe, checked (``job_from_dict``); paths typed here are made absolute."""
    from matchcut.jobs.spec import VERSION_KEY, job_from_dict

    check_device(values["device"])
    owner = f"tool '{tool.name}'"
    controls = {c.name: c for c in tool.controls}
    inputs = {name: path for name, path in _given(values, "input_").items() if path}
    _check_edit(tool, inputs)
    data: dict[str, Any] = {
        VERSION_KEY: 1, "tool": tool.name, "inputs": inputs,
        "outputs": {name: path for name, path in _given(values, "output_").items() if path},
        "params": {name: _param_value(controls[name], raw, owner) for name, raw in _given(values, "param_").items()},
        "device": {"provider": values["device"]},
    }
    if "frames" in values:
        data["frames"] = values["frames"]
    if "compression" in values:
        data["output_options"] = {"compression": values["compression"]}
    if hook is not None:
        hook(data, _given(values, "extra_"))
    for key in ("inputs", "outputs"):
        data[key] = {name: absolute(path) for name, path in data[key].items()}
    for artifact in tool.artifacts:  # a LUT or CDL path is the user's own, like an output
        data["params"][artifact.param] = absolute(data["params"].get(artifact.param)) or ""
    return job_from_dict(data, Path.cwd(), where=f"matchcut {command}")


def tool_command(name: str, *, extra: Extra | None = None, hook: Hook | None = None, skip: Iterable[str] = (),
                 required: Iterable[str] = (), frames_help: str = FRAMES_HELP) -> Callable[..., None]:
    """A typer command for tool ``name``: its inputs, outputs (and ``--frames``), controls and the shared
    ``--device``, ``--compression`` (when it writes frames) and ``--events``.

    extra/hook: the command's own options and what they do to the job; skip: inputs, outputs or controls that
    the extra options stand for (relight's lights); required: outputs or controls the command line asks for
    (``--output`` is required unless it ``needs`` something, required inputs always are).
    """
    from matchcut.tools import get_tool

    tool = get_tool(name)
    parameters = _parameters(tool, extra or {}, set(skip), set(required), frames_help)

    def command(**values: Any) -> None:
        execute(lambda: _job(tool, name, values, hook), values["events"])

    command.__signature__ = inspect.Signature(parameters)  # typer reads the options from the signature
    return command
