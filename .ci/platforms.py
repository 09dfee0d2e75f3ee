"""CI: resolve Matchcut's runtime dependencies for the platforms artists use, from wheels only.

    python .ci/platforms.py dist/matchcut-X-py3-none-any.whl [NAME ...]

For each platform (macOS arm64, Windows x86_64, Linux aarch64; Python 3.11) it runs ``pip install --dry-run
--ignore-installed --only-binary=:all: --platform ... --python-version 3.11`` on the wheel, without extras (torch
is an extra that builds models, never a runtime dependency), so a dependency with no wheel for a platform
fails the build rather than a user. pip evaluates environment markers for the machine it runs on, whatever
``--platform`` says (pypa/pip#6117), which would pick onnxruntime-gpu for a Mac; so pip runs here with its
marker environment set to the target's (the vendored ``packaging.markers.default_environment``), and the
report's own ``environment`` shows it took. Exit status 1 when any platform does not resolve.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON_VERSION = "3.11"
#: name -> (pip --platform tags, PEP 508 marker values). macOS tags expand down to 11.0 in pip; manylinux ones
#: do not, so each glibc baseline from 2.17 (manylinux2014) to 2.28 (Rocky/RHEL 8) is listed.
PLATFORMS = {
    "macOS arm64": (["macosx_14_0_arm64"],
                    {"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin",
                     "os_name": "posix", "platform_release": "23.0.0", "platform_version": ""}),
    "Windows x86_64": (["win_amd64"],
                       {"sys_platform": "win32", "platform_machine": "AMD64", "platform_system": "Windows",
                        "os_name": "nt", "platform_release": "10", "platform_version": "10.0.19045"}),
    "Linux aarch64": (["manylinux2014_aarch64"] + [f"manylinux_2_{minor}_aarch64" for minor in range(17, 29)],
                      {"sys_platform": "linux", "platform_machine": "aarch64", "platform_system": "Linux",
                       "os_name": "posix", "platform_release": "", "platform_version": ""}),
}

#: Runs pip in this process with the target's marker environment (argv: the environment as JSON, pip's args).
PIP_FOR_TARGET = """
import json, sys
from pip._vendor.packaging import markers
version = sys.argv[2]
target = dict(markers.default_environment(), **json.loads(sys.argv[1]), python_version=version,
              python_full_version=version + ".0")
markers.default_environment = lambda: dict(target)
from pip._internal.models import installation_report
installation_report.default_environment = markers.default_environment
from pip._internal.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def resolve(wheel: Path, name: str, report: Path) -> tuple[bool, str]:
    tags, env = PLATFORMS[name]
    argv = [sys.executable, "-c", PIP_FOR_TARGET, json.dumps(env), PYTHON_VERSION, "install", "--dry-run", "--quiet",
            "--ignore-installed", "--only-binary=:all:", "--python-version", PYTHON_VERSION,
            "--implementation", "cp", "--report", str(report), "--disable-pip-version-check"]
    for tag in tags:
        argv += ["--platform", tag]
    done = subprocess.run(argv + [str(wheel)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if done.returncode != 0:
        errors = [ln for ln in done.stdout.splitlines() if ln.startswith("ERROR")] or done.stdout.splitlines()[-3:]
        return False, "; ".join(errors)
    data = json.loads(report.read_text())
    if data.get("environment", {}).get("sys_platform") != env["sys_platform"]:
        return False, "pip did not take the target's marker environment (this pip's internals changed)"
    installed = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in data["install"]}
    runtime = [f"{n} {installed[n]}" for n in ("onnxruntime", "onnxruntime-gpu") if n in installed]
    if len(runtime) != 1 or "torch" in installed:
        return False, f"expected one onnxruntime and no torch, resolved {runtime} (torch: {'torch' in installed})"
    wheels = sorted({Path(item["download_info"]["url"]).name.split("-")[-1].rsplit(".", 1)[0]
                     for item in data["install"] if item["metadata"]["name"].lower() != "matchcut"})
    return True, f"{len(installed)} packages, {runtime[0]}; platform tags {', '.join(wheels)}"


def main(argv: list[str]) -> int:
    if not argv or not argv[0].endswith(".whl"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    wheel = Path(argv[0]).resolve()
    names = argv[1:] or list(PLATFORMS)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            start = time.monotonic()
            ok, said = resolve(wheel, name, Path(tmp) / "report.json")
            failed += not ok
            print(f"{'ok' if ok else 'FAILED'}: {name} (Python {PYTHON_VERSION}): {said} "
                  f"[{time.monotonic() - start:.0f} s]", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
