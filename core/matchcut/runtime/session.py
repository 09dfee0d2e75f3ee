"""create_session(): an onnxruntime session that says loudly when it did not get the GPU it asked for."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from matchcut import settings
from matchcut.errors import ChecksumError, ModelError, ProviderError
from matchcut.runtime.backends import COREML, CPU, CUDA, GPU_ORDER, TENSORRT, DeviceOptions
from matchcut.runtime.binding import BoundRunner, binding_device
from matchcut.runtime.budget import check_device_id
from matchcut.runtime.probe import (
    captured_output,
    gpu_unavailable_reason,
    ort_log_level,
    reason_from_output,
    usable_providers,
)


@dataclass(frozen=True)
class TensorInfo:
    """One model input or output as onnxruntime reports it: name, shape (None or a name for dynamic axes), type."""

    name: str
    shape: tuple[int | str | None, ...]
    type: str


def _ort():
    import onnxruntime

    return onnxruntime


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def engine_cache_key(model_sha256: str, input_shape: tuple[int, ...] | None, precision: str,
                     ort_version: str, trt_version: str | None, gpu_name: str | None) -> str:
    """A 16-hex-digit key for a TensorRT engine cache folder: ``settings.engine_cache_dir() / key``.

    An engine is only valid for the exact model, input shape, precision, onnxruntime and TensorRT builds and
    GPU it was built on; anything else must not share its folder (a stale engine can crash or run wrong).
    """
    parts = [model_sha256.lower(), "x".join(str(d) for d in input_shape) if input_shape else "dynamic",
             precision, ort_version, trt_version or "-", gpu_name or "-"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _tensorrt_version() -> str | None:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    for dist in ("tensorrt", "tensorrt-cu12", "tensorrt-cu13", "tensorrt_libs"):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return None


def gpu_name(device_id: int = 0) -> str | None:
    """The name of CUDA device ``device_id`` as nvidia-smi reports it, or None when there is none."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        result = subprocess.run([exe, "--query-gpu=name", "--format=csv,noheader", f"--id={device_id}"],
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    name = result.stdout.strip().splitlines()[0].strip() if result.returncode == 0 and result.stdout.strip() else ""
    return name or None


def _fallback_message(active: list[str], causes: str) -> str:
    """Matchcut's one line for a session that wanted the GPU and runs on the CPU: what failed, and the cost."""
    return (f"GPU INFERENCE UNAVAILABLE: no usable GPU: {causes}; the session runs on "
            f"{', '.join(active) or 'nothing'} at CPU speed (set device.provider to 'cpu' to silence this; "
            f"`matchcut doctor` re-checks)")


