"""CoreML (macOS): provider choice, the probe, the CPU fallback of a model that cannot run there, doctor's lines.

No Mac here: onnxruntime's list of providers is monkeypatched to the macOS wheel's, and a "CoreML" session is a
real CPU session that reports CoreML as its provider (and, where a test says so, fails to run). What a real
CoreML does with these graphs was not run.
"""

from __future__ import annotations

import numpy as np
import pytest

from matchcut.cli import doctor
from matchcut.errors import ProviderError
from matchcut.runtime import DeviceOptions, create_session, probe, probe_providers
from matchcut.runtime.backends import COREML, CPU, CUDA, GPU_ORDER

MAC = [COREML, CPU]


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MATCHCUT_DEBUG", raising=False)
    probe.forget()
    yield
    probe.forget()


@pytest.fixture
def add_model(tmp_path):
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


def _feeds():
    rng = np.random.default_rng(3)
    return {"a": rng.random((1, 3, 4, 5), dtype=np.float32), "b": rng.random((1, 3, 4, 5), dtype=np.float32)}


class _FakeCoreML:
    """A real CPU session that says it runs on CoreML; ``fail_run``: its run raises as CoreML's would."""

    def __init__(self, real, fail_run):
        self._real, self._fail_run = real, fail_run

    def get_providers(self):
        return [COREML, CPU]

    def run(self, names, feeds):
        if self._fail_run:
            raise RuntimeError("[ONNXRuntimeError] : 1 : FAIL : Error executing model: Unable to compute the "
                               "prediction using a neural network model (CoreML error code -1)")
        return self._real.run(names, feeds)

    def run_with_iobinding(self, binding, run_options=None):  # Session.run binds its inputs and outputs
        if self._fail_run:
            self.run([], {})
        return self._real.run_with_iobinding(binding, run_options)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.fixture
def mac(monkeypatch):
    """onnxruntime as the macOS wheel lists it, CoreML loading (the probe says so); returns the knobs: what a
    CoreML session does (``fail_run``, ``fail_create``) and the provider options sessions were made with."""
    import onnxruntime

    real = onnxruntime.InferenceSession
    knobs = {"fail_run": False, "fail_create": "", "made": []}

    def session(path, sess_options=None, providers=None, provider_options=None, **kw):
        knobs["made"].append((list(providers or []), list(provider_options or [])))
        cpu = real(path, sess_options=sess_options, providers=[CPU], **kw)
        if COREML in (providers or []):
            if knobs["fail_create"]:
                raise RuntimeError(knobs["fail_create"])
            return _FakeCoreML(cpu, knobs["fail_run"])
        return cpu

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: list(MAC))
    monkeypatch.setattr(onnxruntime, "InferenceSession", session)
    return knobs


def test_provider_lists_know_coreml():
    assert COREML in GPU_ORDER
    assert DeviceOptions().requested(MAC) == [COREML, CPU]
    assert DeviceOptions(provider="coreml").requested(MAC) == [COREML, CPU]
    assert DeviceOptions(provider="cpu").requested(MAC) == [CPU]
    assert DeviceOptions().requested(MAC, {COREML: "CoreML is not available on this Mac"}) == [CPU]
    assert dict(DeviceOptions(provider="coreml").providers(MAC)) == {COREML: {}, CPU: {}}
    with pytest.raises(ProviderError, match=r"coreml.*does not offer CoreMLExecutionProvider.*macOS only"):
        DeviceOptions(provider="coreml").requested([CUDA, CPU])
    with pytest.raises(ProviderError, match=r"cuda.*does not offer CUDAExecutionProvider.*onnxruntime-gpu"):
        DeviceOptions(provider="cuda").requested(MAC)


def test_the_probe_asks_coreml_without_a_device_option(mac):
    result = probe.usable_providers()
    assert result.usable == (COREML, CPU) and result.unusable == {} and result.gpu
    probed = [made for made in mac["made"] if COREML in made[0]]
    assert probed == [([COREML, CPU], [{}, {}])]  # CoreML takes no device_id (an unknown option is an error there)


