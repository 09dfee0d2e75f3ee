"""matchcut.runtime.session: sessions on a tiny ONNX graph, CPU fallback warnings, cache keys, probing."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pytest

from matchcut.errors import ChecksumError, ModelError, ProviderError
from matchcut.runtime import DeviceOptions, create_session, engine_cache_key, probe_providers
from matchcut.runtime import probe
from matchcut.runtime.session import gpu_name


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    """TensorRT engine folders and the provider probe go under the cache root: keep them out of the user's
    real cache, and forget this process's probe memo (tests below fake the providers onnxruntime lists)."""
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MATCHCUT_DEBUG", raising=False)
    probe.forget()
    yield
    probe.forget()


@pytest.fixture
def add_model(tmp_path):
    """y = a + b on float32 [1, 3, H, W] with dynamic H/W, written to tmp_path."""
    from onnx import TensorProto, helper, save

    dims = [1, 3, "H", "W"]
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"])], "add",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, dims),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "add.onnx"
    save(model, str(path))
    return path


def _feeds(h=5, w=7):
    rng = np.random.default_rng(1)
    return {"a": rng.random((1, 3, h, w), dtype=np.float32), "b": rng.random((1, 3, h, w), dtype=np.float32)}


def test_cpu_session_runs_and_does_not_warn(add_model):
    seen = []
    session = create_session(add_model, DeviceOptions(provider="cpu", threads=1), on_warning=seen.append)
    assert seen == []
    assert session.requested == ["CPUExecutionProvider"]
    assert session.active == ["CPUExecutionProvider"] and session.provider == "CPUExecutionProvider"
    assert not session.fell_back
    assert [i.name for i in session.inputs] == ["a", "b"] and [o.name for o in session.outputs] == ["y"]
    assert session.inputs[0].type == "tensor(float)"
    feeds = _feeds()
    out = session.run(feeds)
    np.testing.assert_allclose(out["y"], feeds["a"] + feeds["b"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default on_warning would raise here
        create_session(add_model, DeviceOptions(provider="cpu", threads=1))


def test_auto_on_this_machine_falls_back_loudly(add_model):
    seen = []
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=seen.append)
    assert session.requested[-1] == "CPUExecutionProvider"
    if gpu_name() is None:  # no NVIDIA GPU here: whatever onnxruntime lists, the session must end on the CPU
        assert session.active == ["CPUExecutionProvider"]
    if session.fell_back:
        assert len(seen) == 1
        message = seen[0]
        assert "\n" not in message and "GPU INFERENCE UNAVAILABLE" in message
        assert "CPUExecutionProvider" in message
        assert any(p in message for p in ("CUDAExecutionProvider", "TensorrtExecutionProvider"))
    else:
        assert seen == []
    if any(p != "CPUExecutionProvider" for p in session.requested) and gpu_name() is None:
        assert session.fell_back and seen
    feeds = _feeds(3, 4)
    np.testing.assert_allclose(session.run(feeds)["y"], feeds["a"] + feeds["b"])


def test_default_warning_is_a_runtime_warning(add_model, monkeypatch):
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    if gpu_name() is not None:
        pytest.skip("a GPU is present: the CUDA session may really run on it")
    with pytest.warns(RuntimeWarning, match="GPU INFERENCE UNAVAILABLE: no usable GPU: CUDAExecutionProvider"):
        create_session(add_model, DeviceOptions(threads=1))


def test_explicit_gpu_that_cannot_load_raises_one_line(add_model, monkeypatch):
    """Asked for cuda by name where the probe finds it cannot load: one line saying what is missing."""
    monkeypatch.setattr(probe, "_probe_one", lambda provider, model: "libcudnn.so.9 not found")
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(ProviderError) as info:
        create_session(add_model, DeviceOptions(provider="cuda"))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("device.provider 'cuda': onnxruntime offers CUDAExecutionProvider but it cannot load")
    assert "libcudnn.so.9 not found" in message and "'cpu'" in message


def test_explicit_gpu_not_offered_raises(add_model, monkeypatch):
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(ProviderError, match=r"cuda.*available: CPUExecutionProvider"):
        create_session(add_model, DeviceOptions(provider="cuda"))
    seen = []  # auto with only the CPU on offer asks for no GPU, so nothing to warn about
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=seen.append)
    assert session.requested == ["CPUExecutionProvider"] and not session.fell_back and seen == []


