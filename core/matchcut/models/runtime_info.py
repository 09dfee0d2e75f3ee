"""A manifest's ``[runtime]`` table: how a model may run (sizes, tiling, fp16 variant, memory figure).

Read by manifest.manifest_from_dict through its typed reader (duck-typed here, so this module imports nothing
of manifest.py and the two stay one-way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNTIME_KEYS = ("size_multiple", "receptive_field", "temporal_window", "fixed_size", "fp16", "tileable", "variants",
                "fp16_file", "fp16_sha256", "fp16_note", "memory_mb", "memory_mb_per_mpix")


@dataclass(frozen=True)
class RuntimeInfo:
    """How the model may run: size multiple, receptive field (px, the default tile overlap), temporal
    window (frames per evaluation), fixed input size ``(height, width)``, fp16 support, tiling, variants.

    fp16: the model may run in half precision on a GPU (TensorRT half kernels, or ``fp16_file``).
    fp16_file / fp16_sha256: the half-precision variant built at install (float32 inputs and outputs, fp16
    inside), checked against fp32 on a real picture; None when there is none. fp16_note: one line saying how the
    variant did on that check, or why the model stays fp32.
    memory_mb / memory_mb_per_mpix: the working memory of one run, measured at install: ``memory_mb`` fixed plus
    ``memory_mb_per_mpix`` per megapixel of input per batch item (None: not measured; see runtime.budget).
    """

    size_multiple: int = 1
    receptive_field: int = 0
    temporal_window: int = 1
    fixed_size: tuple[int, int] | None = None
    fp16: bool = False
    tileable: bool = True
    variants: dict[str, str] = field(default_factory=dict, hash=False)  # a dict; manifests stay hashable
    fp16_file: str | None = None
    fp16_sha256: str | None = None
    fp16_note: str = ""
    memory_mb: float | None = None
    memory_mb_per_mpix: float | None = None


def read_runtime(r: Any, d: Any, folder: Path | None) -> RuntimeInfo:
    """The ``[runtime]`` table ``d`` as RuntimeInfo; ``r`` is manifest's reader (its errors name the field)."""
    d = r.table(d, "runtime")
    r.check_keys(d, "runtime", RUNTIME_KEYS)
    ints = {}
    for key, least in (("size_multiple", 1), ("receptive_field", 0), ("temporal_window", 1)):
        value = r.get(d, key, f"runtime.{key}", "int", default=least)
        if value < least:
            raise r.fail(f"runtime.{key}", f"expected an integer >= {least}, got {value}")
        ints[key] = value
    fixed = r.get(d, "fixed_size", "runtime.fixed_size", "list")
    if fixed is not None:
        if len(fixed) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in fixed):
            raise r.fail("runtime.fixed_size", f"expected [height, width] (two positive integers), got {fixed!r}")
        fixed = (fixed[0], fixed[1])
    variants = r.table(d.get("variants", {}), "runtime.variants")
    for key, value in variants.items():
        if not isinstance(value, str) or not value:
            raise r.fail(f"runtime.variants.{key}", f"expected a model id (a string), got {value!r}")
    fp16_file = r.get(d, "fp16_file", "runtime.fp16_file", "str")
    fp16_sha = r.sha(d, "fp16_sha256", "runtime.fp16_sha256", required=fp16_file is not None)
    if fp16_file is not None:
        fp16_file = r.local_path(fp16_file, "runtime.fp16_file", folder)
    elif fp16_sha is not None:
        raise r.fail("runtime.fp16_sha256", "given without runtime.fp16_file")
    memory = {}
    for key in ("memory_mb", "memory_mb_per_mpix"):
        value = r.get(d, key, f"runtime.{key}", "float")
        if value is not None and not value >= 0:
            raise r.fail(f"runtime.{key}", f"expected a number >= 0 (MB), got {value}")
        memory[key] = value
    return RuntimeInfo(
        fixed_size=fixed,
        fp16=r.get(d, "fp16", "runtime.fp16", "bool", default=False),
        tileable=r.get(d, "tileable", "runtime.tileable", "bool", default=True),
        variants=dict(variants),
        fp16_file=fp16_file,
        fp16_sha256=fp16_sha,
        fp16_note=r.get(d, "fp16_note", "runtime.fp16_note", "str", default=""),
        **memory,
        **ints,
    )
