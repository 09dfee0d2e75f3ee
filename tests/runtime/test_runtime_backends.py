"""matchcut.runtime.backends: DeviceOptions validation and provider lists."""

from __future__ import annotations

import pytest

from matchcut.errors import ProviderError, SettingError
from matchcut.runtime.backends import CPU, CUDA, TENSORRT, DeviceOptions

ALL = [TENSORRT, CUDA, CPU]


def test_defaults_and_round_trip():
    opts = DeviceOptions()
    assert (opts.provider, opts.device_id, opts.precision, opts.threads) == ("auto", 0, "fp32", None)
    d = {"provider": "cuda", "device_id": 1, "precision": "fp16", "threads": 4}
    assert DeviceOptions.from_dict(d).to_dict() == d
    assert DeviceOptions.from_dict(None) == DeviceOptions()


def test_from_dict_names_bad_field_and_lists_valid():
    with pytest.raises(SettingError, match=r"device\.gpu.*valid: device_id, precision, provider, threads"):
        DeviceOptions.from_dict({"gpu": 1})
    with pytest.raises(SettingError, match=r"device\.provider.*'metal'.*valid: auto, coreml, cpu, cuda, tensorrt"):
        DeviceOptions.from_dict({"provider": "metal"})
    with pytest.raises(SettingError, match=r"device\.precision.*valid: fp16, fp32"):
        DeviceOptions(precision="int8")
    with pytest.raises(SettingError, match=r"device\.device_id"):
        DeviceOptions(device_id=-1)
    with pytest.raises(SettingError, match=r"device\.threads"):
        DeviceOptions(threads=0)


@pytest.mark.parametrize("available, expected", [
    (ALL, [TENSORRT, CUDA, CPU]),
    ([CUDA, CPU], [CUDA, CPU]),
    ([CPU], [CPU]),
])
def test_auto_prefers_tensorrt_then_cuda(available, expected):
    assert [name for name, _ in DeviceOptions().providers(available)] == expected


def test_explicit_choices():
    assert [n for n, _ in DeviceOptions(provider="cpu").providers(ALL)] == [CPU]
    assert [n for n, _ in DeviceOptions(provider="cuda").providers(ALL)] == [CUDA, CPU]
    assert [n for n, _ in DeviceOptions(provider="tensorrt").providers(ALL)] == [TENSORRT, CUDA, CPU]


@pytest.mark.parametrize("provider", ["cuda", "tensorrt"])
def test_explicit_gpu_missing_names_available(provider):
    with pytest.raises(ProviderError, match=r"available: CPUExecutionProvider"):
        DeviceOptions(provider=provider).providers([CPU])


def test_provider_options(tmp_path):
    pairs = dict(DeviceOptions(provider="tensorrt", device_id=1, precision="fp16").providers(ALL, tmp_path))
    trt = pairs[TENSORRT]
    assert trt["trt_fp16_enable"] is True and trt["device_id"] == 1
    assert trt["trt_engine_cache_enable"] is True and trt["trt_engine_cache_path"] == str(tmp_path)
    assert trt["trt_timing_cache_enable"] is True
    assert pairs[CUDA] == {"device_id": 1, "cudnn_conv_algo_search": "EXHAUSTIVE"}
    assert pairs[CPU] == {}
    fp32 = dict(DeviceOptions(provider="tensorrt").providers(ALL, None))[TENSORRT]
    assert fp32["trt_fp16_enable"] is False and "trt_engine_cache_path" not in fp32


def test_auto_skips_what_cannot_load_and_explicit_requests_say_why():
    broken = {TENSORRT: "libnvinfer.so.10 not found"}
    assert DeviceOptions().requested(ALL, broken) == [CUDA, CPU]
    assert [n for n, _ in DeviceOptions().providers(ALL, None, broken)] == [CUDA, CPU]
    assert DeviceOptions().requested(ALL, {TENSORRT: "x", CUDA: "y"}) == [CPU]
    assert DeviceOptions(provider="cuda").requested(ALL, broken) == [CUDA, CPU]
    with pytest.raises(ProviderError, match=r"device.provider 'tensorrt'.*cannot load: libnvinfer.so.10 not found"):
        DeviceOptions(provider="tensorrt").requested(ALL, broken)
    assert DeviceOptions(provider="cpu").requested(ALL, {CUDA: "y"}) == [CPU]