def test_checksum_and_missing_file(add_model, tmp_path):
    good = hashlib.sha256(add_model.read_bytes()).hexdigest()
    create_session(add_model, DeviceOptions(provider="cpu", threads=1), model_sha256=good)
    with pytest.raises(ChecksumError, match="add.onnx"):
        create_session(add_model, DeviceOptions(provider="cpu"), model_sha256="0" * 64)
    with pytest.raises(ModelError, match="nope.onnx"):
        create_session(tmp_path / "nope.onnx", DeviceOptions(provider="cpu"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="junk.onnx"):
        create_session(junk, DeviceOptions(provider="cpu"))


def test_run_rejects_wrong_feeds(add_model):
    session = create_session(add_model, DeviceOptions(provider="cpu", threads=1))
    with pytest.raises(ModelError, match=r"add.onnx.*\['a', 'b'\]"):
        session.run({"a": np.zeros((1, 3, 2, 2), np.float32)})


def test_engine_cache_key():
    base = dict(model_sha256="ab" * 32, input_shape=(1, 3, 1080, 1920), precision="fp16",
                ort_version="1.31.1", trt_version="10.9.0", gpu_name="NVIDIA RTX A6000")
    key = engine_cache_key(**base)
    assert len(key) == 16 and int(key, 16) >= 0
    assert engine_cache_key(**base) == key
    assert engine_cache_key(**{**base, "model_sha256": base["model_sha256"].upper()}) == key
    for field, other in [("model_sha256", "cd" * 32), ("input_shape", (1, 3, 2160, 3840)), ("precision", "fp32"),
                         ("ort_version", "1.30.0"), ("trt_version", None), ("gpu_name", "NVIDIA L40S")]:
        assert engine_cache_key(**{**base, field: other}) != key, field


def test_probe_providers_reports_without_crashing():
    report = probe_providers()
    assert report["onnxruntime"].count(".") >= 1
    assert "CPUExecutionProvider" in report["available"]
    assert set(report["active"]) == {"auto", "cuda", "tensorrt"}
    for value in report["active"].values():
        assert isinstance(value, (list, str))
    auto = report["active"]["auto"]
    assert isinstance(auto, list) and auto[-1] == "CPUExecutionProvider"
    assert report["usable"][-1] == "CPUExecutionProvider" and auto == report["usable"]
    assert set(report["unusable"]) <= set(report["available"]) - {"CPUExecutionProvider"}
    for name, why in report["unusable"].items():  # an explicit request for it names the reason, in one line
        request = "cuda" if name == "CUDAExecutionProvider" else "tensorrt"
        assert report["active"][request].startswith("error: ") and why in report["active"][request]
    if report["gpu"] is None:
        assert not report["gpu_usable"] and auto == ["CPUExecutionProvider"]


def test_gpu_session_creation_error_is_handled(add_model, monkeypatch):
    """Some onnxruntime builds raise instead of falling back when the CUDA provider cannot start: the probe
    finds it, so "auto" goes straight to the CPU and says why, and an explicit "cuda" fails in one line."""
    import onnxruntime

    real = onnxruntime.InferenceSession

    def failing(path, sess_options=None, providers=None, provider_options=None, **kw):
        if any(p != "CPUExecutionProvider" for p in providers or []):
            raise RuntimeError("CUDA failure 100: no CUDA-capable device is detected")
        return real(path, sess_options=sess_options, providers=providers, **kw)

    monkeypatch.setattr(onnxruntime, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(onnxruntime, "InferenceSession", failing)
    seen = []
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=seen.append)
    assert session.active == ["CPUExecutionProvider"] and session.fell_back
    assert session.requested == ["CPUExecutionProvider"]  # the provider that cannot load is not asked again
    assert session.skipped == {"CUDAExecutionProvider": "CUDA failure 100: no CUDA-capable device is detected"}
    assert len(seen) == 1 and "no CUDA-capable device" in seen[0] and "CUDAExecutionProvider" in seen[0]
    with pytest.raises(ProviderError, match=r"cuda.*no CUDA-capable device"):
        create_session(add_model, DeviceOptions(provider="cuda"), on_warning=seen.append)


def test_session_failure_after_a_good_probe_is_handled(add_model, monkeypatch):
    """The probe found CUDA loads, yet this session cannot start on it (another device_id, say)."""
    import onnxruntime

    real = onnxruntime.InferenceSession

    def failing(path, sess_options=None, providers=None, provider_options=None, **kw):
        if any(p != "CPUExecutionProvider" for p in providers or []):
            raise RuntimeError("CUDA failure 101: invalid device ordinal")
        return real(path, sess_options=sess_options, providers=providers, **kw)

    monkeypatch.setattr(probe, "_probe_one", lambda provider, model: None)
    monkeypatch.setattr(onnxruntime, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(onnxruntime, "InferenceSession", failing)
    seen = []
    session = create_session(add_model, DeviceOptions(threads=1, device_id=3), on_warning=seen.append)
    assert session.requested == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert session.active == ["CPUExecutionProvider"] and session.fell_back
    assert len(seen) == 1 and "\n" not in seen[0]
    assert "CUDAExecutionProvider did not start" in seen[0] and "invalid device ordinal" in seen[0]
    with pytest.raises(ProviderError, match=r"add.onnx.*cuda.*invalid device ordinal"):
        create_session(add_model, DeviceOptions(provider="cuda", device_id=3), on_warning=seen.append)


def test_tensorrt_engine_folder_only_kept_when_tensorrt_runs(add_model, tmp_path, monkeypatch):
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers",
                        lambda: ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"])
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=lambda _: None)
    engines = tmp_path / "cache" / "engines"
    folders = list(engines.iterdir()) if engines.is_dir() else []
    if "TensorrtExecutionProvider" in session.active:
        assert len(folders) == 1 and len(folders[0].name) == 16
    else:
        assert folders == []  # no empty engine folders left behind by a provider that could not start
    # made only for a TensorRT that really loads (it needs the folder to exist before the session starts)
    trt_loads = "TensorrtExecutionProvider" in probe.usable_providers().usable
    assert engines.is_dir() == trt_loads


def test_model_session_uses_fp16_only_where_the_manifest_offers_it(tmp_path, add_model):
    """A model whose manifest says runtime.fp16 = false runs fp32 when fp16 is asked for, and says so."""
    from matchcut.models.manifest import manifest_from_dict, sha256_file
    from matchcut.runtime import DeviceOptions, create_model_session

    fields = {"id": "add", "version": "1", "task": "image-to-image", "file": add_model.name,
              "sha256": sha256_file(add_model), "licence": "MIT"}
    for offers, expect_warning in ((False, True), (True, False)):
        m = manifest_from_dict({**fields, "runtime": {"fp16": offers}}, path=add_model.with_suffix(".toml"))
        said = []
        session = create_model_session(m, DeviceOptions(provider="cpu", precision="fp16"), on_warning=said.append)
        assert session.provider == "CPUExecutionProvider"
        assert any("does not offer fp16" in s for s in said) == expect_warning


# --- the GPU paths, with onnxruntime's answers faked (no GPU here) --------------------------------------

TRT, CUDA_EP, CPU_EP = "TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"


class _OnCuda:
    """A real CPU session that reports CUDA as its provider (session creation only: it is never run)."""

    def __init__(self, real):
        self._real = real

    def get_providers(self):
        return [CUDA_EP, CPU_EP]

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.fixture
def gpu_machine(monkeypatch):
    """onnxruntime lists TensorRT and CUDA; the probe finds CUDA loads and TensorRT's library missing."""
    import onnxruntime

    from matchcut.runtime import session as session_mod

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [TRT, CUDA_EP, CPU_EP])
    monkeypatch.setattr(probe, "_probe_one",
                        lambda provider, model: "libnvinfer.so.10 not found" if provider == TRT else None)
    real = session_mod._ort_session

    def fake(model_path, options, providers, log):
        return _OnCuda(real(model_path, options, [(CPU_EP, {})], log))

    monkeypatch.setattr(session_mod, "_ort_session", fake)


