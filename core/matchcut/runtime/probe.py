"""usable_providers(): which GPU providers really load here, probed once per process and cached per machine.

onnxruntime-gpu lists CUDA and TensorRT whether or not their libraries, the driver or a GPU are present; asking
for one that cannot load prints a dozen lines of C++ errors and "EP Error ... Falling back" blocks before the
session quietly ends on the CPU. The probe asks each GPU provider once, on a one-node graph, with that output
captured (it holds the reason), and remembers the answer so that real sessions only ask for what loads.
On a Mac, the onnxruntime wheel lists CoreML instead; it is probed the same way (not run here: no Mac).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from matchcut import settings
from matchcut.runtime.backends import COREML, CPU, GPU_ORDER

#: Bump when the cache file's layout or the probe's meaning changes: older files are then re-probed.
CACHE_SCHEMA = 1
#: Environment variables that change which libraries load or which GPUs CUDA sees.
ENV_VARS = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "CUDA_HOME", "CUDA_PATH",
            "CUDNN_PATH", "TENSORRT_HOME") + (("PATH",) if os.name == "nt" else ())
#: Changes whenever system libraries are installed or removed (ldconfig rewrites it), e.g. apt's libcudnn9.
LD_CACHE = Path("/etc/ld.so.cache")

_CAPTURE_LOCK = threading.RLock()  # re-entrant: a nested capture saves and restores fd 2 in turn
_PROBE_LOCK = threading.Lock()
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class ProbeResult:
    """available: what onnxruntime lists; usable: the providers that really load and compute, best first, CPU
    last; unusable: GPU provider -> one line saying why it cannot load; key: the machine key the answer is
    valid for (None when nothing needed probing); cached: read from the disk cache rather than probed now."""

    available: tuple[str, ...]
    usable: tuple[str, ...]
    unusable: dict[str, str] = field(default_factory=dict)
    key: str | None = None
    cached: bool = False

    @property
    def gpu(self) -> bool:
        """Whether any GPU provider really loads."""
        return any(p in GPU_ORDER for p in self.usable)


#: (onnxruntime version, providers it lists) -> the answer: the process-level memo.
_MEMO: dict[tuple[str, tuple[str, ...]], ProbeResult] = {}


def _ort():
    import onnxruntime

    return onnxruntime


def ort_log_level(capturing: bool) -> int:
    """onnxruntime's log severity for a session: warnings with $MATCHCUT_DEBUG (the user asked to see it),
    errors while the output is being captured (they hold the reason a provider did not load), else fatal only:
    every failure that matters also raises, and Matchcut reports it in one line."""
    if settings.debug():
        return 2
    return 3 if capturing else 4


@contextlib.contextmanager
def captured_output() -> Iterator[list[str]]:
    """Keep onnxruntime's output from the user while a session is built, and hand it back (one string, in the
    yielded list, once the block ends) so the caller can say in one line why a provider did not load.

    Its C++ logger writes straight to file descriptor 2, below ``sys.stderr``, so fd 2 is pointed at a temporary
    file; its Python fallback ``print()``s go to ``sys.stdout``, which is swapped for a buffer. Both are
    process-wide: the lock keeps two sessions from interleaving, and callers hold it only around session
    construction. What another thread writes in that window is not onnxruntime's, and is written out after it
    (late, not lost).
    """
    out: list[str] = []
    with _CAPTURE_LOCK:
        buffer = io.StringIO()
        _flush(sys.stdout, sys.stderr)
        tmp = tempfile.TemporaryFile()
        try:
            saved: int | None = os.dup(2)
            os.dup2(tmp.fileno(), 2)
        except OSError:  # no fd 2 at all (a GUI host without a console): nothing native can reach the user
            saved = None
        try:
            with contextlib.redirect_stdout(buffer):
                yield out
        finally:
            _flush(sys.stderr)
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
            tmp.seek(0)
            native = tmp.read().decode("utf-8", errors="replace")
            tmp.close()
            printed = buffer.getvalue()
            _replay(_not_onnxruntime(printed), sys.stdout)
            _replay(_not_onnxruntime(native), sys.stderr)
            out.append(_ANSI.sub("", printed + native))


#: Lines onnxruntime writes: its logger's "[E:onnxruntime:...]" lines (and source paths), and the Python
#: fallback block ("*** EP Error ***", "EP Error ...", " when using [...]", "Falling back to ... and retrying.").
_ORT_LINE = re.compile(r"onnxruntime|^\s*(\*{8,}|EP Error|when using \[|Falling back to )")


def _not_onnxruntime(text: str) -> str:
    """The lines of ``text`` that onnxruntime did not write (another thread's, in the capture window)."""
    keep = [line for line in text.splitlines(keepends=True)
            if _ANSI.sub("", line).strip() and not _ORT_LINE.search(_ANSI.sub("", line))]
    return "".join(keep)


def _replay(text: str, stream: Any) -> None:
    if text and stream is not None:
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # closed: there is no one to show it to
            pass


def _flush(*streams: Any) -> None:
    for stream in streams:
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed or detached: nothing buffered to lose
            pass


def reason_from_output(text: str, exc: BaseException | None = None) -> str:
    """One line saying why a provider did not load, from onnxruntime's captured output or its exception."""
    missing = re.findall(r"([\w.+-]+\.(?:so(?:\.\d+)*|dll)): cannot open shared object file", text)
    require = re.search(r"Require (cuDNN [\w*]+(?:\.[\w*]+)*) and (CUDA [\w*]+(?:\.[\w*]+)*)", text)
    cuda_failure = re.search(r"CUDA failure \d+: [^\n;\]]+", text + "\n" + (str(exc) if exc else ""))
    parts = []
    if missing:
        parts.append(", ".join(dict.fromkeys(missing)) + " not found")
    if require:
        parts.append(f"onnxruntime {_ort().__version__} needs {require.group(2)} and {require.group(1)}")
    if parts:
        return "; ".join(parts)
    if cuda_failure:
        return cuda_failure.group(0).strip()
    if exc is not None:
        line = str(exc).strip().splitlines()
        return line[0] if line else type(exc).__name__
    for line in text.splitlines():
        if "[E:onnxruntime" in line or "EP Error" in line:
            return line.split("] ")[-1].split(" : FAIL : ")[-1].strip()
    return "onnxruntime could not start it (no NVIDIA GPU or driver, or its CUDA/cuDNN/TensorRT libraries are missing)"


def _probe_model_bytes() -> bytes:
    """A one-node ONNX graph (y = x + x, float32 [1, 4]) built in memory: enough to make a provider load."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "probe", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime this project supports
    return model.SerializeToString()


def _probe_one(provider: str, model: bytes) -> str | None:
    """None when ``provider`` builds a session that runs on it and computes right; else the reason it does not."""
    ort = _ort()
    exc: BaseException | None = None
    active: list[str] = []
    with captured_output() as text:
        try:
            ort.set_default_logger_severity(2)  # the warning line names the CUDA/cuDNN versions it needs
            so = ort.SessionOptions()
            so.log_severity_level = 2
            so.intra_op_num_threads = 1
            # CUDA and TensorRT take a device; CoreML takes no device option (an unknown one is an error there)
            options = {} if provider == COREML else {"device_id": 0}
            sess = ort.InferenceSession(model, sess_options=so, providers=[provider, CPU],
                                        provider_options=[options, {}])
            active = list(sess.get_providers())
            if provider in active:
                out = sess.run(None, {"x": np.ones((1, 4), np.float32)})[0]
                if not np.allclose(out, 2.0):
                    return f"wrong result from {provider}"
        except Exception as e:  # onnxruntime's own unexported exception types: the failure is the finding
            exc = e
        finally:
            ort.set_default_logger_severity(ort_log_level(capturing=False))
    if settings.debug():  # asked to see onnxruntime's own lines (the rest was passed on already)
        _replay("".join(line for line in text[0].splitlines(keepends=True) if _ORT_LINE.search(line)), sys.stderr)
    if exc is None and provider in active:
        return None
    return reason_from_output(text[0], exc)


def _package_versions() -> list[str]:
    """Installed CUDA, cuDNN, TensorRT and onnxruntime wheels (nvidia-*, tensorrt*, onnxruntime*) with versions."""
    from importlib.metadata import distributions

    found = set()
    for dist in distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name.startswith(("nvidia", "tensorrt", "onnxruntime")):
            found.add(f"{name}=={dist.version}")
    return sorted(found)


def _gpu_identity() -> str | None:
    """Every GPU's name and driver version as nvidia-smi reports them; None without nvidia-smi."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "nvidia-smi failed"
    return done.stdout.strip() if done.returncode == 0 else f"nvidia-smi exit {done.returncode}"


def machine_key_parts(available: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Everything that changes which providers load: onnxruntime's build and location, what it lists, the GPU
    wheels, the GPUs and driver, the library search variables and the system library cache."""
    ort = _ort()
    try:
        ld_cache = LD_CACHE.stat().st_mtime_ns
    except OSError:
        ld_cache = None
    return {
        "schema": CACHE_SCHEMA,
        "onnxruntime": ort.__version__,
        "onnxruntime_path": str(Path(ort.__file__).parent),
        "available": list(available),
        "packages": _package_versions(),
        "gpus": _gpu_identity(),
        "env": {name: os.environ.get(name) for name in ENV_VARS},
        "ld_cache": ld_cache,
        "platform": sys.platform,
    }


def machine_key(parts: dict[str, Any]) -> str:
    """A 16-hex-digit digest of ``machine_key_parts``."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _read_cache(path: Path, key: str, available: tuple[str, ...]) -> ProbeResult | None:
    """The cached answer for ``key``; None when the file is missing, unreadable, corrupt or for another key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA or data.get("key") != key:
            return None
        usable, unusable = data["usable"], data["unusable"]
        if not (isinstance(usable, list) and all(p in available for p in usable) and usable[-1:] == [CPU]
                and isinstance(unusable, dict) and all(isinstance(v, str) for v in unusable.values())):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ProbeResult(available, tuple(usable), dict(unusable), key, cached=True)


def _write_cache(path: Path, result: ProbeResult, parts: dict[str, Any]) -> None:
    """Write the answer atomically (a temporary file in the same folder, then os.replace), so that a process
    reading it never sees half a file; a cache folder that cannot be written just means probing next time."""
    data = {"schema": CACHE_SCHEMA, "key": result.key, "usable": list(result.usable),
            "unusable": result.unusable, "probed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": parts}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        pass


def usable_providers(available: list[str] | None = None, *, refresh: bool = False) -> ProbeResult:
    """Which of the providers onnxruntime lists really load here (see ProbeResult).

    Probed once per process, and kept per machine in ``settings.provider_probe_file()`` under a key of
    everything that changes the answer (machine_key_parts), so a command does not pay for, or print, a failed
    GPU load. refresh: probe again and rewrite the cache (what `matchcut doctor` does). Never raises for a
    missing GPU or library.
    """
    ort = _ort()
    available_t = tuple(available if available is not None else ort.get_available_providers())
    gpu_listed = [p for p in GPU_ORDER if p in available_t]
    if not gpu_listed:  # the CPU-only wheel: nothing to probe
        return ProbeResult(available_t, tuple(p for p in available_t if p == CPU) or (CPU,))
    memo_key = (ort.__version__, available_t)
    with _PROBE_LOCK:
        if not refresh and memo_key in _MEMO:
            return _MEMO[memo_key]
        parts = machine_key_parts(available_t)
        key = machine_key(parts)
        path = settings.provider_probe_file()
        result = None if refresh else _read_cache(path, key, available_t)
        if result is None:
            model = _probe_model_bytes()
            unusable = {}
            for provider in gpu_listed:
                reason = _probe_one(provider, model)
                if reason is not None:
                    unusable[provider] = reason
            usable = tuple(p for p in gpu_listed if p not in unusable) + (CPU,)
            result = ProbeResult(available_t, usable, unusable, key)
            _write_cache(path, result, parts)
        _MEMO[memo_key] = result
        return result


def forget() -> None:
    """Drop this process's memo (the disk cache stays): the next usable_providers() reads or probes again."""
    with _PROBE_LOCK:
        _MEMO.clear()


def gpu_unavailable_reason(unusable: dict[str, str]) -> str:
    """One line from ProbeResult.unusable: which GPU providers cannot load and why, grouped by reason."""
    by_reason: dict[str, list[str]] = {}
    for provider in GPU_ORDER:
        if provider in unusable:
            by_reason.setdefault(unusable[provider], []).append(provider)
    return "; ".join(f"{', '.join(names)} cannot load ({reason})" for reason, names in by_reason.items())


__all__ = ["ProbeResult", "captured_output", "forget", "gpu_unavailable_reason",
           "machine_key", "machine_key_parts", "ort_log_level", "reason_from_output", "usable_providers"]
