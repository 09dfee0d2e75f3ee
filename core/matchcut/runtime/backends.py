"""DeviceOptions: which onnxruntime execution provider to ask for, and with which options."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matchcut.errors import ProviderError, SettingError

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
#: Apple's CoreML (the GPU and Neural Engine of a Mac), in the plain onnxruntime wheel on macOS.
COREML = "CoreMLExecutionProvider"
CPU = "CPUExecutionProvider"

#: DeviceOptions.provider -> onnxruntime provider name ("auto" picks the first available of GPU_ORDER).
PROVIDER_NAMES = {"tensorrt": TENSORRT, "cuda": CUDA, "coreml": COREML, "cpu": CPU}
#: The providers that mean "on the GPU" (CoreML: a Mac's GPU or Neural Engine), fastest first. onnxruntime-gpu
#: (Linux, Windows) lists TensorRT and CUDA, onnxruntime on macOS lists CoreML: no wheel lists both kinds.
GPU_ORDER = (TENSORRT, CUDA, COREML)
PROVIDER_CHOICES = ("auto", "cuda", "tensorrt", "coreml", "cpu")
#: What to install for an explicitly asked provider that onnxruntime does not offer.
_INSTALL_HINT = {COREML: "CoreML comes with the onnxruntime wheel on macOS only",
                 CUDA: "install onnxruntime-gpu with CUDA/cuDNN", TENSORRT: "install onnxruntime-gpu with CUDA/cuDNN "
                 "and TensorRT"}
PRECISION_CHOICES = ("fp32", "fp16")


@dataclass(frozen=True)
class DeviceOptions:
    """Where and how a model runs: the job spec's ``device`` table.

    provider: "auto" (TensorRT, else CUDA, else CoreML on a Mac, else CPU, among the providers onnxruntime
        offers and that load here), "tensorrt", "cuda", "coreml" or "cpu". Asking for a GPU provider explicitly
        fails when onnxruntime does not offer it, or offers it but it cannot load here (probe.usable_providers).
    device_id: the CUDA device index (the GPU as ``nvidia-smi`` numbers it).
    precision: "fp32", or "fp16" on a GPU: a model's half-precision variant (built and checked against fp32 at
        install: runtime.fp16_file) and TensorRT's half-precision kernels (about 2x faster on RTX-class GPUs;
        models with wide-range scene-linear activations may lose highlight detail, so it is opt-in). A model
        without a variant runs fp32 and says why; the CPU always runs fp32.
    threads: CPU threads for onnxruntime's intra-op pool; None = ``$MATCHCUT_THREADS`` or all cores.
    """

    provider: str = "auto"
    device_id: int = 0
    precision: str = "fp32"
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.provider not in PROVIDER_CHOICES:
            raise SettingError("device.provider", f"unknown provider '{self.provider}'", PROVIDER_CHOICES)
        if self.precision not in PRECISION_CHOICES:
            raise SettingError("device.precision", f"unknown precision '{self.precision}'", PRECISION_CHOICES)
        if isinstance(self.device_id, bool) or not isinstance(self.device_id, int) or self.device_id < 0:
            raise SettingError("device.device_id", f"expected an integer >= 0, got {self.device_id!r}")
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise SettingError("device.threads", f"expected an integer >= 1 or none, got {self.threads!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> DeviceOptions:
        """DeviceOptions from a job spec's ``device`` table; SettingError names an unknown or bad field."""
        d = dict(d or {})
        fields = [f.name for f in dataclasses.fields(cls)]
        for key in d:
            if key not in fields:
                raise SettingError(f"device.{key}", "unknown field", fields)
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """The job spec's ``device`` table (the inverse of from_dict)."""
        return dataclasses.asdict(self)

    def requested(self, available: list[str], unusable: Mapping[str, str] | None = None) -> list[str]:
        """The onnxruntime provider names to ask for, best first, CPU always last.

        ``available`` is ``onnxruntime.get_available_providers()``; ``unusable`` maps the listed GPU providers
        that cannot load here to the reason (probe.usable_providers), so "auto" does not ask for them.
        ProviderError when "cuda" or "tensorrt" is asked for explicitly and onnxruntime does not offer it (the
        CPU-only ``onnxruntime`` wheel, say) or offers it but it cannot load (its CUDA/cuDNN libraries missing).
        """
        unusable = unusable or {}
        if self.provider == "auto":
            chosen = [p for p in GPU_ORDER if p in available and p not in unusable]
        elif self.provider == "cpu":
            chosen = []
        else:
            name = PROVIDER_NAMES[self.provider]
            if name not in available:
                raise ProviderError(
                    f"device.provider '{self.provider}': onnxruntime does not offer {name} "
                    f"(available: {', '.join(available) or 'none'}); {_INSTALL_HINT[name]}, or use provider "
                    f"'auto' or 'cpu'")
            if name in unusable:
                raise ProviderError(
                    f"device.provider '{self.provider}': onnxruntime offers {name} but it cannot load: "
                    f"{unusable[name]}; install what it needs (`matchcut doctor` re-checks), or use provider "
                    f"'auto' or 'cpu'")
            # TensorRT hands the nodes it cannot compile to CUDA, not to the CPU: keep CUDA behind it.
            chosen = [name] + ([CUDA] if name == TENSORRT and CUDA in available and CUDA not in unusable else [])
        return chosen + [CPU]

    def providers(self, available: list[str], engine_cache: Path | None = None,
                  unusable: Mapping[str, str] | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(provider name, provider options) pairs for ``onnxruntime.InferenceSession(providers=...)``.

        TensorRT: engines take minutes to build for a new shape, so they are cached under ``engine_cache``
        (a folder keyed on model, shape, precision and versions: see session.engine_cache_key); the timing
        cache makes rebuilding for a new resolution much faster. fp16 is TensorRT's only precision switch.
        CUDA: ``cudnn_conv_algo_search=EXHAUSTIVE`` benchmarks every convolution algorithm on the first run
        (a few seconds once per shape) and wins 10-30% on the large frames these tools run on.
        """
        out: list[tuple[str, dict[str, Any]]] = []
        for name in self.requested(available, unusable):
            if name == TENSORRT:
                opts: dict[str, Any] = {"device_id": self.device_id,
                                        "trt_fp16_enable": self.precision == "fp16"}
                if engine_cache is not None:
                    opts.update(trt_engine_cache_enable=True, trt_engine_cache_path=str(engine_cache),
                                trt_timing_cache_enable=True, trt_timing_cache_path=str(engine_cache))
                out.append((name, opts))
            elif name == CUDA:
                out.append((name, {"device_id": self.device_id, "cudnn_conv_algo_search": "EXHAUSTIVE"}))
            else:
                out.append((name, {}))
        return out

    @property
    def wants_gpu(self) -> bool:
        """True unless the CPU was asked for explicitly."""
        return self.provider != "cpu"