def test_tensorrt_missing_is_one_line_and_the_session_runs_on_cuda(add_model, gpu_machine, monkeypatch):
    from matchcut.runtime import budget

    monkeypatch.setattr(budget, "gpus", lambda: [budget.Gpu(0, "NVIDIA H200", 143771.0, 140000.0)])
    seen = []
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=seen.append)
    assert session.provider == CUDA_EP and not session.fell_back and session.skipped == {TRT: "libnvinfer.so.10 not found"}
    assert seen == ["TensorRT not used (libnvinfer.so.10 not found); add.onnx runs on CUDA"]
    assert session.runner().device == "cuda"


def test_a_gpu_that_does_not_exist_names_the_ones_that_do(add_model, gpu_machine, monkeypatch):
    from matchcut.runtime import budget

    monkeypatch.setattr(budget, "gpus", lambda: [budget.Gpu(0, "NVIDIA H200", 143771.0, 140000.0)])
    for provider in ("cuda", "auto"):
        with pytest.raises(ProviderError, match=r"^device.device_id 2: no such GPU; this machine has: 0 \(NVIDIA H200\)$"):
            create_session(add_model, DeviceOptions(provider=provider, device_id=2), on_warning=lambda _: None)
    create_session(add_model, DeviceOptions(provider="cpu", device_id=2))  # the CPU takes no GPU number


