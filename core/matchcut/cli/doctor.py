"""`matchcut doctor`: versions, inference providers actually in use, the OCIO config and the models found."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import platform
import sys
from typing import Any

import typer

#: (label, module, essential): essentials are the runtime dependencies; the CLI is of no use without them.
PACKAGES = (
    ("numpy", "numpy", True),
    ("OpenImageIO", "OpenImageIO", True),
    ("OpenColorIO", "PyOpenColorIO", True),
    ("onnxruntime", "onnxruntime", True),
    ("onnx", "onnx", True),
    ("opencv", "cv2", True),
    ("PyAV", "av", True),
    ("torch", "torch", False),  # an extra: builds and exports models, never runs inside a host
)

#: As matchcut.runtime.backends.GPU_ORDER (CoreML: a Mac's GPU and Neural Engine).
GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider", "CoreMLExecutionProvider")
COREML = "CoreMLExecutionProvider"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def package_versions() -> tuple[dict[str, str | None], list[str]]:
    """Each package's version (None when it does not import) and one line per essential that failed."""
    versions: dict[str, str | None] = {}
    failures: list[str] = []
    for label, module, essential in PACKAGES:
        try:
            mod = importlib.import_module(module)
        except Exception as exc:  # a missing wheel, or a shared library that will not load
            versions[label] = None
            if essential:
                failures.append(f"cannot import {label} ({module}): {_first_line(exc)}")
            continue
        version = getattr(mod, "__version__", None) or getattr(mod, "VERSION_STRING", None) or getattr(mod, "version", None)
        versions[label] = str(version) if version is not None else "unknown"
    return versions, failures


def _providers() -> dict[str, Any]:
    try:
        from matchcut.runtime import probe_providers

        # refresh: doctor probes afresh (and rewrites the machine cache) so it is right after a driver or library
        # change. The runtime keeps onnxruntime's prints off stdout; the redirect is a second guard for --json.
        with contextlib.redirect_stdout(io.StringIO()):
            return probe_providers(refresh=True)
    except Exception as exc:  # the report goes on: the failure is the finding
        return {"error": _first_line(exc)}


def _ocio() -> dict[str, Any]:
    try:
        from matchcut.color import config_description

        return config_description()
    except Exception as exc:
        return {"error": _first_line(exc)}


def _models() -> dict[str, Any]:
    from matchcut import settings
    from matchcut.models.registry import scan

    result = scan()
    return {
        "cache": str(settings.model_cache_dir()),
        "search_path": [str(p) for p in result.searched],
        "count": len(result.models),
        "ids": [m.id for m in result.models],
        "problems": result.problems,
        "notes": result.notes,
    }


def gpu_fallback(providers: dict[str, Any]) -> list[str]:
    """GPU providers onnxruntime offers that no probe session actually got (empty when all is well)."""
    offered = [p for p in providers.get("available", []) if p in GPU_PROVIDERS]
    active = providers.get("active", {})
    got = {p for v in active.values() if isinstance(v, list) for p in v}
    return [p for p in offered if p not in got]


def gpu_active(providers: dict[str, Any]) -> bool:
    """Whether any probe session actually runs on a GPU provider."""
    return any(isinstance(v, list) and any(p in GPU_PROVIDERS for p in v) for v in providers.get("active", {}).values())


def collect() -> dict[str, Any]:
    """The whole report as JSON-ready data; ``ok`` is False when an essential package does not import."""
    from matchcut import __version__

    versions, failures = package_versions()
    providers = _providers()
    return {
        "ok": not failures,
        "errors": failures,
        "matchcut": __version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "packages": versions,
        "providers": providers,
        "gpu": providers.get("gpu"),
        "gpu_active": gpu_active(providers),
        "coreml": COREML in providers.get("usable", []),
        "gpu_fallback": gpu_fallback(providers),
        "ocio": _ocio(),
        "models": _models(),
    }


def _human(report: dict[str, Any]) -> list[str]:
    lines = [f"matchcut {report['matchcut']}  python {report['python']}  {report['platform']}"]
    lines.append("packages: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in report["packages"].items()))
    prov = report["providers"]
    if "error" in prov:
        lines.append(f"providers: cannot probe: {prov['error']}")
    else:
        lines.append("providers available: " + (", ".join(prov.get("available", [])) or "none"))
        if "usable" in prov:
            lines.append("providers that load: " + (", ".join(prov["usable"]) or "none"))
        for name, why in prov.get("unusable", {}).items():
            lines.append(f"  {name} cannot load: {why}")
        for request, got in prov.get("active", {}).items():
            lines.append(f"  {request:<9} -> {', '.join(got) if isinstance(got, list) else got}")
    lines.append(f"gpu: {report['gpu'] or 'none'}")
    if COREML in prov.get("available", []):
        lines.append("coreml: " + ("loads: auto runs models on it (a model that cannot run there runs on the CPU, "
                                   "said in one line)" if report.get("coreml") else
                                   f"listed but cannot load ({prov.get('unusable', {}).get(COREML, 'unknown')}): "
                                   "models run on the CPU"))
    missing = report["gpu_fallback"]
    if missing and not gpu_active(prov):
        check = ("macOS and its CoreML" if missing == [COREML]
                 else "the GPU, its driver and the CUDA/cuDNN libraries")
        lines.append(
            f"!!! GPU providers are in the package ({', '.join(missing)}) but no session got one: "
            f"models run on the CPU (check {check}) !!!"
        )
    elif missing:
        lines.append(f"note: {', '.join(missing)} offered but not active (its libraries are missing); the GPU is used through the others")
    ocio = report["ocio"]
    if "error" in ocio:
        lines.append(f"ocio: cannot load the config: {ocio['error']}")
    else:
        lines.append(f"ocio: {ocio.get('name')} ({ocio.get('source')}), OpenColorIO {ocio.get('ocio_version')}")
    models = report["models"]
    lines.append(f"model cache: {models['cache']}")
    lines.append("model search path: " + ", ".join(models["search_path"]))
    lines.append(f"models: {models['count']}" + (f" ({', '.join(models['ids'])})" if models["ids"] else "; run `matchcut models install`"))
    for line in models["problems"] + models["notes"]:
        lines.append(f"  warning: {line}")
    return lines


def doctor_command(as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for hosts).")) -> None:
    """Report versions, inference providers actually in use, the OCIO config and the installed models."""
    report = collect()
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        typer.echo("\n".join(_human(report)))
    if not report["ok"]:
        typer.echo("matchcut: error: " + "; ".join(report["errors"]), err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `doctor` command to the app."""
    app.command("doctor")(doctor_command)
