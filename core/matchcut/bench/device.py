"""The device `matchcut bench --device` measures on: "cpu" (default) or "cuda", checked before anything runs."""

from __future__ import annotations

from matchcut.errors import ProviderError, SettingError

DEVICE_CHOICES = ("cpu", "cuda")
#: The benchmarks that measure on the chosen device (the others always measure the CPU).
DEVICE_BENCHMARKS = ("throughput",)

_chosen = {"device": "cpu"}


def no_gpu_reason() -> str | None:
    """None when onnxruntime's CUDA provider loads here; else one line saying why not (no GPU, no driver, the
    CPU-only wheel, missing CUDA libraries)."""
    import onnxruntime

    from matchcut.runtime.backends import CUDA
    from matchcut.runtime.probe import usable_providers

    available = list(onnxruntime.get_available_providers())
    if CUDA not in available:
        return f"onnxruntime {onnxruntime.__version__} offers no CUDAExecutionProvider (the CPU-only wheel)"
    probe = usable_providers(available)
    return probe.unusable.get(CUDA)


def set_device(name: str) -> str:
    """Choose the device; SettingError for an unknown name, ProviderError ("no GPU found: ...") when "cuda"
    cannot run here. Returns the name."""
    if name not in DEVICE_CHOICES:
        raise SettingError("--device", f"unknown device '{name}'", DEVICE_CHOICES)
    if name == "cuda":
        reason = no_gpu_reason()
        if reason is not None:
            raise ProviderError(f"--device cuda: no GPU found: {reason}")
    _chosen["device"] = name
    return name


def device() -> str:
    """The device chosen with set_device ("cpu" until then)."""
    return _chosen["device"]
