"""The memory budget: which GPUs there are, how much memory is free, and the tile size and batch that fit.

A model's working memory is its manifest's figure (runtime.memory_mb fixed plus runtime.memory_mb_per_mpix per
megapixel of input per batch item, measured at install). The budget picks the largest tile, then the largest
batch, whose figure fits BUDGET_FRACTION of the free memory (``nvidia-smi --query-gpu=memory.free`` on CUDA,
MemAvailable on the CPU). An out-of-memory error at run time halves the batch, then the tile, says so in one
line and goes on; only a device too small for the smallest tile stops, saying what that tile needs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from matchcut.errors import DeviceMemoryError, ProviderError, SettingError

#: Share of the free memory a run may plan to use: the rest absorbs allocator rounding, cuDNN workspaces and
#: what other processes take meanwhile.
BUDGET_FRACTION = 0.8
#: Most tiles per run: past this, a larger batch no longer makes a GPU faster, only the retry after an OOM longer.
MAX_BATCH = 8
#: Seconds nvidia-smi may take before the answer is "unknown".
NVIDIA_SMI_TIMEOUT_S = 10
#: Bytes in a megabyte (the manifests' and nvidia-smi's MB are MiB).
MB = 1 << 20
#: What onnxruntime, CUDA, cuDNN, cuBLAS and the C++ runtime say when an allocation fails.
_OOM = re.compile(r"out of memory|failed to allocate|bad_alloc|ALLOC_FAILED|AllocateRawInternal|"
                  r"CUDA failure 2\b|cudaErrorMemoryAllocation", re.IGNORECASE)


@dataclass(frozen=True)
class Gpu:
    """One CUDA device as nvidia-smi numbers it: index, name, total and free memory in MB."""

    index: int
    name: str
    total_mb: float
    free_mb: float


def gpus() -> list[Gpu] | None:
    """Every NVIDIA GPU here (nvidia-smi), or None when nvidia-smi is missing or fails (nothing known)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "--query-gpu=index,name,memory.total,memory.free", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    found = []
    for line in done.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        try:
            found.append(Gpu(int(parts[0]), parts[1], float(parts[2]), float(parts[3])))
        except (IndexError, ValueError):  # a field nvidia-smi could not read ("[N/A]"): skip that GPU
            continue
    return found


def check_device_id(device_id: int, listed: list[Gpu] | None = None) -> None:
    """ProviderError when CUDA device ``device_id`` does not exist, naming the ones that do. ``listed``: the
    GPUs (default: ask nvidia-smi); when they cannot be listed, onnxruntime's own error is left to speak."""
    listed = gpus() if listed is None else listed
    if listed is None:
        return
    listed = cuda_numbered(listed)
    if any(g.index == device_id for g in listed):
        return
    there = ", ".join(f"{g.index} ({g.name})" for g in listed) or "none"
    raise ProviderError(f"device.device_id {device_id}: no such GPU; this machine has: {there}")


def cuda_numbered(listed: list[Gpu]) -> list[Gpu]:
    """nvidia-smi's GPUs numbered as CUDA (and so device_id) sees them: $CUDA_VISIBLE_DEVICES, when it lists
    indices, keeps those in its order and numbers them from 0; otherwise (unset, or UUIDs) as listed."""
    raw = os.environ.get("CUDA_VISIBLE_DEVICES")
    if raw is None:
        return listed
    try:
        order = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:  # GPU UUIDs or MIG names: no index to map by
        return listed
    by_index = {g.index: g for g in listed}
    visible = []
    for k, index in enumerate(order):
        if index not in by_index:
            break  # CUDA stops at the first index that does not exist
        g = by_index[index]
        visible.append(Gpu(k, g.name, g.total_mb, g.free_mb))
    return visible


def free_memory_mb(device: str, device_id: int = 0) -> float | None:
    """Free memory in MB of ``device`` ("cuda": GPU ``device_id`` from nvidia-smi; "cpu": MemAvailable, else
    the free physical pages); None when it cannot be found out."""
    if device == "cuda":
        listed = cuda_numbered(gpus() or [])
        return next((g.free_mb for g in listed if g.index == device_id), None)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 / MB  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / MB
    except (ValueError, OSError, AttributeError):  # not a POSIX system with these names
        return None


@dataclass(frozen=True)
class MemoryFigure:
    """A model's working memory: ``base_mb`` per run plus ``mb_per_mpix`` per input megapixel per batch item."""

    base_mb: float
    mb_per_mpix: float

    @classmethod
    def of(cls, runtime: Any) -> MemoryFigure | None:
        """The figure in a manifest's RuntimeInfo, or None when it was not measured."""
        if runtime.memory_mb is None or runtime.memory_mb_per_mpix is None:
            return None
        return cls(runtime.memory_mb, runtime.memory_mb_per_mpix)

    def need_mb(self, tile_h: int, tile_w: int, batch: int = 1) -> float:
        """MB one run of ``batch`` tiles of tile_h x tile_w pixels needs."""
        return self.base_mb + self.mb_per_mpix * tile_h * tile_w * batch / 1e6


@dataclass(frozen=True)
class TilePlan:
    """tile: the tile edge in pixels (overlap included; at least the padded frame's larger side = one whole
    tile); batch: tiles per run."""

    tile: int
    batch: int


def _align_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def smallest_tile(overlap: int, multiple: int) -> int:
    """The smallest tile plan_tiles accepts: larger than twice the overlap by one aligned step."""
    return _align_up(2 * overlap + multiple, multiple)


def _tile_count(h: int, w: int, tile: int, overlap: int, multiple: int) -> int:
    from matchcut.runtime.tiling import plan_tiles

    return len(plan_tiles(h, w, tile, overlap, multiple))


