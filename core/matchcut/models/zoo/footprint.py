"""A model's working memory, measured at install: the manifest's runtime.memory_mb and memory_mb_per_mpix.

One onnxruntime CPU run at each of two sizes, each in a fresh process; its peak resident memory (Linux:
/proc/self/status VmHWM) above what it held before the run gives the activations' cost per megapixel; the model
file's size is added to the fixed part (a GPU holds the weights too). Where /proc is missing there is no figure.
A GPU's activations match the CPU's in size; cuDNN workspaces on top are what runtime.budget's margin is for.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The two measuring sizes (square, px, before aligning to the size multiple): far enough apart for a slope.
SIZES = (256, 512)
#: Bytes in a megabyte (MiB, as nvidia-smi counts).
MB = 1 << 20
#: Seconds one measuring run may take (RIFE at 512 x 512 on one CPU thread takes a few).
RUN_TIMEOUT_S = 300
_STATUS = Path("/proc/self/status")

#: The measuring child: a fresh process, so no memory freed by earlier work is reused unseen. It prints its
#: resident MB after building the session and the inputs, and its peak resident MB after one run.
_CHILD = r"""
import json, sys
import numpy as np, onnxruntime as ort
path, layouts, h, w = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def status(field):
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
so = ort.SessionOptions()
so.intra_op_num_threads = 1
so.log_severity_level = 3
sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
feeds = {}
for info in sess.get_inputs():
    shape = list(info.shape)
    layout = layouts.get(info.name, "NCHW" if len(shape) == 4 else "other")
    spatial = {"NCHW": {2: h, 3: w}, "NHWC": {1: h, 2: w}}.get(layout, {}) if len(shape) == 4 else {}
    dims = [d if isinstance(d, int) and d > 0 else spatial.get(i, 1) for i, d in enumerate(shape)]
    feeds[info.name] = np.zeros(dims, np.float16 if info.type == "tensor(float16)" else np.float32)
before = status("VmRSS")
sess.run(None, feeds)
print(json.dumps([before, status("VmHWM")]))
"""


def _status_mb(field: str) -> float | None:
    try:
        for line in _STATUS.read_text(encoding="ascii").splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / MB  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _run_mb(onnx_path: Path, layouts: dict[str, str], h: int, w: int) -> float | None:
    """MB the resident memory of a fresh process rose by during one run at h x w; None: unmeasurable here."""
    if _status_mb("VmRSS") is None:  # no /proc (macOS, Windows): nothing to read the peak from
        return None
    cmd = [sys.executable, "-c", _CHILD, str(onnx_path), json.dumps(layouts), str(h), str(w)]
    # Popen, not run: the child is this module's own measuring code, started with this interpreter
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            out, _ = child.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return None
    try:
        before, peak = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return max(0.0, float(peak) - float(before))


def _up(mb: float) -> float:
    """``mb`` rounded up to a tenth: a budget must not plan with less memory than was measured."""
    return math.ceil(mb * 10.0 - 1e-9) / 10.0


def memory_fields(runtime: dict[str, Any], inputs: list[dict[str, Any]], onnx_path: Path) -> dict[str, Any]:
    """runtime.memory_mb and memory_mb_per_mpix for the model at ``onnx_path`` (runtime and inputs: the
    builder's manifest tables); an empty dict where this system cannot measure resident memory."""
    weights_mb = onnx_path.stat().st_size / MB
    layouts = {t["name"]: t.get("layout", "NCHW") for t in inputs}
    fixed = runtime.get("fixed_size")
    if fixed:
        used = _run_mb(onnx_path, layouts, *fixed)
        return {} if used is None else {"memory_mb": _up(used + weights_mb), "memory_mb_per_mpix": 0.0}
    mult = max(1, int(runtime.get("size_multiple", 1)))
    sides = [-(-s // mult) * mult for s in SIZES]
    used = [_run_mb(onnx_path, layouts, s, s) for s in sides]
    if any(u is None for u in used):
        return {}
    mpix = [s * s / 1e6 for s in sides]
    slope = max(0.0, (used[1] - used[0]) / (mpix[1] - mpix[0]))
    base = max(0.0, used[0] - slope * mpix[0]) + weights_mb
    return {"memory_mb": _up(base), "memory_mb_per_mpix": _up(slope)}