class Session:
    """A thin wrapper over ``onnxruntime.InferenceSession`` that records what was asked and what runs.

    requested: the provider names asked of onnxruntime, best first; skipped: GPU providers "auto" left out
    because the probe found they cannot load here, with the reason; active: ``get_providers()`` of the real
    session; provider: the first active one; fell_back: a GPU provider was wanted (asked for, or skipped) and
    the session is on the CPU.
    """

    def __init__(self, ort_session: Any, requested: list[str], model_path: Path,
                 skipped: dict[str, str] | None = None, cpu_retry: Callable[[], Any] | None = None,
                 on_warning: Callable[[str], None] | None = None, device_id: int = 0):
        self._ort = ort_session
        self.device_id = device_id
        self._bound: BoundRunner | None = None
        self.model_path = model_path
        self.requested = list(requested)
        self.skipped = dict(skipped or {})
        self.active: list[str] = list(ort_session.get_providers())
        # "auto" on CoreML: a model that loads there but fails to run is run on the CPU instead (once, one line)
        self._cpu_retry = cpu_retry if COREML in self.active else None
        self._warn = on_warning or (lambda msg: warnings.warn(msg, RuntimeWarning, stacklevel=4))
        self.inputs = [TensorInfo(i.name, tuple(i.shape), i.type) for i in ort_session.get_inputs()]
        self.outputs = [TensorInfo(o.name, tuple(o.shape), o.type) for o in ort_session.get_outputs()]
        self._output_names = [o.name for o in self.outputs]

    @property
    def provider(self) -> str:
        return self.active[0] if self.active else CPU

    @property
    def fell_back(self) -> bool:
        asked_gpu = bool(self.skipped) or any(p in GPU_ORDER for p in self.requested)
        on_gpu = any(p in GPU_ORDER for p in self.active)
        return asked_gpu and not on_gpu

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the model: feeds maps input names to arrays (dtype and layout as the manifest declares);
        returns every output by name. Raises ModelError naming the model when a feed is missing or unknown."""
        self._checked(feeds)
        try:
            return self._run(feeds)
        except Exception as exc:  # onnxruntime's own exception types
            if self._cpu_retry is None:
                raise
            retry, self._cpu_retry = self._cpu_retry, None
            self._ort = retry()
            self.active = list(self._ort.get_providers())
            self._warn(f"CoreML could not run {self.model_path.name} ({_first_line(exc)}); it runs on the CPU "
                       "from now on, at CPU speed (set device.provider to 'cpu' to silence this)")
            return self._run(feeds)

    def run_many(self, frames: Iterable[dict[str, np.ndarray]]) -> Iterator[dict[str, np.ndarray]]:
        """``run`` for each feeds dict of ``frames``, results in order, with the next frame's upload and the last
        one's download overlapping this one's compute (binding.BoundRunner.run_many). Equal to run() per frame."""
        if self._cpu_retry is not None:  # CoreML may hand a model back to the CPU mid-way: one frame at a time
            yield from (self.run(feeds) for feeds in frames)
            return
        yield from self.runner().run_many(self._checked(feeds) for feeds in frames)

    def _checked(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = {i.name for i in self.inputs}
        if names != feeds.keys():
            raise ModelError(f"{self.model_path}: feeds {sorted(feeds)} do not match the model's inputs "
                             f"{sorted(names)}")
        return feeds

    def runner(self) -> BoundRunner:
        """The IO-binding runner of the current onnxruntime session (a new one after a CoreML -> CPU retry)."""
        if self._bound is None or self._bound.session is not self._ort:
            self._bound = BoundRunner(self._ort, self._output_names, binding_device(self.active), self.device_id)
        return self._bound

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # The one place inference happens: IO binding, inputs and outputs bound on the session's device (no
        # host copies of intermediates; on CUDA reused device buffers fed from pinned host memory).
        return self.runner().run(feeds)

    @property
    def takes_batch(self) -> bool:
        """Whether the first input's leading (batch) axis is dynamic, so several tiles can go in one run."""
        shape = self.inputs[0].shape if self.inputs else ()
        return bool(shape) and not (isinstance(shape[0], int) and shape[0] > 0)

    def image_fn(self, input_name: str, output_name: str, extra: dict[str, np.ndarray] | None = None) -> ImageFn:
        """This session as run_tiled's ``fn``: a window in ``input_name``, ``output_name`` out (see ImageFn)."""
        return ImageFn(self, input_name, output_name, extra or {})

    def __repr__(self) -> str:
        return f"Session({self.model_path.name}, active={self.active}, requested={self.requested})"


