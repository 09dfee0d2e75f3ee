"""BoundRunner: onnxruntime runs through IO binding, with upload, compute and download overlapped across frames.

Inputs are bound as OrtValues on the session's device and outputs are allocated there by onnxruntime, so no
intermediate tensor crosses to the host. On the CPU provider an input OrtValue wraps the numpy array (no copy);
on CUDA each pipeline slot owns device buffers that are reused frame after frame, filled from pinned
(page-locked) host buffers where onnxruntime offers them (OrtEpDevice's HOST_ACCESSIBLE memory), which the GPU
copies by DMA at full PCIe speed. The same code path runs on every provider, so the CPU tests exercise it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matchcut.runtime.backends import CUDA, TENSORRT

#: Frames in flight in run_many: one uploading while one computes (and the one before downloads).
PIPELINE_DEPTH = 2
#: Worker threads beside the computing one: one uploads the next frame while the other downloads the last.
IO_WORKERS = 2


def _ort():
    import onnxruntime

    return onnxruntime


def binding_device(active: list[str]) -> str:
    """The OrtValue device type for a session whose providers are ``active``: "cuda" when its first provider
    runs on an NVIDIA GPU (CUDA, or TensorRT on CUDA memory), else "cpu" (the CPU; CoreML reads host memory)."""
    return "cuda" if active and active[0] in (CUDA, TENSORRT) else "cpu"


@dataclass
class _Slot:
    """One frame's bound buffers: device inputs (reused while shape and dtype stay) and pinned host staging
    arrays beside them (CUDA only)."""

    device_inputs: dict[str, tuple[Any, tuple]] = field(default_factory=dict)  # name -> (OrtValue, (shape, dtype))
    pinned: dict[str, tuple[Any, np.ndarray]] = field(default_factory=dict)


class BoundRunner:
    """Runs one onnxruntime session with IO binding on ``device`` ("cpu" or "cuda") number ``device_id``.

    run(feeds): one frame; feeds map input names to numpy arrays (dtype as the graph declares). run_many(frames):
    an iterator of feeds in, an iterator of results out in the same order, PIPELINE_DEPTH frames in flight.
    Results are dicts of output name -> numpy array on the host, equal to ``InferenceSession.run``'s.
    """

    def __init__(self, ort_session: Any, output_names: list[str], device: str = "cpu", device_id: int = 0,
                 device_buffers: bool | None = None):
        self.session = ort_session
        self._outputs = list(output_names)
        self.device = device
        self.device_id = device_id
        #: Inputs copied into per-slot buffers owned by the runner (default on CUDA; on the CPU an OrtValue wraps
        #: the caller's array instead, which costs nothing: True there runs the CUDA path's logic on the CPU).
        self.device_buffers = device != "cpu" if device_buffers is None else device_buffers
        self._slots = [_Slot() for _ in range(PIPELINE_DEPTH)]
        self._pinned_info = _pinned_memory_info(device_id) if device == "cuda" else None

    @property
    def pinned(self) -> bool:
        """Whether host buffers are page-locked (CUDA with onnxruntime's HOST_ACCESSIBLE memory)."""
        return self._pinned_info is not None

    def upload(self, feeds: dict[str, np.ndarray], slot: int = 0) -> tuple[dict[str, Any], list[np.ndarray]]:
        """The feeds as OrtValues on the device (slot: which pipeline slot's buffers to fill on CUDA), and the
        host arrays a CPU OrtValue wraps (it does not own them: they must outlive the run)."""
        ort = _ort()
        values = {}
        held_arrays = []
        for name, array in feeds.items():
            array = np.ascontiguousarray(array)
            if not self.device_buffers:
                values[name] = ort.OrtValue.ortvalue_from_numpy(array)
                held_arrays.append(array)
                continue
            buffers = self._slots[slot]
            held = buffers.device_inputs.get(name)
            if held is None or held[1] != (array.shape, array.dtype):  # a new size: new device buffers
                value = ort.OrtValue.ortvalue_from_shape_and_type(list(array.shape), array.dtype, self.device,
                                                                  self.device_id)
                held = buffers.device_inputs[name] = (value, (array.shape, array.dtype))
            value = held[0]
            value.update_inplace(self._staged(buffers, name, array))
            values[name] = value
        return values, held_arrays

    def _staged(self, buffers: _Slot, name: str, array: np.ndarray) -> np.ndarray:
        """``array`` copied into this slot's pinned host buffer (the DMA source), or itself without pinning."""
        if self._pinned_info is None:
            return array
        held = buffers.pinned.get(name)
        if held is None or held[1].shape != array.shape or held[1].dtype != array.dtype:
            ort = _ort()
            try:
                value = ort.OrtValue.ortvalue_from_shape_and_type(list(array.shape), array.dtype,
                                                                  memory_info=self._pinned_info)
                held = (value, value.numpy())  # the numpy view shares the page-locked memory
            except (RuntimeError, TypeError, ValueError):  # this build cannot map it: pageable copies from now on
                self._pinned_info = None
                return array
            buffers.pinned[name] = held
        np.copyto(held[1], array)
        return held[1]

    def compute(self, uploaded: tuple[dict[str, Any], list[np.ndarray]]) -> Any:
        """Bind upload()'s values and the outputs (allocated on the device by onnxruntime) and run; returns
        the IOBinding."""
        values, _arrays = uploaded  # _arrays stay referenced until the run is over
        binding = self.session.io_binding()
        for name, value in values.items():
            binding.bind_ortvalue_input(name, value)
        for name in self._outputs:
            binding.bind_output(name, self.device, self.device_id)
        self.session.run_with_iobinding(binding)
        return binding

    def download(self, binding: Any) -> dict[str, np.ndarray]:
        """The bound outputs as host numpy arrays, by name."""
        return dict(zip(self._outputs, binding.copy_outputs_to_cpu()))

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One frame: upload, compute, download."""
        return self.download(self.compute(self.upload(feeds)))

    def run_many(self, frames: Iterable[dict[str, np.ndarray]]) -> Iterator[dict[str, np.ndarray]]:
        """Results for each feeds dict of ``frames``, in order, with frame k+1 uploading and frame k-1
        downloading on worker threads while frame k computes (onnxruntime releases the GIL while it runs)."""
        it = iter(frames)
        with ThreadPoolExecutor(max_workers=IO_WORKERS, thread_name_prefix="matchcut-io") as pool:
            uploads: deque[tuple[int, Future]] = deque()
            downloads: deque[Future] = deque()
            for slot in range(PIPELINE_DEPTH):
                feeds = next(it, None)
                if feeds is None:
                    break
                uploads.append((slot, pool.submit(self.upload, feeds, slot)))
            while uploads:
                slot, future = uploads.popleft()
                binding = self.compute(future.result())
                feeds = next(it, None)
                if feeds is not None:  # the slot just computed is free again: the next frame fills it
                    uploads.append((slot, pool.submit(self.upload, feeds, slot)))
                downloads.append(pool.submit(self.download, binding))
                while len(downloads) > 1 or (downloads and not uploads):
                    yield downloads.popleft().result()


def _pinned_memory_info(device_id: int) -> Any | None:
    """onnxruntime's page-locked host memory for the CUDA device ``device_id`` (OrtEpDevice HOST_ACCESSIBLE),
    or None where this onnxruntime offers none (older builds: inputs are then copied from pageable memory)."""
    ort = _ort()
    try:
        # listed in CUDA's own order (OrtHardwareDevice.device_id is the PCI id, not the CUDA ordinal)
        cuda = [d for d in ort.get_ep_devices() if d.ep_name == CUDA]
        if device_id < len(cuda):
            return cuda[device_id].memory_info(ort.OrtDeviceMemoryType.HOST_ACCESSIBLE)
    except (AttributeError, RuntimeError, TypeError, ValueError):  # an onnxruntime without the EP-device API
        return None
    return None