def choose_tiling(height: int, width: int, *, figure: MemoryFigure | None, free_mb: float | None, multiple: int = 1,
                  overlap: int = 0, tileable: bool = True, max_batch: int = MAX_BATCH, model: str = "the model",
                  device: str = "the device") -> TilePlan:
    """The tile and batch for a (height, width) frame: the whole frame when it fits, else the largest tile
    (halving, on the size multiple) with the most tiles per run (up to ``max_batch``) that fit BUDGET_FRACTION
    of ``free_mb``. Without a figure or a free-memory reading: the whole frame (OOM retries shrink it).
    DeviceMemoryError when not even the smallest tile (or, for a model that cannot be tiled, the whole frame)
    fits, saying what it needs.
    """
    if max_batch < 1:
        raise SettingError("batch", f"expected an integer >= 1, got {max_batch!r}")
    ph, pw = _align_up(height, multiple), _align_up(width, multiple)
    whole = max(ph, pw)
    if figure is None or free_mb is None:
        return TilePlan(whole, 1)
    budget = free_mb * BUDGET_FRACTION
    if figure.need_mb(ph, pw) <= budget:
        return TilePlan(whole, 1)
    least = smallest_tile(overlap, multiple)
    if not tileable or whole <= least:
        raise DeviceMemoryError(f"{device}: {free_mb:.0f} MB free, but model '{model}' needs "
                                f"{figure.need_mb(ph, pw):.0f} MB for one {pw}x{ph} frame (it cannot be tiled); "
                                "free memory on the device or use provider 'cpu'")
    tile = _align_up(whole // 2, multiple)
    while True:
        tile = max(tile, least)
        per_tile = figure.need_mb(min(tile, ph), min(tile, pw)) - figure.base_mb
        fits = int((budget - figure.base_mb) // per_tile) if per_tile > 0 else max_batch
        if fits >= 1:
            count = _tile_count(ph, pw, tile, overlap, multiple)
            return TilePlan(tile, max(1, min(fits, max_batch, count)))
        if tile == least:
            raise DeviceMemoryError(f"{device}: {free_mb:.0f} MB free, but the smallest tile of model '{model}' "
                                    f"({least}x{least}: overlap {overlap}, size multiple {multiple}) needs "
                                    f"{figure.need_mb(least, least):.0f} MB; free memory on the device or use "
                                    "provider 'cpu'")
        tile = _align_up(tile // 2, multiple)


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure (MemoryError, or onnxruntime/CUDA's out-of-memory errors)."""
    return isinstance(exc, MemoryError) or bool(_OOM.search(str(exc)))


def shrink(plan: TilePlan, overlap: int, multiple: int, tileable: bool = True) -> TilePlan | None:
    """The next smaller plan after an out-of-memory error: half the batch, else half the tile; None at the end."""
    if plan.batch > 1:
        return TilePlan(plan.tile, plan.batch // 2)
    least = smallest_tile(overlap, multiple)
    if not tileable or plan.tile <= least:
        return None
    return TilePlan(max(least, _align_up(plan.tile // 2, multiple)), 1)


def run_budgeted(fn: Callable[[np.ndarray], np.ndarray], image: np.ndarray, *, plan: TilePlan, overlap: int,
                 multiple: int = 1, scale: int = 1, tileable: bool = True, pad_mode: str = "reflect",
                 on_message: Callable[[str], None] | None = None, model: str = "the model") -> np.ndarray:
    """run_tiled with ``plan``'s tile and batch; an out-of-memory error retries with shrink()'s smaller plan
    and says so in one line through ``on_message``. image: float32 (N, C, H, W) as run_tiled takes it. Raises
    DeviceMemoryError when the smallest plan still runs out of memory."""
    from matchcut.runtime.tiling import run_tiled

    say = on_message or (lambda _msg: None)
    while True:
        try:
            return run_tiled(fn, image, tile=plan.tile, overlap=overlap, multiple=multiple, scale=scale,
                             pad_mode=pad_mode, batch=plan.batch)
        except Exception as exc:  # onnxruntime's own exception types carry the OOM in their text
            if not is_out_of_memory(exc):
                raise
            smaller = shrink(plan, overlap, multiple, tileable)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if smaller is None:
                raise DeviceMemoryError(f"model '{model}' ran out of memory even at tile {plan.tile} x batch "
                                        f"{plan.batch} ({first}); free memory on the device or use provider "
                                        "'cpu'") from exc
            say(f"model '{model}': out of memory at tile {plan.tile} x batch {plan.batch}; retrying with tile "
                f"{smaller.tile} x batch {smaller.batch}")
            plan = smaller


def plan_for(session: Any, runtime: Any, height: int, width: int, *, model: str = "the model") -> TilePlan:
    """choose_tiling for ``session`` (a runtime Session) running a model with manifest RuntimeInfo ``runtime``
    on a (height, width) frame: free memory of the session's device, the manifest's memory figure, its size
    multiple and receptive field (the overlap), batches only where the graph's batch axis is dynamic."""
    from matchcut.runtime.binding import binding_device

    device = binding_device(session.active)
    label = f"GPU {session.device_id}" if device == "cuda" else "the CPU"
    free = free_memory_mb(device, session.device_id)
    return choose_tiling(height, width, figure=MemoryFigure.of(runtime), free_mb=free,
                         multiple=max(1, runtime.size_multiple), overlap=runtime.receptive_field,
                         tileable=runtime.tileable, max_batch=MAX_BATCH if session.takes_batch else 1, model=model,
                         device=label)