def test_auto_runs_on_coreml_when_it_loads_and_runs(add_model, mac):
    seen = []
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=seen.append)
    assert session.requested == [COREML, CPU] and session.provider == COREML and not session.fell_back
    feeds = _feeds()
    np.testing.assert_allclose(session.run(feeds)["y"], feeds["a"] + feeds["b"])
    assert seen == []


def test_a_model_coreml_cannot_run_runs_on_the_cpu_said_once(add_model, mac, monkeypatch):
    monkeypatch.setattr(probe, "_probe_one", lambda provider, model: None)  # the probe's one-node graph runs there
    mac["fail_run"] = True
    seen = []
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=seen.append)
    assert session.provider == COREML and seen == []
    feeds = _feeds()
    np.testing.assert_allclose(session.run(feeds)["y"], feeds["a"] + feeds["b"])
    np.testing.assert_allclose(session.run(feeds)["y"], feeds["a"] + feeds["b"])
    assert session.active == [CPU] and session.fell_back
    assert len(seen) == 1 and "\n" not in seen[0]
    assert seen[0].startswith("CoreML could not run add.onnx (") and "runs on the CPU" in seen[0]
    # asked for by name, CoreML is not second-guessed: its error is the job's
    explicit = create_session(add_model, DeviceOptions(provider="coreml", threads=1), on_warning=seen.append)
    with pytest.raises(RuntimeError, match="CoreML error code"):
        explicit.run(feeds)


def test_a_model_coreml_cannot_compile_starts_on_the_cpu_said_once(add_model, mac, monkeypatch):
    monkeypatch.setattr(probe, "_probe_one", lambda provider, model: None)  # the probe's one-node graph loads there
    mac["fail_create"] = "Error compiling model: unsupported op"  # no provider word in it: CoreML still retries
    seen = []
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=seen.append)
    assert session.active == [CPU] and session.fell_back
    assert len(seen) == 1 and "CoreMLExecutionProvider did not start" in seen[0] and "unsupported op" in seen[0]
    with pytest.raises(ProviderError, match="could not create a coreml session"):
        create_session(add_model, DeviceOptions(provider="coreml", threads=1), on_warning=seen.append)


def test_coreml_that_cannot_load_is_skipped_in_one_line(add_model, mac, monkeypatch):
    monkeypatch.setattr(probe, "_probe_one", lambda provider, model: "CoreML is not available on this Mac")
    seen = []
    session = create_session(add_model, DeviceOptions(threads=1), on_warning=seen.append)
    assert session.requested == [CPU] and session.skipped == {COREML: "CoreML is not available on this Mac"}
    assert len(seen) == 1 and "CoreMLExecutionProvider cannot load (CoreML is not available on this Mac)" in seen[0]


def test_doctor_reports_coreml(mac, monkeypatch):
    report = probe_providers()
    assert report["coreml_provider_listed"] and report["usable"] == [COREML, CPU]
    assert report["active"]["auto"] == [COREML, CPU] and report["active"]["coreml"] == [COREML, CPU]
    assert report["active"]["cuda"].startswith("error: ")
    full = {"matchcut": "x", "python": "3.11", "platform": "macOS-14-arm64", "packages": {}, "providers": report,
            "gpu": None, "coreml": True, "gpu_fallback": doctor.gpu_fallback(report),
            "ocio": {"error": "skipped"}, "models": {"cache": "c", "search_path": [], "count": 0, "ids": [],
                                                    "problems": [], "notes": []}}
    lines = doctor._human(full)
    assert any(line.startswith("coreml: loads: auto runs models on it") for line in lines)
    assert doctor.gpu_active(report) and not any("no session got one" in line for line in lines)
    monkeypatch.setattr(probe, "_probe_one", lambda provider, model: "CoreML is not available on this Mac")
    report = probe_providers()
    full.update(providers=report, coreml=False, gpu_fallback=doctor.gpu_fallback(report))
    lines = doctor._human(full)
    assert "coreml: listed but cannot load (CoreML is not available on this Mac): models run on the CPU" in lines
    assert any("no session got one" in line and "check macOS and its CoreML" in line for line in lines)