def test_model_session_runs_the_fp16_file_on_a_gpu_and_fp32_on_the_cpu(tmp_path, add_model, monkeypatch):
    import shutil

    from matchcut.models.manifest import manifest_from_dict, sha256_file
    from matchcut.runtime import create_model_session
    from matchcut.runtime import session as session_mod

    half = add_model.with_name("add.fp16.onnx")
    shutil.copyfile(add_model, half)  # stands in for the variant: which file is opened is what is checked
    fields = {"id": "add", "version": "1", "task": "image-to-image", "file": add_model.name,
              "sha256": sha256_file(add_model), "licence": "MIT",
              "runtime": {"fp16": True, "fp16_file": half.name, "fp16_sha256": sha256_file(half),
                          "fp16_note": "fp16 variant used on GPUs: change -0.01 dB"}}
    m = manifest_from_dict(fields, path=add_model.with_suffix(".toml"))
    assert m.fp16_path == half
    opened = []
    real = session_mod.create_session
    monkeypatch.setattr(session_mod, "create_session",
                        lambda path, options, **kw: opened.append((path, options.precision)) or real(path, DeviceOptions(provider="cpu"), **kw))
    said = []
    create_model_session(m, DeviceOptions(provider="cpu", precision="fp16"), on_warning=said.append)
    assert opened[-1] == (add_model, "fp32") and said == ["model 'add': fp16 is for GPU providers; running fp32 on the CPU"]
    monkeypatch.setattr(session_mod, "_gpu_requested", lambda options: True)
    create_model_session(m, DeviceOptions(precision="fp16"), on_warning=said.append)
    assert opened[-1] == (half, "fp16")
    create_model_session(m, DeviceOptions(precision="fp32"), on_warning=said.append)
    assert opened[-1] == (add_model, "fp32")
    plain = manifest_from_dict({**fields, "runtime": {"fp16": False, "fp16_note": "stays fp32: fp16 loses 2.6 dB"}},
                               path=add_model.with_suffix(".toml"))
    create_model_session(plain, DeviceOptions(precision="fp16"), on_warning=said.append)
    assert opened[-1] == (add_model, "fp32")
    assert said[-1] == "model 'add' does not offer fp16 (stays fp32: fp16 loses 2.6 dB); running fp32"