class ImageFn:
    """A session over one image input, for run_tiled: ``fn(window)`` runs one float32 (N, C, h, w) window
    (with the fixed ``extra`` feeds; a leading axis of 1 is repeated to the window's N, for batched tiles) and
    returns ``output_name``; ``fn.map(windows)`` streams many through Session.run_many (overlapped I/O)."""

    def __init__(self, session: Session, input_name: str, output_name: str, extra: dict[str, np.ndarray]):
        self.session, self.input, self.output, self.extra = session, input_name, output_name, dict(extra)
        # only an extra input whose graph shape has a dynamic leading axis follows the batch
        self._batched = {i.name for i in session.inputs
                         if i.shape and not (isinstance(i.shape[0], int) and i.shape[0] > 0)}

    def _feeds(self, window: np.ndarray) -> dict[str, np.ndarray]:
        n = window.shape[0]
        extra = {k: np.repeat(v, n, axis=0) if k in self._batched and v.ndim and v.shape[0] == 1 and n > 1 else v
                 for k, v in self.extra.items()}
        return {self.input: window, **extra}

    def __call__(self, window: np.ndarray) -> np.ndarray:
        return self.session.run(self._feeds(window))[self.output]

    def map(self, windows: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for result in self.session.run_many(self._feeds(w) for w in windows):
            yield result[self.output]


def _session_options(options: DeviceOptions, log_level: int):
    ort = _ort()
    so = ort.SessionOptions()
    so.intra_op_num_threads = options.threads or settings.threads()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = log_level  # see probe.ort_log_level: ORT's own lines are noise to a user
    return so


def create_session(model_path: Path, options: DeviceOptions = DeviceOptions(), *,
                   model_sha256: str | None = None, shape_hint: tuple[int, ...] | None = None,
                   on_warning: Callable[[str], None] | None = None) -> Session:
    """An inference session for the ONNX file ``model_path`` on the providers ``options`` asks for.

    model_sha256: when given, the file's sha256 must match (ChecksumError otherwise); it also keys the
        TensorRT engine cache. shape_hint: the input shape the model will mostly see, for the engine cache key.
    on_warning: called with one loud line when a GPU provider was asked for (explicitly or by "auto") and
        the session ended on the CPU; default ``warnings.warn``. Never silent: CPU inference of a 4K plate is
        minutes, not seconds, and a user must know why.
    Raises ProviderError when "cuda"/"tensorrt" is asked for explicitly and onnxruntime does not offer it or it
    cannot load here (probe.usable_providers), or when creating the session on the GPU fails outright;
    ModelError when the file is missing or not ONNX. onnxruntime's own output never reaches the user unless
    $MATCHCUT_DEBUG is set (_ort_session).
    """
    ort = _ort()
    model_path = Path(model_path)
    warn = on_warning or (lambda msg: warnings.warn(msg, RuntimeWarning, stacklevel=3))
    if not model_path.is_file():
        raise ModelError(f"{model_path}: model file not found")
    if model_sha256 is not None:
        actual = _sha256(model_path)
        if actual != model_sha256.lower():
            raise ChecksumError(str(model_path), model_sha256, actual)
    available = list(ort.get_available_providers())
    # Ask only for GPU providers that really load here (probed once per process, cached per machine): a
    # provider that cannot load costs a dozen lines of onnxruntime errors and tells the user nothing.
    unusable = usable_providers(available).unusable if options.wants_gpu else {}
    requested = options.requested(available, unusable)  # ProviderError: explicit cuda/tensorrt cannot load
    if any(p in (CUDA, TENSORRT) for p in requested):
        check_device_id(options.device_id)  # ProviderError naming the GPUs there are
    skipped = {p: unusable[p] for p in GPU_ORDER if p in unusable} if options.provider == "auto" else {}
    engine_cache = None
    if TENSORRT in requested:
        key = engine_cache_key(model_sha256 or _sha256(model_path), shape_hint, options.precision,
                               ort.__version__, _tensorrt_version(), gpu_name(options.device_id))
        engine_cache = settings.engine_cache_dir() / key
        engine_cache.mkdir(parents=True, exist_ok=True)
    providers = options.providers(available, engine_cache, unusable)
    log: list[str] = []
    try:
        ort_session = _ort_session(model_path, options, providers, log)
    except Exception as exc:  # onnxruntime raises its own unexported exception types
        detail = _first_line(exc)
        # CoreML compiles the graph while the session is made: any failure there is worth a CPU retry (a model
        # that is broken fails again on the CPU, and that error is the one reported)
        if not (any(p in GPU_ORDER for p in requested) and (COREML in requested or _looks_like_provider_failure(detail))):
            raise ModelError(f"{model_path}: onnxruntime cannot load the model: {detail}") from exc
        reason = reason_from_output("".join(log), exc)
        if options.provider != "auto":
            raise ProviderError(f"{model_path}: could not create a {options.provider} session: {reason}") from exc
        # "auto" promises to run somewhere: retry on the CPU and say so loudly.
        try:
            ort_session = _ort_session(model_path, options, [(CPU, {})], [])
        except Exception as cpu_exc:
            raise ModelError(f"{model_path}: onnxruntime cannot load the model: {_first_line(cpu_exc)}") from cpu_exc
        session = Session(ort_session, requested, model_path, skipped, device_id=options.device_id)
        _drop_unused(engine_cache, session)
        asked = ", ".join(p for p in requested if p in GPU_ORDER)
        warn(_fallback_message(session.active, f"{asked} did not start (session creation failed: {reason})"))
        return session
    cpu_retry = ((lambda: _ort_session(model_path, options, [(CPU, {})], [])) if options.provider == "auto"
                 else None)
    session = Session(ort_session, requested, model_path, skipped, cpu_retry, warn, options.device_id)
    _drop_unused(engine_cache, session)
    if TENSORRT in skipped and CUDA in session.active:  # TensorRT is optional: its absence is news, not a fault
        warn(f"TensorRT not used ({skipped[TENSORRT]}); {model_path.name} runs on CUDA")
    if session.fell_back:
        asked = ", ".join(p for p in requested if p in GPU_ORDER)
        if asked:  # the probe said it loads, yet this session did not get it (another device_id, say)
            causes = f"{asked} did not start ({reason_from_output(''.join(log))})"
        else:
            causes = gpu_unavailable_reason(skipped)
        warn(_fallback_message(session.active, causes))
    return session


def _drop_unused(engine_cache: Path | None, session: Session) -> None:
    """Remove the engine folder made for a TensorRT provider that did not start (only while it is empty)."""
    if engine_cache is not None and TENSORRT not in session.active:
        try:
            engine_cache.rmdir()
        except OSError:  # not empty: engines from an earlier run on a working GPU; keep them
            pass


def _ort_session(model_path: Path, options: DeviceOptions, providers: list[tuple[str, dict[str, Any]]],
                 log: list[str]):
    """``onnxruntime.InferenceSession`` with its own output kept from the user (unless $MATCHCUT_DEBUG): with
    a GPU provider asked for, what it prints while the session is built is captured into ``log`` (it holds the
    reason a provider did not start); with only the CPU, its logging is turned down to fatal errors."""
    ort = _ort()
    capture = any(n in GPU_ORDER for n, _ in providers) and not settings.debug()
    level = ort_log_level(capturing=capture)
    kwargs = dict(sess_options=_session_options(options, level), providers=[n for n, _ in providers],
                  provider_options=[o for _, o in providers])
    if not capture:
        ort.set_default_logger_severity(level)  # the process-wide logger: provider-load failures go to it
        return ort.InferenceSession(str(model_path), **kwargs)
    text: list[str] = []
    try:
        with captured_output() as text:
            # errors only while captured (they name what failed to load); fatal-only again outside the window
            ort.set_default_logger_severity(level)
            try:
                return ort.InferenceSession(str(model_path), **kwargs)
            finally:
                ort.set_default_logger_severity(ort_log_level(capturing=False))
    finally:
        log.extend(text)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _looks_like_provider_failure(detail: str) -> bool:
    text = detail.lower()
    return any(word in text for word in ("cuda", "cudnn", "tensorrt", "cublas", "provider", "gpu", "driver", "coreml"))


def probe_providers(refresh: bool = True) -> dict[str, Any]:
    """What `matchcut doctor` reports: onnxruntime version, the providers it offers ("available"), the ones
    that really load here ("usable", best first) and why the others do not ("unusable"), what a session for
    each of the auto, cuda and tensorrt requests (and coreml on a Mac) runs on ("active": a list, or the error
    line it raises), and
    the GPU name from nvidia-smi (None without one). refresh: probe afresh and rewrite the machine cache, so
    doctor always tells the truth after a driver or library change. Never raises for a missing GPU or library.
    """
    ort = _ort()
    probe = usable_providers(refresh=refresh)
    available = list(probe.available)
    active: dict[str, Any] = {}
    # CoreML only where it could be (a Mac, or a wheel that lists it): elsewhere its line would only be noise
    coreml = ("coreml",) if COREML in available or sys.platform == "darwin" else ()
    for request in ("auto", "cuda", "tensorrt") + coreml:
        try:
            active[request] = DeviceOptions(provider=request).requested(available, probe.unusable)
        except ProviderError as exc:  # the explicit request that cannot load: its one line is the finding
            active[request] = f"error: {_first_line(exc)}"
    return {
        "onnxruntime": ort.__version__,
        "device": ort.get_device(),
        "available": available,
        "usable": list(probe.usable),
        "unusable": dict(probe.unusable),
        "active": active,
        "gpu": gpu_name(0),
        "gpu_usable": probe.gpu,
        "tensorrt": _tensorrt_version(),
        "cuda_provider_listed": CUDA in available,
        "coreml_provider_listed": COREML in available,
        "probe_cache": str(settings.provider_probe_file()) if probe.key else None,
        "probe_cached": probe.cached,
    }


def create_model_session(manifest: Any, options: DeviceOptions = DeviceOptions(), *,
                         shape_hint: tuple[int, ...] | None = None,
                         on_warning: Callable[[str], None] | None = None) -> Session:
    """``create_session`` for a model with a manifest: its sha256 is checked, and fp16 is used only where the
    manifest offers it (``runtime.fp16``), on a GPU provider. A model with a half-precision variant
    (``runtime.fp16_file``, built and checked against fp32 at install; RIFE keeps its warp and sampling grid in
    fp32 there) runs that file; asking a model without one for fp16 runs fp32 and says why (``runtime.fp16_note``).
    On the CPU, fp32 always (onnxruntime's CPU kernels are fp32: a half graph only adds casts there).
    """
    warn = on_warning or (lambda msg: warnings.warn(msg, RuntimeWarning, stacklevel=3))
    path, sha = manifest.onnx_path, manifest.sha256
    if options.precision == "fp16":
        why = manifest.runtime.fp16_note or "its manifest says runtime.fp16 = false"
        if not manifest.runtime.fp16:
            warn(f"model '{manifest.id}' does not offer fp16 ({why}); running fp32")
            options = replace(options, precision="fp32")
        elif not _gpu_requested(options):
            warn(f"model '{manifest.id}': fp16 is for GPU providers; running fp32 on the CPU")
            options = replace(options, precision="fp32")
        elif manifest.fp16_path is not None:
            path, sha = manifest.fp16_path, manifest.runtime.fp16_sha256
    return create_session(path, options, model_sha256=sha, shape_hint=shape_hint, on_warning=warn)


def _gpu_requested(options: DeviceOptions) -> bool:
    """Whether a session for ``options`` would ask for a GPU provider that loads here."""
    if not options.wants_gpu:
        return False
    available = list(_ort().get_available_providers())
    try:
        requested = options.requested(available, usable_providers(available).unusable)
    except ProviderError:
        return True  # create_session raises the same error with its full line
    return any(p in GPU_ORDER for p in requested)
